"""One fixture runs the same metric test on DuckDB, on PostgreSQL and on Spark (local mode).

    def test_x(kpis):
        ws = kpis(subscriptions=[{"account_id": "a", "mrr": 100, "started_at": "2024-01-01"}])
        assert ws.rows(["mrr"], "2024-01", "2024-02") == [{"period": "2024-01", "mrr": 100.0}, ...]

Tables are given as lists of dicts (dates as ISO text); accounts referenced but not given are
created. The Spark variant writes the DuckDB workspace with `sucesso export` and opens the
Parquet folder as a `spark://local[2]?path=…` workspace, exactly as a user would.
"""

from __future__ import annotations

import pytest

from sucesso.ingest import export_workspace
from sucesso.metrics.api import kpi_rows
from sucesso.store import open_store

ENGINES = ["duckdb", "postgres", "spark"]


class Workspace:
    def __init__(self, store, settings=None):
        self.store = store
        self.settings = settings

    def rows(self, keys, start, end, period="month", by=None):
        return kpi_rows(self.store, keys, start, end, period=period, by=by, settings=self.settings)

    def values(self, key, start, end, **kw):
        return [r[key] for r in self.rows([key], start, end, **kw)]


@pytest.fixture(params=ENGINES)
def kpis(request, tmp_path, fill):
    opened = []

    def build(settings=None, **tables):
        url = (request.getfixturevalue("postgres").new_database() if request.param == "postgres"
               else str(tmp_path / f"w{len(opened)}.duckdb"))
        store = open_store(url)
        opened.append(store)
        fill(store, **tables)
        if request.param == "spark":
            folder = tmp_path / f"export{len(opened)}"
            export_workspace(store, str(folder))
            store = open_store(f"spark://local[2]?path={folder}")
        return Workspace(store, settings)

    yield build
    for s in opened:
        s.close()
