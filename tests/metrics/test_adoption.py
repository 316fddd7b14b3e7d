"""Onboarding, adoption and engagement KPIs (METRICS.md), hand-computed, on every engine."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sucesso.metrics.adoption import feature_adoption
from sucesso.metrics.periods import periods
from sucesso.metrics.registry import Context


def sub(account, mrr, start, end=None):
    return {"account_id": account, "mrr": mrr, "started_at": start, "ended_at": end}


def account(account_id, created_at="2020-01-01", **kw):
    return {"account_id": account_id, "name": account_id.upper(), "created_at": created_at, **kw}


def event(account_id, name, at, contact=None):
    return {"account_id": account_id, "contact_id": contact, "event": name, "occurred_at": at}


# ── onboarding ──────────────────────────────────────────────────────────────────────────────

def onboarding_workspace(kpis, **kw):
    # Dec 2023: u, v, w; Jan 2024: p, q, r, s; Feb 2024: t; Mar 2024: nobody
    accounts = [account("u", "2023-12-01", segment="smb"), account("v", "2023-12-10", segment="smb"),
                account("w", "2023-12-15", segment="smb"),
                account("p", "2024-01-05", segment="smb"), account("q", "2024-01-10", segment="smb"),
                account("r", "2024-01-31T12:00:00", segment="ent"), account("s", "2024-01-20", segment="ent"),
                account("t", "2024-02-01", segment="ent")]
    ms = [
        {"account_id": "p", "milestone": "activated", "reached_at": "2024-01-20"},            # 15 days
        {"account_id": "q", "milestone": "activated", "reached_at": "2024-02-15"},            # 36 days
        {"account_id": "r", "milestone": "activated", "reached_at": "2024-03-01T12:00:00"},   # 30 days exactly
        {"account_id": "p", "milestone": "first_value", "reached_at": "2024-01-07T12:00:00"},  # 2.5 days
        {"account_id": "q", "milestone": "first_value", "reached_at": "2024-01-11"},           # 1 day
        {"account_id": "r", "milestone": "first_value", "reached_at": "2024-01-31T18:00:00"},  # 0.25 day
        {"account_id": "s", "milestone": "first_value", "reached_at": "2024-01-24"},           # 4 days
        {"account_id": "u", "milestone": "first_value", "reached_at": "2023-12-04"},           # 3 days
        {"account_id": "v", "milestone": "first_value", "reached_at": "2023-12-11"},           # 1 day
        {"account_id": "w", "milestone": "first_value", "reached_at": "2023-12-25"},           # 10 days
        {"account_id": "w", "milestone": "activated", "reached_at": "2023-12-16"},            # 1 day
    ]
    return kpis(accounts=accounts, milestones=ms, **kw)


def test_activation_rate_counts_accounts_activated_within_n_days(kpis):
    ws = onboarding_workspace(kpis)
    # Dec: w of u, v, w → 1/3; Jan: p (15 d) and r (30 d, the bound) of p, q (36 d), r, s → 2/4;
    # Feb: t never activated → 0/1; Mar: no account created → null
    assert ws.values("activation_rate", "2023-12", "2024-03") == [pytest.approx(1 / 3), 0.5, 0.0, None]
    strict = onboarding_workspace(kpis, settings={"activation_days": 10})
    # only w (1 day) is within 10 days
    assert strict.values("activation_rate", "2023-12", "2024-01") == [pytest.approx(1 / 3), 0.0]


def test_time_to_first_value_is_the_exact_median_in_days(kpis):
    ws = onboarding_workspace(kpis)
    # Dec: 1, 3, 10 → 3;  Jan: 0.25, 1, 2.5, 4 → (1 + 2.5) / 2 = 1.75;  Feb: t has none → null
    assert ws.values("time_to_first_value_days_median", "2023-12", "2024-03") == [3.0, 1.75, None, None]


def test_onboarding_by_segment(kpis):
    ws = onboarding_workspace(kpis)
    rows = ws.rows(["activation_rate", "time_to_first_value_days_median"], "2024-01", "2024-01", by="segment")
    # ent: r (30 d) of r, s → 1/2, median(0.25, 4) = 2.125;  smb: p of p, q → 1/2, median(2.5, 1) = 1.75
    assert rows == [
        {"period": "2024-01", "segment": "ent", "activation_rate": 0.5, "time_to_first_value_days_median": 2.125},
        {"period": "2024-01", "segment": "smb", "activation_rate": 0.5, "time_to_first_value_days_median": 1.75},
    ]


# ── adoption and engagement ─────────────────────────────────────────────────────────────────

FEATURES = [{"event": "k1", "name": "Reports", "is_key": True}, {"event": "k2", "name": "Alerts", "is_key": True},
            {"event": "k3", "name": "Exports", "is_key": True}, {"event": "x", "name": "Login", "is_key": False}]


def usage_workspace(kpis, features=FEATURES):
    # January 2024: window [2024-01-02, 2024-02-01). Customers at end(Jan): a, b, c, e; d never paid.
    accounts = [account("a", segment="smb", seats=4), account("b", segment="smb", seats=10),
                account("c"), account("d", segment="smb"), account("e", segment="ent", seats=0)]
    contacts = [{"contact_id": u, "account_id": a} for u, a in
                [("u1", "a"), ("u2", "a"), ("u3", "e"), ("u4", "d")]]
    events = [
        event("a", "k1", "2024-01-10T09:00:00", "u1"), event("a", "k2", "2024-01-10T10:00:00", "u1"),
        event("a", "k2", "2024-01-11", "u2"), event("a", "x", "2024-01-20", "u1"),
        event("a", "k3", "2024-01-01T23:59:59", "u1"),   # before the window
        event("b", "x", "2024-01-15"), event("b", "k3", "2024-01-02"),   # no contact; k3 on the first instant
        event("c", "k1", "2024-02-01"),                                   # at end(Jan): outside
        event("d", "k1", "2024-01-10", "u4"),                             # not a customer
        event("e", "x", "2024-01-05", "u3"), event("e", "x", "2024-01-06", "u3"), event("e", "x", "2024-01-07", "u3"),
    ]
    subs = [sub(x, 100, "2023-01-01") for x in "abce"]
    return kpis(accounts=accounts, contacts=contacts, features=features, usage_events=events, subscriptions=subs)


def test_adoption_active_accounts_stickiness_and_seats(kpis):
    ws = usage_workspace(kpis)
    jan, = ws.rows(["adoption_rate", "active_accounts", "stickiness", "seat_utilisation"], "2024-01", "2024-01")
    # key features used: a {k1, k2}, b {k3}, c {}, e {} → (2 + 1 + 0 + 0) / (4 customers × 3 key features)
    assert jan["adoption_rate"] == 0.25
    assert jan["active_accounts"] == 3   # a, b, e
    # a: user-days (u1, 10th), (u2, 11th), (u1, 20th) = 3 → 3/30 / MAU 2 = 0.05;
    # e: 3 user-days / 30 / MAU 1 = 0.1; b and c have no active user → mean(0.05, 0.1)
    assert jan["stickiness"] == pytest.approx(0.075)
    # seats known and > 0: a (4, 2 users) and b (10, 0 users) → 2 / 14
    assert jan["seat_utilisation"] == pytest.approx(2 / 14)


def test_adoption_without_customers_or_key_features_is_null(kpis):
    ws = usage_workspace(kpis, features=[{"event": "x", "name": "Login", "is_key": False}])
    rows = ws.rows(["adoption_rate", "active_accounts", "stickiness", "seat_utilisation"], "2022-12", "2024-01")
    # Dec 2022: nobody was a customer yet
    assert rows[0] == {"period": "2022-12", "adoption_rate": None, "active_accounts": 0, "stickiness": None,
                       "seat_utilisation": None}
    assert rows[-1]["adoption_rate"] is None and rows[-1]["active_accounts"] == 3   # no key feature


def test_adoption_by_segment(kpis):
    ws = usage_workspace(kpis)
    rows = ws.rows(["adoption_rate", "active_accounts", "seat_utilisation"], "2024-01", "2024-01", by="segment")
    # ent: e (0 key features, active, 0 seats); smb: a, b → (2 + 1) / (2 × 3), seats 2/14; no segment: c
    assert rows == [
        {"period": "2024-01", "segment": "ent", "adoption_rate": 0.0, "active_accounts": 1, "seat_utilisation": None},
        {"period": "2024-01", "segment": "smb", "adoption_rate": 0.5, "active_accounts": 2,
         "seat_utilisation": pytest.approx(2 / 14)},
        {"period": "2024-01", "segment": None, "adoption_rate": 0.0, "active_accounts": 0, "seat_utilisation": None},
    ]


def feature_rows(ws, first, last, by=None):
    """feature_adoption as sorted tuples (period, [group], event, name, value), NaN/NA read as None."""
    with Context(ws.store.ibis(), periods(first, last), by) as ctx:
        frame = ws.store.ibis().execute(feature_adoption(ctx))
    label = {p.index: p.label for p in ctx.periods}
    rows = [tuple(None if pd.isna(v) else v for v in (label[r["idx"]], *([r["grp"]] if by else []), r["event"],
                                                     r["name"], r["value"]))
            for r in frame.to_dict("records")]
    return sorted(rows, key=str)


def test_feature_adoption_per_feature(kpis):
    ws = usage_workspace(kpis)
    rows = feature_rows(ws, dt.date(2022, 12, 1), dt.date(2024, 1, 1))
    # Jan, 4 customers: k1 a, k2 a, k3 b → 1/4 each; x a, b, e → 3/4. Dec 2022: no customers → null
    assert [r for r in rows if r[0] == "2024-01"] == [
        ("2024-01", "k1", "Reports", 0.25), ("2024-01", "k2", "Alerts", 0.25),
        ("2024-01", "k3", "Exports", 0.25), ("2024-01", "x", "Login", 0.75)]
    assert [r[-1] for r in rows if r[0] == "2022-12"] == [None] * 4
    # by segment, January: smb (a, b): k1 1/2, x 2/2; ent (e): x 1/1; no segment (c): nothing used
    by = {(r[1], r[2]): r[4] for r in feature_rows(ws, dt.date(2024, 1, 1), dt.date(2024, 1, 1), by="segment")}
    assert (by["smb", "k1"], by["smb", "k3"], by["smb", "x"]) == (0.5, 0.5, 1.0)
    assert (by["ent", "k1"], by["ent", "x"], by[None, "x"]) == (0.0, 1.0, 0.0)
