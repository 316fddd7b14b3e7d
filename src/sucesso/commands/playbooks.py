"""`sucesso playbooks` (run them, list them, the rules file) and `sucesso tasks` (the work they
create: list, add, done, snooze, assign, cancel, why)."""

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
from sucesso.commands.health import AsOfOption, parse_day
from sucesso.formatting import format_value

playbooks_app = typer.Typer(help=help_("Playbooks: the rules that turn signals into tasks for the CS team."),
                            no_args_is_help=True)
tasks_app = typer.Typer(help=help_("Tasks: the CS team's work, from the playbooks or added by hand."),
                        no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(tasks_app, name="tasks")

ByOption = Annotated[str, typer.Option("--by", help=help_("Who does it (recorded on the task)."))]


def read_playbooks(path: str):
    from sucesso.operations.playbooks import load_playbooks

    return read_edited_file(path, load_playbooks)


@playbooks_app.command("run", help=help_("Evaluate the playbooks and create the tasks they call for."))
def run_command(
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help=help_("Show what would be created; write nothing."))] = False,
    only: Annotated[list[str] | None, typer.Option("--only", help=help_("Only this playbook (repeatable)."))] = None,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.playbooks import PlaybookFileError, run

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            report = run(store, parse_day(as_of), dry_run=dry_run, only=only)
        except (PlaybookFileError, ValueError) as exc:
            raise fail(str(exc)) from None
    if as_json:
        print(json.dumps({"run_id": report.run_id, "as_of": report.as_of.isoformat(), "dry_run": dry_run,
                          "playbooks": report.playbooks, "notifications": report.notifications,
                          "tasks": [_new_task_json(t) for t in report.tasks]}, ensure_ascii=False, indent=2))
        return
    table = Table(title=tr("Playbooks as of %(as_of)s", as_of=report.as_of.isoformat())
                  + (tr(" (dry run: nothing written)") if dry_run else ""), title_justify="left")
    for column in ("playbook", "matched", "new tasks", "open task", "done before", "cooling down"):
        table.add_column(tr(column), justify="left" if column == "playbook" else "right")
    for name, c in report.playbooks.items():
        table.add_row(name, *(format_value(c[k], "count", tr.language)
                              for k in ("matched", "created", "open", "seen", "cooling")))
    out.print(table)
    if dry_run:
        for t in report.tasks[:50]:
            out.print(f"• [{t.playbook}] {t.account_id}: {t.title} → {t.assignee_csm_id or tr('unassigned')}")
    out.print(tr("%(created)s tasks created, %(notifications)s notifications queued.",
                 created=format_value(report.created, "count", tr.language),
                 notifications=format_value(report.notifications, "count", tr.language)) if not dry_run else
              tr("%(created)s tasks would be created.", created=format_value(report.created, "count", tr.language)))


def _new_task_json(t) -> dict:
    return {"account_id": t.account_id, "playbook": t.playbook, "title": t.title, "kind": t.kind,
            "assignee_csm_id": t.assignee_csm_id, "due_at": t.due_at.isoformat() if t.due_at else None,
            "occurrence": t.occurrence}


@playbooks_app.command("list", help=help_("The workspace's playbooks and the last runs."))
def list_command(as_json: JsonOption = False, lang: LangOption = None, db: DbOption = None) -> None:
    from sucesso.operations.playbooks import last_runs, workspace_playbooks

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        playbooks, runs = workspace_playbooks(store).playbooks, last_runs(store, 5)
    if as_json:
        print(json.dumps({"playbooks": [p.model_dump(mode="json") for p in playbooks], "runs": runs},
                         ensure_ascii=False, indent=2, default=str))
        return
    table = Table(title_justify="left", title=tr("Playbooks"))
    for column in ("playbook", "trigger", "task", "assignee", "active"):
        table.add_column(tr(column))
    for p in playbooks:
        table.add_row(p.name, p.trigger.kind, p.task.title_in(tr.language), p.task.assignee,
                      tr("yes") if p.active else tr("no"))
    out.print(table)
    for r in runs:
        created = sum(c["created"] for c in r["report"].values())
        out.print(tr("Run of %(started)s (as of %(as_of)s, by %(by)s): %(created)s tasks",
                     started=f"{r['started_at']:%Y-%m-%d %H:%M}", as_of=r["as_of"], by=r["started_by"],
                     created=created))


