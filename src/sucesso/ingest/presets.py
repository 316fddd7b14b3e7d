"""Named import presets: a column mapping and parsing options, kept in the workspace."""

from __future__ import annotations

from sucesso.ingest.importer import ImportOptions
from sucesso.ingest.problems import RejectedFile
from sucesso.store import Store
from sucesso.store.schema import table as table_named


def save_preset(store: Store, name: str, table_name: str, options: ImportOptions) -> None:
    table_named(table_name)
    with store.transaction():
        store.execute("DELETE FROM import_presets WHERE name = ?", (name,))
        store.execute("INSERT INTO import_presets (name, table_name, options) VALUES (?, ?, ?)",
                      (name, table_name, options.as_json()))


def load_preset(store: Store, name: str) -> tuple[str, ImportOptions]:
    rows = store.fetchall("SELECT table_name, options FROM import_presets WHERE name = ?", (name,))
    if not rows:
        known = ", ".join(p[0] for p in list_presets(store)) or "none saved yet"
        raise RejectedFile(name, f"no import preset with this name (presets: {known})")
    return rows[0][0], ImportOptions.from_json(rows[0][1])


def list_presets(store: Store) -> list[tuple[str, str, str]]:
    return store.fetchall("SELECT name, table_name, options FROM import_presets ORDER BY name")


def delete_preset(store: Store, name: str) -> bool:
    with store.transaction():
        found = store.fetchall("SELECT count(*) FROM import_presets WHERE name = ?", (name,))[0][0]
        store.execute("DELETE FROM import_presets WHERE name = ?", (name,))
    return bool(found)


def with_preset(preset: ImportOptions, given: ImportOptions) -> ImportOptions:
    """Options given with the import win over the preset's; a --map replaces the preset's map of that column."""
    merged = ImportOptions(**{k: v for k, v in preset.__dict__.items()})
    for key, value in given.__dict__.items():
        if key == "mapping" and value:
            kept = {src: dst for src, dst in preset.mapping.items() if dst not in value.values()}
            merged.mapping = {**kept, **value}
        elif value not in (None, {}, False):
            merged.__dict__[key] = value
    return merged
