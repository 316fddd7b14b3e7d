"""Tasks: the work the CS team does for an account — created by the playbooks (playbooks.py)
or by a person — listed, completed, snoozed, reassigned and cancelled.

A task is open or snoozed (both count as open: one open task per account and playbook), then
done or cancelled. A snoozed task comes back as open when its date passes. Completing a task
records what was done as a CS activity (`cs_activities`, id "task:<task_id>", kind = the
task's kind), so coverage, the health score's engagement and the "no CS activity" playbook
see the work the moment it is done.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from sucesso.store import Store

OPEN = ("open", "snoozed")
COLUMNS = ("task_id", "account_id", "title", "kind", "playbook", "occurrence", "assignee_csm_id", "status",
           "created_at", "due_at", "snoozed_until", "completed_at", "updated_at", "created_by", "updated_by", "why",
           "notes")


class TaskError(ValueError):
    pass


@dataclass
class NewTask:
    account_id: str
    title: str
    kind: str
    due_at: dt.datetime | None
    assignee_csm_id: str | None
    created_by: str
    playbook: str | None = None
    occurrence: str | None = None
    why: dict = field(default_factory=dict)
    notes: str | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def create(store: Store, tasks: list[NewTask], now: dt.datetime | None = None) -> list[str]:
    """Write the tasks (in the caller's transaction, if any); return their ids."""
    now = now or utcnow()
    ids = []
    placeholders = ", ".join("?" for _ in COLUMNS)
    for t in tasks:
        task_id = f"task_{uuid.uuid4().hex[:12]}"
        why = json.dumps(t.why, sort_keys=True, separators=(",", ":"), default=str) if t.why else None
        store.execute(f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                      (task_id, t.account_id, t.title, t.kind, t.playbook, t.occurrence, t.assignee_csm_id, "open",
                       now, t.due_at, None, None, now, t.created_by, None, why, t.notes))
        ids.append(task_id)
    return ids


def add(store: Store, account_id: str, title: str, kind: str, by: str, due_at: dt.datetime | None = None,
        assignee_csm_id: str | None = None, notes: str | None = None, now: dt.datetime | None = None) -> str:
    """A task a person creates; assigned to the account's CSM unless `assignee_csm_id` says otherwise."""
    rows = store.fetchall("SELECT csm_id FROM accounts WHERE account_id = ?", (account_id,))
    if not rows:
        raise TaskError(f"no account {account_id!r} in the workspace")
    if not title.strip():
        raise TaskError("a task needs a title")
    assignee = assignee_csm_id or rows[0][0]
    if assignee_csm_id:
        _known_csm(store, assignee_csm_id)
    with store.transaction():
        return create(store, [NewTask(account_id, title.strip(), kind, due_at, assignee, by, notes=notes)], now)[0]


def wake(store: Store, now: dt.datetime | None = None) -> int:
    """Snoozed tasks whose date has come are open again; how many."""
    now = now or utcnow()
    rows = store.fetchall("SELECT count(*) FROM tasks WHERE status = 'snoozed' AND snoozed_until <= ?", (now,))
    if rows[0][0]:
        store.execute("UPDATE tasks SET status = 'open', snoozed_until = NULL, updated_at = ? "
                      "WHERE status = 'snoozed' AND snoozed_until <= ?", (now, now))
    return rows[0][0]


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks: `status` open (open and snoozed), done, cancelled or all; `assignee` a csm_id
    or "none" (nobody); `csm_of_account` the tasks of that CSM's accounts."""

    status: str = "open"
    assignee: str | None = None
    account_id: str | None = None
    playbook: str | None = None
    csm_of_account: str | None = None

    def where(self) -> tuple[str, list]:
        where, params = [], []
        if self.status == "open":
            where.append("t.status IN ('open', 'snoozed')")
        elif self.status != "all":
            where.append("t.status = ?")
            params.append(self.status)
        if self.assignee == "none":
            where.append("t.assignee_csm_id IS NULL")
        for column, value in (("t.assignee_csm_id", None if self.assignee == "none" else self.assignee),
                              ("t.account_id", self.account_id), ("t.playbook", self.playbook),
                              ("a.csm_id", self.csm_of_account)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return (f" WHERE {' AND '.join(where)}" if where else ""), params


SELECT = ", ".join(f"t.{c}" for c in COLUMNS) + ", a.name, c.name, a.csm_id"
FROM = ("FROM tasks t JOIN accounts a ON a.account_id = t.account_id "
        "LEFT JOIN csms c ON c.csm_id = t.assignee_csm_id")


def task_list(store: Store, which: TaskFilter = TaskFilter(), limit: int | None = None, offset: int = 0,
              now: dt.datetime | None = None) -> list[dict]:
    """The tasks `which` says, soonest due first (open ones) or latest changed first (the rest),
    each with the account's name and CSM, the assignee's name and `overdue`."""
    now = now or utcnow()
    where, params = which.where()
    order = "t.due_at IS NULL, t.due_at, t.created_at" if which.status == "open" else "t.updated_at DESC"
    sql = (f"SELECT {SELECT} {FROM}{where} ORDER BY {order}, t.task_id"
           + (f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit else ""))
    return [_task(row, now) for row in store.fetchall(sql, params)]


def task_counts(store: Store, which: TaskFilter = TaskFilter(), now: dt.datetime | None = None) -> tuple[int, int]:
    """How many tasks `which` says, and how many of them are open and overdue."""
    where, params = which.where()
    rows = store.fetchall(f"SELECT count(*), count(CASE WHEN t.status IN ('open', 'snoozed') AND t.due_at < ? "
                          f"THEN 1 END) {FROM}{where}", [now or utcnow(), *params])
    return rows[0][0], rows[0][1]


def get(store: Store, task_id: str, now: dt.datetime | None = None) -> dict:
    sql = f"SELECT {SELECT} {FROM} WHERE t.task_id = ?"
    rows = store.fetchall(sql, (task_id,))
    if not rows:
        raise TaskError(f"no task {task_id!r}")
    return _task(rows[0], now or utcnow())


def _task(row: tuple, now: dt.datetime) -> dict:
    task = dict(zip((*COLUMNS, "account_name", "assignee_name", "account_csm_id"), row, strict=True))
    task["why"] = json.loads(task["why"]) if task["why"] else {}
    task["overdue"] = task["status"] in OPEN and task["due_at"] is not None and task["due_at"] < now
    return task


def complete(store: Store, task_id: str, by: str, notes: str | None = None, now: dt.datetime | None = None) -> dict:
    """Mark it done and record the work as a CS activity of the assignee."""
    now = now or utcnow()
    task = _open_task(store, task_id)
    text = "\n".join(p for p in (task["title"], task["notes"], notes) if p)
    with store.transaction():
        store.execute("UPDATE tasks SET status = 'done', completed_at = ?, updated_at = ?, updated_by = ?, "
                      "snoozed_until = NULL, notes = ? WHERE task_id = ?",
                      (now, now, by, _joined(task["notes"], notes), task_id))
        store.execute("INSERT INTO cs_activities (activity_id, account_id, csm_id, kind, occurred_at, notes) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      (f"task:{task_id}", task["account_id"], task["assignee_csm_id"], task["kind"], now, text))
    return get(store, task_id, now)


def snooze(store: Store, task_id: str, until: dt.datetime, by: str, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    _open_task(store, task_id)
    if until <= now:
        raise TaskError(f"snooze until a later moment than now ({now:%Y-%m-%d %H:%M} UTC), got {until:%Y-%m-%d %H:%M}")
    with store.transaction():
        store.execute("UPDATE tasks SET status = 'snoozed', snoozed_until = ?, updated_at = ?, updated_by = ? "
                      "WHERE task_id = ?", (until, now, by, task_id))
    return get(store, task_id, now)


def reassign(store: Store, task_id: str, csm_id: str, by: str, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    _open_task(store, task_id)
    _known_csm(store, csm_id)
    with store.transaction():
        store.execute("UPDATE tasks SET assignee_csm_id = ?, updated_at = ?, updated_by = ? WHERE task_id = ?",
                      (csm_id, now, by, task_id))
    return get(store, task_id, now)


def cancel(store: Store, task_id: str, by: str, notes: str | None = None, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    task = _open_task(store, task_id)
    with store.transaction():
        store.execute("UPDATE tasks SET status = 'cancelled', updated_at = ?, updated_by = ?, notes = ? "
                      "WHERE task_id = ?", (now, by, _joined(task["notes"], notes), task_id))
    return get(store, task_id, now)


def _open_task(store: Store, task_id: str) -> dict:
    task = get(store, task_id)
    if task["status"] not in OPEN:
        raise TaskError(f"task {task_id} is {task['status']} already")
    return task


def _known_csm(store: Store, csm_id: str) -> None:
    rows = store.fetchall("SELECT active FROM csms WHERE csm_id = ?", (csm_id,))
    if not rows:
        raise TaskError(f"no CSM {csm_id!r} in the workspace")
    if not rows[0][0]:
        raise TaskError(f"CSM {csm_id!r} is not active")


def _joined(*parts: str | None) -> str | None:
    text = "\n".join(p for p in parts if p)
    return text or None
