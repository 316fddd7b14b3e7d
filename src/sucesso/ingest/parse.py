"""From raw source columns to typed canonical columns, in a scratch in-memory DuckDB.

Brazilian spreadsheets write `1.234,56` and `31/12/2024`; American ones `1,234.56` and
`12/31/2024`. The decimal mark and the day/month order are read from the evidence in the
file (a value like `12,5`, `1.234.567` or `31/01` settles it) and, when the file holds no
such evidence, the user is asked to say it (`--decimal`, `--date-format`) rather than
guessed: misreading `1.500` as 1.5 instead of 1500 would corrupt data silently.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.store.schema import Column, Table

NUMERIC = ("int", "decimal", "double")
TEMPORAL = ("timestamp", "date")
TRUE = ("true", "t", "1", "yes", "y", "sim", "s", "verdadeiro", "v", "x")
FALSE = ("false", "f", "0", "no", "n", "não", "nao", "falso")
DATE_ORDERS = {"dmy": "%d/%m", "mdy": "%m/%d"}
MAX_DECIMAL = 10**16  # what DECIMAL(18,2) holds
SPREADSHEETS = ("csv", "tsv", "xlsx")  # formats whose blank rows are layout, not records

EXPECTED = {
    "int": "a whole number",
    "double": "a number",
    "bool": "true/false (also sim/não, yes/no, 1/0)",
    "json": "valid JSON",
    "text": "text",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def normalise_name(name: str) -> str:
    """`Account ID`, `account-id` and `ACCOUNT_ID` all name account_id."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


@dataclass
class Locale:
    decimal: str | None = None  # "comma" or "dot"
    date_order: str | None = None  # "dmy" or "mdy"


def parse_decimal_option(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in (",", "comma", "virgula", "vírgula"):
        return "comma"
    if v in (".", "dot", "point", "ponto"):
        return "dot"
    raise ValueError(f"--decimal must be 'comma' (1.234,56) or 'dot' (1,234.56), not {value!r}")


def parse_date_format(value: str | None) -> str | None:
    if value is None:
        return None
    letters = re.sub(r"[^a-z]", "", value.lower()).replace("a", "y")  # dd/mm/aaaa: "ano" is the year
    order = re.sub(r"(.)\1+", r"\1", letters)  # dd/mm/yyyy -> dmy
    if order in ("dmy", "mdy", "ymd"):
        return order
    raise ValueError(f"--date-format must be like dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd, not {value!r}")


class Scratch:
    """A private in-memory DuckDB holding one file while it is parsed and checked."""

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.rows = 0
        self._raw: pa.Table | None = None

    def load(self, source) -> None:
        """Expose the source as view `raw` (zero-copy), numbering rows as the user sees them.

        Rows the CSV reader skipped as malformed keep their numbers: the rows after each
        skipped one move up by one. Blank rows of a CSV or a sheet count, then are dropped.
        """
        batches = list(source.batches)
        self.rows = sum(b.num_rows for b in batches)
        numbers = np.arange(self.rows, dtype=np.int64) + source.first_row
        for skipped in sorted(p.row for p in source.malformed):
            numbers[numbers >= skipped] += 1
        if batches:
            data = pa.Table.from_batches(batches)
            if "_row" not in data.column_names:  # else the source numbered its rows itself (ingest.sources)
                data = data.append_column("_row", pa.array(numbers))
            if source.format in SPREADSHEETS and source.columns:
                data = data.filter(functools.reduce(pc.or_, [pc.is_valid(data[c]) for c in source.columns]))
                self.rows = data.num_rows
        else:
            data = pa.table({c: pa.array([], pa.string()) for c in source.columns} | {"_row": pa.array([], pa.int64())})
        self._raw = _readable(source.path, data)  # registered views do not keep their data alive
        try:
            self.con.register("raw", self._raw)
        except duckdb.Error:
            raise _unreadable_column(source.path, self._raw) from None

    def text_columns(self) -> set[str]:
        return {f.name for f in self._raw.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)}

    def distinct_sample(self, sources: list[str], pattern: str, limit: int = 20_000) -> list[str]:
        if not sources:
            return []
        union = " UNION ".join(
            f"SELECT trim({quote(s)}) AS v FROM raw WHERE regexp_matches(trim({quote(s)}), {sql_str(pattern)})"
            for s in sources
        )
        return [r[0] for r in self.con.execute(f"SELECT v FROM ({union}) LIMIT {limit}").fetchall()]

    def close(self) -> None:
        self.con.close()


