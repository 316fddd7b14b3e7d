"""Latency of every page and API call of the running server, over loopback.

    .venv/bin/python benchmarks/web_latency.py [--accounts 100000] [--requests 40]

Uses the demo company of `sucesso bench` (benchmarks/bench-N.duckdb, generated if missing),
keeps its health scores for the last day and the day 30 before (what the pages read), adds a
user, starts `sucesso serve` in its own process, signs in over HTTP, lets the server finish
its precomputation (the first request waits for it), then times each route `--requests`
times in a row after two warm-up calls. p50/p95/max per route go to
benchmarks/web-latency.json (appended) and to the screen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SUCESSO = str(Path(sys.executable).with_name("sucesso"))
PASSWORD = "bench password 1234"


def prepare(accounts: int) -> str:
    from sucesso.demo.load import load_demo
    from sucesso.health.history import compute_history, default_as_of
    from sucesso.store import get_setting, open_store
    from sucesso.web.users import count_users, create_user

    url = str(HERE / f"bench-{accounts}.duckdb")
    with open_store(url) as store:
        if get_setting(store, "demo") != f"accounts={accounts} seed=7 language=pt_BR":
            load_demo(store, accounts=accounts, seed=7, health_history=False)
        last = default_as_of(store)
        for day in (last - dt.timedelta(days=30), last):
            compute_history(store, day, day)
        if not count_users(store):
            create_user(store, "bench@example.com", "admin", PASSWORD, name="Bench")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(client: httpx.Client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (200, 303), r.text[:500]


def time_route(client: httpx.Client, path: str, n: int) -> dict:
    for _ in range(2):
        client.get(path)
    seconds = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        seconds.append(time.perf_counter() - t0)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
    seconds.sort()
    p95 = seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))]
    return {"path": path, "p50_ms": round(statistics.median(seconds) * 1000, 1), "p95_ms": round(p95 * 1000, 1),
            "max_ms": round(seconds[-1] * 1000, 1), "requests": n}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    url = prepare(args.accounts)
    port = free_port()
    server = subprocess.Popen([SUCESSO, "serve", "--db", url, "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600, follow_redirects=True) as client:
            deadline = time.time() + 120
            while True:
                try:
                    client.get("/login")
                    break
                except httpx.TransportError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            sign_in(client)
            t0 = time.perf_counter()
            client.get("/")  # waits for the precomputation
            ready = time.perf_counter() - t0
            ids = [a["account_id"] for a in client.get("/api/accounts?sort=score").json()["accounts"][:3]]
            routes = ["/", "/revenue", "/satisfaction", "/support", "/health", "/accounts",
                      "/accounts?band=red&sort=score", "/accounts?q=ltda&page=3", "/portfolio", "/settings",
                      *[f"/accounts/{i}" for i in ids], "/api/overview", "/api/revenue", "/api/satisfaction",
                      "/api/support", "/api/health", "/api/accounts", "/api/portfolio", f"/api/accounts/{ids[0]}"]
            results = [time_route(client, r, args.requests) for r in routes]
    finally:
        server.terminate()
        server.wait(30)
    entry = {"date": dt.date.today().isoformat(), "accounts": args.accounts, "cores": os.cpu_count(),
             "precompute_seconds": round(ready, 1), "routes": results,
             "worst_p95_ms": max(r["p95_ms"] for r in results)}
    path = HERE / "web-latency.json"
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(history + [entry], indent=2))
    print(f"{args.accounts:,} accounts; the first page waited {ready:.1f} s for the precomputation")
    for r in results:
        print(f"{r['path']:<40} p50 {r['p50_ms']:>7} ms   p95 {r['p95_ms']:>7} ms   max {r['max_ms']:>7} ms")
    print(f"worst p95: {entry['worst_p95_ms']} ms")


if __name__ == "__main__":
    main()
