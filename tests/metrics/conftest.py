"""One fixture runs the same metric test on DuckDB, on PostgreSQL and on Spark (local mode).

    def test_x(kpis):
        ws = kpis(subscriptions=[{"account_id": "a", "mrr": 100, "started_at": "2024-01-01"}])
        assert ws.rows(["mrr"], "2024-01", "2024-02") == [{"period": "2024-01", "mrr": 100.0}, ...]

Tables are given as lists of dicts (dates as ISO text); accounts referenced but not given are
created. The Spark variant writes the DuckDB workspace with `sucesso export` and opens the
Parquet folder as a `spark://local[2]?path=…` workspace, exactly as a user would.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest

from sucesso.ingest import export_workspace, write_batches
from sucesso.metrics.api import kpi_rows
from sucesso.store import open_store
from sucesso.store.schema import CANONICAL

ENGINES = ["duckdb", "postgres", "spark"]
_ids = itertools.count()


def _with_accounts(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    given = {a["account_id"] for a in tables.get("accounts", [])}
    needed = sorted({r["account_id"] for rows in tables.values() for r in rows if "account_id" in r} - given)
    accounts = tables.get("accounts", []) + [
        {"account_id": a, "name": f"Account {a}", "created_at": "2020-01-01"} for a in needed]
    return {"accounts": accounts, **{k: v for k, v in tables.items() if k != "accounts"}}


def _with_ids(name: str, rows: list[dict]) -> list[dict]:
    key = next(t.key for t in CANONICAL if t.name == name)
    if len(key) == 1 and key[0].endswith("_id") and key[0] != "account_id":
        return [{key[0]: f"{name[:3]}{next(_ids)}", **r} for r in rows]
    return rows


class Workspace:
    def __init__(self, store, settings=None):
        self.store = store
        self.settings = settings

    def rows(self, keys, start, end, period="month", by=None):
        return kpi_rows(self.store, keys, start, end, period=period, by=by, settings=self.settings)

    def values(self, key, start, end, **kw):
        return [r[key] for r in self.rows([key], start, end, **kw)]


@pytest.fixture(params=ENGINES)
def kpis(request, tmp_path):
    opened = []

    def build(settings=None, **tables):
        tables = _with_accounts(tables)
        url = (request.getfixturevalue("postgres").new_database() if request.param == "postgres"
               else str(tmp_path / f"w{len(opened)}.duckdb"))
        store = open_store(url)
        opened.append(store)
        for t in CANONICAL:
            if tables.get(t.name):
                report = write_batches(store, t.name, [pa.RecordBatch.from_pylist(_with_ids(t.name, tables[t.name]))])
                assert report.written, [str(p) for p in report.problems]
        if request.param == "spark":
            folder = tmp_path / f"export{len(opened)}"
            export_workspace(store, str(folder))
            store = open_store(f"spark://local[2]?path={folder}")
        return Workspace(store, settings)

    yield build
    for s in opened:
        s.close()
