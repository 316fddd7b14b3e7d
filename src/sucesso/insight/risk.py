"""Churn risk: the probability that a customer stops paying within the next 90 days.

Examples are (customer, date T) pairs on the first of each month: the features are the
account's signals as of T (health/signals.py: usage, adoption, tickets, surveys, billing, CS
touches, MRR trend — nothing on or after T) and its attributes (segment, plan, touch model,
country, seats, and every key of the custom `attributes` JSON); the label is whether it
churned in (T, T + 90 days] (insight/lives.py).

Learning is LightGBM's gradient-boosted trees (no hand-written learning code). The split is
by time: the test dates are the last `test_months` labelled months, and training uses only
the dates whose 90-day horizon closed before the first test date, so nothing about the test
period leaks into training. `evaluate` reports, on the test dates: AUC, precision in the top
decile (the churn rate among the 10% riskiest), the base rate, calibration (10 bins of
predicted risk: mean predicted vs observed, and the Brier score), and beside them the health
score's AUC on the same customers and dates. `train` evaluates, then fits on every labelled
date and keeps the model in the workspace (table risk_models). Per account, the reasons are
the features with the largest SHAP contributions to its risk (LightGBM's pred_contrib: exact
per-prediction additive effects in log-odds).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import brier_score_loss, roc_auc_score

from sucesso.health.backtest import HORIZON_DAYS, backtest_dates
from sucesso.health.history import default_as_of, workspace_model
from sucesso.health.report import account_names
from sucesso.health.score import score
from sucesso.health.signals import SIGNALS, signals
from sucesso.insight.lives import lives, with_churn_labels
from sucesso.store.schema import arrow_schema, table

MODEL_NAME = "churn_90d"
CATEGORIES = ("segment", "plan", "touch_model", "country")
PARAMS = dict(n_estimators=300, learning_rate=0.03, num_leaves=15, min_child_samples=40, subsample=0.8,
              subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0, random_state=7, deterministic=True,
              n_jobs=2, verbose=-1)


class RiskError(RuntimeError):
    pass


@dataclass
class Features:
    """Feature columns and the categories each categorical column had in training."""

    numeric: list[str]
    categories: dict[str, list[str]]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categories]

    def frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The model's input: numeric columns as floats, categoricals with the training categories."""
        out = pd.DataFrame(index=rows.index)
        for c in self.numeric:
            out[c] = pd.to_numeric(rows[c], errors="coerce").astype("float64") if c in rows else np.nan
        for c, cats in self.categories.items():
            values = rows[c].astype("object") if c in rows else pd.Series(None, index=rows.index, dtype="object")
            out[c] = pd.Categorical(values.where(values.isin(cats)), categories=cats)
        return out


def examples(store, dates: list[dt.date], satisfaction_days: int = 365) -> pd.DataFrame:
    """Signals and attributes per customer and date, custom attributes spread into attr_* columns."""
    rows = signals(store, dates, satisfaction_days)
    custom = rows["attributes"].map(_attributes)
    extra = pd.DataFrame(list(custom), index=rows.index).add_prefix("attr_")
    return pd.concat([rows.drop(columns=["attributes"]), extra], axis=1)


def _attributes(text) -> dict:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str | int | float | bool)}


def feature_set(rows: pd.DataFrame) -> Features:
    numeric = [s for s in SIGNALS if s in rows] + ["seats"]
    categories = {}
    for c in [*CATEGORIES, *sorted(c for c in rows if c.startswith("attr_"))]:
        values = rows[c]
        as_number = pd.to_numeric(values, errors="coerce")
        if c.startswith("attr_") and as_number.notna().sum() == values.notna().sum() and values.notna().any():
            numeric.append(c)
        else:
            categories[c] = sorted({str(v) for v in values.dropna()})
    return Features(numeric, categories)


def _fit(rows: pd.DataFrame, features: Features) -> lgb.LGBMClassifier:
    model = lgb.LGBMClassifier(**PARAMS)
    model.fit(features.frame(rows), rows["churned"].astype(int))
    return model


def labelled(store, horizon_days: int = HORIZON_DAYS) -> pd.DataFrame:
    dates = backtest_dates(store, horizon_days)
    if len(dates) < 6:
        raise RiskError(f"too little history to learn churn: {len(dates)} months with a known {horizon_days}-day "
                        "outcome; at least 6 are needed")
    window = workspace_model(store).base.satisfaction_window_days
    return with_churn_labels(examples(store, dates, window), lives(store), horizon_days)


