"""Customer survival: Kaplan–Meier curves of the first customer life.

The duration is each account's FIRST life (insight/lives.py): from its start to the day it
stopped paying (the event), or, while it still pays, to the workspace's data end
(metrics.api.data_end), where it is censored. A reactivation does not reset the clock nor
count here — it is a second life — and a plan change does not end a life.

Kaplan–Meier (lifelines.KaplanMeierFitter), with d_i churns at time t_i among the n_i accounts
still at risk just before it:

    S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)

with lifelines' 95% confidence band (exponential Greenwood). The median lifetime is the first
t with S(t) ≤ 0.5, None ("not reached") when the curve stays above 0.5; its 95% interval is
where the band's two edges cross 0.5 (lifelines.utils.median_survival_times), None where an
edge never does. S at 1, 3, 6, 12 and 24 months is None past the longest duration observed.

Times are in days or in months, a month being 365.25/12 days.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from sucesso.insight.lives import lives
from sucesso.metrics.api import data_end
from sucesso.metrics.registry import GROUPS
from sucesso.store import Store

MONTH_DAYS = 365.25 / 12
DAYS_PER_UNIT = {"months": MONTH_DAYS, "days": 1.0}
MILESTONE_MONTHS = (1, 3, 6, 12, 24)
OVERALL = "all"


@dataclasses.dataclass(frozen=True)
class Curve:
    """One Kaplan–Meier curve; times in the unit asked for, `survival` keyed by months."""

    group: str | None
    accounts: int
    churned: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    survival: dict[str, float | None]
    timeline: list[float]
    survival_curve: list[float]
    ci_lower: list[float | None]
    ci_upper: list[float | None]

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "median_ci": list(self.median_ci)}


def finite(value) -> float | None:
    """The value as a float, or None for NaN and ±inf (JSON has neither)."""
    value = float(value)
    return value if math.isfinite(value) else None


def first_lives(store: Store) -> pd.DataFrame:
    """Each account's first life as a duration: see first_life_durations."""
    all_lives, end = lives(store), data_end(store)
    if all_lives.empty:
        raise ValueError("no account has paid yet (no subscription with mrr > 0): there are no customer lives")
    return first_life_durations(all_lives, end)


def first_life_durations(all_lives: pd.DataFrame, end) -> pd.DataFrame:
    """account_id, started_at, days (to the churn, or to `end` while paying), churned (bool),
    observed_days (from the start to `end`: how long the account could be followed)."""
    first = all_lives[all_lives["life"] == 1].reset_index(drop=True)
    end = pd.Timestamp(end)
    started = first["started_at"]
    churned = first["ended_at"].notna()
    return pd.DataFrame({
        "account_id": first["account_id"],
        "started_at": started,
        "days": days_between(started, first["ended_at"].fillna(end)),
        "churned": churned,
        "observed_days": days_between(started, pd.Series(end, index=first.index)),
    })


def days_between(earlier: pd.Series, later: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 86400


def kaplan_meier(durations: pd.DataFrame, unit: str = "months", group: str | None = OVERALL) -> Curve:
    """The Kaplan–Meier curve of `durations` (columns days, churned) in `unit` (days or months)."""
    per_unit = DAYS_PER_UNIT[unit]
    km = KaplanMeierFitter().fit(durations["days"] / per_unit, durations["churned"])
    band = km.confidence_interval_
    median_lower, median_upper = median_survival_times(band).iloc[0]
    longest = float(km.timeline.max())

    def survival_at(t: float) -> float | None:
        return None if t > longest else float(km.survival_function_at_times(t).iloc[0])

    return Curve(
        group=group,
        accounts=len(durations),
        churned=int(durations["churned"].sum()),
        median=finite(km.median_survival_time_),
        median_ci=(finite(median_lower), finite(median_upper)),
        survival={str(m): survival_at(m * MONTH_DAYS / per_unit) for m in MILESTONE_MONTHS},
        timeline=[float(t) for t in km.timeline],
        survival_curve=[float(s) for s in km.survival_function_.iloc[:, 0]],
        ci_lower=[finite(s) for s in band.iloc[:, 0]],
        ci_upper=[finite(s) for s in band.iloc[:, 1]],
    )


def account_groups(store: Store, by: str) -> pd.DataFrame:
    """account_id, group: the account's current segment, plan, csm… (GROUPS)."""
    accounts = store.ibis().table("accounts")
    return store.ibis().execute(accounts.select("account_id", group=accounts[GROUPS[by]]))


def survival_curves(store: Store, by: str | None = None, unit: str = "months") -> list[Curve]:
    """The overall curve (group "all"), then one per value of `by` in order (no value → None, last)."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}, not {by!r}")
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"--unit must be one of {', '.join(DAYS_PER_UNIT)}, not {unit!r}")
    durations = first_lives(store)
    curves = [kaplan_meier(durations, unit)]
    if by is None:
        return curves
    grouped = durations.merge(account_groups(store, by), on="account_id", how="left")
    for value, members in grouped.groupby("group", dropna=False, sort=True):
        curves.append(kaplan_meier(members, unit, None if pd.isna(value) else str(value)))
    return curves
