"""Workspace settings that come from the environment: which database to open."""

from __future__ import annotations

import os

DEFAULT_DB = "sucesso.duckdb"


def workspace_url(db: str | None = None) -> str:
    """`--db` wins, then SUCESSO_DB, then sucesso.duckdb in the current folder."""
    return db or os.environ.get("SUCESSO_DB") or DEFAULT_DB
