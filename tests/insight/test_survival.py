"""Kaplan–Meier survival of the first customer life: hand-computed curves, medians, groups, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sucesso.cli import app, out
from sucesso.insight.survival import MONTH_DAYS, kaplan_meier, survival_curves
from sucesso.store import open_store

runner = CliRunner()


def durations(*rows: tuple[float, bool], per: float = 1.0) -> pd.DataFrame:
    """(duration, churned) rows as kaplan_meier reads them, durations given in units of `per` days."""
    return pd.DataFrame({"days": [d * per for d, _ in rows], "churned": [c for _, c in rows]})


def test_the_curve_is_the_product_of_the_survival_fractions():
    # months 1 (churn), 2 (still paying), 3 (churn), 4 (churn), 5 (still paying)
    curve = kaplan_meier(durations((1, True), (2, False), (3, True), (4, True), (5, False), per=MONTH_DAYS))
    s1 = 1 - 1 / 5           # 5 at risk, 1 churns
    s3 = s1 * (1 - 1 / 3)    # the censored one left at 2: 3 at risk, 1 churns
    s4 = s3 * (1 - 1 / 2)    # 2 at risk, 1 churns
    assert curve.timeline == pytest.approx([0, 1, 2, 3, 4, 5])
    assert curve.survival_curve == pytest.approx([1, s1, s1, s3, s4, s4])
    assert (curve.accounts, curve.churned) == (5, 3)
    assert curve.survival["1"] == pytest.approx(s1) and curve.survival["3"] == pytest.approx(s3)
    assert curve.survival["6"] is None and curve.survival["24"] is None   # past the longest follow-up
    assert curve.median == pytest.approx(4)   # the first t with S(t) ≤ 0.5: S(3) = 0.53, S(4) = 0.27
    low, high = curve.median_ci
    assert low <= 4 and (high is None or high >= 4)
    assert all(lo <= s <= hi for lo, s, hi in zip(curve.ci_lower, curve.survival_curve, curve.ci_upper, strict=True))


def test_days_and_months_are_the_same_curve_on_another_clock():
    rows = [(10, True), (40, False), (75, True), (100, False)]
    in_days, in_months = kaplan_meier(durations(*rows), "days"), kaplan_meier(durations(*rows), "months")
    assert in_months.timeline == pytest.approx([t / MONTH_DAYS for t in in_days.timeline])
    assert in_months.survival_curve == in_days.survival_curve
    assert in_days.survival == in_months.survival   # milestones are months in both
    assert in_days.survival["1"] == pytest.approx(3 / 4) and in_days.survival["3"] == pytest.approx(3 / 4 * 1 / 2)


def test_a_curve_that_stays_above_one_half_has_no_median():
    curve = kaplan_meier(durations((2, True), (3, False), (5, False), (8, False)))
    assert curve.survival_curve[-1] == pytest.approx(3 / 4)
    assert curve.median is None and curve.median_ci[1] is None
    assert json.loads(json.dumps(curve.as_dict()))["median"] is None


@pytest.fixture
def small_workspace(tmp_path, fill) -> str:
    """Five accounts; the data ends 2024-03-01 (the last invoice)."""
    url = str(tmp_path / "w.duckdb")
    tables = {
        "accounts": [{"account_id": a, "name": a, "created_at": "2023-12-01", "segment": segment}
                     for a, segment in [("a", "smb"), ("b", "smb"), ("c", "mid"), ("d", "mid"), ("e", None)]],
        "subscriptions": [
            {"account_id": "a", "mrr": 100, "started_at": "2024-01-01", "ended_at": "2024-01-11"},  # churns, 10 d
            {"account_id": "a", "mrr": 100, "started_at": "2024-02-01"},      # comes back: a second life, ignored
            {"account_id": "b", "mrr": 100, "started_at": "2024-01-01"},      # still paying: 60 d, censored
            {"account_id": "c", "mrr": 100, "started_at": "2024-01-01", "ended_at": "2024-01-31"},  # churns, 30 d
            {"account_id": "d", "mrr": 100, "started_at": "2024-01-01", "ended_at": "2024-01-21"},  # plan change…
            {"account_id": "d", "mrr": 300, "started_at": "2024-01-21", "ended_at": "2024-02-10"},  # …churns, 40 d
            {"account_id": "e", "mrr": 0, "started_at": "2024-01-01", "ended_at": "2024-01-05"},    # free: no life
            {"account_id": "e", "mrr": 100, "started_at": "2024-01-05"},      # still paying: 56 d, censored
        ],
        "invoices": [{"account_id": "b", "issued_at": "2024-03-01", "amount": 100, "status": "paid"}],
    }
    with open_store(url) as store:
        fill(store, **tables)
    return url


def test_first_lives_are_followed_to_their_end_or_to_the_data_end_and_grouped(small_workspace):
    with open_store(small_workspace) as store:
        overall, mid, smb, no_segment = survival_curves(store, by="segment", unit="days")
    # overall: 10 churn, 30 churn, 40 churn, 56 censored, 60 censored
    assert overall.group == "all" and (overall.accounts, overall.churned) == (5, 3)
    assert overall.timeline == pytest.approx([0, 10, 30, 40, 56, 60])
    assert overall.survival_curve == pytest.approx([1, 4 / 5, 3 / 5, 2 / 5, 2 / 5, 2 / 5])
    assert overall.median == pytest.approx(40)
    assert (mid.group, mid.accounts, mid.churned, mid.median) == ("mid", 2, 2, pytest.approx(30))
    assert mid.survival_curve[-1] == 0
    assert (smb.group, smb.median) == ("smb", pytest.approx(10))   # S(10) = 1/2
    assert (no_segment.group, no_segment.churned, no_segment.median) == (None, 0, None)


def test_an_unknown_grouping_is_refused(small_workspace):
    with open_store(small_workspace) as store, pytest.raises(ValueError, match="--by must be one of"):
        survival_curves(store, by="industry")


def test_the_cli_prints_one_row_per_curve(small_workspace, monkeypatch):
    monkeypatch.setattr(out, "width", 160)   # wide enough for every column, whatever the terminal
    done = runner.invoke(app, ["survival", "--by", "segment", "--db", small_workspace, "--lang", "en"])
    assert done.exit_code == 0, done.output
    rows = [line.split() for line in done.output.splitlines()]
    assert ["all", "5", "3"] in [r[:3] for r in rows] and ["—", "1", "0"] in [r[:3] for r in rows]
    assert "not reached" in done.output
    refused = runner.invoke(app, ["survival", "--unit", "weeks", "--db", small_workspace])
    assert refused.exit_code == 2 and "--unit must be one of" in refused.output


def test_the_cli_json_on_the_demo_workspace_is_sane(demo_url):
    done = runner.invoke(app, ["survival", "--by", "segment", "--json", "--db", demo_url])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    overall, *groups = report["curves"]
    assert report["unit"] == "months" and overall["group"] == "all" and groups
    assert overall["accounts"] == sum(g["accounts"] for g in groups)
    assert 0 < overall["churned"] < overall["accounts"]
    for curve in report["curves"]:
        s = curve["survival_curve"]
        assert len(s) == len(curve["timeline"]) == len(curve["ci_lower"]) == len(curve["ci_upper"])
        assert all(0 < v <= 1 for v in s) and all(b <= a for a, b in zip(s, s[1:], strict=False))
        assert curve["timeline"] == sorted(curve["timeline"])
        milestones = [v for v in curve["survival"].values() if v is not None]
        assert milestones == sorted(milestones, reverse=True)
    assert overall["survival"]["12"] is not None and 0 < overall["survival"]["12"] < 1
