"""Onboarding, adoption and engagement KPIs (METRICS.md, "Onboarding, adoption, engagement"; leading).

A customer at end(P) is an account with MRR > 0 just before end(P) (mrr.py). "The last 30
days" of P is the window [end(P) − N days, end(P)), N = settings["active_days"] (default 30).
A user is a distinct contact_id: an event without a contact makes its account active but
counts for no user.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from sucesso.metrics.frames import MAX_WINDOW_DAYS, attach, days_between, days_in, windowed
from sucesso.metrics.mrr import customers_at_end
from sucesso.metrics.registry import Context, frame, metric, ratio

# ── frames ───────────────────────────────────────────────────────────────────────────────────

@frame("onboarding")
def onboarding(ctx: Context) -> ir.Table:
    """Per period (and group): accounts created in P, those activated in time, median days to first value."""
    accounts, periods, ms = ctx.table("accounts"), ctx.period_table(), ctx.table("milestones")
    created = accounts.join(periods, [accounts.created_at >= periods.start, accounts.created_at < periods.end])
    created = created.select("account_id", "idx", "created_at").view()
    activated = ms.filter(ms.milestone == "activated").select("account_id", activated_at="reached_at")
    first_value = ms.filter(ms.milestone == "first_value").select("account_id", first_value_at="reached_at")
    a = attach(attach(created, activated, ["account_id"]), first_value, ["account_id"])
    in_time = a.activated_at <= a.created_at + ibis.interval(days=ctx.settings["activation_days"])
    a = ctx.with_groups(a.mutate(in_time=in_time.fill_null(False),
                                 first_value_days=days_between(a.created_at, a.first_value_at)))
    agg = a.group_by(ctx.keys).aggregate(
        created=_.count(),
        activated=a.in_time.sum(),
        # exact and interpolated everywhere: QUANTILE_CONT, PERCENTILE_CONT, Spark's `percentile`
        first_value_days_median=a.first_value_days.median(),
    )
    return ctx.per_period(agg, created=0, activated=0)


@frame("adoption")
def adoption(ctx: Context) -> ir.Table:
    """Per period (and group), over the customers at end(P) and their last N days of usage:
    customers, active_accounts, key_features_used (Σ per customer), key_features (catalogue),
    stickiness (mean per customer), seat_users and seats (customers with seats > 0)."""
    days = ctx.settings["active_days"]
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"active_days is {days}: it must be 1 to {MAX_WINDOW_DAYS} days")
    customers = customers_at_end(ctx)
    events = windowed(ctx, ctx.table("usage_events"), "occurred_at", days)
    key = ctx.table("features").filter(_.is_key)
    # per user and window, the days they were active as a bit mask: far cheaper than grouping
    # tens of millions of events by user-day (an event without a contact is a null "user")
    per_user = events.group_by(["account_id", "idx", "contact_id"]).aggregate(n=_.count(), mask=_.bit.bit_or())
    usage = per_user.group_by(["account_id", "idx"]).aggregate(
        events=_.n.sum(), users=_.contact_id.count(),
        user_days=ibis.ifelse(_.contact_id.notnull(), days_in(_.mask, days), 0).sum())
    key_used = (events.filter(events.event.isin(key.event))
                .group_by(["account_id", "idx"]).aggregate(key_features_used=_.event.nunique()))

    c = attach(customers.select("account_id", "idx"), usage, ["account_id", "idx"])
    c = attach(c, key_used, ["account_id", "idx"])
    c = ctx.with_groups(attach(c, ctx.table("accounts").select("account_id", "seats"), ["account_id"]))
    seats_known = c.seats.fill_null(0) > 0
    agg = c.group_by(ctx.keys).aggregate(
        customers=_.count(),
        active_accounts=(c.events.fill_null(0) > 0).sum(),
        key_features_used=c.key_features_used.fill_null(0).sum(),
        # null for a customer without active users, and the mean skips nulls
        stickiness=ratio(c.user_days, c.users * days).mean(),
        seat_users=ibis.ifelse(seats_known, c.users.fill_null(0), 0).sum(),
        seats=ibis.ifelse(seats_known, c.seats, 0).sum(),
    )
    filled = ctx.per_period(agg, **dict.fromkeys(["customers", "active_accounts", "key_features_used",
                                                  "seat_users", "seats"], 0))
    return filled.cross_join(key.aggregate(key_features=_.count()))


# ── KPIs ─────────────────────────────────────────────────────────────────────────────────────

@metric("activation_rate", frame="onboarding", unit="rate", tag="L")
def activation_rate(t):
    """activation_rate = #{a created in P : activated reached_at ≤ created_at + N days} / #{a created in P}

    N = settings["activation_days"] (default 30). "Created in P": start(P) ≤ created_at < end(P).
    A period's value can still rise until N days after its end, while its accounts run their N days.
    """
    return ratio(t.activated, t.created)


@metric("time_to_first_value_days_median", frame="onboarding", unit="days", tag="L")
def time_to_first_value_days_median(t):
    """time_to_first_value_days_median = median over accounts created in P of
    (first_value reached_at − created_at) in days

    Days are fractional (elapsed seconds / 86 400); accounts that have not reached
    `first_value` are left out; null when none has. The exact median (the mean of the two
    middle values for an even count), identical on every engine.
    """
    return t.first_value_days_median


@metric("adoption_rate", frame="adoption", unit="rate", tag="L")
def adoption_rate(t):
    """adoption_rate = mean over customers a at end(P) of
    #{key features a used in the last 30 days} / #{key features}

    Key features: features with is_key; a customer with no usage counts as 0. As every
    customer shares the denominator, the mean is Σ_a used_a / (customers × key features).
    Null when there are no customers or no key features.
    """
    return ratio(t.key_features_used, t.customers * t.key_features)


@metric("active_accounts", frame="adoption", unit="count", tag="L")
def active_accounts(t):
    """active_accounts = #{a customer at end(P) : ≥ 1 usage event in [end(P) − 30 days, end(P))}"""
    return t.active_accounts