@playbooks_app.command("file", help=help_("Print the workspace's playbooks file, or adopt FILE (checked first)."))
def file_command(
    path: Annotated[str | None, typer.Argument(help=help_("An edited playbooks file to adopt."))] = None,
    default: Annotated[bool, typer.Option("--default", help=help_("Go back to the shipped default."))] = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.playbooks import adopt_playbooks, load_playbooks, workspace_playbooks

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        if path is None and not default:
            print(workspace_playbooks(store).text)
            return
        chosen = load_playbooks() if default else read_playbooks(path)
        adopt_playbooks(store, chosen)
    out.print(tr("The workspace now uses %(count)s playbooks from %(source)s.", count=len(chosen.playbooks),
                 source=tr("the default") if default else path))


# -- tasks --------------------------------------------------------------------------------------
@tasks_app.command("list", help=help_("Tasks, soonest due first: open ones unless --status says otherwise."))
def tasks_list(
    csm: Annotated[str | None, typer.Option("--csm", help=help_("Assigned to this CSM (csm_id)."))] = None,
    account: Annotated[str | None, typer.Option("--account", help=help_("Of this account."))] = None,
    status: Annotated[str, typer.Option("--status", help=help_("open, done, cancelled or all."))] = "open",
    playbook: Annotated[str | None, typer.Option("--playbook", help=help_("Created by this playbook."))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help=help_("Rows to print (JSON has them all)."))] = 50,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.tasks import TaskFilter, task_list

    if status not in ("open", "done", "cancelled", "all"):
        raise fail("--status is open, done, cancelled or all, got %(status)r", status=status)
    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        rows = task_list(store, TaskFilter(status, csm, account, playbook))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    count = format_value(len(rows), "count", tr.language)
    table = Table(title_justify="left", title=tr("%(count)s tasks", count=count))
    for column in ("task", "due", "account", "title", "assignee", "status"):
        table.add_column(tr(column))
    for t in rows[:limit]:
        due = f"{t['due_at']:%Y-%m-%d %H:%M}" if t["due_at"] else ""
        table.add_row(t["task_id"], f"[red]{due}[/]" if t["overdue"] else due, t["account_name"], t["title"],
                      t["assignee_name"] or tr("unassigned"), tr(t["status"]))
    out.print(table)


@tasks_app.command("add", help=help_("Add a task for an account (assigned to its CSM unless --csm)."))
def tasks_add(
    account: Annotated[str, typer.Argument(help=help_("The account's id."))],
    title: Annotated[str, typer.Argument(help=help_("What to do."))],
    kind: Annotated[str, typer.Option("--kind", help=help_("The CS activity it becomes when done."))] = "follow_up",
    due: Annotated[str | None, typer.Option("--due", help=help_("Due date, YYYY-MM-DD."))] = None,
    csm: Annotated[str | None, typer.Option("--csm", help=help_("Assign to this CSM (csm_id)."))] = None,
    by: ByOption = "cli",
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.tasks import TaskError, add

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        due_day = parse_day(due)
        try:
            task_id = add(store, account, title, kind, by, _midnight(due_day), csm)
        except TaskError as exc:
            raise fail(str(exc)) from None
    out.print(tr("Task %(task_id)s added.", task_id=task_id))


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time()) if day else None


def _change(verb: str, task_id: str, db, lang, **kw) -> None:
    from sucesso.operations import tasks

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            task = getattr(tasks, verb)(store, task_id, **kw)
        except tasks.TaskError as exc:
            raise fail(str(exc)) from None
    out.print(tr("Task %(task_id)s is now %(status)s.", task_id=task_id, status=tr(task["status"]))
              + (f" ({task['assignee_name']})" if verb == "reassign" else ""))


@tasks_app.command("done", help=help_("Complete a task (recorded as a CS activity)."))
def tasks_done(task_id: Annotated[str, typer.Argument(help=help_("The task's id."))],
               notes: Annotated[str | None, typer.Option("--notes", help=help_("What was done."))] = None,
               by: ByOption = "cli", lang: LangOption = None, db: DbOption = None) -> None:
    _change("complete", task_id, db, lang, by=by, notes=notes)


@tasks_app.command("snooze", help=help_("Put a task aside until a date (--until) or for some days (--days)."))
def tasks_snooze(task_id: Annotated[str, typer.Argument(help=help_("The task's id."))],
                 until: Annotated[str | None, typer.Option("--until", help=help_("YYYY-MM-DD."))] = None,
                 days: Annotated[int | None, typer.Option("--days", min=1, help=help_("Days from now."))] = None,
                 by: ByOption = "cli", lang: LangOption = None, db: DbOption = None) -> None:
    from sucesso.operations.tasks import utcnow

    if (until is None) == (days is None):
        raise fail("say --until DATE or --days N")
    moment = _midnight(parse_day(until)) if until else utcnow() + dt.timedelta(days=days)
    _change("snooze", task_id, db, lang, until=moment, by=by)


@tasks_app.command("assign", help=help_("Give a task to another CSM."))
def tasks_assign(task_id: Annotated[str, typer.Argument(help=help_("The task's id."))],
                 csm: Annotated[str, typer.Argument(help=help_("The CSM's id."))],
                 by: ByOption = "cli", lang: LangOption = None, db: DbOption = None) -> None:
    _change("reassign", task_id, db, lang, csm_id=csm, by=by)


@tasks_app.command("cancel", help=help_("Cancel a task that no longer needs doing."))
def tasks_cancel(task_id: Annotated[str, typer.Argument(help=help_("The task's id."))],
                 notes: Annotated[str | None, typer.Option("--notes", help=help_("Why."))] = None,
                 by: ByOption = "cli", lang: LangOption = None, db: DbOption = None) -> None:
    _change("cancel", task_id, db, lang, by=by, notes=notes)


@tasks_app.command("why", help=help_("Why a task was created: the playbook, what fired and the data it saw."))
def tasks_why(task_id: Annotated[str, typer.Argument(help=help_("The task's id."))],
              as_json: JsonOption = False, lang: LangOption = None, db: DbOption = None) -> None:
    from sucesso.operations.tasks import TaskError, get
    from sucesso.operations.triggers import why_words

    with workspace(db) as store:
        tr = cli_gettext(store, lang)
        try:
            task = get(store, task_id)
        except TaskError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(task["why"], ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{task['title']}[/] — {task['account_name']}")
    for sentence in why_words(task["why"], tr):
        out.print(f"• {sentence}")
