"""Faults: the server and the CLI writing one DuckDB file at once; a process killed (SIGKILL) in the
middle of an import, a playbook run, a health history computation or a migration; PostgreSQL
restarted under a running server. Real processes throughout: `sucesso serve` on a free port, the
CLI as subprocesses, a real PostgreSQL 15 cluster stopped and started (conftest's `postgres`).

The figures (lock waits, reconnect time) are printed: `pytest -s tests/hardening/test_faults.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from load import serving  # benchmarks/load.py (pytest's pythonpath)
from servers import free_port  # tests/servers.py

from sucesso.store import open_store
from sucesso.store.engines import connect
from sucesso.store.migrations import VERSION_TABLE, current_version
from sucesso.store.schema import VERSION
from sucesso.web.users import create_token, create_user

SUCESSO = [sys.executable, "-c", "from sucesso.cli import run; run()"]  # `-m sucesso.cli` lacks the commands/
PASSWORD = "faults password 1234"
# The CLI, timing how long it waited for the workspace (DuckDBStore._connect) on stderr.
TIMED_CLI = """
import sys, time
from sucesso.store import engines
connect = engines.DuckDBStore._connect
def timed(self, wait):
    started = time.perf_counter()
    try:
        return connect(self, wait)
    finally:
        print(f"opened after {time.perf_counter() - started:.4f} s", file=sys.stderr)
engines.DuckDBStore._connect = timed
from sucesso.cli import app
app(prog_name="sucesso")
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "SUCESSO_LANG": "en", **extra}


def _cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", TIMED_CLI, *args], capture_output=True, text=True,
                          env=env or _env(), timeout=timeout)


def _waited(stderr: str) -> float:
    """The longest wait for the workspace a timed CLI run reported."""
    return max((float(s) for s in re.findall(r"opened after ([0-9.]+) s", stderr)), default=0.0)


def _line(text: str) -> str:
    """A message as one line (the terminal wraps it)."""
    return " ".join(text.split())


def _admin_token(url: str) -> str:
    with open_store(url) as store:
        user = create_user(store, "admin@example.com", "admin", PASSWORD, name="Admin")
        return create_token(store, user, "faults", "admin")[1]


def _demo_copy(demo_url: str, tmp_path: Path) -> str:
    url = str(tmp_path / "demo.duckdb")
    shutil.copy(demo_url, url)
    return url


# -- the server and the CLI at once, on one DuckDB file ----------------------------------------------
SECONDS = 20


