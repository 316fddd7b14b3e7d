"""A workbook with a sheet per table (the spreadsheet template, `sucesso template`) → every table
whose sheet it has, parents first, in one transaction: all or nothing."""

from __future__ import annotations

import dataclasses

from sucesso.ingest.headers import table_named_by
from sucesso.ingest.importer import ImportFailed, ImportOptions, ImportReport, import_file
from sucesso.ingest.problems import RejectedFile
from sucesso.ingest.readers import Progress, open_workbook
from sucesso.store import Store
from sucesso.store.schema import CANONICAL, Table


def import_workbook(store: Store, path: str, options: ImportOptions, on_progress: Progress | None = None,
                    on_phase=None) -> list[ImportReport]:
    """Each sheet named after a table (`accounts` or `contas`, …) into its table; an empty sheet
    imports nothing; other sheets (README, LEIA-ME) are not read. Problems name the sheet."""
    on_phase = on_phase or (lambda _: None)
    reports: list[ImportReport] = []
    try:
        with store.transaction():
            for table, sheet in sheets(path):
                on_phase(f"{table.name}: reading")
                chosen = dataclasses.replace(options, format="xlsx", sheet=sheet, mapping={})
                report = import_file(store, table.name, path, chosen, on_progress, on_phase, allow_empty=True)
                report.problems = [dataclasses.replace(p, file=f"{p.file}, sheet {sheet}") for p in report.problems]
                reports.append(report)
                if not report.written:
                    raise ImportFailed(report)
    except ImportFailed:
        pass
    return reports


def sheets(path: str) -> list[tuple[Table, str]]:
    """The workbook's sheets that name a table, parents first."""
    book = open_workbook(path)
    names = book.sheetnames
    book.close()
    found: dict[str, str] = {}
    for name in names:
        table = table_named_by(name, CANONICAL)
        if table is not None:
            if table.name in found:
                raise RejectedFile(path, f"two sheets for {table.name}: {found[table.name]!r} and {name!r}")
            found[table.name] = name
    if not found:
        raise RejectedFile(path, f"no sheet named after a table (accounts, contacts, … or contas, contatos, …); "
                                 f"the sheets are: {', '.join(names)}")
    return [(t, found[t.name]) for t in CANONICAL if t.name in found]
