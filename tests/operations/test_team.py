"""Team sizing on a small hand-built company (both engines): the headcount each role needs from
the ratios, against the active people; each CSM's load and who is over capacity; the ratios
file (defaults, partial files, every mistake with its line); the command and the page.

The company on 2025-06-01 (T):
    H1, H2, H3  high touch, CSM c1, MRR 10,000 + 20,000 + 30,000
    T1, T2      tech touch, no CSM (pooled), MRR 100 + 200
    L1          low touch, CSM c2, created 2025-04-01, not activated: in onboarding, MRR 500
    L2          no touch model (sized as low), CSM c2, created 2025-05-01, activated, MRR 300
    X           high touch, CSM c1, churned in January: not a customer
    N           low touch, created 2025-05-15, never paid: not a customer
People: c1, c2 csm; c3 csm inactive; i1 ism; f1 farmer; m1 manager; s1 support.
Ratios: high 1 per 2 accounts (no MRR rule), low 1 per 4, tech 1 per 1,000, ism 1 per 15,
farmer 1 per 10, manager 1 per 8.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.cli import app as cli
from sucesso.operations.team import (
    DEFAULT_RATIOS,
    RatiosError,
    adopt_ratios,
    load_ratios,
    ratios_text,
    team_report,
    workspace_ratios,
)
from sucesso.store import open_store

T = dt.date(2025, 6, 1)
SMALL = """\
csm:
  high:
    accounts: 2
    mrr: null
  low:
    accounts: 4
farmer:
  accounts: 10
