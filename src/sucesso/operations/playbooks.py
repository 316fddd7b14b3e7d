"""Playbooks: the team's rules (a YAML file, default_playbooks.yaml documents the format) that
turn what the data says into tasks — a trigger, conditions, the task to create.

A run as of a date T (by default the day after the data ends, or today) looks only at the
data before T (the health signals' convention), at the customers paying just before T. For
each playbook the trigger finds accounts and an *occurrence* (what fired: an NPS answer's id,
"red since 2026-10-02"), the conditions filter them, and a task is created unless

  - the account already has an open (or snoozed) task from the playbook,
  - a task was created for the same occurrence before (done or not: never twice), or
  - the playbook created a task for the account less than `cooldown_days` ago.

Every task keeps in `why` the playbook, its trigger and conditions, the date and the facts
and signals it saw. A run writes its tasks, its record (`playbook_runs`) and the
notifications it queues in one transaction; a dry run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from sucesso.operations import tasks as task_store
from sucesso.operations.triggers import FIELDS, Condition, RunData, Strict, Trigger, plain
from sucesso.store import Store, get_setting, set_setting
from sucesso.yamlfile import YamlFileError, read_mapping, validate

SETTING = "playbooks"

PlaybookFileError = YamlFileError


class Repeat(Strict):
    every_days: int = Field(ge=1)
    times: int = Field(ge=1, le=52)


class TaskSpec(Strict):
    title: str | dict[str, str]
    kind: str = Field(min_length=1)
    assignee: str = "csm"
    otherwise: str = "unassigned"
    due_days: float | None = Field(None, ge=0)
    due_hours: float | None = Field(None, ge=0)
    repeat: Repeat | None = None
    notify: list[Literal["email", "webhook"]] = []

    @field_validator("assignee", "otherwise")
    @classmethod
    def _assignee(cls, rule: str) -> str:
        if rule in ("csm", "unassigned") or rule.startswith(("role:", "csm_id:")):
            return rule
        raise ValueError(f"an assignee is csm, role:<role>, csm_id:<id> or unassigned, got {rule!r}")

    def due(self, now: dt.datetime, step: int = 0) -> dt.datetime | None:
        hours = (self.due_days or 0) * 24 + (self.due_hours or 0)
        if self.due_days is None and self.due_hours is None and not self.repeat:
            return None
        every = self.repeat.every_days if self.repeat else 0
        return now + dt.timedelta(hours=hours) + dt.timedelta(days=step * every)

    def title_in(self, language: str) -> str:
        if isinstance(self.title, str):
            return self.title
        return self.title.get(language) or self.title.get("en") or next(iter(self.title.values()))


class Playbook(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    description: str = ""
    active: bool = True
    trigger: Trigger
    when: list[Condition] = []
    task: TaskSpec
    cooldown_days: int = Field(0, ge=0)


class _File(Strict):
    playbooks: list[Playbook] = Field(min_length=1)

    @field_validator("playbooks")
    @classmethod
    def _unique(cls, playbooks):
        names = [p.name for p in playbooks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two playbooks with the same name: {', '.join(twice)}")
        return playbooks


@dataclass
class PlaybookFile:
    playbooks: list[Playbook]
    text: str


def default_text() -> str:
    return resources.files("sucesso.operations").joinpath("default_playbooks.yaml").read_text(encoding="utf-8")


def load_playbooks(text: str | None = None, source: str = "the default playbooks") -> PlaybookFile:
    """Read a playbooks file's text (None: the shipped default); raise PlaybookFileError listing every problem."""
    text = default_text() if text is None else text
    data, lines = read_mapping(text, source, "a playbooks file is a mapping with a `playbooks:` list")
    problems: list[str] = []
    parsed = validate(_File, data, (), lines, source, problems)
    if problems:
        raise PlaybookFileError("\n".join(problems))
    return PlaybookFile(parsed.playbooks, text)


def workspace_playbooks(store: Store) -> PlaybookFile:
    return load_playbooks(get_setting(store, SETTING) or None, "the workspace's playbooks")


def adopt_playbooks(store: Store, playbook_file: PlaybookFile) -> None:
    set_setting(store, SETTING, playbook_file.text)


# -- a run --------------------------------------------------------------------------------------
@dataclass
class RunReport:
    run_id: str
    as_of: dt.date
    dry_run: bool
    playbooks: dict[str, dict] = field(default_factory=dict)  # name → matched, created, open, seen, cooling
    tasks: list[task_store.NewTask] = field(default_factory=list)
    notify: dict[int, set[str]] = field(default_factory=dict)  # index in `tasks` → channels (once a series)
    notifications: int = 0

    @property
    def created(self) -> int:
        return len(self.tasks)


