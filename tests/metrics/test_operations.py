"""Operations KPIs (METRICS.md "Operations"), hand-computed, on every engine."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sucesso.metrics.operations import churn_reasons
from sucesso.metrics.periods import periods
from sucesso.metrics.registry import Context


def sub(account, mrr, start, end=None):
    return {"account_id": account, "mrr": mrr, "started_at": start, "ended_at": end}


def account(account_id, csm_id=None):
    return {"account_id": account_id, "name": account_id.upper(), "created_at": "2020-01-01", "csm_id": csm_id}


def request(account_id, reason, requested, outcome, decided=None):
    return {"account_id": account_id, "reason_code": reason, "requested_at": requested, "voluntary": True,
            "outcome": outcome, "decided_at": decided}


def activity(account_id, at):
    return {"account_id": account_id, "kind": "proactive_call", "occurred_at": at}


CSMS = [{"csm_id": "ana", "name": "Ana", "role": "csm"}, {"csm_id": "bob", "name": "Bob", "role": "csm"}]


def portfolio_workspace(kpis, **kw):
    # customers at end(Jan 2024): a 100, b 200 (Ana), c 300 + 50 (Bob); d (no CSM) left on Jan 3rd
    return kpis(
        csms=CSMS,
        accounts=[account("a", "ana"), account("b", "ana"), account("c", "bob"), account("d")],
        subscriptions=[sub("a", 100, "2023-01-01"), sub("b", 200, "2023-01-01", "2024-02-01"),
                       sub("c", 300, "2023-06-01", "2024-02-15"), sub("c", 50, "2024-01-22"),
                       sub("d", 80, "2023-01-01", "2024-01-03")],
        # coverage window of Jan for 90 days: [2023-11-03, 2024-02-01)
        cs_activities=[activity("a", "2023-11-03"), activity("b", "2023-11-02T23:00:00"),
                       activity("c", "2024-02-01"), activity("d", "2024-01-02")],
        churn_requests=[
            request("a", "price", "2024-01-05", "recovered", "2024-01-10"),
            request("b", "no_value", "2024-01-15", "churned", "2024-01-31T23:59:59"),
            request("c", "Other", "2024-01-20", "churned", "2024-02-01"),
            request("c", "price", "2024-01-25", "pending"),
            request("d", "price", "2023-12-20", "churned", "2024-01-03"),
        ],
        **kw,
    )


def test_coverage_counts_customers_touched_in_the_last_n_days(kpis):
    ws = portfolio_workspace(kpis)
    # a on the window's first instant counts; b (an hour before it) and c (at end(P)) do not;
    # d is not a customer at end(Jan) → 1/3. Dec 2022: no customers → null
    values = ws.values("coverage", "2022-12", "2024-01")
    assert (values[0], values[-1]) == (None, 1 / 3)
    wider = portfolio_workspace(kpis, settings={"coverage_days": 100})   # [2023-10-24, 2024-02-01): + b
    assert wider.values("coverage", "2024-01", "2024-01") == [2 / 3]


def test_churn_requests_and_rescue_rate(kpis):
    ws = portfolio_workspace(kpis)
    # decided in Jan: a (recovered), b (churned on Jan 31st 23:59:59), d (churned) → 3, 1/3;
    # Feb: c (churned) → 1, 0/1; Mar: none → 0, null. The pending request counts nowhere.
    assert ws.values("churn_requests", "2024-01", "2024-03") == [3, 1, 0]
    assert ws.values("churn_rescue_rate", "2024-01", "2024-03") == [1 / 3, 0.0, None]


def test_portfolio_by_csm_equals_customers_and_mrr_by_csm(kpis):
    ws = portfolio_workspace(kpis)
    rows = ws.rows(["portfolio_accounts", "portfolio_mrr", "coverage", "churn_requests"], "2024-01", "2024-01",
                   by="csm")
    # Ana: a, b (100 + 200), covered a → 1/2, requests a, b; Bob: c (300 + 50), not covered, no
    # request decided in Jan; no CSM: d left in Jan (no customers, coverage null), request d
    assert rows == [
        {"period": "2024-01", "csm": "ana", "portfolio_accounts": 2, "portfolio_mrr": 300.0, "coverage": 0.5,
         "churn_requests": 2},
        {"period": "2024-01", "csm": "bob", "portfolio_accounts": 1, "portfolio_mrr": 350.0, "coverage": 0.0,
         "churn_requests": 0},
        {"period": "2024-01", "csm": None, "portfolio_accounts": 0, "portfolio_mrr": 0.0, "coverage": None,
         "churn_requests": 1},
    ]
    same = ws.rows(["customers", "mrr"], "2024-01", "2024-01", by="csm")
    assert [(r["customers"], r["mrr"]) for r in same] == [(r["portfolio_accounts"], r["portfolio_mrr"]) for r in rows]


def reasons(ws, first, last):
    with Context(ws.store.ibis(), periods(first, last)) as ctx:
        frame = ws.store.ibis().execute(churn_reasons(ctx))
    label = {p.index: p.label for p in ctx.periods}
    return sorted((label[r["idx"]], r["reason_code"], int(r["requests"]), float(r["lost_mrr"]), bool(r["generic"]))
                  for r in frame.to_dict("records"))


def test_churn_reasons_count_lost_mrr_and_flag_generic_codes(kpis):
    ws = portfolio_workspace(kpis)
    # Jan: price ← a (recovered, nothing lost) and d (churned, 80 on Dec 20th); no_value ← b (200).
    # Feb: Other ← c, 300 when it asked on Jan 20th (its +50 started on the 22nd). Mar: no rows.
    assert reasons(ws, dt.date(2024, 1, 1), dt.date(2024, 3, 1)) == [
        ("2024-01", "no_value", 1, 200.0, True),
        ("2024-01", "price", 2, 80.0, False),
        ("2024-02", "Other", 1, 300.0, True),
    ]
    assert reasons(ws, dt.date(2023, 1, 1), dt.date(2023, 1, 1)) == []


def test_churn_reasons_by_csm(kpis):
    ws = portfolio_workspace(kpis)
    with Context(ws.store.ibis(), periods(dt.date(2024, 1, 1), dt.date(2024, 1, 1)), "csm") as ctx:
        frame = ws.store.ibis().execute(churn_reasons(ctx))
    got = sorted(((None if pd.isna(r["grp"]) else r["grp"], r["reason_code"], int(r["requests"]))
                  for r in frame.to_dict("records")), key=str)
    assert got == sorted([("ana", "price", 1), ("ana", "no_value", 1), (None, "price", 1)], key=str)
