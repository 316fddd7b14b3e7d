"""History kept and re-run, the words for what changed, the backtest, and `sucesso health` as a
user types it — on the demo company and on small hand-made workspaces."""

import datetime as dt
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.health.backtest import backtest
from sucesso.health.explain import explain
from sucesso.health.history import compute_history, history, trend
from sucesso.health.model import load_model
from sucesso.store import open_store

runner = CliRunner()
POINTS = """\
name: points
kind: points
base: 70
rules:
  detractor: {signal: detractors_180d, points: -20}
  ticket: {signal: tickets_90d, points: -4, max_units: 5}
"""


@pytest.fixture
def demo_copy(demo_url, tmp_path) -> str:
    url = str(tmp_path / "demo.duckdb")
    shutil.copy(demo_url, url)
    return url


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_history_is_kept_replaced_by_span_and_a_rerun_changes_nothing(demo_copy):
    first, last = dt.date(2026, 9, 1), dt.date(2026, 9, 10)
    with open_store(demo_copy) as store:
        written = compute_history(store, first, last)
        kept = history(store)
        assert written == len(kept) > 0
        assert set(kept["as_of"]) == {first + dt.timedelta(days=d) for d in range(10)}
        assert kept["score"].between(0, 100).all()
        assert set(kept["band"]) <= {"red", "yellow", "green"}
        assert compute_history(store, first, last) == written
        pd.testing.assert_frame_equal(history(store), kept)
        # another model for two of the days: only those days change
        compute_history(store, dt.date(2026, 9, 5), dt.date(2026, 9, 6), load_model(POINTS))
        again = history(store)
        assert set(again[again["model"] == "points"]["as_of"]) == {dt.date(2026, 9, 5), dt.date(2026, 9, 6)}
        assert len(again) == len(kept)
        one = again["account_id"].iloc[0]
        assert list(history(store, one)["account_id"].unique()) == [one]
        mix = trend(store, every_days=3)  # Sept 10th, 7th, 4th, 1st
        assert list(mix["as_of"]) == [dt.date(2026, 9, d) for d in (1, 4, 7, 10)]
        assert list(mix.columns[:3]) == ["as_of", "customers", "mean_score"]
        assert (mix["customers"] == mix[[b for b in ("red", "yellow", "green") if b in mix]].sum(axis=1)).all()
        assert list(trend(store, one, every_days=9)["as_of"]) == [dt.date(2026, 9, 1), dt.date(2026, 9, 10)]