def run(store: Store, as_of: dt.date | None = None, *, dry_run: bool = False, only: list[str] | None = None,
        started_by: str = "cli", now: dt.datetime | None = None,
        playbook_file: PlaybookFile | None = None) -> RunReport:
    """Evaluate the playbooks (those named in `only`, else every active one) as of `as_of`."""
    from sucesso.health.history import default_as_of, scores_on

    now = now or task_store.utcnow()
    as_of = as_of or default_as_of(store)
    chosen = [p for p in (playbook_file or workspace_playbooks(store)).playbooks
              if (p.name in only if only else p.active)]
    if only and (unknown := set(only) - {p.name for p in chosen}):
        raise ValueError(f"no playbook named {', '.join(sorted(unknown))}")
    report = RunReport(f"run_{uuid.uuid4().hex[:12]}", as_of, dry_run)
    dates = sorted({d for p in chosen for d in p.trigger.dates(as_of)})
    scores = scores_on(store, dates, with_signals=True) if chosen else pd.DataFrame()
    scores = scores[scores["band"] != "missing"] if not scores.empty else scores
    language = get_setting(store, "locale")
    names = dict(store.fetchall("SELECT account_id, name FROM accounts"))
    data = RunData(store, as_of, scores, _now_rows(scores, as_of), names, language, get_setting(store, "currency"))
    past = _PastTasks(store)
    assign = _Assigner(store)
    for playbook in chosen:
        report.playbooks[playbook.name] = counts = {"matched": 0, "created": 0, "open": 0, "seen": 0, "cooling": 0}
        for hit in _matches(playbook, data).to_dict("records"):
            counts["matched"] += 1
            skip = past.skip(playbook, hit["account_id"], hit["occurrence"], now)
            if skip:
                counts[skip] += 1
                continue
            new = _new_tasks(playbook, hit, data, assign, now)
            past.add(playbook.name, hit["account_id"], hit["occurrence"], now)
            if playbook.task.notify:
                report.notify[len(report.tasks)] = set(playbook.task.notify)
            report.tasks += new
            counts["created"] += len(new)
    if not dry_run:
        with store.transaction():
            task_store.wake(store, now)
            ids = task_store.create(store, report.tasks, now)
            report.notifications = _notify(store, report, ids)
            store.execute("INSERT INTO playbook_runs (run_id, started_at, finished_at, as_of, dry_run, started_by, "
                          "report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (report.run_id, now, task_store.utcnow(), as_of, False, started_by,
                           json.dumps(report.playbooks, sort_keys=True)))
    return report


