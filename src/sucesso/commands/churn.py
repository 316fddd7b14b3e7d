"""`sucesso churn`: the churn-request pipeline (open, decide, list), the reasons ranked, the
rescue rate, and the reasons taxonomy the team edits (operations/churn.py)."""

from __future__ import annotations

import datetime as dt
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
from sucesso.commands.health import parse_day
from sucesso.formatting import format_value
from sucesso.operations import churn  # imported here, not lazily: it adds its check of imported reason codes
from sucesso.store import get_setting

churn_app = typer.Typer(help=help_("Churn requests: open, decide, list; the reasons ranked, the rescue rate; "
                                   "the reasons taxonomy."), no_args_is_help=True)
app.add_typer(churn_app, name="churn")

FromOption = Annotated[str | None, typer.Option("--from", help=help_(
    "First month, YYYY-MM (default: 12 months back)."))]
ToOption = Annotated[str | None, typer.Option("--to", help=help_("Last month, YYYY-MM (default: the last full one)."))]
SegmentOption = Annotated[str | None, typer.Option(help=help_("Only the accounts of this segment."))]


def _run(job):
    """job()'s result, or the ChurnError / bad month it raised, said in the command's language."""
    try:
        return job()
    except churn.ChurnError as exc:
        raise fail(exc.message, **exc.params) from None
    except ValueError as exc:
        raise fail(str(exc).strip('"')) from None


def _json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2,
                     default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def _months(store, start: str | None, end: str | None) -> tuple[str, str]:
    from sucesso.metrics.api import default_months

    first, last = default_months(store, dt.date.today(), 12)
    return start or first, end or last


def _flag_text(flagged: str | None, tr) -> str:
    return {"generic": tr("generic"), "unknown": tr("not in the taxonomy")}.get(flagged, "")


@churn_app.command("open", help=help_("Record that an account asked to leave: a pending churn request."))
def open_command(
    account: Annotated[str, typer.Argument(help=help_("The account's id."))],
    reason: Annotated[str, typer.Argument(help=help_("A reason code (`sucesso churn taxonomy` lists them)."))],
    detail: Annotated[str | None, typer.Option(help=help_("What the customer said."))] = None,
    involuntary: Annotated[bool | None, typer.Option("--involuntary/--voluntary", help=help_(
        "Involuntary (a failed payment…) or voluntary (default: as the reason's kind)."))] = None,
    at: Annotated[str | None, typer.Option("--at", help=help_("When they asked, YYYY-MM-DD (default: now)."))] = None,
    db: DbOption = None,
) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        voluntary = None if involuntary is None else not involuntary
        made = _run(lambda: churn.open_request(store, account, reason, voluntary, detail, parse_day(at)))
        row = churn.request(store, made, tr.language)
    out.print(tr("churn request %(request)s opened for %(account)s: %(reason)s, %(kind)s", request=made,
                 account=row["account_name"], reason=row["reason_label"],
                 kind=tr("voluntary") if row["voluntary"] else tr("involuntary")), highlight=False)
    if row["flagged"]:
        out.print(tr("flagged: %(reason)r is a generic reason; the team flags them (a specific reason says why)",
                     reason=row["reason_code"]), style="yellow", highlight=False)


@churn_app.command("decide", help=help_("Decide a pending churn request: the customer was recovered, or churned."))
def decide_command(
    request: Annotated[str, typer.Argument(help=help_("The request's id (`sucesso churn list`)."))],
    outcome: Annotated[str, typer.Argument(help=help_("recovered or churned."))],
    at: Annotated[str | None, typer.Option("--at", help=help_("When, YYYY-MM-DD (default: now)."))] = None,
    db: DbOption = None,
) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        _run(lambda: churn.decide(store, request, outcome, parse_day(at)))
    out.print(tr("churn request %(request)s decided: %(outcome)s", request=request, outcome=tr(outcome)))


