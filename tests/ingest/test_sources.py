"""The import presets of other tools' exports (ingest.sources), with the public samples of each
format as fixtures (tests/data/presets/README.md says where each comes from): the canonical rows
they give, hand-checked; malformed files refused naming the file's row and column, nothing
written; a second import changes nothing; the CLI and the web API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from ingest_helpers import load, rows, snapshot
from typer.testing import CliRunner

from sucesso.ingest import ImportOptions
from sucesso.ingest.sources import SOURCES, import_source

PRESETS = Path(__file__).resolve().parents[1] / "data" / "presets"
T = dt.datetime


def fixture(name: str) -> str:
    return str(PRESETS / name)


def imported(store, source: str, path: str, **options):
    """Import an export that must be accepted; its one report."""
    [report] = import_source(store, source, path, ImportOptions(**options))
    assert report.written and not report.problems, [str(p) for p in report.problems]
    return report


def refused(store, source: str, path: str, **options) -> list[str]:
    """Import an export that must be refused: its problems, as printed; nothing was written."""
    before = snapshot(store)
    reports = import_source(store, source, path, ImportOptions(**options))
    assert not any(r.written for r in reports)
    assert snapshot(store) == before
    return [str(p) for r in reports for p in r.problems]


def tickets(store) -> list[tuple]:
    return rows(store, "tickets", "ticket_id", "account_id", "contact_id", "opened_at", "first_response_at",
                "resolved_at", "contacts_to_resolve", "channel", "category", "priority")


# -- Zendesk ------------------------------------------------------------------------------------
def test_zendesk_api_json_with_side_loaded_metrics(seeded):
    """GET /api/v2/tickets.json?include=metric_sets,users,organizations. Ticket 35437 opened at 10:00
    with a first reply after 90 calendar minutes: first response at 11:30; solved with 1 reply and no
    reopening: resolved at the first contact (1). 35438: 1 reply but reopened once: 2 contacts. The
    docs' own example (35436): 2391 minutes = 1 day 15:51 after 2009-07-20 22:55:29; 322 replies and
    55 reopens: 377. Organization 509974 is account a1 by its external_id, 509975 is a2 by name;
    requester 20978393 is contact p1 by e-mail (any case); 35440 has no organization: left out."""
    report = imported(seeded, "zendesk", fixture("zendesk-tickets.json"))
    assert report.inserted == 4
    assert report.notes == ["left out 1 of the tickets (without an organization): rows 5"]
    assert tickets(seeded) == [
        ("35436", "a1", None, T(2009, 7, 20, 22, 55, 29), T(2009, 7, 22, 14, 46, 29), T(2011, 5, 9, 10, 38, 52),
         377, "web", "incident", "high"),
        ("35437", "a1", "p1", T(2024, 3, 4, 10), T(2024, 3, 4, 11, 30), T(2024, 3, 4, 15), 1, "email", "question",
         "normal"),
        ("35438", "a2", None, T(2024, 3, 5, 9), T(2024, 3, 5, 9, 15), T(2024, 3, 6, 9), 2, "chat", "problem",
         "urgent"),
        ("35439", "a1", None, T(2024, 3, 6, 12), None, None, None, "web", None, None),
    ]


def test_zendesk_csv_export(duck_seeded):
    """The CSV export: day-first times as the export writes them (dd-mm-yyyy hh:mm). 297732: 20:52 +
    173 minutes = 23:45; 11 replies and 11 reopens: 22 contacts. 311457: 19:32 + 1527 minutes (25 h
    27 min) = 20:59 the next day; 1 reply, no reopening: 1. 329907 is still open (no reply yet) and
    its requester is contact p1 by e-mail. 301553 has no organization: left out."""
    report = imported(duck_seeded, "zendesk", fixture("zendesk-tickets.csv"))
    assert report.detected["date_order"] == "dmy"
    assert report.notes == ["left out 1 of the tickets (without an organization): rows 5"]
    assert tickets(duck_seeded) == [
        ("297732", "a1", None, T(2023, 4, 8, 20, 52), T(2023, 4, 8, 23, 45), T(2023, 6, 14, 16, 30), 22, "mail",
         "question", "low"),
        ("311457", "a2", None, T(2023, 4, 24, 19, 32), T(2023, 4, 25, 20, 59), T(2023, 5, 26, 16, 26), 1, "mail",
         "incident", "low"),
        ("329907", "a1", "p1", T(2023, 5, 16, 17, 43), None, None, None, "web form", "problem", "normal"),
    ]


def test_zendesk_json_export_one_ticket_a_line(duck_seeded, tmp_path):
    """The JSON export (NDJSON, each ticket with its metric_set inline) names organizations and
    requesters by id only: an organization id that is no account_id is an error, on the ticket's
    row; once it is one, the tickets import (the requesters, no contact_id, are not matched)."""
    path = fixture("zendesk-export.ndjson")
    expected = "expected an account of the workspace: its account_id or its exact name (import the accounts first)"
    assert refused(duck_seeded, "zendesk", path) == [
        f"{path}, row 1, column organization_id: '509974' — {expected}",
        f"{path}, row 2, column organization_id: '509974' — {expected}",
    ]
    load(duck_seeded, "accounts", _write(tmp_path, "org.csv", "account_id,name,created_at\n509974,Org,2009-01-01\n"))
    imported(duck_seeded, "zendesk", path)
    assert [t[:7] for t in tickets(duck_seeded)] == [
        ("35436", "509974", None, T(2009, 7, 20, 22, 55, 29), T(2009, 7, 22, 14, 46, 29), T(2011, 5, 9, 10, 38, 52),
         377),
        ("35437", "509974", None, T(2024, 3, 4, 10), T(2024, 3, 4, 11, 30), T(2024, 3, 4, 15), 1),
    ]


# -- Movidesk -----------------------------------------------------------------------------------
def test_movidesk_tickets_with_actions(seeded, tmp_path):
    """6309, a real ticket: its first action (14:25, origin 0) is the request; the agent's public
    reply at 20:45:14 is the first response and the only one before the resolution (1 contact); its
    client, the company FVO - ALIMENTOS, is account m1 by name. 6310: a deleted reply (09:10) and an
    internal note (09:30) do not count; the agent's public replies at 10:15 and 14:30 are before the
    resolution at 15:00, the satisfaction message at 16:00 after it: 2 contacts; the client is a
    person (contact p1 by e-mail) of the organization Padaria Pão Quente (a1). 6311 is open. 6312's
    client is a person without an organization: left out."""
    load(seeded, "accounts", _write(tmp_path, "m.csv", "account_id,name,created_at\nm1,FVO - ALIMENTOS,2023-01-01\n"))
    report = imported(seeded, "movidesk", fixture("movidesk-tickets.json"))
    assert report.notes == ["left out 1 of the tickets (without an organization): rows 4"]
    assert tickets(seeded) == [
        ("6309", "m1", None, T(2023, 6, 30, 14, 22, 39, 944286), T(2023, 6, 30, 20, 45, 14, 221969),
         T(2023, 7, 3, 14, 4, 29, 289617), 1, None, None, None),
        ("6310", "a1", "p1", T(2023, 7, 4, 9), T(2023, 7, 4, 10, 15), T(2023, 7, 4, 15), 2, "whatsapp", "dúvida",
         "alta"),
        ("6311", "a2", None, T(2023, 7, 5, 8), None, None, None, "email", "problema", "média"),
    ]


def test_tickets_without_metrics_or_actions_say_so(duck_seeded, tmp_path):
    """Plain /api/v2/tickets.json (no metric sets) and Movidesk tickets without their actions import,
    with no first response, resolution or FCR, and a note on how to export them."""
    document = json.loads((PRESETS / "zendesk-tickets.json").read_text(encoding="utf-8"))
    del document["metric_sets"]
    report = imported(duck_seeded, "zendesk", _write(tmp_path, "plain.json", json.dumps(document)))
    assert report.notes[1].startswith("no ticket has metrics (solved at, replies)")
    assert {t[4:7] for t in tickets(duck_seeded)} == {(None, None, None)}
    movidesk = [{**t, "actions": None} for t in json.loads((PRESETS / "movidesk-tickets.json").read_text())][1:3]
    report = imported(duck_seeded, "movidesk", _write(tmp_path, "movidesk.json", json.dumps(movidesk)))
    assert report.notes == ["the tickets come without their actions: expand actions($expand=createdBy) in the "
                            "export for first replies and FCR"]
    assert [t[:7] for t in tickets(duck_seeded) if t[0].startswith("63")] == [
        ("6310", "a1", "p1", T(2023, 7, 4, 9), None, T(2023, 7, 4, 15), None),
        ("6311", "a2", None, T(2023, 7, 5, 8), None, None, None)]


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- HubSpot and Salesforce ---------------------------------------------------------------------
def test_hubspot_companies_and_contacts(seeded):
    """The owner Ana Souza is CSM c1 (by name); Sam Sales is no CSM: kept in attributes. The
    employees and every other column go into attributes. Maria Johnson is associated with two
    companies: the first (primary) one counts; Priya's company is named only; Ben has none."""
    report = imported(seeded, "hubspot-companies", fixture("hubspot-companies.csv"))
    assert report.inserted == 3
    assert rows(seeded, "accounts", "account_id", "name", "csm_id", "created_at", "country", "industry", "seats",
                "attributes")[:3] == [
        ("5812354100", "HubSpot", "c1", T(2024, 2, 1, 9, 30), "United States", "Computer Software", None,
         '{"city":"Cambridge","employees":"7433","last_activity_date":"2024-05-02 14:11",'
         '"phone_number":"+1 888-482-7768"}'),
        ("5812354101", "Example Publishing", None, T(2020, 1, 10, 10), "United States", "Publishing", None,
         '{"city":"Example City","last_activity_date":"2020-01-05 10:00","owner":"Sam Sales",'
         '"phone_number":"+12025550124"}'),
        ("5812354102", "ExampleOrg", None, T(2020, 1, 10, 10), "United States", "Information Services", None,
         '{"city":"Example City","last_activity_date":"2020-01-08 10:00"}'),
    ]
    report = imported(seeded, "hubspot-contacts", fixture("hubspot-contacts.csv"))
    assert report.notes == ["left out 1 of the contacts (without a company): rows 5"]
    assert rows(seeded, "contacts")[:3] == [
        ("1", "5812354100", "Brian Halligan (Sample Contact)", "bh@hubspot.com", "CEO", T(2024, 2, 1, 9, 30)),
        ("101", "5812354101", "Priya Example", "priya@example.test", "Head of Product", T(2024, 3, 15, 11)),
        ("51", "5812354100", "Maria Johnson (Sample Contact)", "emailmaria@hubspot.com", "Salesperson",
         T(2024, 2, 1, 9, 30)),
    ]


