"""Calendar periods (METRICS.md, "Periods and snapshots"): month by default, quarter, year.

`start(P)` is the first instant of P and `end(P)` the first instant of the next period.
Periods are numbered 1..n; boundary i is end(P_i), boundary 0 is start(P_1).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

KINDS = ("month", "quarter", "year")
STEP = {"month": 1, "quarter": 3, "year": 12}


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Period:
    index: int
    start: dt.date
    end: dt.date
    kind: str

    @property
    def label(self) -> str:
        if self.kind == "as_of":
            return f"{self.end:%Y-%m-%d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"


def as_of(dates: list[dt.date]) -> list[Period]:
    """One instant per date (kind "as_of", start = end = the date), for the frame helpers that
    read `end(P)`: a health score or a churn-risk feature as of a date is read at its midnight."""
    return [Period(i, d, d, "as_of") for i, d in enumerate(dates, start=1)]


def align(day: dt.date, kind: str) -> dt.date:
    """The start of the period of this kind that holds `day`."""
    month = day.month - (day.month - 1) % STEP[kind] if kind != "year" else 1
    return dt.date(day.year, month, 1)


def periods(first: dt.date, last: dt.date, kind: str = "month") -> list[Period]:
    """The periods from the one holding `first` to the one holding `last`, inclusive."""
    if kind not in KINDS:
        raise ValueError(f"period must be one of {', '.join(KINDS)}, not {kind!r}")
    start, stop = align(first, kind), align(last, kind)
    if stop < start:
        raise ValueError(f"--to ({last:%Y-%m}) is before --from ({first:%Y-%m})")
    out = []
    while start <= stop:
        end = add_months(start, STEP[kind])
        out.append(Period(len(out) + 1, start, end, kind))
        start = end
    return out
