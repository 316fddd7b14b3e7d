"""Subscriptions and invoices.

Subscriptions come straight from the lifecycle: one row per plan (or seat count) held for a
stretch of time, add-ons as concurrent rows. Invoices model monthly prepaid billing: each
subscription bills on its start and then on the same day of every following month
(the 28th at the latest) while it runs, due `terms` days later (10 for most). Whether and
when an invoice got paid follows the lifecycle's payment months: paid before the due date
by customers who pay well, some days late by shakier ones, months late after a delinquency
streak, or never (uncollectible once the customer is gone, open while it stays).
High- and low-touch customers also get a one-off implementation (services) invoice.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sucesso.demo.columns import Window, batches, id_width, ids, labels, money, price_cents
from sucesso.demo.company import PLANS, Company, sigmoid
from sucesso.demo.lifecycle import ADDONS, Lifecycle
from sucesso.store import schema

CATEGORIES = ("subscription", "add_on", "services")
STATUS = {s: i for i, s in enumerate(schema.INVOICE_STATUSES)}


def subscription_rows(life: Lifecycle) -> dict[str, np.ndarray]:
    """The lifecycle's subscription rows, in order of start."""
    subs = life.subscriptions
    order = np.lexsort((subs["account"], subs["start"]))
    return {k: v[order] for k, v in subs.items()}


def subscriptions(
    company: Company, life: Lifecycle, account_ids: pa.Array
) -> Iterator[tuple[str, pa.RecordBatch]]:
    subs = subscription_rows(life)
    n = len(subs["start"])
    plan_names = PLANS + ADDONS
    plan = subs["plan"].astype(int) + np.where(subs["addon"], len(PLANS), 0)
    yield from batches(
        "subscriptions",
        {
            "subscription_id": ids("sub_", np.arange(1, n + 1), id_width(n, 7)),
            "account_id": account_ids.take(pa.array(subs["account"].astype(np.int64))),
            "plan": labels(plan_names, plan),
            "mrr": money(subs["mrr"]),
            "currency": pa.nulls(n, pa.string()),
            "quantity": pa.array(subs["quantity"].astype(np.int64)),
            "started_at": company.window.timestamps(subs["start"]),
            "ended_at": company.window.timestamps(subs["end"]),
        },
    )


def invoices(
    company: Company, life: Lifecycle, account_ids: pa.Array, rng: np.random.Generator
) -> Iterator[tuple[str, pa.RecordBatch]]:
    rows = _concat(
        _recurring(company.window, subscription_rows(life)),
        _implementation_fees(company, life, rng),
    )
    rows = _with_payments(company, life, rows, rng)
    rows = _concat(rows, _voided(rows, rng))
    order = np.lexsort((rows["account"], rows["issued"]))
    rows = {k: v[order] for k, v in rows.items()}
    n = len(order)
    w = company.window
    yield from batches(
        "invoices",
        {
            "invoice_id": ids("inv_", np.arange(1, n + 1), id_width(n, 8)),
            "account_id": account_ids.take(pa.array(rows["account"])),
            "issued_at": w.timestamps(rows["issued"]),
            "due_at": w.timestamps(rows["due"]),
            "paid_at": w.timestamps(rows["paid"]),
            "amount": money(rows["amount"]),
            "currency": pa.nulls(n, pa.string()),
            "category": labels(CATEGORIES, rows["category"]),
            "status": labels(schema.INVOICE_STATUSES, rows["status"]),
        },
    )