def test_salesforce_accounts_and_contacts(seeded, tmp_path):
    """Data Loader exports: the owner 005i0000001HQEUAA4 is a CSM's csm_id; 005i0000001HQEZAA4 is
    no CSM, so Grand Hotels keeps the CSM it had (c2) and the owner goes into attributes. API names
    of the other columns are spelled apart (AnnualRevenue → annual_revenue)."""
    load(seeded, "csms", _write(tmp_path, "sf.csv", "csm_id,name,role\n005i0000001HQEUAA4,Sales Rep,csm\n"))
    load(seeded, "accounts", _write(tmp_path, "gh.csv", "account_id,name,created_at,csm_id\n"
                                                        "001i000000JEw0cAAD,Grand Hotels,2013-01-01,c2\n"))
    report = imported(seeded, "salesforce-accounts", fixture("salesforce-accounts.csv"))
    assert (report.inserted, report.updated) == (4, 1)
    edge, grand = "001i000000JEw0YAAT", "001i000000JEw0cAAD"
    accounts = {r[0]: r[1:] for r in rows(seeded, "accounts", "account_id", "name", "csm_id", "created_at",
                                          "country", "industry", "attributes")}
    assert accounts[edge] == (
        "Edge Communications", "005i0000001HQEUAA4", T(2013, 5, 14, 18, 21, 9), "USA", "Electronics",
        '{"account_number":"CD451796","annual_revenue":"139000000","employees":"1000","phone":"(512) 757-6000",'
        '"type":"Customer - Direct","website":"http://edgecomm.com"}')
    assert accounts[grand][1] == "c2" and json.loads(accounts[grand][5])["owner"] == "005i0000001HQEZAA4"
    report = imported(seeded, "salesforce-contacts", fixture("salesforce-contacts.csv"))
    assert report.notes == ["left out 1 of the contacts (without a company): rows 6"]
    assert rows(seeded, "contacts", "contact_id", "account_id", "name", "email", "role")[:2] == [
        ("003i000000Ig0gFAAR", edge, "Rose Gonzalez", "rose@edge.com", "SVP, Procurement"),
        ("003i000000Ig0gGAAR", edge, "Sean Forbes", "sean@edge.com", "CFO"),
    ]


