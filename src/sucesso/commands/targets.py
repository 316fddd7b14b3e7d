"""`sucesso targets`: KPI targets (OKRs) — set, list with the status of each now, remove.
The logic is in `sucesso.operations.targets`, shared with the Targets page."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import DbOption, JsonOption, LangOption, app, cli_gettext, fail, help_, out, workspace
from sucesso.formatting import format_value
from sucesso.store import get_setting

targets_app = typer.Typer(help=help_("KPI targets (OKRs): set, list with their status, remove."),
                          no_args_is_help=True)
app.add_typer(targets_app, name="targets")

STATUS_STYLE = {"on_track": "green", "at_risk": "yellow", "off_track": "bold red"}
SIGN = {"higher": "≥", "lower": "≤"}
PeriodOption = Annotated[str, typer.Option("--period", help=help_(
    "2025-Q1, 2025-03, 2025, or 2025-01-01..2025-07-01 (the end exclusive)."))]


def status_text(status: str | None, tr) -> str:
    """on track / at risk / off track, coloured, in the command's language."""
    return f"[{STATUS_STYLE[status]}]{tr(status.replace('_', ' '))}[/]" if status else "—"


def goal_text(row: dict, language: str, currency: str) -> str:
    """"≥ 105,0%": the direction and the target, formatted for its KPI."""
    return f"{SIGN[row['direction']]} {format_value(row['target'], row['unit'] or 'number', language, currency)}"


def target_cell(found: dict | None, unit: str, language: str, currency: str, tr) -> str:
    """"≥ 105,0%" over "at risk" (coloured) under a KPI's value in `sucesso metrics`: a
    metrics.targets.goal, or "" for a period without a target."""
    if found is None:
        return ""
    text = goal_text({**found, "unit": unit}, language, currency)
    return f"{text}\n{status_text(found['status'], tr)}" if found["status"] else text


@targets_app.command("set", help=help_("Set a KPI's target for a period (setting it again replaces it)."))
def set_command(
    kpi: Annotated[str, typer.Argument(help=help_("A KPI key of METRICS.md: nrr, logo_churn_rate, nps…"))],
    value: Annotated[str, typer.Argument(help=help_("The target: 1.05 or 105% for a rate, 40 for NPS."))],
    period: PeriodOption,
    direction: Annotated[str | None, typer.Option(help=help_(
        "higher or lower: which way is better (default: the KPI's)."))] = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.targets import TargetError, set_target

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            row = set_target(store, kpi, value, period, direction)
        except TargetError as exc:
            raise fail(exc.message, **exc.params) from None
        currency = get_setting(store, "currency")
    out.print(tr("target set: %(kpi)s %(goal)s in %(period)s", kpi=row["kpi"],
                 goal=goal_text(row, tr.language, currency), period=row["period"]), highlight=False)
    if row["replaced"]:
        old = row["replaced"]
        out.print(tr("it replaces %(goal)s for %(period)s", goal=goal_text(old, tr.language, currency),
                     period=old["period"]), highlight=False)


@targets_app.command("list", help=help_(
    "Every target with the KPI's value in the last month of data in its period, and its status."))
def list_command(as_json: JsonOption = False, lang: LangOption = None, db: DbOption = None) -> None:
    from sucesso.operations.targets import list_targets

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        rows = list_targets(store)
        currency = get_setting(store, "currency")
    if as_json:
        print(json.dumps({"targets": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(tr("no targets yet: set one with `sucesso targets set KPI VALUE --period 2025-Q1`"))
        return
    table = Table(title=tr("KPI targets"), title_justify="left")
    for column in ("KPI", "period", "target", "month", "value", "status"):
        table.add_column(tr(column), justify="right" if column in ("target", "value") else "left")
    for r in rows:
        table.add_row(r["kpi"], r["period"], goal_text(r, tr.language, currency), r["month"] or "—",
                      format_value(r["value"], r["unit"] or "number", tr.language, currency),
                      status_text(r["status"], tr))
    out.print(table)


@targets_app.command("remove", help=help_("Remove a KPI's target for a period."))
def remove_command(
    kpi: Annotated[str, typer.Argument(help=help_("The target's KPI key."))],
    period: PeriodOption,
    db: DbOption = None,
) -> None:
    from sucesso.operations.targets import TargetError, remove_target

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            row = remove_target(store, kpi, period)
        except TargetError as exc:
            raise fail(exc.message, **exc.params) from None
        currency = get_setting(store, "currency")
    out.print(tr("target removed: %(kpi)s %(goal)s in %(period)s", kpi=row["kpi"],
                 goal=goal_text(row, tr.language, currency), period=row["period"]), highlight=False)
