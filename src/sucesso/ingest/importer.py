"""Import: the only way data gets into a workspace.

A file is read, mapped onto a canonical table, parsed, and checked in full before anything
is written; then it is upserted in one transaction. By default one bad row rejects the
whole file. Re-importing the same file changes nothing (every row reports unchanged).
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

import pyarrow as pa
import pyarrow.csv as pacsv

from sucesso.ingest.export import RESTORED_SETTINGS, read_manifest
from sucesso.ingest.formulas import REJECTED_HEADER, neutralise, neutralise_array
from sucesso.ingest.headers import canonical_name
from sucesso.ingest.parse import Locale, Scratch, convert, normalise_name, quote
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import EXTENSIONS, Progress, Source, open_source
from sucesso.ingest.validate import (
    check_column_rules,
    check_extras_object,
    check_keys,
    check_new_rows_complete,
    check_references,
    check_values,
)
from sucesso.store import Store, set_setting
from sucesso.store.engines import DuckDBStore
from sucesso.store.schema import CANONICAL, Table, arrow_schema
from sucesso.store.schema import table as table_named

Phase = Callable[[str], None]
DUCKDB_TYPES = DuckDBStore.types  # the scratch database is DuckDB whatever the workspace


@dataclass
class ImportOptions:
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None  # "comma" | "dot"
    date_order: str | None = None  # "dmy" | "mdy" | "ymd"
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # source column → canonical column
    skip_invalid: bool = False

    def as_json(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if v not in (None, {}, False)}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ImportOptions:
        return cls(**json.loads(text))


@dataclass
class ImportReport:
    file: str
    table: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    detected: dict[str, str] = field(default_factory=dict)
    rejected_file: str | None = None
    notes: list[str] = field(default_factory=list)  # accepted, but worth a look (the column rules')

    @property
    def written(self) -> bool:
        return not self.problems or self.rejected_file is not None


class ImportFailed(Exception):
    """Raised inside the transaction so that a rejected file writes nothing."""

    def __init__(self, report: ImportReport):
        super().__init__(f"{report.file}: {len(report.problems)} problem(s)")
        self.report = report


def resolve_mapping(path: str, table: Table, columns: list[str], explicit: dict[str, str]
                    ) -> tuple[dict[str, str], list[str], list[str]]:
    """Source → canonical mapping, the extra columns (into attributes) and the ignored ones."""
    mapping: dict[str, str] = {}
    by_lower = {c.lower(): c for c in columns}
    for src, dst in explicit.items():
        if src.lower() not in by_lower:
            raise RejectedFile(path, f"--map names the column {src!r}, which the file does not have "
                                     f"(it has: {', '.join(columns)})")
        if dst not in table.column_names:
            raise RejectedFile(path, f"--map {src}={dst}: {table.name} has no column {dst!r} "
                                     f"(its columns: {', '.join(table.column_names)})")
        if dst in mapping.values():
            other = next(s for s, d in mapping.items() if d == dst)
            raise RejectedFile(path, f"--map gives {dst} two columns, {other!r} and {by_lower[src.lower()]!r}; "
                                     "map only one")
        mapping[by_lower[src.lower()]] = dst
    taken = set(mapping.values())
    extras, ignored = [], []
    for src in columns:
        if src in mapping:
            continue
        name = canonical_name(table, src)
        if name in table.column_names and name not in taken:
            mapping[src] = name
            taken.add(name)
        elif table.extras_column:
            extras.append(src)
        else:
            ignored.append(src)
    missing_keys = [k for k in table.key if k not in taken]
    if missing_keys:
        raise RejectedFile(path, f"no column for {', '.join(missing_keys)} (the key of {table.name}); "
                                 f"the file has: {', '.join(columns)}; map one with --map SOURCE={missing_keys[0]}")
    return mapping, extras, ignored


def import_file(store: Store, table_name: str, path: str, options: ImportOptions | None = None,
                on_progress: Progress | None = None, on_phase: Phase | None = None, *,
                allow_empty: bool = False) -> ImportReport:
    """Import one file into one table, all or nothing (unless `skip_invalid`).

    A file with no rows is refused, unless `allow_empty` (an exported table may be empty).
    """
    options = options or ImportOptions()
    table = table_named(table_name)
    try:
        source = open_source(path, options.format, encoding=options.encoding, delimiter=options.delimiter,
                             sheet=options.sheet, on_progress=on_progress)
        return _import_source(store, table, source, options, on_phase or (lambda _: None), allow_empty)
    except RejectedFile as exc:
        return ImportReport(path, table.name, problems=[exc.problem])
    except ImportFailed as exc:
        return exc.report


def _import_source(store: Store, table: Table, source: Source, options: ImportOptions, phase: Phase,
                   allow_empty: bool = False) -> ImportReport:
    mapping, extras, ignored = resolve_mapping(source.path, table, source.columns, options.mapping)
    report = ImportReport(source.path, table.name, ignored_columns=ignored, detected=dict(source.detected))
    scratch = Scratch()
    try:
        phase("reading")
        scratch.load(source)
        if not scratch.rows and not source.malformed:
            if allow_empty:
                return report
            raise RejectedFile(source.path, "the file has a header but no data rows")
        phase("checking")
        loc = Locale(options.decimal, options.date_order)
        problems = list(source.malformed) + convert(source.path, scratch, table, mapping, extras, loc)
        report.detected.update({"decimal": loc.decimal, "date_order": loc.date_order})
        absent = [c for c in table.columns if c.name not in mapping.values() and c.name != table.extras_column]
        defaults = [c.name for c in absent if c.default]
        for name in defaults:
            scratch.con.execute(f"ALTER TABLE typed ADD COLUMN {quote(name)} {DUCKDB_TYPES[table.column(name).type]}")
            scratch.con.execute(f"UPDATE typed SET {quote(name)} = {table.column(name).default}")
        for name in mapping.values():
            if table.column(name).default:
                scratch.con.execute(f"UPDATE typed SET {quote(name)} = coalesce({quote(name)}, "
                                    f"{table.column(name).default})")
        unreadable = {(p.row, p.column) for p in problems}  # already reported: not "empty" as well
        problems += [p for p in check_values(source.path, scratch, table, mapping, defaults)
                     if (p.row, p.column) not in unreadable]
        if extras:
            problems += check_extras_object(source.path, scratch, table, mapping)
        problems += check_keys(source.path, scratch, table, mapping)
        with store.transaction():
            problems += check_references(source.path, scratch, store, table, mapping)
            required_absent = [c.name for c in absent if c.required and not c.default]
            problems += check_new_rows_complete(source.path, scratch, store, table, required_absent)
            ruled, report.notes = check_column_rules(source.path, scratch, store, table, mapping)
            problems += ruled
            problems.sort(key=lambda p: (p.row or 0, p.column))
            report.problems = problems
            bad_rows = sorted({p.row for p in problems if p.row is not None})
            report.rejected = len(bad_rows)
            if problems and (not options.skip_invalid or any(p.row is None for p in problems)):
                raise ImportFailed(report)  # a problem of the file as a whole rejects it, valid rows or not
            if bad_rows:
                report.rejected_file = _save_rejected(source, scratch, bad_rows, problems)
            columns = list(mapping.values()) + defaults
            if extras or table.extras_column in mapping.values():
                columns = [c for c in columns if c != table.extras_column] + [table.extras_column]
            phase("writing")
            batches = _valid_batches(scratch, table, columns, extras, bad_rows)
            counts = store.upsert(table, columns, batches, insert_only=tuple(defaults))
        report.inserted, report.updated, report.unchanged = counts.inserted, counts.updated, counts.unchanged
        return report
    finally:
        scratch.close()


def canonical_json(text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _valid_batches(scratch: Scratch, table: Table, columns: list[str], extras: list[str],
                   bad_rows: list[int]) -> Iterator[pa.RecordBatch]:
    """The rows that passed, typed as the store expects, JSON made canonical."""
    scratch.con.register("_bad", pa.table({"_row": pa.array(bad_rows, pa.int64())}))
    own = [c for c in columns if c != table.extras_column or c in scratch_columns(scratch)]
    select = ", ".join([quote(c) for c in own] + [quote("_x_" + e) for e in extras])
    where = " WHERE _row NOT IN (SELECT _row FROM _bad)" if bad_rows else ""
    reader = scratch.con.sql(f"SELECT {select} FROM typed{where}").to_arrow_reader(1_000_000)
    schema = arrow_schema(table, columns)
    json_columns = [c for c in columns if table.column(c).type == "json"]
    for batch in reader:
        data = {name: batch.column(name) for name in own}
        for name in json_columns:
            values = [canonical_json(v) for v in data[name].to_pylist()] if name in data else [None] * batch.num_rows
            if name == table.extras_column and extras:
                values = _merge_extras(values, batch, extras)
            data[name] = pa.array(values, pa.string())
        yield pa.RecordBatch.from_arrays([data[c].cast(schema.field(c).type) for c in columns], schema=schema)
    scratch.con.unregister("_bad")


def scratch_columns(scratch: Scratch) -> set[str]:
    return {r[0] for r in scratch.con.execute("SELECT column_name FROM (DESCRIBE typed)").fetchall()}


def _merge_extras(values: list[str | None], batch: pa.RecordBatch, extras: list[str]) -> list[str | None]:
    """Unknown columns of a table with an extras column (accounts.attributes) go into it as JSON."""
    extra_values = {e: batch.column("_x_" + e).to_pylist() for e in extras}
    merged = []
    for i, current in enumerate(values):
        obj = json.loads(current) if current else {}
        obj.update({normalise_name(e): extra_values[e][i] for e in extras if extra_values[e][i] is not None})
        merged.append(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if obj else None)
    return merged


def _save_rejected(source: Source, scratch: Scratch, bad_rows: list[int], problems: list[Problem]) -> str:
    """The rejected rows, as they were, with their reasons, beside the input; safe to open in a
    spreadsheet app (`ingest.formulas`), and read back as they were when imported again."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.row is not None:
            reasons.setdefault(p.row, []).append(f"{p.column}: expected {p.expected}" if p.column else p.expected)
    scratch.con.register("_bad", pa.table({"_row": pa.array(bad_rows, pa.int64())}))
    as_text = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" for c in source.columns)
    rows = scratch.con.sql(
        f"SELECT _row, {as_text} FROM raw WHERE _row IN (SELECT _row FROM _bad) ORDER BY _row").to_arrow_table()
    scratch.con.unregister("_bad")
    malformed = [p for p in source.malformed]
    numbers = rows["_row"].to_pylist() + [p.row for p in malformed]
    columns = [pa.array(numbers, pa.int64()), pa.array(["; ".join(reasons[r]) for r in numbers])] + [
        pa.concat_arrays([rows[c].combine_chunks(),
                          pa.array([p.value if i == 0 else None for p in malformed], pa.string())])
        for i, c in enumerate(source.columns)]
    table = pa.table([neutralise_array(c) for c in columns],
                     names=[*REJECTED_HEADER, *map(neutralise, source.columns)]).sort_by(REJECTED_HEADER[0])
    stem, _ = os.path.splitext(source.path)
    out = f"{stem}.rejected.csv"
    with open(out, "wb") as fh:
        fh.write(codecs.BOM_UTF8)  # so that spreadsheet apps read the accents, like the errors file
        pacsv.write_csv(table, fh)
    return out


