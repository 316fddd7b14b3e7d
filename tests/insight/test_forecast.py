"""The shifted-beta-geometric retention forecast: Fader & Hardie's published fits, checked against an
independent grid search; hand-computed likelihoods and lifetimes; survivors from cohorts; the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sucesso.cli import app
from sucesso.insight.forecast import (
    cohort_survivors,
    derl,
    expected_lifetime,
    fit_sbg,
    log_likelihood,
    pooled_survivors,
    project,
    workspace_survivors,
)
from sucesso.insight.survival import first_life_durations
from sucesso.store import open_store

runner = CliRunner()

# Fader & Hardie (2007), "How to project customer retention", survivors of 1,000 customers by year.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def grid_log_likelihood(alphas: np.ndarray, betas: np.ndarray, survivors: list[int]) -> np.ndarray:
    """LL on a grid, straight from the paper's recursion: P(T=1) = α/(α+β),
    P(T=t) = P(T=t−1)·(β+t−2)/(α+β+t−1), S(t) = 1 − Σ_{u≤t} P(T=u)."""
    a, b = np.meshgrid(alphas, betas, indexing="ij")
    p = a / (a + b)
    ll = (survivors[0] - survivors[1]) * np.log(p)
    churned = p
    for t in range(2, len(survivors)):
        p = p * (b + t - 2) / (a + b + t - 1)
        churned = churned + p
        ll += (survivors[t - 1] - survivors[t]) * np.log(p)
    return ll + survivors[-1] * np.log(1 - churned)


@pytest.mark.parametrize(("survivors", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_the_published_fits_are_the_maximum_likelihood(survivors, alpha, beta):
    fit = fit_sbg(survivors)
    alphas, betas = np.arange(alpha - 0.2, alpha + 0.2, 0.002), np.arange(beta - 0.5, beta + 0.5, 0.005)
    grid = grid_log_likelihood(alphas, betas, survivors)
    best = np.unravel_index(np.argmax(grid), grid.shape)
    assert fit.log_likelihood >= grid.max() - 1e-9
    assert fit.alpha == pytest.approx(alphas[best[0]], abs=1e-2) == pytest.approx(alpha, abs=1e-2)
    assert fit.beta == pytest.approx(betas[best[1]], abs=1e-2) == pytest.approx(beta, abs=1e-2)
    assert (fit.periods, fit.survivors) == (7, tuple(survivors))


def test_log_likelihood_by_hand():
    # α = β = 1: P(T=1) = 1/2, P(T=2) = 1/2·1/3 = 1/6, S(2) = 1/2·2/3 = 1/3
    expected = 4 * math.log(1 / 2) + 3 * math.log(1 / 6) + 3 * math.log(1 / 3)
    assert log_likelihood(1.0, 1.0, [10, 6, 3]) == pytest.approx(expected)
    assert log_likelihood(0.7, 2.5, [10, 6, 3]) == pytest.approx(grid_log_likelihood([0.7], [2.5], [10, 6, 3])[0, 0])


def test_projection_retention_survivors_and_rates():
    fit = fit_sbg(HIGH_END)
    projection = project(fit, 12)
    s = [1.0]
    for t in range(1, 13):
        s.append(s[-1] * (fit.beta + t - 1) / (fit.alpha + fit.beta + t - 1))
    assert projection.retention == pytest.approx(s)
    assert projection.survivors == pytest.approx([1000 * v for v in s])
    assert projection.retention_rate[0] is None
    assert projection.retention_rate[1:] == pytest.approx([b / a for a, b in zip(s, s[1:], strict=False)])
    assert projection.expected_lifetime is None   # α < 1: the mean lifetime is infinite
    as_json = json.loads(json.dumps(projection.as_dict()))
    assert as_json["observed"] == HIGH_END and as_json["expected_lifetime"] is None and len(as_json["retention"]) == 13


def test_expected_lifetime_is_the_sum_of_the_retention_curve():
    alpha, beta = 3.0, 2.0
    t = np.arange(1, 200_000)
    retention = np.concatenate([[1.0], np.cumprod((beta + t - 1) / (alpha + beta + t - 1))])
    assert expected_lifetime(alpha, beta) == pytest.approx((alpha + beta - 1) / (alpha - 1)) == 2.0
    assert retention.sum() == pytest.approx(2.0, abs=1e-6)
    assert expected_lifetime(1.0, 2.0) is None and expected_lifetime(0.7, 1.2) is None


def test_derl_is_the_discounted_sum_of_the_retention_curve():
    alpha, beta, d = 0.668, 3.806, 0.1
    t = np.arange(1, 2000)
    retention = np.cumprod((beta + t - 1) / (alpha + beta + t - 1))   # S(1), S(2), …
    assert derl(alpha, beta, d) == pytest.approx(float(np.sum(retention / (1 + d) ** (t - 1))))
    fit = fit_sbg(HIGH_END)
    assert project(fit, 3, discount=d).derl == pytest.approx(derl(fit.alpha, fit.beta, d))
    with pytest.raises(ValueError, match="discount rate must be above 0"):
        derl(alpha, beta, 0)


@pytest.mark.parametrize(("survivors", "message"), [
    ([1000], "at least two periods"),
    ([1000, 900], "at least two periods"),
    ([1000, 900, -1], "cannot be negative"),
    ([0, 0, 0], "first count"),
    ([1000, 900, 950, 800], "period 2 has 950 after 900"),
    ([500, 500, 500], "no customer was lost"),
])
def test_bad_survivor_counts_are_refused(survivors, message):
    with pytest.raises(ValueError, match=message):
        fit_sbg(survivors)


def lives(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "life", "started_at", "ended_at"]).astype(
        {"started_at": "datetime64[ns]", "ended_at": "datetime64[ns]"})


def test_cohort_survivors_count_first_lives_not_ended_before_start_plus_k_months():
    month = pd.Timedelta(days=365.25 / 12)
    all_lives = lives(
        ("a", 1, "2024-01-01", "2024-02-15"),                    # 45 days: survives month 1, not 2
        ("a", 2, "2024-03-05", None),                            # a comeback: not a new member of 2024-03
        ("b", 1, "2024-01-10", None),                            # still paying
        ("c", 1, "2024-01-20", "2024-01-25"),                    # gone within its first month
        ("e", 1, "2024-01-01", pd.Timestamp("2024-01-01") + month),  # ends exactly at 1 month: survives it
        ("d", 1, "2024-03-01", None),
    )
    cohorts = cohort_survivors(first_life_durations(all_lives, pd.Timestamp("2024-04-15")))
    # 2024-01's youngest (c, Jan 20) has been followed 86 days = 2.8 months: n_0..n_2
    assert cohorts == {"2024-01": [4, 3, 1], "2024-03": [1, 1]}
    assert pooled_survivors(cohorts, 1) == (["2024-01", "2024-03"], [5, 4])
    assert pooled_survivors(cohorts, 2) == (["2024-01"], [4, 3, 1])
    with pytest.raises(ValueError, match="no cohort has been followed for 3 months"):
        pooled_survivors(cohorts, 3)


def test_a_fit_on_the_demo_workspace_cohorts(demo_url):
    with open_store(demo_url) as store:
        source, counts = workspace_survivors(store)
        with pytest.raises(ValueError, match="no account started paying in 2001-01"):
            workspace_survivors(store, cohort="2001-01")
    assert "cohorts pooled" in source and len(counts) == 13
    assert all(b <= a for a, b in zip(counts, counts[1:], strict=False)) and counts[-1] < counts[0]
    fit = fit_sbg(counts)
    assert fit.alpha > 0 and fit.beta > 0 and math.isfinite(fit.log_likelihood)

    done = runner.invoke(app, ["forecast", "retention", "--cohort", "2024-03", "--json", "--db", demo_url])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["source"] == "cohort 2024-03" and report["alpha"] > 0 and report["beta"] > 0
    assert len(report["retention"]) == len(report["observed"]) + 12


def test_the_cli_fits_given_survivors():
    done = runner.invoke(app, ["forecast", "retention", "--survivors", ",".join(map(str, HIGH_END)),
                               "--periods", "10", "--discount", "0.1", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["alpha"] == pytest.approx(0.668, abs=1e-3) and report["beta"] == pytest.approx(3.806, abs=1e-3)
    assert report["observed"] == HIGH_END and len(report["survivors"]) == 11 and report["survivors"][0] == 1000
    assert report["expected_lifetime"] is None and report["derl"] > 0

    text = runner.invoke(app, ["forecast", "retention", "--survivors", "1000,631,468,382", "--lang", "en"])
    assert text.exit_code == 0 and "α = 0." in text.output and "infinite" in text.output

    for args, message in [(["--survivors", "1000,x"], "whole numbers"),
                          (["--survivors", "1000,1100,900"], "must not increase"),
                          (["--survivors", "10,5,2", "--cohort", "2024-01"], "not both")]:
        refused = runner.invoke(app, ["forecast", "retention", *args])
        assert refused.exit_code == 2 and message in refused.output, refused.output
