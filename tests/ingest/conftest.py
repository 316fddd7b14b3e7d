"""Fixtures for the importer tests: a workspace with a few parent rows, on one or both engines.

DuckDB workspaces for the parsing tests are copied from a template built once per session
(a fresh workspace costs its migrations); `store`/`store_url` stay fresh on both engines.
"""

from __future__ import annotations

import shutil

import pytest
from ingest_helpers import PARENTS, load

from sucesso.store import open_store


def _seed(store, folder) -> None:
    for name, text in PARENTS.items():
        path = folder / f"seed_{name}.csv"
        path.write_text(text, encoding="utf-8")
        load(store, name, str(path))


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("templates")
    paths = {"empty": str(folder / "empty.duckdb"), "seeded": str(folder / "seeded.duckdb")}
    with open_store(paths["empty"]):
        pass
    shutil.copyfile(paths["empty"], paths["seeded"])
    with open_store(paths["seeded"]) as store:
        _seed(store, folder)
    return paths


@pytest.fixture
def duck(duckdb_url, templates):
    """A fresh DuckDB workspace, for tests about parsing that need no second engine."""
    shutil.copyfile(templates["empty"], duckdb_url)
    with open_store(duckdb_url) as store:
        yield store


@pytest.fixture
def duck_seeded(duckdb_url, templates):
    """A DuckDB workspace holding csms c1, c2; accounts a1, a2; contact p1 of a1."""
    shutil.copyfile(templates["seeded"], duckdb_url)
    with open_store(duckdb_url) as store:
        yield store


@pytest.fixture
def seeded(store, tmp_path):
    """The same parent rows in a fresh workspace on DuckDB and on PostgreSQL."""
    _seed(store, tmp_path)
    return store
