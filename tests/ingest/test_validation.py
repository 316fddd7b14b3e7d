"""Every rule is checked on the whole file before anything is written.

Each problem names the file, the row (header = row 1), the column, the value and what was
expected. One bad row rejects the file and nothing is written, unless --skip-invalid.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from ingest_helpers import counted, load, messages, options, rows, snapshot

from sucesso.ingest import Problem, import_file, write_batches
from sucesso.store.schema import arrow_schema
from sucesso.store.schema import table as table_named

ROLES = "one of: csm, ism, farmer, manager, support"


def problems(report) -> list[tuple]:
    return [(p.row, p.column, p.value, p.expected) for p in report.problems]


def test_a_problem_names_file_row_column_value_and_expectation(duck, write):
    path = write("csms.csv", "csm_id,name,role\nc1,Ana,csm\nc2,Bruno,chefe\n")
    report = import_file(duck, "csms", path)
    assert report.problems == [Problem(path, 3, "role", "chefe", ROLES)]
    assert messages(report) == [f"{path}, row 3, column role: 'chefe' — expected {ROLES}"]


def test_every_problem_is_reported_not_just_the_first(duck, write):
    text = "csm_id,name,role,active\nc1,,csm,sim\nc2,Bruno,chefe,sim\nc3,Caio,csm,talvez\n"
    report = import_file(duck, "csms", write("csms.csv", text))
    assert problems(report) == [
        (2, "name", None, "a value (this column is required)"),
        (3, "role", "chefe", ROLES),
        (4, "active", "talvez", "true/false (also sim/não, yes/no, 1/0)"),
    ]
    assert report.rejected == 3


def test_the_source_column_is_named_when_mapped(duck, write):
    report = import_file(duck, "csms", write("csms.csv", "id,nome,papel\nc1,Ana,chefe\n"),
                         options(mapping={"id": "csm_id", "nome": "name", "papel": "role"}))
    assert problems(report) == [(2, "papel", "chefe", ROLES)]


# -- types -----------------------------------------------------------------------------
@pytest.mark.parametrize("created_at, seats, attributes, column, expected", [
    ("2024-01-10", "dez", "", "seats", "a whole number"),
    ("2024-01-10", "2,5", "", "seats", "a whole number"),
    ("ontem", "", "", "created_at", "a date like 31/12/2024 or 2024-12-31 (optionally with a time)"),
    ("2024-01-10", "", "{tier: gold}", "attributes", "valid JSON"),
])
def test_values_of_the_wrong_type(created_at, seats, attributes, column, expected, duck, write):
    text = f"account_id;name;created_at;seats;attributes\na1;Padaria;{created_at};{seats};{attributes}\n"
    report = import_file(duck, "accounts", write("accounts.csv", text))
    value = {"created_at": created_at, "seats": seats, "attributes": attributes}[column]
    assert problems(report) == [(2, column, value, expected)]


def test_enums_ignore_case(duck, write):
    load(duck, "csms", write("csms.csv", "csm_id,name,role\nc1,Ana,CSM\nc2,Bruno,Manager\n"))
    assert rows(duck, "csms", "role") == [("csm",), ("manager",)]


@pytest.mark.parametrize("table, header, row, column, value, expected", [
    ("accounts", "account_id,name,created_at,touch_model", "a9,Loja,2024-01-01,medium", "touch_model", "medium",
     "one of: high, low, tech"),
    ("invoices", "invoice_id,account_id,issued_at,amount,status", "i1,a1,2024-01-01,10,pago", "status", "pago",
     "one of: open, paid, void, uncollectible"),
    ("churn_requests", "request_id,account_id,requested_at,reason_code,voluntary,outcome",
     "r1,a1,2024-01-01,price,yes,lost", "outcome", "lost", "one of: pending, recovered, churned"),
    ("targets", "kpi,period_start,period_end,target,direction", "nrr,2024-01-01,2024-04-01,1.1,up",
     "direction", "up", "one of: higher, lower"),
])
def test_values_outside_their_enum(table, header, row, column, value, expected, duck_seeded, write):
    report = import_file(duck_seeded, table, write(f"{table}.csv", f"{header}\n{row}\n"))
    assert problems(report) == [(2, column, value, expected)]


# -- ranges and row rules --------------------------------------------------------------
def test_mrr_cannot_be_negative(duck_seeded, write):
    text = "subscription_id,account_id,mrr,started_at\ns1,a1,0,2024-01-01\ns2,a1,-10,2024-01-01\n"
    report = import_file(duck_seeded, "subscriptions", write("subs.csv", text))
    assert problems(report) == [(3, "mrr", "-10", "a value of at least 0")]  # the value as the file has it


def test_an_amount_too_large_for_the_money_type(duck_seeded, write):
    text = "invoice_id,account_id,issued_at,amount,status\ni1,a1,2024-01-01,99999999999999999,paid\n"
    report = import_file(duck_seeded, "invoices", write("inv.csv", text))
    assert [(p.row, p.column) for p in report.problems] == [(2, "amount")]


@pytest.mark.parametrize("survey, score, ok", [
    ("nps", "0", True), ("nps", "10", True), ("nps", "11", False), ("nps", "-1", False),
    ("csat", "5", True), ("csat", "0", False), ("csat", "6", False),
    ("ces", "7", True), ("ces", "8", False),
])
def test_a_score_must_be_within_its_scale(survey, score, ok, duck_seeded, write):
    text = f"response_id,account_id,survey,score,answered_at\nq1,a1,{survey},{score},2024-05-01\n"
    report = import_file(duck_seeded, "survey_responses", write("answers.csv", text))
    if ok:
        assert not report.problems
        assert duck_seeded.count("survey_responses") == 1
    else:
        assert problems(report) == [(2, "score", score,
                                     "a score within the answer's scale (scale_min to scale_max)")]


def test_a_score_on_its_own_scale(duck_seeded, write):
    """A CSAT asked on 1–10 says so; an NPS is always 0–10."""
    text = ("response_id,account_id,survey,score,scale_min,scale_max,answered_at\n"
            "q1,a1,csat,9,1,10,2024-05-01\n"
            "q2,a1,nps,4,1,5,2024-05-01\n"
            "q3,a1,ces,3,5,5,2024-05-01\n")
    report = import_file(duck_seeded, "survey_responses", write("answers.csv", text))
    assert [(p.row, p.column, p.expected) for p in report.problems] == [
        (3, "scale_min", "the 0–10 scale for an NPS answer"),
        (4, "scale_max", "a number above scale_min"),
        (4, "score", "a score within the answer's scale (scale_min to scale_max)"),
    ]


@pytest.mark.parametrize("ended_at, ok", [("2024-03-01", True), ("2024-01-01", False), ("2023-12-31", False)])
def test_a_subscription_ends_after_it_starts(ended_at, ok, duck_seeded, write):
    text = f"subscription_id,account_id,mrr,started_at,ended_at\ns1,a1,10,2024-01-01,{ended_at}\n"
    report = import_file(duck_seeded, "subscriptions", write("subs.csv", text))
    assert problems(report) == ([] if ok else [(2, "ended_at", ended_at, "a moment after started_at")])


@pytest.mark.parametrize("table, header, row, column, expected", [
    ("invoices", "invoice_id,account_id,issued_at,due_at,amount,status", "i1,a1,2024-02-10,2024-02-01,10,open",
     "due_at", "a moment on or after issued_at"),
    ("tickets", "ticket_id,account_id,opened_at,resolved_at", "t1,a1,2024-02-10 10:00,2024-02-10 09:00",
     "resolved_at", "a moment on or after opened_at"),
    ("tickets", "ticket_id,account_id,opened_at,contacts_to_resolve", "t1,a1,2024-02-10,0",
     "contacts_to_resolve", "a value of at least 1"),
    ("accounts", "account_id,name,created_at,seats", "a9,Loja,2024-01-01,-3", "seats", "a value of at least 0"),
    ("targets", "kpi,period_start,period_end,target,direction", "nrr,2024-04-01,2024-04-01,1.1,higher",
     "period_end", "a moment after period_start"),
    ("churn_requests", "request_id,account_id,requested_at,reason_code,voluntary,outcome,decided_at",
     "r1,a1,2024-03-01,price,sim,churned,2024-02-01", "decided_at", "a moment on or after requested_at"),
])
def test_ranges_and_row_rules(table, header, row, column, expected, duck_seeded, write):
    report = import_file(duck_seeded, table, write(f"{table}.csv", f"{header}\n{row}\n"))
    assert [(p.row, p.column, p.expected) for p in report.problems] == [(2, column, expected)]


def test_an_identifier_longer_than_255_characters(duck, write):
    report = import_file(duck, "csms", write("csms.csv", f"csm_id,name,role\n{'c' * 256},Ana,csm\n"))
    assert [(p.row, p.column, p.expected) for p in report.problems] == [(2, "csm_id", "at most 255 characters")]


# -- keys ------------------------------------------------------------------------------
def test_a_key_twice_in_one_file_names_the_first_row(duck, write):
    text = "csm_id,name,role\nc1,Ana,csm\nc2,Bruno,csm\nc1,Ana Souza,csm\n"
    report = import_file(duck, "csms", write("csms.csv", text))
    assert problems(report) == [(4, "csm_id", "c1", "a key not used before in this file (row 2 has it too)")]
    assert duck.count("csms") == 0


def test_a_composite_key_twice(duck_seeded, write):
    text = ("account_id,milestone,reached_at\na1,activated,2024-01-05\na1,first_value,2024-01-09\n"
            "a2,activated,2024-01-07\na1,activated,2024-01-06\n")
    report = import_file(duck_seeded, "milestones", write("milestones.csv", text))
    assert problems(report) == [
        (5, "milestone", "a1/activated", "a key not used before in this file (row 2 has it too)")]


def test_a_missing_key_is_required(duck, write):
    report = import_file(duck, "csms", write("csms.csv", "csm_id,name,role\n,Ana,csm\n"))
    assert problems(report) == [(2, "csm_id", None, "a value (this column is required)")]


# -- references (both engines: they are looked up in the workspace) ----------------------
def test_references_to_unknown_rows(seeded, write):
    text = ("ticket_id,account_id,contact_id,opened_at\n"
            "t1,a1,p1,2024-02-01\n"
            "t2,a3,,2024-02-01\n"
            "t3,a2,p9,2024-02-01\n")
    report = import_file(seeded, "tickets", write("tickets.csv", text))
    assert problems(report) == [
        (3, "account_id", "a3", "an account_id that exists in accounts"),
        (4, "contact_id", "p9", "a contact_id that exists in contacts"),
    ]
    assert seeded.count("tickets") == 0


def test_an_unknown_csm(seeded, write):
    text = "account_id,name,created_at,csm_id\na3,Mercado,2024-01-01,c9\n"
    report = import_file(seeded, "accounts", write("accounts.csv", text))
    assert problems(report) == [(2, "csm_id", "c9", "a csm_id that exists in csms")]


def test_references_are_found_once_written(seeded, write):
    load(seeded, "accounts", write("more.csv", "account_id,name,created_at\na3,Mercado,2024-01-01\n"))
    load(seeded, "tickets", write("tickets.csv", "ticket_id,account_id,opened_at\nt1,a3,2024-02-01\n"))
    assert rows(seeded, "tickets", "ticket_id", "account_id") == [("t1", "a3")]


# -- required columns ------------------------------------------------------------------
def test_a_new_row_needs_every_required_column(duck, write):
    report = import_file(duck, "csms", write("csms.csv", "csm_id,name\nc1,Ana\n"))
    assert problems(report) == [(2, "role", None, "a role column (c1 is a new row and role is required)")]


def test_stored_rows_can_be_updated_without_the_required_columns(seeded, write):
    load(seeded, "csms", write("emails.csv", "csm_id,email\nc1,ana@cs.example\n"))
    assert rows(seeded, "csms", "csm_id", "name", "email", "role") == [
        ("c1", "Ana Souza", "ana@cs.example", "csm"), ("c2", "Bruno Lima", None, "manager")]


def test_defaults_fill_what_the_file_leaves_out(duck_seeded, write):
    """A CSM is active unless the file says otherwise; an NPS answer's scale is 0–10."""
    load(duck_seeded, "csms", write("csms.csv", "csm_id,name,role\nc3,Caio,csm\n"))
    load(duck_seeded, "survey_responses",
         write("nps.csv", "response_id,account_id,survey,score,answered_at\nq1,a1,nps,9,2024-05-01\n"))
    assert rows(duck_seeded, "csms", "csm_id", "active")[-1] == ("c3", True)
    assert rows(duck_seeded, "survey_responses", "scale_min", "scale_max") == [(0, 10)]