# -- every source: a second import changes nothing ----------------------------------------------
CASES = [  # (source, fixture, what must be imported first)
    ("zendesk", "zendesk-tickets.json", []),
    ("zendesk", "zendesk-tickets.csv", []),
    ("movidesk", "movidesk-tickets.json", [("accounts", "account_id,name,created_at\nm1,FVO - ALIMENTOS,2023-01-01")]),
    ("hubspot-companies", "hubspot-companies.csv", []),
    ("hubspot-contacts", "hubspot-contacts.csv", [("hubspot-companies", "hubspot-companies.csv")]),
    ("salesforce-accounts", "salesforce-accounts.csv", []),
    ("salesforce-contacts", "salesforce-contacts.csv", [("salesforce-accounts", "salesforce-accounts.csv")]),
]


@pytest.mark.parametrize("source, name, first", CASES, ids=[f"{s}:{n}" for s, n, _ in CASES])
def test_a_second_import_changes_nothing(duck_seeded, tmp_path, source, name, first):
    for what, content in first:
        if what in SOURCES:
            imported(duck_seeded, what, fixture(content))
        else:
            load(duck_seeded, what, _write(tmp_path, f"{what}.csv", content))
    once = imported(duck_seeded, source, fixture(name))
    before = snapshot(duck_seeded)
    again = imported(duck_seeded, source, fixture(name))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, once.inserted + once.updated)
    assert snapshot(duck_seeded) == before


