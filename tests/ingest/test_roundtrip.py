"""Export a workspace, import the folder into an empty one: the same tables, row for row.

`export_workspace` writes one Parquet file per canonical table and a manifest.json holding
the settings; `import_dir` restores them, parents first, all or nothing.
"""

from __future__ import annotations

import json
import os
import types

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from ingest_helpers import load, only_problem, snapshot

from sucesso.ingest import export_workspace, import_dir
from sucesso.ingest.problems import RejectedFile
from sucesso.store import engines, get_setting, open_store, set_setting
from sucesso.store.schema import CANONICAL

# One small file per table, parents first; every table gets rows, optional columns are
# sometimes empty, and the values cover each type (money, timestamps, dates, booleans, JSON).
COMPANY = {
    "csms": "csm_id;name;email;role;active\nc1;Ana Souza;ana@cs.example;csm;sim\nc2;Bruno Lima;;manager;não\n",
    "accounts": ("account_id;name;segment;plan;csm_id;touch_model;created_at;country;industry;seats;Região\n"
                 "a1;Padaria Pão Quente;SMB;Pro;c1;low;10/01/2023 08:30;BR;Alimentação;12;Sul\n"
                 "a2;Oficina Bom Motor;;;;tech;20/02/2023;;;;\n"
                 "a3;Clínica Sorriso;Mid-market;Enterprise;c2;high;15/03/2023 17:45:10;BR;Saúde;140;Sudeste\n"),
    "contacts": "contact_id;account_id;name;email;role;created_at\np1;a1;Carla Dias;carla@padaria.example;dona;\n"
                "p2;a3;Dr. Élio;;diretor;16/03/2023\n",
    "subscriptions": ("subscription_id;account_id;plan;mrr;currency;quantity;started_at;ended_at\n"
                      "s1;a1;Básico;89,90;BRL;1;10/01/2023;01/06/2023\n"
                      "s2;a1;Pro;1.234,56;BRL;3;01/06/2023;\n"
                      "s3;a3;Enterprise;12.500,00;USD;;15/03/2023;\n"),
    "invoices": ("invoice_id;account_id;issued_at;due_at;paid_at;amount;currency;category;status\n"
                 "i1;a1;01/06/2023;11/06/2023;12/06/2023 10:02;1.234,56;BRL;subscription;paid\n"
                 "i2;a2;01/07/2023;;;99,00;;;open\n"),
    "usage_events": ("event_id;account_id;contact_id;event;occurred_at;properties\n"
                     'e1;a1;p1;report_exported;02/06/2023 14:00:00;"{""pages"": 3, ""format"": ""pdf""}"\n'
                     "e2;a3;;login;16/03/2023 09:00;\n"),
    "features": "event;name;is_key;milestone\nreport_exported;Exportar relatório;sim;first_value\nlogin;Login;não;\n",
    "milestones": "account_id;milestone;reached_at\na1;activated;15/01/2023\na1;first_value;02/06/2023 14:00\n",
    "tickets": ("ticket_id;account_id;contact_id;opened_at;first_response_at;resolved_at;contacts_to_resolve;"
                "channel;category;priority\n"
                "t1;a1;p1;03/06/2023 09:00;03/06/2023 09:20;04/06/2023 18:00;2;email;billing;high\n"
                "t2;a2;;05/07/2023;;;;chat;;\n"),
    "survey_responses": ("response_id;account_id;contact_id;survey;score;comment;touchpoint;answered_at\n"
                         "q1;a1;p1;nps;9;Ótimo atendimento;quarterly;30/06/2023\n"
                         "q2;a3;;csat;4,5;;ticket;05/07/2023\n"),
    "cs_activities": ("activity_id;account_id;csm_id;kind;occurred_at;notes\n"
                      'k1;a1;c1;onboarding;11/01/2023 10:00;"Kickoff; ""treinamento"" marcado\nPróximo: 15/01"\n'
                      "k2;a3;;success_review;30/06/2023;\n"),
    "churn_requests": ("request_id;account_id;requested_at;reason_code;reason_detail;voluntary;outcome;decided_at\n"
                       "r1;a2;01/08/2023;price;Achou caro;sim;recovered;10/08/2023\n"),
    "acquisition_spend": "month;channel;amount\n01/01/2023;google_ads;5.000,00\n01/01/2023;eventos;1.200,50\n",
    "referrals": "referral_id;account_id;referred_account_id;occurred_at\nf1;a1;a3;01/03/2023\nf2;a3;;01/09/2023\n",
    "targets": "kpi;period_start;period_end;target;direction\nnrr;01/01/2023;01/04/2023;1,05;higher\n"
               "logo_churn;01/01/2023;01/04/2023;0,02;lower\n",
}


