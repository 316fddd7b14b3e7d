"""Cohort tables (METRICS.md "Cohorts"), hand-computed, on every engine."""

from __future__ import annotations

import datetime as dt

import pytest

from sucesso.metrics.api import cohorts
from sucesso.metrics.cohorts import cohort_table, cohort_tables


def sub(account, mrr, start, end=None):
    return {"account_id": account, "mrr": mrr, "started_at": start, "ended_at": end}


SUBSCRIPTIONS = [
    # cohort 2024-01: a, b, f
    sub("a", 100, "2024-01-10", "2024-03-01"),                      # paying at end Jan, end Feb (just before)
    sub("b", 50, "2024-01-20"), sub("b", 50, "2024-02-05"),         # 50 at end Jan, 100 after
    sub("f", 60, "2024-01-05", "2024-01-25"),                       # gone before end Jan
    # cohort 2024-02: c, and e whose free plan since January does not make it a customer
    sub("c", 30, "2024-02-01"),
    sub("e", 0, "2024-01-01", "2024-02-10"), sub("e", 40, "2024-02-10"),
    # cohort 2024-03: g
    sub("g", 10, "2024-03-31T23:00:00"),
    # first paid before the table: no cohort here
    sub("d", 20, "2023-11-01"),
]


def rows(table):
    return table.to_dict("records")


def test_logo_cohorts(kpis):
    ws = kpis(subscriptions=SUBSCRIPTIONS)
    table = cohort_table(ws.store.ibis(), "logo", dt.date(2024, 1, 1), dt.date(2024, 3, 1))
    assert list(table.columns) == ["cohort", "size", "m0", "m1", "m2"]
    # Jan (a, b, f): end Jan a, b → 2/3; end Feb a, b → 2/3; end Mar b → 1/3
    # Feb (c, e): both at end Feb and end Mar; Mar (g): at end Mar. After March: None
    assert rows(table) == [
        {"cohort": "2024-01", "size": 3, "m0": pytest.approx(2 / 3), "m1": pytest.approx(2 / 3),
         "m2": pytest.approx(1 / 3)},
        {"cohort": "2024-02", "size": 2, "m0": 1.0, "m1": 1.0, "m2": None},
        {"cohort": "2024-03", "size": 1, "m0": 1.0, "m1": None, "m2": None},
    ]


def test_revenue_cohorts_through_the_api(kpis):
    ws = kpis(subscriptions=SUBSCRIPTIONS)
    table = cohorts(ws.store, "revenue", "2024-01", "2024-03")
    # Jan: size a 100 + b 50 = 150; end Feb 100 + 100 = 200 → 4/3; end Mar b 100 → 2/3
    # Feb: c 30 + e 40 = 70, kept; Mar: g 10
    assert rows(table) == [
        {"cohort": "2024-01", "size": 150.0, "m0": 1.0, "m1": pytest.approx(4 / 3), "m2": pytest.approx(2 / 3)},
        {"cohort": "2024-02", "size": 70.0, "m0": 1.0, "m1": 1.0, "m2": None},
        {"cohort": "2024-03", "size": 10.0, "m0": 1.0, "m1": None, "m2": None},
    ]


def test_an_empty_cohort_has_null_cells(kpis):
    ws = kpis(subscriptions=[sub("f", 60, "2024-01-05", "2024-01-25"), sub("c", 30, "2024-02-01")])
    ibis = ws.store.ibis()
    logo = cohort_table(ibis, "logo", dt.date(2023, 12, 1), dt.date(2024, 2, 1))
    # Dec: nobody; Jan: f, not paying at any month end → 0; Feb: c
    assert rows(logo) == [
        {"cohort": "2023-12", "size": 0, "m0": None, "m1": None, "m2": None},
        {"cohort": "2024-01", "size": 1, "m0": 0.0, "m1": 0.0, "m2": None},
        {"cohort": "2024-02", "size": 1, "m0": 1.0, "m1": None, "m2": None},
    ]
    # Jan by revenue: its MRR at end Jan is 0, so nothing to divide by
    revenue = cohort_table(ibis, "revenue", dt.date(2024, 1, 1), dt.date(2024, 1, 1))
    assert rows(revenue) == [{"cohort": "2024-01", "size": 0.0, "m0": None}]
    with pytest.raises(ValueError, match="logo or revenue"):
        cohort_table(ibis, "seats", dt.date(2024, 1, 1), dt.date(2024, 1, 1))


def test_cohorts_of_one_segment(kpis):
    ws = kpis(accounts=[{"account_id": "a", "name": "A", "created_at": "2024-01-01", "segment": "smb"},
                        {"account_id": "b", "name": "B", "created_at": "2024-01-01", "segment": "ent"},
                        {"account_id": "c", "name": "C", "created_at": "2024-01-01", "segment": "smb"}],
              subscriptions=[sub("a", 100, "2024-01-05"), sub("b", 900, "2024-01-10", "2024-02-10"),
                             sub("c", 50, "2024-01-20", "2024-02-05")])
    smb = cohort_tables(ws.store.ibis(), dt.date(2024, 1, 1), dt.date(2024, 2, 1), "smb")
    # smb's January cohort: a and c (b is ent); at end February only a pays: 1 of 2, 100 of 150 MRR
    assert rows(smb["logo"]) == [{"cohort": "2024-01", "size": 2, "m0": 1.0, "m1": 0.5},
                                 {"cohort": "2024-02", "size": 0, "m0": None, "m1": None}]
    assert rows(smb["revenue"])[0] == {"cohort": "2024-01", "size": 150.0, "m0": 1.0, "m1": pytest.approx(2 / 3)}
