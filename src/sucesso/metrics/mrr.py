"""Account MRR at an instant, and the start/end MRR of every account in every period.

`MRR(a, t)` (DESIGN.md) is the sum of `mrr` over a's subscriptions with
started_at ≤ t < ended_at. METRICS.md reads it *just before* each boundary instant, so a
subscription [2019-01-01, 2019-03-01) counts at end(January) and end(February) but not at
start(January) nor end(March): active just before t ⟺ started_at < t ≤ ended_at (or no end).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from sucesso.metrics.registry import Context, frame


def mrr_at(subscriptions: ir.Table, instants: ir.Table) -> ir.Table:
    """account_id, idx, mrr: each account's MRR just before each instant (rows only where > 0)."""
    s, i = subscriptions, instants
    active = s.join(i, [s.started_at < i.t, s.ended_at.isnull() | (s.ended_at >= i.t)])
    return (active.group_by(["account_id", "idx"]).aggregate(mrr=_.mrr.sum())
            .filter(_.mrr > 0))


def customers_at_end(ctx: Context) -> ir.Table:
    """account_id, idx, mrr: the customers at end(P) (MRR > 0 just before it), shared by the frames."""
    return ctx.shared("customers_at_end", lambda: mrr_at(ctx.table("subscriptions"), ctx.instants(lambda p: p.end)))


def first_paid(subscriptions: ir.Table) -> ir.Table:
    """account_id, first_paid_at: when the account first became a customer."""
    paid = subscriptions.filter(_.mrr > 0)
    return paid.group_by("account_id").aggregate(first_paid_at=_.started_at.min())


def account_periods(ctx: Context) -> ir.Table:
    """account_id, idx, start_mrr (S_a), end_mrr (E_a), was_customer_before, grp.

    One row per account and period where S_a > 0 or E_a > 0.
    """
    subs = ctx.table("subscriptions")
    ends = customers_at_end(ctx)
    starts = mrr_at(subs, ctx.instants(lambda p: p.start)).select(
        s_account=_.account_id, s_idx=_.idx, start_mrr=_.mrr)
    both = ends.outer_join(starts, [ends.account_id == starts.s_account, ends.idx == starts.s_idx])
    zero = ibis.literal(0).cast(subs.mrr.type())
    moves = both.select(
        account_id=ibis.coalesce(both.account_id, both.s_account),
        idx=ibis.coalesce(both.idx, both.s_idx),
        start_mrr=both.start_mrr.fill_null(zero),
        end_mrr=both.mrr.fill_null(zero),
    ).view()
    periods = ctx.period_table()
    first = first_paid(subs)
    moves = moves.join(periods, "idx").select(*moves.columns, "start").view()
    moves = moves.join(first, "account_id").select(*moves.columns, "first_paid_at").view()
    moves = moves.mutate(was_customer_before=moves.first_paid_at < moves.start)
    return ctx.with_groups(moves.select("account_id", "idx", "start_mrr", "end_mrr", "was_customer_before"))


MOVES = ("new", "reactivation", "expansion", "contraction", "churn")


def moves(m: ir.Table) -> dict[str, ir.BooleanValue]:
    """The movement of each account period of `account_periods`, by its start S and end E MRR:
    new (0 → E > 0, never a customer before), reactivation (0 → E > 0, a customer before),
    expansion (0 < S < E), contraction (0 < E < S), churn (S > 0 → 0)."""
    s, e = m.start_mrr, m.end_mrr
    arrived = (s == 0) & (e > 0)
    return {"new": arrived & ~m.was_customer_before, "reactivation": arrived & m.was_customer_before,
            "expansion": (s > 0) & (e > s), "contraction": (s > 0) & (e > 0) & (e < s), "churn": (s > 0) & (e == 0)}


@frame("movements")
def movements(ctx: Context) -> ir.Table:
    """Per period (and group): start/end MRR and customers, and the MRR movements."""
    m = account_periods(ctx)
    s, e = m.start_mrr, m.end_mrr
    zero = ibis.literal(0).cast(s.type())
    move = moves(m)
    new, reactivated, expanded = move["new"], move["reactivation"], move["expansion"]
    contracted, churned = move["contraction"], move["churn"]
    agg = m.group_by(ctx.keys).aggregate(
        start_mrr=s.sum(),
        end_mrr=e.sum(),
        customers_start=(s > 0).sum(),
        customers_end=(e > 0).sum(),
        new_mrr=ibis.ifelse(new, e, zero).sum(),
        reactivation_mrr=ibis.ifelse(reactivated, e, zero).sum(),
        expansion_mrr=ibis.ifelse(expanded, e - s, zero).sum(),
        contraction_mrr=ibis.ifelse(contracted, s - e, zero).sum(),
        churned_mrr=ibis.ifelse(churned, s, zero).sum(),
        new_customers=new.sum(),
        reactivated_customers=reactivated.sum(),
        churned_customers=churned.sum(),
    )
    money = ["start_mrr", "end_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr",
             "churned_mrr"]
    counts = ["customers_start", "customers_end", "new_customers", "reactivated_customers", "churned_customers"]
    filled = ctx.per_period(agg, **dict.fromkeys(money, zero), **dict.fromkeys(counts, 0))
    return filled.mutate(periods_per_year=ibis.literal(ctx.periods_per_year))


@frame("retention_12m")
def retention_12m(ctx: Context) -> ir.Table:
    """Per period: the MRR 12 months before end(P) of the customers then, and their MRR now."""
    from sucesso.metrics.periods import add_months

    subs = ctx.table("subscriptions")
    then = mrr_at(subs, ctx.instants(lambda p: add_months(p.end, -12))).select(
        "account_id", "idx", mrr_then="mrr")
    now = customers_at_end(ctx).select(n_account="account_id", n_idx="idx", mrr_now="mrr")
    j = then.left_join(now, [then.account_id == now.n_account, then.idx == now.n_idx])
    zero = ibis.literal(0).cast(subs.mrr.type())
    cohort = ctx.with_groups(j.select("account_id", "idx", "mrr_then", mrr_now=j.mrr_now.fill_null(zero)).view())
    agg = cohort.group_by(ctx.keys).aggregate(
        mrr_12m_then=cohort.mrr_then.sum(),
        mrr_12m_now=cohort.mrr_now.sum(),
        mrr_12m_kept=ibis.least(cohort.mrr_now, cohort.mrr_then).sum(),
    )
    return ctx.per_period(agg, mrr_12m_then=zero, mrr_12m_now=zero, mrr_12m_kept=zero)
