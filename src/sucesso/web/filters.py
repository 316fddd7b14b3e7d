"""The filters every page takes from its query string: months from/to and a segment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import Request

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Filters:
    first: str | None
    last: str | None
    segment: str
    segments: list[str]
    keep: dict[str, str] = field(default_factory=dict)  # other query values the filter form keeps
    note: str | None = None

    def query(self, **changes) -> str:
        """The query string of these filters (and `changes`), for links to the accounts behind a figure."""
        from urllib.parse import urlencode

        values = {"from": self.first, "to": self.last, "segment": self.segment, **self.keep, **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def filters(request: Request, default_months: int = 12, keep: tuple[str, ...] = ()) -> Filters:
    """From ?from=YYYY-MM&to=YYYY-MM&segment=…; the last `default_months` months of data by default.
    A malformed month is ignored with a note rather than an error page."""
    workspace = request.app.state.workspace
    months = workspace.months or []
    q = request.query_params
    note = None
    first, last = q.get("from") or None, q.get("to") or None
    for value in (first, last):
        if value and not MONTH.match(value):
            note, first, last = f"ignored a month that is not YYYY-MM: {value!r}", None, None
    if last is None and months:
        last = months[-1]
    if first is None and months:
        first = months[max(0, len(months) - default_months)]
    if first and last and first > last:
        first, last = last, first
    segments = workspace.segments()
    segment = q.get("segment", "")
    if segment and segment not in segments:
        note, segment = f"unknown segment {segment!r}: showing all", ""
    return Filters(first, last, segment, segments, {k: q[k] for k in keep if q.get(k)}, note)
