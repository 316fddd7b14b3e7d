"""Support KPIs (METRICS.md, "Support"; all leading): FCR, response and resolution times, load.

A ticket counts twice in the `support` frame: in the period it was opened in (load, first
response time) and in the period it was resolved in (FCR, resolution time).

Hours are (later − earlier) in seconds / 3600, both instants taken to the whole second
(Spark's unix_timestamp has no fractions; DuckDB and PostgreSQL are floored to match).

Medians and p90 are exact continuous quantiles (linear interpolation between the two
nearest ranks, position (n − 1) × q, like PERCENTILE_CONT): Ibis compiles `.quantile()` to
QUANTILE_CONT on DuckDB, PERCENTILE_CONT on PostgreSQL and `percentile` on Spark, which is
Spark's exact percentile with the same interpolation (`approx_percentile` is the
approximate one), so every engine gives the same number.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sucesso.metrics.frames import beside, hours_between
from sucesso.metrics.registry import Context, frame, metric, ratio


def ticket_events(ctx: Context) -> ir.Table:
    """account_id, idx, event ("opened" / "resolved" in P), hours to that event's measure, contacts."""
    tickets, periods = ctx.table("tickets"), ctx.period_table()

    def in_period(at: str, event: str, until: str, contacts: ir.Value) -> ir.Table:
        t = tickets.join(periods, [tickets[at] >= periods.start, tickets[at] < periods.end])
        return t.select("account_id", "idx", event=ibis.literal(event),
                        hours=hours_between(t.opened_at, t[until]), contacts=contacts)

    opened = in_period("opened_at", "opened", "first_response_at", ibis.null().cast("int64"))
    resolved = in_period("resolved_at", "resolved", "resolved_at", tickets.contacts_to_resolve.cast("int64"))
    return ctx.with_groups(opened.union(resolved).view())


@frame("support")
def support(ctx: Context) -> ir.Table:
    """Per period (and group): tickets opened and resolved, their hours' quantiles, customers."""
    e = ticket_events(ctx)
    opened, resolved = e.event == "opened", e.event == "resolved"
    agg = e.group_by(ctx.keys).aggregate(
        tickets_opened=e.count(where=opened),
        first_response_hours_median=e.hours.quantile(0.5, where=opened),
        first_response_hours_p90=e.hours.quantile(0.9, where=opened),
        resolution_hours_median=e.hours.quantile(0.5, where=resolved),
        resolution_hours_p90=e.hours.quantile(0.9, where=resolved),
        resolved_first_contact=e.count(where=resolved & (e.contacts == 1)),
        resolved_contacts_known=e.count(where=resolved & e.contacts.notnull()),
    )
    customers = ctx.frame("movements").select(*ctx.keys, "customers_end")
    counts = ["tickets_opened", "resolved_first_contact", "resolved_contacts_known", "customers_end"]
    return ctx.per_period(beside(ctx, customers, agg), **dict.fromkeys(counts, 0))


@metric("fcr", frame="support", unit="rate", tag="L")
def fcr(t):
    """fcr = tickets resolved with contacts_to_resolve = 1 / resolved tickets with contacts_to_resolve known

    "First contact resolution", over the tickets resolved in P.
    """
    return ratio(t.resolved_first_contact, t.resolved_contacts_known)


@metric("first_response_hours_median", frame="support", unit="hours", tag="L")
def first_response_hours_median(t):
    """first_response_hours_median = median of (first_response_at − opened_at) in hours,
    over the tickets opened in P with a first response (whenever it came)."""
    return t.first_response_hours_median


@metric("first_response_hours_p90", frame="support", unit="hours", tag="L")
def first_response_hours_p90(t):
    """first_response_hours_p90 = 90th percentile of (first_response_at − opened_at) in hours,
    over the tickets opened in P with a first response."""
    return t.first_response_hours_p90


@metric("resolution_hours_median", frame="support", unit="hours", tag="L")
def resolution_hours_median(t):
    """resolution_hours_median = median of (resolved_at − opened_at) in hours, over the tickets
    resolved in P."""
    return t.resolution_hours_median


@metric("resolution_hours_p90", frame="support", unit="hours", tag="L")
def resolution_hours_p90(t):
    """resolution_hours_p90 = 90th percentile of (resolved_at − opened_at) in hours, over the
    tickets resolved in P."""
    return t.resolution_hours_p90


@metric("tickets_per_customer", frame="support", unit="number", tag="L")
def tickets_per_customer(t):
    """tickets_per_customer = tickets opened in P / customers (E_a > 0)

    Every ticket opened in P counts, also one from an account that is no customer at end(P).
    """
    return ratio(t.tickets_opened, t.customers_end)
