"""Export: every canonical table as one Parquet file, plus a manifest; `import DIR` restores it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pyarrow.parquet as pq

from sucesso.store import Store, get_setting
from sucesso.store.engines import quote
from sucesso.store.migrations import current_version
from sucesso.store.schema import CANONICAL, Table, arrow_schema

MANIFEST = "manifest.json"
RESTORED_SETTINGS = ("currency", "locale")


def ordered_select(table: Table) -> str:
    cols = ", ".join(quote(c) for c in table.column_names)
    return f"SELECT {cols} FROM {quote(table.name)} ORDER BY {', '.join(quote(k) for k in table.key)}"


def export_workspace(store: Store, directory: str) -> dict[str, int]:
    """Write DIR/<table>.parquet for every canonical table; return the row counts."""
    os.makedirs(directory, exist_ok=True)
    counts = {}
    for table in CANONICAL:
        schema = arrow_schema(table)
        path = os.path.join(directory, f"{table.name}.parquet")
        rows = 0
        with pq.ParquetWriter(path + ".part", schema, compression="zstd") as writer:
            for batch in store.read_batches(ordered_select(table), schema):
                writer.write_batch(batch)
                rows += batch.num_rows
        os.replace(path + ".part", path)
        counts[table.name] = rows
    manifest = {
        "sucesso_schema_version": current_version(store),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {k: get_setting(store, k) for k in RESTORED_SETTINGS},
        "rows": counts,
    }
    with open(os.path.join(directory, MANIFEST), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
    return counts


def read_manifest(directory: str) -> dict:
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
