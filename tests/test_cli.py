"""The CLI as a user types it: demo, info, export, restore, metrics — on DuckDB and PostgreSQL."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.ingest.export import ordered_select
from sucesso.store import open_store
from sucesso.store.schema import CANONICAL, arrow_schema

runner = CliRunner()


def sucesso(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def snapshot(url: str) -> dict:
    with open_store(url) as store:
        return {t.name: [b.to_pylist() for b in store.read_batches(ordered_select(t), arrow_schema(t))]
                for t in CANONICAL}


def test_demo_export_and_restore_give_identical_tables(store_url, tmp_path):
    done = sucesso("demo", "--accounts", "40", "--seed", "3", "--no-serve", "--db", store_url)
    assert done.exit_code == 0, done.output
    assert "demo company loaded" in done.output
    info = sucesso("info", "--db", store_url)
    assert "accounts" in info.output and "BRL" in info.output

    folder = str(tmp_path / "backup")
    assert sucesso("export", folder, "--db", store_url).exit_code == 0
    restored = str(tmp_path / "restored.duckdb")
    back = sucesso("import", folder, "--db", restored)
    assert back.exit_code == 0, back.output
    original = snapshot(store_url)
    assert sum(len(rows) for batches in original.values() for rows in batches) > 1000
    assert snapshot(restored) == original

    again = sucesso("import", folder, "--db", restored)  # a second restore changes nothing
    assert again.exit_code == 0 and " 0 " in again.output


def test_demo_is_deterministic_and_replaces_itself(duckdb_url, tmp_path):
    other = str(tmp_path / "other.duckdb")
    for url in (duckdb_url, other):
        assert sucesso("demo", "--accounts", "30", "--seed", "5", "--no-serve", "--db", url).exit_code == 0
    assert snapshot(duckdb_url) == snapshot(other)
    assert sucesso("demo", "--accounts", "30", "--seed", "6", "--no-serve", "--db", duckdb_url).exit_code == 0
    assert snapshot(duckdb_url) != snapshot(other)


def test_demo_refuses_a_workspace_with_real_data(duckdb_url, write):
    path = write("csms.csv", "csm_id,name,role\nc1,Ana,csm\n")
    assert sucesso("import", "csms", path, "--db", duckdb_url).exit_code == 0
    refused = sucesso("demo", "--accounts", "20", "--no-serve", "--db", duckdb_url)
    assert refused.exit_code != 0 and "not a demo" in refused.output


def test_metrics_json_shape(duckdb_url):
    sucesso("demo", "--accounts", "30", "--no-serve", "--db", duckdb_url)
    done = sucesso("metrics", "--json", "--only", "mrr,nrr,customers", "--from", "2025-01", "--to", "2025-03",
                   "--db", duckdb_url)
    data = json.loads(done.output)
    assert data["currency"] == "BRL" and data["period"] == "month"
    assert [r["period"] for r in data["rows"]] == ["2025-01", "2025-02", "2025-03"]
    assert set(data["rows"][0]) == {"period", "mrr", "nrr", "customers"}
    by = json.loads(sucesso("metrics", "--json", "--only", "mrr", "--by", "segment", "--period", "quarter",
                            "--from", "2025-01", "--to", "2025-06", "--db", duckdb_url).output)
    assert {r["period"] for r in by["rows"]} == {"2025-Q1", "2025-Q2"} and all("segment" in r for r in by["rows"])


def test_unknown_kpi_is_a_clear_error(duckdb_url):
    done = sucesso("metrics", "--only", "mrrr", "--db", duckdb_url)
    assert done.exit_code == 2 and "unknown KPI mrrr" in done.output