def _readable(path: str, data: pa.Table) -> pa.Table:
    """A typed file's columns (Parquet) as DuckDB reads them: half floats widened, decimals of up
    to 38 digits, times and durations in microseconds (pandas writes nanoseconds), text checked to be
    UTF-8. A value beyond them is refused, naming its column (DuckDB fails on one even inside a
    TRY_CAST)."""
    for i, f in enumerate(data.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            try:
                data.column(i).validate(full=True)
            except pa.ArrowInvalid:  # Parquet does not check its strings: a damaged file may hold any bytes
                raise RejectedFile(path, f"column {f.name!r} holds text that is not valid UTF-8") from None
            continue
        if pa.types.is_float16(f.type):
            target = pa.float32()
        elif pa.types.is_decimal256(f.type):
            target = pa.decimal128(min(f.type.precision, 38), min(f.type.scale, 38))
        elif pa.types.is_timestamp(f.type) and f.type.unit != "us":  # DuckDB casts a zoned ns time to NULL
            target = pa.timestamp("us", f.type.tz)
        elif pa.types.is_duration(f.type) and f.type.unit != "us":
            target = pa.duration("us")
        elif pa.types.is_string_view(f.type):
            target = pa.string()
        else:
            continue
        try:
            column = pc.cast(data.column(i), options=pc.CastOptions(target, allow_time_truncate=True))
        except pa.ArrowInvalid as exc:
            raise RejectedFile(path, f"column {f.name!r} holds a value out of the range of {target} ({exc})") from None
        data = data.set_column(i, f.name, column)
    return data


def _unreadable_column(path: str, data: pa.Table) -> RejectedFile:
    """The file's first column whose type DuckDB cannot read (a union, …), said so."""
    con = duckdb.connect(":memory:")
    try:
        for f in data.schema:
            try:
                con.register("probe", data.select([f.name]))
                con.unregister("probe")
            except duckdb.Error:
                return RejectedFile(path, f"column {f.name!r} has a type sucesso cannot read ({f.type})")
        return RejectedFile(path, "its columns have types sucesso cannot read")
    finally:
        con.close()


# -- evidence ----------------------------------------------------------------------------
def _decimal_evidence(value: str) -> str | None:
    """'comma', 'dot', 'ambiguous' or None for a number written as text."""
    v = re.sub(r"[\s\u00a0]|^[-+]|^(R\$|US\$|\$|€)", "", value)
    has_dot, has_comma = "." in v, "," in v
    if has_dot and has_comma:
        return "comma" if v.rfind(",") > v.rfind(".") else "dot"
    sep = "," if has_comma else "." if has_dot else None
    if sep is None:
        return None
    head, _, tail = v.rpartition(sep)
    if v.count(sep) > 1:  # 1.234.567 — the separator groups thousands
        return "dot" if sep == "," else "comma"
    if len(tail) == 3 and 1 <= len(head) <= 3 and head.isdigit():
        return "ambiguous"
    return "comma" if sep == "," else "dot"


def detect_decimal(path: str, scratch: Scratch, sources: list[str]) -> str:
    seen = {"comma": [], "dot": [], "ambiguous": []}
    for value in scratch.distinct_sample(sources, r"\d[.,]|[.,]\d"):
        kind = _decimal_evidence(value)
        if kind:
            seen[kind].append(value)
    if seen["comma"] and seen["dot"]:
        raise RejectedFile(path, f"numbers are written both as {seen['comma'][0]!r} (decimal comma) and as "
                                 f"{seen['dot'][0]!r} (decimal dot); say which with --decimal comma|dot")
    if seen["comma"] or seen["dot"]:
        return "comma" if seen["comma"] else "dot"
    if seen["ambiguous"]:
        raise RejectedFile(path, f"a number like {seen['ambiguous'][0]!r} could be read with a decimal comma or a "
                                 "decimal dot; say which with --decimal comma|dot")
    return "dot"


def readings(value: str) -> set[str]:
    """The orders ("dmy", "mdy") in which a slashed date such as 31/12/2024 is a day of the
    calendar: one, both (01/02/2024) or none (32/13/2024, 31/02/2024)."""
    a, b, rest = re.split(r"[/.-]", value, maxsplit=2)
    digits = re.match(r"\d+", rest).group()
    year = int(digits) if len(digits) > 2 else int(digits) + (2000 if int(digits) < 69 else 1900)  # as %y reads
    found = set()
    for order, (day, month) in (("dmy", (a, b)), ("mdy", (b, a))):
        try:
            dt.date(year, int(month), int(day))
            found.add(order)
        except ValueError:
            pass
    return found


def detect_date_order(path: str, scratch: Scratch, sources: list[str]) -> tuple[str | None, str | None]:
    """(the order, None) as the file's slashed dates show it — dmy when it has none — or (None, a
    date that could be either) when every one could be day/month or month/day. A value that is
    no date in either order (32/13/2024) is no evidence: it is reported on its row."""
    values = scratch.distinct_sample(sources, r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
    seen: dict[frozenset, str] = {}
    for value in values:
        seen.setdefault(frozenset(readings(value)), value)
    day_first, month_first = seen.get(frozenset({"dmy"})), seen.get(frozenset({"mdy"}))
    if day_first and month_first:
        raise RejectedFile(path, f"dates are written both day-first ({day_first!r}) and month-first "
                                 f"({month_first!r}); say which with --date-format dd/mm/yyyy|mm/dd/yyyy")
    if day_first or month_first:
        return ("dmy" if day_first else "mdy"), None
    either = seen.get(frozenset({"dmy", "mdy"}))
    return (None, either) if either else ("dmy", None)


def ambiguous_dates(path: str, example: str) -> RejectedFile:
    return RejectedFile(path, f"a date like {example!r} could be day/month or month/day; say which with "
                              "--date-format dd/mm/yyyy or mm/dd/yyyy")


# -- conversion expressions ------------------------------------------------------------
def _number_text(src: str, decimal: str) -> str:
    """The number as DuckDB reads it, or NULL when its grouping does not fit the decimal mark.

    Read with a decimal dot, `1.234,56` is an error, not 1.23456.
    """
    cleaned = f"regexp_replace(trim({src}), '^(R\\$|US\\$|\\$|€)|[\\s\u00a0]', '', 'g')"
    group, mark = (".", ",") if decimal == "comma" else (",", ".")
    grouped = sql_str(rf"[-+]?\d{{1,3}}(\{group}\d{{3}})+(\{mark}\d*)?")
    plain = f"replace({cleaned}, '{group}', '')"
    if decimal == "comma":
        plain = f"replace({plain}, ',', '.')"
    return f"CASE WHEN NOT contains({cleaned}, '{group}') OR regexp_full_match({cleaned}, {grouped}) THEN {plain} END"


def _timestamp_text(src: str, order: str) -> str:
    """ISO first (with a zone or not; naive times are UTC), then the slashed local order."""
    first = DATE_ORDERS.get(order, "%d/%m")
    slashed = f"regexp_replace(trim({src}), '^(\\d{{1,2}})[.-](\\d{{1,2}})[.-]', '\\1/\\2/')"
    formats = [f"{first}/{y}{t}" for y in ("%Y", "%y") for t in (" %H:%M:%S", " %H:%M", "")]
    fmt_list = "[" + ", ".join(sql_str(f) for f in formats + ["%Y/%m/%d", "%Y-%m", "%m/%Y"]) + "]"
    return (f"coalesce(CAST(TRY_CAST(trim({src}) AS TIMESTAMPTZ) AS TIMESTAMP), "
            f"TRY_STRPTIME({slashed}, {fmt_list}))")


def conversion(col: Column, src: str, is_text: bool, loc: Locale) -> str:
    """The SQL turning source column `src` into the canonical type of `col` (NULL = failed)."""
    s = quote(src)
    t = col.type
    if t in NUMERIC:
        num = _number_text(s, loc.decimal or "dot") if is_text else s
        if t == "double":
            return f"TRY_CAST({num} AS DOUBLE)"
        exact = f"TRY_CAST({num} AS DECIMAL(38,6))"
        if t == "int":
            return f"CASE WHEN {exact} = round({exact}) THEN TRY_CAST({exact} AS BIGINT) END"  # beyond 64 bits: NULL
        return f"CASE WHEN abs({exact}) < {MAX_DECIMAL} THEN CAST(round({exact}, 2) AS DECIMAL(18,2)) END"
    if t in TEMPORAL:
        value = _timestamp_text(s, loc.date_order or "dmy") if is_text else f"TRY_CAST({s} AS TIMESTAMP)"
        return f"CAST({value} AS DATE)" if t == "date" else value
    if t == "bool":
        if not is_text:
            return f"TRY_CAST({s} AS BOOLEAN)"
        v = f"lower(trim({s}))"
        truth = ", ".join(sql_str(x) for x in TRUE)
        falsity = ", ".join(sql_str(x) for x in FALSE)
        return f"CASE WHEN {v} IN ({truth}) THEN TRUE WHEN {v} IN ({falsity}) THEN FALSE END"
    text = f"NULLIF(trim(CAST({s} AS VARCHAR)), '')"
    if t == "json":
        return f"CASE WHEN json_valid({text}) THEN {text} END"
    if col.enum:
        return f"lower({text})"
    return text


def _add_extras(scratch: Scratch, extras: list[str]) -> None:
    """The extra columns, as text, into `typed` (as `_x_<name>`).

    Without DuckDB's common-subexpression optimiser, whose time grows with the square of the
    columns (minutes for an export of 10,000 columns) and which finds nothing to share here."""
    selects = ", ".join(f"NULLIF(trim(CAST({quote(src)} AS VARCHAR)), '') AS {quote('_x_' + src)}" for src in extras)
    scratch.con.execute("SET disabled_optimizers = 'common_subexpressions'")
    try:
        scratch.con.execute(f"CREATE TABLE _extras AS SELECT _row, {selects} FROM raw")
    finally:
        scratch.con.execute("RESET disabled_optimizers")
    scratch.con.execute("CREATE OR REPLACE TABLE typed AS SELECT * FROM typed JOIN _extras USING (_row) ORDER BY _row")
    scratch.con.execute("DROP TABLE _extras")


DATES = {  # what a date column expects, by the file's order of day and month (None: not known)
    "dmy": "a date like 31/12/2024 or 2024-12-31", "mdy": "a date like 12/31/2024 or 2024-12-31",
    "ymd": "a date like 2024-12-31", None: "a date as dd/mm/yyyy or mm/dd/yyyy, or yyyy-mm-dd",
}


def expected_for(col: Column, loc: Locale) -> str:
    if col.type == "decimal":
        return "an amount like 1.234,56" if loc.decimal == "comma" else "an amount like 1234.56"
    if col.type in TEMPORAL:
        return f"{DATES[loc.date_order]} (optionally with a time)"
    return EXPECTED.get(col.type, col.type)


def needs_locale(table: Table, mapping: dict[str, str], text_sources: set[str]) -> tuple[list[str], list[str]]:
    numeric = [s for s, c in mapping.items() if s in text_sources and table.column(c).type in NUMERIC]
    temporal = [s for s, c in mapping.items() if s in text_sources and table.column(c).type in TEMPORAL]
    return numeric, temporal


def convert(path: str, scratch: Scratch, table: Table, mapping: dict[str, str], extras: list[str],
            loc: Locale) -> list[Problem]:
    """Create table `typed` (`_row`, canonical columns, `_x_<extra>` columns); return failures."""
    text = scratch.text_columns()
    numeric, temporal = needs_locale(table, mapping, text)
    if loc.decimal is None:
        loc.decimal = detect_decimal(path, scratch, numeric)
    either = None
    if loc.date_order is None:
        loc.date_order, either = detect_date_order(path, scratch, temporal)
    selects = ["_row"]
    for src, name in mapping.items():
        selects.append(f"{conversion(table.column(name), src, src in text, loc)} AS {quote(name)}")
    scratch.con.execute(f"CREATE TABLE typed AS SELECT {', '.join(selects)} FROM raw")
    if extras:
        _add_extras(scratch, extras)
    problems: list[Problem] = []
    for src, name in mapping.items():
        col = table.column(name)
        if col.type == "text":
            continue  # text to text cannot fail (enums and lengths are checked later)
        failed = scratch.con.execute(
            f"SELECT r._row, CAST(r.{quote(src)} AS VARCHAR) FROM raw r JOIN typed t USING (_row) "
            f"WHERE t.{quote(name)} IS NULL AND NULLIF(trim(CAST(r.{quote(src)} AS VARCHAR)), '') IS NOT NULL "
            f"ORDER BY r._row"
        ).fetchall()
        problems += [Problem(path, row, src, value, expected_for(col, loc)) for row, value in failed]
    if either:  # the order is needed too; said beside the rows' problems, or alone
        if not problems:
            raise ambiguous_dates(path, either)
        problems.append(ambiguous_dates(path, either).problem)
    return problems
