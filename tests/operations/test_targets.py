"""KPI targets (OKRs): what a person types (periods, values, directions, KPI keys), the status of
a value against a target by hand, and set / list / remove through the store (both engines), the
command line, `sucesso metrics` and the API.

The company: accounts a and b pay 100 each from 2024-01-01; b's subscription ends 2025-03-01, so
in March 2025 MRR falls from 200 to 100 (nrr 0.5, logo churn 0.5). The data ends on 2025-04-01
(an invoice), so the last month of data is 2025-03 for the command line (today 2025-04-15) and
for the web app alike.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.cli import app as cli
from sucesso.metrics.targets import target_for, targets
from sucesso.operations.targets import (
    NoSuchTarget,
    TargetError,
    known_kpi,
    list_targets,
    parse_period,
    parse_value,
    period_label,
    remove_target,
    set_target,
    status_month,
    target_rows,
)
from sucesso.store import open_store, set_setting

D = dt.date
TODAY = D(2025, 4, 15)
PASSWORD = "a long enough password"


def company(store, fill) -> None:
    fill(store, subscriptions=[
        {"account_id": "a", "mrr": 100, "started_at": "2024-01-01"},
        {"account_id": "b", "mrr": 100, "started_at": "2024-01-01", "ended_at": "2025-03-01"}],
        invoices=[{"invoice_id": "i1", "account_id": "a", "issued_at": "2025-04-01", "amount": 100,
                   "status": "open"}])


# -- what a person types ------------------------------------------------------------------
@pytest.mark.parametrize("text, start, end, label", [
    ("2025-Q1", D(2025, 1, 1), D(2025, 4, 1), "2025-Q1"),
    ("2025-q4", D(2025, 10, 1), D(2026, 1, 1), "2025-Q4"),
    ("2025-03", D(2025, 3, 1), D(2025, 4, 1), "2025-03"),
    ("2025", D(2025, 1, 1), D(2026, 1, 1), "2025"),
    ("2025-01-01..2025-07-01", D(2025, 1, 1), D(2025, 7, 1), "2025-01-01..2025-07-01"),
    (" 2025-04-01..2025-07-01 ", D(2025, 4, 1), D(2025, 7, 1), "2025-Q2"),
])
def test_periods(text, start, end, label):
    assert parse_period(text) == (start, end)
    assert period_label(start, end) == label


@pytest.mark.parametrize("text", ["2025-Q5", "2025-13", "Q1", "2025-07-01..2025-01-01", "2025-01-01..2025-01-01",
                                  "2025-02-30..2025-04-01", ""])
def test_periods_refused(text):
    with pytest.raises(TargetError, match="period"):
        parse_period(text)


@pytest.mark.parametrize("text, unit, value", [
    ("1.05", "rate", 1.05), ("105%", "rate", 1.05), ("1,05", "rate", 1.05), (" 2,5 % ", "rate", 0.025),
    ("-2%", "rate", -0.02), ("40", "number", 40.0), ("1.234,56", "money", 1234.56), ("1,234.56", "money", 1234.56),
    (0.9, "rate", 0.9),
])
def test_values(text, unit, value):
    assert parse_value(text, unit) == pytest.approx(value)


def test_values_refused():
    with pytest.raises(TargetError, match="a rate is a fraction: write 1.05 or 105%, not '105'"):
        parse_value("105", "rate")
    with pytest.raises(TargetError, match="expected a number"):
        parse_value("lots", "number")


def test_unknown_kpis_are_refused_with_the_close_matches():
    assert known_kpi("nrr") == "nrr"
    with pytest.raises(TargetError) as caught:
        known_kpi("logo_churn")
    assert str(caught.value).startswith("unknown KPI 'logo_churn'; did you mean logo_churn_rate")
    with pytest.raises(TargetError, match="the keys are in METRICS.md"):
        known_kpi("zzzz")
    with pytest.raises(TargetError, match="nps_zone is a label"):
        known_kpi("nps_zone")


# -- status, by hand ------------------------------------------------------------------------
def goals(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(("kpi", "period_start", "period_end", "target", "direction"), r, strict=True))
                         for r in rows])


@pytest.mark.parametrize("kpi, target, direction, value, expected", [
    ("nrr", 1.00, "higher", 1.02, "on_track"),
    ("nrr", 1.00, "higher", 1.00, "on_track"),
    ("nrr", 1.00, "higher", 0.96, "at_risk"),  # 0.04 short: within 5% of the target
    ("nrr", 1.00, "higher", 0.94, "off_track"),
    ("logo_churn_rate", 0.02, "lower", 0.015, "on_track"),
    ("logo_churn_rate", 0.02, "lower", 0.0205, "at_risk"),  # 0.0005 over: within 5% of 0.02
    ("logo_churn_rate", 0.02, "lower", 0.03, "off_track"),
    ("nrr", 1.00, "higher", None, None),
])
def test_status_by_hand(kpi, target, direction, value, expected):
    kpis = pd.DataFrame({"period": ["2025-02", "2025-03"], kpi: [0.0, value]})
    rows = target_rows(goals((kpi, D(2025, 1, 1), D(2025, 4, 1), target, direction)), kpis, "2025-03")
    assert (rows[0]["month"], rows[0]["value"], rows[0]["status"]) == ("2025-03", value, expected)


def test_the_month_a_target_is_judged_on():
    q1 = (D(2025, 1, 1), D(2025, 4, 1))
    assert status_month(*q1, D(2025, 2, 1)) == D(2025, 2, 1)  # the period is running: the last month of data
    assert status_month(*q1, D(2025, 6, 1)) == D(2025, 3, 1)  # over: its last month
    assert status_month(D(2025, 7, 1), D(2025, 10, 1), D(2025, 6, 1)) is None  # not begun
    assert status_month(*q1, None) is None


def test_the_narrowest_target_holding_a_month_counts():
    table = goals(("nrr", D(2025, 1, 1), D(2026, 1, 1), 1.10, "higher"),
                  ("nrr", D(2025, 3, 1), D(2025, 4, 1), 1.02, "higher"))  # March's, inside the year's
    assert target_for(table, "nrr", D(2025, 3, 1))["target"] == 1.02
    assert target_for(table, "nrr", D(2025, 5, 1))["target"] == 1.10
    assert target_for(table, "nrr", D(2025, 1, 1), D(2025, 4, 1))["target"] == 1.10  # a quarter shown: the year's
    assert target_for(table, "nrr", D(2024, 12, 1)) is None and target_for(table, "mrr", D(2025, 3, 1)) is None


# -- through the store ------------------------------------------------------------------------
def test_set_list_and_remove(store, fill):
    company(store, fill)
    written = set_target(store, "mrr", "104", "2025-Q1")
    assert (written["period"], written["target"], written["direction"], written["replaced"]) == (
        "2025-Q1", 104.0, "higher", None)
    assert set_target(store, "logo_churn_rate", "60%", "2025-03")["direction"] == "lower"  # the KPI's default
    set_target(store, "nrr", 1, "2025")
    set_target(store, "nps", 40, "2025-Q2")
    set_target(store, "customers", 3, "2025-02", direction="lower")  # told: lower is better
    rows = {(r["kpi"], r["period"]): r for r in list_targets(store, today=TODAY)}
    assert len(rows) == 5
    mrr = rows["mrr", "2025-Q1"]  # March: 100, 4 short of 104 and within 5% of it
    assert (mrr["month"], mrr["value"], mrr["status"], mrr["unit"]) == ("2025-03", 100.0, "at_risk", "money")
    churn = rows["logo_churn_rate", "2025-03"]  # 1 of 2 customers left in March: 0.5 ≤ 0.6
    assert (churn["value"], churn["target"], churn["status"]) == (0.5, 0.6, "on_track")
    nrr = rows["nrr", "2025"]  # the year is running: March, (200 − 100) / 200
    assert (nrr["month"], nrr["value"], nrr["status"]) == ("2025-03", 0.5, "off_track")
    nps = rows["nps", "2025-Q2"]  # not begun in the data
    assert (nps["month"], nps["value"], nps["status"]) == (None, None, None)
    customers = rows["customers", "2025-02"]  # over: February, 2 customers ≤ 3
    assert (customers["month"], customers["value"], customers["status"]) == ("2025-02", 2.0, "on_track")

    again = set_target(store, "mrr", 120, "2025-Q1")  # the same KPI and start: replaced
    assert again["replaced"]["target"] == 104.0 and again["target"] == 120.0
    march = set_target(store, "mrr", 90, "2025-01")  # the same start, a shorter period: replaced too
    assert march["replaced"]["period"] == "2025-Q1"
    assert store.fetchall("SELECT count(*) FROM targets WHERE kpi = 'mrr'")[0][0] == 1

    removed = remove_target(store, "mrr", "2025-01")
    assert (removed["kpi"], removed["period"], removed["target"]) == ("mrr", "2025-01", 90.0)
    with pytest.raises(NoSuchTarget, match="no target for mrr in 2025-01"):
        remove_target(store, "mrr", "2025-01")
    assert len(targets(store)) == 4


def test_the_command_line(duckdb_url, fill, monkeypatch):
    runner = CliRunner()

    def sucesso(*args):
        return runner.invoke(cli, [*args, "--db", duckdb_url])

    with open_store(duckdb_url) as store:
        company(store, fill)
    done = sucesso("targets", "set", "nrr", "105%", "--period", "2025-Q1")
    assert done.exit_code == 0 and "target set: nrr ≥ 105.0% in 2025-Q1" in done.output
    refused = sucesso("targets", "set", "nrrr", "1", "--period", "2025")
    assert refused.exit_code == 2 and "unknown KPI 'nrrr'; did you mean nrr" in refused.output
    assert "expected a period" in sucesso("targets", "set", "nrr", "1", "--period", "2025-Q9").output
    assert sucesso("targets", "set", "logo_churn_rate", "2%", "--period", "2025-03").exit_code == 0
    listed = json.loads(sucesso("targets", "list", "--json").output)["targets"]
    assert {(r["kpi"], r["direction"], r["target"]) for r in listed} == {("nrr", "higher", 1.05),
                                                                         ("logo_churn_rate", "lower", 0.02)}
    shown = sucesso("targets", "list")
    assert "nrr" in shown.output and "≥ 105.0%" in shown.output

    # `sucesso metrics`: each month's target and status under the KPI's value
    metrics = json.loads(sucesso("metrics", "--only", "nrr,mrr", "--from", "2025-02", "--to", "2025-03",
                                 "--json").output)
    assert metrics["targets"] == [  # February: 1.00, 0.05 short of 1.05 (within 5% of it); March: 0.5
        {"period": "2025-02", "kpi": "nrr", "target": 1.05, "direction": "higher", "status": "at_risk"},
        {"period": "2025-03", "kpi": "nrr", "target": 1.05, "direction": "higher", "status": "off_track"}]
    table = sucesso("metrics", "--only", "nrr,logo_churn_rate", "--from", "2025-02", "--to", "2025-03").output
    assert "target" in table and "≤ 2.0%" in table and "off track" in table
    assert "targets" not in json.loads(sucesso("metrics", "--only", "mrr", "--from", "2025-02", "--to", "2025-03",
                                               "--json").output)

    assert sucesso("targets", "remove", "nrr", "--period", "2025-Q1").exit_code == 0
    gone = sucesso("targets", "remove", "nrr", "--period", "2025-Q1")
    assert gone.exit_code == 2 and "no target for nrr in 2025-Q1" in gone.output


# -- the API and the page ---------------------------------------------------------------------
@pytest.fixture
def web(duckdb_url, fill):
    from sucesso.web import users
    from sucesso.web.app import create_app

    with open_store(duckdb_url) as store:
        company(store, fill)
        set_setting(store, "locale", "en")
        for role in ("admin", "manager", "csm", "viewer"):
            users.create_user(store, f"{role}@example.com", role, PASSWORD)
        admin = users.user_by_email(store, "admin@example.com")
        tokens = {scope: users.create_token(store, admin, scope, [scope])[1] for scope in ("read", "ingest", "admin")}
    app = create_app(duckdb_url, precompute_in_background=False)
    yield app, tokens
    app.state.workspace.close()


def signed_in(app, role: str) -> tuple[TestClient, str]:
    """A client signed in through the form, and its CSRF token (for X-CSRF-Token)."""
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 303
    return client, client.get("/api/me").json()["csrf_token"]


def test_the_api_sets_lists_and_removes_for_managers_and_admin_tokens(web):
    app, tokens = web
    manager, csrf = signed_in(app, "manager")
    body = {"kpi": "nrr", "value": "105%", "period": "2025-Q1"}
    assert manager.post("/api/targets", json=body).status_code == 403  # no X-CSRF-Token
    made = manager.post("/api/targets", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and made.json()["target"] == 1.05 and made.json()["direction"] == "higher"
    bad = manager.post("/api/targets", json={**body, "kpi": "nrrr"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and "did you mean nrr" in bad.json()["detail"]

    for role in ("csm", "viewer"):
        client, their_csrf = signed_in(app, role)
        assert client.post("/api/targets", json=body, headers={"X-CSRF-Token": their_csrf}).status_code == 403
        assert client.delete("/api/targets?kpi=nrr&period=2025-Q1",
                             headers={"X-CSRF-Token": their_csrf}).status_code == 403
    for scope, expected in (("read", 403), ("ingest", 403), ("admin", 201)):
        r = TestClient(app).post("/api/targets", json={"kpi": "mrr", "value": 104, "period": "2025-Q1"},
                                 headers={"Authorization": f"Bearer {tokens[scope]}"})
        assert r.status_code == expected, scope

    viewer, _ = signed_in(app, "viewer")
    listed = {r["kpi"]: r for r in viewer.get("/api/targets").json()["targets"]}
    assert (listed["nrr"]["month"], listed["nrr"]["value"], listed["nrr"]["status"]) == ("2025-03", 0.5, "off_track")
    assert (listed["mrr"]["value"], listed["mrr"]["status"]) == (100.0, "at_risk")

    removed = manager.delete("/api/targets?kpi=nrr&period=2025-Q1", headers={"X-CSRF-Token": csrf})
    assert removed.status_code == 200 and removed.json()["target"] == 1.05
    assert manager.delete("/api/targets?kpi=nrr&period=2025-Q1", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert manager.delete("/api/targets?kpi=nrr&period=soon", headers={"X-CSRF-Token": csrf}).status_code == 400


def test_the_page_shows_status_and_offers_the_form_to_managers_only(web):
    app, _ = web
    manager, _ = signed_in(app, "manager")
    form = manager.get("/targets").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert 'action="/targets"' in form
    saved = manager.post("/targets", data={"kpi": "nrr", "value": "105%", "period": "2025-Q1", "direction": "",
                                           "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == "/targets?done=set"
    page = manager.get("/targets?done=set").text
    assert "The target is saved." in page and '<span class="status off_track">off track</span>' in page
    wrong = manager.post("/targets", data={"kpi": "nrr", "value": "105", "period": "2025-Q1", "csrf_token": csrf})
    assert wrong.status_code == 400 and "a rate is a fraction" in wrong.text
    assert manager.post("/targets", data={"kpi": "nrr", "value": "1", "period": "2025"}).status_code == 403  # no CSRF

    viewer, _ = signed_in(app, "viewer")
    seen = viewer.get("/targets").text
    assert "nrr" in seen and 'action="/targets"' not in seen and 'action="/targets/remove"' not in seen
    viewer_csrf = re.search(r'name="csrf_token" value="([^"]+)"', seen).group(1)  # the sign-out form's
    assert viewer.post("/targets/remove", data={"kpi": "nrr", "period": "2025-Q1",
                                                "csrf_token": viewer_csrf}).status_code == 403

    # the Overview's way, on the cards of the data pages too: NRR in March is 50%, off its 105%
    assert '<span class="status off_track">off track</span> (target 105.0%)' in manager.get("/revenue").text
    cards = manager.get("/api/revenue").json()["cards"]
    assert next(c for c in cards if c["key"] == "nrr")["status"] == "off_track"

    removed = manager.post("/targets/remove", data={"kpi": "nrr", "period": "2025-Q1", "csrf_token": csrf})
    assert removed.status_code == 303 and "No targets yet." in manager.get("/targets").text
