"""Revenue KPIs (METRICS.md "Revenue"), hand-computed, on every engine."""

from __future__ import annotations


def sub(account, mrr, start, end=None):
    return {"account_id": account, "mrr": mrr, "started_at": start, "ended_at": end}


def test_mrr_counts_a_subscription_until_just_before_its_end(kpis):
    # [2019-01-01, 2019-03-01) counts in January and February (METRICS.md)
    ws = kpis(subscriptions=[sub("a", 100, "2019-01-01", "2019-03-01")])
    assert ws.values("mrr", "2018-12", "2019-03") == [0.0, 100.0, 100.0, 0.0]
    assert ws.values("customers", "2018-12", "2019-03") == [0, 1, 1, 0]


def test_movements_new_expansion_contraction_churn_reactivation(kpis):
    ws = kpis(subscriptions=[
        sub("a", 100, "2024-01-10", "2024-02-15"), sub("a", 150, "2024-02-15"),   # new Jan, +50 Feb (plan change)
        sub("b", 200, "2024-01-05", "2024-03-01"), sub("b", 50, "2024-01-20", "2024-02-10"),  # two subs
        sub("c", 80, "2023-06-01", "2023-09-01"), sub("c", 90, "2024-02-03"),       # reactivation in Feb
    ])
    rows = ws.rows(["mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
                    "net_new_mrr", "new_customers", "reactivated_customers", "churned_customers", "arr", "arpa"],
                   "2024-01", "2024-03")
    jan, feb, mar = rows
    assert jan["mrr"] == 350.0 and jan["new_mrr"] == 350.0 and jan["new_customers"] == 2
    # Feb: a 100→150 (+50), b 250→200 (−50), c 0→90 reactivated
    assert feb["mrr"] == 440.0
    assert (feb["expansion_mrr"], feb["contraction_mrr"], feb["reactivation_mrr"]) == (50.0, 50.0, 90.0)
    assert feb["reactivated_customers"] == 1 and feb["new_mrr"] == 0.0
    assert feb["net_new_mrr"] == 90.0 == feb["mrr"] - jan["mrr"]
    # Mar: b churns (its 200 ended 2024-03-01, just before end of Feb it was active... gone by end of Mar)
    assert mar["churned_mrr"] == 200.0 and mar["churned_customers"] == 1 and mar["mrr"] == 240.0
    assert jan["arr"] == 4200.0 and jan["arpa"] == 175.0


def test_period_with_no_customers_gives_zero_and_null(kpis):
    ws = kpis(subscriptions=[sub("a", 10, "2024-03-01")])
    jan = ws.rows(["mrr", "customers", "arpa"], "2024-01", "2024-01")[0]
    assert jan == {"period": "2024-01", "mrr": 0.0, "customers": 0, "arpa": None}


def test_empty_workspace_by_group_gives_no_rows_and_no_error(kpis):
    ws = kpis()
    assert ws.rows(["mrr", "nrr_12m"], "2024-01", "2024-02", by="segment") == []
    assert ws.values("nrr_12m", "2024-01", "2024-02") == [None, None]
