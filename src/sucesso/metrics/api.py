"""The Python API for notebooks and every surface: KPI rows for a workspace.

    >>> from sucesso.metrics import kpis
    >>> kpis("sucesso.duckdb", ["mrr", "nrr"], "2024-01", "2024-06")   # a pandas DataFrame
"""

from __future__ import annotations

import pandas as pd

from sucesso.metrics.cohorts import cohort_table
from sucesso.metrics.evaluate import evaluate, records, select_metrics
from sucesso.metrics.periods import parse_month, periods
from sucesso.store import Store, get_setting, open_store


def _frame(store: Store, keys, start: str, end: str, period: str, by: str | None, settings: dict | None):
    chosen = select_metrics(list(keys) if keys else None)
    span = periods(parse_month(start), parse_month(end), period)
    return chosen, evaluate(store.ibis(), chosen, span, by, settings)


def kpi_rows(store: Store, keys=None, start: str = "", end: str = "", period: str = "month",
             by: str | None = None, settings: dict | None = None) -> list[dict]:
    """Rows as the JSON output has them: rates as fractions, money with two decimals, None if undefined."""
    chosen, frame = _frame(store, keys, start, end, period, by, settings)
    return records(frame, chosen)


def kpis(workspace: str | Store, keys=None, start: str = "", end: str = "", period: str = "month",
         by: str | None = None, settings: dict | None = None) -> pd.DataFrame:
    """The same rows as a pandas DataFrame; `workspace` is a URL/path or an open Store."""
    store = open_store(workspace) if isinstance(workspace, str) else workspace
    try:
        return pd.DataFrame(kpi_rows(store, keys, start, end, period, by, settings))
    finally:
        if isinstance(workspace, str):
            store.close()


BREAKDOWNS = {
    "average_ticket_by_category": "sucesso.metrics.unit_economics",
    "feature_adoption": "sucesso.metrics.adoption",
    "churn_reasons": "sucesso.metrics.operations",
}


def breakdown(workspace: str | Store, name: str, start: str, end: str, period: str = "month",
              by: str | None = None) -> pd.DataFrame:
    """A KPI that is a table per period rather than one value: per invoice category, per
    feature, per churn reason. Rows carry `period` (and the --by group as its name)."""
    import importlib

    from sucesso.metrics.registry import Context

    if name not in BREAKDOWNS:
        raise KeyError(f"unknown breakdown {name!r}; the breakdowns are {', '.join(BREAKDOWNS)}")
    store = open_store(workspace) if isinstance(workspace, str) else workspace
    try:
        build = getattr(importlib.import_module(BREAKDOWNS[name]), name)
        with Context(store.ibis(), periods(parse_month(start), parse_month(end), period), by) as ctx:
            frame = store.ibis().execute(build(ctx))
    finally:
        if isinstance(workspace, str):
            store.close()
    labels = {p.index: p.label for p in ctx.periods}
    frame.insert(0, "period", frame.pop("idx").map(labels))
    frame = frame.rename(columns={"grp": by} if by else {})
    return frame.sort_values([c for c in frame.columns if c in ("period", by)] + [frame.columns[-1]],
                             na_position="last").reset_index(drop=True)


def currency(store: Store) -> str:
    return get_setting(store, "currency")


def data_end(store: Store):
    """The last instant the workspace has subscription or invoice data for (None if empty)."""
    con = store.ibis()
    subs, invoices = con.table("subscriptions"), con.table("invoices")
    candidates = [subs.started_at.max(), subs.ended_at.max(), invoices.issued_at.max()]
    values = [con.execute(c) for c in candidates]
    values = [v for v in values if v is not None and not pd.isna(v)]
    return max(values) if values else None


def default_months(store: Store, today, count: int = 6) -> tuple[str, str]:
    """The last `count` complete months before today, or before the data ends if it ends earlier."""
    from sucesso.metrics.periods import add_months

    last = add_months(today.replace(day=1), -1)
    end = data_end(store)
    if end is not None and end.date() < last:
        last = end.date().replace(day=1)
    return f"{add_months(last, -(count - 1)):%Y-%m}", f"{last:%Y-%m}"


def cohorts(workspace: str | Store, kind: str, start: str, end: str) -> pd.DataFrame:
    """The cohort table (METRICS.md "Cohorts"): kind "logo" or "revenue", first paid months start..end."""
    store = open_store(workspace) if isinstance(workspace, str) else workspace
    try:
        return cohort_table(store.ibis(), kind, parse_month(start), parse_month(end))
    finally:
        if isinstance(workspace, str):
            store.close()
