"""Signals as of a date, by hand, on DuckDB and a real PostgreSQL: windows end the day before,
nothing on or after the date is read, missing is missing."""

import datetime as dt

import numpy as np
import pytest

from sucesso.health.signals import signals
from sucesso.store import open_store

AS_OF = dt.date(2024, 6, 1)  # "the last 30 days" = May 2nd … May 31st


@pytest.fixture
def ws(store_url, fill):
    store = open_store(store_url)
    fill(
        store,
        accounts=[
            {"account_id": "a", "name": "A", "created_at": "2024-01-01", "seats": 4, "touch_model": "high"},
            {"account_id": "b", "name": "B", "created_at": "2024-01-01"},
            {"account_id": "gone", "name": "Gone", "created_at": "2024-01-01"},
        ],
        contacts=[{"contact_id": c, "account_id": "a"} for c in ("u1", "u2", "u3")],
        subscriptions=[
            {"account_id": "a", "mrr": 100, "started_at": "2024-01-10", "ended_at": "2024-04-01"},
            {"account_id": "a", "mrr": 150, "started_at": "2024-04-01"},  # upgrade: +50% in 90 days
            {"account_id": "b", "mrr": 80, "started_at": "2024-05-15"},
            {"account_id": "gone", "mrr": 90, "started_at": "2024-01-10", "ended_at": "2024-05-01"},
        ],
        features=[
            {"event": "report", "name": "Report", "is_key": True},
            {"event": "export", "name": "Export", "is_key": True},
            {"event": "login", "name": "Login", "is_key": False},
        ],
        usage_events=[
            {"account_id": "a", "contact_id": "u1", "event": "report", "occurred_at": "2024-05-31T23:59:59"},
            {"account_id": "a", "contact_id": "u1", "event": "login", "occurred_at": "2024-05-31T08:00:00"},
            {"account_id": "a", "contact_id": "u2", "event": "login", "occurred_at": "2024-05-02T00:00:00"},
            {"account_id": "a", "contact_id": None, "event": "login", "occurred_at": "2024-05-10T00:00:00"},
            {"account_id": "a", "contact_id": "u3", "event": "export", "occurred_at": "2024-05-01T23:00:00"},  # before
            {"account_id": "a", "contact_id": "u3", "event": "login", "occurred_at": "2024-04-20T00:00:00"},  # before
            {"account_id": "a", "contact_id": "u1", "event": "report", "occurred_at": "2024-06-01T00:00:00"},  # on T
        ],
        tickets=[
            {"account_id": "a", "opened_at": "2024-03-05", "resolved_at": "2024-03-06"},  # 88 days back
            {"account_id": "a", "opened_at": "2024-05-20", "resolved_at": "2024-06-03"},  # open at T
            {"account_id": "a", "opened_at": "2024-02-20"},
        ],  # 102 days: open only
        survey_responses=[
            {
                "account_id": "a",
                "survey": "nps",
                "score": 9,
                "scale_min": 0,
                "scale_max": 10,
                "answered_at": "2024-02-01",
            },
            {
                "account_id": "a",
                "survey": "nps",
                "score": 4,
                "scale_min": 0,
                "scale_max": 10,
                "answered_at": "2024-05-01",
            },
            {
                "account_id": "a",
                "survey": "csat",
                "score": 4,
                "scale_min": 1,
                "scale_max": 5,
                "answered_at": "2023-05-20",
            },
            {
                "account_id": "b",
                "survey": "nps",
                "score": 10,
                "scale_min": 0,
                "scale_max": 10,
                "answered_at": "2024-06-01",
            },
        ],
        invoices=[
            {"account_id": "a", "issued_at": "2024-05-01", "due_at": "2024-05-10", "amount": 150, "status": "open"},
            {
                "account_id": "a",
                "issued_at": "2024-04-01",
                "due_at": "2024-04-10",
                "paid_at": "2024-06-02",
                "amount": 150,
                "status": "paid",
            },
            {"account_id": "a", "issued_at": "2024-05-25", "due_at": "2024-06-04", "amount": 150, "status": "open"},
        ],
        cs_activities=[{"account_id": "a", "kind": "proactive_call", "occurred_at": "2024-05-22T00:00:00"}],
        churn_requests=[
            {
                "account_id": "a",
                "requested_at": "2024-05-30",
                "reason_code": "price",
                "voluntary": True,
                "outcome": "recovered",
                "decided_at": "2024-06-05",
            }
        ],
    )
    yield store
    store.close()


def test_signals_of_a_customer_by_hand(ws):
    got = signals(ws, [AS_OF]).set_index("account_id")
    assert set(got.index) == {"a", "b"}  # "gone" stopped paying before June 1st
    a = got.loc["a"]
    assert a["mrr"] == 150 and a["mrr_trend_90d"] == pytest.approx(0.5)  # 100 on March 3rd
    assert a["events_30d"] == 4  # May 2nd 00:00 … May 31st 23:59:59; not May 1st, not June 1st
    assert a["usage_change_30d"] == pytest.approx(1.0)  # 4 against 2 from April 2nd to May 1st
    assert a["active_days_30d"] == 3  # May 2nd, 10th, 31st
    assert a["active_users_30d"] == 2  # u1, u2 (the event without a contact is no user)
    assert a["seat_utilisation_30d"] == pytest.approx(2 / 4)
    assert a["key_features_30d"] == pytest.approx(1 / 2)  # report yes; export only on May 1st
    assert a["tickets_90d"] == 2 and a["open_tickets"] == 2
    assert a["nps_last"] == 4 and a["detractors_180d"] == 1 and a["promoters_180d"] == 1
    assert np.isnan(a["csat_last"])  # the CSAT answer is older than 365 days
    assert a["overdue_invoices"] == 2  # May 10th unpaid, April 10th paid only on June 2nd
    assert a["days_since_cs_touch"] == pytest.approx(10) and a["cs_touches_90d"] == 1
    assert a["churn_request_open"] == 1
    assert np.isnan(a["referrals_365d"])  # the workspace has no referrals at all: unknown, not 0
    assert a["tenure_days"] == pytest.approx(143)
    b = got.loc["b"]
    assert b["events_30d"] == 0 and b["active_days_30d"] == 0
    assert np.isnan(b["seat_utilisation_30d"])  # seats unknown
    assert np.isnan(b["nps_last"])  # answered on the date itself: not yet known
    assert np.isnan(b["mrr_trend_90d"])  # paid nothing 90 days ago
    assert b["days_since_cs_touch"] == pytest.approx(152)  # never touched: since created


def test_a_table_the_workspace_lacks_makes_its_signals_missing_not_zero(store_url, fill):
    with open_store(store_url) as store:
        fill(store, subscriptions=[{"account_id": "a", "mrr": 10, "started_at": "2024-01-01"}])
        got = signals(store, [AS_OF])
    row = got.iloc[0]
    assert row["mrr"] == 10
    for name in (
        "events_30d",
        "active_days_30d",
        "tickets_90d",
        "overdue_invoices",
        "referrals_365d",
        "days_since_cs_touch",
        "churn_request_open",
    ):
        assert np.isnan(row[name]), name
