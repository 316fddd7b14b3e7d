"""The same demo company on DuckDB, PostgreSQL and Spark gives the same KPIs, to the cent."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from sucesso.cli import app

runner = CliRunner()
SPAN = ["--from", "2025-01", "--to", "2025-06"]


def cli_json(*args: str) -> dict:
    done = runner.invoke(app, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.fixture(scope="module")
def demo(tmp_path_factory, postgres):
    folder = tmp_path_factory.mktemp("demo")
    duck = str(folder / "demo.duckdb")
    pg = postgres.new_database()
    for url in (duck, pg):
        done = runner.invoke(app, ["demo", "--accounts", "60", "--seed", "11", "--no-serve", "--db", url])
        assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["export", str(folder / "export"), "--db", duck]).exit_code == 0
    return {"duckdb": duck, "postgres": pg, "spark": f"spark://local[2]?path={folder / 'export'}"}


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_every_kpi_agrees_with_duckdb(demo, engine):
    expected = cli_json("metrics", "--json", *SPAN, "--db", demo["duckdb"])
    got = cli_json("metrics", "--json", *SPAN, "--db", demo[engine])
    assert got["currency"] == expected["currency"] == "BRL"
    assert len(got["rows"]) == len(expected["rows"]) == 6
    for g, e in zip(got["rows"], expected["rows"], strict=True):
        differing = {k: (g[k], e[k]) for k in e if not same(g[k], e[k])}
        assert not differing, f"{engine} {e['period']}: {differing}"
    assert any(r["mrr"] > 0 for r in expected["rows"])


@pytest.mark.parametrize("engine", ["postgres", "spark"])
@pytest.mark.parametrize("kind", ["logo", "revenue"])
def test_cohorts_agree_with_duckdb(demo, engine, kind):
    expected = cli_json("cohorts", "--json", "--kind", kind, *SPAN, "--db", demo["duckdb"])
    got = cli_json("cohorts", "--json", "--kind", kind, *SPAN, "--db", demo[engine])
    assert [r["cohort"] for r in got["rows"]] == [r["cohort"] for r in expected["rows"]]
    for g, e in zip(got["rows"], expected["rows"], strict=True):
        assert all(same(g[k], e[k]) for k in e), (g, e)
