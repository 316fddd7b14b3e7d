"""Readers: a file in any supported format becomes a stream of Arrow record batches.

Text formats (CSV/TSV, XLSX, JSON, NDJSON) yield string columns; the locale-aware parsing of
numbers and dates happens afterwards, once, in `ingest.parse`. Parquet keeps its types, and
so does an XLSX or JSON column that holds only numbers (a number cell has no decimal mark).
Rows are numbered as a person sees them: in a CSV or spreadsheet the header is row 1 and
the first data row is row 2; in JSON, NDJSON and Parquet the first record is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sucesso.ingest.formulas import is_rejected_rows, restore, restore_array
from sucesso.ingest.problems import Problem, RejectedFile

FORMATS = ("csv", "tsv", "xlsx", "parquet", "json", "ndjson")
EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson",
}
DELIMITERS = (";", ",", "\t", "|")
BLOCK = 16 << 20  # CSV parse block; a single row larger than this is refused
BATCH_ROWS = 250_000
csv.field_size_limit(max(csv.field_size_limit(), BLOCK))  # Python's csv reads the fields Arrow accepts
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (an XLSX file?)", b"PAR1": "a Parquet file", b"%PDF": "a PDF document",
}

# What openpyxl raises on a damaged workbook (zip, deflate, XML), when opening it or reading its rows
XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError, TypeError, IndexError,
               NotImplementedError, SyntaxError)
# An accented Latin letter (À-ÿ) as UTF-8 writes it, in a word (beside an ASCII letter: not binary noise)
UTF8_LETTER = re.compile(rb"(?<=[A-Za-z])\xc3[\x80-\xbf]|\xc3[\x80-\xbf](?=[A-Za-z])")

Progress = Callable[[int, int], None]


@dataclass
class Source:
    """An opened file: its columns and a one-shot stream of batches."""

    path: str
    format: str
    columns: list[str]
    batches: Iterator[pa.RecordBatch]
    first_row: int  # the row number of the first record
    size: int
    text: bool = True  # values are strings still to be parsed
    detected: dict[str, str] = field(default_factory=dict)
    malformed: list[Problem] = field(default_factory=list)  # filled once batches are consumed


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise RejectedFile(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        return fmt
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise RejectedFile(path, f"cannot tell the format from the extension {ext or '(none)'!r}; "
                                 f"use --format ({', '.join(FORMATS)})")
    return EXTENSIONS[ext]


def open_source(path: str, fmt: str | None = None, *, encoding: str | None = None,
                delimiter: str | None = None, sheet: str | None = None,
                on_progress: Progress | None = None) -> Source:
    if not os.path.isfile(path):
        raise RejectedFile(path, "no such file")
    size = os.path.getsize(path)
    fmt = detect_format(path, fmt)
    if size == 0:
        raise RejectedFile(path, "the file is empty")
    if fmt in ("csv", "tsv"):
        source = _open_csv(path, fmt, size, encoding, delimiter or ("\t" if fmt == "tsv" else None), on_progress)
    elif fmt == "xlsx":
        source = _open_xlsx(path, size, sheet)
    elif fmt == "parquet":
        return _open_parquet(path, size, on_progress)
    else:
        return _open_json(path, fmt, size, encoding)
    return _read_back(source) if is_rejected_rows(source.columns) else source


def _read_back(source: Source) -> Source:
    """A rejected-rows file sucesso wrote, read as the rows it holds: without its `row` and
    `problems` columns, and without the quotes it put before formulas (see `ingest.formulas`)."""
    kept = source.columns[2:]
    names = [restore(c) for c in kept]
    _check_header(source.path, names)
    batches = source.batches

    def restored():
        for batch in batches:
            yield pa.RecordBatch.from_arrays([restore_array(batch.column(c)) for c in kept], names=names)

    source.columns, source.batches = names, restored()
    source.detected["read_back"] = "rows rejected by sucesso"
    return source


# -- text detection -------------------------------------------------------------------
def sniff_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) when every byte decodes, else Windows-1252 (else Latin-1).

    UTF-16 is recognised by its BOM (Excel's "Unicode text" export). A file that is not UTF-8
    but holds UTF-8 accented letters mixes encodings and is refused: read either way, part of
    its text would be garbled ("São" read as "SÃ£o").
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        for signature, what in BINARY_SIGNATURES.items():
            if head.startswith(signature):
                raise RejectedFile(path, f"this is {what}, not text; check the file or use --format")
        if b"\x00" in head:
            raise RejectedFile(path, "this is a binary file, not text (it holds NUL bytes)")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(8 << 20):
                if b"\x00" in chunk:
                    raise RejectedFile(path, "this is a binary file, not text (it holds NUL bytes)")
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _refuse_mixed(path, fh)
        else:
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        with open(path, encoding="cp1252") as fh:
            while fh.read(8 << 20):
                pass
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _refuse_mixed(path: str, fh) -> None:
    fh.seek(0)
    tail = b""
    while chunk := fh.read(8 << 20):
        if found := UTF8_LETTER.search(tail + chunk):
            raise RejectedFile(path, f"it mixes encodings: some text is UTF-8 (such as {found.group().decode()!r}) "
                                     "and some is not; save it again as UTF-8, or give its encoding with --encoding")
        tail = chunk[-2:]


def sniff_delimiter(path: str, sample: str) -> str:
    """The separator that splits the first records into the same number (>1) of fields.

    When a malformed row among them spoils that, the one separator that splits the header
    is taken, so that the malformed rows can be reported with their numbers.
    """
    best, best_fields, splits_header = None, 1, []
    for delim in DELIMITERS:
        records = [r for r in itertools.islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delim), 51) if r]
        if len(records) > 1:
            records = records[:-1]  # the last record of a sample may be cut short
        if not records:
            continue
        if len(records[0]) > 1:
            splits_header.append(delim)
        counts = {len(r) for r in records}
        if len(counts) == 1 and (n := counts.pop()) > best_fields:
            best, best_fields = delim, n
    if best is None:
        if len(splits_header) == 1:
            return splits_header[0]
        if splits_header:
            raise RejectedFile(path, "cannot tell the column separator (rows have different numbers of "
                                     "fields); say it with --delimiter")
        return ","  # a single column
    return best


def _open_csv(path, fmt, size, encoding, delimiter, on_progress) -> Source:
    encoding = encoding or sniff_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise RejectedFile(path, f"unknown encoding {encoding!r}; try utf-8, cp1252 or latin-1") from None
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as fh:
            sample = fh.read(256 << 10)
    except UnicodeError as exc:  # a UTF-16 or UTF-32 file without its BOM
        raise RejectedFile(path, f"the file is not valid {encoding} ({exc}); give its encoding with --encoding") \
            from None
    sample = sample.removeprefix("\ufeff")
    if not sample.strip():
        raise RejectedFile(path, "the file is empty")
    delimiter = delimiter or sniff_delimiter(path, sample)
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    columns = [h.strip() for h in header]
    # Exports that end every line with the separator leave unnamed columns at the end: they
    # are read (so rows keep their width) and dropped, as long as they stay empty.
    named = len(columns)
    while named > 1 and not columns[named - 1]:
        named -= 1
    _check_header(path, columns[:named])
    source = Source(path, fmt, columns[:named], iter(()), first_row=2, size=size,
                    detected={"encoding": encoding, "delimiter": delimiter})
    every = columns[:named] + [f"{UNNAMED}{i}" for i in range(named + 1, len(columns) + 1)]
    source.batches = _csv_batches(source, every, encoding, delimiter, on_progress)
    return source


UNNAMED = "_unnamed_column_"


def _without_unnamed(source: Source, batch: pa.RecordBatch, first: int) -> pa.RecordBatch:
    """Drop the trailing unnamed columns, refusing a value found in one of them."""
    unnamed = [name for name in batch.schema.names if name.startswith(UNNAMED)]
    for name in unnamed:
        column = batch.column(name)
        if column.null_count < len(column):
            at = pc.index(pc.is_valid(column), True).as_py()
            raise RejectedFile(source.path, f"row {first + at} has {column[at].as_py()!r} in column "
                                            f"{name.removeprefix(UNNAMED)}, which the header does not name")
    return batch.drop_columns(unnamed) if unnamed else batch


def _csv_batches(source: Source, every: list[str], encoding: str, delimiter: str, on_progress
                 ) -> Iterator[pa.RecordBatch]:
    bad: list[str] = []

    def invalid(row) -> str:
        bad.append(row.text)
        return "skip"

    raw = pa.OSFile(source.path)
    stream = pa.input_stream(raw) if encoding in ("utf-8", "utf-8-sig") else pa.transcoding_input_stream(
        raw, encoding, "utf-8")
    reader_options = pacsv.ReadOptions(block_size=BLOCK, column_names=every, skip_rows=1, use_threads=True)
    # Blank lines are kept (as empty rows, dropped later) so that rows keep the numbers a spreadsheet shows.
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False,
                               invalid_row_handler=invalid)
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in every},
                                   strings_can_be_null=True, null_values=[""])
    rows = 0
    try:
        reader = pacsv.open_csv(stream, read_options=reader_options, parse_options=parse, convert_options=convert)
        for batch in reader:
            first = rows + source.first_row
            rows += batch.num_rows
            yield _without_unnamed(source, batch, first)
            if on_progress:
                on_progress(raw.tell(), source.size)
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "Could not skip initial" in text and not rows:
            return  # the header is the whole file
        if "straddl" in text:
            where = rows + source.first_row
            raise RejectedFile(source.path, f"row {where} or one after it is larger than {BLOCK >> 20} MB "
                                            "(one huge field?); split the value or the file") from None
        if "UTF8" in text or "UTF-8" in text:
            raise RejectedFile(source.path, f"the file is not valid {encoding}; give its encoding with "
                                            "--encoding (e.g. cp1252 or latin-1)") from None
        raise RejectedFile(source.path, f"cannot read it as CSV: {text}") from None
    except pa.ArrowException as exc:
        raise RejectedFile(source.path, f"cannot read it as CSV: {exc}") from None
    except UnicodeError as exc:  # from the transcoding of another encoding
        raise RejectedFile(source.path, f"the file is not valid {encoding} ({exc}); give its encoding with "
                                        "--encoding") from None
    finally:
        raw.close()
    if bad:
        source.malformed = _locate_malformed(source, len(every), encoding, delimiter)


def _locate_malformed(source: Source, width: int, encoding: str, delimiter: str) -> list[Problem]:
    """A second, slower pass, only when some rows had the wrong number of fields."""
    problems = []
    with open(source.path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            next(reader, None)
            for index, fields in enumerate(reader):
                if len(fields) != width and fields:
                    problems.append(Problem(source.path, index + source.first_row, "", delimiter.join(fields)[:120],
                                            f"{width} fields separated by {delimiter!r} (found {len(fields)})"))
        except (csv.Error, UnicodeError) as exc:
            raise RejectedFile(source.path, f"cannot read it as CSV: {exc}") from None
    return problems


def _check_header(path: str, columns: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(columns, 1):
        if not name:
            raise RejectedFile(path, f"column {i} of the header has no name")
        if name.lower() in seen:
            raise RejectedFile(path, f"the header names {name!r} twice (columns {seen[name.lower()]} and {i})")
        seen[name.lower()] = i


# -- spreadsheets, JSON, Parquet -------------------------------------------------------
def cell_text(value) -> str | None:
    """A spreadsheet or JSON value as the text the parser reads (ISO dates, dot decimals)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def cell_column(values: list) -> pa.Array:
    """A column of spreadsheet or JSON values: numbers when it holds only numbers (a number cell
    has no decimal mark to interpret, whatever --decimal says), else the text the parser reads."""
    present = [v for v in values if v is not None]
    if present and all(type(v) in (int, float) for v in present):
        try:
            if all(float(v).is_integer() for v in present):
                return pa.array([None if v is None else int(v) for v in values], pa.int64())
            return pa.array(values, pa.float64())
        except (OverflowError, pa.ArrowException):
            pass  # beyond 64 bits: keep the digits as text
    return pa.array([cell_text(v) for v in values], pa.string())


