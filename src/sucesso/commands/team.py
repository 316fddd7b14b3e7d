"""`sucesso team`: the headcount the portfolio needs per role against the team there is, each
CSM's load, and the ratios behind them. The logic is in `sucesso.operations.team`, shared with
the Team page."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import (
    DbOption,
    JsonOption,
    LangOption,
    app,
    cli_gettext,
    fail,
    help_,
    out,
    read_edited_file,
    workspace,
)
from sucesso.commands.health import AsOfOption, parse_day
from sucesso.formatting import format_value
from sucesso.store import get_setting

team_app = typer.Typer(help=help_("Team sizing: the headcount needed per role against the current one, and "
                                  "each CSM's load."), invoke_without_command=True)
app.add_typer(team_app, name="team")


@team_app.callback()
def team_command(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from sucesso.operations.team import team_report

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        report = team_report(store, parse_day(as_of))
        currency = get_setting(store, "currency")
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print_needed(report, tr, currency)
    print_loads(report, tr, currency)


def print_needed(report: dict, tr, currency: str) -> None:
    from sucesso.operations.team import ROLE_LABELS, TOUCH_LABELS

    def show(value, unit: str) -> str:
        return format_value(value, unit, tr.language, currency)

    table = Table(title=tr("Headcount needed on %(day)s", day=report["as_of"]), title_justify="left")
    for column in ("role", "accounts", "MRR", "FTE", "needed", "current", "gap"):
        table.add_column(tr(column), justify="left" if column == "role" else "right")
    for line in report["needed"]:
        role = tr(ROLE_LABELS[line["role"]])
        label = f"  {tr(TOUCH_LABELS[line['touch_model']])}" if line["touch_model"] else f"[bold]{role}[/]"
        gap = "" if line["gap"] is None else f"[{'red' if line['gap'] < 0 else 'green'}]{line['gap']:+d}[/]"
        table.add_row(label, show(line["accounts"], "count") if line["accounts"] is not None else "",
                      show(line["mrr"], "money") if line["mrr"] is not None else "",
                      show(line["fte"], "number") if line["fte"] is not None else "",
                      show(line["needed"], "count") if line["needed"] is not None else "",
                      show(line["current"], "count") if line["current"] is not None else "", gap)
    out.print(table)
    if report["unassigned"]["accounts"]:
        out.print(tr("%(accounts)s customers have no CSM (%(mrr)s MRR)",
                     accounts=show(report["unassigned"]["accounts"], "count"),
                     mrr=show(report["unassigned"]["mrr"], "money")), highlight=False)


def print_loads(report: dict, tr, currency: str) -> None:
    def show(value, unit: str) -> str:
        return format_value(value, unit, tr.language, currency)

    table = Table(title=tr("Load per CSM (100% = a full portfolio), the heaviest first"), title_justify="left")
    for column in ("CSM", "high touch", "low touch", "tech touch", "MRR", "load"):
        table.add_column(tr(column), justify="left" if column == "CSM" else "right")
    for r in report["load"]:
        load = show(r["load"], "rate")
        table.add_row(f"{r['csm_name'] or r['csm_id']} ({r['csm_id']})", *(show(r[f"accounts_{t}"], "count")
                                                                          for t in ("high", "low", "tech")),
                      show(r["mrr"], "money"), f"[bold red]{load}[/]" if r["over_capacity"] else load)
    out.print(table)
    over = report["over_capacity"]
    out.print(tr("%(count)s CSMs over capacity", count=show(len(over), "count")) if over
              else tr("nobody is over capacity"), highlight=False)


@team_app.command("ratios", help=help_("Print the team ratios in use, or adopt a ratios file (checked first)."))
def ratios_command(
    path: Annotated[str | None, typer.Argument(help=help_("A ratios file (YAML or JSON) to adopt."))] = None,
    default: Annotated[bool, typer.Option("--default", help=help_("Go back to the default ratios."))] = False,
    db: DbOption = None,
) -> None:
    from sucesso.operations.team import adopt_ratios, ratios_text

    if path and default:
        raise fail("give a ratios file or --default, not both")
    with workspace(db) as store:
        tr = cli_gettext(store)
        if path is None and not default:
            print(ratios_text(store), end="")
            return
        if default:
            adopt_ratios(store, None)
        else:
            read_edited_file(path, lambda text, source: adopt_ratios(store, text, source))
    out.print(tr("the default team ratios are in use") if default else
              tr("team ratios adopted from %(path)s", path=path), highlight=False)