# -- malformed exports: refused, naming the file's row and column, nothing written -------------
ZENDESK_CSV = (PRESETS / "zendesk-tickets.csv").read_text(encoding="utf-8")


def test_a_missing_required_column(duck_seeded, tmp_path):
    path = _write(tmp_path, "zendesk.csv", ZENDESK_CSV.replace("Created at,", "Opened,", 1))
    [problem] = refused(duck_seeded, "zendesk", path)
    assert problem.startswith(f"{path}: no column 'Created at'") and "Opened" in problem


def test_a_date_that_is_none(duck_seeded, tmp_path):
    path = _write(tmp_path, "zendesk.csv", ZENDESK_CSV.replace("24-04-2023 19:32", "32-04-2023 19:32"))
    assert refused(duck_seeded, "zendesk", path) == [
        f"{path}, row 3, column Created at: '32-04-2023 19:32' — expected a date like 31/12/2024 or 2024-12-31 "
        "(optionally with a time)"]


def test_an_unknown_organization_and_a_negative_reply_time(duck_seeded, tmp_path):
    text = ZENDESK_CSV.replace(",Oficina Bom Motor,", ",Oficina Sem Conta,").replace(",173,173,", ",-5,173,")
    path = _write(tmp_path, "zendesk.csv", text)
    assert refused(duck_seeded, "zendesk", path) == [
        f"{path}, row 2, column First reply time in minutes: '-5' — expected a value of at least 0",
        f"{path}, row 3, column Organization: 'Oficina Sem Conta' — expected an account of the workspace: "
        "its account_id or its exact name (import the accounts first)",
    ]


def test_a_name_two_accounts_share_finds_neither(duck_seeded, tmp_path):
    load(duck_seeded, "accounts", _write(tmp_path, "twin.csv", "account_id,name,created_at\na9,Oficina Bom Motor,"
                                                                "2023-01-01\n"))
    problems = refused(duck_seeded, "zendesk", fixture("zendesk-tickets.csv"))
    assert problems == [f"{fixture('zendesk-tickets.csv')}, row 3, column Organization: 'Oficina Bom Motor' — "
                        "expected a name only one account has (2 accounts are named so: give the account_id)"]


def test_movidesk_an_action_with_a_bad_date(seeded, tmp_path):
    tickets_ = json.loads((PRESETS / "movidesk-tickets.json").read_text(encoding="utf-8"))
    tickets_[1]["actions"][3]["createdDate"] = "2023-07-04T25:15:00"
    path = _write(tmp_path, "movidesk.json", json.dumps(tickets_))
    assert refused(seeded, "movidesk", path) == [  # every problem at once: FVO - ALIMENTOS is no account here
        f"{path}, row 1, column clients: 'FVO - ALIMENTOS' — expected an account of the workspace: its account_id "
        "or its exact name (import the accounts first)",
        f"{path}, row 2, column actions.createdDate: '2023-07-04T25:15:00' — expected a date like 31/12/2024 or "
        "2024-12-31 (optionally with a time)"]


