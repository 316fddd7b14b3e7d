"""How well a health model would have foreseen churn: `sucesso health backtest`.

For past dates T (the first of each month whose next `horizon` days the data covers), every
customer at T is scored with the model as it would have been then (signals.py reads nothing
on or after T), and labelled churned when it stopped paying in (T, T + horizon]
(insight/lives.py). Reported:

- per band: account-dates, churned, churn rate — a useful model has red ≫ yellow ≫ green;
- AUC of the score as a churn predictor (lower score = more risk), pooled over all
  account-dates: the chance a churner scored below a stayer (0.5 = coin toss, 1 = perfect);
- the same per date, to see it hold over time.

What-if: backtest an edited model file beside the workspace's model on the same dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import roc_auc_score

from sucesso.health.model import ModelFile
from sucesso.health.score import MISSING_BAND, score
from sucesso.health.signals import signals
from sucesso.insight.lives import lives, with_churn_labels
from sucesso.metrics.periods import add_months

HORIZON_DAYS = 90


@dataclass
class Backtest:
    model: str
    horizon_days: int
    dates: list[dt.date]
    bands: pd.DataFrame  # band, accounts, churned, churn_rate (in the model's band order)
    auc: float | None
    per_date: pd.DataFrame  # as_of, customers, churned, auc

    def as_dict(self) -> dict:
        def clean(frame):
            return [{k: (None if pd.isna(v) else (v.isoformat() if hasattr(v, "isoformat") else v))
                     for k, v in row.items()} for row in frame.to_dict("records")]
        return {"model": self.model, "horizon_days": self.horizon_days,
                "dates": [d.isoformat() for d in self.dates], "auc": self.auc,
                "bands": clean(self.bands), "per_date": clean(self.per_date)}


def backtest_dates(store, horizon_days: int = HORIZON_DAYS) -> list[dt.date]:
    """The first of each month from 3 months after the data starts to `horizon` days before it ends."""
    from sucesso.metrics.api import data_end

    rows = store.fetchall("SELECT min(started_at) FROM subscriptions")
    end = data_end(store)
    if not rows or rows[0][0] is None or end is None:
        return []
    first = add_months(pd.Timestamp(rows[0][0]).date().replace(day=1), 3)
    last = (end - dt.timedelta(days=horizon_days)).date()
    out, d = [], first
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out


def backtest(store, model_files: list[ModelFile], dates: list[dt.date] | None = None,
             horizon_days: int = HORIZON_DAYS) -> list[Backtest]:
    """One Backtest per model file, on the same dates and the same churn labels."""
    dates = dates if dates is not None else backtest_dates(store, horizon_days)
    if not dates:
        raise ValueError("the workspace has too little history to backtest: it needs subscriptions spanning "
                         f"more than 3 months plus {horizon_days} days")
    all_lives = lives(store)
    by_window: dict[int, pd.DataFrame] = {}
    results = []
    for mf in model_files:
        window = mf.base.satisfaction_window_days
        if window not in by_window:
            by_window[window] = signals(store, dates, window)
        scored = with_churn_labels(score(by_window[window], mf), all_lives, horizon_days)
        results.append(_summarise(mf, scored, dates, horizon_days))
    return results


def _auc(churned: pd.Series, score: pd.Series) -> float | None:
    if churned.nunique() < 2:
        return None
    return float(roc_auc_score(churned, -score))


def _summarise(mf: ModelFile, scored: pd.DataFrame, dates: list[dt.date], horizon_days: int) -> Backtest:
    scored = scored[scored["band"] != MISSING_BAND]
    order = list(dict.fromkeys([*mf.base.bands, *(b for m in mf.models for b in m.bands)]))
    bands = scored.groupby("band")["churned"].agg(accounts="count", churned="sum").reindex(order).dropna()
    bands = bands.astype("int64").reset_index()
    bands["churn_rate"] = bands["churned"] / bands["accounts"]
    per_date = scored.groupby("as_of").apply(
        lambda g: pd.Series({"customers": len(g), "churned": int(g["churned"].sum()),
                             "auc": _auc(g["churned"], g["score"])}), include_groups=False).reset_index()
    per_date = per_date.astype({"customers": "int64", "churned": "int64"})
    return Backtest(mf.name, horizon_days, dates, bands, _auc(scored["churned"], scored["score"]), per_date)
