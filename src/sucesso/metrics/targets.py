"""Targets (table `targets`: kpi, period_start, period_end, target, direction) and the status of
a KPI against the target of the period a month falls in.

status = on_track when the value meets the target (≥ for direction "higher", ≤ for "lower");
at_risk when it misses by at most AT_RISK of the target's size; off_track beyond; None when
there is no target or no value.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

AT_RISK = 0.05
# The KPIs (METRICS.md keys) for which less is better: a target's direction defaults to "lower"
# for these and to "higher" for every other key.
LOWER_IS_BETTER = frozenset({
    "contraction_mrr", "churned_mrr", "churned_customers", "logo_churn_rate", "logo_churn_rate_annualized",
    "gross_mrr_churn_rate", "net_mrr_churn_rate", "delinquency_rate", "cac", "cac_payback_months",
    "nps_detractors", "first_response_hours_median", "first_response_hours_p90", "resolution_hours_median",
    "resolution_hours_p90", "tickets_per_customer", "time_to_first_value_days_median", "churn_requests",
})


def default_direction(kpi: str) -> str:
    """"lower" when less of `kpi` is better (churn, delays, costs), else "higher"."""
    return "lower" if kpi in LOWER_IS_BETTER else "higher"


def targets(store) -> pd.DataFrame:
    con = store.ibis()
    return con.execute(con.table("targets"))


def target_for(all_targets: pd.DataFrame, kpi: str, month: dt.date, end: dt.date | None = None) -> dict | None:
    """The target row of `kpi` whose [period_start, period_end) holds `month`'s first day — and the
    whole of [month, end) when `end` is given (a quarter shown against the targets). When several
    do (a quarter's target inside the year's), the narrowest."""
    if all_targets.empty:
        return None
    starts, ends = pd.to_datetime(all_targets["period_start"]), pd.to_datetime(all_targets["period_end"])
    first = pd.Timestamp(month)
    holds = (all_targets["kpi"] == kpi) & (starts <= first) & ((ends >= pd.Timestamp(end)) if end else (ends > first))
    if not holds.any():
        return None
    return all_targets.loc[(ends - starts)[holds].idxmin()].to_dict()


def status(value, target: dict | None) -> str | None:
    if target is None or value is None or pd.isna(value):
        return None
    goal, higher = float(target["target"]), target["direction"] == "higher"
    gap = (goal - float(value)) if higher else (float(value) - goal)
    if gap <= 0:
        return "on_track"
    return "at_risk" if gap <= AT_RISK * abs(goal) else "off_track"


def goal(all_targets: pd.DataFrame, kpi: str, value, month: dt.date, end: dt.date | None = None) -> dict:
    """{target, direction, status} of `kpi`'s value in the period from `month` (to `end`) against
    its target (see target_for); all None when it has none. What a KPI card or table cell shows."""
    found = target_for(all_targets, kpi, month, end)
    if found is None:
        return {"target": None, "direction": None, "status": None}
    return {"target": float(found["target"]), "direction": found["direction"], "status": status(value, found)}


def statuses(all_targets: pd.DataFrame, rows: list[dict], keys: list[str], span: list) -> list[dict]:
    """{period, kpi, target, direction, status} for each KPI row (`kpi_rows`, overall) whose whole
    period (a metrics.periods.Period of `span`) lies in a target's period."""
    by_label = {p.label: p for p in span}
    out = []
    for r in rows:
        p = by_label[r["period"]]
        for key in keys:
            found = goal(all_targets, key, r.get(key), p.start, p.end)
            if found["target"] is not None:
                out.append({"period": r["period"], "kpi": key, **found})
    return out
