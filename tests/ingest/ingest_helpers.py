"""Plain helpers shared by the importer tests (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from sucesso.ingest import ImportOptions, ImportReport, import_file
from sucesso.store.engines import quote
from sucesso.store.schema import CANONICAL
from sucesso.store.schema import table as table_named

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
PARENTS = {
    "csms": "csm_id,name,role\nc1,Ana Souza,csm\nc2,Bruno Lima,manager\n",
    "accounts": ("account_id,name,created_at,csm_id\n"
                 "a1,Padaria Pão Quente,2023-01-10,c1\na2,Oficina Bom Motor,2023-02-20,c2\n"),
    "contacts": "contact_id,account_id,name,email\np1,a1,Carla Dias,carla@padaria.example\n",
}


def options(**kw) -> ImportOptions:
    return ImportOptions(**kw)


def load(store, table: str, path: str, **kw) -> ImportReport:
    """Import a file that must be accepted as a whole."""
    report = import_file(store, table, path, ImportOptions(**kw))
    assert not report.problems, [str(p) for p in report.problems]
    return report


def rows(store, table: str, *columns: str) -> list[tuple]:
    """A table's rows (all columns, or the ones named), ordered by its key."""
    t = table_named(table)
    cols = ", ".join(quote(c) for c in columns or t.column_names)
    keys = ", ".join(quote(k) for k in t.key)
    return store.fetchall(f"SELECT {cols} FROM {quote(table)} ORDER BY {keys}")


def snapshot(store) -> dict[str, list[tuple]]:
    """Every canonical table's rows, ordered by key: two workspaces hold the same data iff equal."""
    return {t.name: rows(store, t.name) for t in CANONICAL}


def counted(report: ImportReport) -> tuple[int, int, int, int]:
    return report.inserted, report.updated, report.unchanged, report.rejected


def messages(report: ImportReport) -> list[str]:
    return [str(p) for p in report.problems]


def only_problem(report: ImportReport) -> str:
    """The single whole-file problem of a rejected file, as the CLI prints it."""
    assert len(report.problems) == 1, messages(report)
    assert report.problems[0].row is None
    return report.problems[0].expected
