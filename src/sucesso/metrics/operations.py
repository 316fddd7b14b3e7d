"""Operations KPIs (METRICS.md, "Operations"): CSM portfolios, coverage, churn requests.

portfolio_health_mix and task_sla wait for the health scores and playbook tasks they count.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from sucesso.metrics.frames import attach, in_window
from sucesso.metrics.mrr import customers_at_end
from sucesso.metrics.registry import Context, frame, metric, ratio

GENERIC_REASONS = ("unknown", "other", "no_value", "did_not_want_to_pay")


def decided_requests(ctx: Context) -> ir.Table:
    """The churn requests decided in P (start(P) ≤ decided_at < end(P)), with idx.

    A request is decided when it has a decided_at and its outcome is recovered or churned; a
    pending outcome with a decision date is not a decision yet.
    """
    r, p = ctx.table("churn_requests"), ctx.period_table()
    decided = r.filter(r.outcome != "pending")
    j = decided.join(p, [decided.decided_at >= p.start, decided.decided_at < p.end])
    return j.select("idx", *r.columns).view()


@frame("coverage")
def coverage_frame(ctx: Context) -> ir.Table:
    """Per period (and group): customers at end(P), and those with a CS activity in the last N days."""
    customers = customers_at_end(ctx)
    touched = in_window(ctx, customers, ctx.table("cs_activities"), "occurred_at", ctx.settings["coverage_days"])
    touched = touched.group_by(["account_id", "idx"]).aggregate(activities=_.count())
    c = ctx.with_groups(attach(customers.select("account_id", "idx"), touched, ["account_id", "idx"]))
    agg = c.group_by(ctx.keys).aggregate(customers=_.count(), covered=c.activities.notnull().sum())
    return ctx.per_period(agg, customers=0, covered=0)


@frame("churn_requests")
def churn_requests_frame(ctx: Context) -> ir.Table:
    """Per period (and group): churn requests decided in P, and those recovered."""
    r = ctx.with_groups(decided_requests(ctx))
    agg = r.group_by(ctx.keys).aggregate(decided=_.count(), recovered=(r.outcome == "recovered").sum())
    return ctx.per_period(agg, decided=0, recovered=0)


@metric("portfolio_accounts", frame="movements", unit="count", tag="G")
def portfolio_accounts(t):
    """portfolio_accounts = #{a : E_a > 0} — `customers`, meant to be read per CSM (--by csm)"""
    return t.customers_end


@metric("portfolio_mrr", frame="movements", unit="money", tag="G")
def portfolio_mrr(t):
    """portfolio_mrr = Σ_a E_a — `mrr`, meant to be read per CSM (--by csm)"""
    return t.end_mrr


@metric("coverage", frame="coverage", unit="rate", tag="L")
def coverage(t):
    """coverage = #{a customer at end(P) : a cs_activity in [end(P) − N days, end(P))} / customers

    N = settings["coverage_days"] (default 90). Any activity kind counts, with or without a CSM.
    """
    return ratio(t.covered, t.customers)


@metric("churn_requests", frame="churn_requests", unit="count", tag="G")
def churn_requests(t):
    """churn_requests = #{churn requests decided in P : start(P) ≤ decided_at < end(P), outcome recovered or churned}"""
    return t.decided


@metric("churn_rescue_rate", frame="churn_requests", unit="rate", tag="G")
def churn_rescue_rate(t):
    """churn_rescue_rate = #{decided in P : outcome = recovered} / #{decided in P}"""
    return ratio(t.recovered, t.decided)


def churn_reasons(ctx: Context) -> ir.Table:
    """idx, [grp], reason_code, requests, lost_mrr, generic: per period and reason (METRICS.md),

        requests = #{churn requests decided in P with this reason}        (as churn_requests)
        lost_mrr = Σ MRR(a, requested_at) over those whose outcome is churned
        generic  = reason_code is unknown, other, no_value or did_not_want_to_pay

    MRR(a, requested_at) is the account's MRR just before it asked to leave: by the decision
    its subscriptions may already have ended. Only reasons with requests get a row; codes
    are compared for `generic` without regard to case.
    """
    decided, subs = decided_requests(ctx), ctx.table("subscriptions")
    paying = decided.join(subs, [decided.account_id == subs.account_id, subs.started_at < decided.requested_at,
                                 subs.ended_at.isnull() | (subs.ended_at >= decided.requested_at)])
    at_request = paying.group_by("request_id").aggregate(mrr=_.mrr.sum())
    r = ctx.with_groups(attach(decided, at_request, ["request_id"]))
    zero = ibis.literal(0).cast(subs.mrr.type())
    lost = ibis.ifelse(r.outcome == "churned", r.mrr.fill_null(zero), zero)
    agg = r.group_by([*ctx.keys, "reason_code"]).aggregate(requests=_.count(), lost_mrr=lost.sum())
    return agg.mutate(generic=agg.reason_code.lower().isin(GENERIC_REASONS))