def fill(store, write) -> None:
    for table, text in COMPANY.items():
        load(store, table, write(f"{table}.csv", text), decimal="comma", date_order="dmy")
    set_setting(store, "currency", "USD")


@pytest.fixture
def fresh_url(store, request, tmp_path) -> str:
    """A second, empty workspace on the same engine as `store`."""
    if store.engine == "duckdb":
        return str(tmp_path / "restored.duckdb")
    return request.getfixturevalue("postgres").new_database()


def test_export_then_import_gives_identical_tables(store, write, tmp_path, fresh_url):
    fill(store, write)
    exported = export_workspace(store, str(tmp_path / "export"))
    assert exported == {t.name: store.count(t.name) for t in CANONICAL}
    assert all(exported.values())  # every table has rows to compare
    with open_store(fresh_url) as restored:
        reports = import_dir(restored, str(tmp_path / "export"))
        assert [r.problems for r in reports] == [[]] * len(CANONICAL)
        assert sum(r.inserted for r in reports) == sum(exported.values())
        assert snapshot(restored) == snapshot(store)
        assert get_setting(restored, "currency") == "USD"


def test_importing_an_export_again_changes_nothing(store, write, tmp_path):
    fill(store, write)
    before = snapshot(store)
    export_workspace(store, str(tmp_path / "export"))
    reports = import_dir(store, str(tmp_path / "export"))
    assert [(r.table, r.inserted, r.updated) for r in reports if r.inserted or r.updated] == []
    assert sum(r.unchanged for r in reports) == sum(len(v) for v in before.values())
    assert snapshot(store) == before


def test_a_duckdb_export_restores_into_postgres(duckdb_url, postgres, write, tmp_path):
    with open_store(duckdb_url) as duck:
        fill(duck, write)
        export_workspace(duck, str(tmp_path / "export"))
        expected = snapshot(duck)
    with open_store(postgres.new_database()) as pg:
        import_dir(pg, str(tmp_path / "export"))
        assert snapshot(pg) == expected
        assert get_setting(pg, "currency") == "USD"


def test_the_manifest_records_settings_and_counts(duck, write, tmp_path):
    fill(duck, write)
    export_workspace(duck, str(tmp_path / "export"))
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"] == {"currency": "USD", "locale": "pt_BR"}
    assert manifest["rows"]["accounts"] == 3
    assert sorted(os.listdir(tmp_path / "export")) == sorted(
        ["manifest.json"] + [f"{t.name}.parquet" for t in CANONICAL])


def test_empty_tables_round_trip(store, write, tmp_path, fresh_url):
    """Most workspaces have some empty tables (no referrals yet, no targets, …)."""
    for table in ("csms", "accounts"):
        load(store, table, write(f"{table}.csv", COMPANY[table]), date_order="dmy")
    export_workspace(store, str(tmp_path / "export"))
    assert pq.read_metadata(tmp_path / "export" / "referrals.parquet").num_rows == 0
    with open_store(fresh_url) as restored:
        reports = import_dir(restored, str(tmp_path / "export"))
        assert [r.problems for r in reports] == [[]] * len(CANONICAL)
        assert snapshot(restored) == snapshot(store)