def test_the_server_and_the_cli_write_one_duckdb_file_at_once_and_lose_nothing(demo_url, tmp_path):
    url = _demo_copy(demo_url, tmp_path)
    token = _admin_token(url)
    with open_store(url) as store:
        account = store.fetchall("SELECT min(account_id) FROM accounts")[0][0]
        tasks_before = store.count("tasks")
    baseline = [_waited(_cli("tasks", "list", "--db", url).stderr) for _ in range(2)]  # nobody else: no wait

    api: list[tuple[int, float]] = []  # (status, seconds) of each POST /api/tasks
    reads: list[int] = []
    cli_tasks: list[subprocess.CompletedProcess] = []
    imports: list[subprocess.CompletedProcess] = []
    stop = threading.Event()

    def post_tasks(base: str) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=90) as client:
            while not stop.is_set():
                started = time.perf_counter()
                r = client.post("/api/tasks", json={"account_id": account, "title": f"api {len(api)}"})
                api.append((r.status_code, time.perf_counter() - started))
                reads.append(client.get("/api/tasks?assignee=all").status_code)

    def add_tasks() -> None:
        while not stop.is_set():
            cli_tasks.append(_cli("tasks", "add", account, f"cli {len(cli_tasks)}", "--db", url))

    def import_accounts() -> None:
        while not stop.is_set():
            path = tmp_path / f"accounts-{len(imports)}.csv"
            path.write_text(f"account_id,name,created_at\nfz{len(imports)},Conta {len(imports)},2024-01-02\n")
            imports.append(_cli("import", "accounts", str(path), "--db", url))

    with serving(url, tmp_path / "server.log") as (server, base):
        workers = [threading.Thread(target=post_tasks, args=(base,)), threading.Thread(target=add_tasks),
                   threading.Thread(target=import_accounts)]
        for w in workers:
            w.start()
        time.sleep(SECONDS)
        stop.set()
        for w in workers:
            w.join(180)
        assert server.poll() is None

    failed = [r for r in cli_tasks + imports if r.returncode != 0]
    assert not failed, failed[0].stderr
    assert {s for s, _ in api} == {200} and set(reads) == {200}
    assert len(api) >= 20 and len(cli_tasks) >= 3 and len(imports) >= 3
    with open_store(url) as store:  # every write is there, once
        assert store.count("tasks") == tasks_before + len(api) + len(cli_tasks)
        titles = {t for (t,) in store.fetchall("SELECT title FROM tasks WHERE title LIKE 'api %' OR title LIKE 'cli %'")
                  }
        assert titles == {f"api {i}" for i in range(len(api))} | {f"cli {i}" for i in range(len(cli_tasks))}
        assert store.fetchall("SELECT count(*) FROM accounts WHERE account_id LIKE 'fz%'")[0][0] == len(imports)

    waits = sorted(_waited(r.stderr) for r in cli_tasks + imports)
    latency = sorted(s for _, s in api)
    print(f"\n{SECONDS} s: {len(api)} API writes (+{len(reads)} reads), {len(cli_tasks)} `tasks add`, "
          f"{len(imports)} imports; CLI waits for the file: median {statistics.median(waits) * 1000:.0f} ms, "
          f"max {waits[-1] * 1000:.0f} ms (alone: {max(baseline) * 1000:.0f} ms); API write latency: median "
          f"{statistics.median(latency) * 1000:.0f} ms, max {latency[-1] * 1000:.0f} ms")