def evaluate(store, test_months: int = 6, horizon_days: int = HORIZON_DAYS, rows: pd.DataFrame | None = None) -> dict:
    """Train on the early dates, test on the last `test_months` dates; the report as a dict."""
    rows = labelled(store, horizon_days) if rows is None else rows
    dates = sorted(set(rows["as_of"]))
    test_dates = dates[-test_months:]
    cutoff = test_dates[0] - dt.timedelta(days=horizon_days)
    train, test = rows[rows["as_of"] <= cutoff], rows[rows["as_of"].isin(test_dates)]
    if train["churned"].nunique() < 2 or test["churned"].nunique() < 2:
        raise RiskError("the training or test dates have no churn (or nothing but churn) to learn from")
    features = feature_set(train)
    model = _fit(train, features)
    risk = model.predict_proba(features.frame(test))[:, 1]
    health = score(test, workspace_model(store))["score"].to_numpy()
    y = test["churned"].to_numpy()
    has_health = ~np.isnan(health)
    top = risk >= np.quantile(risk, 0.9)
    return {
        "horizon_days": horizon_days,
        "train": {"dates": [str(dates[0]), str(cutoff)], "examples": len(train),
                  "churned": int(train["churned"].sum())},
        "test": {"dates": [str(test_dates[0]), str(test_dates[-1])], "examples": len(test), "churned": int(y.sum())},
        "auc": float(roc_auc_score(y, risk)),
        "health_auc": float(roc_auc_score(y[has_health], -health[has_health])),
        "health_scored": int(has_health.sum()),
        "base_rate": float(y.mean()),
        "top_decile_precision": float(y[top].mean()),
        "top_decile_examples": int(top.sum()),
        "brier": float(brier_score_loss(y, risk)),
        "calibration": _calibration(risk, y),
    }


def _calibration(risk: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Deciles of predicted risk: how many, mean predicted, observed churn rate."""
    order = np.argsort(risk, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append({"examples": int(len(part)), "predicted": float(risk[part].mean()),
                        "observed": float(y[part].mean())})
    return out


def train(store, test_months: int = 6, horizon_days: int = HORIZON_DAYS) -> dict:
    """Evaluate, fit on every labelled date, keep the model; returns the evaluation report."""
    rows = labelled(store, horizon_days)
    report = evaluate(store, test_months, horizon_days, rows)
    features = feature_set(rows)
    model = _fit(rows, features)
    report["trained_on"] = {"examples": len(rows), "churned": int(rows["churned"].sum()),
                            "dates": [str(min(rows["as_of"])), str(max(rows["as_of"]))]}
    body = json.dumps({"features": {"numeric": features.numeric, "categories": features.categories},
                       "booster": model.booster_.model_to_string()})
    kept = table("risk_models")
    batch = pa.RecordBatch.from_pylist([{"name": MODEL_NAME, "trained_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                         "report": json.dumps(report), "body": body}], schema=arrow_schema(kept))
    store.replace_rows(kept, "name = ?", (MODEL_NAME,), [batch])
    return report


def _load(store) -> tuple[lgb.Booster, Features, dict, dt.datetime]:
    rows = store.fetchall("SELECT body, report, trained_at FROM risk_models WHERE name = ?", (MODEL_NAME,))
    if not rows:
        raise RiskError("no churn-risk model in this workspace yet: run `sucesso risk train`")
    body = json.loads(rows[0][0])
    f = body["features"]
    return (lgb.Booster(model_str=body["booster"]), Features(f["numeric"], f["categories"]), json.loads(rows[0][1]),
            rows[0][2])


def score_accounts(store, as_of: dt.date | None = None, account_id: str | None = None, reasons: int = 3) -> dict:
    """{"as_of", "trained_at", "accounts": [{account_id, name, risk, reasons: [{feature, value, effect}]}]},
    riskiest first."""
    booster, features, _report, trained_at = _load(store)
    as_of = as_of or default_as_of(store)
    rows = examples(store, [as_of], workspace_model(store).base.satisfaction_window_days)
    if account_id is not None:
        rows = rows[rows["account_id"] == account_id]
        if rows.empty:
            raise RiskError(f"account {account_id!r} was not a paying customer on {as_of}: no churn risk to give")
    x = features.frame(rows)
    risk = booster.predict(x)
    effects = booster.predict(x, pred_contrib=True)[:, :-1]  # the last column is the base value
    names = account_names(store, list(rows["account_id"]))
    accounts = []
    for i, account in enumerate(rows["account_id"]):
        top = np.argsort(-effects[i], kind="stable")[:reasons]
        accounts.append({
            "account_id": account, "name": names.get(account), "risk": float(risk[i]),
            "reasons": [{"feature": features.columns[j], "value": _plain(rows.iloc[i][features.columns[j]]),
                         "effect": round(float(effects[i, j]), 4)} for j in top if effects[i, j] > 0],
        })
    accounts.sort(key=lambda a: -a["risk"])
    return {"as_of": as_of.isoformat(), "trained_at": str(trained_at), "horizon_days": HORIZON_DAYS,
            "accounts": accounts}


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value