def _recurring(w: Window, subs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One invoice per started billing month of every subscription, amount = its MRR."""
    start = subs["start"]
    limit = np.fmin(subs["end"], w.days)
    origin = np.datetime64(w.start, "D")
    start_day = origin + np.floor(start).astype("timedelta64[D]")
    first_month = start_day.astype("datetime64[M]")
    billing_day = np.minimum((start_day - first_month.astype("datetime64[D]")).astype(int), 27)
    last_month = (origin + np.floor(limit).astype("timedelta64[D]")).astype("datetime64[M]")
    count = (last_month - first_month).astype(int) + 1
    sub = np.repeat(np.arange(len(start)), count)
    k = np.arange(len(sub)) - np.repeat(np.cumsum(count) - count, count)
    month_day = (first_month[sub] + k).astype("datetime64[D]") + billing_day[sub]
    issued = (month_day - origin).astype(np.float64) + 0.125  # the 03:00 UTC billing run
    issued = np.where(k == 0, start[sub], issued)
    keep = issued < limit[sub]
    sub, issued = sub[keep], issued[keep]
    return {
        "account": subs["account"][sub].astype(np.int64),
        "issued": issued,
        "amount": subs["mrr"][sub].astype(np.int64),
        "category": np.where(subs["addon"][sub], 1, 0),
    }


def _implementation_fees(company: Company, life: Lifecycle, rng: np.random.Generator) -> dict:
    """A one-off services invoice, 1–2.5× the first MRR, for high and low-touch customers."""
    subs = subscription_rows(life)
    first = np.unique(subs["account"].astype(np.int64), return_index=True)[1]
    acc = subs["account"][first].astype(np.int64)
    served = company.segment[acc] < 2
    acc, mrr, start = acc[served], subs["mrr"][first][served], subs["start"][first][served]
    issued = start + rng.uniform(0.5, 4.0, len(acc))
    keep = issued < company.window.days
    fee = price_cents(mrr[keep] / 100 * rng.uniform(1.0, 2.5, int(keep.sum())))
    return {"account": acc[keep], "issued": issued[keep], "amount": fee,
            "category": np.full(int(keep.sum()), 2)}


def _with_payments(
    company: Company, life: Lifecycle, rows: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Due date, payment instant and status of each invoice."""
    w, acc = company.window, rows["account"]
    n = len(acc)
    due = rows["issued"] + company.terms[acc]
    month = w.month_of(rows["issued"])
    paid_in = life.paid_month[acc, month].astype(int)
    on_time = rng.random(n) < sigmoid(2.2 - 0.8 * company.pay_risk[acc])
    early = rows["issued"] + rng.uniform(0.05, 0.95, n) * (due - rows["issued"])
    late = due + rng.lognormal(np.log(4.0) + 0.4 * company.pay_risk[acc], 0.8)
    paid = np.where(on_time, early, late)
    later = paid_in > month
    catch_up = w.month_starts[np.maximum(paid_in, 0)] + rng.uniform(1, 25, n)
    paid = np.where(later, np.maximum(catch_up, due + 1), paid)
    paid[(paid_in < 0) | (paid >= w.days)] = np.nan
    status = np.where(np.isnan(paid), STATUS["open"], STATUS["paid"])
    lost = np.isnan(paid) & _written_off(life, acc, rows["issued"])
    status[lost] = STATUS["uncollectible"]
    return {**rows, "due": due, "paid": paid, "status": status}


def _written_off(life: Lifecycle, acc: np.ndarray, issued: np.ndarray) -> np.ndarray:
    """An unpaid invoice is uncollectible once the customer life it was issued in has ended.

    Lives of one account never overlap and only the last may be open, so that life has
    ended exactly when some life of the account ended after the invoice was issued.
    """
    latest_end = np.full(len(life.plan), -np.inf)
    done = ~np.isnan(life.lives["end"])
    np.maximum.at(latest_end, life.lives["account"][done].astype(np.int64), life.lives["end"][done])
    return issued < latest_end[acc]


def _voided(rows: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """About 1 in 150 invoices was first issued wrong and voided half an hour earlier."""
    pick = rng.random(len(rows["account"])) < 1 / 150
    void = {k: v[pick] for k, v in rows.items()}
    void["issued"] = void["issued"] - 0.02
    void["due"] = void["due"] - 0.02
    void["paid"] = np.full(int(pick.sum()), np.nan)
    void["status"] = np.full(int(pick.sum()), STATUS["void"])
    return void


def _concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
