"""Events per second through the Segment-compatible `/v1/batch`, from concurrent senders over
loopback to a real `sucesso serve`, and a count afterwards: no event lost, none twice.

    .venv/bin/python benchmarks/tracking_throughput.py [--events 200000] [--batch 500] [--senders 4]
                                                       [--stored 0] [--all-tracked]

A fresh DuckDB workspace gets an admin with an ingest token, 200 accounts and 2,000 contacts
(through /v1/batch itself: group and identify calls), and `--stored` usage events already
there: imported at schema version 6 (whose look for stored messageIds read every event_id),
then upgraded, which records the latest million of their ids in tracked_messages (the index the
tracking API checks messageIds against; the upgrade's seconds are recorded). With --all-tracked,
tracked_messages then holds every stored id, as if the API had received them all: its index at
its largest (DuckDB holds it in memory). The track
calls are built beforehand as analytics-python sends them (messageId, timestamp, context,
properties; the batch's sentAt): half name their account in context.groupId, half are found
through their contact. Every 50th batch is sent twice, by another sender, as a retry would:
its events count once. The clock runs from the first request to the last answer; every answer
must be 200. Then the server stops and usage_events is counted: it must hold exactly the
stored events plus the distinct ones sent. Results are appended to
benchmarks/tracking-throughput.json (date, machine, events, seconds, events/s, the upgrade's
seconds and the messageIds tracked_messages held before).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
SUCESSO = str(Path(sys.executable).with_name("sucesso"))
ACCOUNTS, CONTACTS = 200, 2000
EVENTS = ("Report Exported", "Dashboard Viewed", "Invite Sent", "Integration Connected", "Search Performed")


def prepare(url: str, stored: int, all_tracked: bool) -> tuple[str, float, int]:
    """The workspace's admin and ingest token, and `stored` events imported into it at schema
    version 6; then the upgrade to the current version (and, `all_tracked`, every stored id
    recorded in tracked_messages): the token, the upgrade's seconds, the ids recorded."""
    import pyarrow as pa

    from sucesso.ingest import write_batches
    from sucesso.store.engines import connect
    from sucesso.store.migrations import migrate
    from sucesso.store.schema import arrow_schema, table
    from sucesso.web.users import create_token, create_user

    with connect(url) as store:
        migrate(store, to=6)
        user = create_user(store, "bench@example.com", "admin", "bench password 1234", name="Bench")
        _, token = create_token(store, user, "tracking bench", "ingest")
        if stored:
            accounts = pa.RecordBatch.from_pydict(
                {"account_id": [f"acct-{i}" for i in range(ACCOUNTS)],
                 "name": [f"Account {i}" for i in range(ACCOUNTS)], "created_at": [dt.datetime(2024, 1, 1)] * ACCOUNTS},
                schema=arrow_schema(table("accounts"), ["account_id", "name", "created_at"]))
            write_batches(store, "accounts", [accounts])
            columns = ["event_id", "account_id", "event", "occurred_at"]
            for start in range(0, stored, 500_000):
                n = min(500_000, stored - start)
                batch = pa.RecordBatch.from_pydict(
                    {"event_id": [str(uuid.uuid4()) for _ in range(n)],
                     "account_id": [f"acct-{i % ACCOUNTS}" for i in range(n)], "event": ["Login"] * n,
                     "occurred_at": [dt.datetime(2024, 6, 1)] * n},
                    schema=arrow_schema(table("usage_events"), columns))
                report = write_batches(store, "usage_events", [batch])
                assert report.written, report.problems[:3]
        started = time.perf_counter()
        migrate(store)
        upgrade = time.perf_counter() - started
        if all_tracked:
            store.execute("INSERT INTO tracked_messages (message_id, received_at) SELECT event_id, now() FROM "
                          "usage_events u WHERE NOT EXISTS (SELECT 1 FROM tracked_messages t "
                          "WHERE t.message_id = u.event_id)")
        return token, upgrade, store.count("tracked_messages")


