"""KPI targets (OKRs): set, list and remove the rows of the `targets` table, and the status of
each target now.

A target names a METRICS.md key, a period [start, end) — a month "2025-03", a quarter
"2025-Q1", a year "2025" or any range "2025-01-01..2025-07-01" (end exclusive) — a value and a
direction (higher or lower is better; by default the KPI's, metrics/targets.LOWER_IS_BETTER).
Its status compares the KPI's monthly value in the last month of data that falls in the period
(the period's last month once it is over) with the target, as the Overview cards do
(metrics/targets.status).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re

import pandas as pd
import pyarrow as pa

from sucesso.ingest import write_batches
from sucesso.metrics.api import default_months, kpi_rows
from sucesso.metrics.evaluate import METRICS  # through the evaluator: it loads every family's KPIs
from sucesso.metrics.periods import Period, add_months, align, parse_month
from sucesso.metrics.targets import default_direction, status, targets
from sucesso.store import Store
from sucesso.store.schema import DIRECTIONS

PERIOD_FORMATS = "2025-Q1, 2025-03, 2025 or 2025-01-01..2025-07-01 (end exclusive)"


class TargetError(ValueError):
    """A target that cannot be set or found, said so a person can act on it. `message` is English
    with %(name)s fields filled from `params`, so surfaces can translate it."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


class NoSuchTarget(TargetError):
    """The target to remove is not there."""


# -- what a person types ------------------------------------------------------------------
def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """(start, end) of "2025-Q1", "2025-03", "2025" or "2025-01-01..2025-07-01" (end exclusive)."""
    try:
        start, end = _period(text.strip())
    except ValueError:
        raise TargetError("expected a period as 2025-Q1, 2025-03, 2025 or 2025-01-01..2025-07-01 (end exclusive), "
                          "got %(period)r", period=text) from None
    if end <= start:
        raise TargetError("the period %(period)r must end after it starts (its end is exclusive)", period=text)
    return start, end


def _period(value: str) -> tuple[dt.date, dt.date]:
    if ".." in value:
        first, _, last = value.partition("..")
        return dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", value):
        start = dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
        return start, add_months(start, 3)
    if re.fullmatch(r"\d{4}", value):
        start = dt.date(int(value), 1, 1)
        return start, add_months(start, 12)
    start = parse_month(value)
    return start, add_months(start, 1)


def period_label(start: dt.date, end: dt.date) -> str:
    """"2025-03", "2025-Q1", "2025" when the period is one of those, else "2025-01-01..2025-07-01"."""
    for kind, months in (("month", 1), ("quarter", 3), ("year", 12)):
        if align(start, kind) == start and add_months(start, months) == end:
            return Period(0, start, end, kind).label
    return f"{start:%Y-%m-%d}..{end:%Y-%m-%d}"


def parse_value(text: str | float, unit: str | None = None) -> float:
    """A target as typed: 1.05, 105%, 1,05 (decimal comma) or 1.234,56. A rate is a fraction:
    105 (no %) for a rate is refused as most likely meant 105%."""
    if isinstance(text, int | float):
        value, percent = float(text), False
    else:
        raw = text.strip().replace(" ", "")
        percent = raw.endswith("%")
        number = raw.removesuffix("%")
        decimal = "," if number.rfind(",") > number.rfind(".") else "."
        number = number.replace("." if decimal == "," else ",", "").replace(",", ".")
        try:
            value = float(number)
        except ValueError:
            raise TargetError("expected a number as the target, such as 1.05 or 105%%, got %(value)r",
                              value=text) from None
        value = value / 100 if percent else value
    if not math.isfinite(value):
        raise TargetError("expected a number as the target, such as 1.05 or 105%%, got %(value)r", value=text)
    if unit == "rate" and not percent and abs(value) > 10:
        raise TargetError("a rate is a fraction: write 1.05 or 105%%, not %(value)r", value=text)
    return value


def known_kpi(kpi: str) -> str:
    """`kpi` if it is a METRICS.md key a target can name (not a text one), else TargetError
    listing the close matches."""
    if kpi in METRICS and METRICS[kpi].unit != "text":
        return kpi
    if kpi in METRICS:
        raise TargetError("%(kpi)s is a label, not a number: it cannot have a target", kpi=kpi)
    close = difflib.get_close_matches(kpi, [k for k, m in METRICS.items() if m.unit != "text"], n=5, cutoff=0.5)
    if close:
        raise TargetError("unknown KPI %(kpi)r; did you mean %(close)s?", kpi=kpi, close=", ".join(close))
    raise TargetError("unknown KPI %(kpi)r; the keys are in METRICS.md (`sucesso metrics` shows them)", kpi=kpi)


