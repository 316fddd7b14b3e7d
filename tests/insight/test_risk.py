"""Churn risk on the demo company (as `sucesso demo` makes it: 2,000 accounts, seed 7): a time
split that leaks nothing, a model that beats the health score, reasons per account."""

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.demo.load import load_demo
from sucesso.insight.risk import Features, RiskError, evaluate, examples, feature_set, score_accounts, train
from sucesso.store import open_store

runner = CliRunner()


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> str:
    url = str(tmp_path_factory.mktemp("risk") / "demo.duckdb")
    with open_store(url) as store:
        load_demo(store, accounts=2000, seed=7, health_history=False)
    return url


def test_the_model_beats_the_health_score_on_later_months(company):
    with open_store(company) as store:
        r = evaluate(store, test_months=6)
    first_test = dt.date.fromisoformat(r["test"]["dates"][0])
    assert dt.date.fromisoformat(r["train"]["dates"][1]) <= first_test - dt.timedelta(days=90)  # no label leaks
    assert r["auc"] > r["health_auc"] > 0.7
    assert r["health_scored"] == r["test"]["examples"]
    assert r["top_decile_precision"] > 3 * r["base_rate"]
    bins = r["calibration"]
    assert len(bins) == 10 and sum(b["examples"] for b in bins) == r["test"]["examples"]
    assert [b["predicted"] for b in bins] == sorted(b["predicted"] for b in bins)
    assert abs(bins[-1]["predicted"] - bins[-1]["observed"]) < 0.1  # the riskiest decile is calibrated


def test_train_keeps_the_model_and_score_explains_each_account(company, tmp_path):
    import shutil

    url = str(tmp_path / "w.duckdb")
    shutil.copy(company, url)
    with open_store(url) as store:
        with pytest.raises(RiskError, match="run `sucesso risk train`"):
            score_accounts(store)
        report = train(store)
        scored = score_accounts(store)
        one = score_accounts(store, account_id=scored["accounts"][-1]["account_id"])
        with pytest.raises(RiskError, match="not a paying customer"):
            score_accounts(store, account_id="nobody")
    assert report["trained_on"]["examples"] > report["test"]["examples"]
    risks = [a["risk"] for a in scored["accounts"]]
    assert risks == sorted(risks, reverse=True) and min(risks) >= 0 and max(risks) <= 1
    riskiest = scored["accounts"][0]
    assert riskiest["risk"] > 0.5 and riskiest["reasons"]
    assert all(x["effect"] > 0 for a in scored["accounts"] for x in a["reasons"])
    assert [a["account_id"] for a in one["accounts"]] == [scored["accounts"][-1]["account_id"]]


def test_the_risk_commands(company, tmp_path):
    import shutil

    url = str(tmp_path / "w.duckdb")
    shutil.copy(company, url)
    result = runner.invoke(app, ["risk", "score", "--db", url])
    assert result.exit_code == 2 and "run `sucesso risk train`" in result.output
    result = runner.invoke(app, ["risk", "train", "--db", url])
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output and "model kept" in result.output
    result = runner.invoke(app, ["risk", "score", "--json", "--db", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accounts"]
    result = runner.invoke(app, ["risk", "evaluate", "--json", "--test-months", "4", "--db", url])
    assert json.loads(result.output)["test"]["dates"][0] == "2026-05-01"


def test_custom_attributes_become_features_and_unseen_categories_are_missing(company):
    with open_store(company) as store:
        rows = examples(store, [dt.date(2025, 6, 1)])
    assert {"attr_erp", "attr_origem"} <= set(rows.columns)
    features = feature_set(rows)
    assert "attr_erp" in features.categories and "segment" in features.categories
    assert "usage_change_30d" in features.numeric and "seats" in features.numeric
    new = pd.DataFrame({"segment": ["smb", "galactic"], "attr_erp": ["sap", None]})
    x = Features(["seats"], {"segment": ["mid_market", "smb"], "attr_erp": ["sap"]}).frame(new)
    assert x["segment"].iloc[0] == "smb" and x["segment"].isna().tolist() == [False, True]
    assert x["seats"].isna().all()


def test_too_little_history_is_said_plainly(store_url, fill):
    with open_store(store_url) as store:
        fill(store, subscriptions=[{"account_id": "a", "mrr": 10, "started_at": "2024-01-01"}],
             invoices=[{"account_id": "a", "issued_at": "2024-04-01", "amount": 10, "status": "paid"}])
        with pytest.raises(RiskError, match="too little history to learn churn"):
            evaluate(store)
