"""Churn: the rescue pipeline (the pending churn requests, with the MRR at risk), the reasons
of the decided ones ranked by lost MRR and by count, the rescue rate over the months; a form to
open a request and buttons to decide the pending ones. JSON twins: GET /api/churn, POST
/api/churn/requests and /api/churn/requests/decide (the request's id in the body).

Who may change what: admins and managers any account; a csm the accounts they can edit (their
own); a viewer nothing (web.auth.can_edit). A csm who sees only their accounts (csm_scope "own")
sees only their requests.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from sucesso.operations import churn
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, can_edit, require, signed_in, verify_csrf, visible_csm
from sucesso.web.filters import filters
from sucesso.web.render import gettext_of, language_of, page

router = APIRouter()
LISTS = ("pending", "recovered", "churned", "all")


def N_(message: str) -> str:
    """Marks a message for translation where it is shown, not where it is written."""
    return message


DONE = {"opened": N_("The churn request is opened."), "decided": N_("The churn request is decided.")}


def churn_data(request: Request, user: User) -> dict:
    """The requests `user` sees (?outcome=pending|recovered|churned|all, ?reason=), each with
    whether they may decide it; the reasons of the requests decided in the months, ranked; the
    rescue rate per month; the reasons a new request may give."""
    f = filters(request, keep=("outcome", "reason"))
    q = request.query_params
    listed = q.get("outcome") if q.get("outcome") in LISTS else "pending"
    reason = q.get("reason") or None
    language, segment = language_of(request), f.segment or None

    def gather(store):
        rows = churn.requests(store, None if listed == "all" else listed, reason_code=reason,
                              csm_id=visible_csm(user, store), segment=segment, language=language)
        ranked = churn.reasons(store, f.first, f.last, segment, language) if f.first else []
        rescue = churn.rescue_rate_by_month(store, f.first, f.last, segment) if f.first else []
        return rows, ranked, rescue, churn.workspace_taxonomy(store)

    rows, ranked, rescue, taxonomy = request.app.state.workspace.run(gather)
    for r in rows:
        r["can_decide"] = r["outcome"] == "pending" and can_edit(user, r["csm_id"])
    choices = [{"code": code, "label": r.label(language), "kind": r.kind, "generic": r.generic}
               for code, r in taxonomy.reasons.items() if not (r.generic and taxonomy.policy == "refuse")]
    return {"filters": f, "outcome": listed, "reason": reason, "requests": rows,
            "mrr_at_risk": round(sum(r["mrr"] for r in rows if r["outcome"] == "pending"), 2),
            "reasons": ranked, "rescue": rescue, "policy": taxonomy.policy, "choices": choices}


def _figures(data: dict, request: Request) -> dict[str, str]:
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    f, figures = data["filters"], {}
    if data["reasons"]:
        labels = [r["label"] for r in data["reasons"]]
        for key, name, outcome in (("lost_mrr", _("Lost MRR"), "churned"), ("requests", _("Requests"), "all")):
            links = [f"/churn?{f.query(outcome=outcome, reason=r['reason_code'])}" for r in data["reasons"]]
            figures[key] = charts.bars(labels, {name: [r[key] for r in data["reasons"]]}, links={name: links},
                                       separators=separators)
    if data["rescue"]:
        figures["rescue"] = charts.lines([r["period"] for r in data["rescue"]],
                                         {_("Rescue rate"): [r["rescue_rate"] for r in data["rescue"]]},
                                         percent=True, separators=separators)
    return figures


def _openable(request: Request, user: User) -> list[tuple[str, str]]:
    """The customers `user` may open a request for: (account_id, name), for the form's list."""
    rows = request.app.state.workspace.account_rows()
    if rows.empty:
        return []
    rows = rows[rows["customer"]].sort_values("name")
    return [(a, n) for a, n, c in zip(rows["account_id"], rows["name"], rows["csm_id"], strict=True)
            if can_edit(user, c)]


def _churn_page(request: Request, user: User, status_code: int = 200, error: str | None = None):
    _ = gettext_of(request)
    data = churn_data(request, user)
    done = DONE.get(request.query_params.get("done", ""))
    return page(request, "churn.html", status_code=status_code, data=data, figures=_figures(data, request),
                accounts=_openable(request, user) if user.role != "viewer" else [],
                done=_(done) if done else None, error=error)


@router.get("/churn", include_in_schema=False)
def churn_page(request: Request, user: User = Depends(signed_in)):
    return _churn_page(request, user)


