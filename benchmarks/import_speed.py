"""Bulk-load speed of `sucesso import` into a DuckDB workspace (issue: ≥1M rows/s Parquet, ≥250k rows/s CSV).

    .venv/bin/python benchmarks/import_speed.py [--rows 5000000]

Writes a usage_events file of N rows (10,000 accounts) as Parquet and as CSV, imports each
into a fresh workspace through the same `import_file` the CLI calls (validation included),
and prints rows per second, end to end (read, parse, check, write, commit).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sucesso.ingest import import_file, write_batches
from sucesso.store import open_store
from sucesso.store.schema import arrow_schema, table


def events(rows: int, accounts: int) -> pa.Table:
    rng = np.random.default_rng(1)
    ids = pa.array(np.arange(rows)).cast(pa.string())
    acc = pa.array(rng.integers(0, accounts, rows)).cast(pa.string())
    start = np.datetime64("2023-01-01T00:00:00", "us")
    when = start + rng.integers(0, 3 * 365 * 86400, rows).astype("timedelta64[s]")
    names = np.array(["login", "report_viewed", "invoice_sent", "export", "dashboard"])
    return pa.table({
        "event_id": pa.compute.binary_join_element_wise("ev", ids, ""),
        "account_id": pa.compute.binary_join_element_wise("a", acc, ""),
        "event": pa.array(names[rng.integers(0, len(names), rows)]),
        "occurred_at": pa.array(when, pa.timestamp("us")),
    })


def accounts_batch(n: int) -> pa.RecordBatch:
    t = table("accounts")
    cols = ["account_id", "name", "created_at"]
    return pa.RecordBatch.from_pydict({
        "account_id": [f"a{i}" for i in range(n)], "name": [f"Account {i}" for i in range(n)],
        "created_at": pa.array([np.datetime64("2022-01-01", "us")] * n, pa.timestamp("us")),
    }, schema=arrow_schema(t, cols))


def run(path: str, folder: str, label: str, rows: int, accounts: int) -> float:
    db = os.path.join(folder, f"{label}.duckdb")
    with open_store(db) as store:
        write_batches(store, "accounts", [accounts_batch(accounts)])
        t0 = time.perf_counter()
        report = import_file(store, "usage_events", path)
        seconds = time.perf_counter() - t0
    assert report.inserted == rows, report.problems[:3]
    print(f"{label:8s} {rows:>10,} rows in {seconds:6.2f} s = {rows / seconds:>12,.0f} rows/s "
          f"({os.path.getsize(path) / 2**20:,.0f} MiB file)")
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = events(args.rows, args.accounts)
        parquet = os.path.join(folder, "usage_events.parquet")
        csv = os.path.join(folder, "usage_events.csv")
        pq.write_table(data, parquet)
        pacsv.write_csv(data, csv)
        run(parquet, folder, "parquet", args.rows, args.accounts)
        run(csv, folder, "csv", args.rows, args.accounts)


if __name__ == "__main__":
    main()
