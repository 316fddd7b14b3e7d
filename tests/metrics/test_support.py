"""Support KPIs (METRICS.md "Support"), hand-computed, on every engine.

Quantiles are continuous (PERCENTILE_CONT): for n sorted values, q sits at position (n − 1) × q,
interpolated linearly between its two neighbours.
"""

from __future__ import annotations

import pytest


def ticket(account, opened, first_response=None, resolved=None, contacts=None):
    return {"account_id": account, "opened_at": opened, "first_response_at": first_response, "resolved_at": resolved,
            "contacts_to_resolve": contacts}


def test_first_response_hours_over_tickets_opened_in_the_period(kpis):
    ws = kpis(tickets=[
        ticket("a", "2024-01-01 00:00", "2024-01-01 01:30"),                 # 1.5 h
        ticket("a", "2024-01-10 08:00", "2024-01-10 10:00"),                 # 2 h
        ticket("b", "2024-01-15 09:00", "2024-01-15 13:00"),                 # 4 h
        ticket("b", "2024-01-31 20:00", "2024-02-01 06:00"),                 # 10 h, answered in Feb: still Jan's
        ticket("b", "2024-01-20 09:00"),                                     # no first response: left out
        ticket("c", "2023-12-31 23:00", "2024-01-01 08:00"),                 # opened in Dec
        ticket("c", "2024-03-04 10:00:00.600", "2024-03-04 11:00:00.200"),   # 3600 whole seconds → 1 h
    ])
    jan, feb, mar = ws.rows(["first_response_hours_median", "first_response_hours_p90"], "2024-01", "2024-03")
    # Jan [1.5, 2, 4, 10]: median at 1.5 → (2 + 4) / 2 = 3; p90 at 2.7 → 4 + 0.7 × (10 − 4) = 8.2
    assert jan["first_response_hours_median"] == 3.0
    assert jan["first_response_hours_p90"] == pytest.approx(8.2)
    # Feb: no ticket opened → null
    assert feb == {"period": "2024-02", "first_response_hours_median": None, "first_response_hours_p90": None}
    assert mar == {"period": "2024-03", "first_response_hours_median": 1.0, "first_response_hours_p90": 1.0}


def test_resolution_hours_and_fcr_over_tickets_resolved_in_the_period(kpis):
    ws = kpis(tickets=[
        ticket("a", "2024-01-30 00:00", resolved="2024-02-01 00:00", contacts=1),   # 48 h, first contact
        ticket("a", "2024-02-01 00:00", resolved="2024-02-01 06:00", contacts=3),   # 6 h
        ticket("b", "2024-02-02 00:00", resolved="2024-02-03 00:00"),               # 24 h, contacts unknown
        ticket("b", "2024-02-20 00:00", resolved="2024-03-01 12:00"),               # 252 h, resolved in Mar
        ticket("b", "2024-02-25 00:00", contacts=1),                                # not resolved: left out
    ])
    keys = ["resolution_hours_median", "resolution_hours_p90", "fcr"]
    jan, feb, mar = ws.rows(keys, "2024-01", "2024-03")
    # Jan: nothing resolved → null (opened tickets don't count)
    assert jan == {"period": "2024-01", "resolution_hours_median": None, "resolution_hours_p90": None, "fcr": None}
    # Feb [6, 24, 48]: median 24; p90 at 1.8 → 24 + 0.8 × (48 − 24) = 43.2
    # fcr: 1 resolved at first contact / 2 resolved with contacts known = 0.5
    assert feb["resolution_hours_median"] == 24.0 and feb["resolution_hours_p90"] == pytest.approx(43.2)
    assert feb["fcr"] == 0.5
    # Mar: one ticket, Feb 20 → Mar 1 12:00 = 10 days 12 h (2024 is a leap year) = 252 h;
    #      its contacts unknown → fcr 0 / 0 = null
    assert mar == {"period": "2024-03", "resolution_hours_median": 252.0, "resolution_hours_p90": 252.0, "fcr": None}


def test_tickets_per_customer(kpis):
    ws = kpis(
        subscriptions=[{"account_id": "a", "mrr": 10, "started_at": "2024-01-01"},
                       {"account_id": "b", "mrr": 10, "started_at": "2024-01-01"}],
        tickets=[ticket("a", "2023-12-20"), ticket("a", "2024-01-02"), ticket("a", "2024-01-03"),
                 ticket("b", "2024-01-04"), ticket("z", "2024-01-05")],   # z is no customer, its ticket counts
    )
    # Dec: 1 ticket / 0 customers → null; Jan: (2 + 1 + 1) / 2 = 2; Feb: 0 / 2 = 0
    assert ws.values("tickets_per_customer", "2023-12", "2024-02") == [None, 2.0, 0.0]


def test_support_by_segment(kpis):
    ws = kpis(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2020-01-01", "segment": "smb"},
                  {"account_id": "b", "name": "B", "created_at": "2020-01-01", "segment": "ent"},
                  {"account_id": "c", "name": "C", "created_at": "2020-01-01", "segment": "ent"}],
        subscriptions=[{"account_id": a, "mrr": 10, "started_at": "2024-01-01"} for a in "abc"],
        tickets=[ticket("a", "2024-01-02 00:00", "2024-01-02 01:00"),
                 ticket("a", "2024-01-03 00:00", "2024-01-03 03:00", "2024-01-03 05:00", contacts=2),
                 ticket("b", "2024-01-02 00:00", "2024-01-02 08:00", "2024-01-04 00:00", contacts=1),
                 ticket("c", "2024-02-02 00:00")],
    )
    rows = ws.rows(["first_response_hours_median", "fcr", "tickets_per_customer"], "2024-01", "2024-02",
                   by="segment")
    # Jan ent: b's 8 h; fcr 1 / 1; 1 ticket / 2 customers.  smb: a's [1, 3] → 2 h; fcr 0 / 1; 2 / 1
    # Feb ent: c's ticket has no response yet; 1 / 2.  smb: nothing → 0 / 1
    assert rows == [
        {"period": "2024-01", "segment": "ent", "first_response_hours_median": 8.0, "fcr": 1.0,
         "tickets_per_customer": 0.5},
        {"period": "2024-01", "segment": "smb", "first_response_hours_median": 2.0, "fcr": 0.0,
         "tickets_per_customer": 2.0},
        {"period": "2024-02", "segment": "ent", "first_response_hours_median": None, "fcr": None,
         "tickets_per_customer": 0.5},
        {"period": "2024-02", "segment": "smb", "first_response_hours_median": None, "fcr": None,
         "tickets_per_customer": 0.0},
    ]
