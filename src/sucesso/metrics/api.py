"""The Python API for notebooks and every surface: KPI rows for a workspace.

    >>> from sucesso.metrics import kpis
    >>> kpis("sucesso.duckdb", ["mrr", "nrr"], "2024-01", "2024-06")   # a pandas DataFrame
"""

from __future__ import annotations

import pandas as pd

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


def currency(store: Store) -> str:
    return get_setting(store, "currency")
