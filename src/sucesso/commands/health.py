"""`sucesso health`: scores, their reasons and history, the model file, the backtest."""

from __future__ import annotations

import datetime as dt
import json
import numbers
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
from sucesso.formatting import format_value
from sucesso.i18n import N_

health_app = typer.Typer(help=help_("Health scores: why each is what it is, history, model, backtest."),
                         invoke_without_command=True)
app.add_typer(health_app, name="health")

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green", "missing": "dim"}
ModelOption = Annotated[str | None, typer.Option("--model", help=help_(
    "A model file to use instead of the workspace's."))]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help=help_(
    "Date, YYYY-MM-DD (default: today, or when the data ends)."))]
SIGNED = "+#,##0;-#,##0"  # a change of score: +3, -12


def parse_day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail("expected a date as YYYY-MM-DD, got %(text)r", text=text) from None


def read_model(path: str | None):
    """The model file at `path` (None: the workspace's), or a clear error."""
    from sucesso.health.model import load_model

    if path is None:
        return None
    return read_edited_file(path, load_model)


@health_app.callback(help=help_(
    "Per customer: the score, its band, each component and what changed since --since days ago."))
def health_command(
    ctx: typer.Context,
    as_of: AsOfOption = None,
    account: Annotated[str | None, typer.Option(help=help_("One account: every component and reason."))] = None,
    band: Annotated[str | None, typer.Option(help=help_("Only this band (red, yellow, green)."))] = None,
    since: Annotated[int, typer.Option(help=help_("Compare with the score this many days earlier."), min=1)] = 30,
    limit: Annotated[int, typer.Option(help=help_("Rows to print (JSON has them all)."), min=1)] = 30,
    as_json: JsonOption = False,
    lang: LangOption = None,
    model: ModelOption = None,
    db: DbOption = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from sucesso.health.report import health_report

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            report = health_report(store, parse_day(as_of), since, account, band, read_model(model), tr.language)
        except LookupError as exc:
            raise fail(str(exc).strip('"')) from None
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif account:
        print_account(report, tr)
    else:
        print_accounts(report, limit, tr)


def band_text(band: str, tr=None) -> str:
    """The band, coloured; named in the command's language when given its gettext."""
    return f"[{BAND_STYLE.get(band, '')}]{tr(band) if tr else band}[/]"


def print_accounts(report: dict, limit: int, tr) -> None:
    rows = report["accounts"]
    table = Table(title=tr("Health on %(as_of)s (model %(model)s), worst first; change since %(since)s",
                           as_of=report["as_of"], model=report["model"], since=report["since"]),
                  title_justify="left")
    for column in (N_("account"), N_("name"), N_("score"), N_("band"), N_("change"), N_("what changed")):
        table.add_column(tr(column), justify="right" if column in ("score", "change") else "left")
    for a in rows[:limit]:
        change = "" if a["change"] is None else format_value(a["change"], "number", tr.language, pattern=SIGNED)
        table.add_row(a["account_id"], a["name"] or "", format_value(a["rounded"], "count", tr.language),
                      band_text(a["band"], tr), change, "; ".join(a["changes"][:3]))
    out.print(table)
    counts = {}
    for a in rows:
        counts[a["band"]] = counts.get(a["band"], 0) + 1
    mix = ", ".join(f"{band_text(b, tr)} {n}" for b, n in counts.items())
    out.print(tr("%(count)s customers: %(mix)s", count=format_value(len(rows), "count", tr.language), mix=mix)
              + (tr(" (first %(limit)s shown; --limit, --band or --json for more)", limit=limit)
                 if len(rows) > limit else ""))


def print_account(report: dict, tr) -> None:
    a = report["accounts"][0]
    out.print(tr("%(name)s (%(account_id)s) on %(as_of)s: score %(score)s %(band)s, model %(model)s",
                 name=f"[bold]{a['name']}[/]", account_id=a["account_id"], as_of=report["as_of"],
                 score=f"[bold]{format_value(a['rounded'], 'count', tr.language)}[/]", band=band_text(a["band"], tr),
                 model=a["model"])
              + ("" if a["change"] is None else
                 tr(", %(change)s since %(since)s", change=format_value(a["change"], "number", tr.language,
                                                                        pattern=SIGNED), since=report["since"])))
    table = Table(title_justify="left")
    for column in (N_("component"), N_("score"), N_("weight"), N_("points"), N_("signals")):
        table.add_column(tr(column), justify="left" if column in ("component", "signals") else "right")
    for c in a["components"]:
        signals = ", ".join(f"{k}={short_value(v, tr)}" for k, v in c["signals"].items())
        table.add_row(c["name"], tr("missing") if c["missing"] else format_value(c["score"], "count", tr.language),
                      format_value(c["weight"], "rate", tr.language, pattern="#,##0%"),
                      format_value(c["contribution"], "number", tr.language, pattern="#,##0.0"), signals)
    out.print(table)
    for sentence in a["changes"]:
        out.print(f"• {sentence}")


def short_value(value, tr) -> str:
    """A signal or feature value as the tables show it: 0.25 (0,25), 3, or missing."""
    if value is None:
        return tr("missing")
    return format_value(value, "number", tr.language) if isinstance(value, float) else str(value)


@health_app.command("history", help=help_(
    "Compute and keep the daily score of every customer (replacing the days already kept)."))
def history_command(
    start: Annotated[str | None, typer.Option("--from", help=help_(
        "First day (default: when the data starts)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=help_(
        "Last day (default: today, or when the data ends)."))] = None,
    db: DbOption = None,
) -> None:
    from sucesso.health.history import compute_history, default_as_of, first_day

    with workspace(db) as store:
        tr = cli_gettext(store)
        first = parse_day(start) or first_day(store)
        last = parse_day(end) or default_as_of(store)
        if first is None:
            raise fail("the workspace has no subscriptions yet: nothing to score")
        with out.status(tr("scoring every customer, every day from %(first)s to %(last)s…", first=first,
                           last=last)) as status:
            rows = compute_history(store, first, last,
                                   on_progress=lambda d: status.update(tr("scored up to %(day)s…", day=d)))
    out.print(tr("health history kept: %(rows)s scores, %(first)s to %(last)s",
                 rows=format_value(rows, "count", tr.language), first=first, last=last))


@health_app.command("trend", help=help_(
    "The kept history over time: the band mix of all customers, or one account's score."))
def trend_command(
    account: Annotated[str | None, typer.Option(help=help_("One account's score over time."))] = None,
    every: Annotated[int, typer.Option(help=help_("Days between the rows shown."), min=1)] = 30,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.health.history import trend

    with workspace(db) as store:
        tr = cli_gettext(store)
        rows = trend(store, account, every)
    if rows.empty and account:
        raise fail("no health history kept for %(account)r: run `sucesso health history` first", account=account)
    if rows.empty:
        raise fail("no health history kept: run `sucesso health history` first")
    if as_json:
        print(rows.to_json(orient="records", date_format="iso", indent=2))
        return
    table = Table(title_justify="left", title=tr("Health every %(days)s days", days=every)
                  + (f", {account}" if account else ""))
    for column in rows.columns:
        table.add_column(str(column), justify="left" if column in ("as_of", "band") else "right")
    for row in rows.itertuples(index=False):
        table.add_row(*[trend_cell(v, tr) for v in row])
    out.print(table)


def trend_cell(value, tr) -> str:
    """A band coloured, a score with one decimal, a count of customers, a day."""
    if value in BAND_STYLE:
        return band_text(value, tr)
    if isinstance(value, float):
        return format_value(value, "number", tr.language, pattern="#,##0.0")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return format_value(value, "count", tr.language)
    return str(value)


@health_app.command("model", help=help_(
    "Print the model in use, or adopt a model file (then recompute the history you keep)."))
def model_command(
    path: Annotated[str | None, typer.Argument(help=help_("A model file to adopt (checked first)."))] = None,
    default: Annotated[bool, typer.Option("--default", help=help_("Go back to the shipped default model."))] = False,
    db: DbOption = None,
) -> None:
    from sucesso.health.history import adopt_model, workspace_model
    from sucesso.health.model import load_model

    with workspace(db) as store:
        tr = cli_gettext(store)
        if path is None and not default:
            print(workspace_model(store).text, end="")
            return
        chosen = load_model() if default else read_model(path)
        adopt_model(store, chosen)
    out.print(tr("health model %(name)r adopted; run `sucesso health history` to rescore the kept days",
                 name=chosen.name))


@health_app.command("signals", help=help_("The signals a model file can read, and what each means."))
def signals_command() -> None:
    from sucesso.health.signals import SIGNALS

    tr = cli_gettext()
    table = Table(title=tr("Signals (as of a date; the last N days end the day before)"), title_justify="left")
    table.add_column(tr("signal"))
    table.add_column(tr("source"))
    table.add_column(tr("meaning"))
    for s in SIGNALS.values():
        table.add_row(s.name, s.source, s.meaning)
    out.print(table)


@health_app.command("backtest", help=help_(
    "Would the model have foreseen churn? Churn rate per band and AUC on past dates (and a --model file beside "
    "the workspace's, on the same dates)."))
def backtest_command(
    model: ModelOption = None,
    horizon: Annotated[int, typer.Option(help=help_("Days after each date in which a churn counts."), min=1)] = 90,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.health.backtest import backtest
    from sucesso.health.history import workspace_model

    with workspace(db) as store:
        tr = cli_gettext(store)
        models = [workspace_model(store)] + ([read_model(model)] if model else [])
        try:
            results = backtest(store, models, horizon_days=horizon)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print(json.dumps({"results": [r.as_dict() for r in results]}, ensure_ascii=False, indent=2))
        return
    first = results[0]
    out.print(tr("Backtest on %(count)s dates (%(first)s to %(last)s): churn in the next %(days)s days of the "
                 "customers in each band", count=format_value(len(first.dates), "count", tr.language),
                 first=first.dates[0], last=first.dates[-1], days=horizon))
    table = Table(title_justify="left")
    table.add_column(tr("model"))
    table.add_column("AUC", justify="right")
    bands = list(dict.fromkeys(b for r in results for b in r.bands["band"]))
    for b in bands:
        table.add_column(tr("%(band)s: churn (n)", band=tr(b)), justify="right")
    for r in results:
        rates = {row["band"]: f"{format_value(row['churn_rate'], 'rate', tr.language)} "
                              f"({format_value(row['accounts'], 'count', tr.language)})"
                 for row in r.bands.to_dict("records")}
        table.add_row(r.model, format_value(r.auc, "number", tr.language, pattern="0.000"),
                      *[rates.get(b, "—") for b in bands])
    out.print(table)
    out.print(tr("AUC: the chance a customer who churned scored below one who stayed (0.5 is a coin toss)."))
