"""Load: concurrent senders on the tracking API (`/v1/batch`, `/v1/track`) and the import API
(`/api/import/…`) of a real `sucesso serve`, over loopback, for minutes; readers on the API
meanwhile. Then the server stops and the workspace is counted: every event and contact a sender
was told was written is there exactly once, nothing of a refused request is, and the server's
memory (RSS, sampled every half second) stayed flat.

    .venv/bin/python benchmarks/load.py [--seconds 600] [--db postgresql://…] [--accounts 800]

Without --db, a DuckDB workspace holding the demo company (`--accounts`, seed 7) is made in a
temporary folder; with a PostgreSQL URL, the demo is loaded into that (empty) database. Results
are appended to benchmarks/load.json. tests/hardening/test_load.py runs the same `run` for
3 minutes on each engine (SUCESSO_LOAD_SECONDS changes that).

What the senders do, each with its own random seed:
- tracking (3 senders): batches of 1 to 500 messages, mostly tracks (half name their account in
  context.groupId, half are found through their user), some identify calls for new users, whose
  tracks follow in the same batch; every 7th batch is sent again later by another sender, as a
  retry would (its events count once); every 11th batch holds one message naming an account
  that does not exist, so that the whole batch must be refused (400) and nothing of it written;
  now and then a single `/v1/track` call.
- imports (1 sender): usage_events CSV files of 500 to 3,000 rows; every 4th upload sends an
  earlier file again (it must change nothing: inserted 0), every 5th holds one impossible date
  and must be refused (422) with nothing written; contacts files of 50 rows now and then.
- readers (1): the overview, accounts, an account 360, health and tasks, through the API.

An answer that is not the one expected (a 5xx, a 503 included) is a failure. Memory: the
server's resident memory (from /proc every half second) once warmed up — the highest of the
first quarter of the run — against the highest of the last quarter: `memory_growth_mb`. On DuckDB
part of it is data, not a leak: the index of tracked messageIds lives in the server's memory while
written (about 100 bytes each, `index_mb`); PostgreSQL keeps its own in its processes. The
server's own account (`/api/status` every 2 seconds: the engine's share, Arrow's buffers,
Python's allocated blocks) is recorded beside it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

HERE = Path(__file__).resolve().parent
SERVE = [sys.executable, "-c", "from sucesso.cli import run; run()", "serve"]
MB = 1024 * 1024
INDEX_BYTES = 100  # a messageId in DuckDB's tracked_messages index (ingest/tracking.py)
EVENTS = ("Report Exported", "Dashboard Viewed", "Invite Sent", "Integration Connected", "Search Performed")


@dataclass
class Tally:
    """What one sender was told: the rows written and those refused, the answers, the seconds each took."""

    events: set[str] = field(default_factory=set)  # event_ids answered as written
    refused: set[str] = field(default_factory=set)  # event_ids of refused requests
    contacts: set[str] = field(default_factory=set)
    answers: Counter = field(default_factory=Counter)  # "kind status" → requests
    seconds: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def answered(self, kind: str, answer: httpx.Response, expected: int, started: float) -> bool:
        self.answers[f"{kind} {answer.status_code}"] += 1
        self.seconds.setdefault(kind, []).append(time.perf_counter() - started)
        if answer.status_code != expected:
            self.failures.append(f"{kind}: {answer.status_code} (expected {expected}): {answer.text[:300]}")
            return False
        return True

    def add(self, other: Tally) -> None:
        self.events |= other.events
        self.refused |= other.refused
        self.contacts |= other.contacts
        self.answers += other.answers
        for kind, seconds in other.seconds.items():
            self.seconds.setdefault(kind, []).extend(seconds)
        self.failures += other.failures


@dataclass
class Result:
    engine: str
    seconds: float
    tally: Tally
    counted: dict[str, int]  # what the workspace holds of what was sent
    expected: dict[str, int]
    rss_mb: list[tuple[float, float]]  # (second, MB) from /proc every half second
    status: list[dict]  # /api/status's memory every 2 seconds: resident_mb, engine_mb, arrow_mb, python_blocks
    open_files: tuple[int, int]  # the server's file descriptors after warming up, and at the end

    def _quarters(self, values: list[tuple[float, float]]) -> tuple[float, float]:
        """The highest of `values` (second, value) in the first quarter of the run, and in the last."""
        quarter = self.seconds / 4
        return (max(v for s, v in values if s <= quarter), max(v for s, v in values if s >= self.seconds - quarter))

    @property
    def tracked_ids(self) -> int:
        """The messageIds the tracking API recorded (tracked_messages' index: DuckDB holds it in memory)."""
        return sum(1 for e in self.tally.events if e.startswith("t"))

    @property
    def memory_growth_mb(self) -> float:
        """The server's resident memory at the end (the highest of the last quarter of the run)
        less once warmed up (the highest of the first quarter)."""
        warm, last = self._quarters(self.rss_mb)
        return last - warm

    @property
    def index_mb(self) -> float:
        """What the messageIds recorded take in a DuckDB workspace's tracked_messages index, which
        DuckDB holds in the server's memory while it writes to it (ingest/tracking.py): the growth
        that is data, not a leak. PostgreSQL keeps its indexes in its own processes."""
        return self.tracked_ids * INDEX_BYTES / MB if self.engine == "duckdb" else 0.0

    def summary(self) -> dict:
        requests = sum(self.tally.answers.values())
        p50, p95 = ({kind: round(_percentile(s, p) * 1000) for kind, s in sorted(self.tally.seconds.items())}
                    for p in (50, 95))
        return {
            "date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "engine": self.engine, "seconds": round(self.seconds), "requests": requests,
            "answers": dict(sorted(self.tally.answers.items())), "p50_ms": p50, "p95_ms": p95,
            "events_written": self.expected["events"],
            "events_per_second": round(self.expected["events"] / self.seconds),
            "tracked_message_ids": self.tracked_ids,
            "counted": self.counted, "expected": self.expected, "failures": len(self.tally.failures),
            "rss_mb": [round(mb) for mb in self._quarters(self.rss_mb)],
            "rss_max_mb": round(max(mb for _, mb in self.rss_mb)),
            "memory_growth_mb": round(self.memory_growth_mb, 1), "index_mb": round(self.index_mb, 1),
            "engine_mb": [round(mb) for mb in self._quarters([(x["second"], x["engine_mb"] or 0)
                                                               for x in self.status])],
            "arrow_mb": [self.status[0]["arrow_mb"], self.status[-1]["arrow_mb"]],
            "python_blocks": [self.status[0]["python_blocks"], self.status[-1]["python_blocks"]],
            "open_files": list(self.open_files),
        }


def _percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0.0])[0]


