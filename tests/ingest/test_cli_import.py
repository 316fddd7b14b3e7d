"""`sucesso import`, `sucesso export` and `sucesso presets` as a person types them.

Exit codes: 0 written, 1 the data was refused (problems listed), 2 the command was wrong.
"""

from __future__ import annotations

import csv
import re

import pytest
from ingest_helpers import REFERENCE, rows, snapshot
from typer.testing import CliRunner

from sucesso.cli import SHOWN_PROBLEMS, app
from sucesso.store import get_setting, open_store, set_setting

CSMS = "csm_id;name;role\nc1;Ana Souza;csm\nc2;Bruno Lima;manager\n"


@pytest.fixture
def sucesso(tmp_path, monkeypatch):
    """Run the command against the workspace tmp_path/ws.duckdb (unless --db is given)."""
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping of long problem lines
    runner = CliRunner()

    def run(*args: str):
        argv = list(args) if "--db" in args else [*args, "--db", str(tmp_path / "ws.duckdb")]
        return runner.invoke(app, argv)

    return run


@pytest.fixture
def workspace(tmp_path):
    def opened():
        return open_store(str(tmp_path / "ws.duckdb"))

    return opened


def summary(result) -> list[list[str]]:
    """The rows of the printed import table: file, table, inserted, updated, unchanged, rejected."""
    return [[cell.strip() for cell in line.strip("│ ").split("│")]
            for line in result.stdout.splitlines() if line.startswith("│")]


def test_import_a_file(sucesso, write, workspace):
    result = sucesso("import", "csms", write("equipe.csv", CSMS))
    assert result.exit_code == 0, result.output
    assert summary(result) == [["equipe.csv", "csms", "2", "0", "0", "0"]]
    with workspace() as store:
        assert rows(store, "csms", "csm_id", "name") == [("c1", "Ana Souza"), ("c2", "Bruno Lima")]


def test_import_the_same_file_again(sucesso, write):
    path = write("equipe.csv", CSMS)
    sucesso("import", "csms", path)
    result = sucesso("import", "csms", path)
    assert result.exit_code == 0
    assert summary(result) == [["equipe.csv", "csms", "0", "0", "2", "0"]]


def test_a_refused_file_lists_its_problems_and_writes_nothing(sucesso, write, workspace):
    path = write("equipe.csv", CSMS + "c3;;chefe\n")
    result = sucesso("import", "csms", path)
    assert result.exit_code == 1
    assert summary(result) == [["equipe.csv", "csms", "0", "0", "0", "1"]]
    assert f"{path}, row 4, column name: (empty) — expected a value (this column is required)" in result.stderr
    assert f"{path}, row 4, column role: 'chefe' — expected one of: csm, ism, farmer, manager, support" \
        in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.output
    with workspace() as store:
        assert store.count("csms") == 0


def many_problems(write, n: int) -> str:
    return write("equipe.csv", "csm_id,name,role\n" + "".join(f"c{i},CSM {i},chefe\n" for i in range(n)))


def test_the_first_fifty_problems_are_shown(sucesso, write, tmp_path):
    result = sucesso("import", "csms", many_problems(write, SHOWN_PROBLEMS + 10))
    shown = [line.strip() for line in result.stderr.splitlines() if "expected one of" in line]
    assert len(shown) == SHOWN_PROBLEMS == 50
    assert shown[0].startswith(f"{tmp_path / 'equipe.csv'}, row 2, column role: 'chefe'")
    assert shown[-1].startswith(f"{tmp_path / 'equipe.csv'}, row 51, column role: 'chefe'")
    assert "… and 10 more (see them all with --errors-file PATH)" in result.stderr


