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
  7. tracked_messages (the messageIds the tracking API has written; indexed on DuckDB too), with
     the event_ids of the latest million events.
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


TRACKED_AT_UPGRADE = 1_000_000


def _v7_tracked_messages(store: Store) -> None:
    # Nothing tells an event the tracking API wrote from an imported one: the latest stored events
    # count as received, so that a message sent shortly before the upgrade and resent after it is
    # still written once. Not all of them: on DuckDB the index of tracked_messages lives in memory
    # (about 100 bytes a messageId, within the workspace's 1200 MB), and the 33.8 M events of the
    # 100,000-account benchmark workspace do not fit. (DISTINCT: keys are unique, but an upgrade
    # must not fail on a workspace where they are not.)
    store.execute("INSERT INTO tracked_messages (message_id, received_at) SELECT DISTINCT event_id, ? FROM "
                  "(SELECT event_id FROM usage_events ORDER BY occurred_at DESC LIMIT ?) latest",
                  (datetime.now(UTC).replace(tzinfo=None), TRACKED_AT_UPGRADE))


DATA_STEPS: dict[int, Callable[[Store], None]] = {2: _v2_default_settings, 7: _v7_tracked_messages}


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