def test_arrow_batches_meet_the_same_rules(duck_seeded):
    """`write_batches`, the bulk path of the API and the demo, checks like a file import."""
    t = table_named("subscriptions")
    batch = pa.RecordBatch.from_pylist(
        [{"subscription_id": "s1", "account_id": "a1", "mrr": Decimal("10"), "started_at": dt.datetime(2024, 1, 1)},
         {"subscription_id": "s2", "account_id": "a9", "mrr": Decimal("-1"), "started_at": dt.datetime(2024, 1, 1)}],
        schema=arrow_schema(t, ["subscription_id", "account_id", "mrr", "started_at"]))
    report = write_batches(duck_seeded, "subscriptions", [batch], label="api")
    assert [(p.file, p.row, p.column) for p in report.problems] == [("api", 2, "account_id"), ("api", 2, "mrr")]
    assert duck_seeded.count("subscriptions") == 0
    assert counted(write_batches(duck_seeded, "subscriptions", [batch.slice(0, 1)])) == (1, 0, 0, 0)


# -- all or nothing (both engines) -----------------------------------------------------
def test_one_bad_row_writes_nothing(seeded, write):
    before = snapshot(seeded)
    text = ("account_id,name,created_at,segment\n"
            "a1,Padaria Pão Quente,2023-01-10,SMB\n"  # an update
            "a3,Mercado,2024-01-01,SMB\n"  # a new row
            "a4,,2024-01-01,SMB\n")  # the bad one
    report = import_file(seeded, "accounts", write("accounts.csv", text))
    assert counted(report) == (0, 0, 0, 1)
    assert not report.written
    assert snapshot(seeded) == before


