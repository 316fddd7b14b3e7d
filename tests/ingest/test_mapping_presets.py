"""Column mapping (--map SOURCE=COLUMN), extra columns into `attributes`, and named presets."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from ingest_helpers import REFERENCE, counted, load, only_problem, options, rows

from sucesso.ingest import ImportOptions, import_file
from sucesso.ingest.presets import delete_preset, list_presets, load_preset, save_preset
from sucesso.store import open_store

DBT_MRR = REFERENCE / "dbt_mrr_playbook_subscription_periods.csv"


def test_map_names_the_canonical_column_of_each_source_column(duck, write):
    text = "Código;Nome do CSM;Função\nc1;Ana;csm\n"
    load(duck, "csms", write("equipe.csv", text),
         mapping={"Código": "csm_id", "Nome do CSM": "name", "Função": "role"})
    assert rows(duck, "csms", "csm_id", "name", "role") == [("c1", "Ana", "csm")]


def test_map_source_names_ignore_case(duck, write):
    load(duck, "csms", write("equipe.csv", "ID,NOME,role\nc1,Ana,csm\n"), mapping={"id": "csm_id", "nome": "name"})
    assert rows(duck, "csms", "csm_id", "name") == [("c1", "Ana")]


def test_map_wins_over_a_column_of_the_canonical_name(duck, write):
    """`name` holds a nickname here; the full name is in `nome_completo`."""
    load(duck, "csms", write("equipe.csv", "csm_id,name,nome_completo,role\nc1,Aninha,Ana Souza,csm\n"),
         mapping={"nome_completo": "name"})
    assert rows(duck, "csms", "name") == [("Ana Souza",)]


def test_map_of_a_column_the_file_lacks(duck, write):
    report = import_file(duck, "csms", write("equipe.csv", "csm_id,name,role\nc1,Ana,csm\n"),
                         options(mapping={"papel": "role"}))
    assert only_problem(report) == ("--map names the column 'papel', which the file does not have "
                                    "(it has: csm_id, name, role)")


def test_map_to_a_column_the_table_lacks(duck, write):
    report = import_file(duck, "csms", write("equipe.csv", "csm_id,name,papel\nc1,Ana,csm\n"),
                         options(mapping={"papel": "funcao"}))
    assert only_problem(report).startswith("--map papel=funcao: csms has no column 'funcao' (its columns: csm_id,")


def test_two_columns_mapped_to_one(duck, write):
    report = import_file(duck, "csms", write("equipe.csv", "csm_id,apelido,nome,role\nc1,Aninha,Ana Souza,csm\n"),
                         options(mapping={"apelido": "name", "nome": "name"}))
    assert only_problem(report) == "--map gives name two columns, 'apelido' and 'nome'; map only one"


def test_a_file_without_the_key_asks_for_a_map(duck, write):
    report = import_file(duck, "csms", write("equipe.csv", "codigo,name,role\nc1,Ana,csm\n"))
    assert only_problem(report) == ("no column for csm_id (the key of csms); the file has: codigo, name, role; "
                                    "map one with --map SOURCE=csm_id")
    assert duck.count("csms") == 0


# -- extra columns -----------------------------------------------------------------------
def test_extra_columns_of_accounts_go_into_attributes(duck, write):
    text = "account_id;name;created_at;Região;Nº de lojas;ERP\na1;Padaria;2023-01-10;Sul;3;\n"
    report = load(duck, "accounts", write("contas.csv", text))
    assert report.ignored_columns == []
    assert rows(duck, "accounts", "attributes") == [('{"no_de_lojas":"3","regiao":"Sul"}',)]


def test_extra_columns_merge_with_given_attributes(duck, write):
    text = 'account_id,name,created_at,attributes,tier\na1,Padaria,2023-01-10,"{""b"": 2, ""a"": 1}",gold\n'
    load(duck, "accounts", write("contas.csv", text))
    assert rows(duck, "accounts", "attributes") == [('{"a":1,"b":2,"tier":"gold"}',)]


def test_attributes_that_extra_columns_join_must_be_an_object(duck, write):
    text = 'account_id,name,created_at,attributes,tier\na1,Padaria,2023-01-10,"[1, 2]",gold\n'
    report = import_file(duck, "accounts", write("contas.csv", text))
    assert [(p.row, p.column, p.value, p.expected) for p in report.problems] == [
        (2, "attributes", "[1, 2]", "a JSON object (the extra columns are added to it)")]


def test_extra_columns_of_other_tables_are_ignored_and_said(duck, write):
    report = load(duck, "csms", write("equipe.csv", "csm_id,name,role,Ramal\nc1,Ana,csm,2041\n"))
    assert report.ignored_columns == ["Ramal"]


# -- the realistic fixture ---------------------------------------------------------------
def test_the_dbt_mrr_playbook_subscriptions_with_a_map(store, tmp_path):
    """121 subscription periods of 55 customers; end_date is exclusive, as `ended_at` is."""
    with open(DBT_MRR, newline="") as fh:
        periods = list(csv.DictReader(fh))
    first_start: dict[str, str] = {}
    for p in periods:
        first_start[p["customer_id"]] = min(first_start.get(p["customer_id"], p["start_date"]), p["start_date"])
    accounts = tmp_path / "customers.csv"
    accounts.write_text("account_id,name,created_at\n"
                        + "".join(f"{c},Customer {c},{d}\n" for c, d in sorted(first_start.items())))
    load(store, "accounts", str(accounts))

    mapping = {"customer_id": "account_id", "start_date": "started_at", "end_date": "ended_at",
               "monthly_amount": "mrr"}
    report = load(store, "subscriptions", str(DBT_MRR), mapping=mapping)
    assert (len(periods), len(first_start)) == (121, 55)
    assert counted(report) == (121, 0, 0, 0)
    assert store.fetchall("SELECT count(*), count(DISTINCT account_id), sum(mrr), count(ended_at) "
                          "FROM subscriptions") == [(121, 55, Decimal("5205.00"), 121)]
    assert rows(store, "subscriptions", "subscription_id", "account_id", "started_at", "ended_at", "mrr")[0] == (
        "1", "1", dt.datetime(2018, 11, 1), dt.datetime(2019, 2, 1), Decimal("50.00"))
    again = load(store, "subscriptions", str(DBT_MRR), mapping=mapping)
    assert counted(again) == (0, 0, 121, 0)


# -- presets -----------------------------------------------------------------------------
def test_a_preset_keeps_the_mapping_and_the_parsing_options(store):
    saved = ImportOptions(delimiter=";", decimal="comma", date_order="dmy", encoding="cp1252",
                          mapping={"Cliente": "account_id", "Valor": "mrr"})
    save_preset(store, "erp-assinaturas", "subscriptions", saved)
    assert load_preset(store, "erp-assinaturas") == ("subscriptions", saved)
    assert [name for name, _, _ in list_presets(store)] == ["erp-assinaturas"]


def test_a_preset_lives_in_the_workspace(store_url):
    with open_store(store_url) as store:
        save_preset(store, "crm", "accounts", ImportOptions(mapping={"Empresa": "name"}))
    with open_store(store_url) as store:
        assert load_preset(store, "crm") == ("accounts", ImportOptions(mapping={"Empresa": "name"}))


def test_saving_a_preset_again_replaces_it(duck):
    save_preset(duck, "crm", "accounts", ImportOptions(decimal="comma"))
    save_preset(duck, "crm", "contacts", ImportOptions(decimal="dot"))
    assert load_preset(duck, "crm") == ("contacts", ImportOptions(decimal="dot"))
    assert len(list_presets(duck)) == 1


def test_deleting_presets(duck):
    save_preset(duck, "crm", "accounts", ImportOptions())
    save_preset(duck, "erp", "invoices", ImportOptions())
    assert delete_preset(duck, "crm") is True
    assert delete_preset(duck, "crm") is False
    assert [name for name, _, _ in list_presets(duck)] == ["erp"]


def test_an_unknown_preset_lists_the_saved_ones(duck):
    save_preset(duck, "erp", "invoices", ImportOptions())
    with pytest.raises(Exception, match=r"no import preset with this name \(presets: erp\)"):
        load_preset(duck, "crm")


def test_a_preset_for_an_unknown_table_is_refused(duck):
    with pytest.raises(KeyError, match="unknown table 'clientes'"):
        save_preset(duck, "crm", "clientes", ImportOptions())


def test_options_survive_their_json_form():
    given = ImportOptions(format="csv", delimiter="\t", decimal="comma", date_order="mdy", sheet="Plan1",
                          mapping={"Ação": "name"}, skip_invalid=True)
    assert ImportOptions.from_json(given.as_json()) == given
    assert ImportOptions.from_json(ImportOptions().as_json()) == ImportOptions()
