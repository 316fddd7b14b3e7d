"""Building blocks the KPI families share to build their frames (see registry.py)."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from sucesso.metrics.registry import Context


def beside(ctx: Context, *aggregates: ir.Table) -> ir.Table:
    """Aggregates keyed by ctx.keys side by side: one row per key that any of them has.

    Columns an aggregate lacks for a key stay null, for `ctx.per_period` to fill. A null
    group (an account without a segment…) is matched null-safely.
    """
    out = ibis.union(*[a.select(*ctx.keys) for a in aggregates], distinct=True).view()
    for a in aggregates:
        out = ctx.left_join_on_keys(out, a.view())
    return out


def last_days(ctx: Context, days: int) -> ir.Table:
    """idx, since, until: the window [end(P) − days, end(P)) of every period."""
    since = ctx.instants(lambda p: p.end - dt.timedelta(days=days)).rename(since="t")
    return ctx.period_table().join(since, "idx").select("idx", "since", until="end").view()


def window_days(ctx: Context, days: int) -> ir.Table:
    """day, idx, bit: the calendar days of the window [end(P) − days, end(P)) of every period,
    each with its own bit (1 << its place in the window) for `days_in(bit_or(bit))`, in
    windows of up to MAX_WINDOW_DAYS days (null in longer ones).

    Period ends fall at midnight, so a row is in a window exactly when its day is.
    """
    bits = days <= MAX_WINDOW_DAYS
    rows = [(p.end - dt.timedelta(days=d + 1), p.index, 1 << d if bits else None)
            for p in ctx.periods for d in range(days)]
    day, idx, bit = zip(*rows, strict=True) if rows else ((), (), ())
    return ibis.memtable(pa.table({"day": pa.array(day, pa.date32()), "idx": pa.array(idx, pa.int64()),
                                   "bit": pa.array(bit, pa.int64())}))


def windowed(ctx: Context, rows: ir.Table, at: str, days: int) -> ir.Table:
    """idx, day, bit and the columns of `rows`: each row once per period whose last `days`
    days hold its timestamp `at`.

    An equi-join on the day: a range join against the windows is many times slower on tens of
    millions of events. Aggregate these per (account_id, idx) before joining the customers:
    the aggregate is far smaller than the rows.
    """
    dated = rows.mutate(day=rows[at].date())
    return dated.join(window_days(ctx, days), "day").select(*dated.columns, "idx", "bit").view()


def in_window(ctx: Context, customers: ir.Table, rows: ir.Table, at: str, days: int) -> ir.Table:
    """idx, day and the columns of `rows` (account_id, a timestamp `at`): each customer's rows in
    the last `days` of each period (`windowed`, matched to the customers on (account_id, idx))."""
    tagged = windowed(ctx, rows, at, days)
    c = customers.select(c_account="account_id", c_idx="idx")
    j = tagged.join(c, [tagged.account_id == c.c_account, tagged.idx == c.c_idx])
    return j.select("idx", *rows.columns, "day").view()


MAX_WINDOW_DAYS = 62


def days_in(mask: ir.IntegerValue, days: int) -> ir.IntegerValue:
    """How many days a mask of a `days`-day window holds (a bit_or of `window_days` bits): the
    sum of its bits, in plain integer arithmetic that every engine runs alike."""
    return sum(((mask >> k) & 1 for k in range(1, days)), mask & 1)


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
