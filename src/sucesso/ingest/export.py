"""Export: every canonical table as one Parquet file, plus a manifest; `import DIR` restores it.

The manifest carries the workspace's settings that are data, not secrets (RESTORED_SETTINGS).
A backup does not carry the app's own state: users, their sessions and API tokens, tasks,
playbook runs, notifications, the health score history (`sucesso health history` computes it
again), trained risk models, import presets, Stripe's event log; nor any secret — the key that
signs the sign-in cookies, Stripe's webhook secret, the SMTP password, the webhooks' secrets.
"""

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
# Its currency and language, the files the team edits (health model, playbooks, churn reasons, team
# ratios: the keys health/history.py, operations/playbooks.py, churn.py and team.py keep them under),
# what a csm sees (web/auth.py) and how often `sucesso serve` runs the playbooks (web/schedule.py).
RESTORED_SETTINGS = ("currency", "locale", "health_model", "playbooks", "churn_reasons", "team_ratios", "csm_scope",
                     "playbooks_every_minutes")


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
        "settings": {k: value for k in RESTORED_SETTINGS if (value := get_setting(store, k))},
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
