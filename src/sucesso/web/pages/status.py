"""`GET /api/status` (admins): what the server runs and how much memory it holds — its own
(resident set), the storage engine's within it, Arrow's buffers and Python's objects — so that an
operator (and benchmarks/load.py) can see it stay flat over days."""

from __future__ import annotations

import sys
import time

import pyarrow as pa
from fastapi import APIRouter, Depends, Request

from sucesso import __version__
from sucesso.store.migrations import current_version
from sucesso.web.auth import User, api_admin

router = APIRouter()
STARTED = time.monotonic()
MB = 1024 * 1024


def resident_bytes() -> int | None:
    """This process's resident set size (Linux; None elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


@router.get("/api/status", tags=["account"], summary="The server: version, workspace, uptime and memory (admins)")
def status_api(request: Request, user: User = Depends(api_admin)):
    workspace = request.app.state.workspace
    engine, schema, engine_bytes = workspace.run(lambda s: (s.engine, current_version(s), s.memory_used()))
    rss = resident_bytes()
    return {
        "version": __version__, "engine": engine, "schema_version": schema,
        "uptime_seconds": round(time.monotonic() - STARTED),
        "precomputed_seconds": workspace.computed_at, "precompute_error": workspace.error,
        "memory": {
            "resident_mb": None if rss is None else round(rss / MB, 1),
            "engine_mb": None if engine_bytes is None else round(engine_bytes / MB, 1),  # within resident (DuckDB)
            "arrow_mb": round(pa.total_allocated_bytes() / MB, 1),
            "python_blocks": sys.getallocatedblocks(),
        },
    }
