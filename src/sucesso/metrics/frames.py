"""Building blocks the KPI families share to build their frames (see registry.py)."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from sucesso.metrics.mrr import mrr_at
from sucesso.metrics.registry import Context


def beside(ctx: Context, *aggregates: ir.Table) -> ir.Table:
    """Aggregates keyed by ctx.keys side by side: one row per key that any of them has.

    Columns an aggregate lacks for a key stay null, for `ctx.per_period` to fill. A null
    group (an account without a segment…) is matched null-safely.
    """
    out = ibis.union(*[a.select(*ctx.keys) for a in aggregates], distinct=True).view()
    for a in aggregates:
        a = a.view()
        on = [out.idx == a.idx] + ([out.grp.identical_to(a.grp)] if ctx.by else [])
        out = out.left_join(a, on).drop(*[f"{k}_right" for k in ctx.keys]).view()
    return out


def last_days(ctx: Context, days: int) -> ir.Table:
    """idx, since, until: the window [end(P) − days, end(P)) of every period."""
    since = ctx.instants(lambda p: p.end - dt.timedelta(days=days)).rename(since="t")
    return ctx.period_table().join(since, "idx").select("idx", "since", until="end").view()


def recent_customers(ctx: Context, days: int) -> ir.Table:
    """account_id, idx, mrr, since, until: the customers at end(P), each with the last `days` of P."""
    customers = mrr_at(ctx.table("subscriptions"), ctx.instants(lambda p: p.end))
    return customers.join(last_days(ctx, days), "idx").view()


def in_window(customers: ir.Table, rows: ir.Table, at: str) -> ir.Table:
    """idx and the columns of `rows` (account_id, a timestamp `at`): each customer's rows in its window."""
    c = customers
    j = c.join(rows, [c.account_id == rows.account_id, rows[at] >= c.since, rows[at] < c.until])
    return j.select("idx", *rows.columns).view()


def attach(t: ir.Table, other: ir.Table, keys: list[str]) -> ir.Table:
    """t left-joined with other on same-named, non-null keys (other's copy of the keys dropped)."""
    return t.left_join(other, keys).drop(*[f"{k}_right" for k in keys]).view()


def elapsed_seconds(earlier: ir.TimestampValue, later: ir.TimestampValue) -> ir.FloatingValue:
    """Whole seconds from earlier to later, the same double on every engine.

    Spark's epoch_seconds drops fractions of a second while DuckDB and PostgreSQL keep
    them, so both instants are truncated to the second first.
    """
    return (later.truncate("s").epoch_seconds() - earlier.truncate("s").epoch_seconds()).cast("float64")


def days_between(earlier: ir.TimestampValue, later: ir.TimestampValue) -> ir.FloatingValue:
    return elapsed_seconds(earlier, later) / 86_400


def hours_between(earlier: ir.TimestampValue, later: ir.TimestampValue) -> ir.FloatingValue:
    return elapsed_seconds(earlier, later) / 3_600
