"""Every rule a row must meet before it is written, checked on the whole file at once.

Rules come from the schema declaration: required values, enums, ranges, lengths, the
row checks (ended_at after started_at, a score within its scale, …), unique keys inside
the file, and references to rows that must exist (in the workspace or written earlier in
the same job). Layers above add rules that depend on the workspace (`column_rule`: the churn
reasons against the team's taxonomy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from sucesso.ingest.parse import Scratch, quote, sql_str
from sucesso.ingest.problems import Problem
from sucesso.store import Store
from sucesso.store.schema import Table
from sucesso.store.schema import table as table_named

# The dates every part of sucesso handles (Python, pandas' nanosecond times, both engines), with
# room for date arithmetic; beyond them is a placeholder (0001-01-01, 9999-12-31) or a typo.
EARLIEST, LATEST = "1900-01-01", "2199-12-31"


def _rows(scratch: Scratch, sql: str) -> list[tuple]:
    return scratch.con.execute(sql).fetchall()


def check_values(path: str, scratch: Scratch, table: Table, mapping: dict[str, str],
                 new_only: list[str]) -> list[Problem]:
    """Per-value and per-row rules on table `typed`; `mapping` is source → canonical."""
    source_of = {c: s for s, c in mapping.items()}
    problems: list[Problem] = []

    def report(column: str, condition: str, expected: str, value_sql: str | None = None) -> None:
        value = value_sql or f"CAST({quote(column)} AS VARCHAR)"
        sql = f"SELECT _row, {value} FROM typed WHERE {condition} ORDER BY _row"
        if value_sql is None and column in source_of:  # the value as the file writes it
            sql = (f"SELECT _row, CAST({quote(source_of[column])} AS VARCHAR) FROM raw "
                   f"WHERE _row IN (SELECT _row FROM typed WHERE {condition}) ORDER BY _row")
        for row, v in _rows(scratch, sql):
            problems.append(Problem(path, row, source_of.get(column, column), v, expected))

    for col in table.columns:
        if col.name not in source_of and col.name not in new_only:
            continue
        q = quote(col.name)
        if col.required:
            report(col.name, f"{q} IS NULL", "a value (this column is required)", "NULL")
        if col.enum:
            options = ", ".join(sql_str(e) for e in col.enum)
            report(col.name, f"{q} NOT IN ({options})", "one of: " + ", ".join(col.enum))
        if col.min is not None:
            report(col.name, f"{q} < {col.min}", f"a value of at least {col.min:,.15g}")
        if col.max is not None:
            report(col.name, f"{q} > {col.max}", f"a value of at most {col.max:,.15g}")
        if col.max_length is not None:
            report(col.name, f"length({q}) > {col.max_length}", f"at most {col.max_length:,} characters")
        if col.type in ("timestamp", "date"):
            report(col.name, f"NOT CAST({q} AS DATE) BETWEEN DATE '{EARLIEST}' AND DATE '{LATEST}'",
                   f"a date from {EARLIEST} to {LATEST}")
        if col.type in ("text", "json"):  # PostgreSQL's text cannot hold one
            report(col.name, f"contains({q}, chr(0))", "text without NUL characters")
    present = set(source_of) | set(new_only)
    for check in table.checks:
        if set(check.uses) <= present:
            report(check.column, f"({check.condition}) = FALSE", check.expected)
    return problems


def check_extras_object(path: str, scratch: Scratch, table: Table, mapping: dict[str, str]) -> list[Problem]:
    """Extra columns are added to the extras column (accounts.attributes), so a given value must be an object."""
    source = next((s for s, c in mapping.items() if c == table.extras_column), None)
    if source is None:
        return []
    q = quote(table.extras_column)
    rows = _rows(scratch, f"SELECT _row, {q} FROM typed WHERE json_type({q}) <> 'OBJECT' ORDER BY _row")
    return [Problem(path, row, source, value, "a JSON object (the extra columns are added to it)")
            for row, value in rows]


def check_keys(path: str, scratch: Scratch, table: Table, mapping: dict[str, str]) -> list[Problem]:
    """A key may appear once in a file: the second row with it is an error naming the first."""
    source_of = {c: s for s, c in mapping.items()}
    keys = ", ".join(quote(k) for k in table.key)
    if not _rows(scratch, f"SELECT 1 FROM typed GROUP BY {keys} HAVING count(*) > 1 LIMIT 1"):
        return []
    dupes = _rows(scratch, f"""
        SELECT _row, first_row, {keys} FROM (
            SELECT _row, {keys}, min(_row) OVER (PARTITION BY {keys}) AS first_row FROM typed
            WHERE {" AND ".join(f"{quote(k)} IS NOT NULL" for k in table.key)}
        ) WHERE _row <> first_row ORDER BY _row""")
    column = source_of[table.key[-1]]
    return [
        Problem(path, row, column, "/".join(str(v) for v in key),
                f"a key not used before in this file (row {first} has it too)")
        for row, first, *key in dupes
    ]


def check_references(path: str, scratch: Scratch, store: Store, table: Table,
                     mapping: dict[str, str]) -> list[Problem]:
    """Values that must name an existing row (e.g. an account) do."""
    problems: list[Problem] = []
    for source, name in mapping.items():
        col = table.column(name)
        if not col.references:
            continue
        target_table, target_column = col.references.split(".")
        values = scratch.con.sql(
            f"SELECT DISTINCT {quote(name)} AS v FROM typed WHERE {quote(name)} IS NOT NULL"
        ).to_arrow_table()["v"]
        if not len(values):
            continue
        target = table_named(target_table)
        found = store.existing(target, pa.table({target_column: values.combine_chunks()}))
        scratch.con.register("_found", found)
        missing = _rows(scratch, f"""
            SELECT _row, {quote(name)} FROM typed WHERE {quote(name)} IS NOT NULL
            AND {quote(name)} NOT IN (SELECT {quote(target_column)} FROM _found) ORDER BY _row""")
        scratch.con.unregister("_found")
        article = "an" if target_column[0] in "aeiou" else "a"
        problems += [Problem(path, row, source, value, f"{article} {target_column} that exists in {target_table}")
                     for row, value in missing]
    return problems


def check_new_rows_complete(path: str, scratch: Scratch, store: Store, table: Table,
                            absent_required: list[str]) -> list[Problem]:
    """A required column may be left out of a file only when every row updates a stored one."""
    if not absent_required:
        return []
    keys = ", ".join(quote(k) for k in table.key)
    match = " AND ".join(f"s.{quote(k)} = typed.{quote(k)}" for k in table.key)
    incoming = scratch.con.sql(f"SELECT DISTINCT {keys} FROM typed").to_arrow_table()
    scratch.con.register("_stored", store.existing(table, incoming))
    new_rows = _rows(scratch, f"""
        SELECT _row, concat_ws('/', {keys}) FROM typed
        WHERE NOT EXISTS (SELECT 1 FROM _stored s WHERE {match}) ORDER BY _row LIMIT 1000""")
    scratch.con.unregister("_stored")
    return [Problem(path, row, name, None, f"a {name} column ({key} is a new row and {name} is required)")
            for row, key in new_rows for name in absent_required]


# -- rules a layer above adds ---------------------------------------------------------------
@dataclass
class Verdict:
    """What a column rule says of a file's values: `refused` value → what was expected instead
    (every row with it is a problem, reported as any other); `notes` for the import report
    (accepted, but worth a look)."""

    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


ColumnRule = Callable[[Store, dict[str, int]], Verdict]
COLUMN_RULES: dict[tuple[str, str], ColumnRule] = {}


def column_rule(table_name: str, column: str) -> Callable[[ColumnRule], ColumnRule]:
    """Decorator: `rule(store, counts)` judges the values of table.column in every import that
    has the column (`counts`: each distinct value → its rows). For rules that depend on the
    workspace and live above ingest; the rule's module registers it when imported."""

    def register(rule: ColumnRule) -> ColumnRule:
        COLUMN_RULES[(table_name, column)] = rule
        return rule

    return register


def check_column_rules(path: str, scratch: Scratch, store: Store, table: Table,
                       mapping: dict[str, str]) -> tuple[list[Problem], list[str]]:
    """The problems and notes of the registered column rules of `table`."""
    source_of = {c: s for s, c in mapping.items()}
    problems: list[Problem] = []
    notes: list[str] = []
    for (table_name, column), rule in COLUMN_RULES.items():
        if table_name != table.name or column not in source_of:
            continue
        q = quote(column)
        verdict = rule(store, dict(_rows(scratch, f"SELECT {q}, count(*) FROM typed WHERE {q} IS NOT NULL "
                                                  f"GROUP BY {q}")))
        notes += verdict.notes
        if verdict.refused:
            scratch.con.register("_refused", pa.table({"v": pa.array(list(verdict.refused), pa.string())}))
            rows = _rows(scratch, f"SELECT _row, {q} FROM typed WHERE {q} IN (SELECT v FROM _refused) ORDER BY _row")
            scratch.con.unregister("_refused")
            problems += [Problem(path, row, source_of[column], value, verdict.refused[value]) for row, value in rows]
    return problems, notes