def setup_calls() -> list[bytes]:
    """The accounts (group) and contacts (identify) the events belong to, as batches."""
    groups = [{"type": "group", "groupId": f"acct-{i}", "userId": f"user-{i}", "messageId": str(uuid.uuid4()),
               "traits": {"name": f"Account {i}", "plan": "pro", "employees": 50 + i, "industry": "Software"}}
              for i in range(ACCOUNTS)]
    identifies = [{"type": "identify", "userId": f"user-{i}", "messageId": str(uuid.uuid4()),
                   "context": {"groupId": f"acct-{i % ACCOUNTS}"},
                   "traits": {"name": f"User {i}", "email": f"user{i}@example.com", "title": "Analyst"}}
                  for i in range(CONTACTS)]
    calls = groups + identifies
    return [orjson.dumps({"batch": calls[i:i + 1000]}) for i in range(0, len(calls), 1000)]


def track_batches(events: int, size: int, seed: int = 7) -> list[bytes]:
    """`events` track calls in batches of `size`, as analytics-python writes them."""
    rng = random.Random(seed)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    bodies = []
    for first in range(0, events, size):
        batch = []
        for i in range(first, min(events, first + size)):
            user = rng.randrange(CONTACTS)
            message = {
                "type": "track", "userId": f"user-{user}", "event": rng.choice(EVENTS),
                "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
                "timestamp": (start + dt.timedelta(milliseconds=i * 10)).isoformat(timespec="milliseconds"),
                "properties": {"plan": "pro", "items": rng.randrange(100), "source": "web", "beta": i % 2 == 0},
                "context": {"library": {"name": "analytics-python", "version": "2.3.4"}},
                "integrations": {},
            }
            if i % 2:
                message["context"]["groupId"] = f"acct-{user % ACCOUNTS}"
            batch.append(message)
        sent_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        bodies.append(orjson.dumps({"batch": batch, "sentAt": sent_at}))
    return bodies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_all(port: int, token: str, bodies: list[bytes], senders: int) -> tuple[float, int]:
    """Post every body from `senders` threads (a keep-alive connection each); seconds, requests."""
    auth = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    queues = [bodies[i::senders] for i in range(senders)]
    for i in range(0, len(bodies), 50):  # a retry of every 50th batch, by another sender
        queues[(i + 1) % senders].append(bodies[i])
    failures: list[str] = []

    def sender(queue: list[bytes]) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for body in queue:
            con.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
            answer = con.getresponse()
            text = answer.read()
            if answer.status != 200:
                failures.append(f"{answer.status}: {text[:300]!r}")
        con.close()

    threads = [threading.Thread(target=sender, args=(q,)) for q in queues]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    assert not failures, failures[:3]
    return seconds, sum(len(q) for q in queues)


def post(port: int, token: str, body: bytes) -> None:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    auth = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    con.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
    answer = con.getresponse()
    assert answer.status == 200, answer.read()[:500]
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--stored", type=int, default=0, help="usage events already in the workspace")
    parser.add_argument("--all-tracked", action="store_true", help="every stored id in tracked_messages")
    args = parser.parse_args()
    from sucesso.store import open_store

    folder = tempfile.mkdtemp(prefix="sucesso-tracking-bench-")
    url = os.path.join(folder, "workspace.duckdb")
    token, upgrade, tracked = prepare(url, args.stored, args.all_tracked)
    bodies = track_batches(args.events, args.batch)
    port = free_port()
    server = subprocess.Popen([SUCESSO, "serve", "--db", url, "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        for body in setup_calls():
            post(port, token, body)
        seconds, requests = send_all(port, token, bodies, args.senders)
    finally:
        server.terminate()
        server.wait(60)
    with open_store(url) as store:
        stored = store.count("usage_events")
    shutil.rmtree(folder)
    expected = args.stored + args.events
    assert stored == expected, f"usage_events holds {stored:,} events; {expected:,} expected"
    entry = {"date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
             "python": platform.python_version(), "events": args.events, "batch": args.batch,
             "senders": args.senders, "requests": requests, "stored_before": args.stored,
             "seconds": round(seconds, 2), "events_per_second": round(args.events / seconds),
             "counted": stored - args.stored, "upgrade_seconds": round(upgrade, 2), "tracked_before": tracked}
    path = HERE / "tracking-throughput.json"
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(history + [entry], indent=2) + "\n")
    print(f"{args.events:,} events ({requests} requests of {args.batch}, {args.senders} senders, "
          f"{args.stored:,} stored before) in {seconds:.2f} s: {entry['events_per_second']:,} events/s; "
          f"counted {stored - args.stored:,}, none lost or twice; the upgrade from version 6 took {upgrade:.1f} s, "
          f"tracked_messages held {tracked:,}")


if __name__ == "__main__":
    main()