def test_errors_file_holds_every_problem(sucesso, write, tmp_path):
    errors = tmp_path / "problemas.csv"
    result = sucesso("import", "csms", many_problems(write, 60), "--errors-file", str(errors))
    assert result.exit_code == 1
    assert f"all 60 problems written to {errors}" in result.stderr
    assert errors.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheet apps
    with open(errors, encoding="utf-8-sig", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert len(listed) == 60
    assert listed[-1] == {"file": str(tmp_path / "equipe.csv"), "row": "61", "column": "role", "value": "chefe",
                          "expected": "one of: csm, ism, farmer, manager, support"}


def test_errors_file_for_a_file_refused_as_a_whole(sucesso, write, tmp_path):
    errors = tmp_path / "problemas.csv"
    result = sucesso("import", "csms", write("equipe.csv", ""), "--errors-file", str(errors))
    assert result.exit_code == 1
    assert "equipe.csv: the file is empty" in result.stderr
    with open(errors, encoding="utf-8-sig", newline="") as fh:
        assert [r["expected"] for r in csv.DictReader(fh)] == ["the file is empty"]


def test_skip_invalid(sucesso, write, tmp_path, workspace):
    result = sucesso("import", "csms", write("equipe.csv", CSMS + "c3;Caio;chefe\n"), "--skip-invalid")
    assert result.exit_code == 0
    assert summary(result) == [["equipe.csv", "csms", "2", "0", "0", "1"]]
    assert f"rejected rows saved to {tmp_path / 'equipe.rejected.csv'}" in result.stdout
    assert (tmp_path / "equipe.rejected.csv").exists()
    with workspace() as store:
        assert store.count("csms") == 2


def test_hostile_files_give_an_error_not_a_traceback(sucesso, write):
    for name, content in [("a.csv", b"\x00\x01\x02garbage"), ("b.xlsx", b"PK\x03\x04broken"),
                          ("c.parquet", b"PAR1broken"), ("d.json", b"{"), ("e.csv", b"csm_id,name,role\n")]:
        result = sucesso("import", "csms", write(name, content))
        assert result.exit_code == 1, name
        assert isinstance(result.exception, SystemExit), name
        assert "Traceback" not in result.output
        assert f"{name}: " in result.stderr


# -- parsing options ---------------------------------------------------------------------
def seed_accounts(sucesso, write):
    result = sucesso("import", "accounts", write("contas.csv", "account_id,name,created_at\na1,Padaria,2023-01-10\n"))
    assert result.exit_code == 0, result.output


def test_decimal_and_date_format_options(sucesso, write, workspace):
    seed_accounts(sucesso, write)
    path = write("assinaturas.csv", "subscription_id;account_id;mrr;started_at\ns1;a1;1.500;01/02/2024\n")
    refused = sucesso("import", "subscriptions", path)
    assert refused.exit_code == 1
    assert "say which with --decimal comma|dot" in refused.stderr
    result = sucesso("import", "subscriptions", path, "--decimal", "comma", "--date-format", "dd/mm/yyyy")
    assert result.exit_code == 0, result.output
    with workspace() as store:
        assert [(str(m), str(t)) for m, t in rows(store, "subscriptions", "mrr", "started_at")] == [
            ("1500.00", "2024-02-01 00:00:00")]


def test_encoding_delimiter_and_format_options(sucesso, write, workspace):
    path = write("equipe.dat", "csm_id\tname\trole\nc1\tJoão\tcsm\n", encoding="latin-1")
    result = sucesso("import", "csms", path, "--format", "csv", "--delimiter", "tab", "--encoding", "latin-1")
    assert result.exit_code == 0, result.output
    with workspace() as store:
        assert rows(store, "csms", "name") == [("João",)]


def test_sheet_option(sucesso, tmp_path, workspace):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["instruções"])
    book.create_sheet("CSMs").append(["csm_id", "name", "role"])
    book["CSMs"].append(["c1", "Ana", "csm"])
    book.save(tmp_path / "equipe.xlsx")
    result = sucesso("import", "csms", str(tmp_path / "equipe.xlsx"), "--sheet", "CSMs")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, message", [
    (("--decimal", "semicolon"), "--decimal must be 'comma' (1.234,56) or 'dot' (1,234.56), not 'semicolon'"),
    (("--date-format", "31-12"), "--date-format must be like dd/mm/yyyy, mm/dd/yyyy or yyyy-mm-dd, not '31-12'"),
    (("--map", "codigo"), "--map expects SOURCE=COLUMN, got 'codigo'"),
])
def test_mistyped_options_are_refused(args, message, sucesso, write):
    result = sucesso("import", "csms", write("equipe.csv", CSMS), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_unknown_table(sucesso, write):
    result = sucesso("import", "clientes", write("clientes.csv", CSMS))
    assert result.exit_code == 2
    assert "unknown table 'clientes'; the tables are: csms, accounts," in result.stderr


def test_a_file_without_a_table(sucesso, write):
    result = sucesso("import", write("equipe.csv", CSMS))
    assert result.exit_code == 2
    assert "is not a folder; to import a file say the table: sucesso import TABLE FILE" in result.stderr


def test_map_is_repeatable(sucesso, write, workspace):
    path = write("equipe.csv", "Código;Nome;Função\nc1;Ana;csm\n")
    result = sucesso("import", "csms", path, "--map", "Código=csm_id", "--map", "Nome=name", "--map", "Função=role")
    assert result.exit_code == 0, result.output
    with workspace() as store:
        assert rows(store, "csms", "csm_id", "name", "role") == [("c1", "Ana", "csm")]


def test_the_dbt_subscription_periods_with_map(sucesso, write, workspace):
    customers = sorted({line.split(",")[1] for line in
                        (REFERENCE / "dbt_mrr_playbook_subscription_periods.csv").read_text().splitlines()[1:]})
    accounts = write("customers.csv", "account_id,name,created_at\n"
                     + "".join(f"{c},Customer {c},2017-01-01\n" for c in customers))
    assert sucesso("import", "accounts", accounts).exit_code == 0
    result = sucesso("import", "subscriptions", str(REFERENCE / "dbt_mrr_playbook_subscription_periods.csv"),
                     "--map", "customer_id=account_id", "--map", "start_date=started_at",
                     "--map", "end_date=ended_at", "--map", "monthly_amount=mrr")
    assert result.exit_code == 0, result.output
    assert summary(result) == [["dbt_mrr_playbook_subscription_periods.csv", "subscriptions", "121", "0", "0", "0"]]
    with workspace() as store:
        assert store.fetchall("SELECT count(*), count(DISTINCT account_id), sum(mrr) FROM subscriptions") == [
            (121, 55, 5205)]


# -- presets -----------------------------------------------------------------------------
ERP = "Código;Nome;Função;Valor\nc1;Ana;csm;1.234,56\nc2;Bruno;ism;10,00\n"
ERP_MAPS = ("--map", "Código=csm_id", "--map", "Nome=name", "--map", "Função=role")


def test_save_a_preset_and_use_it(sucesso, write, workspace):
    first = sucesso("import", "csms", write("erp1.csv", ERP), *ERP_MAPS, "--save-preset", "erp")
    assert first.exit_code == 0, first.output
    assert "preset 'erp' saved" in first.stdout
    second = sucesso("import", "--preset", "erp", write("erp2.csv", ERP.replace("Bruno", "Bruno Lima")))
    assert second.exit_code == 0, second.output
    assert summary(second) == [["erp2.csv", "csms", "0", "1", "1", "0"]]
    with workspace() as store:
        assert rows(store, "csms", "name") == [("Ana",), ("Bruno Lima",)]


def test_a_refused_import_saves_no_preset(sucesso, write):
    result = sucesso("import", "csms", write("erp.csv", ERP.replace(";csm;", ";chefe;")), *ERP_MAPS,
                     "--save-preset", "erp")
    assert result.exit_code == 1
    assert "erp" not in sucesso("presets", "list").stdout


def test_command_line_options_add_to_the_preset(sucesso, write, workspace):
    sucesso("import", "csms", write("erp1.csv", ERP), "--map", "Código=csm_id", "--map", "Nome=name",
            "--map", "Função=role", "--save-preset", "erp")
    renamed = ERP.replace("Nome;", "Nome completo;").replace("Ana;", "Ana Souza;")
    result = sucesso("import", "--preset", "erp", write("erp2.csv", renamed), "--map", "Nome completo=name")
    assert result.exit_code == 0, result.output
    with workspace() as store:
        assert rows(store, "csms", "name")[0] == ("Ana Souza",)


def test_presets_list_and_delete(sucesso, write):
    sucesso("import", "csms", write("erp.csv", ERP), *ERP_MAPS, "--save-preset", "erp")
    listed = sucesso("presets", "list")
    assert listed.exit_code == 0
    assert re.search(r"│ erp\s+│ csms\s+│ .*Código", listed.stdout)
    deleted = sucesso("presets", "delete", "erp")
    assert (deleted.exit_code, deleted.stdout.strip()) == (0, "preset 'erp' deleted")
    again = sucesso("presets", "delete", "erp")
    assert again.exit_code == 2
    assert "no preset named 'erp'" in again.stderr


def test_an_unknown_preset(sucesso, write):
    result = sucesso("import", "--preset", "erp", write("erp.csv", ERP))
    assert result.exit_code == 2
    assert "no import preset with this name (presets: none saved yet)" in result.stderr


# -- export and import DIR ---------------------------------------------------------------
def test_export_then_import_the_folder(sucesso, write, tmp_path, workspace):
    seed_accounts(sucesso, write)
    sucesso("import", "csms", write("equipe.csv", CSMS))
    sucesso("import", "subscriptions",
            write("subs.csv", "subscription_id;account_id;mrr;started_at\ns1;a1;1.234,56;31/01/2024\n"))
    with workspace() as store:
        set_setting(store, "currency", "EUR")
        expected = snapshot(store)
    exported = sucesso("export", str(tmp_path / "backup"))
    assert exported.exit_code == 0
    assert exported.stdout.strip() == f"exported 4 rows in 15 tables to {tmp_path / 'backup'}"

    restored_db = str(tmp_path / "restored.duckdb")
    result = sucesso("import", str(tmp_path / "backup"), "--db", restored_db)
    assert result.exit_code == 0, result.output
    assert [r[1:3] for r in summary(result) if r[2] != "0"] == [["csms", "2"], ["accounts", "1"],
                                                                 ["subscriptions", "1"]]
    with open_store(restored_db) as restored:
        assert snapshot(restored) == expected
        assert get_setting(restored, "currency") == "EUR"
