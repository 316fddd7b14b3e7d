"""Imports are idempotent upserts by natural key, on both engines.

The same file again changes nothing; a changed row is updated in place; a column the file
leaves out keeps its stored values.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from ingest_helpers import counted, load, rows, snapshot

from sucesso.ingest import import_file

SUBSCRIPTIONS = ("subscription_id;account_id;plan;mrr;currency;quantity;started_at;ended_at\n"
                 "s1;a1;Pro;1.234,56;BRL;3;31/01/2024 09:15;\n"
                 "s2;a1;Básico;89,90;BRL;1;15/06/2023;31/01/2024 09:15\n"
                 "s3;a2;Pro;0,00;;;01/12/2023;\n")


def test_the_same_file_twice_changes_nothing(seeded, write):
    path = write("assinaturas.csv", SUBSCRIPTIONS)
    assert counted(load(seeded, "subscriptions", path)) == (3, 0, 0, 0)
    before = snapshot(seeded)
    assert counted(load(seeded, "subscriptions", path)) == (0, 0, 3, 0)
    assert snapshot(seeded) == before


def test_a_changed_row_is_updated_in_place(seeded, write):
    load(seeded, "subscriptions", write("v1.csv", SUBSCRIPTIONS))
    changed = SUBSCRIPTIONS.replace("s3;a2;Pro;0,00;;;01/12/2023;", "s3;a2;Pro;150,00;;;01/12/2023;")
    assert counted(load(seeded, "subscriptions", write("v2.csv", changed))) == (0, 1, 2, 0)
    assert seeded.count("subscriptions") == 3
    assert rows(seeded, "subscriptions", "subscription_id", "mrr") == [
        ("s1", Decimal("1234.56")), ("s2", Decimal("89.90")), ("s3", Decimal("150.00"))]


def test_new_changed_and_unchanged_rows_in_one_file(seeded, write):
    load(seeded, "csms", write("v2.csv", "csm_id,name,role\nc1,Ana Souza,csm\nc2,Bruno Lima,csm\nc3,Caio,ism\n"))
    assert rows(seeded, "csms", "csm_id", "role") == [("c1", "csm"), ("c2", "csm"), ("c3", "ism")]
    report = load(seeded, "csms", write("v3.csv", "csm_id,name,role\nc1,Ana Souza,csm\nc2,Bruno Lima,farmer\n"
                                                  "c4,Dora,support\n"))
    assert counted(report) == (1, 1, 1, 0)


def test_a_column_left_out_keeps_the_stored_values(seeded, write):
    load(seeded, "accounts", write("crm.csv", "account_id,name,created_at,segment,plan,seats\n"
                                              "a1,Padaria Pão Quente,2023-01-10,SMB,Pro,12\n"))
    report = load(seeded, "accounts", write("billing.csv", "account_id,plan\na1,Enterprise\n"))
    assert counted(report) == (0, 1, 0, 0)
    assert rows(seeded, "accounts", "account_id", "name", "segment", "plan", "seats", "csm_id") == [
        ("a1", "Padaria Pão Quente", "SMB", "Enterprise", 12, "c1"),
        ("a2", "Oficina Bom Motor", None, None, None, "c2"),
    ]


def test_a_default_does_not_overwrite_a_stored_value(seeded, write):
    """`active` defaults to true for a new CSM, not for one the workspace already has."""
    load(seeded, "csms", write("left.csv", "csm_id,active\nc2,não\n"))
    load(seeded, "csms", write("again.csv", "csm_id,name,role\nc2,Bruno Lima,manager\nc3,Caio,csm\n"))
    assert rows(seeded, "csms", "csm_id", "active") == [("c1", True), ("c2", False), ("c3", True)]


def test_attributes_compare_equal_on_a_second_import(seeded, write):
    text = "account_id,name,created_at,Região,Tier\na1,Padaria Pão Quente,2023-01-10,Sul,ouro\n"
    load(seeded, "accounts", write("accounts.csv", text))
    assert counted(load(seeded, "accounts", write("accounts.csv", text))) == (0, 0, 1, 0)
    assert rows(seeded, "accounts", "attributes")[0] == ('{"regiao":"Sul","tier":"ouro"}',)


def test_typed_formats_are_idempotent_too(seeded, tmp_path, write):
    """Parquet, XLSX and JSON carry typed values (decimals, timestamps, booleans, JSON)."""
    events = pa.table({
        "event_id": ["e1", "e2"], "account_id": ["a1", "a2"], "contact_id": ["p1", None],
        "event": ["login", "report_exported"],
        "occurred_at": pa.array([dt.datetime(2024, 3, 1, 12, 0, 0, 123456), dt.datetime(2024, 3, 2)],
                                pa.timestamp("us")),
        "properties": [None, json.dumps({"pages": 3, "format": "pdf"})],
    })
    pq.write_table(events, tmp_path / "events.parquet")
    book = openpyxl.Workbook()
    book.active.append(["invoice_id", "account_id", "issued_at", "due_at", "amount", "status"])
    book.active.append(["i1", "a1", dt.datetime(2024, 3, 1), dt.date(2024, 3, 11), 1234.56, "paid"])
    book.save(tmp_path / "invoices.xlsx")
    churn = write("churn.json", json.dumps([{"request_id": "r1", "account_id": "a2", "requested_at": "2024-03-05",
                                             "reason_code": "price", "voluntary": True, "outcome": "pending"}]))
    files = [("usage_events", str(tmp_path / "events.parquet")), ("invoices", str(tmp_path / "invoices.xlsx")),
             ("churn_requests", churn)]
    for table, path in files:
        load(seeded, table, path)
    before = snapshot(seeded)
    for table, path in files:
        report = load(seeded, table, path)
        assert (report.inserted, report.updated) == (0, 0), table
    assert snapshot(seeded) == before
    assert rows(seeded, "usage_events", "occurred_at", "properties") == [
        (dt.datetime(2024, 3, 1, 12, 0, 0, 123456), None), (dt.datetime(2024, 3, 2), '{"format":"pdf","pages":3}')]


def test_a_rejected_update_leaves_the_stored_rows_alone(seeded, write):
    load(seeded, "subscriptions", write("v1.csv", SUBSCRIPTIONS))
    before = snapshot(seeded)
    changed = SUBSCRIPTIONS.replace("Pro;1.234,56", "Enterprise;2.000,00").replace("0,00;;", "-1,00;;")
    report = import_file(seeded, "subscriptions", write("v2.csv", changed))
    assert [(p.row, p.column, p.value) for p in report.problems] == [(4, "mrr", "-1,00")]
    assert snapshot(seeded) == before
