"""What a workspace holds: tables, row counts, date ranges, currency."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sucesso.store import Store, get_setting
from sucesso.store.engines import quote
from sucesso.store.migrations import current_version
from sucesso.store.schema import CANONICAL


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    first: object | None  # earliest value of its first time column
    last: object | None
    time_column: str | None


@dataclass(frozen=True)
class WorkspaceInfo:
    url: str
    engine: str
    schema_version: int
    currency: str
    locale: str
    tables: list[TableInfo]

    @property
    def first(self):
        return min((_day(t.first) for t in self._data if t.first is not None), default=None)

    @property
    def last(self):
        return max((_day(t.last) for t in self._data if t.last is not None), default=None)

    @property
    def _data(self) -> list[TableInfo]:
        return [t for t in self.tables if t.name not in PLANS]


PLANS = ("targets",)  # future periods, not data


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def workspace_info(store: Store) -> WorkspaceInfo:
    tables = []
    for table in CANONICAL:
        time_col = next((c.name for c in table.columns if c.type in ("timestamp", "date")), None)
        if time_col:
            q = quote(time_col)
            rows, first, last = store.fetchall(f"SELECT count(*), min({q}), max({q}) FROM {quote(table.name)}")[0]
        else:
            rows, first, last = store.count(table.name), None, None
        tables.append(TableInfo(table.name, rows, first, last, time_col))
    return WorkspaceInfo(store.url, store.engine, current_version(store), get_setting(store, "currency"),
                         get_setting(store, "locale"), tables)