# -- import DIR is all or nothing --------------------------------------------------------
def test_one_bad_file_in_the_folder_writes_nothing(store, write, tmp_path, fresh_url):
    fill(store, write)
    export_workspace(store, str(tmp_path / "export"))
    tickets = pq.read_table(tmp_path / "export" / "tickets.parquet")
    pq.write_table(tickets.set_column(1, "account_id", [["a1", "a9"]]), tmp_path / "export" / "tickets.parquet")
    with open_store(fresh_url) as restored:
        reports = import_dir(restored, str(tmp_path / "export"))
        assert [(r.table, [(p.row, p.column, p.value) for p in r.problems]) for r in reports if r.problems] == [
            ("tickets", [(2, "account_id", "a9")])]
        assert all(restored.count(t.name) == 0 for t in CANONICAL)
        assert get_setting(restored, "currency") == "BRL"  # the default: the manifest was not applied


def test_a_folder_of_csv_files_is_imported_parents_first(duck, write, tmp_path):
    folder = tmp_path / "planilhas"
    folder.mkdir()
    # Named so that an alphabetical order would import subscriptions before their accounts.
    (folder / "subscriptions.csv").write_text(COMPANY["subscriptions"], encoding="utf-8")
    (folder / "accounts.csv").write_text(COMPANY["accounts"].replace(";c1;", ";;").replace(";c2;", ";;"),
                                         encoding="cp1252")
    (folder / "notes.txt").write_text("not a table", encoding="utf-8")
    reports = import_dir(duck, str(folder))
    assert [(r.table, r.inserted) for r in reports] == [("accounts", 3), ("subscriptions", 3)]


@pytest.mark.parametrize("files, message", [
    ((), "no file named after a table (accounts.csv, subscriptions.parquet, …)"),
    (("csms.csv", "csms.xlsx"), "two files for csms: csms.csv and csms.xlsx"),
])
def test_folders_that_cannot_be_restored(files, message, duck, tmp_path):
    for name in files:
        (tmp_path / name).write_bytes(b"csm_id\n")
    with pytest.raises(RejectedFile) as err:
        import_dir(duck, str(tmp_path))
    assert err.value.message == message


def test_a_folder_that_does_not_exist(duck, tmp_path):
    with pytest.raises(RejectedFile, match="no such folder"):
        import_dir(duck, str(tmp_path / "export"))


def test_import_dir_reports_a_bad_file_like_import_file(duck, tmp_path):
    (tmp_path / "csms.csv").write_bytes(b"")
    [report] = import_dir(duck, str(tmp_path))
    assert only_problem(report) == "the file is empty"


def test_multiline_text_exports_from_postgres_across_csv_blocks(postgres, write, tmp_path, monkeypatch):
    """PostgreSQL rows come out as CSV read in blocks; a note with line breaks may straddle two."""
    small_blocks = types.SimpleNamespace(**{n: getattr(pacsv, n) for n in dir(pacsv) if not n.startswith("_")})
    small_blocks.ReadOptions = lambda **kw: pacsv.ReadOptions(**{**kw, "block_size": 4096})
    monkeypatch.setattr(engines, "pacsv", small_blocks)
    notes = "".join(f'k{i};a1;c1;follow_up;11/01/2023;"Ligação {i}\nRetornar em 15/01"\n' for i in range(300))
    with open_store(postgres.new_database()) as pg:
        for table in ("csms", "accounts"):
            load(pg, table, write(f"{table}.csv", COMPANY[table]), date_order="dmy")
        load(pg, "cs_activities", write("activities.csv", "activity_id;account_id;csm_id;kind;occurred_at;notes\n"
                                        + notes), date_order="dmy")
        counts = export_workspace(pg, str(tmp_path / "export"))
    assert counts["cs_activities"] == 300
    exported = pq.read_table(tmp_path / "export" / "cs_activities.parquet")
    assert exported["notes"][0].as_py() == "Ligação 0\nRetornar em 15/01"