def test_a_workspace_kept_busy_fails_cleanly_after_the_wait(demo_url, tmp_path):
    """Another process holds the file past the wait: the CLI says so in one line, the web app answers
    503, and `sucesso serve` does not start (one line too)."""
    url = _demo_copy(demo_url, tmp_path)
    token = _admin_token(url)
    hold = ("import sys\nfrom sucesso.store import open_store\nstore = open_store(sys.argv[1])\n"
            "print('held', flush=True)\nsys.stdin.read()")
    with serving(url, tmp_path / "server.log", SUCESSO_BUSY_SECONDS="2") as (_server, base):
        holder = subprocess.Popen([sys.executable, "-c", hold, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        try:
            assert holder.stdout.readline().strip() == "held"  # the server let go of the file for it
            started = time.perf_counter()
            cli = subprocess.run([*SUCESSO, "tasks", "list", "--db", url], capture_output=True, text=True,
                                 env=_env(SUCESSO_BUSY_SECONDS="2"), timeout=60)
            cli_seconds = time.perf_counter() - started
            started = time.perf_counter()
            r = httpx.get(f"{base}/api/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            web_seconds = time.perf_counter() - started
            page = httpx.get(f"{base}/login", headers={"Accept-Language": "pt-BR"}, timeout=30)
            serve = subprocess.run([*SUCESSO, "serve", "--db", url, "--port", str(free_port())],
                                   capture_output=True, text=True, env=_env(SUCESSO_BUSY_SECONDS="1"), timeout=60)
        finally:
            holder.stdin.close()
            holder.wait(30)
        after = httpx.get(f"{base}/api/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    busy = f"error: the workspace {url} is busy (another sucesso process is writing it); tried for %s s"
    assert cli.returncode == 2 and _line(cli.stderr) == busy % 2
    assert 2 <= cli_seconds < 10
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json() == {"detail": "The workspace is unavailable right now: its database is busy or cannot be "
                                  "reached. Try again in a moment."}
    assert 2 <= web_seconds < 10
    assert page.status_code == 503 and "Espaço de trabalho indisponível" in page.text and "Traceback" not in page.text
    assert serve.returncode == 2 and _line(serve.stderr) == busy % 1
    assert after.status_code == 200  # the holder is gone: the same server answers again
    assert not os.path.exists(url + ".waiting")  # the waiters cleaned up after themselves


def test_an_idle_server_lets_go_of_the_file_and_a_precomputation_it_missed_is_tried_again(
        demo_url, tmp_path, monkeypatch):
    """A program that does not say it waits (DuckDB's own) opens the file once the server has been
    idle IDLE_SECONDS; the server's precomputation, refused meanwhile, succeeds on a later try."""
    from sucesso.store import shared
    from sucesso.web import workspace as web_workspace

    url = _demo_copy(demo_url, tmp_path)
    monkeypatch.setattr(web_workspace, "RETRY_SECONDS", 0.5)
    monkeypatch.setenv("SUCESSO_BUSY_SECONDS", "0.5")
    workspace = web_workspace.WebWorkspace(url)
    try:
        time.sleep(shared.IDLE_SECONDS + 0.5)
        holder = subprocess.Popen([sys.executable, "-c", "import sys, duckdb\ncon = duckdb.connect(sys.argv[1])\n"
                                   "print('held', flush=True)\nsys.stdin.read()", url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        workspace.refresh()
        assert workspace.error == f"StoreUnavailable: the workspace {url} is busy (another sucesso process is " \
                                  "writing it); tried for 0.5 s"
        holder.stdin.close()
        holder.wait(30)
        deadline = time.monotonic() + 120
        while workspace.error is not None or workspace.kpis is None:
            assert time.monotonic() < deadline, workspace.error
            time.sleep(0.2)
        assert not workspace.kpis.empty and len(workspace.account_rows()) >= 800
    finally:
        workspace.close()


# -- PostgreSQL restarted under a running server --------------------------------------------------------
def _sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 303, r.text[:300]


def test_postgresql_restarted_under_a_running_server_fails_cleanly_then_recovers(postgres, fill, tmp_path):
    url = postgres.new_database()
    with open_store(url) as store:
        fill(store, accounts=[{"account_id": "a1", "name": "Padaria", "created_at": "2024-01-01"}],
             subscriptions=[{"account_id": "a1", "mrr": "100.00", "started_at": "2024-01-01"}])
    token = _admin_token(url)
    bearer = {"Authorization": f"Bearer {token}"}
    with serving(url, tmp_path / "server.log") as (server, base), \
            httpx.Client(base_url=base, timeout=60) as browser, httpx.Client(base_url=base, timeout=60) as api:
        _sign_in(browser)
        assert browser.get("/tasks").status_code == 200
        assert api.post("/api/tasks", json={"account_id": "a1", "title": "before"}, headers=bearer).status_code == 200
        postgres.stop()
        try:
            started = time.perf_counter()
            down = api.get("/api/tasks", headers=bearer)
            down_seconds = time.perf_counter() - started
            write = api.post("/api/tasks", json={"account_id": "a1", "title": "lost"}, headers=bearer)
            page = browser.get("/tasks")
        finally:
            postgres.start()
        started = time.perf_counter()
        back = api.get("/api/tasks", headers=bearer)
        back_seconds = time.perf_counter() - started
        again = api.post("/api/tasks", json={"account_id": "a1", "title": "after"}, headers=bearer)
        assert browser.get("/tasks").status_code == 200  # the session survived: it is in the database
        assert server.poll() is None  # the same server, never restarted
    assert down.status_code == 503 and down.headers["retry-after"] == "5" and down_seconds < 5
    assert down.json()["detail"].startswith("The workspace is unavailable right now")
    assert write.status_code == 503
    assert page.status_code == 503 and "<h1>Workspace unavailable</h1>" in page.text and "Traceback" not in page.text
    assert back.status_code == 200 and again.status_code == 200
    with open_store(url) as store:
        assert sorted(t for (t,) in store.fetchall("SELECT title FROM tasks")) == ["after", "before"]
    log = (tmp_path / "server.log").read_text()
    assert "cannot connect to the PostgreSQL workspace" in log  # the reason is logged, not sent
    print(f"\nPostgreSQL down: 503 in {down_seconds * 1000:.0f} ms; back up: the first request reconnected and "
          f"answered in {back_seconds * 1000:.0f} ms")


def test_a_job_that_loses_its_postgresql_connection_fails_cleanly_and_the_next_reconnects(postgres):
    import psycopg

    from sucesso.store import StoreUnavailable
    from sucesso.store.shared import SharedStore

    url = postgres.new_database()
    shared = SharedStore(url)
    try:
        with shared.use() as store:
            pid = store.fetchall("SELECT pg_backend_pid()")[0][0]
        with pytest.raises(StoreUnavailable, match="the connection to the workspace was lost"), shared.use() as store:
            with psycopg.connect(postgres.url(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            store.fetchall("SELECT count(*) FROM accounts")  # midway through the job
        with shared.use() as store:
            assert store.fetchall("SELECT count(*) FROM accounts") == [(0,)]
            assert store.fetchall("SELECT pg_backend_pid()")[0][0] != pid
    finally:
        shared.close()


# -- SIGKILL at random moments ------------------------------------------------------------------------------
def kill_at_random_moments(argv: list[str], *, seed: int, attempts: int, window: tuple[float, float], reset,
                           after_each, after: str | None = None) -> list[str]:
    """`attempts` times: reset() the workspace, start `argv` and SIGKILL it after a random delay (seeded)
    within `window` seconds — counted from its first stderr line holding `after`, if given; the
    attempts share the window out, so that the kills fall all along it. `after_each()` checks the
    workspace and says what it found. Returns, per attempt, whether it was killed and what was found."""
    rng = random.Random(seed)
    first, last = window
    found = []
    for n in range(attempts):
        reset()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
        if after:
            for line in proc.stderr:
                if after in line:
                    break
        time.sleep(first + (last - first) * (n + rng.random()) / attempts)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        found.append(("killed: " if killed else "finished: ") + after_each())
    return found


def _timed_run(argv: list[str], after: str | None = None) -> float:
    """How long `argv` runs to its end (from its first stderr line holding `after`, if given)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if after and after in line and len([x for x in lines if after in x]) == 1:
            started = time.perf_counter()
    assert proc.wait(300) == 0, "".join(lines)
    return time.perf_counter() - started


def _report(what: str, found: list[str]) -> None:
    print(f"\n{what}: " + "; ".join(f"{n} × {k}" for k, n in sorted({k: found.count(k) for k in found}.items())))


def _killed_copies(demo_url: str, tmp_path: Path, prepare) -> tuple[str, str, str]:
    """The workspace the kills hit, its pristine state (prepare()d demo) and a copy to time a whole run on."""
    pristine = _demo_copy(demo_url, tmp_path)
    with open_store(pristine) as store:
        prepare(store)
    url, reference = str(tmp_path / "killed.duckdb"), str(tmp_path / "reference.duckdb")
    shutil.copy(pristine, reference)
    return url, pristine, reference


def _restore(pristine: str, url: str):
    def reset() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(url + ".wal")
        shutil.copy(pristine, url)

    return reset


def _playbook_state(url: str) -> tuple[list[tuple], int]:
    """The tasks the playbooks created (playbook, account, occurrence, kind), and how many tasks the
    recorded runs say they created — equal when no run is half-written."""
    with open_store(url) as store:
        tasks = store.fetchall("SELECT playbook, account_id, occurrence, kind FROM tasks WHERE created_by = 'playbook'")
        reports = [json.loads(r) for (r,) in store.fetchall("SELECT report FROM playbook_runs")]
    return sorted(tasks, key=repr), sum(p["created"] for r in reports for p in r.values())


def _no_tasks(store) -> None:
    for table in ("tasks", "playbook_runs", "notifications"):  # the demo's own runs undone: tasks to create
        store.execute(f"DELETE FROM {table}")


@pytest.mark.slow
def test_a_playbook_run_killed_at_random_moments_writes_all_or_nothing_and_a_retry_completes(demo_url, tmp_path):
    url, pristine, reference = _killed_copies(demo_url, tmp_path, _no_tasks)
    run = ["playbooks", "run", "--as-of", "2026-11-01"]
    seconds = _timed_run([*SUCESSO, *run, "--db", reference])
    expected, created = _playbook_state(reference)
    assert created == len(expected) > 50

    def consistent() -> str:
        tasks, said = _playbook_state(url)
        assert said == len(tasks)  # every task has its run's record, and every recorded run its tasks
        assert tasks in ([], expected)
        return "every task of the run" if tasks else "nothing written"

    found = kill_at_random_moments([*SUCESSO, *run, "--db", url], seed=8, attempts=6,
                                   window=(0.3 * seconds, 1.1 * seconds), reset=_restore(pristine, url),
                                   after_each=consistent)
    assert sum(f.startswith("killed") for f in found) >= 3
    _timed_run([*SUCESSO, *run, "--db", url])  # the retry, after the last kill
    assert _playbook_state(url) == (expected, created)
    _report(f"playbook run ({seconds:.1f} s) killed at random moments", found)


SPAN = ("2026-08-01", "2026-09-14")  # 45 days of the demo's data


def _history(url: str) -> list[tuple]:
    with open_store(url) as store:
        return sorted(store.fetchall("SELECT account_id, as_of, score, band, model, components FROM health_scores "
                                     "WHERE as_of BETWEEN ? AND ?", tuple(dt.date.fromisoformat(d) for d in SPAN)))


def _old_history(store) -> None:
    """An older history of the span, for the computation to replace."""
    with store.transaction():
        for d in range(45):
            store.execute("INSERT INTO health_scores SELECT account_id, ?, 50.0, 'old', 'old', '{}' FROM accounts",
                          (dt.date.fromisoformat(SPAN[0]) + dt.timedelta(days=d),))


@pytest.mark.slow
def test_a_health_history_killed_at_random_moments_keeps_the_old_one_and_a_retry_completes(demo_url, tmp_path):
    url, pristine, reference = _killed_copies(demo_url, tmp_path, _old_history)
    compute = ["health", "history", "--from", SPAN[0], "--to", SPAN[1]]
    old = _history(pristine)
    seconds = _timed_run([*SUCESSO, *compute, "--db", reference])
    expected = _history(reference)
    assert len(expected) > 10_000 and {r[4] for r in expected} != {"old"}

    def consistent() -> str:
        kept = _history(url)
        assert kept in (old, expected)
        return "the new history" if kept == expected else "the old history"

    found = kill_at_random_moments([*SUCESSO, *compute, "--db", url], seed=9, attempts=6,
                                   window=(0.3 * seconds, 1.1 * seconds), reset=_restore(pristine, url),
                                   after_each=consistent)
    assert sum(f.startswith("killed") for f in found) >= 3
    _timed_run([*SUCESSO, *compute, "--db", url])
    assert _history(url) == expected
    _report(f"health history ({seconds:.1f} s) killed at random moments", found)


def test_an_import_killed_at_random_moments_writes_all_or_nothing_and_a_retry_completes(tmp_path):
    """tests/test_killed_import.py kills one import once it writes (both engines); here at random moments."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 1_000_000
    pristine, url = str(tmp_path / "pristine.duckdb"), str(tmp_path / "killed.duckdb")
    with open_store(pristine) as store:
        store.execute("INSERT INTO accounts (account_id, name, created_at) VALUES ('a1', 'Padaria', '2024-01-01')")
    path = str(tmp_path / "events.parquet")
    ids = pa.compute.binary_join_element_wise("ev", pa.array(range(rows)).cast(pa.string()), "")
    pq.write_table(pa.table({"event_id": ids, "account_id": pa.array(["a1"] * rows), "event": ["login"] * rows,
                             "occurred_at": pa.array([dt.datetime(2024, 1, 2)] * rows, pa.timestamp("us"))}), path)
    shutil.copy(pristine, url)
    load = [*SUCESSO, "import", "usage_events", path, "--db", url]
    seconds = _timed_run(load, after="writing")  # the phase lines: reading, checking, writing

    def consistent() -> str:
        with open_store(url) as store:
            count = store.count("usage_events")
        assert count in (0, rows)
        return "every row" if count else "no row"

    found = kill_at_random_moments(load, seed=10, attempts=5, window=(0, 0.9 * seconds), after="writing",
                                   reset=_restore(pristine, url), after_each=consistent)
    assert sum(f.startswith("killed") for f in found) >= 3
    _timed_run(load)
    assert consistent() == "every row"
    _report(f"import of {rows:,} events killed at random moments while it writes ({seconds:.1f} s)", found)


# The upgrade, timed, in a process that says when it starts it.
MIGRATE = """
import os, sys
import duckdb, psycopg
from sucesso.store import open_store
print("upgrading", file=sys.stderr, flush=True)
open_store(sys.argv[1]).close()
os._exit(0)  # the interpreter's teardown is not part of the upgrade
"""


def _pg_admin(url: str) -> tuple[str, str]:
    """(the cluster's maintenance database URL, the database's name)."""
    base, name = url.rsplit("/", 1)
    return f"{base}/postgres", name


def _pristine_copy(url: str, tmp_path: Path) -> tuple[str, object]:
    """A copy of the workspace at `url` (a file, or a PostgreSQL database), and reset() putting it back."""
    if not url.startswith("postgresql://"):
        pristine = str(tmp_path / "pristine.duckdb")
        shutil.copy(url, pristine)
        return pristine, _restore(pristine, url)
    import psycopg

    admin, name = _pg_admin(url)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}_pristine TEMPLATE {name}")

    def reset() -> None:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE {name} WITH (FORCE)")
            con.execute(f"CREATE DATABASE {name} TEMPLATE {name}_pristine")

    return url.rsplit("/", 1)[0] + f"/{name}_pristine", reset


def test_an_upgrade_killed_at_random_moments_leaves_a_version_with_its_tables_and_the_next_open_finishes(
        store_url, tmp_path):
    from test_upgrades import catalog, declared_catalog, old_workspace, read

    written = old_workspace(store_url, 1)
    _pristine, reset = _pristine_copy(store_url, tmp_path)
    upgrade = [sys.executable, "-c", MIGRATE, store_url]
    seconds = _timed_run(upgrade, after="upgrading")
    reset()

    def consistent() -> str:
        with connect(store_url) as store:
            version = current_version(store)
            assert [v for (v,) in store.fetchall(f"SELECT version FROM {VERSION_TABLE} ORDER BY version")] == \
                list(range(1, version + 1))
            assert catalog(store) == declared_catalog(version)  # the version table matches the tables
            for table, rows in written.items():
                assert sorted(read(store, table, [c for c, _ in declared_catalog(1)[table]])) == sorted(rows)
        return f"version {version}"

    found = kill_at_random_moments(upgrade, seed=11, attempts=10, window=(0, seconds), after="upgrading", reset=reset,
                                   after_each=consistent)
    with open_store(store_url) as store:
        assert current_version(store) == VERSION
    assert consistent() == f"version {VERSION}"
    engine = "PostgreSQL" if store_url.startswith("postgresql://") else "DuckDB"
    _report(f"upgrade from version 1 to {VERSION} ({seconds * 1000:.0f} ms, {engine}) killed at random moments", found)
