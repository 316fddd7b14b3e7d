"""Retention KPIs (METRICS.md, "Revenue"; all lagging): churn rates, NRR/GRR, quick ratio."""

from __future__ import annotations

from sucesso.metrics.registry import metric, ratio


@metric("logo_churn_rate", frame="movements", unit="rate", tag="G")
def logo_churn_rate(t):
    """logo_churn_rate = churned_customers / #{a : S_a > 0}"""
    return ratio(t.churned_customers, t.customers_start)


@metric("logo_churn_rate_annualized", frame="movements", unit="rate", tag="G")
def logo_churn_rate_annualized(t):
    """logo_churn_rate_annualized = 1 − (1 − logo_churn_rate)^12

    METRICS.md defines it for monthly periods; for quarters and years the exponent is the
    number of such periods in a year (4, 1), so it is always a yearly rate.
    """
    return 1 - (1 - logo_churn_rate(t)) ** t.periods_per_year


@metric("gross_mrr_churn_rate", frame="movements", unit="rate", tag="G")
def gross_mrr_churn_rate(t):
    """gross_mrr_churn_rate = (churned_mrr + contraction_mrr) / Σ S_a  — "revenue churn\""""
    return ratio(t.churned_mrr + t.contraction_mrr, t.start_mrr)


@metric("net_mrr_churn_rate", frame="movements", unit="rate", tag="G")
def net_mrr_churn_rate(t):
    """net_mrr_churn_rate = (churned + contraction − expansion − reactivation) / Σ S_a

    Below zero is negative churn.
    """
    return ratio(t.churned_mrr + t.contraction_mrr - t.expansion_mrr - t.reactivation_mrr, t.start_mrr)


@metric("nrr", frame="movements", unit="rate", tag="G")
def nrr(t):
    """nrr = (Σ S_a + expansion_mrr − contraction_mrr − churned_mrr) / Σ S_a, over S_a > 0"""
    return ratio(t.start_mrr + t.expansion_mrr - t.contraction_mrr - t.churned_mrr, t.start_mrr)


@metric("grr", frame="movements", unit="rate", tag="G")
def grr(t):
    """grr = (Σ S_a − contraction_mrr − churned_mrr) / Σ S_a"""
    return ratio(t.start_mrr - t.contraction_mrr - t.churned_mrr, t.start_mrr)


@metric("nrr_12m", frame="retention_12m", unit="rate", tag="G")
def nrr_12m(t):
    """nrr_12m = Σ MRR(a, end(P)) / Σ MRR(a, end(P) − 12 months), over accounts that were
    customers 12 months before end(P)."""
    return ratio(t.mrr_12m_now, t.mrr_12m_then)


@metric("grr_12m", frame="retention_12m", unit="rate", tag="G")
def grr_12m(t):
    """grr_12m = Σ min(MRR now, MRR then) / Σ MRR then, same accounts as nrr_12m (each account
    capped at its starting MRR)."""
    return ratio(t.mrr_12m_kept, t.mrr_12m_then)


@metric("customer_retention_rate", frame="movements", unit="rate", tag="G")
def customer_retention_rate(t):
    """customer_retention_rate = (customers_end − new_customers − reactivated_customers) / customers_start"""
    return ratio(t.customers_end - t.new_customers - t.reactivated_customers, t.customers_start)


@metric("quick_ratio", frame="movements", unit="number", tag="G")
def quick_ratio(t):
    """quick_ratio = (new_mrr + expansion_mrr + reactivation_mrr) / (churned_mrr + contraction_mrr)"""
    return ratio(t.new_mrr + t.expansion_mrr + t.reactivation_mrr, t.churned_mrr + t.contraction_mrr)


@metric("expansion_rate", frame="movements", unit="rate", tag="G")
def expansion_rate(t):
    """expansion_rate = expansion_mrr / Σ S_a"""
    return ratio(t.expansion_mrr, t.start_mrr)