# -- the table ----------------------------------------------------------------------------
def set_target(store: Store, kpi: str, value: str | float, period: str, direction: str | None = None) -> dict:
    """Set `kpi`'s target for `period` (replacing the one that starts on the same day, if any);
    returns the row written and, under "replaced", the row it replaced (or None)."""
    kpi = known_kpi(kpi)
    start, end = parse_period(period)
    target = parse_value(value, METRICS[kpi].unit)
    direction = direction or default_direction(kpi)
    if direction not in DIRECTIONS:
        raise TargetError("the direction is higher or lower (is a higher value better?), got %(direction)r",
                          direction=direction)
    before = store.fetchall("SELECT period_end, target, direction FROM targets WHERE kpi = ? AND period_start = ?",
                            (kpi, start))
    row = {"kpi": kpi, "period_start": start, "period_end": end, "target": target, "direction": direction}
    report = write_batches(store, "targets", [pa.RecordBatch.from_pylist([row])])
    if not report.written:
        raise TargetError("the target was not written: %(problems)s",
                          problems="; ".join(str(p) for p in report.problems))
    replaced = None
    if before:
        old_end, old_target, old_direction = before[0]
        replaced = _row(kpi, start, pd.Timestamp(old_end).date(), float(old_target), old_direction)
    return {**_row(kpi, start, end, target, direction), "replaced": replaced}


def remove_target(store: Store, kpi: str, period: str) -> dict:
    """Remove `kpi`'s target for exactly `period`; returns the removed row."""
    start, end = parse_period(period)
    found = store.fetchall("SELECT target, direction FROM targets WHERE kpi = ? AND period_start = ? "
                           "AND period_end = ?", (kpi, start, end))
    if not found:
        raise NoSuchTarget("no target for %(kpi)s in %(period)s (`sucesso targets list` shows them)", kpi=kpi,
                          period=period_label(start, end))
    store.execute("DELETE FROM targets WHERE kpi = ? AND period_start = ? AND period_end = ?", (kpi, start, end))
    return _row(kpi, start, end, float(found[0][0]), found[0][1])


def _row(kpi: str, start: dt.date, end: dt.date, target: float, direction: str) -> dict:
    metric = METRICS.get(kpi)
    return {"kpi": kpi, "period": period_label(start, end), "period_start": start.isoformat(),
            "period_end": end.isoformat(), "target": target, "direction": direction,
            "unit": metric.unit if metric else None}


# -- their status ---------------------------------------------------------------------------
def status_month(start: dt.date, end: dt.date, last_month: dt.date | None) -> dt.date | None:
    """The month whose value a target of [start, end) is judged on: the last month of data
    (`last_month`) if it falls in the period, the period's last month once the period is over,
    None while the period has not begun (or without data)."""
    if last_month is None:
        return None
    month = min(last_month, align(end - dt.timedelta(days=1), "month"))
    return month if month >= align(start, "month") else None


def target_rows(all_targets: pd.DataFrame, kpis: pd.DataFrame, last_month: str | None) -> list[dict]:
    """Every target with the KPI's value in its status month (see status_month) and its status;
    `kpis` holds monthly KPI values by `period` ("YYYY-MM") — the web's precomputed table, or
    what list_targets evaluates. Earliest period first."""
    last = parse_month(last_month) if last_month else None
    values = kpis.set_index("period") if not kpis.empty else pd.DataFrame()
    out = []
    for t in all_targets.sort_values(["period_start", "kpi"]).to_dict("records"):
        start, end = pd.Timestamp(t["period_start"]).date(), pd.Timestamp(t["period_end"]).date()
        month = status_month(start, end, last)
        label = f"{month:%Y-%m}" if month else None
        value = values.at[label, t["kpi"]] if label in values.index and t["kpi"] in values.columns else None
        value = None if value is None or pd.isna(value) else float(value)
        out.append({**_row(t["kpi"], start, end, float(t["target"]), t["direction"]), "month": label,
                    "value": value, "status": status(value, t)})
    return out


def list_targets(store: Store, today: dt.date | None = None) -> list[dict]:
    """target_rows for the workspace: each KPI evaluated for the months the targets are judged on,
    the last month of data being the one `sucesso metrics` ends on by default."""
    all_targets = targets(store)
    last = default_months(store, today or dt.date.today(), count=1)[1]
    months = [status_month(pd.Timestamp(s).date(), pd.Timestamp(e).date(), parse_month(last))
              for s, e in zip(all_targets["period_start"], all_targets["period_end"], strict=True)]
    keys = sorted({k for k, m in zip(all_targets["kpi"], months, strict=True) if m and k in METRICS})
    needed = [m for m in months if m]
    kpis = pd.DataFrame()
    if keys:
        kpis = pd.DataFrame(kpi_rows(store, keys, f"{min(needed):%Y-%m}", f"{max(needed):%Y-%m}"))
    return target_rows(all_targets, kpis, last)
