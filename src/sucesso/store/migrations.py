"""Schema versions and how a workspace moves between them.

The schema is declared once in `store.schema`; each table and column says which version
brought it. Upgrading a workspace from version v to v+1 creates the tables that version
introduced and adds the columns it introduced to older tables, then runs that version's
data step, if any, all in one transaction, so an interrupted upgrade leaves the
workspace at v. Rows are never dropped.

Versions:
  1. the canonical tables (DESIGN.md).
  2. the workspace's own state: `settings` (currency, locale) and `import_presets`.
  3. health_scores, risk_models.  4. users, sessions, api_tokens.
  5. tasks, playbook_runs, notifications (the CS operation).
  6. stripe_events, stripe_objects (Stripe billing: webhook events and the objects they describe).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sucesso.store.engines import Store, StoreError
from sucesso.store.schema import TABLES, VERSION

VERSION_TABLE = "sucesso_schema"


def _v2_default_settings(store: Store) -> None:
    # Workspaces from version 1 were all in the demo's default currency and language.
    store.execute("INSERT INTO settings (key, value) VALUES ('currency', 'BRL'), ('locale', 'pt_BR')")


DATA_STEPS: dict[int, Callable[[Store], None]] = {2: _v2_default_settings}


def current_version(store: Store) -> int:
    if VERSION_TABLE not in store.table_names():
        return 0
    return store.fetchall(f"SELECT max(version) FROM {VERSION_TABLE}")[0][0] or 0


def migrate(store: Store, to: int = VERSION) -> list[int]:
    """Bring the workspace to version `to`; return the versions applied."""
    have = current_version(store)
    if have > VERSION:
        raise StoreError(
            f"this workspace was written by a newer sucesso (schema version {have}, this one knows "
            f"{VERSION}); upgrade sucesso to open it"
        )
    applied = []
    for version in range(have + 1, to + 1):
        with store.transaction():
            if version == 1:
                store.execute(f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
            for table in TABLES:
                if table.since == version:
                    store.create_table(table, table.columns_at(version))
                elif table.since < version:
                    for col in table.columns:
                        if col.since == version:
                            store.add_column(table, col)
            if version in DATA_STEPS:
                DATA_STEPS[version](store)
            store.execute(
                f"INSERT INTO {VERSION_TABLE} (version, applied_at) VALUES (?, ?)",
                (version, datetime.now(UTC).replace(tzinfo=None)),
            )
        applied.append(version)
    return applied
