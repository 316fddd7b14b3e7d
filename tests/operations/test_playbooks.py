"""Playbooks and tasks on small hand-built workspaces (both engines): which tasks each default
playbook creates, for whom, and that nothing is created twice."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sucesso.i18n import gettext_for
from sucesso.operations import playbooks, tasks
from sucesso.operations.playbooks import PlaybookFileError, load_playbooks, run
from sucesso.operations.triggers import HealthDropped, HealthEnteredBand, RunData, Signals, why_words

T = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 9, 0)
NOT_HEALTH = ["nps_detractor", "onboarding_stalled", "high_touch_silence", "invoice_overdue", "churn_rescue",
              "intensive_care", "renewal_review"]


@pytest.fixture
def company(store, fill):
    fill(store,
         csms=[{"csm_id": "c1", "name": "Ana", "email": "ana@example.com", "role": "csm", "active": True},
               {"csm_id": "c2", "name": "Bia", "email": "bia@example.com", "role": "csm", "active": True},
               {"csm_id": "i1", "name": "Caio", "email": "caio@example.com", "role": "ism", "active": True},
               {"csm_id": "f1", "name": "Dora", "email": "dora@example.com", "role": "farmer", "active": True}],
         accounts=[
             {"account_id": "A", "name": "Alfa", "touch_model": "high", "csm_id": "c1", "created_at": "2023-01-01"},
             {"account_id": "B", "name": "Beta", "touch_model": "low", "csm_id": "c1", "created_at": "2025-03-15"},
             {"account_id": "C", "name": "Gama", "touch_model": "tech", "created_at": "2022-01-01"},
             {"account_id": "D", "name": "Delta", "touch_model": "low", "csm_id": "c2", "created_at": "2024-01-01"},
             {"account_id": "E", "name": "Épsilon", "touch_model": "low", "csm_id": "c2", "created_at": "2024-01-01"},
             {"account_id": "X", "name": "Ex-cliente", "touch_model": "high", "csm_id": "c1",
              "created_at": "2022-01-01"}],
         subscriptions=[
             {"account_id": "A", "mrr": 1000, "started_at": "2023-01-15"},
             {"account_id": "B", "mrr": 100, "started_at": "2025-03-20"},
             {"account_id": "C", "mrr": 50, "started_at": "2022-02-01"},
             {"account_id": "D", "mrr": 500, "started_at": "2024-07-20"},
             {"account_id": "E", "mrr": 300, "started_at": "2024-01-10"},
             {"account_id": "X", "mrr": 900, "started_at": "2022-01-10", "ended_at": "2025-01-10"}],
         survey_responses=[
             {"response_id": "r1", "account_id": "A", "survey": "nps", "score": 3, "answered_at": "2025-05-30",
              "comment": "slow"},
             {"response_id": "r2", "account_id": "A", "survey": "nps", "score": 9, "answered_at": "2025-05-31"},
             {"response_id": "r3", "account_id": "D", "survey": "nps", "score": 2, "answered_at": "2025-04-01"},
             {"response_id": "r4", "account_id": "X", "survey": "nps", "score": 0, "answered_at": "2025-05-30"}],
         cs_activities=[
             {"account_id": "B", "csm_id": "c1", "kind": "onboarding", "occurred_at": "2025-05-20"},
             {"account_id": "D", "csm_id": "c2", "kind": "proactive_call", "occurred_at": "2025-05-20"},
             {"account_id": "E", "csm_id": "c2", "kind": "proactive_call", "occurred_at": "2025-05-20"}],
         invoices=[
             {"invoice_id": "inv1", "account_id": "C", "issued_at": "2025-05-01", "due_at": "2025-05-10",
              "amount": 150, "status": "open"},
             {"invoice_id": "inv2", "account_id": "C", "issued_at": "2025-05-01", "due_at": "2025-05-30",
              "amount": 150, "status": "open"},  # 2 days late: within the grace
             {"invoice_id": "inv3", "account_id": "D", "issued_at": "2025-04-01", "due_at": "2025-04-10",
              "paid_at": "2025-05-02", "amount": 500, "status": "paid"}],
         churn_requests=[
             {"request_id": "q1", "account_id": "D", "requested_at": "2025-05-28", "reason_code": "price",
              "voluntary": True, "outcome": "pending"},
             {"request_id": "q2", "account_id": "E", "requested_at": "2025-05-10", "reason_code": "budget_cut",
              "voluntary": True, "outcome": "recovered", "decided_at": "2025-05-20"}],
         milestones=[{"account_id": "A", "milestone": "activated", "reached_at": "2023-02-01"}])
    return store


def by_playbook(report) -> dict[str, list]:
    found: dict[str, list] = {}
    for t in report.tasks:
        found.setdefault(t.playbook, []).append(t)
    return found


def test_the_default_playbooks_fire_on_what_happened(company):
    report = run(company, T, only=NOT_HEALTH, now=NOW, dry_run=True)
    got = by_playbook(report)
    # the detractor answer of A (3, two days ago) — not the promoter, not D's old one, not X (no longer a customer)
    assert [(t.account_id, t.occurrence, t.assignee_csm_id) for t in got["nps_detractor"]] == [
        ("A", "nps answer r1", "c1")]
    assert got["nps_detractor"][0].due_at == NOW + dt.timedelta(hours=48)
    assert got["nps_detractor"][0].title == "Retornar a resposta NPS 3 de Alfa"  # the workspace speaks pt_BR
    # B signed up 78 days ago and is not activated: the implementation manager calls
    assert [(t.account_id, t.assignee_csm_id) for t in got["onboarding_stalled"]] == [("B", "i1")]
    assert got["onboarding_stalled"][0].why["facts"]["days"] == 78
    # A is high touch with no CS activity ever (since 2023-01-01): a success review
    assert [t.account_id for t in got["high_touch_silence"]] == ["A"]
    # C's invoice inv1 is 22 days late (inv2 is within the 3-day grace, D's was paid); C has no CSM:
    # the csm with fewer open tasks (Bia: 0; Ana got 2 above) takes it
    overdue = got["invoice_overdue"]
    assert [(t.account_id, t.occurrence, t.assignee_csm_id) for t in overdue] == [("C", "invoice inv1", "c2")]
    assert overdue[0].why["facts"]["days"] == 22
    assert "R$" in overdue[0].title and "150" in overdue[0].title
    # D asked to cancel 4 days ago: a rescue call within 24 h; E was rescued 12 days ago: 4 weekly check-ins
    assert [(t.account_id, t.due_at) for t in got["churn_rescue"]] == [("D", NOW + dt.timedelta(hours=24))]
    care = got["intensive_care"]
    assert [t.due_at for t in care] == [NOW + dt.timedelta(days=7 * k) for k in (1, 2, 3, 4)]
    assert [t.title[-5:] for t in care] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    # D (low touch) renews on 2025-07-20, the anniversary of its first paid day: in 49 days
    assert [(t.account_id, t.why["facts"]["date"]) for t in got["renewal_review"]] == [("D", "2025-07-20")]
    assert report.playbooks["nps_detractor"] == {"matched": 1, "created": 1, "open": 0, "seen": 0, "cooling": 0}
    assert company.count("tasks") == 0  # a dry run writes nothing


def test_nothing_is_created_twice(company):
    first = run(company, T, only=NOT_HEALTH, now=NOW)
    assert first.created == 10 and company.count("tasks") == 10
    assert company.count("playbook_runs") == 1
    again = run(company, T, only=NOT_HEALTH, now=NOW + dt.timedelta(hours=1))
    assert again.created == 0 and again.playbooks["nps_detractor"]["open"] == 1
    # done: the same answer never makes another task, even when no task is open
    detractor = tasks.task_list(company, tasks.TaskFilter(playbook="nps_detractor"))[0]
    tasks.complete(company, detractor["task_id"], "ana@example.com", "called, fixed the slowness", now=NOW)
    third = run(company, T, only=["nps_detractor"], now=NOW + dt.timedelta(hours=2))
    assert third.created == 0 and third.playbooks["nps_detractor"]["seen"] == 1


def test_completing_a_task_records_the_cs_activity(company):
    run(company, T, only=["high_touch_silence"], now=NOW)
    (task,) = tasks.task_list(company)
    done = tasks.complete(company, task["task_id"], "ana@example.com", "quarterly review held",
                          now=NOW + dt.timedelta(days=1))
    assert done["status"] == "done" and done["updated_by"] == "ana@example.com"
    rows = company.fetchall("SELECT account_id, csm_id, kind, notes FROM cs_activities WHERE activity_id = ?",
                            (f"task:{task['task_id']}",))
    assert rows == [("A", "c1", "success_review", f"{task['title']}\nquarterly review held")]
    # A was touched: the silence playbook no longer sees it (and the old occurrence is spent anyway)
    later = run(company, T + dt.timedelta(days=3), only=["high_touch_silence"], now=NOW + dt.timedelta(days=3))
    assert later.playbooks["high_touch_silence"]["matched"] == 0


def test_snooze_reassign_cancel(company):
    task_id = tasks.add(company, "A", "Send the QBR deck", "follow_up", "ana@example.com",
                        due_at=dt.datetime(2025, 6, 5), now=NOW)
    assert tasks.get(company, task_id)["assignee_csm_id"] == "c1"  # the account's CSM
    tasks.snooze(company, task_id, dt.datetime(2025, 6, 3), "ana@example.com", now=NOW)
    assert tasks.get(company, task_id)["status"] == "snoozed"
    assert [t["task_id"] for t in tasks.task_list(company)] == [task_id]  # still open work
    assert tasks.wake(company, dt.datetime(2025, 6, 3, 0, 1)) == 1
    assert tasks.get(company, task_id)["status"] == "open"
    assert tasks.reassign(company, task_id, "c2", "lead@example.com", now=NOW)["assignee_name"] == "Bia"
    with pytest.raises(tasks.TaskError, match="no CSM 'zz'"):
        tasks.reassign(company, task_id, "zz", "lead@example.com")
    tasks.cancel(company, task_id, "lead@example.com", "customer already has it", now=NOW)
    with pytest.raises(tasks.TaskError, match="cancelled already"):
        tasks.complete(company, task_id, "ana@example.com")
    with pytest.raises(tasks.TaskError, match="no account 'nope'"):
        tasks.add(company, "nope", "x", "follow_up", "ana@example.com")


def test_why_was_it_created_in_both_languages(company):
    run(company, T, only=["invoice_overdue"], now=NOW)
    (task,) = tasks.task_list(company)
    assert task["why"]["facts"]["invoice_id"] == "inv1" and task["why"]["as_of"] == "2025-06-01"
    english = why_words(task["why"], gettext_for("en"))
    assert english[1] == "On 2025-06-01: invoice inv1 was due on 2025-05-10 and is 22 days overdue."
    portuguese = why_words(task["why"], gettext_for("pt_BR"))
    assert "vencida" in portuguese[1] or "venceu" in portuguese[1]


def test_cooldown_and_custom_files(company):
    text = """
