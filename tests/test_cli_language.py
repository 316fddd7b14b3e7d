"""The CLI speaks English or Brazilian Portuguese: --lang, else $SUCESSO_LANG, else the workspace's
locale, else the system's ($LC_ALL/$LANG), else pt_BR — for results, table headers, errors, and
the numbers (money keeps the workspace's currency). Help texts are made before any workspace
opens: --lang on the command line, else $SUCESSO_LANG, else the system's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sucesso.cli import app, argv_language
from sucesso.i18n import cli_language
from sucesso.store import open_store, set_setting

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


# -- help texts: made when the modules load, so each language needs its own process -------------
SUCESSO = Path(sys.executable).with_name("sucesso")  # the console script, as a person runs it


def help_text(*args: str, **environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("SUCESSO_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    done = subprocess.run([str(SUCESSO), *args], env={**env, "COLUMNS": "200", **environ}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_language_on_the_command_line():
    assert argv_language(["import", "--lang", "en", "--help"]) == "en"
    assert argv_language(["--lang=pt_BR", "info"]) == "pt_BR"
    assert argv_language(["import", "accounts", "x.csv"]) is None and argv_language(["--lang"]) is None


def test_help_in_portuguese():
    top = help_text("--help", SUCESSO_LANG="pt_BR")
    assert "sucesso — plataforma de Customer Success." in top and "Comandos" in top
    assert "Importa um arquivo para uma tabela" in top and "Imprime a versão." in top
    command = help_text("import", "--help", SUCESSO_LANG="pt_BR")
    assert "Separador do CSV" in command and "Grava as linhas válidas" in command and "Opções" in command
    assert "Argumentos" in command and "Espaço de trabalho: um arquivo DuckDB" in command
    assert "Import a file" not in command and "CSV separator" not in command


def test_help_in_english():
    top = help_text("--help", SUCESSO_LANG="en")
    assert "sucesso — Customer Success platform." in top and "Commands" in top
    command = help_text("import", "--help", SUCESSO_LANG="en")
    assert "Import a file into a table" in command and "CSV separator" in command
    assert "Importa" not in command and "Separador" not in command


def test_help_follows_lang_then_sucesso_lang_then_the_system():
    assert "Separador do CSV" in help_text("import", "--help", LANG="pt_BR.UTF-8")
    assert "CSV separator" in help_text("import", "--help", LANG="en_US.UTF-8")
    assert "Kaplan–Meier survival" in help_text("survival", "--lang", "en", "--help", SUCESSO_LANG="pt_BR")
    assert "plataforma de Customer Success" in help_text("--lang=pt_BR", "--help", SUCESSO_LANG="en")


# -- numbers in the command's language, money in the workspace's currency -------------------------
@pytest.fixture
def brazilian_workspace(duckdb_url, fill) -> str:
    """A pt_BR workspace in BRL: one customer paying R$ 1.234,56 a month since January 2024."""
    with open_store(duckdb_url) as store:
        set_setting(store, "locale", "pt_BR")
        set_setting(store, "currency", "BRL")
        fill(store, subscriptions=[{"account_id": "a1", "mrr": 1234.56, "started_at": "2024-01-01"}])
    return duckdb_url


def plain(text: str) -> str:
    return text.replace("\xa0", " ")  # Babel puts a no-break space between R$ and the amount


def test_numbers_follow_the_language_the_command_speaks(brazilian_workspace, monkeypatch):
    args = ("metrics", "--only", "mrr,customers", "--from", "2024-03", "--to", "2024-03", "--db", brazilian_workspace)
    monkeypatch.setenv("SUCESSO_LANG", "en")
    english = plain(sucesso(*args).output)
    assert "Revenue" in english and "R$1,234.56" in english and "1.234,56" not in english
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    portuguese = plain(sucesso(*args).output)
    assert "Receita" in portuguese and "R$ 1.234,56" in portuguese
    assert "R$1,234.56" in plain(sucesso(*args, "--lang", "en").output)  # --lang beats $SUCESSO_LANG
    assert "R$1,234.56" in plain(sucesso("--lang", "en", *args).output)  # also before the command
    monkeypatch.delenv("SUCESSO_LANG")
    assert "R$ 1.234,56" in plain(sucesso(*args).output)  # then the workspace's


def test_health_explanations_follow_the_language(demo_url, monkeypatch):
    """The demo workspace is pt_BR; with $SUCESSO_LANG=en its health report is in English."""
    monkeypatch.setenv("SUCESSO_LANG", "en")
    english = " ".join(c for a in json.loads(sucesso("health", "--json", "--db", demo_url).output)["accounts"]
                       for c in a["changes"])
    assert "score fell" in english or "score rose" in english
    assert "caiu" not in english and "subiu" not in english
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    portuguese = " ".join(c for a in json.loads(sucesso("health", "--json", "--db", demo_url).output)["accounts"]
                          for c in a["changes"])
    assert "score caiu" in portuguese or "score subiu" in portuguese


def test_forecast_retention_speaks_both_languages():
    args = ("forecast", "retention", "--survivors", "1000,631,468,382")
    english = sucesso(*args, "--lang", "en").output
    assert "sBG retention fit on the survivors given: α = 0.784" in english and "survivors per period" in english
    assert "1,000" in english and "63.0%" in english
    portuguese = sucesso(*args, "--lang", "pt_BR").output
    assert "ajuste sBG da retenção sobre os sobreviventes informados: α = 0,784" in portuguese
    assert "vida esperada: infinita" in portuguese and "sobreviventes por período" in portuguese
    assert "1.000" in portuguese and "63,0%" in portuguese and "projetado" in portuguese


def test_factors_speak_both_languages(demo_url, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # the caption on few lines, whatever the terminal
    english = sucesso("factors", "--lang", "en", "--db", demo_url).output
    assert "Success factors: behaviours in the first 30 days" in english and "in the first 30 days" in english
    assert "(lagging)" in english and "Association, not cause." in english
    portuguese = sucesso("factors", "--lang", "pt_BR", "--db", demo_url).output
    assert "Fatores de sucesso: comportamentos nos primeiros 30 dias" in portuguese
    assert "(consequente)" in portuguese and "Associação, não causa." in portuguese
    assert "nos primeiros 30 dias" in portuguese and "in the first" not in portuguese
