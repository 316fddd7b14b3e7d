"""Scores from signals (signals.py) with a model (model.py): per customer and date, the score,
its band, and every component's score, weight and contribution.

weighted: a signal's score is its scale read at the signal's value (straight lines between
    the points, flat beyond the ends); a component's score is the weighted mean of its
    signals' scores, over the signals present; the health score is the weighted mean of the
    components present:  score = Σ_c W_c·S_c / Σ_c W_c  (c present). A component is present
    when one of its signals is; the weights of the missing ones are shared out by that
    division (re-weighting), never scored as 0. contribution_c = W_c·S_c / Σ W_present,
    so the contributions add up to the score.
points: score = clip(base + Σ_r points_r · min(units_r, max_units_r), 0, 100); a rule's
    contribution is its points; a rule whose signal is missing adds nothing and is shown missing.

The band is read on the score rounded half up to a whole number (red 0–50, yellow 51–70,
green 71–100 by default). A customer with no component present has no score (band "missing").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sucesso.health.model import Model, ModelFile

MISSING_BAND = "missing"


def score(signals: pd.DataFrame, model_file: ModelFile) -> pd.DataFrame:
    """account_id, as_of, score, rounded, band, model, then per component c: c (its 0–100 score,
    NaN when missing), c__weight (effective weight, 0 when missing), c__contribution."""
    chosen = _variant_of(signals, model_file)
    parts = []
    for i, model in enumerate(model_file.models):
        rows = signals[chosen == i]
        if len(rows):
            parts.append(_score_with(rows, model))
    if not parts:
        return pd.DataFrame(columns=["account_id", "as_of", "score", "rounded", "band", "model"])
    return pd.concat(parts, ignore_index=True).sort_values(["as_of", "account_id"], ignore_index=True)


def _variant_of(signals: pd.DataFrame, model_file: ModelFile) -> np.ndarray:
    """Per row, the index in model_file.models of the model that scores it (0 = the base)."""
    chosen = np.zeros(len(signals), dtype=int)
    undecided = np.ones(len(signals), dtype=bool)
    for i, (when, _model) in enumerate(model_file.variants, start=1):
        match = undecided.copy()
        for column, value in when.items():
            match &= (signals[column].astype("string") == value).fillna(False).to_numpy()
        chosen[match] = i
        undecided &= ~match
    return chosen


def _score_with(rows: pd.DataFrame, model: Model) -> pd.DataFrame:
    out = rows[["account_id", "as_of"]].reset_index(drop=True)
    rows = rows.reset_index(drop=True)
    total = _weighted(rows, model, out) if model.kind == "weighted" else _points(rows, model, out)
    rounded = np.floor(total + 0.5)
    out.insert(2, "score", total)
    out.insert(3, "rounded", rounded)
    out.insert(4, "band", [model.band(r) if not np.isnan(r) else MISSING_BAND for r in rounded])
    out.insert(5, "model", model.name)
    return out


def read_scale(values: pd.Series, scale: list[tuple[float, float]]) -> np.ndarray:
    """The scale's score at each value (NaN stays NaN)."""
    xs, ys = zip(*scale, strict=True)
    v = pd.to_numeric(values).astype("float64").to_numpy()
    return np.where(np.isnan(v), np.nan, np.interp(v, xs, ys))


def _weighted(rows: pd.DataFrame, model: Model, out: pd.DataFrame) -> np.ndarray:
    scores, weights = {}, {}
    for name, comp in model.components.items():
        s = np.array([read_scale(rows[sig], part.scale) for sig, part in comp.signals.items()])
        w = np.array([part.weight for part in comp.signals.values()])[:, None] * ~np.isnan(s)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[name] = np.where(w.sum(0) > 0, np.nansum(s * w, 0) / w.sum(0), np.nan)
        weights[name] = np.where(np.isnan(scores[name]), 0.0, comp.weight)
    present = sum(weights.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        total = sum(np.nan_to_num(scores[c]) * weights[c] for c in scores) / present
        for c in scores:
            out[c] = scores[c]
            out[f"{c}__weight"] = np.where(present > 0, weights[c] / present, 0.0)
            out[f"{c}__contribution"] = np.nan_to_num(scores[c]) * out[f"{c}__weight"]
    return np.where(present > 0, total, np.nan)


def _points(rows: pd.DataFrame, model: Model, out: pd.DataFrame) -> np.ndarray:
    total = np.full(len(rows), float(model.base))
    for name, rule in model.rules.items():
        units = pd.to_numeric(rows[rule.signal]).astype("float64").to_numpy()
        if rule.max_units is not None:
            units = np.minimum(units, rule.max_units)
        points = units * rule.points
        total += np.nan_to_num(points)
        out[name] = points
        out[f"{name}__weight"] = np.where(np.isnan(points), 0.0, 1.0)
        out[f"{name}__contribution"] = np.nan_to_num(points)
    return np.clip(total, 0, 100)


def components_of(scored: pd.DataFrame) -> list[str]:
    return [c.removesuffix("__weight") for c in scored.columns if c.endswith("__weight")]


def components_json(scored: pd.DataFrame) -> pd.Series:
    """Per row, the components' scores as compact JSON ({"usage":62.5,"satisfaction":null,…}),
    the form the history keeps. Components a row's model lacks (another variant's) are left out."""
    pieces = []
    for c in components_of(scored):
        value = scored[c].astype("float64").round(2)
        text = ('"' + c + '":') + value.map(repr).where(value.notna(), "null")
        in_model = scored[f"{c}__weight"].notna()
        pieces.append(text.where(in_model, ""))
    joined = pd.Series("", index=scored.index, dtype="object")
    for piece in pieces:
        joined = joined + joined.ne("").where(piece.ne(""), False).map({True: ",", False: ""}) + piece
    return "{" + joined + "}"



