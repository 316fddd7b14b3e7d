"""Billing and unit economics KPIs (METRICS.md, "Billing and unit economics"; all lagging).

The `billing` frame puts, per period (and group), the invoices issued in P, the customers
owing a past-due invoice at end(P) and the acquisition spend of P beside the `movements`
columns these KPIs divide by (customers, new and churned customers, MRR).

average_ticket per invoice category is a table, not one value a period: see
`average_ticket_by_category`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from sucesso.metrics.frames import beside
from sucesso.metrics.mrr import customers_at_end
from sucesso.metrics.registry import Context, frame, metric, ratio
from sucesso.metrics.retention import logo_churn_rate
from sucesso.metrics.revenue import arpa

MOVEMENTS = ("end_mrr", "customers_start", "customers_end", "new_customers", "churned_customers")


def issued_in_period(ctx: Context, periods: ir.Table) -> ir.Table:
    """account_id, idx, [grp], category, amount: the invoices issued in P, void ones left out."""
    inv = ctx.table("invoices")
    live = inv.filter(inv.status != "void")
    issued = live.join(periods, [live.issued_at >= periods.start, live.issued_at < periods.end])
    return ctx.with_groups(issued.select("account_id", "idx", "category", "amount").view())


def invoices_issued(ctx: Context, periods: ir.Table) -> ir.Table:
    """invoice_amount, invoices: Σ amount and count of the invoices issued in P, void ones left out."""
    issued = issued_in_period(ctx, periods)
    return issued.group_by(ctx.keys).aggregate(invoice_amount=_.amount.sum(), invoices=_.count())


def average_ticket_by_category(ctx: Context) -> ir.Table:
    """idx, [grp], category, invoices, average_ticket: average_ticket per invoice category
    (METRICS.md "also per invoice category", the "ticket médio" of each kind of charge).

        average_ticket(P, c) = Σ amount / #invoices issued in P with category c, not void

    Invoices without a category form their own row (category null). Only categories with
    invoices in P get a row.
    """
    issued = issued_in_period(ctx, ctx.period_table())
    agg = issued.group_by([*ctx.keys, "category"]).aggregate(invoices=_.count(), invoice_amount=_.amount.sum())
    return agg.select(*ctx.keys, "category", "invoices", average_ticket=ratio(agg.invoice_amount, agg.invoices))


def past_due(ctx: Context, periods: ir.Table) -> ir.Table:
    """account_id, idx, invoice_id, amount: the invoices past due and unpaid at end(P).

    issued_at < end(P), due_at < end(P), paid_at null or ≥ end(P), status not void. An invoice
    without due_at is never past due, nor one marked paid whose payment date is unknown.
    """
    inv = ctx.table("invoices")
    live = inv.filter((inv.status != "void") & ~((inv.status == "paid") & inv.paid_at.isnull()))
    late = live.join(periods, [live.issued_at < periods.end, live.due_at < periods.end,
                               live.paid_at.isnull() | (live.paid_at >= periods.end)])
    return late.select("account_id", "idx", "invoice_id", "amount").view()


def delinquent_customers(ctx: Context, periods: ir.Table) -> ir.Table:
    """delinquent_customers: customers at end(P) (E_a > 0) owing a past-due invoice then.

    Past due and unpaid at end(P): issued_at < end(P), due_at < end(P), paid_at null or
    ≥ end(P), status not void. An invoice without due_at is never past due, nor one marked
    paid whose payment date is unknown.
    """
    late = past_due(ctx, periods).select("account_id", "idx").distinct().view()
    customers = customers_at_end(ctx).select("account_id", "idx")
    owing = ctx.with_groups(late.join(customers, ["account_id", "idx"]).select("account_id", "idx").view())
    return owing.group_by(ctx.keys).aggregate(delinquent_customers=_.count())


def acquisition_spend(ctx: Context, periods: ir.Table) -> ir.Table:
    """acquisition_spend: Σ amount over the acquisition_spend rows whose month falls in P."""
    spend = ctx.table("acquisition_spend")
    month = spend.month.cast("timestamp")
    in_period = spend.join(periods, [month >= periods.start, month < periods.end])
    return in_period.group_by("idx").aggregate(acquisition_spend=_.amount.sum())


@frame("billing")
def billing(ctx: Context) -> ir.Table:
    """Per period (and group): invoices, delinquent customers, acquisition spend, movements.

    Acquisition spend belongs to no account, so it cannot be split by group: with --by it is
    null, and so are cac, ltv_to_cac and cac_payback_months.
    """
    periods = ctx.period_table()
    money = ctx.table("invoices").amount.type()
    zero = ibis.literal(0).cast(money)
    parts = [ctx.frame("movements").select(*ctx.keys, *MOVEMENTS),
             invoices_issued(ctx, periods), delinquent_customers(ctx, periods)]
    if not ctx.by:
        parts.append(acquisition_spend(ctx, periods))
    counts = ["customers_start", "customers_end", "new_customers", "churned_customers", "invoices",
              "delinquent_customers"]
    sums = ["end_mrr", "invoice_amount"] + ([] if ctx.by else ["acquisition_spend"])
    filled = ctx.per_period(beside(ctx, *parts), **dict.fromkeys(counts, 0), **dict.fromkeys(sums, zero))
    return filled.mutate(
        **({"acquisition_spend": ibis.null().cast(money)} if ctx.by else {}),
        gross_margin=ibis.literal(float(ctx.settings["gross_margin"])),
        months_per_period=ibis.literal(12 // ctx.periods_per_year),
    )


@metric("average_ticket", frame="billing", unit="money", tag="G")
def average_ticket(t):
    """average_ticket = Σ invoice amount / #invoices issued in P (status not void)"""
    return ratio(t.invoice_amount, t.invoices)