def test_skip_invalid_writes_the_good_rows_and_keeps_the_bad_ones(seeded, write, tmp_path):
    text = ("subscription_id,account_id,mrr,started_at\n"
            "s1,a1,100,2024-01-01\n"
            "s2,a9,100,2024-01-01\n"
            "s3,a2,-5,2024-01-01\n"
            "s4,a2,250.5,2024-02-01\n")
    report = import_file(seeded, "subscriptions", write("subs.csv", text), options(skip_invalid=True))
    assert counted(report) == (2, 0, 0, 2)
    assert report.written
    assert rows(seeded, "subscriptions", "subscription_id") == [("s1",), ("s4",)]
    assert report.rejected_file == str(tmp_path / "subs.rejected.csv")
    with open(report.rejected_file, newline="", encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    assert rejected == [
        {"row": "3", "problems": "account_id: expected an account_id that exists in accounts",
         "subscription_id": "s2", "account_id": "a9", "mrr": "100", "started_at": "2024-01-01"},
        {"row": "4", "problems": "mrr: expected a value of at least 0",
         "subscription_id": "s3", "account_id": "a2", "mrr": "-5", "started_at": "2024-01-01"},
    ]


def test_the_rejected_file_opens_with_its_accents_in_a_spreadsheet(duck, write, tmp_path):
    report = import_file(duck, "csms", write("equipe.csv", "csm_id;name;role\nc1;João;chefe\n"),
                         options(skip_invalid=True))
    assert report.rejected_file == str(tmp_path / "equipe.rejected.csv")
    content = (tmp_path / "equipe.rejected.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, as in the errors file
    assert '"c1","João","chefe"' in content.decode("utf-8-sig")


def test_skip_invalid_with_nothing_invalid_saves_no_rejected_file(duck_seeded, write, tmp_path):
    text = "subscription_id,account_id,mrr,started_at\ns1,a1,100,2024-01-01\n"
    report = import_file(duck_seeded, "subscriptions", write("subs.csv", text), options(skip_invalid=True))
    assert counted(report) == (1, 0, 0, 0)
    assert report.rejected_file is None
    assert not (tmp_path / "subs.rejected.csv").exists()
