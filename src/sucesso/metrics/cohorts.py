"""Cohort tables (METRICS.md, "Cohorts"; lagging): logo and revenue retention by first paid month.

A cohort c is the accounts whose first paid subscription (mrr > 0) started in month c.
Column m_k reads the cohort just before the end of month c+k (the MRR convention of mrr.py):

    logo:    size = #cohort,                 m_k = #{a in c : MRR(a, end(c+k)) > 0} / size
    revenue: size = Σ_{a in c} MRR(a, end(c)), m_k = Σ_{a in c} MRR(a, end(c+k)) / size

so a logo m0 below 1 means accounts that started and stopped paying within their first month.
A zero size gives null cells; cells after the last month are None.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis import _

from sucesso.metrics.mrr import customers_at_end, first_paid
from sucesso.metrics.periods import periods
from sucesso.metrics.registry import Context

KINDS = ("logo", "revenue")


def cohort_table(backend, kind: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """cohort ("YYYY-MM"), size, m0 … m{n−1}: one row per month from `first` to `last`, the cohort
    of accounts first paid that month; the cells are fractions (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"a cohort table is {' or '.join(KINDS)}, not {kind!r}")
    return cohort_tables(backend, first, last)[kind]


def cohort_tables(backend, first: dt.date, last: dt.date, segment: str | None = None) -> dict[str, pd.DataFrame]:
    """Both cohort tables, {"logo": …, "revenue": …}, from one pass over the subscriptions; of
    the accounts of `segment` (their current one) when given."""
    months = periods(first, last, "month")
    accounts = backend.table("accounts")
    in_segment = accounts.filter(accounts.segment == segment).account_id if segment else None
    with Context(backend, months, accounts=in_segment) as ctx:
        subs, p = ctx.table("subscriptions"), ctx.period_table()
        starts = first_paid(subs)
        cohort = starts.join(p, [starts.first_paid_at >= p.start, starts.first_paid_at < p.end])
        cohort = cohort.select("account_id", cohort="idx").view()
        paid = customers_at_end(ctx).join(cohort, "account_id").view()
        cells = paid.filter(paid.idx >= paid.cohort).group_by(["cohort", "idx"]).aggregate(
            customers=_.count(), mrr=_.mrr.sum())
        accounts = backend.execute(cohort.group_by("cohort").aggregate(accounts=_.count()))
        values = backend.execute(cells)

    n = len(months)
    logo_sizes = {int(r.cohort): int(r.accounts) for r in accounts.itertuples()}

    def table(measure: str) -> pd.DataFrame:
        kept = {(int(r.cohort), int(r.idx)): float(getattr(r, measure)) for r in values.itertuples()}
        sizes = logo_sizes if measure == "customers" else {c: kept.get((c, c), 0.0) for c in range(1, n + 1)}

        def cell(c: int, k: int) -> float | None:
            size = sizes.get(c, 0)
            return kept.get((c, c + k), 0.0) / size if c + k <= n and size else None

        out = pd.DataFrame({"cohort": [m.label for m in months], "size": [sizes.get(m.index, 0) for m in months]})
        for k in range(n):
            out[f"m{k}"] = pd.Series([cell(m.index, k) for m in months], dtype=object)
        return out

    return {"logo": table("customers"), "revenue": table("mrr")}
