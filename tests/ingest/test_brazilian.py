"""Spreadsheets as Brazilian teams export them: `;`, decimal comma, dd/mm/yyyy, Windows encodings.

What the file settles is detected; what it leaves open is asked for (--decimal,
--date-format, --encoding), never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import openpyxl
import pytest
from ingest_helpers import load, messages, only_problem, options, rows

from sucesso.ingest import import_file
from sucesso.ingest.parse import parse_date_format, parse_decimal_option

HEADER = "subscription_id;account_id;mrr;started_at;ended_at\n"


def subscriptions(store, write, body: str, **opts):
    return import_file(store, "subscriptions", write("assinaturas.csv", HEADER + body), options(**opts))


def test_a_brazilian_export_is_read_without_options(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;1.234,56;31/12/2023;\ns2;a2;89,9;01/02/2024;15/03/2024\n")
    assert not report.problems
    assert rows(duck_seeded, "subscriptions", "subscription_id", "mrr", "started_at", "ended_at") == [
        ("s1", Decimal("1234.56"), dt.datetime(2023, 12, 31), None),
        ("s2", Decimal("89.90"), dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 15)),
    ]
    assert {k: report.detected[k] for k in ("delimiter", "decimal", "date_order")} == {
        "delimiter": ";", "decimal": "comma", "date_order": "dmy"}


def test_an_american_export_is_read_without_options(duck_seeded, write):
    text = "subscription_id,account_id,mrr,started_at\ns1,a1,\"1,234.56\",12/31/2023\ns2,a2,89.9,02/01/2024\n"
    report = load(duck_seeded, "subscriptions", write("subs.csv", text))
    assert rows(duck_seeded, "subscriptions", "mrr", "started_at") == [
        (Decimal("1234.56"), dt.datetime(2023, 12, 31)), (Decimal("89.90"), dt.datetime(2024, 2, 1))]
    assert (report.detected["decimal"], report.detected["date_order"]) == ("dot", "mdy")


@pytest.mark.parametrize("written, amount", [
    ("1.234,56", "1234.56"),
    ("R$ 1.234,56", "1234.56"),
    ("R$1.234.567,8", "1234567.80"),
    ("1\u00a0234,56", "1234.56"),  # a non-breaking space groups thousands
    ("0,5", "0.50"),
    ("1.500.000", "1500000.00"),  # two dots can only group thousands
])
def test_amounts_written_the_brazilian_way(written, amount, duck_seeded, write):
    load(duck_seeded, "subscriptions", write("s.csv", HEADER + f"s1;a1;{written};2024-01-01;\n"))
    assert rows(duck_seeded, "subscriptions", "mrr") == [(Decimal(amount),)]


@pytest.mark.parametrize("written, moment", [
    ("31/12/2024", dt.datetime(2024, 12, 31)),
    ("31/12/2024 14:30", dt.datetime(2024, 12, 31, 14, 30)),
    ("31/12/2024 14:30:15", dt.datetime(2024, 12, 31, 14, 30, 15)),
    ("31.12.2024", dt.datetime(2024, 12, 31)),
    ("31-12-2024", dt.datetime(2024, 12, 31)),
    ("2024-12-31", dt.datetime(2024, 12, 31)),
    ("2024-12-31T14:30:00-03:00", dt.datetime(2024, 12, 31, 17, 30)),  # stored in UTC
])
def test_dates_written_the_brazilian_way(written, moment, duck_seeded, write):
    load(duck_seeded, "subscriptions", write("s.csv", HEADER + f"s1;a1;10;{written};\n"))
    assert rows(duck_seeded, "subscriptions", "started_at") == [(moment,)]


def test_number_cells_of_a_sheet_need_no_decimal_mark(duck_seeded, tmp_path):
    """4.125 in a number cell is four and a bit, even with a --decimal comma preset."""
    book = openpyxl.Workbook()
    book.active.append(["subscription_id", "account_id", "mrr", "started_at"])
    book.active.append(["s1", "a1", 4.125, "31/01/2024"])
    book.active.append(["s2", "a2", 1234.5, "01/02/2024"])
    book.save(tmp_path / "assinaturas.xlsx")
    for decimal in (None, "comma", "dot"):
        report = import_file(duck_seeded, "subscriptions", str(tmp_path / "assinaturas.xlsx"), options(decimal=decimal))
        assert not report.problems, decimal
        assert rows(duck_seeded, "subscriptions", "mrr") == [(Decimal("4.13"),), (Decimal("1234.50"),)]


def test_json_numbers_need_no_decimal_mark(duck_seeded, write):
    record = {"subscription_id": "s1", "account_id": "a1", "mrr": 4.125, "started_at": "2024-01-31"}
    report = import_file(duck_seeded, "subscriptions", write("s.json", json.dumps([record])), options(decimal="comma"))
    assert not report.problems
    assert rows(duck_seeded, "subscriptions", "mrr") == [(Decimal("4.13"),)]


# -- encodings ---------------------------------------------------------------------------
NAMES = "csm_id;name;role\nc1;João Ação;csm\nc2;Márcia Conceição;ism\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_accents_survive_every_encoding(encoding, duck, write):
    report = load(duck, "csms", write("csms.csv", NAMES, encoding=encoding))
    assert rows(duck, "csms", "csm_id", "name") == [("c1", "João Ação"), ("c2", "Márcia Conceição")]
    assert report.detected["encoding"] == {"latin-1": "cp1252"}.get(encoding, encoding)


def test_a_bom_does_not_stick_to_the_first_column_name(duck, write):
    load(duck, "csms", write("csms.csv", "\ufeffcsm_id;name;role\nc1;Ana;csm\n"))
    assert rows(duck, "csms", "csm_id") == [("c1",)]


def test_windows_1252_punctuation(duck, write):
    """Curly quotes, dashes and € exist in Windows-1252 but not in Latin-1."""
    load(duck, "csms", write("csms.csv", "csm_id;name;role\nc1;Ana “Nina” – €;csm\n", encoding="cp1252"))
    assert rows(duck, "csms", "name") == [("Ana “Nina” – €",)]


def test_encoding_can_be_given(duck, write):
    """Latin-1 bytes read as Latin-1 when said so (the default would be Windows-1252, same letters)."""
    load(duck, "csms", write("csms.csv", NAMES, encoding="latin-1"), encoding="latin-1")
    assert rows(duck, "csms", "name")[0] == ("João Ação",)


def test_a_wrong_encoding_is_an_error_naming_the_option(duck, write):
    report = import_file(duck, "csms", write("csms.csv", NAMES, encoding="cp1252"), options(encoding="utf-8"))
    assert only_problem(report) == ("the file is not valid utf-8; give its encoding with --encoding "
                                    "(e.g. cp1252 or latin-1)")
    assert duck.count("csms") == 0


def test_an_unknown_encoding_is_an_error(duck, write):
    report = import_file(duck, "csms", write("csms.csv", NAMES), options(encoding="ibm-klingon"))
    assert only_problem(report) == "unknown encoding 'ibm-klingon'; try utf-8, cp1252 or latin-1"


# -- what the file does not settle is asked, not guessed ---------------------------------
def test_thousands_or_decimals_alone_is_ambiguous(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;1.500;2024-01-01;\n")
    assert only_problem(report) == ("a number like '1.500' could be read with a decimal comma or a decimal dot; "
                                    "say which with --decimal comma|dot")
    assert duck_seeded.count("subscriptions") == 0


@pytest.mark.parametrize("decimal, amount", [("comma", Decimal("1500.00")), ("dot", Decimal("1.50"))])
def test_decimal_option_settles_it(decimal, amount, duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;1.500;2024-01-01;\n", decimal=decimal)
    assert not report.problems
    assert rows(duck_seeded, "subscriptions", "mrr") == [(amount,)]


def test_both_decimal_marks_in_one_file_is_an_error(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;1,5;2024-01-01;\ns2;a1;2.5;2024-01-01;\n")
    assert only_problem(report) == ("numbers are written both as '1,5' (decimal comma) and as '2.5' (decimal dot); "
                                    "say which with --decimal comma|dot")


def test_a_value_against_the_given_decimal_mark_is_an_error_not_a_misreading(duck_seeded, write):
    """With --decimal dot, `1.234,56` is not 1.23: it is reported."""
    report = subscriptions(duck_seeded, write, "s1;a1;1.234,56;2024-01-01;\ns2;a1;1,234.5;2024-01-01;\n",
                           decimal="dot")
    assert [(p.row, p.column, p.value, p.expected) for p in report.problems] == [
        (2, "mrr", "1.234,56", "an amount like 1234.56")]
    assert duck_seeded.count("subscriptions") == 0


def test_day_or_month_first_alone_is_ambiguous(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;10;01/02/2024;\n")
    assert only_problem(report) == ("a date like '01/02/2024' could be day/month or month/day; say which with "
                                    "--date-format dd/mm/yyyy or mm/dd/yyyy")
    assert duck_seeded.count("subscriptions") == 0


@pytest.mark.parametrize("date_format, moment", [
    ("dd/mm/yyyy", dt.datetime(2024, 2, 1)), ("mm/dd/yyyy", dt.datetime(2024, 1, 2))])
def test_date_format_option_settles_it(date_format, moment, duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;10;01/02/2024;\n", date_order=parse_date_format(date_format))
    assert not report.problems
    assert rows(duck_seeded, "subscriptions", "started_at") == [(moment,)]


def test_one_unambiguous_date_settles_the_whole_file(duck_seeded, write):
    """`13/02/2024` can only be day-first, so `01/02/2024` in the same file is 1 February."""
    load(duck_seeded, "subscriptions", write("s.csv", HEADER + "s1;a1;10;01/02/2024;13/02/2024\n"))
    assert rows(duck_seeded, "subscriptions", "started_at", "ended_at") == [
        (dt.datetime(2024, 2, 1), dt.datetime(2024, 2, 13))]


def test_day_first_and_month_first_in_one_file_is_an_error(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;10;13/02/2024;\ns2;a1;10;02/13/2024;\n")
    assert "--date-format" in only_problem(report)


def test_iso_dates_need_no_option(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;10;2024-02-01;2024-03-01\n")
    assert not report.problems


def test_an_impossible_date_is_reported_once(duck_seeded, write):
    report = subscriptions(duck_seeded, write, "s1;a1;10;31/02/2024;\n")
    assert messages(report) == [f"{report.file}, row 2, column started_at: '31/02/2024' — expected a date like "
                                "31/12/2024 or 2024-12-31 (optionally with a time)"]


@pytest.mark.parametrize("written, value", [("sim", True), ("Não", False), ("S", True), ("n", False),
                                            ("verdadeiro", True), ("FALSO", False), ("1", True), ("0", False)])
def test_yes_and_no_in_portuguese(written, value, duck_seeded, write):
    text = ("request_id;account_id;requested_at;reason_code;voluntary;outcome\n"
            f"r1;a1;15/03/2024;preço;{written};pending\n")
    load(duck_seeded, "churn_requests", write("cancelamentos.csv", text))
    assert rows(duck_seeded, "churn_requests", "voluntary") == [(value,)]


# -- the options as typed on the command line --------------------------------------------
@pytest.mark.parametrize("typed, meaning", [(",", "comma"), ("vírgula", "comma"), ("COMMA", "comma"),
                                            (".", "dot"), ("ponto", "dot"), (None, None)])
def test_decimal_option_spellings(typed, meaning):
    assert parse_decimal_option(typed) == meaning


@pytest.mark.parametrize("typed, order", [("dd/mm/yyyy", "dmy"), ("DD.MM.AAAA", "dmy"), ("mm/dd/yy", "mdy"),
                                          ("yyyy-mm-dd", "ymd"), (None, None)])
def test_date_format_spellings(typed, order):
    assert parse_date_format(typed) == order


@pytest.mark.parametrize("parse, typed", [(parse_decimal_option, "semicolon"), (parse_date_format, "tuesday")])
def test_option_typos_are_refused(parse, typed):
    with pytest.raises(ValueError, match="must be"):
        parse(typed)


def test_text_like_na_is_kept_not_read_as_empty(duck, write):
    """Only an empty cell means "no value": NA is Namibia's country code, N/A may be a plan name."""
    from sucesso.ingest import import_file

    csv = write("accounts.csv", "account_id,name,created_at,country,plan\nx1,NA Foods,2024-01-01,NA,N/A\n")
    report = import_file(duck, "accounts", csv)
    assert report.written, report.problems
    assert duck.fetchall("SELECT name, country, plan FROM accounts WHERE account_id = 'x1'") == [
        ("NA Foods", "NA", "N/A")]


def test_trailing_separator_on_every_line_is_accepted(duck, write):
    """ERP and Excel exports often end each line with ';': an unnamed, empty last column."""
    from sucesso.ingest import import_file

    csv = write("csms.csv", "csm_id;name;role;\nc9;Ana;csm;\nc8;Bia;ism;\n")
    report = import_file(duck, "csms", csv)
    assert report.written and report.inserted == 2, report.problems
    assert report.ignored_columns == []


def test_a_value_under_an_unnamed_column_is_refused_with_its_row(duck, write):
    from sucesso.ingest import import_file

    csv = write("csms.csv", "csm_id;name;role;\nc9;Ana;csm;\nc8;Bia;ism;oops\n")
    report = import_file(duck, "csms", csv)
    assert not report.written
    assert "row 3 has 'oops' in column 4, which the header does not name" in str(report.problems[0])
    assert duck.fetchall("SELECT count(*) FROM csms WHERE csm_id IN ('c8', 'c9')") == [(0,)]