playbooks:
  - name: big_accounts
    trigger: {kind: signals, any: [[{field: mrr, op: ">=", value: 500}]]}
    task: {title: "Look at {account}", kind: follow_up, assignee: role:farmer}
    cooldown_days: 60
"""
    custom = load_playbooks(text, "mine.yaml")
    first = run(company, T, playbook_file=custom, now=NOW)
    assert sorted((t.account_id, t.assignee_csm_id) for t in first.tasks) == [("A", "f1"), ("D", "f1")]
    for t in tasks.task_list(company):
        tasks.complete(company, t["task_id"], "dora@example.com", now=NOW)
    next_month = run(company, T + dt.timedelta(days=31), playbook_file=custom, now=NOW + dt.timedelta(days=31))
    assert next_month.created == 0 and next_month.playbooks["big_accounts"]["cooling"] == 2
    later = run(company, T + dt.timedelta(days=61), playbook_file=custom, now=NOW + dt.timedelta(days=61))
    assert later.created == 2


def test_a_bad_playbooks_file_says_where():
    bad = """playbooks:
  - name: x
    trigger: {kind: survey_answer, survey: xyz}
    when:
      - {field: colour, op: "==", value: red}
    task: {title: t, kind: follow_up, assignee: boss}
"""
    with pytest.raises(PlaybookFileError) as err:
        load_playbooks(bad, "mine.yaml")
    text = str(err.value)
    assert "mine.yaml, line 3: playbooks.0.trigger.survey_answer.survey" in text
    assert "mine.yaml, line 5: playbooks.0.when.0.field: unknown field 'colour'" in text
    assert "mine.yaml, line 6: playbooks.0.task.assignee" in text
    assert len(load_playbooks().playbooks) == 10


def _data(rows: list[tuple[str, dt.date, float, str]], **extra) -> RunData:
    scores = pd.DataFrame(rows, columns=["account_id", "as_of", "rounded", "band"])
    for k, v in extra.items():
        scores[k] = v
    now = scores[scores["as_of"] == T].set_index("account_id")
    return RunData(None, T, scores, now, {}, "en", "BRL")


def test_entering_a_band_and_dropping_points():
    day = lambda n: T - dt.timedelta(days=n)  # noqa: E731
    rows = ([("new_red", day(n), 30 if n <= 2 else 50, "red" if n <= 2 else "yellow") for n in range(8)]
            + [("always_red", day(n), 20, "red") for n in range(8)]
            + [("green", day(n), 80, "green") for n in range(8)]
            + [("young_red", day(n), 35, "red") for n in range(3)])  # a customer for 3 days only
    found = HealthEnteredBand(kind="health_entered_band", band="red", lookback_days=7).find(_data(rows))
    assert dict(zip(found["account_id"], found["occurrence"], strict=True)) == {
        "new_red": f"red since {day(2)}", "young_red": f"red since {day(2)}"}
    rows = [("a", T, 40, "red"), ("a", day(30), 61, "yellow"), ("b", T, 60, "yellow"), ("b", day(30), 79, "green")]
    found = HealthDropped(kind="health_dropped", points=20, days=30).find(_data(rows))
    assert list(found["account_id"]) == ["a"] and found["facts"][0]["points"] == 21


def test_signal_groups_and_missing_values():
    rows = [("full", T, 70, "yellow"), ("growing", T, 85, "green"), ("unknown", T, 85, "green")]
    data = _data(rows, seat_utilisation_30d=[0.95, 0.5, None], usage_change_30d=[0.0, 0.3, None])
    trigger = playbooks.load_playbooks().playbooks[-1].trigger
    assert isinstance(trigger, Signals)
    assert sorted(trigger.find(data)["account_id"]) == ["full", "growing"]  # missing signals never match


def test_new_tasks_notify_the_assignee_and_the_webhooks(company):
    from sucesso.operations import notify

    notify.set_smtp(company, "127.0.0.1", 2525, "sucesso@example.com", security="none")
    notify.add_webhook(company, "http://127.0.0.1:9/hook", ["task.created"])
    report = run(company, T, only=["nps_detractor", "high_touch_silence", "intensive_care"], now=NOW)
    rows = company.fetchall("SELECT channel, destination, event, subject FROM notifications ORDER BY channel, subject")
    detractor = next(t for t in report.tasks if t.playbook == "nps_detractor").title
    # nps_detractor: e-mail to Ana and the webhook; high_touch_silence: none; intensive care: none asked
    assert rows == [("email", "ana@example.com", "task.created", detractor),
                    ("webhook", "http://127.0.0.1:9/hook", "task.created", detractor)]
    assert report.notifications == 2
