"""`sucesso survival` (Kaplan–Meier curves of the first customer life) and `sucesso forecast
retention` (the shifted-beta-geometric retention forecast). The numbers come from
sucesso.insight.survival and sucesso.insight.forecast; this module only calls and prints."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from sucesso.cli import DbOption, LangOption, app, cli_gettext, fail, help_, out, workspace
from sucesso.formatting import format_value
from sucesso.i18n import N_

forecast_app = typer.Typer(help=help_("Forecasts from a workspace's history."), no_args_is_help=True)
app.add_typer(forecast_app, name="forecast")

JsonOption = Annotated[bool, typer.Option("--json", help=help_(
    "Print JSON (shares as fractions, undefined as null)."))]


def print_json(payload: dict) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


@app.command("survival", help=help_("Kaplan–Meier survival of each account's first life, overall and per group."))
def survival_command(
    by: Annotated[str | None, typer.Option(help=help_("segment, plan, touch_model, csm or country."))] = None,
    unit: Annotated[str, typer.Option(help=help_("months or days."))] = "months",
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.insight.survival import survival_curves

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            curves = survival_curves(store, by, unit)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print_json({"unit": unit, "by": by, "curves": [c.as_dict() for c in curves]})
        return
    print_curves(curves, by, unit, tr.language, tr)


def print_curves(curves, by: str | None, unit: str, locale: str, tr) -> None:
    """One row per curve: size, churns, S at the month milestones, median lifetime and its 95% CI."""
    title = (tr("first-life survival (Kaplan–Meier) by %(by)s: S(t) after t months, median in %(unit)s", by=by,
                unit=tr(unit)) if by else
             tr("first-life survival (Kaplan–Meier): S(t) after t months, median in %(unit)s", unit=tr(unit)))
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(by or "", no_wrap=True)
    months = (tr("%(months)s mo", months=m) for m in curves[0].survival)
    for name in (tr("accounts"), tr("churned"), *months, tr("median"), tr("95% CI")):
        table.add_column(name, justify="right", no_wrap=True)
    for c in curves:
        low, high = (number(v, locale, "#,##0.0") if v is not None else "∞" for v in c.median_ci)
        table.add_row(c.group if c.group is not None else "—",
                      format_value(c.accounts, "count", locale), format_value(c.churned, "count", locale),
                      *(format_value(s, "rate", locale) for s in c.survival.values()),
                      number(c.median, locale, "#,##0.0") if c.median is not None else tr("not reached"),
                      f"{low}–{high}" if c.median_ci != (None, None) else "—")
    out.print(table)


def number(value: float, locale: str | None, pattern: str = "#,##0.###") -> str:
    return format_value(value, "number", locale, pattern=pattern)


def parse_survivors(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise fail("--survivors expects whole numbers separated by commas (1000,869,743…), got %(text)r",
                   text=text) from None


@forecast_app.command("retention", help=help_(
    "Fit the shifted-beta-geometric model (Fader & Hardie) to survivor counts and project retention."))
def forecast_retention_command(
    survivors: Annotated[str | None, typer.Option(help=help_(
        "Survivor counts n_0,n_1,… of one cohort, instead of the workspace's cohorts."))] = None,
    cohort: Annotated[str | None, typer.Option(help=help_(
        "Fit on this cohort of first paid month, YYYY-MM (default: pool the cohorts)."))] = None,
    months: Annotated[int, typer.Option(help=help_(
        "When pooling: the months to fit on; every cohort followed that long is pooled."), min=2)] = 12,
    periods: Annotated[int | None, typer.Option(help=help_(
        "Project up to this period (default: the observed ones + 12)."), min=1)] = None,
    discount: Annotated[float | None, typer.Option(help=help_(
        "Discount rate per period for the DERL, e.g. 0.01."))] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.insight.forecast import fit_sbg, project, workspace_survivors

    tr = cli_gettext(None, lang)
    if survivors is not None and cohort is not None:
        raise fail("give --survivors or --cohort, not both")
    try:
        if survivors is not None:
            source, counts = tr("the survivors given"), parse_survivors(survivors)
        else:
            with workspace(db) as store:
                tr = cli_gettext(store, lang)
                source, counts = workspace_survivors(store, cohort, months, tr.language)
        fit = fit_sbg(counts)
        projection = project(fit, periods or fit.periods + 12, discount)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json({"source": source, **projection.as_dict()})
        return
    print_projection(projection, source, tr)


def print_projection(projection, source: str, tr) -> None:
    """The fit, the lifetimes, then observed and projected survivors per period."""
    fit, locale = projection.fit, tr.language

    def one_decimal(value: float) -> str:
        return number(value, locale, "#,##0.0")

    out.print(tr("sBG retention fit on %(source)s: α = %(alpha)s, β = %(beta)s, log-likelihood = %(ll)s "
                 "(%(periods)s periods)", source=source, alpha=number(fit.alpha, locale),
                 beta=number(fit.beta, locale), ll=one_decimal(fit.log_likelihood), periods=fit.periods),
              highlight=False)
    if fit.at_limit:
        out.print(tr("note: α or β ran to the edge of the search (e^±12), so the counts do not pin them down — "
                     "typically churn looks the same for every customer (%(churn)s a period). Read the projection "
                     "rather than α and β.", churn=format_value(1 - projection.retention[1], "rate", locale)),
                  highlight=False)
    lifetime = projection.expected_lifetime
    out.print(tr("expected lifetime: %(periods)s periods", periods=one_decimal(lifetime)) if lifetime is not None else
              tr("expected lifetime: infinite (α ≤ 1: the mean diverges; --discount gives the DERL)"), highlight=False)
    if projection.derl is not None:
        out.print(tr("discounted expected residual lifetime (DERL) at %(rate)s a period: %(periods)s periods",
                     rate=format_value(projection.discount, "rate", locale), periods=one_decimal(projection.derl)),
                  highlight=False)
    table = Table(title=tr("survivors per period"), title_justify="left")
    for name in (N_("period"), N_("observed"), N_("projected"), N_("retention S(t)"),
                 N_("retention rate r(t)")):
        table.add_column(tr(name), justify="right")
    for t, (s, n, r) in enumerate(zip(projection.retention, projection.survivors, projection.retention_rate,
                                      strict=True)):
        observed = format_value(fit.survivors[t], "count", locale) if t <= fit.periods else ""
        table.add_row(str(t), observed, format_value(round(n), "count", locale), format_value(s, "rate", locale),
                      format_value(r, "rate", locale) if r is not None else "")
    out.print(table)