@metric("delinquency_rate", frame="billing", unit="rate", tag="G")
def delinquency_rate(t):
    """delinquency_rate = customers with an invoice past due_at and unpaid at end(P) / customers

    Customers are the accounts with E_a > 0. An invoice is past due and unpaid at end(P) when
    due_at < end(P), issued_at < end(P), paid_at is null or ≥ end(P), and it is not void
    (an "uncollectible" invoice still counts). paid_at decides, not status: status says what
    is true today, paid_at when it became true; a "paid" invoice without paid_at is taken as
    paid on time (the source did not say when, and calling the customer delinquent would be
    a guess against what the source does say).
    """
    return ratio(t.delinquent_customers, t.customers_end)


@metric("cac", frame="billing", unit="money", tag="G")
def cac(t):
    """cac = Σ acquisition_spend in P / new_customers in P

    Spend rows count in the period their `month` falls in; a period without any is 0 spend.
    Null with --by: spend has no account, hence no group.
    """
    return ratio(t.acquisition_spend, t.new_customers)


@metric("ltv", frame="billing", unit="money", tag="G")
def ltv(t):
    """ltv = arpa × gross_margin / logo_churn_rate  (gross_margin from settings, default 1.0)

    = ARPA × expected lifetime in months. arpa is monthly, so for quarters and years the
    expected lifetime 1 / logo_churn_rate (in periods) is turned into months:
    ltv = arpa × gross_margin × months per period / logo_churn_rate.
    """
    return ratio(arpa(t) * t.gross_margin * t.months_per_period, logo_churn_rate(t))


@metric("ltv_to_cac", frame="billing", unit="number", tag="G")
def ltv_to_cac(t):
    """ltv_to_cac = ltv / cac  (3 or more is the usual healthy mark)"""
    return ratio(ltv(t), cac(t))


@metric("cac_payback_months", frame="billing", unit="number", tag="G")
def cac_payback_months(t):
    """cac_payback_months = cac / (arpa × gross_margin)"""
    return ratio(cac(t), arpa(t) * t.gross_margin)
