"""The workspace database: connection per engine, schema, migrations, settings."""

from __future__ import annotations

from sucesso.store.engines import Store, StoreError, StoreUnavailable, UpsertCounts, busy_seconds, connect
from sucesso.store.migrations import migrate

DEFAULT_SETTINGS = {"currency": "BRL", "locale": "pt_BR"}


def open_store(url: str, *, upgrade: bool = True, wait: float | None = None) -> Store:
    """Open (creating or upgrading as needed) the workspace at `url`; a DuckDB file that another
    process holds is waited for, `wait` seconds (default: busy_seconds(), 30), then StoreUnavailable."""
    if url.startswith("spark://"):
        from sucesso.store.spark import SparkStore

        return SparkStore(url)
    store = connect(url, wait)
    if upgrade:
        try:
            migrate(store)
        except BaseException:
            store.close()
            raise
    return store


def get_setting(store: Store, key: str) -> str:
    value = store.setting(key)
    return value if value is not None else DEFAULT_SETTINGS.get(key, "")


def set_setting(store: Store, key: str, value: str) -> None:
    with store.transaction():
        store.execute("DELETE FROM settings WHERE key = ?", (key,))
        store.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (key, value))


__all__ = ["Store", "StoreError", "StoreUnavailable", "UpsertCounts", "busy_seconds", "open_store", "get_setting",
           "set_setting", "migrate"]
