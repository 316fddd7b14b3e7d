"""What every source preset shares: read the file's columns it needs, typed, and write canonical rows.

A preset declares the columns of its export as `Field`s (the names they go by, a portable type,
whether a value is required). `read_table` (CSV, TSV, XLSX, Parquet) and `read_records` (records a
preset took out of a JSON document) parse them with the importer's own parsing — encodings,
separators, decimal marks, day/month order, ISO times — and report what cannot be read by the
file's row and column. `write` hands the canonical rows to the importer (`write_batches`): the
same checks, one transaction, the problems still naming the file's rows and columns.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import pyarrow as pa

from sucesso.ingest.importer import ImportOptions, ImportReport, write_batches
from sucesso.ingest.parse import Locale, Scratch, convert, normalise_name
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import Progress, Source, cell_column, detect_format, json_value, open_source, read_text
from sucesso.ingest.validate import check_values
from sucesso.store import Store
from sucesso.store.schema import Column, Table, arrow_type
from sucesso.store.schema import table as table_named

ROW = "_row"


@dataclass(frozen=True)
class Field:
    """A column of a source's export: the names it goes by (the first is the documented one),
    its portable type, and whether every row needs a value (`required`) or the column must at
    least be there (`expected`)."""

    key: str
    names: tuple[str, ...]
    type: str = "text"
    required: bool = False
    expected: bool = False
    min: float | None = None
    max: float | None = None


@dataclass
class Read:
    """The fields of a file, typed, one dict per row (field key → value, `_row` → its row number)."""

    path: str
    fields: tuple[Field, ...]
    rows: list[dict]
    columns: dict[str, str]  # field key → the file's column it was read from
    others: list[str] = field(default_factory=list)  # the file's columns no field names
    problems: list[Problem] = field(default_factory=list)
    detected: dict[str, str] = field(default_factory=dict)

    def readable(self, *more: Read) -> list[dict]:
        """The rows without a problem (here or in `more`, read from the same file's records)."""
        bad = {p.row for read in (self, *more) for p in read.problems}
        return [row for row in self.rows if row[ROW] not in bad]

    def column(self, key: str) -> str:
        """The file's name for a field (its documented name when the file lacks it)."""
        return self.columns.get(key) or next(f.names[0] for f in self.fields if f.key == key)


def is_json(path: str, options: ImportOptions) -> bool:
    return detect_format(path, options.format) in ("json", "ndjson")


def read_table(path: str, fields: tuple[Field, ...], options: ImportOptions, on_progress: Progress | None = None,
               *, keep_others: bool = False) -> Read:
    """A CSV, TSV, XLSX or Parquet export's fields (and, with `keep_others`, its other columns as
    text under `others`, by column name)."""
    source = open_source(path, options.format, encoding=options.encoding, delimiter=options.delimiter,
                         sheet=options.sheet, on_progress=on_progress)
    return _typed(source, fields, options, keep_others)


def read_records(path: str, fields: tuple[Field, ...], records: list[dict], options: ImportOptions) -> Read:
    """Records taken out of a JSON document (keys: the fields' first names, and `_row`, the row
    the problems name: several records may share one, such as the actions of a ticket)."""
    names = [f.names[0] for f in fields]
    data = pa.table({n: cell_column([r.get(n) for r in records]) for n in names})
    source = Source(path, "json", names, iter(data.to_batches()), first_row=0, size=0)  # numbered 0, 1, …
    read = _typed(source, fields, options, keep_others=False)
    owner = [r[ROW] for r in records]
    read.problems = [dataclasses.replace(p, row=owner[p.row]) if p.row is not None else p for p in read.problems]
    for row in read.rows:
        row[ROW] = owner[row[ROW]]
    return read


def _typed(source: Source, fields: tuple[Field, ...], options: ImportOptions, keep_others: bool) -> Read:
    columns = _match(source.path, fields, source.columns)
    spec = Table("file", tuple(Column(columns[f.key], f.type, required=f.required, min=f.min, max=f.max)
                               for f in fields if f.key in columns), key=())
    mapping = {c: c for c in columns.values()}
    others = [c for c in source.columns if c not in mapping] if keep_others else []
    scratch = Scratch()
    try:
        scratch.load(source)
        if not scratch.rows and not source.malformed:
            raise RejectedFile(source.path, "the file has a header but no data rows")
        loc = Locale(options.decimal, options.date_order)
        problems = list(source.malformed) + convert(source.path, scratch, spec, mapping, others, loc)
        unreadable = {(p.row, p.column) for p in problems}
        problems += [p for p in check_values(source.path, scratch, spec, mapping, [])
                     if (p.row, p.column) not in unreadable]
        cursor = scratch.con.execute("SELECT * FROM typed ORDER BY _row")
        names = [d[0] for d in cursor.description]
        found = cursor.fetchall()
    finally:
        scratch.close()
    key_of = {c: k for k, c in columns.items()}
    rows = []
    for values in found:
        record = dict(zip(names, values, strict=True))
        row = {key_of[n]: v for n, v in record.items() if n in key_of}
        row[ROW] = record[ROW]
        row["others"] = {o: record["_x_" + o] for o in others}
        rows.append(row)
    detected = {**source.detected, "decimal": loc.decimal, "date_order": loc.date_order}
    return Read(source.path, fields, rows, columns, others, problems, detected)


def _match(path: str, fields: tuple[Field, ...], columns: list[str]) -> dict[str, str]:
    """Field key → the file's column, by any of the field's names in any spelling."""
    by_name = {normalise_name(c): c for c in columns}
    found = {}
    for f in fields:
        column = next((by_name[n] for n in map(normalise_name, f.names) if n in by_name), None)
        if column is not None and column not in found.values():
            found[f.key] = column
        elif f.required or f.expected:
            raise RejectedFile(path, f"no column {f.names[0]!r} (also read as: {', '.join(f.names[1:]) or '—'}); "
                                     f"the file has: {', '.join(columns)}")
    return found


# -- JSON documents --------------------------------------------------------------------------
def load_json(path: str, options: ImportOptions) -> object:
    """A JSON document, or the objects of an NDJSON file (one a line) as a list."""
    if not os.path.isfile(path):
        raise RejectedFile(path, "no such file")
    text = read_text(path, options.encoding)
    if detect_format(path, options.format) != "ndjson":
        return json_value(path, text)
    return [json_value(path, line, number) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def path_value(obj: object, dotted: str) -> object:
    """obj["a"]["b"] for "a.b"; None where any step is missing."""
    for step in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(step)
    return obj


def objects(path: str, items: object, what: str) -> list[dict]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RejectedFile(path, f"expected a list of {what} (JSON objects)")
    if not items:
        raise RejectedFile(path, f"the file holds no {what}")
    return items


# -- writing -------------------------------------------------------------------------------
def write(store: Store, table_name: str, read: Read, rows: list[dict], labels: dict[str, str],
          problems: list[Problem], *, others: dict[str, list] | None = None, notes: list[str] | tuple = (),
          on_phase=None) -> ImportReport:
    """Canonical rows (column → value, `_row`) into `table_name` through the importer, all or
    nothing. `labels` names each canonical column by the file's column it came from, so that the
    problems name the file's columns; `others` (name → values) go into the table's extras column."""
    problems = sorted(read.problems + problems, key=lambda p: (p.row or 0, p.column))
    report = ImportReport(read.path, table_name, detected=dict(read.detected), notes=list(notes))
    if problems:
        report.problems, report.rejected = problems, len({p.row for p in problems if p.row is not None})
        return report
    if not rows:
        raise RejectedFile(read.path, "no row of the file can be imported" + (f" ({notes[0]})" if notes else ""))
    table = table_named(table_name)
    data = {labels[c]: pa.array([r.get(c) for r in rows], arrow_type(table.column(c).type)) for c in labels}
    data.update({name: pa.array(values, pa.string()) for name, values in (others or {}).items()})
    data[ROW] = pa.array([r[ROW] for r in rows], pa.int64())
    written = write_batches(store, table_name, [pa.RecordBatch.from_pydict(data)], label=read.path,
                            on_phase=on_phase, mapping={labels[c]: c for c in labels})
    written.detected = {**report.detected, **written.detected}
    written.notes = report.notes + written.notes
    return written


def no_mapping(path: str, options: ImportOptions, name: str) -> None:
    """A preset maps the columns itself and writes all or nothing: --map and --skip-invalid do not apply."""
    if options.mapping:
        raise RejectedFile(path, f"the {name} preset maps the columns itself; --map does not apply")
    if options.skip_invalid:
        raise RejectedFile(path, f"the {name} preset imports all or nothing; --skip-invalid does not apply")


def left_out(what: str, without: str, rows: list[int]) -> str:
    """The note for rows a preset leaves out (a ticket without a customer cannot be counted)."""
    shown = ", ".join(map(str, rows[:10])) + (", …" if len(rows) > 10 else "")
    return f"left out {len(rows)} of the {what} (without {without}): rows {shown}"


def lower(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None