@churn_app.command("list", help=help_("Churn requests, oldest first, with the MRR at request and their age."))
def list_command(
    outcome: Annotated[str | None, typer.Option(help=help_("pending, recovered or churned (default: all)."))] = None,
    account: Annotated[str | None, typer.Option(help=help_("Only this account's requests."))] = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        if outcome is not None and outcome not in churn.OUTCOMES:
            raise fail("--outcome is one of %(outcomes)s, not %(outcome)r", outcomes=", ".join(churn.OUTCOMES),
                       outcome=outcome)
        rows = churn.requests(store, outcome, account, language=tr.language)
        currency = get_setting(store, "currency")
    if as_json:
        _json({"currency": currency, "requests": rows})
        return
    table = Table(title=tr("Churn requests (MRR at request, age in days)"), title_justify="left")
    table.add_column(tr("request"), no_wrap=True)
    for column in ("account", "CSM", "MRR", "reason", "age", "outcome", "flagged"):
        table.add_column(tr(column), justify="right" if column in ("MRR", "age") else "left",
                         no_wrap=column == "MRR")
    for r in rows:
        reason = r["reason_label"] + ("" if r["voluntary"] else f" ({tr('involuntary')})")
        table.add_row(r["request_id"], r["account_name"], r["csm_name"] or "",
                      format_value(r["mrr"], "money", tr.language, currency), reason,
                      format_value(r["age_days"], "count", tr.language), tr(r["outcome"]), _flag_text(r["flagged"], tr))
    out.print(table)
    pending = [r for r in rows if r["outcome"] == "pending"]
    out.print(tr("%(count)s requests; %(pending)s pending, %(mrr)s MRR at risk",
                 count=format_value(len(rows), "count", tr.language),
                 pending=format_value(len(pending), "count", tr.language),
                 mrr=format_value(sum(r["mrr"] for r in pending), "money", tr.language, currency)))


@churn_app.command("reasons", help=help_(
    "The reasons of the requests decided in the months, ranked by lost MRR and by count."))
def reasons_command(start: FromOption = None, end: ToOption = None, segment: SegmentOption = None,
                    as_json: JsonOption = False, lang: LangOption = None, db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        first, last = _months(store, start, end)
        rows = _run(lambda: churn.reasons(store, first, last, segment, tr.language))
        currency = get_setting(store, "currency")
    if as_json:
        _json({"from": first, "to": last, "segment": segment, "currency": currency, "reasons": rows})
        return
    table = Table(title=tr("Churn reasons of the requests decided from %(first)s to %(last)s, most lost MRR first "
                           "(#: rank by lost MRR and by requests)", first=first, last=last), title_justify="left")
    for column in ("#", "reason", "lost MRR", "requests", "#", "flagged"):
        table.add_column(tr(column), justify="left" if column in ("reason", "flagged") else "right",
                         no_wrap=column == "lost MRR")
    for r in rows:
        kind = f", {tr('involuntary')}" if r["kind"] == "involuntary" else ""
        reason = f"{r['label']} ({r['reason_code']}{kind})"
        table.add_row(str(r["rank_by_lost_mrr"]), reason, format_value(r["lost_mrr"], "money", tr.language, currency),
                      format_value(r["requests"], "count", tr.language), str(r["rank_by_requests"]),
                      _flag_text(r["flagged"], tr))
    out.print(table)


@churn_app.command("rescue", help=help_("Per month: churn requests decided and the share recovered."))
def rescue_command(start: FromOption = None, end: ToOption = None, segment: SegmentOption = None,
                   as_json: JsonOption = False, lang: LangOption = None, db: DbOption = None) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        first, last = _months(store, start, end)
        rows = _run(lambda: churn.rescue_rate_by_month(store, first, last, segment))
    if as_json:
        _json({"from": first, "to": last, "segment": segment, "months": rows})
        return
    table = Table(title=tr("Churn rescue rate"), title_justify="left")
    for column in ("month", "decided", "rescue rate"):
        table.add_column(tr(column), justify="left" if column == "month" else "right")
    for r in rows:
        table.add_row(r["period"], format_value(r["decided"], "count", tr.language),
                      format_value(r["rescue_rate"], "rate", tr.language))
    out.print(table)


@churn_app.command("taxonomy", help=help_("Print the churn reasons in use, or adopt a file of them (checked first)."))
def taxonomy_command(
    path: Annotated[str | None, typer.Argument(help=help_("A churn reasons file (YAML) to adopt."))] = None,
    default: Annotated[bool, typer.Option("--default", help=help_("Go back to the shipped reasons."))] = False,
    db: DbOption = None,
) -> None:
    with workspace(db) as store:
        tr = cli_gettext(store)
        if path is None and not default:
            print(churn.workspace_taxonomy(store).text, end="")
            return
        chosen = churn.load_taxonomy() if default else _read_taxonomy(path)
        churn.adopt_taxonomy(store, None if default else chosen)
    out.print(tr("churn reasons adopted: %(count)s reasons; generic ones: %(policy)s", count=len(chosen.reasons),
                 policy=tr(chosen.policy)))


def _read_taxonomy(path: str) -> churn.Taxonomy:
    return read_edited_file(path, churn.load_taxonomy)