def test_crm_contacts_of_an_unknown_company_and_without_an_id(duck_seeded, tmp_path):
    path = _write(tmp_path, "contacts.csv", '"Record ID","First Name","Associated Company IDs"\n'
                                            '"1","Ana","999"\n"","Bia","a1"\n')
    assert refused(duck_seeded, "hubspot-contacts", path) == [
        f"{path}, row 2, column Associated Company IDs: '999' — expected an account of the workspace: its account_id "
        "or its exact name (import the accounts first)",
        f"{path}, row 3, column Record ID: (empty) — expected a value (this column is required)",
    ]
    path = _write(tmp_path, "accounts.csv", "Name,Industry\nEdge,Electronics\n")
    [problem] = refused(duck_seeded, "salesforce-accounts", path)
    assert problem.startswith(f"{path}: no column 'Id' (also read as: Account ID, Account.Id)")


def test_a_new_account_without_its_creation_date(duck_seeded, tmp_path):
    """The importer's own checks still apply, naming the export's columns."""
    path = _write(tmp_path, "companies.csv", '"Record ID","Company name"\n"77","Nova"\n')
    assert refused(duck_seeded, "hubspot-companies", path) == [
        f"{path}, row 2, column created_at: (empty) — expected a created_at column (77 is a new row and "
        "created_at is required)"]


def test_files_that_are_not_exports(duck_seeded, tmp_path):
    broken = _write(tmp_path, "zendesk.json", '{"tickets": [')
    assert refused(duck_seeded, "zendesk", broken) == [f"{broken}: not valid JSON: Expecting value at line 1 column 14"]
    other = _write(tmp_path, "movidesk.json", '[{"id": 1, "subject": "no dates"}]')
    assert refused(duck_seeded, "movidesk", other) == [f"{other}: these are not Movidesk tickets (no createdDate)"]
    assert refused(duck_seeded, "zendesk", fixture("zendesk-tickets.csv"), mapping={"Id": "ticket_id"}) == [
        f"{fixture('zendesk-tickets.csv')}: the zendesk preset maps the columns itself; --map does not apply"]


# -- the surfaces -------------------------------------------------------------------------------
def test_the_command_line(tmp_path, monkeypatch):
    from sucesso.cli import app

    monkeypatch.setenv("COLUMNS", "250")
    db = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    seed = _write(tmp_path, "accounts.csv", "account_id,name,created_at\na1,Padaria Pão Quente,2023-01-10\n"
                                            "a2,Oficina Bom Motor,2023-02-20\n")
    assert runner.invoke(app, ["import", "accounts", seed, "--db", db]).exit_code == 0
    done = runner.invoke(app, ["--lang", "en", "import", "zendesk", fixture("zendesk-tickets.json"), "--db", db])
    assert done.exit_code == 0, done.output
    assert "│ zendesk-tickets.json │ tickets │ 4 " in done.stdout and "left out 1 of the tickets" in done.stdout
    bad = _write(tmp_path, "z.csv", ZENDESK_CSV.replace(",Oficina Bom Motor,", ",Ninguém,"))
    refused_ = runner.invoke(app, ["--lang", "en", "import", "zendesk", bad, "--db", db])
    assert refused_.exit_code == 1 and "row 3, column Organization: 'Ninguém'" in refused_.output


def test_the_web_api(tmp_path):
    from fastapi.testclient import TestClient

    from sucesso.store import open_store
    from sucesso.web import users
    from sucesso.web.app import create_app

    url = str(tmp_path / "ws.duckdb")
    with open_store(url) as store:
        load(store, "accounts", _write(tmp_path, "a.csv", "account_id,name,created_at\na1,Padaria Pão Quente,"
                                                           "2023-01-10\na2,Oficina Bom Motor,2023-02-20\n"))
        admin = users.create_user(store, "admin@example.com", "admin", "a long enough password")
        token = users.create_token(store, admin, "ci", "ingest")[1]
    client = TestClient(create_app(url, precompute_in_background=False))
    auth = {"Authorization": f"Bearer {token}"}

    def post(source: str, name: str, content: bytes):
        return client.post(f"/api/import/{source}", files={"file": (name, content)}, headers=auth)

    csv = (PRESETS / "zendesk-tickets.csv").read_bytes()
    bad = post("zendesk", "tickets.csv", csv.replace(b",Oficina Bom Motor,", b",Nobody,"))
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["row"] == 3 and bad.json()["problems"][0]["column"] == "Organization"
    assert bad.json()["problems"][0]["message"].startswith("tickets.csv, row 3, column Organization")
    good = post("zendesk", "tickets.csv", csv)
    assert good.status_code == 200 and good.json()["inserted"] == 3 and good.json()["table"] == "tickets"
    assert post("zendesk", "tickets.csv", csv).json()["unchanged"] == 3
    assert post("nope", "tickets.csv", csv).status_code == 404

