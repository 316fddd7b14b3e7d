"""Files that are broken, empty, huge or not what they claim: a clear error, and nothing written.

No traceback reaches the user: every case comes back as a problem in the report.
"""

from __future__ import annotations

import io
import json
import random

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import messages, only_problem, options, rows, snapshot

from sucesso.ingest import import_file

CSMS = "csm_id,name,role\nc1,Ana,csm\nc2,Bruno,ism\n"


def xlsx_bytes(*records) -> bytes:
    book = openpyxl.Workbook()
    for r in records:
        book.active.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"csm_id": ["c1"] * 100, "name": ["Ana"] * 100, "role": ["csm"] * 100}), buf)
    return buf.getvalue()


def garbage(n: int = 4096, low: int = 0) -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(low, 256) for _ in range(n))


HOSTILE = {
    "empty csv": ("csms.csv", b"", "the file is empty"),
    "empty xlsx": ("csms.xlsx", b"", "the file is empty"),
    "empty parquet": ("csms.parquet", b"", "the file is empty"),
    "empty json": ("csms.json", b"", "the file is empty"),
    "blank lines only": ("csms.csv", b"\r\n\n   \n", "the file is empty"),
    "whitespace json": ("csms.json", b"  \n ", "the file is empty"),
    "header only": ("csms.csv", b"csm_id,name,role\n", "the file has a header but no data rows"),
    "header without newline": ("csms.csv", b"csm_id,name,role", "the file has a header but no data rows"),
    "header and blank lines": ("csms.csv", b"csm_id;name;role\r\n\r\n\r\n", "the file has a header but no data rows"),
    "header and empty rows": ("csms.csv", b"csm_id;name;role\n;;\n;;\n", "the file has a header but no data rows"),
    "xlsx header only": ("csms.xlsx", xlsx_bytes(["csm_id", "name", "role"]), "the file has a header but no data rows"),
    "xlsx with nothing": ("csms.xlsx", xlsx_bytes(), "the sheet is empty"),
    "empty json array": ("csms.json", b"[]", "the file holds no records"),
    "binary as csv": ("csms.csv", garbage(), "this is a binary file, not text (it holds NUL bytes)"),
    "binary as ndjson": ("csms.ndjson", garbage(), "this is a binary file, not text (it holds NUL bytes)"),
    "binary as xlsx": ("csms.xlsx", garbage(), "not a readable XLSX workbook (File is not a zip file)"),
    "xlsx saved as csv": ("csms.csv", xlsx_bytes(["csm_id"], ["c1"]),
                          "this is a ZIP archive (an XLSX file?), not text; check the file or use --format"),
    "parquet saved as csv": ("csms.csv", parquet_bytes(),
                             "this is a Parquet file, not text; check the file or use --format"),
    "pdf saved as csv": ("csms.csv", b"%PDF-1.7\n" + garbage(),
                         "this is a PDF document, not text; check the file or use --format"),
    "broken json": ("csms.json", b'[{"csm_id": "c1", "name": "Ana"', "not valid JSON: Expecting ',' delimiter "
                                                                     "at line 1 column 32"),
    "json scalar": ("csms.json", b'"csms"', "expected a JSON array of objects"),
    "json of numbers": ("csms.json", b"[1, 2]", "record 1 is a int, expected an object"),
    "json with two arrays": ("csms.json", b'{"a": [], "b": []}',
                             "expected a JSON array of objects (or an object holding one array)"),
    "ndjson broken line": ("csms.ndjson", b'{"csm_id": "c1", "name": "Ana", "role": "csm"}\n{"csm_id": \n',
                           "line 2 is not valid JSON: Expecting value"),
    "ndjson array line": ("csms.ndjson", b'{"csm_id": "c1"}\n["c2"]\n', "line 2 is a list, expected an object"),
    "a header named twice": ("csms.csv", b"csm_id,name,Name\nc1,Ana,Ana\n",
                             "the header names 'Name' twice (columns 2 and 3)"),
    "a header without a name": ("csms.csv", b"csm_id,,role\nc1,Ana,csm\n", "column 2 of the header has no name"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_files_are_refused_clearly_and_write_nothing(case, duck_seeded, write):
    name, content, message = HOSTILE[case]
    before = snapshot(duck_seeded)
    path = write(name, content)
    report = import_file(duck_seeded, "csms", path)
    assert only_problem(report) == message
    assert messages(report) == [f"{path}: {message}"]  # as the CLI prints it
    assert not report.written
    assert snapshot(duck_seeded) == before


def test_damaged_xlsx_and_parquet(duck, write):
    book, table = xlsx_bytes(["csm_id", "name", "role"], ["c1", "Ana", "csm"]), parquet_bytes()
    assert only_problem(import_file(duck, "csms", write("cut.xlsx", book[: len(book) // 2]))).startswith(
        "not a readable XLSX workbook")
    assert only_problem(import_file(duck, "csms", write("cut.parquet", table[: len(table) // 2]))).startswith(
        "not a readable Parquet file")
    assert duck.count("csms") == 0


def test_text_garbage_without_nul_bytes_is_refused(duck, write):
    report = import_file(duck, "csms", write("csms.csv", garbage(low=0x80)))
    assert only_problem(report).startswith("no column for csm_id (the key of csms); the file has: ")
    assert duck.count("csms") == 0


def test_no_such_file(duck, tmp_path):
    report = import_file(duck, "csms", str(tmp_path / "missing.csv"))
    assert only_problem(report) == "no such file"


def test_a_utf16_export_is_recognised_by_its_bom(duck, write):
    """Excel's "Unicode text" is UTF-16 with tabs."""
    load_report = import_file(duck, "csms", write("csms.txt", CSMS.replace(",", "\t"), encoding="utf-16"))
    assert not load_report.problems
    assert load_report.detected["encoding"] == "utf-16"
    assert duck.count("csms") == 2


# -- huge values -------------------------------------------------------------------------
def test_a_field_larger_than_16_mb(duck_seeded, write):
    before = snapshot(duck_seeded)
    huge = "x" * (40 << 20)
    report = import_file(duck_seeded, "csms", write("csms.csv", f'csm_id,name,role\nc3,Ana,csm\nc4,"{huge}",csm\n'))
    assert only_problem(report) == ("row 3 or one after it is larger than 16 MB (one huge field?); "
                                    "split the value or the file")
    assert snapshot(duck_seeded) == before


def test_a_long_field_under_the_limit_is_checked_like_any_value(duck, write):
    """A 200 KB name is read (not a crash of the CSV reader) and refused by the length rule."""
    long_name = "y" * (200 << 10)
    report = import_file(duck, "csms", write("csms.csv", f"csm_id,name,role\nc1,{long_name},csm\nc2,Bia,csm,x\n"))
    assert [(p.row, p.column, p.expected) for p in report.problems] == [
        (2, "name", "at most 1,000 characters"), (3, "", "3 fields separated by ',' (found 4)")]


# -- malformed rows keep the numbers a spreadsheet shows ---------------------------------
def test_rows_with_the_wrong_number_of_fields(duck, write):
    text = ("csm_id,name,role\n"
            "c1,Ana,csm\n"
            "c2,Bruno,ism,extra\n"  # row 3: one field too many
            "c3,Caio,csm\n"
            "c4,Dora\n"  # row 5: one field short
            "c5,Eva,chefe\n")  # row 6: a normal row, with a bad value
    path = write("csms.csv", text)
    report = import_file(duck, "csms", path)
    assert messages(report) == [
        f"{path}, row 3: 'c2,Bruno,ism,extra' — expected 3 fields separated by ',' (found 4)",
        f"{path}, row 5: 'c4,Dora' — expected 3 fields separated by ',' (found 2)",
        f"{path}, row 6, column role: 'chefe' — expected one of: csm, ism, farmer, manager, support",
    ]
    assert duck.count("csms") == 0


def test_malformed_rows_among_the_first_lines_do_not_hide_the_separator(duck, write):
    report = import_file(duck, "csms", write("csms.csv", "csm_id;name;role\nc1;Ana;csm;x\nc2;Bia\n"))
    assert [(p.row, p.expected) for p in report.problems] == [
        (2, "3 fields separated by ';' (found 4)"), (3, "3 fields separated by ';' (found 2)")]


def test_blank_lines_count_as_rows(duck, write):
    text = "csm_id,name,role\nc1,Ana,csm\n\nc2,Bruno\n\nc3,Caio,chefe\n\n"
    report = import_file(duck, "csms", write("csms.csv", text))
    assert [(p.row, p.column) for p in report.problems] == [(4, ""), (6, "role")]


def test_a_quoted_field_over_several_lines_is_one_row(duck, write):
    text = 'csm_id,name,role\nc1,"Ana\nSouza",csm\nc2,Bruno\nc3,Caio,chefe\n'
    report = import_file(duck, "csms", write("csms.csv", text))
    assert [(p.row, p.column) for p in report.problems] == [(3, ""), (4, "role")]


def test_skip_invalid_keeps_the_right_rows_around_malformed_ones(duck, write, tmp_path):
    text = "csm_id,name,role\nc1,Ana,csm\nc2,Bruno,ism,extra\n\nc3,Caio,csm\nc4,Dora,chefe\n"
    report = import_file(duck, "csms", write("csms.csv", text), options(skip_invalid=True))
    assert rows(duck, "csms", "csm_id") == [("c1",), ("c3",)]
    rejected = (tmp_path / "csms.rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejected == [
        '"row","problems","csm_id","name","role"',
        "3,\"3 fields separated by ',' (found 4)\",\"c2,Bruno,ism,extra\",,",
        '6,"role: expected one of: csm, ism, farmer, manager, support","c4","Dora","chefe"',
    ]
    assert report.rejected == 2


def test_an_unterminated_quote(duck, write):
    report = import_file(duck, "csms", write("csms.csv", 'csm_id,name,role\nc1,Ana,csm\nc2,"Bruno,ism\nc3,Caio,csm\n'))
    assert [(p.row, p.column) for p in report.problems] == [(3, "")]
    assert duck.count("csms") == 0


def test_ragged_json_records_are_not_malformed(duck, write):
    """JSON records name their fields, so a missing one is only an empty value."""
    records = [{"csm_id": "c1", "name": "Ana", "role": "csm"}, {"csm_id": "c2", "role": "csm"}]
    report = import_file(duck, "csms", write("csms.json", json.dumps(records)))
    assert [(p.row, p.column, p.expected) for p in report.problems] == [
        (2, "name", "a value (this column is required)")]
