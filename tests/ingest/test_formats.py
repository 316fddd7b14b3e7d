"""Every supported format reads into the same canonical rows, by extension or by --format."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import counted, load, messages, only_problem, options, rows

from sucesso.ingest import import_file

CSMS = [
    {"csm_id": "c1", "name": "Ana Souza", "role": "csm"},
    {"csm_id": "c2", "name": "Bruno Lima", "role": "manager"},
    {"csm_id": "c3", "name": "Célia Antunes", "role": "farmer"},
]
STORED = [("c1", "Ana Souza", None, "csm", True), ("c2", "Bruno Lima", None, "manager", True),
          ("c3", "Célia Antunes", None, "farmer", True)]


def as_csv(records, sep=",") -> str:
    header = sep.join(records[0])
    return "\n".join([header] + [sep.join(r.values()) for r in records]) + "\n"


def as_xlsx(path, records, sheet="Sheet", leading_blank_rows=0) -> str:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for _ in range(leading_blank_rows):
        ws.append([])
    ws.append(list(records[0]))
    for r in records:
        ws.append(list(r.values()))
    book.save(path)
    return str(path)


WRITERS = {
    "csv": lambda tmp, write: write("csms.csv", as_csv(CSMS)),
    "csv-semicolon": lambda tmp, write: write("csms.csv", as_csv(CSMS, ";")),
    "csv-pipe": lambda tmp, write: write("csms.csv", as_csv(CSMS, "|")),
    "tsv": lambda tmp, write: write("csms.tsv", as_csv(CSMS, "\t")),
    "tab-separated .csv": lambda tmp, write: write("csms.csv", as_csv(CSMS, "\t")),
    "xlsx": lambda tmp, write: as_xlsx(tmp / "csms.xlsx", CSMS),
    "parquet": lambda tmp, write: (pq.write_table(pa.Table.from_pylist(CSMS), tmp / "csms.parquet"),
                                   str(tmp / "csms.parquet"))[1],
    "json": lambda tmp, write: write("csms.json", json.dumps(CSMS, ensure_ascii=False)),
    "json object holding the array": lambda tmp, write: write("csms.json", json.dumps({"csms": CSMS})),
    "ndjson": lambda tmp, write: write("csms.ndjson", "\n".join(json.dumps(r) for r in CSMS) + "\n"),
    "jsonl": lambda tmp, write: write("csms.jsonl", "\n".join(json.dumps(r) for r in CSMS)),
}


@pytest.mark.parametrize("kind", WRITERS)
def test_every_format_gives_the_same_rows(kind, duck, tmp_path, write):
    path = WRITERS[kind](tmp_path, write)
    report = load(duck, "csms", path)
    assert counted(report) == (3, 0, 0, 0)
    assert rows(duck, "csms") == STORED


@pytest.mark.parametrize("fmt, name, content", [
    ("ndjson", "export.txt", '{"csm_id": "c1", "name": "Ana", "role": "csm"}\n'),
    ("csv", "export", "csm_id;name;role\nc1;Ana;csm\n"),
    ("tsv", "export.dat", "csm_id\tname\trole\nc1\tAna\tcsm\n"),
    ("json", "export.csv", '[{"csm_id": "c1", "name": "Ana", "role": "csm"}]'),
])
def test_format_option_wins_over_the_extension(fmt, name, content, duck, write):
    load(duck, "csms", write(name, content), format=fmt)
    assert rows(duck, "csms", "csm_id", "name") == [("c1", "Ana")]


def test_unknown_extension_asks_for_format(duck, write):
    report = import_file(duck, "csms", write("csms.dat", "csm_id,name,role\nc1,Ana,csm\n"))
    assert "--format" in only_problem(report)
    assert duck.count("csms") == 0


def test_unknown_format_lists_the_formats(duck, write):
    report = import_file(duck, "csms", write("csms.csv", "csm_id\nc1\n"), options(format="dbf"))
    assert only_problem(report) == "unknown format 'dbf'; expected one of csv, tsv, xlsx, parquet, json, ndjson"


def test_header_names_are_matched_loosely(duck, write):
    """`CSM ID`, `csm-id` and `Name ` all name canonical columns."""
    load(duck, "csms", write("csms.csv", "CSM ID,Name ,ROLE\nc1,Ana,csm\n"))
    assert rows(duck, "csms", "csm_id", "name", "role") == [("c1", "Ana", "csm")]


# -- XLSX --------------------------------------------------------------------------------
def test_xlsx_typed_cells_are_read_as_values(duck_seeded, tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["subscription_id", "account_id", "mrr", "quantity", "started_at", "ended_at"])
    ws.append(["s1", "a1", 1234.56, 3, dt.datetime(2024, 1, 15, 9, 30), dt.date(2024, 7, 1)])
    ws.append(["s2", "a2", 99, 1.0, dt.datetime(2024, 2, 1), None])
    book.save(tmp_path / "subs.xlsx")
    load(duck_seeded, "subscriptions", str(tmp_path / "subs.xlsx"))
    assert rows(duck_seeded, "subscriptions", "subscription_id", "mrr", "quantity", "started_at", "ended_at") == [
        ("s1", Decimal("1234.56"), 3, dt.datetime(2024, 1, 15, 9, 30), dt.datetime(2024, 7, 1)),
        ("s2", Decimal("99.00"), 1, dt.datetime(2024, 2, 1), None),
    ]


def test_xlsx_reads_the_named_sheet(duck, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Leia-me"
    book.active.append(["Este arquivo traz os CSMs na aba seguinte"])
    book.create_sheet("Equipe").append(["csm_id", "name", "role"])
    book["Equipe"].append(["c1", "Ana", "csm"])
    book.save(tmp_path / "team.xlsx")
    load(duck, "csms", str(tmp_path / "team.xlsx"), sheet="Equipe")
    assert rows(duck, "csms", "csm_id") == [("c1",)]


def test_xlsx_unknown_sheet_lists_the_sheets(duck, tmp_path):
    path = as_xlsx(tmp_path / "csms.xlsx", CSMS, sheet="Equipe")
    report = import_file(duck, "csms", path, options(sheet="Time"))
    assert only_problem(report) == "no sheet named 'Time'; the sheets are Equipe"


def test_xlsx_rows_are_numbered_as_the_sheet_shows_them(duck, tmp_path):
    """Two empty rows above the header: the header is row 3 and the bad row is row 5."""
    records = [dict(r) for r in CSMS]
    records[1]["role"] = "boss"
    path = as_xlsx(tmp_path / "csms.xlsx", records, leading_blank_rows=2)
    report = import_file(duck, "csms", path)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(5, "role", "boss")]


def test_xlsx_blank_rows_are_skipped_but_keep_their_numbers(duck, tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["csm_id", "name", "role"])
    ws.append(["c1", "Ana", "csm"])
    ws.append([])
    ws.append(["c2", "Bruno", "boss"])
    ws.cell(row=30, column=1).number_format = "0.00"  # a formatted but empty cell far below
    book.save(tmp_path / "csms.xlsx")
    report = import_file(duck, "csms", str(tmp_path / "csms.xlsx"))
    assert messages(report) == [f"{tmp_path / 'csms.xlsx'}, row 4, column role: 'boss' — expected one of: "
                                "csm, ism, farmer, manager, support"]


# -- Parquet -----------------------------------------------------------------------------
def test_parquet_keeps_its_types(duck_seeded, tmp_path):
    data = pa.table({
        "subscription_id": ["s1"],
        "account_id": ["a1"],
        "mrr": pa.array([Decimal("1234.56")], pa.decimal128(12, 2)),
        "started_at": pa.array([dt.datetime(2024, 1, 15, 9, 30)], pa.timestamp("ms")),
        "quantity": pa.array([4], pa.int32()),
    })
    pq.write_table(data, tmp_path / "subs.parquet")
    load(duck_seeded, "subscriptions", str(tmp_path / "subs.parquet"))
    assert rows(duck_seeded, "subscriptions", "mrr", "started_at", "quantity") == [
        (Decimal("1234.56"), dt.datetime(2024, 1, 15, 9, 30), 4)]


def test_parquet_rows_are_record_numbers(duck_seeded, tmp_path):
    data = pa.table({"subscription_id": ["s1", "s2", "s3"], "account_id": ["a1", "a1", "a2"],
                     "mrr": [10.0, -5.0, 7.5], "started_at": pa.array([dt.datetime(2024, 1, 1)] * 3)})
    pq.write_table(data, tmp_path / "subs.parquet")
    report = import_file(duck_seeded, "subscriptions", str(tmp_path / "subs.parquet"))
    assert [(p.row, p.column) for p in report.problems] == [(2, "mrr")]
    assert duck_seeded.count("subscriptions") == 0


# -- JSON / NDJSON -----------------------------------------------------------------------
def test_json_rows_are_record_numbers(duck, write):
    records = [dict(r) for r in CSMS]
    records[2]["role"] = "chefe"
    report = import_file(duck, "csms", write("csms.json", json.dumps(records)))
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "role", "chefe")]


def test_ndjson_rows_are_record_numbers(duck, write):
    lines = [json.dumps(r) for r in CSMS]
    lines[1] = json.dumps({**CSMS[1], "role": "chefe"})
    report = import_file(duck, "csms", write("csms.ndjson", "\n".join(lines)))
    assert [(p.row, p.column, p.value) for p in report.problems] == [(2, "role", "chefe")]


def test_json_records_may_leave_keys_out(duck, write):
    """A key missing from one record is an empty value there, not an error of its own."""
    records = [{"csm_id": "c1", "name": "Ana", "role": "csm", "email": "ana@cs.example"},
               {"csm_id": "c2", "name": "Bruno", "role": "csm"}]
    load(duck, "csms", write("csms.json", json.dumps(records)))
    assert rows(duck, "csms", "csm_id", "email") == [("c1", "ana@cs.example"), ("c2", None)]


def test_json_typed_values_are_read(duck_seeded, write):
    records = [{"request_id": "r1", "account_id": "a1", "requested_at": "2024-03-05T10:00:00Z",
                "reason_code": "price", "voluntary": True, "outcome": "recovered"},
               {"request_id": "r2", "account_id": "a2", "requested_at": "2024-03-06",
                "reason_code": "closed", "voluntary": False, "outcome": "churned"}]
    load(duck_seeded, "churn_requests", write("churn.json", json.dumps(records)))
    assert rows(duck_seeded, "churn_requests", "request_id", "requested_at", "voluntary") == [
        ("r1", dt.datetime(2024, 3, 5, 10, 0), True), ("r2", dt.datetime(2024, 3, 6), False)]


def test_json_properties_become_canonical_json(duck_seeded, write):
    record = {"event_id": "e1", "account_id": "a1", "event": "report_exported",
              "occurred_at": "2024-03-05 10:00", "properties": {"format": "pdf", "pages": 3}}
    load(duck_seeded, "usage_events", write("events.ndjson", json.dumps(record)))
    assert rows(duck_seeded, "usage_events", "properties") == [('{"format":"pdf","pages":3}',)]
