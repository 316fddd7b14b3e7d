"""`sucesso factors`: the early behaviours that separate customers who stay (insight/factors.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sucesso.cli import DbOption, LangOption, app, cli_gettext, fail, help_, out, workspace
from sucesso.formatting import format_value


@app.command("factors", help=help_(
    "Retention of accounts that did each early behaviour vs those that did not, ranked by lift."))
def factors_command(
    days: Annotated[int, typer.Option(help=help_("The behaviour window: each account's first N days."), min=1)] = 30,
    horizon: Annotated[int, typer.Option(help=help_("Retained = still paying N days after the first paid day."),
                                         min=1)] = 180,
    min_accounts: Annotated[int, typer.Option(help=help_("Fewest accounts on each side of a split to rank it."),
                                              min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help=help_("Print JSON (rates as fractions)."))] = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.insight.factors import success_factors

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            result = success_factors(store, days=days, horizon=horizon, min_accounts=min_accounts,
                                     locale=tr.language)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print_factors(result, tr)


def _points(value: float | None, locale: str) -> str:
    """A difference of rates in signed percentage points: +12.3."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + format_value(round(value * 100, 1), "number", locale, pattern="#,##0.0")


def _p_value(p: float | None, locale: str) -> str:
    if p is not None and p < 0.001:
        return f"< {format_value(0.001, 'number', locale, pattern='0.000')}"
    return format_value(p, "number", locale, pattern="0.000")


def print_factors(result: dict, tr) -> None:
    """One row per ranked factor, strongest positive first; the unranked ones listed below."""
    locale, outcome = tr.language, result["outcome"]
    indicator = outcome["indicator"]  # "lagging"

    def count(value: int) -> str:
        return format_value(value, "count", locale)

    def side(s: dict) -> str:  # its retention and its accounts: "87,6% of 1.065"
        return tr("%(rate)s of %(accounts)s", rate=format_value(s["rate"], "rate", locale),
                  accounts=count(s["accounts"]))

    table = Table(title=tr("Success factors: behaviours in the first %(days)s days (leading) against %(outcome)s "
                           "(%(indicator)s)", days=result["days"], outcome=outcome["name"], indicator=tr(indicator)),
                  title_justify="left", caption_justify="left")
    table.add_column(tr("behaviour (leading)"))
    for name in (tr("with"), tr("without"), tr("lift, pp"), tr("95% CI"), "p"):
        table.add_column(name, justify="right")
    for f in result["factors"]:
        lo, hi = f["lift_ci"]
        style = "green" if lo > 0 else "red" if hi < 0 else "default"  # the interval excludes 0
        table.add_row(escape(f["behaviour"]), side(f["with"]), side(f["without"]),
                      f"[{style}]{_points(f['lift'], locale)}[/]", f"{_points(lo, locale)} … {_points(hi, locale)}",
                      _p_value(f["p_value"], locale))
    table.caption = tr("%(population)s accounts that became customers at least %(horizon)s days before the data ends "
                       "(%(end)s); %(retained)s retained (%(definition)s). With / without: the share retained of the "
                       "accounts that did / did not. Lift: retention with minus without, in percentage points, with "
                       "Newcombe's 95%% interval. Association, not cause.", population=count(result["population"]),
                       horizon=result["horizon_days"], end=result["data_end"],
                       retained=format_value(result["baseline_retention"], "rate", locale),
                       definition=outcome["definition"])
    out.print(table)
    if result["too_few_accounts"]:
        out.print(tr("Too few accounts (under %(count)s on a side), not ranked:", count=result["min_accounts"]),
                  highlight=False)
        for f in result["too_few_accounts"]:
            out.print("  " + tr("%(behaviour)s: %(did)s with, %(did_not)s without", behaviour=f["behaviour"],
                                did=count(f["with"]["accounts"]), did_not=count(f["without"]["accounts"])),
                      highlight=False, markup=False)