"""


def company(store, fill) -> None:
    fill(store,
         csms=[{"csm_id": "c1", "name": "Ana", "role": "csm", "active": True},
               {"csm_id": "c2", "name": "Bia", "role": "csm", "active": True},
               {"csm_id": "c3", "name": "Caio", "role": "csm", "active": False},
               {"csm_id": "i1", "name": "Dora", "role": "ism", "active": True},
               {"csm_id": "f1", "name": "Edu", "role": "farmer", "active": True},
               {"csm_id": "m1", "name": "Fabi", "role": "manager", "active": True},
               {"csm_id": "s1", "name": "Gil", "role": "support", "active": True}],
         accounts=[
             *[{"account_id": f"H{i}", "name": f"High {i}", "touch_model": "high", "csm_id": "c1",
                "created_at": "2023-01-01"} for i in (1, 2, 3)],
             *[{"account_id": f"T{i}", "name": f"Tech {i}", "touch_model": "tech", "created_at": "2024-01-01"}
               for i in (1, 2)],
             {"account_id": "L1", "name": "Low 1", "touch_model": "low", "csm_id": "c2", "created_at": "2025-04-01"},
             {"account_id": "L2", "name": "Low 2", "csm_id": "c2", "created_at": "2025-05-01"},
             {"account_id": "X", "name": "Gone", "touch_model": "high", "csm_id": "c1", "created_at": "2022-01-01"},
             {"account_id": "N", "name": "New", "touch_model": "low", "created_at": "2025-05-15"}],
         subscriptions=[
             {"account_id": "H1", "mrr": 10_000, "started_at": "2023-01-01"},
             {"account_id": "H2", "mrr": 20_000, "started_at": "2023-01-01"},
             {"account_id": "H3", "mrr": 30_000, "started_at": "2023-01-01"},
             {"account_id": "T1", "mrr": 100, "started_at": "2024-01-01"},
             {"account_id": "T2", "mrr": 200, "started_at": "2024-01-01"},
             {"account_id": "L1", "mrr": 500, "started_at": "2025-04-01"},
             {"account_id": "L2", "mrr": 300, "started_at": "2025-05-01"},
             {"account_id": "X", "mrr": 900, "started_at": "2022-01-01", "ended_at": "2025-01-01"}],
         milestones=[{"account_id": "L2", "milestone": "activated", "reached_at": "2025-05-10"},
                     {"account_id": "L1", "milestone": "first_value", "reached_at": "2025-05-10"}],
         # the data ends on 2025-05-31, so the day the web app and `sucesso team` look at is T
         invoices=[{"invoice_id": "i1", "account_id": "H1", "issued_at": "2025-05-31", "amount": 10_000,
                    "status": "paid", "paid_at": "2025-05-31"}])


def by_role(report: dict) -> dict:
    return {(line["role"], line["touch_model"]): line for line in report["needed"]}


def test_headcount_needed_per_role_and_touch_model(store, fill):
    company(store, fill)
    report = team_report(store, T, load_ratios(SMALL))
    lines = by_role(report)
    high, low, tech = lines["csm", "high"], lines["csm", "low"], lines["csm", "tech"]
    assert (high["accounts"], high["mrr"], high["fte"], high["needed"]) == (3, 60_000.0, 1.5, 2)  # 3 / 2
    assert (low["accounts"], low["mrr"], low["fte"], low["needed"]) == (2, 800.0, 0.5, 1)  # L1 + L2 (no model: low)
    assert (tech["accounts"], tech["fte"], tech["needed"]) == (2, 0.002, 1)
    csms = lines["csm", None]  # one CSM may carry a mix: ⌈1.5 + 0.5 + 0.002⌉ = 3, against 2 active
    assert (csms["accounts"], csms["mrr"], csms["needed"], csms["current"], csms["gap"]) == (7, 61_100.0, 3, 2, -1)
    ism = lines["ism", None]  # L1 only: L2 is activated, N never paid, the others are older than 90 days
    assert (ism["accounts"], ism["mrr"], ism["needed"], ism["current"], ism["gap"]) == (1, 500.0, 1, 1, 0)
    farmer = lines["farmer", None]  # high + low touch: 5 / 10
    assert (farmer["accounts"], farmer["fte"], farmer["needed"], farmer["current"]) == (5, 0.5, 1, 1)
    manager = lines["manager", None]  # (3 + 1 + 1) / 8
    assert (manager["people"], manager["fte"], manager["needed"], manager["current"]) == (5, 0.625, 1, 1)
    assert lines["support", None]["needed"] is None and lines["support", None]["current"] == 1
    assert report["unassigned"] == {"accounts": 2, "mrr": 300.0}


def test_the_mrr_rule_applies_when_it_needs_more_csms(store, fill):
    company(store, fill)
    ratios = load_ratios("csm:\n  high:\n    accounts: 2\n    mrr: 25000\n")
    lines = by_role(team_report(store, T, ratios))
    assert lines["csm", "high"]["fte"] == 2.4 and lines["csm", "high"]["needed"] == 3  # 60,000 / 25,000 > 3 / 2
    assert team_report(store, T, ratios)["load"][0]["load"] == 2.4


def test_each_csms_load_and_who_is_over_capacity(store, fill):
    company(store, fill)
    report = team_report(store, T, load_ratios(SMALL))
    loads = {r["csm_id"]: r for r in report["load"]}
    assert [r["csm_id"] for r in report["load"]] == ["c1", "c2"]  # the heaviest first; c3 is inactive, owns none
    c1, c2 = loads["c1"], loads["c2"]
    assert (c1["accounts_high"], c1["mrr_high"], c1["accounts"], c1["load"], c1["over_capacity"]) == (
        3, 60_000.0, 3, 1.5, True)  # 3 high-touch accounts at 2 per CSM; X churned
    assert (c2["accounts_low"], c2["mrr_low"], c2["load"], c2["over_capacity"]) == (2, 800.0, 0.5, False)
    assert [r["csm_id"] for r in report["over_capacity"]] == ["c1"]


def test_a_full_portfolio_is_not_over_capacity(store, fill):
    company(store, fill)
    ratios = load_ratios("csm:\n  high:\n    accounts: 3\n    mrr: null\n")
    c1 = team_report(store, T, ratios)["load"][0]
    assert c1["load"] == 1.0 and not c1["over_capacity"]


def test_default_ratios_are_documented_and_partial_files_keep_them():
    defaults = load_ratios()
    assert (defaults.csm.high.accounts, defaults.csm.high.mrr, defaults.csm.low.accounts,
            defaults.csm.tech.accounts) == (25, 250_000, 150, 1_000)
    assert (defaults.ism.accounts, defaults.ism.days, defaults.farmer.accounts, defaults.manager.reports,
            defaults.no_touch_model) == (15, 90, 100, 8, "low")
    assert "whichever needs more" in DEFAULT_RATIOS
    small = load_ratios(SMALL)
    assert (small.csm.high.accounts, small.csm.high.mrr, small.csm.low.accounts, small.csm.low.mrr) == (
        2, None, 4, None)
    assert (small.csm.tech.accounts, small.ism.accounts, small.farmer.accounts) == (1_000, 15, 10)
    as_json = load_ratios('{"csm": {"high": {"accounts": 30}}}', "ratios.json")
    assert (as_json.csm.high.accounts, as_json.csm.high.mrr) == (30, 250_000)


def test_every_mistake_of_a_ratios_file_is_reported_with_its_line():
    text = "csm:\n  high:\n    accounts: 0\n  medium:\n    accounts: 3\nism:\n  days: soon\nno_touch_model: mid\n"
    with pytest.raises(RatiosError) as caught:
        load_ratios(text, "ratios.yaml")
    problems = str(caught.value).splitlines()
    assert problems[0] == "ratios.yaml, line 3: csm.high.accounts: Input should be greater than 0 (got 0)"
    assert problems[1].startswith("ratios.yaml, line 4: csm.medium: Extra inputs are not permitted")
    assert problems[2].startswith("ratios.yaml, line 7: ism.days: Input should be a valid integer") \
        and problems[2].endswith("(got 'soon')")
    assert problems[3] == "ratios.yaml, line 8: no_touch_model: Input should be 'high', 'low' or 'tech' (got 'mid')"
    with pytest.raises(RatiosError, match="ratios.yaml, line 1: a ratios file is a mapping"):
        load_ratios("- 25\n", "ratios.yaml")


def test_ratios_are_kept_in_the_workspace(store):
    assert ratios_text(store) == DEFAULT_RATIOS
    adopt_ratios(store, SMALL)
    assert ratios_text(store) == SMALL and workspace_ratios(store).csm.high.accounts == 2
    with pytest.raises(RatiosError):
        adopt_ratios(store, "csm: 3\n")
    assert ratios_text(store) == SMALL  # a bad file changes nothing
    adopt_ratios(store, None)
    assert ratios_text(store) == DEFAULT_RATIOS


def test_the_command_prints_and_adopts(duckdb_url, fill, tmp_path):
    runner = CliRunner()
    with open_store(duckdb_url) as store:
        company(store, fill)
    path = tmp_path / "ratios.yaml"
    path.write_text(SMALL, encoding="utf-8")
    adopted = runner.invoke(cli, ["team", "ratios", str(path), "--db", duckdb_url])
    assert adopted.exit_code == 0 and "team ratios adopted" in adopted.output
    report = json.loads(runner.invoke(cli, ["team", "--json", "--as-of", "2025-06-01", "--db", duckdb_url]).output)
    assert by_role(report)["csm", None]["needed"] == 3 and report["over_capacity"][0]["csm_id"] == "c1"
    shown = runner.invoke(cli, ["team", "--as-of", "2025-06-01", "--db", duckdb_url])
    assert shown.exit_code == 0
    assert "150.0%" in shown.output and "1 CSMs over capacity" in shown.output and "Ana" in shown.output
    assert runner.invoke(cli, ["team", "ratios", "--db", duckdb_url]).output == SMALL
    path.write_text("farmer:\n  accounts: -1\n", encoding="utf-8")
    refused = runner.invoke(cli, ["team", "ratios", str(path), "--db", duckdb_url])
    assert refused.exit_code == 2 and "line 2: farmer.accounts" in " ".join(refused.output.split())
    back = runner.invoke(cli, ["team", "ratios", "--default", "--db", duckdb_url])
    assert back.exit_code == 0 and runner.invoke(cli, ["team", "ratios", "--db", duckdb_url]).output == DEFAULT_RATIOS


def test_the_team_page_and_its_json(duckdb_url, fill):
    from sucesso.web import users
    from sucesso.web.app import create_app

    with open_store(duckdb_url) as store:
        company(store, fill)
        adopt_ratios(store, SMALL)
        users.create_user(store, "viewer@example.com", "viewer", "a long enough password")
    app = create_app(duckdb_url, precompute_in_background=False)
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": "viewer@example.com", "password": "a long enough password",
                                "csrf_token": token})
    data = client.get("/api/team").json()
    assert data["as_of"] == "2025-06-01"
    assert by_role(data)["csm", "high"]["needed"] == 2 and data["load"][0]["load"] == 1.5
    page = client.get("/team")
    assert page.status_code == 200
    assert 'href="/accounts?csm_id=c1"' in page.text and 'id="chart-load"' in page.text
    assert TestClient(app).get("/api/team").status_code == 401
    app.state.workspace.close()
