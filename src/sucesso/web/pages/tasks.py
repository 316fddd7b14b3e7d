"""Tasks: "my tasks" (a CSM's own; the whole team's for admins and managers), each with why it
was created, and the forms to complete, snooze, reassign and cancel; the playbooks and their
runs. JSON twins under /api/tasks and /api/playbooks.

Who may change a task: admins and managers any; a csm the tasks of their own accounts and the
tasks assigned to them; a viewer none.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from sucesso.operations import tasks as task_store
from sucesso.operations.triggers import why_words
from sucesso.web.auth import User, api_scope, can_edit, require, safe_next, signed_in, verify_csrf, visible_csm
from sucesso.web.render import gettext_of, page

router = APIRouter()

STATUSES = ("open", "done", "cancelled", "all")
PAGE_SIZE = 50
SNOOZE_DAYS = (1, 3, 7, 14, 30)


def may_change(user: User, task: dict) -> bool:
    return can_edit(user, task["account_csm_id"]) or (user.role == "csm" and bool(user.csm_id)
                                              and task["assignee_csm_id"] == user.csm_id)


def tasks_data(request: Request, user: User, account_id: str | None = None) -> dict:
    """The tasks `user` sees with the page's filters: ?assignee= (a csm_id, "none" for nobody,
    "all"; a CSM's own by default), ?status=, ?playbook=, 50 a page (?page=); each with `why` in
    words and `editable`. An account's tasks (the account 360) come all on one page."""
    q = request.query_params
    status = q.get("status") if q.get("status") in STATUSES else "open"
    default = user.csm_id if (user.csm_id and account_id is None) else "all"
    assignee = q.get("assignee") or default
    workspace = request.app.state.workspace
    _ = gettext_of(request)

    def gather(store):
        which = task_store.TaskFilter(status, None if assignee == "all" else assignee, account_id,
                                      q.get("playbook") or None, visible_csm(user, store))
        total, overdue = task_store.task_counts(store, which)
        pages = 1 if account_id else max(1, -(-total // PAGE_SIZE))
        number = min(pages, max(1, int(q["page"]))) if q.get("page", "").isdigit() else 1
        rows = task_store.task_list(store, which, None if account_id else PAGE_SIZE, (number - 1) * PAGE_SIZE)
        csms = store.fetchall("SELECT csm_id, name, role FROM csms WHERE active ORDER BY name")
        return rows, total, overdue, pages, number, csms

    rows, total, overdue, pages, number, csms = workspace.run(gather)
    for t in rows:
        t["editable"] = may_change(user, t)
        t["why_words"] = why_words(t["why"], _)
    return {"tasks": rows, "status": status, "assignee": assignee, "playbook": q.get("playbook") or "",
            "csms": [{"csm_id": c, "name": n, "role": r} for c, n, r in csms],
            "total": total, "overdue": overdue, "page": number, "pages": pages}


@router.get("/tasks", include_in_schema=False)
def tasks_page(request: Request, user: User = Depends(signed_in)):
    data = tasks_data(request, user)
    runs = request.app.state.workspace.run(_last_runs)
    return page(request, "tasks.html", data=data, runs=runs, snooze_days=SNOOZE_DAYS,
                can_run=user.role in ("admin", "manager"))


def _last_runs(store):
    from sucesso.operations.playbooks import last_runs

    return last_runs(store, 3)


@router.get("/api/tasks", tags=["tasks"], summary="Tasks: ?assignee=&status=&playbook=&page=")
def tasks_api(request: Request, user: User = Depends(api_scope("read"))):
    data = tasks_data(request, user)
    return {k: data[k] for k in ("tasks", "status", "assignee", "playbook", "total", "overdue", "page", "pages")}


# -- changing a task ------------------------------------------------------------------------------
def _change(request: Request, user: User, task_id: str, change) -> dict:
    """Apply `change(store, task)` to a task `user` may change (404 if they cannot see it)."""
    def apply(store):
        try:
            task = task_store.get(store, task_id)
        except task_store.TaskError:
            raise HTTPException(404, f"no task {task_id!r}") from None
        only = visible_csm(user, store)
        if only is not None and task["account_csm_id"] != only and task["assignee_csm_id"] != user.csm_id:
            raise HTTPException(404, f"no task {task_id!r}")
        if not may_change(user, task):
            raise HTTPException(403, "You may not change this task.")
        try:
            return change(store, task)
        except task_store.TaskError as exc:
            raise HTTPException(409, str(exc)) from None

    return request.app.state.workspace.run(apply)


def _verbs(user: User, days: int | None = None, csm_id: str | None = None, notes: str | None = None) -> dict:
    return {
        "complete": lambda s, t: task_store.complete(s, t["task_id"], user.email, notes or None),
        "snooze": lambda s, t: task_store.snooze(s, t["task_id"], task_store.utcnow() + dt.timedelta(days=days or 1),
                                                 user.email),
        "reassign": lambda s, t: task_store.reassign(s, t["task_id"], csm_id or "", user.email),
        "cancel": lambda s, t: task_store.cancel(s, t["task_id"], user.email, notes or None),
    }


@router.post("/tasks/{action}", include_in_schema=False)
def change_task_form(request: Request, action: str, user: User = Depends(signed_in), _csrf=Depends(verify_csrf),
                     task_id: str = Form(...), days: int = Form(7), csm_id: str = Form(""), notes: str = Form(""),
                     next: str = Form("/tasks")):
    verbs = _verbs(user, days, csm_id, notes)
    if action not in verbs:
        raise HTTPException(404, f"no action {action!r}")
    _change(request, user, task_id, verbs[action])
    return RedirectResponse(safe_next(next), status_code=303)


class TaskChange(BaseModel):
    task_id: str
    days: int | None = Field(None, ge=1, le=365, description="snooze: days from now")
    csm_id: str | None = Field(None, description="reassign: the new assignee")
    notes: str | None = Field(None, max_length=10_000)


@router.post("/api/tasks/{action}", tags=["tasks"], summary="complete, snooze, reassign or cancel a task")
def change_task_api(request: Request, action: str, body: TaskChange, user: User = Depends(signed_in)):
    verbs = _verbs(user, body.days, body.csm_id, body.notes)
    if action not in verbs:
        raise HTTPException(404, f"no action {action!r}; the actions are {', '.join(verbs)}")
    return _change(request, user, body.task_id, verbs[action])


class NewTask(BaseModel):
    account_id: str
    title: str = Field(min_length=1, max_length=1000)
    kind: str = "follow_up"
    due_at: dt.datetime | None = None
    assignee_csm_id: str | None = None
    notes: str | None = Field(None, max_length=10_000)


@router.post("/api/tasks", tags=["tasks"], summary="Add a task for an account")
def add_task_api(request: Request, body: NewTask, user: User = Depends(signed_in)):
    def add(store):
        owner = store.fetchall("SELECT csm_id FROM accounts WHERE account_id = ?", (body.account_id,))
        if not owner:
            raise HTTPException(404, f"no account {body.account_id!r}")
        if not can_edit(user, owner[0][0]):
            raise HTTPException(403, "You may not add tasks to this account.")
        try:
            task_id = task_store.add(store, body.account_id, body.title, body.kind, user.email,
                                     body.due_at.replace(tzinfo=None) if body.due_at else None, body.assignee_csm_id,
                                     body.notes)
        except task_store.TaskError as exc:
            raise HTTPException(422, str(exc)) from None
        return task_store.get(store, task_id)

    return request.app.state.workspace.run(add)


# -- playbooks ------------------------------------------------------------------------------------
@router.get("/api/playbooks", tags=["tasks"], summary="The playbooks and their last runs")
def playbooks_api(request: Request, user: User = Depends(api_scope("read"))):
    from sucesso.operations.playbooks import last_runs, workspace_playbooks

    return request.app.state.workspace.run(lambda s: {
        "playbooks": [p.model_dump(mode="json") for p in workspace_playbooks(s).playbooks],
        "runs": last_runs(s)})


@router.post("/playbooks/run", include_in_schema=False)
def run_playbooks_form(request: Request, user: User = Depends(require("admin", "manager")),
                       _csrf=Depends(verify_csrf)):
    run_playbooks(request, user.email)
    return RedirectResponse("/tasks?assignee=all", status_code=303)


@router.post("/api/playbooks/run", tags=["tasks"], summary="Run the playbooks now (?dry_run=1 writes nothing)")
def run_playbooks_api(request: Request, dry_run: bool = False, user: User = Depends(require("admin", "manager"))):
    report = run_playbooks(request, user.email, dry_run)
    return {"run_id": report.run_id, "as_of": report.as_of.isoformat(), "dry_run": dry_run,
            "playbooks": report.playbooks, "created": report.created, "notifications": report.notifications}


def run_playbooks(request: Request, by: str, dry_run: bool = False):
    from sucesso.operations.playbooks import run

    return request.app.state.workspace.run(lambda s: run(s, dry_run=dry_run, started_by=by))
