"""Revenue KPIs (METRICS.md, "Revenue"; all lagging). S_a / E_a: account MRR at start/end of P."""

from __future__ import annotations

from sucesso.metrics.registry import metric, ratio


@metric("mrr", frame="movements", unit="money", tag="G")
def mrr(t):
    """mrr = Σ_a E_a"""
    return t.end_mrr


@metric("arr", frame="movements", unit="money", tag="G")
def arr(t):
    """arr = 12 × mrr"""
    return t.end_mrr * 12


@metric("customers", frame="movements", unit="count", tag="G")
def customers(t):
    """customers = #{a : E_a > 0}"""
    return t.customers_end


@metric("arpa", frame="movements", unit="money", tag="G")
def arpa(t):
    """arpa = mrr / customers"""
    return ratio(t.end_mrr, t.customers_end)


@metric("new_mrr", frame="movements", unit="money", tag="G")
def new_mrr(t):
    """new_mrr = Σ E_a over accounts with S_a = 0, E_a > 0 and never a customer before P"""
    return t.new_mrr


@metric("reactivation_mrr", frame="movements", unit="money", tag="G")
def reactivation_mrr(t):
    """reactivation_mrr = Σ E_a over accounts with S_a = 0, E_a > 0 that were customers before P

    "Customer before P": the account had a paid subscription that started before start(P),
    even one that started and ended inside an earlier period.
    """
    return t.reactivation_mrr


@metric("expansion_mrr", frame="movements", unit="money", tag="G")
def expansion_mrr(t):
    """expansion_mrr = Σ (E_a − S_a) over S_a > 0, E_a > S_a"""
    return t.expansion_mrr


@metric("contraction_mrr", frame="movements", unit="money", tag="G")
def contraction_mrr(t):
    """contraction_mrr = Σ (S_a − E_a) over S_a > 0, 0 < E_a < S_a"""
    return t.contraction_mrr


@metric("churned_mrr", frame="movements", unit="money", tag="G")
def churned_mrr(t):
    """churned_mrr = Σ S_a over S_a > 0, E_a = 0"""
    return t.churned_mrr


@metric("net_new_mrr", frame="movements", unit="money", tag="G")
def net_new_mrr(t):
    """net_new_mrr = new + reactivation + expansion − contraction − churned (= mrr(P) − mrr(P−1))"""
    return t.new_mrr + t.reactivation_mrr + t.expansion_mrr - t.contraction_mrr - t.churned_mrr


@metric("new_customers", frame="movements", unit="count", tag="G")
def new_customers(t):
    """new_customers = #{a : S_a = 0, E_a > 0, never a customer before P}"""
    return t.new_customers


@metric("reactivated_customers", frame="movements", unit="count", tag="G")
def reactivated_customers(t):
    """reactivated_customers = #{a : S_a = 0, E_a > 0, a customer before P}"""
    return t.reactivated_customers


@metric("churned_customers", frame="movements", unit="count", tag="G")
def churned_customers(t):
    """churned_customers = #{a : S_a > 0, E_a = 0}"""
    return t.churned_customers
