"""The CS operation on the demo company's real data: the demo ran the default playbooks, and
they fired for what the data holds — a task per playbook that has something to act on."""

from __future__ import annotations

from sucesso.operations.playbooks import last_runs, load_playbooks
from sucesso.store import open_store


def test_the_demo_s_playbooks_fired_on_its_data(demo_url):
    with open_store(demo_url) as store:
        (run,) = last_runs(store)
        created = dict(store.fetchall("SELECT playbook, count(*) FROM tasks GROUP BY playbook"))
        unassigned = store.fetchall("SELECT count(*) FROM tasks WHERE assignee_csm_id IS NULL")[0][0]
    assert run["started_by"] == "demo"
    assert {name: c["created"] for name, c in run["report"].items() if c["created"]} == created
    names = {p.name for p in load_playbooks().playbooks}
    # the demo has red and falling health, detractors, stalled onboardings, quiet high-touch
    # accounts, overdue invoices, churn requests, renewals and full seats: most playbooks fire
    assert len(set(created) & names) >= 7, created
    assert unassigned == 0
