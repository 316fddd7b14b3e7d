"""A date that is no day of the calendar in either order (32/13/2024) is a problem of its row —
file, row, column, value, what was expected — not evidence about the file's order of day and
month. A rejected import writes nothing."""

from __future__ import annotations

import datetime as dt

from ingest_helpers import messages, options, rows
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.ingest import Problem, import_file
from sucesso.ingest.parse import readings

HEADER = "account_id;name;created_at\n"
EITHER_ORDER = "a date as dd/mm/yyyy or mm/dd/yyyy, or yyyy-mm-dd (optionally with a time)"
AMBIGUOUS = ("a date like '01/02/2024' could be day/month or month/day; say which with --date-format dd/mm/yyyy "
             "or mm/dd/yyyy")


def test_readings_of_a_slashed_date():
    assert readings("01/02/2024") == {"dmy", "mdy"}
    assert readings("13/02/2024") == {"dmy"} and readings("02/13/24") == {"mdy"}
    assert readings("32/13/2024") == set() and readings("31/02/2024") == set()
    assert readings("29/02/2024 10:30") == {"dmy"} and readings("29/02/2023") == set()  # 2024 is a leap year


def test_an_impossible_date_among_ambiguous_ones_is_named_on_its_row(duck, write):
    path = write("contas.csv", HEADER + "a1;Padaria;01/02/2024\na2;Oficina;32/13/2024\n")
    report = import_file(duck, "accounts", path)
    assert report.problems == [Problem(path, None, "", None, AMBIGUOUS),
                               Problem(path, 3, "created_at", "32/13/2024", EITHER_ORDER)]
    assert f"{path}, row 3, column created_at: '32/13/2024' — expected {EITHER_ORDER}" in messages(report)
    assert not any("day-first" in m for m in messages(report))
    assert not report.written and duck.count("accounts") == 0


def test_skip_invalid_does_not_guess_the_order_of_the_other_dates(duck, write):
    path = write("contas.csv", HEADER + "a1;Padaria;01/02/2024\na2;Oficina;32/13/2024\n")
    report = import_file(duck, "accounts", path, options(skip_invalid=True))
    assert [p.row for p in report.problems] == [None, 3]
    assert not report.written and duck.count("accounts") == 0


def test_with_the_order_known_only_the_impossible_row_is_refused(duck, write):
    path = write("contas.csv", HEADER + "a1;Padaria;01/02/2024\na2;Oficina;32/13/2024\na3;Loja;25/12/2024\n")
    report = import_file(duck, "accounts", path)
    assert report.problems == [Problem(path, 3, "created_at", "32/13/2024",
                                       "a date like 31/12/2024 or 2024-12-31 (optionally with a time)")]
    assert duck.count("accounts") == 0
    kept = import_file(duck, "accounts", path, options(skip_invalid=True))
    assert kept.rejected == 1 and kept.inserted == 2
    assert rows(duck, "accounts", "account_id", "created_at") == [("a1", dt.datetime(2024, 2, 1)),
                                                                   ("a3", dt.datetime(2024, 12, 25))]


def test_the_command_line_names_the_row(duckdb_url, write, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one problem a line, whatever the terminal
    path = write("contas.csv", HEADER + "a1;Padaria;01/02/2024\na2;Oficina;32/13/2024\n")
    done = CliRunner().invoke(app, ["import", "accounts", path, "--db", duckdb_url])
    assert done.exit_code == 1
    assert "row 3, column created_at: '32/13/2024'" in done.output and "--date-format" in done.output
    assert "nothing was written: fix the file\n" in done.output  # --skip-invalid would not get past the order