# -- the workspace and the server ------------------------------------------------------------------
def prepare(url: str, accounts: int) -> tuple[str, str]:
    """The demo company in the workspace at `url`, an admin and its tokens: (ingest token, admin token)."""
    from sucesso.demo.load import load_demo
    from sucesso.store import open_store
    from sucesso.web.users import create_token, create_user

    with open_store(url) as store:
        if not store.has_rows("accounts"):
            load_demo(store, accounts=accounts, seed=7, health_history=False)
        user = create_user(store, "load@example.com", "admin", "load password 1234", name="Load")
        senders = create_token(store, user, "load senders", "ingest")[1]
        return senders, create_token(store, user, "load readers", "admin")[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(url: str, log: Path, **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`sucesso serve --db url` on a free port, with `env` added to its environment, until the block
    ends: (process, base URL). tests/hardening/test_faults.py serves with it too."""
    port = _free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen([*SERVE, "--db", url, "--port", str(port)], stdout=out, stderr=out,
                                env={**os.environ, "SUCESSO_LANG": "en", **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"the server stopped:\n{log.read_text()}"
            try:
                httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"the server did not answer:\n{log.read_text()}"
                time.sleep(0.2)
        yield proc, base
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# -- the senders -------------------------------------------------------------------------------------
class Retries:
    """Batches sent once, for another sender to send again later."""

    def __init__(self):
        self._lock = threading.Lock()
        self._bodies: list[tuple[bytes, set[str]]] = []

    def put(self, body: bytes, ids: set[str]) -> None:
        with self._lock:
            self._bodies.append((body, ids))

    def take(self) -> tuple[bytes, set[str]] | None:
        with self._lock:
            return self._bodies.pop(0) if self._bodies else None


def _client(base: str, token: str, basic: bool = False) -> httpx.Client:
    auth = f"Basic {base64.b64encode(f'{token}:'.encode()).decode()}" if basic else f"Bearer {token}"
    return httpx.Client(base_url=base, headers={"Authorization": auth}, timeout=120)


def tracking_sender(base: str, token: str, number: int, accounts: list[str], until: float,
                    retries: Retries) -> Tally:
    tally, rng = Tally(), random.Random(1000 + number)
    users: dict[str, str] = {}  # the users this sender identified, and their accounts
    with _client(base, token, basic=True) as client:
        n = 0
        while time.monotonic() < until:
            n += 1
            if n % 9 == 0 and (again := retries.take()) is not None:  # another sender's batch, again
                body, ids = again
                started = time.perf_counter()
                if tally.answered("tracking retry", client.post("/v1/batch", content=body), 200, started):
                    tally.events |= ids
                continue
            if n % 13 == 0 and users:  # a single track call
                user = rng.choice(sorted(users))
                message = _track(rng, f"t{number}-{n}-single", user, None)
                started = time.perf_counter()
                if tally.answered("track", client.post("/v1/track", json=message), 200, started):
                    tally.events.add(message["messageId"])
                continue
            batch, new_users = _tracking_batch(rng, number, n, accounts, users)
            ids = {m["messageId"] for m in batch if m["type"] == "track"}
            refuse = n % 11 == 0
            if refuse:
                batch.insert(rng.randrange(len(batch) + 1), _track(rng, f"t{number}-{n}-bad", None, "no-such-account"))
            body = orjson.dumps({"batch": batch, "sentAt": dt.datetime.now(dt.UTC).isoformat()})
            started = time.perf_counter()
            answer = client.post("/v1/batch", content=body)
            if tally.answered("tracking batch", answer, 400 if refuse else 200, started):
                if refuse:
                    tally.refused |= ids
                else:
                    tally.events |= ids
                    tally.contacts |= set(new_users)
                    users.update(new_users)
                    if n % 7 == 0:
                        retries.put(body, ids)
    return tally


def _tracking_batch(rng: random.Random, number: int, n: int, accounts: list[str],
                    users: dict[str, str]) -> tuple[list[dict], dict[str, str]]:
    size = rng.choice((1, 10, 50, 200, 500))
    batch, new_users = [], {}
    if rng.random() < 0.5:  # a new user, identified on an existing account; its tracks follow
        user, account = f"load-user-{number}-{n}", rng.choice(accounts)
        new_users[user] = account
        batch.append({"type": "identify", "userId": user, "messageId": f"t{number}-{n}-identify",
                      "context": {"groupId": account},
                      "traits": {"name": f"User {number}-{n}", "email": f"user{number}.{n}@example.com"}})
    known = sorted({**users, **new_users})
    for i in range(size):
        if known and i % 2:
            batch.append(_track(rng, f"t{number}-{n}-{i}", rng.choice(known), None))
        else:
            batch.append(_track(rng, f"t{number}-{n}-{i}", None, rng.choice(accounts)))
    return batch, new_users


def _track(rng: random.Random, message_id: str, user: str | None, account: str | None) -> dict:
    message = {"type": "track", "messageId": message_id, "event": rng.choice(EVENTS),
               "timestamp": (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=rng.randrange(3600))).isoformat(),
               "properties": {"items": rng.randrange(100), "source": "web"},
               "context": {"library": {"name": "analytics-python", "version": "2.3.4"}}}
    if user:
        message["userId"] = user
    else:
        message["anonymousId"] = f"anonymous-{rng.randrange(10_000)}"
    if account:
        message["context"]["groupId"] = account
    return message


def import_sender(base: str, token: str, number: int, accounts: list[str], until: float) -> Tally:
    tally, rng = Tally(), random.Random(2000 + number)
    sent: list[tuple[bytes, set[str]]] = []
    with _client(base, token) as client:
        n = 0
        while time.monotonic() < until:
            n += 1
            if n % 4 == 0 and sent:  # an earlier file again: nothing changes
                body, ids = rng.choice(sent)
                started = time.perf_counter()
                answer = client.post("/api/import/usage_events", files={"file": ("again.csv", body)})
                if tally.answered("import again", answer, 200, started) and answer.json()["inserted"] != 0:
                    tally.failures.append(f"an import sent again inserted {answer.json()['inserted']} rows")
                continue
            if n % 6 == 0:
                body, ids = _contacts_file(number, n, accounts)
                started = time.perf_counter()
                if tally.answered("import contacts", client.post("/api/import/contacts",
                                                                 files={"file": (f"c{n}.csv", body)}), 200, started):
                    tally.contacts |= ids
                continue
            refuse = n % 5 == 0
            body, ids = _events_file(rng, number, n, accounts, refuse)
            started = time.perf_counter()
            answer = client.post("/api/import/usage_events", files={"file": (f"events-{n}.csv", body)})
            if tally.answered("import events", answer, 422 if refuse else 200, started):
                if refuse:
                    tally.refused |= ids
                else:
                    tally.events |= ids
                    sent.append((body, ids))
    return tally


def _events_file(rng: random.Random, number: int, n: int, accounts: list[str], refuse: bool) -> tuple[bytes, set[str]]:
    rows = rng.randrange(500, 3001)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["event_id", "account_id", "event", "occurred_at", "properties"])
    ids, bad = set(), rng.randrange(rows) if refuse else -1
    for i in range(rows):
        event_id = f"i{number}-{n}-{i}"
        ids.add(event_id)
        day = "2026-02-30" if i == bad else f"2026-{rng.randrange(1, 11):02d}-{rng.randrange(1, 29):02d}"
        writer.writerow([event_id, rng.choice(accounts), rng.choice(EVENTS), f"{day} 10:{i % 60:02d}:00",
                         '{"source": "import"}'])
    return out.getvalue().encode(), ids


def _contacts_file(number: int, n: int, accounts: list[str]) -> tuple[bytes, set[str]]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["contact_id", "account_id", "name", "email"])
    ids = set()
    for i in range(50):
        contact = f"load-contact-{number}-{n}-{i}"
        ids.add(contact)
        writer.writerow([contact, accounts[(n * 50 + i) % len(accounts)], f"Contact {n}-{i}", f"c{n}.{i}@example.com"])
    return out.getvalue().encode(), ids


def watch_status(base: str, token: str, until: float, started: float, samples: list[dict]) -> Tally:
    """The server's own account of its memory (`/api/status`) every 2 seconds."""
    tally = Tally()
    with _client(base, token) as client:
        while time.monotonic() < until:
            asked = time.perf_counter()
            answer = client.get("/api/status")
            if tally.answered("read /api/status", answer, 200, asked):
                samples.append({"second": round(time.monotonic() - started, 1), **answer.json()["memory"]})
            time.sleep(2)
    return tally


def reader(base: str, token: str, accounts: list[str], until: float) -> Tally:
    tally, rng = Tally(), random.Random(3000)
    paths = ["/api/overview", "/api/accounts?band=red", "/api/health", "/api/tasks", "/api/revenue"]
    with _client(base, token) as client:
        while time.monotonic() < until:
            path = rng.choice([*paths, f"/api/accounts/{rng.choice(accounts)}"])
            started = time.perf_counter()
            tally.answered(f"read {path.split('?')[0].rsplit('/', 1)[0] if 'accounts/' in path else path}",
                           client.get(path), 200, started)
            time.sleep(0.2)
    return tally


# -- the run -------------------------------------------------------------------------------------------
def run(url: str, seconds: float, log: Path, accounts: int = 800, tracking_senders: int = 3,
        import_senders: int = 1, readers: int = 1, progress: Callable[[str], None] = lambda _: None) -> Result:
    """Prepare the workspace at `url`, load its server for `seconds`, stop it and count."""
    from sucesso.store import open_store

    ingest_token, admin_token = prepare(url, accounts)
    with open_store(url) as store:
        account_ids = [r[0] for r in store.fetchall("SELECT account_id FROM accounts ORDER BY account_id")]
        events_before, contacts_before = store.count("usage_events"), store.count("contacts")
    retries, tallies, samples, status = Retries(), [], [], []
    with serving(url, log) as (proc, base):
        started = time.monotonic()
        until = started + seconds
        jobs: list[Callable[[], Tally]] = (
            [lambda k=k: tracking_sender(base, ingest_token, k, account_ids, until, retries)
             for k in range(tracking_senders)]
            + [lambda k=k: import_sender(base, ingest_token, k, account_ids, until) for k in range(import_senders)]
            + [lambda: reader(base, admin_token, account_ids, until) for _ in range(readers)]
            + [lambda: watch_status(base, admin_token, until, started, status)])
        threads = [threading.Thread(target=lambda job=job: tallies.append(job())) for job in jobs]
        for t in threads:
            t.start()
        files_warm = None
        while any(t.is_alive() for t in threads):
            elapsed = time.monotonic() - started
            samples.append((round(elapsed, 1), _rss_mb(proc.pid)))
            if files_warm is None and elapsed > seconds / 4:
                files_warm = _open_files(proc.pid)
            if len(samples) % 60 == 0:
                progress(f"{elapsed:.0f} s: server RSS {samples[-1][1]:.0f} MB")
            time.sleep(0.5)
        files_end = _open_files(proc.pid)
        duration = time.monotonic() - started
    tally = Tally()
    for t in tallies:
        tally.add(t)
    with open_store(url) as store:
        counted, expected = _count(store, tally, events_before, contacts_before)
    return Result(_engine(url), duration, tally, counted, expected, samples, status,
                  (files_warm or files_end, files_end))


def _count(store, tally: Tally, events_before: int, contacts_before: int) -> tuple[dict, dict]:
    """What the workspace holds of what was sent, and what it should hold."""
    sent = sorted(tally.events | tally.refused)
    rows = store.fetchall("SELECT event_id, count(*) FROM usage_events WHERE event_id = ANY(?) GROUP BY event_id",
                          (sent,))
    held = dict(rows)
    contacts = {r[0] for r in store.fetchall("SELECT contact_id FROM contacts WHERE contact_id = ANY(?)",
                                             (sorted(tally.contacts),))}
    counted = {
        "events": sum(1 for e in tally.events if e in held),
        "events_twice": sum(1 for n in held.values() if n > 1),
        "refused_written": sum(1 for e in tally.refused if e in held),
        "contacts": len(contacts),
        "usage_events_added": store.count("usage_events") - events_before,
        "contacts_added": store.count("contacts") - contacts_before,
    }
    expected = {"events": len(tally.events), "events_twice": 0, "refused_written": 0,
                "contacts": len(tally.contacts), "usage_events_added": len(tally.events),
                "contacts_added": len(tally.contacts)}
    return counted, expected


def _engine(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "duckdb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--db", help="an empty PostgreSQL database's URL (else a new DuckDB file)")
    parser.add_argument("--accounts", type=int, default=800)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sucesso-load-"))
    try:
        result = run(args.db or str(folder / "workspace.duckdb"), args.seconds, folder / "server.log",
                     accounts=args.accounts, progress=print)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    entry = {**result.summary(), "accounts": args.accounts}
    path = HERE / "load.json"
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(history + [entry], indent=2) + "\n")
    print(json.dumps(entry, indent=2))
    for failure in result.tally.failures[:10]:
        print("FAILURE", failure)
    assert result.counted == result.expected and not result.tally.failures


if __name__ == "__main__":
    main()
