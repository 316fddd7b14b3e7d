"""Fixtures that build real workspaces: a DuckDB file, and a throw-away PostgreSQL 15 cluster.

The PostgreSQL binaries refuse to run as root, so when the tests run as root the cluster
belongs to a dedicated system user (`sucesso_pg`, created if missing).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pytest
from servers import free_port  # tests/servers.py

from sucesso.ingest import write_batches
from sucesso.store.schema import CANONICAL

PG_BIN = Path(os.environ.get("SUCESSO_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "sucesso_pg"
REFERENCE = Path(__file__).resolve().parent / "data" / "reference"


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", PG_USER, "--", *cmd]


def _ensure_pg_user() -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                       check=True)


class PostgresCluster:
    def __init__(self) -> None:
        _ensure_pg_user()
        self.dir = Path(tempfile.mkdtemp(prefix="sucesso-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, PG_USER)
        self.data = self.dir / "data"
        self.user = PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        subprocess.run(_as_pg_user([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                                    "-E", "UTF8", "--no-locale"]), check=True, capture_output=True)
        self.start()
        self._n = itertools.count()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                                    str(self.dir / "log"), "-w", "start"]), check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"ws_{os.getpid()}_{next(self._n)}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries at {PG_BIN}")
    cluster = PostgresCluster()
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", cluster.port)) == 0:
                break
        time.sleep(0.1)
    yield cluster
    cluster.close()


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path) -> str:
    """A new, empty workspace on each engine."""
    if request.param == "duckdb":
        return str(tmp_path / "workspace.duckdb")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def duckdb_url(tmp_path) -> str:
    return str(tmp_path / "workspace.duckdb")


@pytest.fixture
def store(store_url):
    from sucesso.store import open_store

    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture
def write(tmp_path):
    """write("name.csv", text, encoding="utf-8") -> path of a file in the test's folder."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return str(path)

    return _write


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    """A DuckDB workspace holding the demo company (800 accounts, seed 7), made once per session.
    Read it, do not change it: every test of the session shares it."""
    from sucesso.demo.load import load_demo
    from sucesso.store import open_store

    url = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    with open_store(url) as store:
        load_demo(store, accounts=800, seed=7, health_history=False)
    return url


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


@pytest.fixture
def fill():
    """fill(store, accounts=[…], subscriptions=[…], …): write rows given as dicts (dates as ISO
    text) through the bulk import path; accounts referenced but not given are created, and
    single-column ids are made up when left out."""

    def _fill(store, **tables) -> None:
        tables = _with_accounts(tables)
        for t in CANONICAL:
            if tables.get(t.name):
                rows = _with_ids(t.name, tables[t.name])
                columns = list(dict.fromkeys(k for r in rows for k in r))  # from_pylist reads the first row's keys only
                batch = pa.RecordBatch.from_pylist([{c: r.get(c) for c in columns} for r in rows])
                report = write_batches(store, t.name, [batch])
                assert report.written, [str(p) for p in report.problems]

    return _fill


@pytest.fixture(autouse=True)
def cli_in_english(monkeypatch):
    """The CLI speaks the workspace's language (pt_BR for the demo) unless told: most tests read its
    English output, so they tell it; tests/test_cli_language.py overrides this to check pt_BR."""
    monkeypatch.setenv("SUCESSO_LANG", "en")
