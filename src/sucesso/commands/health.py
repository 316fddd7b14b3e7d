"""`sucesso health`: scores, their reasons and history, the model file, the backtest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import DbOption, app, cli_gettext, fail, out, workspace

health_app = typer.Typer(help="Health scores: why each is what it is, history, model, backtest.",
                         invoke_without_command=True)
app.add_typer(health_app, name="health")

BAND_STYLE = {"red": "bold red", "yellow": "yellow", "green": "green", "missing": "dim"}
ModelOption = Annotated[str | None, typer.Option("--model", help="A model file to use instead of the workspace's.")]


def parse_day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail("expected a date as YYYY-MM-DD, got %(text)r", text=text) from None


def read_model(path: str | None):
    """The model file at `path` (None: the workspace's), or a clear error."""
    from sucesso.health.model import ModelFileError, load_model

    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return load_model(fh.read(), path)
    except OSError as exc:
        raise fail("cannot read the model file %(path)s: %(reason)s", path=path, reason=exc.strerror) from None
    except ModelFileError as exc:
        raise fail("the model file has problems:\n%(problems)s", problems=exc) from None


@health_app.callback()
def health_command(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date, YYYY-MM-DD (default: today, or when the "
                                                             "data ends).")] = None,
    account: Annotated[str | None, typer.Option(help="One account: every component and reason.")] = None,
    band: Annotated[str | None, typer.Option(help="Only this band (red, yellow, green).")] = None,
    since: Annotated[int, typer.Option(help="Compare with the score this many days earlier.", min=1)] = 30,
    limit: Annotated[int, typer.Option(help="Rows to print (JSON has them all).", min=1)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[str | None, typer.Option(help="pt_BR or en (default: the workspace's).")] = None,
    model: ModelOption = None,
    db: DbOption = None,
) -> None:
    """Per customer: the score, its band, each component and what changed since --since days ago."""
    if ctx.invoked_subcommand is not None:
        return
    from sucesso.health.report import health_report
    from sucesso.store import get_setting

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        locale = lang or get_setting(store, "locale")
        try:
            report = health_report(store, parse_day(as_of), since, account, band, read_model(model), locale)
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
    for column in ("account", "name", "score", "band", "change", "what changed"):
        table.add_column(tr(column), justify="right" if column in ("score", "change") else "left")
    for a in rows[:limit]:
        change = "" if a["change"] is None else f"{a['change']:+.0f}"
        table.add_row(a["account_id"], a["name"] or "", f"{a['rounded']:.0f}", band_text(a["band"], tr), change,
                      "; ".join(a["changes"][:3]))
    out.print(table)
    counts = {}
    for a in rows:
        counts[a["band"]] = counts.get(a["band"], 0) + 1
    mix = ", ".join(f"{band_text(b, tr)} {n}" for b, n in counts.items())
    out.print(tr("%(count)s customers: %(mix)s", count=len(rows), mix=mix)
              + (tr(" (first %(limit)s shown; --limit, --band or --json for more)", limit=limit)
                 if len(rows) > limit else ""))


def print_account(report: dict, tr) -> None:
    a = report["accounts"][0]
    out.print(tr("%(name)s (%(account_id)s) on %(as_of)s: score %(score)s %(band)s, model %(model)s",
                 name=f"[bold]{a['name']}[/]", account_id=a["account_id"], as_of=report["as_of"],
                 score=f"[bold]{a['rounded']:.0f}[/]", band=band_text(a["band"], tr), model=a["model"])
              + ("" if a["change"] is None else
                 tr(", %(change)s since %(since)s", change=f"{a['change']:+.0f}", since=report["since"])))
    table = Table(title_justify="left")
    for column in ("component", "score", "weight", "points", "signals"):
        table.add_column(tr(column), justify="left" if column in ("component", "signals") else "right")
    for c in a["components"]:
        signals = ", ".join(f"{k}={short_value(v, tr)}" for k, v in c["signals"].items())
        table.add_row(c["name"], tr("missing") if c["missing"] else f"{c['score']:.0f}", f"{c['weight']:.0%}",
                      f"{c['contribution']:.1f}", signals)
    out.print(table)
    for sentence in a["changes"]:
        out.print(f"• {sentence}")


def short_value(value, tr) -> str:
    """A signal or feature value as the tables show it: 0.25, 3, or missing."""
    if value is None:
        return tr("missing")
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


@health_app.command("history")
def history_command(
    start: Annotated[str | None, typer.Option("--from", help="First day (default: when the data starts).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default: today, or when the data ends).")] = None,
    db: DbOption = None,
) -> None:
    """Compute and keep the daily score of every customer (replacing the days already kept)."""
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
    out.print(tr("health history kept: %(rows)s scores, %(first)s to %(last)s", rows=f"{rows:,}", first=first,
                 last=last))


@health_app.command("trend")
def trend_command(
    account: Annotated[str | None, typer.Option(help="One account's score over time.")] = None,
    every: Annotated[int, typer.Option(help="Days between the rows shown.", min=1)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """The kept history over time: the band mix of all customers, or one account's score."""
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
        table.add_row(*[band_text(v, tr) if v in BAND_STYLE else (f"{v:.1f}" if isinstance(v, float) else str(v))
                        for v in row])
    out.print(table)


@health_app.command("model")
def model_command(
    path: Annotated[str | None, typer.Argument(help="A model file to adopt (checked first).")] = None,
    default: Annotated[bool, typer.Option("--default", help="Go back to the shipped default model.")] = False,
    db: DbOption = None,
) -> None:
    """Print the model in use, or adopt a model file (then recompute the history you keep)."""
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


@health_app.command("signals")
def signals_command() -> None:
    """The signals a model file can read, and what each means."""
    from sucesso.health.signals import SIGNALS

    tr = cli_gettext()
    table = Table(title=tr("Signals (as of a date; the last N days end the day before)"), title_justify="left")
    table.add_column(tr("signal"))
    table.add_column(tr("source"))
    table.add_column(tr("meaning"))
    for s in SIGNALS.values():
        table.add_row(s.name, s.source, s.meaning)
    out.print(table)


@health_app.command("backtest")
def backtest_command(
    model: ModelOption = None,
    horizon: Annotated[int, typer.Option(help="Days after each date in which a churn counts.", min=1)] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Would the model have foreseen churn? Churn rate per band and AUC on past dates (and a
    --model file beside the workspace's, on the same dates)."""
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
                 "customers in each band", count=len(first.dates), first=first.dates[0], last=first.dates[-1],
                 days=horizon))
    table = Table(title_justify="left")
    table.add_column(tr("model"))
    table.add_column("AUC", justify="right")
    bands = list(dict.fromkeys(b for r in results for b in r.bands["band"]))
    for b in bands:
        table.add_column(tr("%(band)s: churn (n)", band=tr(b)), justify="right")
    for r in results:
        rates = {row["band"]: f"{row['churn_rate']:.1%} ({row['accounts']:,})" for row in r.bands.to_dict("records")}
        table.add_row(r.model, "—" if r.auc is None else f"{r.auc:.3f}", *[rates.get(b, "—") for b in bands])
    out.print(table)
    out.print(tr("AUC: the chance a customer who churned scored below one who stayed (0.5 is a coin toss)."))