def test_history_on_postgresql_keeps_no_score_where_there_is_no_data(store_url, fill):
    with open_store(store_url) as store:
        fill(store, subscriptions=[{"account_id": "a", "mrr": 10, "started_at": "2024-01-01"},
                                   {"account_id": "b", "mrr": 20, "started_at": "2024-01-03"}],
             survey_responses=[{"account_id": "a", "survey": "nps", "score": 3, "scale_min": 0, "scale_max": 10,
                                "answered_at": "2024-01-02"}])
        # the workspace has only subscriptions and one NPS answer: a is scored from January 3rd (the day
        # after its answer), b never — no component has data, and none is scored as 0
        assert compute_history(store, dt.date(2024, 1, 2), dt.date(2024, 1, 4)) == 2
        kept = history(store)
    assert list(kept["account_id"]) == ["a", "a"]
    assert list(kept["as_of"]) == [dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    # satisfaction alone: NPS 3 on the 0-6-8-10 → 0-30-70-100 scale = 15
    assert json.loads(kept["components"].iloc[0]) == {"usage": None, "adoption": None, "support": None,
                                                      "satisfaction": 15.0, "financial": None,
                                                      "engagement": None, "referrals": None}
    assert kept["score"].iloc[0] == pytest.approx(15.0) and kept["band"].iloc[0] == "red"


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_what_changed_in_words():
    since = dt.date(2024, 3, 1)
    now = frame(account_id=["a", "new"], rounded=[54.0, 80.0], usage=[35.0, 90.0], usage__weight=[0.5, 0.5],
                usage_change_30d=[-0.4, 0.0], mrr_trend_90d=[0.0, np.nan], overdue_invoices=[1, 0],
                churn_request_open=[0, 0], tickets_90d=[2, 0], days_since_cs_touch=[10.0, 5.0])
    before = frame(account_id=["a"], rounded=[72.0], usage=[80.0], usage__weight=[0.5], tickets_90d=[2])
    events = frame(account_id=["a"], kind=["detractor"], at=[pd.Timestamp("2024-03-02 10:00")], score=[4.0],
                   reason=[""])
    en = explain(now, before, events, since, "en")
    assert en["a"] == ["score fell 18 points since Mar 1, 2024 (72 → 54)", "usage 80 → 35",
                       "usage fell 40% in 30 days", "1 invoice(s) overdue", "a detractor NPS answer (4) on Mar 2, 2024"]
    assert en["new"] == ["first score (not a customer on Mar 1, 2024)"]
    pt = explain(now, before, events, since, "pt_BR")
    assert pt["a"][0] == "score caiu 18 pontos desde 01/03/2024 (72 → 54)"
    assert pt["a"][1] == "uso 80 → 35"


def test_backtest_separates_churners_and_compares_an_edited_model(demo_url):
    with open_store(demo_url) as store:
        default, points = backtest(store, [load_model(), load_model(POINTS)])
    assert default.auc > 0.7
    rates = default.bands.set_index("band")["churn_rate"]
    assert rates["red"] > rates["yellow"] > rates["green"]
    assert default.bands["accounts"].sum() == default.per_date["customers"].sum()
    assert points.dates == default.dates and points.auc < default.auc


def test_sucesso_health_json_text_and_one_account(demo_url):
    report = json.loads(run("health", "--json", "--db", demo_url))
    accounts = report["accounts"]
    assert accounts and report["model"] == "default"
    assert [a["score"] for a in accounts] == sorted(a["score"] for a in accounts)
    worst = accounts[0]
    assert worst["band"] == "red" and worst["changes"]
    present = [c for c in worst["components"] if not c["missing"]]
    assert sum(c["weight"] for c in present) == pytest.approx(1.0, abs=1e-3)  # each rounded to 4 decimals
    assert sum(c["contribution"] for c in present) == pytest.approx(worst["score"], abs=1e-3)
    reds = json.loads(run("health", "--json", "--band", "red", "--db", demo_url))["accounts"]
    assert {a["band"] for a in reds} == {"red"} and len(reds) < len(accounts)
    text = run("health", "--account", worst["account_id"], "--lang", "en", "--db", demo_url)
    assert worst["account_id"] in text and "component" in text
    assert "(first 3 shown" in run("health", "--limit", "3", "--db", demo_url)


def test_sucesso_health_errors_a_user_can_act_on(demo_url, tmp_path):
    result = runner.invoke(app, ["health", "--account", "nobody", "--db", demo_url])
    assert result.exit_code == 2 and "no account 'nobody'" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("components:\n  usage:\n    weight: ten\n    signals: {}\n")
    result = runner.invoke(app, ["health", "--model", str(bad), "--db", demo_url])
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # as one line: Rich wraps at the terminal's width
    assert f"{bad}, line 3: components.usage.weight: Input should be a valid number" in said
    assert f"{bad}, line 4: components.usage.signals: Dictionary should have at least 1 item" in said


def test_adopting_a_model_and_backtesting_beside_it(demo_copy, tmp_path):
    edited = tmp_path / "points.yaml"
    edited.write_text(POINTS)
    both = json.loads(run("health", "backtest", "--model", str(edited), "--json", "--db", demo_copy))["results"]
    assert [r["model"] for r in both] == ["default", "points"]
    assert "AUC" in run("health", "backtest", "--db", demo_copy)
    run("health", "model", str(edited), "--db", demo_copy)
    assert run("health", "model", "--db", demo_copy) == POINTS
    assert json.loads(run("health", "--json", "--db", demo_copy))["model"] == "points"
    run("health", "model", "--default", "--db", demo_copy)
    assert "name: default" in run("health", "model", "--db", demo_copy)
    result = runner.invoke(app, ["health", "trend", "--db", demo_copy])
    assert result.exit_code == 2 and "run `sucesso health history` first" in result.output
    assert "health history kept" in run("health", "history", "--from", "2026-10-01", "--db", demo_copy)
    assert "mean_score" in run("health", "trend", "--every", "7", "--db", demo_copy)
    assert "days_since_cs_touch" in run("health", "signals")
