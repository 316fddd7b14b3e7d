"""Arrow plumbing for the demo generator: the time window, type map and column builders.

Inside the generator every instant is a float number of days since the window's first
midnight (UTC); `Window.timestamps` turns those into Arrow `timestamp("us")` columns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sucesso.store import schema

BATCH_ROWS = 1_000_000
DAY_US = 86_400_000_000
MONTH_DAYS = 30.4375



def arrow_schema(table: schema.Table) -> pa.Schema:
    """The Arrow schema of a canonical table, columns in order, types as the store maps them:
    text→string, int→int64, decimal→decimal128(18, 2), double→float64, bool→bool,
    timestamp→timestamp("us") (naive UTC), date→date32, json→string (canonical JSON text).
    """
    return schema.arrow_schema(table)


def canonical_json(obj: object) -> str:
    """JSON text as the store keeps it: sorted keys, compact, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Window:
    """The company's history: `months` calendar months ending just before `until`."""

    start: dt.date
    until: dt.date
    month_starts: np.ndarray  # days since start of each month's first day; last = until

    @classmethod
    def ending(cls, until: dt.date, months: int) -> Window:
        first = np.datetime64(until, "M") - months
        bounds = (first + np.arange(months + 1)).astype("datetime64[D]")
        start = bounds[0].astype(dt.date)
        return cls(start, until, (bounds - bounds[0]).astype(np.float64))

    @property
    def months(self) -> int:
        return len(self.month_starts) - 1

    @property
    def days(self) -> float:
        return float(self.month_starts[-1])

    @property
    def start_us(self) -> int:
        return (self.start - dt.date(1970, 1, 1)).days * DAY_US

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Index of the calendar month holding each instant (clipped to the window)."""
        m = np.searchsorted(self.month_starts, days, side="right") - 1
        return np.clip(m, 0, self.months - 1)

    def month_length(self, m: np.ndarray | int) -> np.ndarray:
        return self.month_starts[np.asarray(m) + 1] - self.month_starts[m]

    def weekday(self, days: np.ndarray) -> np.ndarray:
        """0 = Monday … 6 = Sunday."""
        return (np.floor(days).astype(np.int64) + self.start.weekday()) % 7

    def timestamps(self, days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        """Instants (days since start, NaN = unknown) as a timestamp("us") column."""
        days = np.asarray(days, dtype=np.float64)
        missing = np.isnan(days) if valid is None else ~valid | np.isnan(days)
        us = self.start_us + np.round(np.where(missing, 0.0, days) * DAY_US).astype(np.int64)
        return pa.array(us, type=pa.timestamp("us"), mask=missing if missing.any() else None)

    def dates(self, days: np.ndarray) -> pa.Array:
        d = np.datetime64(self.start, "D") + np.floor(days).astype("timedelta64[D]")
        return pa.array(d, type=pa.date32())


def business_time(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day (fraction of a UTC day) of something people do at work in Brazil (UTC−3).

    Mostly office hours around mid-afternoon, a tail at any hour. May exceed 1.0: a 22:00
    local action falls on the next UTC day.
    """
    local = np.where(
        rng.random(n) < 0.88,
        np.clip(rng.normal(13.5, 2.7, n), 7.0, 21.5),
        rng.uniform(0.0, 24.0, n),
    )
    return (local + 3.0) / 24.0


def within(
    rng: np.random.Generator, window: Window, lo: np.ndarray, hi: np.ndarray, workdays: float = 0.75
) -> np.ndarray:
    """Instants in [lo, hi) at business hours, leaning to weekdays; lo < hi required.

    A weekend draw is redrawn once with probability `workdays`, so about one action in
    eight falls on a Saturday or Sunday.
    """
    n = len(lo)
    t = lo + rng.random(n) * (hi - lo)
    again = (window.weekday(t) >= 5) & (rng.random(n) < workdays)
    t[again] = lo[again] + rng.random(int(again.sum())) * (hi[again] - lo[again])
    office = np.floor(t) + business_time(rng, n)
    inside = (office >= lo) & (office < hi)
    return np.where(inside, office, t)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Text identifiers such as acc_000042, built column-wise from integers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def id_width(count: int, minimum: int = 6) -> int:
    return max(minimum, len(str(max(count, 1))))


def labels(vocabulary: Sequence[str], index: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A text column picking vocabulary[index]; rows where `missing` is true are null."""
    idx = pa.array(np.asarray(index, dtype=np.int64), mask=missing)
    return pa.array(list(vocabulary), type=pa.string()).take(idx)


def money(cents: np.ndarray) -> pa.Array:
    """Exact decimal128(18, 2) money from integer cents (no float rounding on the way)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension into the high 64 bits
    kind = pa.decimal128(18, schema.MONEY_SCALE)
    return pa.Array.from_buffers(kind, len(cents), [None, pa.py_buffer(words)])


def price_cents(amount: np.ndarray) -> np.ndarray:
    """Shop-window prices: round down to tens and end in ,90 (e.g. 1.234 → 1.229,90)."""
    return np.maximum(np.floor(np.asarray(amount) / 10.0), 1).astype(np.int64) * 1000 - 10


def batches(name: str, columns: dict[str, pa.Array]) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Slice full columns of one table into record batches of at most BATCH_ROWS rows.

    A table without rows still yields one empty batch, so readers always see its schema.
    """
    target = arrow_schema(schema.table(name))
    arrays = [_as_type(columns[f.name], f.type) for f in target]
    total = len(arrays[0])
    for offset in range(0, max(total, 1), BATCH_ROWS):
        sliced = [a.slice(offset, BATCH_ROWS) for a in arrays]
        yield name, pa.RecordBatch.from_arrays(sliced, schema=target)


def _as_type(values: pa.Array | np.ndarray | Sequence, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        return pa.array(values, type=kind)
    return values if values.type == kind else values.cast(kind)