@router.get("/api/churn", tags=["churn"], summary="Churn requests (?outcome=pending|recovered|churned|all&reason=), "
            "the reasons ranked by lost MRR and count, the rescue rate per month (?from=&to=&segment=)")
def churn_api(request: Request, user: User = Depends(api_scope("read"))):
    data = churn_data(request, user)
    f = data.pop("filters")
    return {"filters": {"from": f.first, "to": f.last, "segment": f.segment}, **data}


# -- opening and deciding ---------------------------------------------------------------------
def _act(request: Request, user: User, job, account_id: str | None = None, request_id: str | None = None):
    """Run `job(store)` on an account (or a request's account) `user` may change: 404 when they
    cannot see it, 403 when they may not change it, 400 with the reason when it cannot be done."""
    def act(store):
        try:
            account = churn.request(store, request_id)["account_id"] if request_id is not None else account_id
            owner = churn.account_csm(store, account)
        except churn.ChurnError as exc:
            raise HTTPException(404, str(exc)) from None
        only = visible_csm(user, store)
        if only is not None and owner != only:
            raise HTTPException(404, f"no account {account!r}")
        if not can_edit(user, owner):
            raise HTTPException(403, "You may not change this account's churn requests.")
        return job(store)

    return request.app.state.workspace.run(act)


def _form(request: Request, user: User, job, done: str, **target):
    """A form's change, then back to the page; its error shown on the page."""
    try:
        _act(request, user, job, **target)
    except churn.ChurnError as exc:
        return _churn_page(request, user, 400, exc.translated(gettext_of(request)))
    if done == "decided":
        request.app.state.workspace.refresh_in_background()  # the churn KPIs change
    return RedirectResponse(f"/churn?done={done}", status_code=303)


@router.post("/churn/requests", include_in_schema=False)
def open_form(request: Request, user: User = Depends(require("admin", "manager", "csm")), _csrf=Depends(verify_csrf),
              account_id: str = Form(""), reason_code: str = Form(""), detail: str = Form(""), kind: str = Form("")):
    """Open a request; `kind` voluntary or involuntary, "" for the reason's kind."""
    voluntary = {"voluntary": True, "involuntary": False}.get(kind)
    account_id = account_id.strip()
    return _form(request, user, lambda s: churn.open_request(s, account_id, reason_code, voluntary, detail or None),
                 "opened", account_id=account_id)


@router.post("/churn/requests/decide", include_in_schema=False)
def decide_form(request: Request, user: User = Depends(require("admin", "manager", "csm")),
                _csrf=Depends(verify_csrf), request_id: str = Form(""), outcome: str = Form("")):
    return _form(request, user, lambda s: churn.decide(s, request_id, outcome), "decided", request_id=request_id)


class RequestIn(BaseModel):
    account_id: str
    reason_code: str = Field(description="A code of the workspace's churn reasons (`sucesso churn taxonomy`)")
    detail: str | None = Field(None, max_length=100_000, description="What the customer said")
    voluntary: bool | None = Field(None, description="Default: from the reason's kind")
    requested_at: dt.datetime | None = Field(None, description="Default: now (UTC)")


class DecisionIn(BaseModel):
    request_id: str
    outcome: Literal["recovered", "churned"]
    decided_at: dt.datetime | None = Field(None, description="Default: now (UTC)")


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """An instant in UTC without its zone, as the store keeps them."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _api(request: Request, user: User, job, **target) -> dict:
    """The change, then the request as GET /api/churn lists it; 400 with the reason when it cannot be done."""
    try:
        request_id = _act(request, user, job, **target)
    except churn.ChurnError as exc:
        raise HTTPException(400, str(exc)) from None
    return request.app.state.workspace.run(lambda s: churn.request(s, request_id, language_of(request)))


@router.post("/api/churn/requests", tags=["churn"], status_code=201,
             summary="Open a churn request for an account (a pending one)")
def open_api(request: Request, body: RequestIn, user: User = Depends(api_scope("ingest"))):
    def job(store):
        return churn.open_request(store, body.account_id, body.reason_code, body.voluntary, body.detail,
                                  _naive(body.requested_at))

    return _api(request, user, job, account_id=body.account_id)


@router.post("/api/churn/requests/decide", tags=["churn"],
             summary="Decide a pending churn request: recovered or churned")
def decide_api(request: Request, body: DecisionIn, user: User = Depends(api_scope("ingest"))):
    def job(store):
        churn.decide(store, body.request_id, body.outcome, _naive(body.decided_at))
        return body.request_id

    made = _api(request, user, job, request_id=body.request_id)
    request.app.state.workspace.refresh_in_background()
    return made
