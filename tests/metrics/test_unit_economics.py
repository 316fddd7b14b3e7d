"""Billing and unit economics KPIs (METRICS.md "Billing and unit economics"), hand-computed, on every engine."""

from __future__ import annotations

import pytest


def sub(account, mrr, start, end=None):
    return {"account_id": account, "mrr": mrr, "started_at": start, "ended_at": end}


def invoice(account, amount, issued, due=None, paid=None, status="open"):
    return {"account_id": account, "amount": amount, "issued_at": issued, "due_at": due, "paid_at": paid,
            "status": status}


def test_average_ticket_leaves_void_invoices_out(kpis):
    ws = kpis(invoices=[
        invoice("a", 100, "2024-01-05", status="paid"), invoice("b", 50, "2024-01-31 23:59:59"),
        invoice("a", 30, "2024-01-10", status="void"),
        invoice("b", 200, "2024-03-01"), invoice("a", 25, "2024-03-20", status="uncollectible"),
    ])
    # Jan: (100 + 50) / 2 = 75 (the void 30 is no invoice); Feb: none issued → 0 / 0 → null;
    # Mar: (200 + 25) / 2 = 112.50
    assert ws.values("average_ticket", "2024-01", "2024-03") == [75.0, None, 112.5]


def test_delinquency_rate_counts_customers_owing_a_past_due_invoice_at_end_of_period(kpis):
    ws = kpis(
        subscriptions=[sub("a", 10, "2023-12-01"), sub("b", 10, "2023-12-01"), sub("c", 10, "2023-12-01", "2024-03-01"),
                       sub("d", 10, "2023-12-01", "2024-01-15")],
        invoices=[
            invoice("a", 10, "2024-01-05", due="2024-01-20", paid="2024-02-01", status="paid"),  # paid at end(Jan)
            invoice("b", 10, "2024-01-25", due="2024-02-05"),                         # due in Feb, never paid
            invoice("c", 10, "2024-01-05", due="2024-01-10", status="void"),          # void: never owed
            invoice("c", 10, "2024-01-05"),                                           # no due date: never late
            invoice("d", 10, "2024-01-02", due="2024-01-10"),                         # d is no customer at end(Jan)
        ])
    # Nov: no customers → null. Dec: nothing due yet → 0 / 4 = 0.
    # Jan: customers a, b, c (d churned); a's invoice is due Jan 20 and paid only at end(Jan) = Feb 1,
    #      so unpaid *just before* it → 1 / 3.  Feb: b (due Feb 5, open) → 1 / 3.
    # Mar: c churned (its subscription ended Mar 1), b still owes → 1 / 2
    rates = ws.values("delinquency_rate", "2023-11", "2024-03")
    assert rates == [None, 0.0, pytest.approx(1 / 3), pytest.approx(1 / 3), 0.5]


UNIT = dict(
    settings={"gross_margin": 0.8},
    subscriptions=[
        sub("a", 100, "2023-12-15"), sub("b", 300, "2023-12-15", "2024-01-20"),   # b churns in Jan
        sub("c", 200, "2024-01-10"), sub("d", 300, "2024-01-12"),                 # two new customers in Jan
        sub("e", 200, "2024-03-05"),                                              # one new customer in Mar
    ],
    acquisition_spend=[
        {"month": "2024-01-01", "channel": "ads", "amount": 600},
        {"month": "2024-01-01", "channel": "events", "amount": 400},
        {"month": "2024-02-01", "channel": "ads", "amount": 300},
    ],
)


def test_cac_ltv_ltv_to_cac_and_payback(kpis):
    ws = kpis(**UNIT)
    jan, feb, mar = ws.rows(["cac", "ltv", "ltv_to_cac", "cac_payback_months"], "2024-01", "2024-03")
    # Jan: cac = (600 + 400) / 2 new = 500; arpa = (100 + 200 + 300) / 3 = 200;
    #      logo_churn_rate = 1 churned (b) / 2 at start = 0.5; ltv = 200 × 0.8 / 0.5 = 320
    #      ltv_to_cac = 320 / 500 = 0.64; cac_payback_months = 500 / (200 × 0.8) = 3.125
    assert jan["cac"] == 500.0 and jan["ltv"] == 320.0
    assert jan["ltv_to_cac"] == pytest.approx(0.64) and jan["cac_payback_months"] == pytest.approx(3.125)
    # Feb: 300 spent, no new customer → cac null; nobody churned → logo_churn_rate 0 → ltv null
    assert feb == {"period": "2024-02", "cac": None, "ltv": None, "ltv_to_cac": None, "cac_payback_months": None}
    # Mar: no spend row → Σ = 0, one new customer (e) → cac 0; payback 0 / (200 × 0.8) = 0
    assert mar["cac"] == 0.0 and mar["cac_payback_months"] == 0.0 and mar["ltv"] is None