# -- several tables at once --------------------------------------------------------------
def import_dir(store: Store, directory: str, options: ImportOptions | None = None,
               on_progress: Progress | None = None, on_phase: Phase | None = None) -> list[ImportReport]:
    """Restore a folder with one file per table (as `sucesso export` writes), all or nothing.

    Tables are imported parents first, so references between them check out inside the
    one transaction. A file without rows (an empty table) imports nothing.
    """
    options = options or ImportOptions()
    files = table_files(directory)
    reports: list[ImportReport] = []
    try:
        with store.transaction():
            for table, path in files:
                if on_phase:
                    on_phase(f"{table.name}: reading")
                report = import_file(store, table.name, path, replace(options, mapping={}), on_progress,
                                     on_phase, allow_empty=True)
                reports.append(report)
                if not report.written:
                    raise ImportFailed(report)
            for key, value in read_manifest(directory).get("settings", {}).items():
                if key in RESTORED_SETTINGS and value:
                    set_setting(store, key, value)
    except ImportFailed:
        pass
    return reports


def table_files(directory: str) -> list[tuple[Table, str]]:
    if not os.path.isdir(directory):
        raise RejectedFile(directory, "no such folder")
    by_table: dict[str, str] = {}
    for name in sorted(os.listdir(directory)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in EXTENSIONS and stem in {t.name for t in CANONICAL}:
            if stem in by_table:
                raise RejectedFile(directory, f"two files for {stem}: {by_table[stem]} and {name}")
            by_table[stem] = name
    if not by_table:
        raise RejectedFile(directory, "no file named after a table (accounts.csv, subscriptions.parquet, …)")
    return [(t, os.path.join(directory, by_table[t.name])) for t in CANONICAL if t.name in by_table]


def write_batches(store: Store, table_name: str, batches: Iterable[pa.RecordBatch], label: str | None = None,
                  on_phase: Phase | None = None, mapping: dict[str, str] | None = None) -> ImportReport:
    """The bulk path for typed Arrow data (the demo, the APIs, ingest.sources): same checks, same upsert.

    A `_row` column numbers the rows the problems name (else 1, 2, …); `mapping` (batch column →
    canonical column) lets the batches keep a source file's column names, which the problems name.
    """
    table = table_named(table_name)
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return ImportReport(label or table.name, table.name)
    columns = [c for c in first.schema.names if c != "_row"]

    def chain():
        yield first
        yield from iterator

    source = Source(label or table.name, "arrow", columns, chain(), first_row=1, size=0, text=False)
    try:
        return _import_source(store, table, source, ImportOptions(mapping=mapping or {}), on_phase or (lambda _: None))
    except ImportFailed as exc:
        return exc.report
