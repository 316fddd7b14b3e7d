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


def targets(store) -> pd.DataFrame:
    con = store.ibis()
    return con.execute(con.table("targets"))


def target_for(all_targets: pd.DataFrame, kpi: str, month: dt.date) -> dict | None:
    """The target row of `kpi` whose [period_start, period_end) holds `month`'s first day."""
    if all_targets.empty:
        return None
    t = all_targets[(all_targets["kpi"] == kpi) & (pd.to_datetime(all_targets["period_start"]) <= pd.Timestamp(month))
                    & (pd.to_datetime(all_targets["period_end"]) > pd.Timestamp(month))]
    return None if t.empty else t.iloc[-1].to_dict()


def status(value, target: dict | None) -> str | None:
    if target is None or value is None or pd.isna(value):
        return None
    goal, higher = float(target["target"]), target["direction"] == "higher"
    gap = (goal - float(value)) if higher else (float(value) - goal)
    if gap <= 0:
        return "on_track"
    return "at_risk" if gap <= AT_RISK * abs(goal) else "off_track"