def _now_rows(scores: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    if scores.empty:
        columns = ["account_id", *FIELDS, "created_at", "attributes", "rounded"]
        return pd.DataFrame(columns=columns).set_index("account_id")
    return scores[scores["as_of"] == as_of].set_index("account_id")


def _matches(playbook: Playbook, data: RunData) -> pd.DataFrame:
    """The trigger's hits on customers at T that meet the conditions, with the signals the
    conditions read added to the facts."""
    found = playbook.trigger.find(data)
    found = found[found["account_id"].isin(data.now.index)]
    if found.empty:
        return found
    rows = data.now.loc[found["account_id"]].reset_index()
    keep = pd.Series(True, index=rows.index)
    for condition in playbook.when:
        keep &= condition.mask(rows)
    found = found.reset_index(drop=True)[keep.to_numpy()]
    rows = rows[keep.to_numpy()]
    read = [c.field for c in playbook.when]
    found["seen"] = [{"score": int(r["rounded"]), "band": r["band"], **{f: plain(r.get(f)) for f in read}}
                     for r in rows.to_dict("records")]
    found["account"] = [data.names.get(a, a) for a in found["account_id"]]
    return found


class _PastTasks:
    """The tasks playbooks made before (and in this run): what blocks a new one."""

    def __init__(self, store: Store):
        self.open: set[tuple[str, str]] = set()
        self.seen: set[tuple[str, str, str]] = set()
        self.last: dict[tuple[str, str], dt.datetime] = {}
        for playbook, account, occurrence, status, created in store.fetchall(
                "SELECT playbook, account_id, occurrence, status, created_at FROM tasks WHERE playbook IS NOT NULL"):
            self.add(playbook, account, occurrence, created, status in task_store.OPEN)

    def add(self, playbook: str, account: str, occurrence: str, created: dt.datetime, is_open: bool = True) -> None:
        if is_open:
            self.open.add((playbook, account))
        self.seen.add((playbook, account, occurrence))
        self.last[(playbook, account)] = max(created, self.last.get((playbook, account), created))

    def skip(self, playbook: Playbook, account: str, occurrence: str, now: dt.datetime) -> str | None:
        if (playbook.name, account) in self.open:
            return "open"
        if (playbook.name, account, occurrence) in self.seen:
            return "seen"
        last = self.last.get((playbook.name, account))
        if last is not None and now - last < dt.timedelta(days=playbook.cooldown_days):
            return "cooling"
        return None


class _Assigner:
    """Who gets a task: the account's CSM, or the active person of a role with the fewest open
    tasks (counting those assigned in this run), or a named CSM."""

    def __init__(self, store: Store):
        self.csms = {c: (role, bool(active), email) for c, role, active, email in
                     store.fetchall("SELECT csm_id, role, active, email FROM csms")}
        self.account_csm = dict(store.fetchall("SELECT account_id, csm_id FROM accounts"))
        self.load = {c: 0 for c in self.csms}
        for csm, n in store.fetchall("SELECT assignee_csm_id, count(*) FROM tasks WHERE status IN ('open', 'snoozed') "
                                     "AND assignee_csm_id IS NOT NULL GROUP BY assignee_csm_id"):
            self.load[csm] = n

    def __call__(self, spec: TaskSpec, account_id: str) -> str | None:
        for rule in (spec.assignee, spec.otherwise):
            csm = self._resolve(rule, account_id)
            if csm is not None:
                self.load[csm] = self.load.get(csm, 0) + 1
                return csm
        return None

    def _resolve(self, rule: str, account_id: str) -> str | None:
        if rule == "csm":
            csm = self.account_csm.get(account_id)
            return csm if csm in self.csms and self.csms[csm][1] else None
        if rule.startswith("csm_id:"):
            csm = rule.removeprefix("csm_id:")
            return csm if csm in self.csms and self.csms[csm][1] else None
        if rule.startswith("role:"):
            people = [c for c, (role, active, _) in self.csms.items() if active and role == rule.removeprefix("role:")]
            return min(people, key=lambda c: (self.load.get(c, 0), c)) if people else None
        return None

    def email(self, csm_id: str | None) -> str | None:
        return self.csms.get(csm_id, (None, None, None))[2] if csm_id else None


def _new_tasks(playbook: Playbook, hit: dict, data: RunData, assign: _Assigner, now: dt.datetime) -> list:
    spec = playbook.task
    facts = {**hit["facts"], "account": hit["account"]}
    title = spec.title_in(data.language).format_map(_Blanks(_shown(facts, data)))
    assignee = assign(spec, hit["account_id"])
    why = {"playbook": playbook.name, "description": playbook.description,
           "trigger": playbook.trigger.model_dump(mode="json"), "when": [c.describe() for c in playbook.when],
           "as_of": data.as_of.isoformat(), "occurrence": hit["occurrence"], "facts": hit["facts"],
           "seen": hit["seen"]}
    steps = spec.repeat.times if spec.repeat else 1
    return [task_store.NewTask(hit["account_id"], title if steps == 1 else f"{title} ({i + 1}/{steps})", spec.kind,
                               spec.due(now, i), assignee, "playbook", playbook.name,
                               hit["occurrence"] if i == 0 else f"{hit['occurrence']} #{i + 1}", why)
            for i in range(steps)]


class _Blanks(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _shown(facts: dict, data: RunData) -> dict:
    """Facts as a title shows them: money in the workspace's currency, dates in its language."""
    from babel.dates import format_date

    from sucesso.formatting import babel_locale, format_value

    shown = dict(facts)
    if "amount" in facts:
        shown["amount"] = format_value(facts["amount"], "money", data.language, data.currency)
    if "date" in facts:
        shown["date"] = format_date(dt.date.fromisoformat(facts["date"]), "short", locale=babel_locale(data.language))
    return shown


def _notify(store: Store, report: RunReport, ids: list[str]) -> int:
    """Queue the notifications the playbooks ask for (one per series); how many."""
    from sucesso.operations import notify

    emails = dict(store.fetchall("SELECT csm_id, email FROM csms"))
    queued = 0
    for index, channels in report.notify.items():
        task, task_id = report.tasks[index], ids[index]
        body = {"task_id": task_id, "account_id": task.account_id, "title": task.title, "kind": task.kind,
                "playbook": task.playbook, "due_at": task.due_at.isoformat() if task.due_at else None,
                "assignee_csm_id": task.assignee_csm_id, "why": task.why,
                "text": f"{task.title}\n\n{task.why.get('description', '')}"}
        to = [emails.get(task.assignee_csm_id)] if "email" in channels else []
        queued += len(notify.queue(store, "task.created", task.title, body, [e for e in to if e],
                                   webhooks="webhook" in channels))
    return queued


def last_runs(store: Store, limit: int = 10) -> list[dict]:
    rows, columns = store.fetchall_with_columns(
        f"SELECT run_id, started_at, finished_at, as_of, started_by, report FROM playbook_runs "
        f"ORDER BY started_at DESC LIMIT {int(limit)}")
    return [{**dict(zip(columns, r, strict=True)), "report": json.loads(r[-1]) if r[-1] else {}} for r in rows]
