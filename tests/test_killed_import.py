"""A process killed (SIGKILL) in the middle of writing an import leaves the workspace as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sucesso.ingest import write_batches
from sucesso.store import open_store
from sucesso.store.schema import arrow_schema, table

ROWS = 3_000_000


def _events(n: int, offset: int = 0) -> pa.Table:
    ids = pa.array(np.arange(offset, offset + n)).cast(pa.string())
    return pa.table({
        "event_id": pa.compute.binary_join_element_wise("ev", ids, ""),
        "account_id": pa.array(["a1"] * n),
        "event": pa.array(["login"] * n),
        "occurred_at": pa.array(np.full(n, np.datetime64("2024-01-02T03:04:05", "us")), pa.timestamp("us")),
    })


def _seed(url: str) -> None:
    with open_store(url) as store:
        accounts = pa.RecordBatch.from_pylist(
            [{"account_id": "a1", "name": "Padaria", "created_at": pa.scalar(0, pa.timestamp("us")).as_py()}],
            schema=arrow_schema(table("accounts"), ["account_id", "name", "created_at"]))
        write_batches(store, "accounts", [accounts])
        write_batches(store, "usage_events", _events(1000).to_batches())


def _state(url: str) -> tuple[int, int]:
    with open_store(url) as store:
        return store.count("usage_events"), store.count("accounts")


def _import(url: str, path: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sucesso.cli", "import", "usage_events", path, "--db", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_while_writing_leaves_the_workspace_unchanged_and_a_retry_completes(store_url, tmp_path):
    _seed(store_url)
    before = _state(store_url)
    path = str(tmp_path / "events.parquet")
    pq.write_table(_events(ROWS, offset=1000), path)

    proc = _import(store_url, path)
    for line in proc.stderr:  # phase lines: reading, checking, writing
        if "writing" in line:
            break
    time.sleep(0.2)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert _state(store_url) == before  # nothing of the killed import is visible

    retry = _import(store_url, path)
    out, errors = retry.communicate(timeout=300)
    assert retry.returncode == 0, errors
    assert _state(store_url) == (before[0] + ROWS, before[1])
