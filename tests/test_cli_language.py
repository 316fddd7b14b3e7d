"""The CLI speaks English or Brazilian Portuguese: --lang, else $SUCESSO_LANG, else the workspace's
locale, else the system's ($LC_ALL/$LANG), else pt_BR — for results, table headers and errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.i18n import cli_language

runner = CliRunner()


def sucesso(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def no_language(monkeypatch):
    """Nothing chosen in the environment: the workspace (or the pt_BR default) decides."""
    for name in ("SUCESSO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("explicit", "workspace", "environ", "expected"), [
    ("en", "pt_BR", {"SUCESSO_LANG": "pt_BR", "LANG": "pt_BR.UTF-8"}, "en"),   # --lang first
    (None, "en", {"SUCESSO_LANG": "pt-BR", "LANG": "en_US.UTF-8"}, "pt_BR"),   # then $SUCESSO_LANG
    (None, "en", {"LANG": "pt_BR.UTF-8"}, "en"),                               # then the workspace
    (None, None, {"LANG": "en_GB.UTF-8"}, "en"),                               # then the system
    (None, None, {"LC_ALL": "en_US.UTF-8", "LANG": "pt_BR.UTF-8"}, "en"),      # LC_ALL before LANG
    (None, None, {"LANG": "pt_PT.UTF-8"}, "pt_BR"),
    (None, None, {}, "pt_BR"),                                                 # else pt_BR
    (None, None, {"LANG": "C.UTF-8"}, "pt_BR"),
])
def test_cli_language_order(explicit, workspace, environ, expected):
    assert cli_language(explicit, workspace, environ) == expected


def test_info_follows_sucesso_lang_then_the_workspace(demo_url, monkeypatch, no_language):
    portuguese = sucesso("info", "--db", demo_url)  # the demo workspace is pt_BR
    assert portuguese.exit_code == 0, portuguese.output
    assert "moeda BRL, idioma pt_BR" in portuguese.output and "linhas" in portuguese.output
    monkeypatch.setenv("SUCESSO_LANG", "en")
    english = sucesso("info", "--db", demo_url)
    assert "currency BRL, language pt_BR" in english.output and "rows" in english.output
    assert "linhas" not in english.output


def test_metrics_titles_and_headers(demo_url, monkeypatch):
    args = ("metrics", "--only", "mrr,nrr", "--from", "2025-01", "--to", "2025-02", "--db", demo_url)
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    assert "Receita" in sucesso(*args).output
    english = sucesso(*args, "--lang", "en")  # --lang beats $SUCESSO_LANG
    assert "Revenue" in english.output and "Receita" not in english.output


def test_health_table(demo_url, monkeypatch):
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    portuguese = sucesso("health", "--limit", "3", "--db", demo_url)
    assert portuguese.exit_code == 0, portuguese.output
    assert "Saúde em" in portuguese.output and "o que mudou" in portuguese.output
    assert "exibindo os primeiros 3" in portuguese.output
    english = sucesso("health", "--limit", "3", "--lang", "en", "--db", demo_url)
    assert "Health on" in english.output and "what changed" in english.output and "first 3 shown" in english.output


def test_errors_are_translated(demo_url, monkeypatch):
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    unknown = sucesso("metrics", "--only", "mrrr", "--db", demo_url)
    assert unknown.exit_code == 2 and "erro:" in unknown.output and "KPI desconhecido: mrrr" in unknown.output
    bad_date = sucesso("health", "--as-of", "31/01/2025", "--db", demo_url)
    assert bad_date.exit_code == 2 and "esperava uma data no formato AAAA-MM-DD" in bad_date.output
    english = sucesso("health", "--as-of", "31/01/2025", "--lang", "en", "--db", demo_url)
    assert "error:" in english.output and "expected a date as YYYY-MM-DD, got '31/01/2025'" in english.output
    monkeypatch.setenv("SUCESSO_LANG", "en")
    assert "unknown KPI mrrr" in sucesso("metrics", "--only", "mrrr", "--db", demo_url).output


def test_error_before_a_workspace_opens_follows_the_system(tmp_path, monkeypatch, no_language):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    done = sucesso("import", "accounts", "x.csv", "--map", "oops", "--db", str(tmp_path / "w.duckdb"))
    assert done.exit_code == 2 and "--map expects SOURCE=COLUMN" in done.output
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    done = sucesso("import", "accounts", "x.csv", "--map", "oops", "--db", str(tmp_path / "w.duckdb"))
    assert "--map espera ORIGEM=COLUNA" in done.output


def test_demo_closing_lines(tmp_path, monkeypatch, no_language):
    db = str(tmp_path / "demo.duckdb")
    done = sucesso("demo", "--accounts", "30", "--no-history", "--no-serve", "--db", db)
    assert done.exit_code == 0, done.output
    assert "empresa de demonstração carregada: 30 contas" in done.output and "entre como" in done.output
    english = sucesso("demo", "--accounts", "30", "--language", "en", "--no-history", "--no-serve", "--db", db)
    assert "demo company loaded: 30 accounts" in english.output  # the workspace is now en


def test_survival_table(demo_url, monkeypatch):
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    portuguese = sucesso("survival", "--by", "segment", "--db", demo_url)
    assert "sobrevivência da primeira vida" in portuguese.output and "mediana" in portuguese.output
    english = sucesso("survival", "--by", "segment", "--lang", "en", "--db", demo_url)
    assert "first-life survival" in english.output and "sobrevivência" not in english.output
