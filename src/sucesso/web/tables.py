"""Frames to plain rows for templates and JSON: NaN becomes None, numpy scalars Python ones."""

from __future__ import annotations

import math

import pandas as pd


def plain(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    frame = frame if columns is None else frame[columns]
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
