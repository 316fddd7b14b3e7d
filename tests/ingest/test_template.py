"""The spreadsheet template (`sucesso template`): a README documenting every column, a sheet per
table with its headers in English or Portuguese, drop-down lists for the fixed values, example
rows that import as they are; filled in, each sheet imports with `sucesso import TABLE FILE
--sheet SHEET`, and the whole workbook with `sucesso import workbook FILE`."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from ingest_helpers import rows, snapshot
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.ingest.headers import canonical_name, header, sheet_name
from sucesso.ingest.parse import FALSE, TRUE
from sucesso.ingest.sources import import_source
from sucesso.ingest.template import BOOLEANS, EXAMPLES, description, write_template
from sucesso.store import open_store
from sucesso.store.schema import CANONICAL
from sucesso.store.schema import table as table_named

LANGUAGES = ("en", "pt_BR")


@pytest.fixture
def sucesso(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()
    db = str(tmp_path / "ws.duckdb")

    def run(*args: str):
        return runner.invoke(app, ["--lang", "en", *args, *(["--db", db] if args[0] == "import" else [])])

    run.db = db
    return run


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_workbook_documents_every_column(tmp_path, language):
    path = str(tmp_path / "template.xlsx")
    write_template(path, language)
    book = openpyxl.load_workbook(path)
    readme = "LEIA-ME" if language == "pt_BR" else "README"
    assert book.sheetnames == [readme, *(sheet_name(t, language) for t in CANONICAL)]
    documented = {(r[0], r[1]): r for r in book[readme].iter_rows(values_only=True) if r[1]}
    for table in CANONICAL:
        sheet = book[sheet_name(table, language)]
        assert [c.value for c in sheet[1]] == [header(table, c.name, language) for c in table.columns]
        assert sheet.max_row == 1 + len(EXAMPLES[table.name])
        for col in table.columns:
            _sheet, _column, kind, required, allowed, _example, text = documented[(sheet.title, header(
                table, col.name, language))]
            assert kind and text and required in (("sim", "não") if language == "pt_BR" else ("yes", "no"))
            if col.enum:
                assert allowed == ", ".join(col.enum)
    accounts = book[sheet_name(table_named("accounts"), language)]
    lists = {str(v.sqref): v.formula1 for v in accounts.data_validations.dataValidation}
    assert lists == {"F2:F5001": '"high,low,tech"'}  # touch_model
    csms = book["csms"]
    assert {str(v.sqref): v.formula1 for v in csms.data_validations.dataValidation} == {
        "D2:D5001": '"csm,ism,farmer,manager,support"', "E2:E5001": '"' + ",".join(BOOLEANS[language]) + '"'}


def test_every_column_has_a_description_and_portuguese_headers_read_back():
    for table in CANONICAL:
        portuguese = [header(table, c.name, "pt_BR") for c in table.columns]
        assert len(set(portuguese)) == len(portuguese), table.name
        for col in table.columns:
            assert description(table, col.name), f"{table.name}.{col.name}"
            assert canonical_name(table, header(table, col.name, "pt_BR")) == col.name
            assert canonical_name(table, col.name.replace("_", " ").title()) == col.name
    assert BOOLEANS["pt_BR"][0] in TRUE and BOOLEANS["pt_BR"][1] in FALSE and BOOLEANS["en"][1] in FALSE


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_template_imports_as_it_is(store_url, tmp_path, language):
    """On both engines: every example row lands, the same in either language; again: unchanged."""
    path = str(tmp_path / "template.xlsx")
    write_template(path, language)
    with open_store(store_url) as store:
        reports = import_source(store, "workbook", path)
        assert [(r.table, r.inserted) for r in reports] == [(t.name, len(EXAMPLES[t.name])) for t in CANONICAL]
        assert rows(store, "survey_responses", "response_id", "score", "scale_min", "scale_max") == [
            ("r1", 9.0, 0, 10), ("r2", 4.0, 1, 5)]  # NPS's scale filled in
        assert rows(store, "csms", "csm_id", "active") == [("c1", True), ("c2", True)]
        assert rows(store, "acquisition_spend") == [(dt.date(2024, 5, 1), "events", 800), (dt.date(2024, 5, 1),
                                                                                            "google_ads", 1500)]
        before = snapshot(store)
        again = import_source(store, "workbook", path)
        assert all(r.inserted == r.updated == 0 for r in again) and snapshot(store) == before


def fill(path: str, language: str) -> None:
    """A team's rows: a third account, its contact and a ticket, typed as people type (text dates)."""
    book = openpyxl.load_workbook(path)
    day = "31/05/2024 08:15" if language == "pt_BR" else "2024-05-31 08:15"
    book[sheet_name(table_named("accounts"), language)].append(
        ["a3", "Mercado Bom Preço", "SMB", "Pro", "c1", "high", day, "BR", "Retail", 12, None])
    book[sheet_name(table_named("contacts"), language)].append(
        ["p3", "a3", "Rita Melo", "rita@bompreco.example", "Owner", day])
    book[sheet_name(table_named("tickets"), language)].append(
        ["t3", "a3", "p3", day, None, None, None, "phone", "onboarding", "low"])
    book.save(path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_filled_in_each_sheet_imports_with_the_import_command(sucesso, tmp_path, language):
    path = str(tmp_path / f"template-{language}.xlsx")
    assert sucesso("template", "--lang", language, "--out", path).exit_code == 0
    fill(path, language)
    for name in ("csms", "accounts", "contacts", "tickets"):
        sheet = sheet_name(table_named(name), language)
        done = sucesso("import", name, path, "--sheet", sheet)
        assert done.exit_code == 0, done.output
    with open_store(sucesso.db) as store:
        assert rows(store, "accounts", "account_id", "touch_model", "created_at", "seats")[-1] == (
            "a3", "high", dt.datetime(2024, 5, 31, 8, 15), 12)
        assert rows(store, "tickets", "ticket_id", "account_id", "contact_id", "opened_at", "channel")[-1] == (
            "t3", "a3", "p3", dt.datetime(2024, 5, 31, 8, 15), "phone")


def test_a_bad_row_in_one_sheet_writes_no_sheet(sucesso, tmp_path):
    """The whole workbook in one transaction: a problem names the sheet, row and column."""
    path = str(tmp_path / "modelo.xlsx")
    write_template(path, "pt_BR")
    book = openpyxl.load_workbook(path)
    book["chamados"].append(["t9", "a1", None, "31/02/2024 10:00"])
    book.save(path)
    done = sucesso("import", "workbook", path)
    assert done.exit_code == 1
    assert f"{path}, sheet chamados, row 4, column Aberto em: '31/02/2024 10:00'" in done.output
    with open_store(sucesso.db) as store:
        assert all(store.count(t.name) == 0 for t in CANONICAL)


def test_the_template_command_names_the_file_in_its_language(sucesso, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = sucesso("template", "--lang", "pt_BR")
    assert done.exit_code == 0 and (tmp_path / "sucesso-modelo.xlsx").exists()
    assert "sucesso import workbook sucesso-modelo.xlsx" in done.output.replace("\n", " ")
    assert sucesso("template").exit_code == 0 and (tmp_path / "sucesso-template.xlsx").exists()
    assert sucesso("template", "--out", str(tmp_path / "no" / "such" / "folder.xlsx")).exit_code == 2
