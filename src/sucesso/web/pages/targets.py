"""Targets (OKRs): every KPI target with the KPI's value in the last month of its period and its
status; managers and admins set and remove them (forms with the CSRF token). The JSON twin
/api/targets lists (GET), sets (POST) and removes (DELETE ?kpi=&period=) them: changes need a
manager's or admin's session (with X-CSRF-Token) or a token with the admin scope."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from sucesso.metrics.evaluate import METRICS
from sucesso.metrics.targets import targets
from sucesso.operations.targets import PERIOD_FORMATS, NoSuchTarget, TargetError, remove_target, set_target, target_rows
from sucesso.web.auth import User, api_scope, api_user, require, signed_in, verify_csrf
from sucesso.web.render import gettext_of, page

router = APIRouter()
EDITORS = ("admin", "manager")


def N_(message: str) -> str:
    """Marks a message for translation where it is shown, not where it is written."""
    return message


DONE = {"set": N_("The target is saved."), "removed": N_("The target is removed.")}


def targets_data(request: Request) -> dict:
    """Every target, its KPI's value in its status month and its status (operations.targets)."""
    workspace = request.app.state.workspace
    last = workspace.months[-1] if workspace.months else None
    return {"targets": target_rows(workspace.run(targets), workspace.kpi_table(), last), "last_month": last}


def _page(request: Request, user: User, status_code: int = 200, error: str | None = None):
    _ = gettext_of(request)
    done = DONE.get(request.query_params.get("done", ""))
    kpis = sorted(k for k, m in METRICS.items() if m.unit != "text")
    return page(request, "targets.html", status_code=status_code, data=targets_data(request), kpis=kpis,
                can_edit=user.role in EDITORS, done=_(done) if done else None,
                error=error)


def _change(request: Request, user: User, job, done: str):
    """Run a change; back to the list with its message, or the page again with the error."""
    try:
        request.app.state.workspace.run(job)
    except TargetError as exc:
        _ = gettext_of(request)
        return _page(request, user, 400, _(exc.message, **exc.params))
    return RedirectResponse(f"/targets?done={done}", status_code=303)


@router.get("/targets", include_in_schema=False)
def targets_page(request: Request, user: User = Depends(signed_in)):
    return _page(request, user)


@router.post("/targets", include_in_schema=False)
def set_form(request: Request, user: User = Depends(require(*EDITORS)), _csrf=Depends(verify_csrf),
             kpi: str = Form(""), value: str = Form(""), period: str = Form(""), direction: str = Form("")):
    return _change(request, user, lambda s: set_target(s, kpi.strip(), value, period, direction or None), "set")


@router.post("/targets/remove", include_in_schema=False)
def remove_form(request: Request, user: User = Depends(require(*EDITORS)), _csrf=Depends(verify_csrf),
                kpi: str = Form(""), period: str = Form("")):
    return _change(request, user, lambda s: remove_target(s, kpi, period), "removed")


# -- JSON -----------------------------------------------------------------------------------
class TargetIn(BaseModel):
    kpi: str = Field(description="A METRICS.md key, e.g. nrr")
    value: float | str = Field(description="The target: 1.05, \"105%\" for a rate")
    period: str = Field(description=PERIOD_FORMATS)
    direction: str | None = Field(None, description="higher or lower (default: the KPI's)")


def may_change(request: Request) -> User:
    """A manager's or admin's session (with X-CSRF-Token), or a token with the admin scope."""
    api_user(request)
    if request.state.auth == "token":
        return api_scope("admin")(request)
    return require(*EDITORS)(request)


def _problem(request: Request, exc: TargetError, status: int = 400) -> JSONResponse:
    return JSONResponse({"detail": gettext_of(request)(exc.message, **exc.params)}, status_code=status)


@router.get("/api/targets", tags=["operations"],
            summary="Every KPI target with the KPI's value in the last month of its period and its status")
def targets_api(request: Request, user: User = Depends(api_scope("read"))):
    return targets_data(request)


@router.post("/api/targets", tags=["operations"], status_code=201,
             summary="Set a KPI's target for a period (replacing one that starts on the same day)")
def set_api(request: Request, body: TargetIn, user: User = Depends(may_change)):
    try:
        return request.app.state.workspace.run(lambda s: set_target(s, body.kpi, body.value, body.period,
                                                                    body.direction))
    except TargetError as exc:
        return _problem(request, exc)


@router.delete("/api/targets", tags=["operations"], summary="Remove a KPI's target for a period (?kpi=&period=)")
def remove_api(request: Request, kpi: str, period: str, user: User = Depends(may_change)):
    try:
        return request.app.state.workspace.run(lambda s: remove_target(s, kpi, period))
    except TargetError as exc:
        return _problem(request, exc, 404 if isinstance(exc, NoSuchTarget) else 400)
