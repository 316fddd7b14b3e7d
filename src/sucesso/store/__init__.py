"""The workspace database: connection per engine, schema, migrations, settings."""

from __future__ import annotations

from sucesso.store.engines import Store, StoreError, UpsertCounts, connect
from sucesso.store.migrations import migrate

DEFAULT_SETTINGS = {"currency": "BRL", "locale": "pt_BR"}


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open (creating or upgrading as needed) the workspace at `url`."""
    if url.startswith("spark://"):
        from sucesso.store.spark import SparkStore

        return SparkStore(url)
    store = connect(url)
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


__all__ = ["Store", "StoreError", "UpsertCounts", "open_store", "get_setting", "set_setting", "migrate"]
