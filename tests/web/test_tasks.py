"""Tasks in the web app and the API, on the demo (whose playbooks ran when it was made): who
sees and changes what, the forms, the JSON, running the playbooks and the server's schedule."""

from __future__ import annotations

import re
import shutil

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sucesso.store import open_store
from sucesso.web import users
from sucesso.web.app import create_app
from sucesso.web.schedule import Schedule

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def app(demo_url, tmp_path_factory):
    url = str(tmp_path_factory.mktemp("tasks") / "demo.duckdb")
    shutil.copy(demo_url, url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with open_store(url) as store:
            csm = store.fetchall("SELECT assignee_csm_id FROM tasks WHERE assignee_csm_id IS NOT NULL "
                                 "GROUP BY assignee_csm_id ORDER BY count(*) DESC LIMIT 1")[0][0]
            for role in ("admin", "manager", "csm", "viewer"):
                users.create_user(store, f"{role}@example.com", role, PASSWORD, csm_id=csm if role == "csm" else None)
        yield create_app(url, precompute_in_background=False)


def client_as(app, role: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    return client


def csrf(client: TestClient, path: str = "/tasks") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_a_csm_sees_their_own_tasks_first_and_everyone_on_request(app):
    csm = client_as(app, "csm")
    mine = csm.get("/api/tasks").json()
    me = app.state.workspace.run(lambda store: users.user_by_email(store, "csm@example.com").csm_id)
    assert mine["assignee"] == me and mine["tasks"]
    assert {t["assignee_csm_id"] for t in mine["tasks"]} == {me}
    everyone = csm.get("/api/tasks?assignee=all").json()
    assert everyone["total"] > mine["total"] and everyone["pages"] == -(-everyone["total"] // 50)
    last = csm.get(f"/api/tasks?assignee=all&page={everyone['pages']}").json()
    assert len(last["tasks"]) == everyone["total"] - 50 * (everyone["pages"] - 1)
    everyone = everyone["tasks"]
    assert all(t["why"]["playbook"] == t["playbook"] for t in everyone)
    assert all(t["why_words"][0].startswith("Playbook ") for t in everyone)
    page = csm.get("/tasks").text
    assert mine["tasks"][0]["title"] in page and "Por que esta tarefa foi criada?" in page  # the workspace speaks pt_BR


def test_changing_tasks_by_form_and_api_with_the_roles_rules(app):
    csm, viewer, manager = client_as(app, "csm"), client_as(app, "viewer"), client_as(app, "manager")
    me = app.state.workspace.run(lambda store: users.user_by_email(store, "csm@example.com").csm_id)
    mine = csm.get("/api/tasks").json()["tasks"]
    others = [t for t in csm.get("/api/tasks?assignee=all").json()["tasks"]
              if t["assignee_csm_id"] != me and not t["editable"]]
    # a form without its CSRF token is refused; with it, the task is done and recorded as a CS activity
    assert csm.post("/tasks/complete", data={"task_id": mine[0]["task_id"]}).status_code == 403
    r = csm.post("/tasks/complete", data={"task_id": mine[0]["task_id"], "csrf_token": csrf(csm), "next": "/tasks"})
    assert r.status_code == 303 and r.headers["location"] == "/tasks"
    done = app.state.workspace.run(lambda s: s.fetchall(
        "SELECT kind FROM cs_activities WHERE activity_id = ?", (f"task:{mine[0]['task_id']}",)))
    assert done == [(mine[0]["kind"],)]
    # a viewer changes nothing; a csm not another CSM's task on another CSM's account
    assert viewer.post("/tasks/complete", data={"task_id": mine[1]["task_id"],
                                                "csrf_token": csrf(viewer)}).status_code == 403
    if others:
        assert csm.post("/tasks/complete", data={"task_id": others[0]["task_id"],
                                                 "csrf_token": csrf(csm)}).status_code == 403
    # the API: snooze, reassign (the manager), complete twice → 409, unknown → 404
    headers = {"X-CSRF-Token": csrf(csm)}
    snoozed = csm.post("/api/tasks/snooze", json={"task_id": mine[1]["task_id"], "days": 3}, headers=headers).json()
    assert snoozed["status"] == "snoozed"
    other_csm = app.state.workspace.run(lambda s: s.fetchall(
        "SELECT csm_id FROM csms WHERE active AND csm_id <> ? ORDER BY csm_id LIMIT 1", (me,)))[0][0]
    moved = manager.post("/api/tasks/reassign", json={"task_id": mine[1]["task_id"], "csm_id": other_csm},
                         headers={"X-CSRF-Token": csrf(manager)})
    assert moved.status_code == 200 and moved.json()["assignee_csm_id"] == other_csm
    again = csm.post("/api/tasks/complete", json={"task_id": mine[0]["task_id"]}, headers=headers)
    assert again.status_code == 409 and "done already" in again.json()["detail"]
    assert csm.post("/api/tasks/complete", json={"task_id": "nope"}, headers=headers).status_code == 404
    assert csm.post("/api/tasks/fly", json={"task_id": mine[2]["task_id"]}, headers=headers).status_code == 404


def test_adding_a_task_and_the_account_360(app):
    manager = client_as(app, "manager")
    account = manager.get("/api/accounts").json()["accounts"][0]["account_id"]
    r = manager.post("/api/tasks", json={"account_id": account, "title": "Send the renewal proposal",
                                         "kind": "follow_up", "due_at": "2026-12-01T12:00:00"},
                     headers={"X-CSRF-Token": csrf(manager)})
    assert r.status_code == 200 and r.json()["created_by"] == "manager@example.com"
    data = manager.get(f"/api/accounts/{account}").json()
    assert "Send the renewal proposal" in [t["title"] for t in data["tasks"]]
    assert "Send the renewal proposal" in manager.get(f"/accounts/{account}").text
    viewer = client_as(app, "viewer")
    assert viewer.post("/api/tasks", json={"account_id": account, "title": "x"},
                       headers={"X-CSRF-Token": csrf(viewer)}).status_code == 403


def test_running_the_playbooks_and_the_schedule(app):
    manager, csm = client_as(app, "manager"), client_as(app, "csm")
    assert csm.post("/api/playbooks/run", headers={"X-CSRF-Token": csrf(csm)}).status_code == 403
    dry = manager.post("/api/playbooks/run?dry_run=true", headers={"X-CSRF-Token": csrf(manager)}).json()
    assert dry["dry_run"] is True and dry["created"] == 0  # the demo's run made them all already
    runs_before = len(manager.get("/api/playbooks").json()["runs"])
    schedule = Schedule(app.state.workspace)
    first = schedule.tick(clock=1000.0)
    assert first["playbooks"] == 0 and first["notifications"] == {"sent": 0, "retrying": 0, "failed": 0}
    assert "playbooks" not in schedule.tick(clock=1000.0 + 59 * 60)  # not yet an hour
    assert "playbooks" in schedule.tick(clock=1000.0 + 60 * 60)
    runs = manager.get("/api/playbooks").json()["runs"]
    assert len(runs) == runs_before + 2 and runs[0]["started_by"] == "schedule"
