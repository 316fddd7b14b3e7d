"""`sucesso factors`: the early behaviours that separate customers who stay (insight/factors.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from babel.numbers import format_decimal
from rich.markup import escape
from rich.table import Table

from sucesso.cli import DbOption, app, fail, out, workspace
from sucesso.formatting import babel_locale, format_value
from sucesso.store import get_setting


@app.command("factors")
def factors_command(
    days: Annotated[int, typer.Option(help="The behaviour window: each account's first N days.", min=1)] = 30,
    horizon: Annotated[int, typer.Option(help="Retained = still paying N days after the first paid day.",
                                         min=1)] = 180,
    min_accounts: Annotated[int, typer.Option(help="Fewest accounts on each side of a split to rank it.",
                                              min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (rates as fractions).")] = False,
    lang: Annotated[str | None, typer.Option(help="pt_BR or en (default: the workspace's).")] = None,
    db: DbOption = None,
) -> None:
    """Retention of accounts that did each early behaviour vs those that did not, ranked by lift."""
    from sucesso.insight.factors import success_factors

    with workspace(db) as store:
        try:
            result = success_factors(store, days=days, horizon=horizon, min_accounts=min_accounts)
        except ValueError as exc:
            raise fail(str(exc)) from None
        locale = lang or get_setting(store, "locale")
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print_factors(result, locale)


def _points(value: float | None, locale: str) -> str:
    """A difference of rates in signed percentage points: +12.3."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + format_decimal(round(value * 100, 1), "#,##0.0", locale=babel_locale(locale))


def _p_value(p: float | None, locale: str) -> str:
    if p is None:
        return "—"
    loc = babel_locale(locale)
    return f"< {format_decimal(0.001, '0.000', locale=loc)}" if p < 0.001 else format_decimal(p, "0.000", locale=loc)


def _side(side: dict, locale: str) -> str:
    """Its retention and its accounts: "87,6% of 1.065"."""
    return f"{format_value(side['rate'], 'rate', locale)} of {format_value(side['accounts'], 'count', locale)}"


def print_factors(result: dict, locale: str) -> None:
    """One row per ranked factor, strongest positive first; the unranked ones listed below."""
    outcome = result["outcome"]
    table = Table(title=f"Success factors: behaviours in the first {result['days']} days (leading) against "
                        f"{outcome['name']} ({outcome['indicator']})", title_justify="left", caption_justify="left")
    table.add_column("behaviour (leading)")
    for name in ("with", "without", "lift, pp", "95% CI", "p"):
        table.add_column(name, justify="right")
    for f in result["factors"]:
        lo, hi = f["lift_ci"]
        style = "green" if lo > 0 else "red" if hi < 0 else "default"  # the interval excludes 0
        table.add_row(escape(f["behaviour"]), _side(f["with"], locale), _side(f["without"], locale),
                      f"[{style}]{_points(f['lift'], locale)}[/]", f"{_points(lo, locale)} … {_points(hi, locale)}",
                      _p_value(f["p_value"], locale))
    table.caption = (f"{format_value(result['population'], 'count', locale)} accounts that became customers at "
                     f"least {result['horizon_days']} days before the data ends ({result['data_end']}); "
                     f"{format_value(result['baseline_retention'], 'rate', locale)} retained "
                     f"({outcome['definition']}). With / without: the share retained of the accounts that did / did "
                     "not. Lift: retention with minus without, in percentage points, with Newcombe's 95% interval. "
                     "Association, not cause.")
    out.print(table)
    if result["too_few_accounts"]:
        out.print(f"Too few accounts (under {result['min_accounts']} on a side), not ranked:", highlight=False)
        for f in result["too_few_accounts"]:
            out.print(f"  {f['behaviour']}: {format_value(f['with']['accounts'], 'count', locale)} with, "
                      f"{format_value(f['without']['accounts'], 'count', locale)} without", highlight=False)
