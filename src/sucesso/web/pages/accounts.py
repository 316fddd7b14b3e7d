"""Accounts: search, filter, sort and page through every account; and the account 360."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, HTTPException, Request

from sucesso.health.report import report_from
from sucesso.insight import account360
from sucesso.insight.accounts import active, moved
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in, visible_csm
from sucesso.web.kit import cached
from sucesso.web.pages.tasks import SNOOZE_DAYS, tasks_data
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import plain, records

router = APIRouter()
PAGE_SIZE = 50
FILTERS = ("band", "csm_id", "segment", "plan", "touch_model")
SORTS = {"name": ("name", True), "mrr": ("mrr", False), "score": ("score", True), "change": ("score_change", True)}
LIST_COLUMNS = ["account_id", "name", "segment", "plan", "touch_model", "csm_id", "csm_name", "mrr", "customer",
                "score", "band", "score_change"]


def visible_rows(request: Request, user: User):
    """The account table as this user may see it (a csm under csm_scope "own": their accounts)."""
    workspace = request.app.state.workspace
    rows = workspace.account_rows()
    only = workspace.run(lambda store: visible_csm(user, store))
    return rows if only is None or rows.empty else rows[rows["csm_id"] == only]


def accounts_data(request: Request, user: User) -> dict:
    q = request.query_params
    rows = visible_rows(request, user)
    choices = {c: sorted(v for v in rows[c].dropna().unique()) for c in FILTERS if c in rows} if len(rows) else {}
    behind = _behind(request)
    if behind is not None:  # the accounts behind a point of a chart, customers or not
        rows = rows[rows["account_id"].isin(behind)]
    elif len(rows) and q.get("all") != "1":
        rows = rows[rows["customer"]]
    if text := q.get("q", "").strip().lower():
        rows = rows[rows["name"].str.lower().str.contains(text, regex=False)
                    | rows["account_id"].str.lower().str.contains(text, regex=False)]
    for column in FILTERS:
        if q.get(column):
            rows = rows[rows[column] == q[column]]
    sort = q.get("sort", "mrr") if q.get("sort") in SORTS else "mrr"
    column, ascending = SORTS[sort]
    if len(rows):
        rows = rows.sort_values([column, "account_id"], ascending=[ascending, True], na_position="last")
    try:
        number = max(1, int(q.get("page", "1")))
    except ValueError:
        number = 1
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(number, pages)
    shown = rows.iloc[(number - 1) * PAGE_SIZE: number * PAGE_SIZE] if len(rows) else rows
    return {"total": int(len(rows)), "page": number, "pages": pages, "sort": sort,
            "query": {k: q[k] for k in ("q", "all", *BEHIND, "month", *FILTERS) if q.get(k)}, "choices": choices,
            "accounts": records(shown, LIST_COLUMNS) if len(shown) else []}


BEHIND = {"moved": moved, "activity": active}  # the filters naming the accounts behind a point of a chart


def _behind(request: Request) -> list[str] | None:
    """With &month=YYYY-MM, ?moved=new|reactivation|expansion|contraction|churn (or several,
    comma-separated): the accounts whose MRR moved so; ?activity=nps|csat|ces|tickets|resolved|usage|signup:
    the accounts that did so that month. None: no such filter."""
    q, workspace = request.query_params, request.app.state.workspace
    name = next((n for n in BEHIND if q.get(n)), None)
    if name is None or not q.get("month"):
        return None
    find, value, month = BEHIND[name], q[name], q["month"]
    try:
        return cached(workspace, (name, value, month), lambda: workspace.run(lambda store: find(store, month, value)))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/accounts", include_in_schema=False)
def accounts_page(request: Request, user: User = Depends(signed_in)):
    return page(request, "accounts.html", data=accounts_data(request, user))


@router.get("/api/accounts", tags=["pages"], summary="Accounts: ?q=&band=&csm_id=&segment=&plan=&touch_model="
            "&sort=name|mrr|score|change&page=&all=1, or the accounts behind a point of a chart: "
            "?moved=new|reactivation|expansion|contraction|churn[,…]&month=YYYY-MM (an MRR movement) or "
            "?activity=nps|csat|ces|tickets|resolved|usage|signup&month=YYYY-MM (what they did that month)")
def accounts_api(request: Request, user: User = Depends(api_scope("read"))):
    data = accounts_data(request, user)
    data.pop("choices")
    return data


def visible_profile(request: Request, account_id: str, user: User) -> dict:
    """The account's profile (account360.profile) if `user` may see it (csm_scope), else 404."""
    workspace = request.app.state.workspace
    profile = workspace.run(lambda s: account360.profile(s, account_id))
    only = workspace.run(lambda store: visible_csm(user, store))
    if profile is None or (only is not None and profile.get("csm_id") != only):
        raise HTTPException(404, f"no account {account_id!r}")
    return profile


def account_data(request: Request, account_id: str, user: User) -> dict:
    workspace = request.app.state.workspace
    profile = visible_profile(request, account_id, user)
    as_of = workspace.as_of or dt.date.today()
    first, last = account360.span_for(as_of)
    language = language_of(request)

    def gather(store):
        mrr = account360.mrr_history(store, account_id, first, last)
        scores = account360.health_history(store, account_id)
        found = report_from(workspace.health, account_id, locale=language)["accounts"] if workspace.health else []
        health = found[0] if found else None
        people = account360.contacts(store, account_id)
        events = account360.timeline(store, account_id, as_of - dt.timedelta(days=180))
        return mrr, scores, health, people, events

    mrr, scores, health, people, events = workspace.run(gather)
    tasks = tasks_data(request, user, account_id)
    return {"account": {k: plain(v) for k, v in profile.items()}, "as_of": str(as_of),
            "tasks": tasks["tasks"], "csms": tasks["csms"],
            "mrr": records(mrr), "health": health,
            "health_history": [{"as_of": str(r["as_of"]), "score": plain(r["score"]), "band": r["band"],
                                "components": json.loads(r["components"])} for r in scores.to_dict("records")],
            "contacts": records(people, [c for c in ("contact_id", "name", "email", "role") if c in people]),
            "timeline": records(events)}


@router.get("/accounts/{account_id}", include_in_schema=False)
def account_page(request: Request, account_id: str, user: User = Depends(signed_in)):
    data = account_data(request, account_id, user)
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    figures = {"mrr": charts.lines([r["period"] for r in data["mrr"]], {"MRR": [r["mrr"] for r in data["mrr"]]},
                                   separators=separators)}
    history = data["health_history"]
    if history:
        weekly = history[::7] if len(history) > 120 else history
        series = {_("Score"): [r["score"] for r in weekly]}
        for name in (data["health"] or {}).get("components", []):
            key = name["name"]
            series[_(key)] = [r["components"].get(key) for r in weekly]
        figures["health"] = charts.lines([r["as_of"] for r in weekly], series, separators=separators)
    return page(request, "account.html", data=data, figures=figures, snooze_days=SNOOZE_DAYS)


@router.get("/api/accounts/{account_id}", tags=["pages"], summary="Account 360")
def account_api(request: Request, account_id: str, user: User = Depends(api_scope("read"))):
    return account_data(request, account_id, user)