def test_ltv_per_quarter_counts_the_lifetime_in_months(kpis):
    ws = kpis(**UNIT)
    [q1] = ws.rows(["cac", "ltv", "arpa", "logo_churn_rate"], "2024-01", "2024-03", period="quarter")
    # Q1: start a, b; end a, c, d, e → arpa = 800 / 4 = 200, logo churn = 1 / 2
    # ltv = 200 × 0.8 × 3 months / 0.5 = 960; cac = (1000 + 300) / 3 new = 433.33
    assert q1 == {"period": "2024-Q1", "cac": 433.33, "ltv": 960.0, "arpa": 200.0, "logo_churn_rate": 0.5}


def test_unit_economics_by_segment(kpis):
    ws = kpis(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2020-01-01", "segment": "smb"},
                  {"account_id": "b", "name": "B", "created_at": "2020-01-01", "segment": "ent"},
                  {"account_id": "c", "name": "C", "created_at": "2020-01-01", "segment": "ent"}],
        subscriptions=[sub("a", 100, "2024-01-01"), sub("b", 1000, "2024-01-01"), sub("c", 500, "2024-01-01")],
        invoices=[invoice("a", 100, "2024-01-01", due="2024-01-10"),
                  invoice("b", 1000, "2024-01-01", due="2024-01-10", paid="2024-01-09", status="paid"),
                  invoice("c", 500, "2024-01-01", due="2024-01-10", paid="2024-01-09", status="paid"),
                  invoice("c", 700, "2024-02-01", due="2024-02-10")],
        acquisition_spend=[{"month": "2024-01-01", "channel": "ads", "amount": 900}],
    )
    rows = ws.rows(["average_ticket", "delinquency_rate", "cac"], "2024-01", "2024-02", by="segment")
    # ent: Jan (1000 + 500) / 2 = 750, nobody owes; Feb 700 / 1, c owes since Feb 10 → 1 / 2
    # smb: Jan 100, a owes → 1 / 1; Feb no invoice → null, a still owes → 1 / 1
    # cac: spend has no account, so no segment → null
    assert rows == [
        {"period": "2024-01", "segment": "ent", "average_ticket": 750.0, "delinquency_rate": 0.0, "cac": None},
        {"period": "2024-01", "segment": "smb", "average_ticket": 100.0, "delinquency_rate": 1.0, "cac": None},
        {"period": "2024-02", "segment": "ent", "average_ticket": 700.0, "delinquency_rate": 0.5, "cac": None},
        {"period": "2024-02", "segment": "smb", "average_ticket": None, "delinquency_rate": 1.0, "cac": None},
    ]


def test_average_ticket_by_category(kpis):
    from sucesso.metrics.api import breakdown

    def inv(account, amount, issued, category, status="paid"):
        return {"account_id": account, "issued_at": issued, "amount": amount, "status": status,
                "category": category}

    ws = kpis(invoices=[
        inv("a", 100, "2024-01-05", "subscription"), inv("b", 300, "2024-01-20", "subscription"),
        inv("a", 50, "2024-01-10", "services"), inv("b", 999, "2024-01-11", "services", status="void"),
        inv("a", 80, "2024-02-01", "subscription"),
    ])
    frame = breakdown(ws.store, "average_ticket_by_category", "2024-01", "2024-02")
    got = sorted((r["period"], r["category"], int(r["invoices"]), float(r["average_ticket"]))
                 for r in frame.to_dict("records"))
    # Jan subscription: (100 + 300) / 2 = 200; services: 50 / 1 (the void 999 is left out); Feb: 80 / 1
    assert got == [("2024-01", "services", 1, 50.0), ("2024-01", "subscription", 2, 200.0),
                   ("2024-02", "subscription", 1, 80.0)]