def _records_to_batches(columns: list[str], records) -> Iterator[pa.RecordBatch]:
    """Typed per column over the whole file (batch by batch, the types could disagree)."""
    cells: list[list] = [[] for _ in columns]
    for values in records:
        for i, value in enumerate(values):
            cells[i].append(value)
    yield from pa.table([cell_column(c) for c in cells], names=columns).to_batches(BATCH_ROWS)


def open_workbook(path: str, data_only: bool = True):
    """An XLSX workbook, read-only (formulas as their last computed values: never run)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException  # a name not ending in .xlsx (an upload's)

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except (*XLSX_ERRORS, InvalidFileException) as exc:
        raise unreadable_workbook(path, exc) from None


def unreadable_workbook(path: str, exc: BaseException) -> RejectedFile:
    return RejectedFile(path, f"not a readable XLSX workbook ({exc or type(exc).__name__})")


def _open_xlsx(path: str, size: int, sheet: str | None) -> Source:
    book = open_workbook(path)
    if sheet and sheet not in book.sheetnames:
        raise RejectedFile(path, f"no sheet named {sheet!r}; the sheets are {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        for number, values in enumerate(rows, 1):
            if any(v is not None and str(v).strip() for v in values):
                header_row, header = number, values
                break
        else:
            raise RejectedFile(path, "the sheet is empty")
    except XLSX_ERRORS as exc:
        raise unreadable_workbook(path, exc) from None
    width = max(i + 1 for i, v in enumerate(header) if v is not None and str(v).strip())
    columns = [str(v).strip() if v is not None else "" for v in header[:width]]
    _check_header(path, columns)

    def records():
        for values in rows:
            values = tuple(values[:width]) + (None,) * (width - len(values))
            yield values

    def batches():
        try:
            yield from _records_to_batches(columns, records())
        except XLSX_ERRORS as exc:
            raise unreadable_workbook(path, exc) from None
        finally:
            book.close()

    return Source(path, "xlsx", columns, batches(), first_row=header_row + 1, size=size,
                  detected={"sheet": ws.title})


def _open_parquet(path: str, size: int, on_progress) -> Source:
    try:
        pf = pq.ParquetFile(path)
        columns = pf.schema_arrow.names
    except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: a damaged name (not UTF-8)
        raise RejectedFile(path, f"not a readable Parquet file ({exc})") from None
    _check_header(path, columns)

    def batches():
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=1_000_000):
                done += batch.num_rows
                yield batch
                if on_progress:
                    on_progress(int(size * done / max(pf.metadata.num_rows, 1)), size)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise RejectedFile(path, f"the Parquet file is damaged ({exc})") from None

    return Source(path, "parquet", columns, batches(), first_row=1, size=size, text=False)


def read_text(path: str, encoding: str | None) -> str:
    """A whole text file (JSON), its encoding detected unless given."""
    encoding = encoding or sniff_encoding(path)
    try:
        with open(path, encoding=encoding) as fh:
            text = fh.read().removeprefix("\ufeff")
    except LookupError:
        raise RejectedFile(path, f"unknown encoding {encoding!r}; try utf-8, cp1252 or latin-1") from None
    except OSError as exc:
        raise RejectedFile(path, f"cannot read the file ({exc})") from None
    except UnicodeError as exc:
        raise RejectedFile(path, f"the file is not valid {encoding} ({exc}); give its encoding with --encoding") \
            from None
    if not text.strip():
        raise RejectedFile(path, "the file is empty")
    return text


def json_value(path: str, text: str, line: int | None = None) -> object:
    """The JSON document `text` (the whole file, or its `line`), or a RejectedFile saying why not."""
    where = f"line {line} is not valid JSON" if line else "not valid JSON"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = "" if line else f" at line {exc.lineno} column {exc.colno}"
        raise RejectedFile(path, f"{where}: {exc.msg}{at}") from None
    except RecursionError:
        raise RejectedFile(path, f"{where}: it is nested too deeply") from None


def _open_json(path: str, fmt: str, size: int, encoding: str | None) -> Source:
    encoding = encoding or sniff_encoding(path)
    text = read_text(path, encoding)
    records: list[dict] = []
    if fmt == "ndjson":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                records.append(_json_object(path, line, number))
    else:
        data = json_value(path, text)
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise RejectedFile(path, "expected a JSON array of objects (or an object holding one array)")
            data = lists[0]
        if not isinstance(data, list):
            raise RejectedFile(path, "expected a JSON array of objects")
        for number, item in enumerate(data, 1):
            if not isinstance(item, dict):
                raise RejectedFile(path, f"record {number} is a {type(item).__name__}, expected an object")
            records.append(item)
    if not records:
        raise RejectedFile(path, "the file holds no records")
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    names = [str(c) for c in columns]
    _check_header(path, names)
    batches = _records_to_batches(names, ([r.get(c) for c in columns] for r in records))
    return Source(path, fmt, names, batches, first_row=1, size=size, detected={"encoding": encoding})


def _json_object(path: str, line: str, number: int) -> dict:
    value = json_value(path, line, number)
    if not isinstance(value, dict):
        raise RejectedFile(path, f"line {number} is a {type(value).__name__}, expected an object")
    return value