@metric("stickiness", frame="adoption", unit="rate", tag="L")
def stickiness(t):
    """stickiness = mean over customers a of (DAU_a averaged over the 30 days / MAU_a)

    DAU_a on a day = distinct contacts of a with an event that day; averaged over all 30
    days of the window (days without activity count as 0); MAU_a = distinct contacts of a with
    an event in the window. Customers with no active user (MAU_a = 0) have no ratio and are
    left out of the mean; null when no customer has one.
    """
    return t.stickiness


@metric("seat_utilisation", frame="adoption", unit="rate", tag="L")
def seat_utilisation(t):
    """seat_utilisation = Σ_a active users_a / Σ_a seats_a, over customers at end(P) with seats > 0

    Active users: distinct contacts with an event in the last 30 days. Pooled (Σ / Σ), not a
    mean of per-account ratios: it answers "what share of the seats we sold is in use", each
    seat weighs the same, and a 2-seat account does not swing it like a 500-seat one. Not
    capped: above 1 means more people use the product than seats were sold.
    """
    return ratio(t.seat_users, t.seats)


# ── per-feature table (not a scalar per period, so not a @metric) ───────────────────────────

def feature_adoption(ctx: Context) -> ir.Table:
    """idx, [grp], event, name, value: per feature of the `features` catalogue and period,

        feature_adoption = #{customers at end(P) that used the feature in the last 30 days}
                           / #{customers at end(P)}          (METRICS.md)

    Every feature has a row in every period (and group with customers); value is 0 when no
    customer used it, null when there are no customers. Events outside the catalogue are not
    features and get no row.
    """
    customers = customers_at_end(ctx)
    used = windowed(ctx, ctx.table("usage_events"), "occurred_at", ctx.settings["active_days"])
    used = used.select("account_id", "idx", "event").distinct()
    used = used.join(customers.select("account_id", "idx"), ["account_id", "idx"]).select("account_id", "idx", "event")
    used = ctx.with_groups(used.view()).group_by([*ctx.keys, "event"]).aggregate(users=_.count())
    counts = ctx.with_groups(customers.select("account_id", "idx")).group_by(ctx.keys).aggregate(customers=_.count())
    grid = ctx.per_period(counts, customers=0).cross_join(ctx.table("features").select("event", "name"))
    on = [grid.idx == used.idx, grid.event == used.event]
    if ctx.by:
        on.append(grid.grp.identical_to(used.grp))
    j = grid.left_join(used, on)
    return j.select(*ctx.keys, "event", "name", value=ratio(j.users.fill_null(0), j.customers))
