"""Success factors (insight/factors.py): a dozen accounts computed by hand, on DuckDB and
PostgreSQL, and `sucesso factors` on the demo company."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.ingest import write_batches
from sucesso.insight.factors import early_behaviours, success_factors
from sucesso.store import open_store

Z = 1.959963984540054

# Data ends 2025-01-01 (late's first paid day), so the population is the accounts that became
# customers by 2025-01-01 − 180 days = 2024-07-05: a0…a9, paying from 2024-01-10 and due at
# 2024-01-10 + 180 days = 2024-07-08. Signed up 2024-01-01: the window ends 2024-01-31 00:00.
PAID = "2024-01-10"
ENDS = {"a5": "2024-07-08",  # still paying just before 2024-07-08: retained
        "a6": "2024-07-07", "a7": "2024-04-01", "a8": "2024-04-01", "a9": "2024-03-01"}
RETAINED = {"a0", "a1", "a2", "a3", "a4", "a5"}
REPORTS = {"a0": 5, "a1": 4, "a2": 3, "a3": 3, "a4": 2, "a5": 3, "a6": 1, "a7": 2, "a8": 0, "a9": 1}


def event(account, at, name="report_exported", contact=None):
    return {"account_id": account, "contact_id": contact, "event": name, "occurred_at": at}


def rows():
    population = [f"a{i}" for i in range(10)]
    accounts = [{"account_id": a, "name": a, "created_at": "2024-01-01"} for a in [*population, "free", "prospect"]]
    accounts.append({"account_id": "late", "name": "late", "created_at": "2024-12-20"})
    subscriptions = [{"account_id": a, "mrr": 100, "started_at": PAID, "ended_at": ENDS.get(a)} for a in population]
    subscriptions += [
        {"account_id": "a9", "mrr": 100, "started_at": "2024-05-01"},   # a comeback: its first life ended
        {"account_id": "late", "mrr": 100, "started_at": "2025-01-01"},  # too recent for an outcome
        {"account_id": "free", "mrr": 0, "started_at": PAID},            # never paid
    ]
    features = [{"event": "report_exported", "name": "Relatórios", "is_key": True},
                {"event": "alert_set", "name": "Alertas", "is_key": True},
                {"event": "login", "name": "Acesso", "is_key": False}]
    events = [event(a, "2024-01-10") for a, n in REPORTS.items() if a != "a0" for _ in range(n)]
    events += [  # a0: 5 reports by two users and a login without a user, on 4 days
        *(event("a0", at, contact=c) for c, at in [("c1", "2024-01-02"), ("c1", "2024-01-02"), ("c2", "2024-01-03"),
                                                  ("c2", "2024-01-04"), ("c2", "2024-01-04")]),
        event("a0", "2024-01-05", "login"),
        # after the window: not counted
        *(event("a8", "2024-03-01") for _ in range(10)),
        event("a9", "2024-01-31T00:00:01"),
    ]
    milestones = [{"account_id": a, "milestone": "activated", "reached_at": at} for a, at in [
        ("a0", "2024-01-15"), ("a1", "2024-01-15"), ("a2", "2024-01-15"),
        ("a3", "2024-01-31"),                      # exactly 30 days: in the window
        ("a6", "2024-01-20"), ("a7", "2024-03-01"), ("late", "2024-12-25")]]
    milestones.append({"account_id": "a0", "milestone": "first_value", "reached_at": "2024-01-05"})
    tickets = [{"account_id": a, "opened_at": "2024-01-10"} for a in ["a4", "a6", "a7", "a8", "a9"]]
    tickets.append({"account_id": "a0", "opened_at": "2024-03-01"})
    contacts = [{"contact_id": c, "account_id": "a0"} for c in ("c1", "c2")]
    return {"accounts": accounts, "contacts": contacts, "subscriptions": subscriptions, "features": features,
            "usage_events": events,
            "milestones": milestones, "tickets": tickets}


IDS = {"subscriptions": "subscription_id", "usage_events": "event_id", "tickets": "ticket_id"}


@pytest.fixture
def ws(store_url):
    with open_store(store_url) as store:
        for table, given in rows().items():
            batch = [{IDS[table]: f"{table}{i}", **r} if table in IDS else r for i, r in enumerate(given)]
            report = write_batches(store, table, [pa.RecordBatch.from_pylist(batch)])
            assert report.written, [str(p) for p in report.problems]
        yield store


def wilson(x, n):
    p = x / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return [centre - half, centre + half]


def by_behaviour(result, key):
    return {f["behaviour"]: f for f in result[key]}


def test_population_outcome_and_window(ws):
    result = success_factors(ws, min_accounts=2)
    assert result["population"] == 10  # not late (too recent), free (never paid) nor prospect
    assert result["baseline_retention"] == pytest.approx(len(RETAINED) / 10)
    assert result["data_end"] == "2025-01-01"
    assert result["outcome"] == {"name": "retained_180d", "indicator": "lagging",
                                 "definition": "still paying in the first paid life 180 days after it started"}

    _, counts = early_behaviours(ws, 30)
    a0 = counts.loc["a0"]
    assert a0["feature:report_exported"] == 5 and a0["feature:login"] == 1 and a0["feature:alert_set"] == 0
    assert (a0["active_users"], a0["days_active"], a0["key_features"]) == (2, 4, 1)  # c1, c2; Jan 2–5; reports
    assert counts.loc["a9", "feature:report_exported"] == 1  # one second past the window is out
    assert counts.loc["a3", "milestone:activated"] == 1 and counts.loc["a7", "milestone:activated"] == 0
    assert counts.loc["a4", "tickets"] == 1 and counts.loc["a0", "tickets"] == 0
    assert "prospect" not in counts.index  # nothing in its window: read as zeros


def test_a_yes_no_behaviour_with_its_intervals(ws):
    f = by_behaviour(success_factors(ws, min_accounts=2), "factors")["Reached activated in the first 30 days"]
    # with: a0, a1, a2, a3 (at exactly 30 days), a6 → 4 of 5 retained;
    # without: a4, a5, a7 (too late), a8, a9 → 2 of 5 (a4, a5)
    assert (f["kind"], f["milestone"], f["threshold"], f["indicator"]) == ("yes_no", "activated", None, "leading")
    assert f["with"] == {"accounts": 5, "retained": 4, "rate": 0.8, "ci": pytest.approx(wilson(4, 5))}
    assert f["without"] == {"accounts": 5, "retained": 2, "rate": 0.4, "ci": pytest.approx(wilson(2, 5))}
    assert f["with"]["ci"] == pytest.approx([0.3755, 0.9638], abs=1e-4)
    assert f["lift"] == pytest.approx(0.4)
    (l1, u1), (l0, u0) = wilson(4, 5), wilson(2, 5)
    assert f["lift_ci"] == pytest.approx([0.4 - math.hypot(0.8 - l1, u0 - 0.4), 0.4 + math.hypot(u1 - 0.8, 0.4 - l0)])
    # pooled 6/10: Z = 0.4 / √(0.6 · 0.4 · (1/5 + 1/5)) = 1.2910
    assert f["p_value"] == pytest.approx(math.erfc(0.4 / math.sqrt(0.24 * 0.4) / math.sqrt(2)))
    assert f["p_value"] == pytest.approx(0.1967, abs=1e-4)


def test_a_count_behaviour_splits_where_z_is_largest(ws):
    f = by_behaviour(success_factors(ws, min_accounts=2), "factors")[
        "Used Relatórios ≥ 3 times in the first 30 days"]
    # counts 5 4 3 3 2 3 | 1 2 0 1 (retained | not); k from 1 to the 95th percentile 4.55:
    #   k=1: 1 account below, too few;  k=4: 2 of 2 vs 4 of 8, Z = 1.29
    #   k=2: 6 of 7 vs 0 of 3, lift 0.857, Z = 0.857 / √(0.24 (1/7 + 1/3)) = 2.536
    #   k=3: 5 of 5 vs 1 of 5, lift 0.8,   Z = 0.8 / √(0.24 (1/5 + 1/5))   = 2.582  ← chosen
    # (the largest lift would pick k=2, on 3 accounts)
    assert (f["kind"], f["feature"], f["event"], f["threshold"]) == ("count", "Relatórios", "report_exported", 3)
    assert (f["with"]["accounts"], f["with"]["retained"], f["without"]["accounts"], f["without"]["retained"]) == \
        (5, 5, 5, 1)
    assert f["lift"] == pytest.approx(0.8)
    assert f["with"]["ci"] == pytest.approx(wilson(5, 5))


def test_factors_are_ranked_by_lift_and_negative_ones_kept(ws):
    result = success_factors(ws, min_accounts=2)
    assert [f["behaviour"] for f in result["factors"]] == [
        "Used Relatórios ≥ 3 times in the first 30 days",   # +0.8
        "Reached activated in the first 30 days",           # +0.4
        "Opened ≥ 1 ticket in the first 30 days",           # 1 of 5 vs 5 of 5: −0.8
    ]
    assert result["factors"][-1]["lift"] == pytest.approx(-0.8)
    too_few = by_behaviour(result, "too_few_accounts")
    assert too_few["≥ 1 active user in the first 30 days"]["with"]["accounts"] == 1  # only a0
    assert too_few["Used Alertas ≥ 1 time in the first 30 days"]["with"] == {
        "accounts": 0, "retained": 0, "rate": None, "ci": [None, None]}
    assert len(result["factors"]) + len(too_few) == 2 + 3 + 4  # milestones, features, the four measures


def test_min_accounts_keeps_thin_splits_out_of_the_ranking(ws):
    assert [f["threshold"] for f in success_factors(ws, min_accounts=5)["factors"]] == [3, None, 1]
    strict = success_factors(ws, min_accounts=6)  # every split has a side of 5 or fewer
    assert strict["factors"] == []
    reports = by_behaviour(strict, "too_few_accounts")["Used Relatórios ≥ 1 time in the first 30 days"]
    assert (reports["with"]["accounts"], reports["without"]["accounts"]) == (9, 1)  # k = 1 when none has enough
    assert success_factors(ws)["factors"] == []  # the default, 20


def test_an_empty_workspace_is_a_clear_error(duckdb_url):
    done = CliRunner().invoke(app, ["factors", "--db", duckdb_url])
    assert done.exit_code == 2 and "no subscriptions" in done.output


def test_cli_on_the_demo_company(demo_url):
    done = CliRunner().invoke(app, ["factors", "--json", "--db", demo_url], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert (result["days"], result["horizon_days"]) == (30, 180) and result["population"] > 300
    assert result["outcome"] == {"name": "retained_180d", "indicator": "lagging", "definition": result["outcome"][
        "definition"]}
    factors = result["factors"]
    assert len(factors) >= 10
    assert [f["lift"] for f in factors] == sorted((f["lift"] for f in factors), reverse=True)
    for f in factors:
        assert f["indicator"] == "leading" and f["kind"] in ("count", "yes_no")
        assert min(f["with"]["accounts"], f["without"]["accounts"]) >= 20
        for side in (f["with"], f["without"]):
            assert 0 <= side["ci"][0] <= side["rate"] <= side["ci"][1] <= 1
        assert f["lift_ci"][0] <= f["lift"] <= f["lift_ci"][1] and 0 <= f["p_value"] <= 1
    # the simulation makes early first value and key-feature breadth healthier (demo/lifecycle.py)
    named = {f.get("milestone") or f.get("measure"): f for f in factors}
    for driver in ("first_value", "activated", "key_features"):
        assert named[driver]["lift"] > 0 and named[driver]["lift_ci"][0] > 0, driver

    text = CliRunner().invoke(app, ["factors", "--db", demo_url, "--lang", "en"], catch_exceptions=False)
    assert text.exit_code == 0 and "(leading)" in text.output and "(lagging)" in text.output
