"""The one evaluator: any set of KPIs, per period (and group), on any engine."""

from __future__ import annotations

import datetime as dt
import importlib
import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from sucesso.metrics.periods import Period, periods
from sucesso.metrics.registry import FAMILIES, GROUPS, METRICS, Context, Metric

for _family in ("mrr", *FAMILIES):
    importlib.import_module(f"sucesso.metrics.{_family}")


def select_metrics(keys: list[str] | None = None) -> list[Metric]:
    if not keys:
        return list(METRICS.values())
    unknown = [k for k in keys if k not in METRICS]
    if unknown:
        raise KeyError(f"unknown KPI {', '.join(unknown)}; the keys are in METRICS.md "
                       f"(e.g. {', '.join(list(METRICS)[:6])})")
    return [METRICS[k] for k in keys]


def evaluate(backend, chosen: list[Metric], span: list[Period], by: str | None = None,
             settings: dict | None = None) -> pd.DataFrame:
    """One row per period (and group): `period`, [group column], then one column per KPI.

    Each frame is computed once, in the engine, with every KPI that reads it.
    """
    if by is not None and by not in GROUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}, not {by!r}")
    with Context(backend, span, by) as ctx:
        if settings:
            ctx.settings.update(settings)
        result: pd.DataFrame | None = None
        for frame_name in dict.fromkeys(m.frame for m in chosen):
            t = ctx.frame(frame_name)
            part = backend.execute(t.select(*ctx.keys, *[m(t) for m in chosen if m.frame == frame_name]))
            if by:  # plain objects: an empty Arrow-backed string column cannot be merged
                part["grp"] = part["grp"].astype(object)
            result = part if result is None else result.merge(part, on=ctx.keys, how="outer")
    labels = {p.index: p.label for p in span}
    result.insert(0, "period", result["idx"].map(labels))
    result = result.rename(columns={"grp": by} if by else {})
    order = ["idx", by] if by else ["idx"]
    result = result.sort_values(order, na_position="last").drop(columns="idx").reset_index(drop=True)
    return result[["period", *([by] if by else []), *[m.key for m in chosen]]]


def clean(value, unit: str):
    """A KPI value as JSON wants it: money with two decimals, undefined as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if unit == "money":
        return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if unit == "count":
        return int(value)
    if unit == "text":
        return str(value)
    return float(value)


def records(frame: pd.DataFrame, chosen: list[Metric]) -> list[dict]:
    units = {m.key: m.unit for m in chosen}
    out = []
    for row in frame.to_dict("records"):
        out.append({k: clean(v, units[k]) if k in units else (None if pd.isna(v) else v) for k, v in row.items()})
    return out


def default_span(today: dt.date, kind: str = "month", count: int = 6) -> tuple[dt.date, dt.date]:
    """The last `count` complete periods before today."""
    from sucesso.metrics.periods import STEP, add_months, align

    last = add_months(align(today, kind), -STEP[kind])
    return add_months(last, -STEP[kind] * (count - 1)), last


__all__ = ["evaluate", "select_metrics", "records", "periods", "default_span"]
