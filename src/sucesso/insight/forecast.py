"""Retention forecast: the shifted-beta-geometric (sBG) model of Fader & Hardie (2007), "How to
project customer retention", Journal of Interactive Marketing 21(1), 76–90.

Each customer churns at the end of a period with a probability θ that is fixed for them, and θ
varies across customers as Beta(α, β). The share of a cohort still there after t periods, and
the chance that a customer churns in period t, are then

    S(0) = 1,   S(t) = S(t−1)·(β + t − 1)/(α + β + t − 1)
    P(T = t) = S(t−1) − S(t) = S(t−1)·α/(α + β + t − 1)          (so P(T = 1) = α/(α + β))

and the retention rate r_t = S(t)/S(t−1) = (β + t − 1)/(α + β + t − 1) rises with t: the
customers quick to churn leave first. Given a cohort's survivors n_0 ≥ n_1 ≥ … ≥ n_T,

    LL(α, β) = Σ_{t=1..T} (n_{t−1} − n_t)·ln P(T = t) + n_T·ln S(T)

is maximised over (ln α, ln β) with L-BFGS-B from several starts.

Expected lifetime, in periods, counting the first: E[T] = Σ_{t≥0} S(t) = E[1/θ] =
(α + β − 1)/(α − 1) when α > 1. When α ≤ 1 the sum diverges — enough customers have θ near 0
to stay practically for ever — and the mean is reported as None (infinite). The discounted
expected residual lifetime of a customer at the end of their first period, just before they
decide to renew (Fader & Hardie 2010, "Customer-base valuation in a contractual setting",
Marketing Science 29(1)), at a discount rate d per period:

    DERL = Σ_{t≥1} S(t)/(1 + d)^{t−1} = β/(α + β) · ₂F₁(1, β + 1; α + β + 1; 1/(1 + d))

finite for every d > 0.

Survivors from the workspace: a cohort is the accounts whose first life (insight/survival.py)
started in a calendar month. An account survives month k when its first life has not ended
before start + k months (a month being 365.25/12 days, as in survival.py), i.e. its duration is
at least k months. A cohort's count at month k is known once every member has been followed
k months (its latest start + k months ≤ the data end), so a cohort gives n_0 … n_K up to the K
its youngest member allows. Pooling sums the cohorts that have all observed the chosen number
of months, over those months only, so every count is a full observation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import hyp2f1

from sucesso.i18n import gettext_for
from sucesso.insight.survival import MONTH_DAYS, first_lives
from sucesso.metrics.periods import parse_month
from sucesso.store import Store

STARTS = [(a, b) for a in (-2.0, 0.0, 2.0) for b in (-2.0, 0.0, 2.0)]  # (ln α, ln β)
LOG_LIMIT = 12.0
BOUNDS = [(-LOG_LIMIT, LOG_LIMIT)] * 2


@dataclasses.dataclass(frozen=True)
class SBGFit:
    alpha: float
    beta: float
    log_likelihood: float
    survivors: tuple[int, ...]

    @property
    def periods(self) -> int:
        return len(self.survivors) - 1

    @property
    def at_limit(self) -> bool:
        """α or β ran to the edge of the search (e^±12). Typically the counts show one constant churn
        rate for everyone: the likelihood keeps rising as α, β → ∞ with α/(α+β) fixed."""
        return any(abs(math.log(v)) > LOG_LIMIT - 1e-6 for v in (self.alpha, self.beta))


@dataclasses.dataclass(frozen=True)
class Projection:
    """Retention S(t), survivors n_0·S(t) and retention rates r_t (None at t = 0) for t = 0..periods."""

    fit: SBGFit
    retention: list[float]
    survivors: list[float]
    retention_rate: list[float | None]
    expected_lifetime: float | None
    discount: float | None
    derl: float | None

    def as_dict(self) -> dict:
        fit = self.fit
        return {"alpha": fit.alpha, "beta": fit.beta, "log_likelihood": fit.log_likelihood,
                "at_limit": fit.at_limit, "observed": list(fit.survivors),
                **{f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "fit"}}


def log_retention(alpha: float, beta: float, periods: int) -> np.ndarray:
    """ln S(t) for t = 0..periods."""
    t = np.arange(1, periods + 1)
    return np.concatenate([[0.0], np.cumsum(np.log(beta + t - 1) - np.log(alpha + beta + t - 1))])


def log_likelihood(alpha: float, beta: float, survivors) -> float:
    """LL(α, β) of the survivor counts n_0..n_T (module docstring)."""
    n = np.asarray(survivors, dtype=float)
    t = np.arange(1, len(n))
    log_s = log_retention(alpha, beta, len(n) - 1)
    log_churn = log_s[:-1] + np.log(alpha) - np.log(alpha + beta + t - 1)
    return float(np.dot(n[:-1] - n[1:], log_churn) + n[-1] * log_s[-1])


def checked_survivors(survivors) -> tuple[int, ...]:
    """The counts as ints, or a ValueError saying what is wrong with them."""
    counts = tuple(int(n) for n in survivors)
    if len(counts) < 3:
        raise ValueError(f"the sBG model needs survivors for at least two periods (n_0, n_1, n_2), got {len(counts)} "
                         "count(s): one period identifies only α/(α+β), not α and β")
    if any(n < 0 for n in counts):
        raise ValueError(f"survivor counts cannot be negative: {list(counts)}")
    if counts[0] == 0:
        raise ValueError("the first count (the cohort's size) is 0: there is no one to follow")
    rises = [t for t in range(1, len(counts)) if counts[t] > counts[t - 1]]
    if rises:
        t = rises[0]
        raise ValueError(f"survivor counts must not increase: period {t} has {counts[t]} after {counts[t - 1]}")
    if counts[-1] == counts[0]:
        raise ValueError("no customer was lost in any period: there is no churn to fit the model to")
    return counts


def fit_sbg(survivors) -> SBGFit:
    """α, β maximising the sBG log-likelihood of the survivor counts n_0..n_T."""
    counts = checked_survivors(survivors)

    def cost(x: np.ndarray) -> float:
        return -log_likelihood(math.exp(x[0]), math.exp(x[1]), counts)

    best = min((minimize(cost, start, method="L-BFGS-B", bounds=BOUNDS) for start in STARTS), key=lambda r: r.fun)
    alpha, beta = (float(math.exp(x)) for x in best.x)
    return SBGFit(alpha, beta, log_likelihood(alpha, beta, counts), counts)


def expected_lifetime(alpha: float, beta: float) -> float | None:
    """E[T] = Σ_{t≥0} S(t) = (α + β − 1)/(α − 1) periods; None (infinite) when α ≤ 1."""
    return (alpha + beta - 1) / (alpha - 1) if alpha > 1 else None


def derl(alpha: float, beta: float, discount: float) -> float:
    """β/(α + β)·₂F₁(1, β + 1; α + β + 1; 1/(1 + d)): see the module docstring."""
    if not discount > 0:
        raise ValueError(f"the discount rate must be above 0 (e.g. 0.01 for 1% a period), got {discount}")
    return float(beta / (alpha + beta) * hyp2f1(1, beta + 1, alpha + beta + 1, 1 / (1 + discount)))


def project(fit: SBGFit, periods: int, discount: float | None = None) -> Projection:
    """The fitted model's retention for t = 0..periods, with the survivors it implies for n_0."""
    if periods < 1:
        raise ValueError(f"project at least one period, not {periods}")
    retention = np.exp(log_retention(fit.alpha, fit.beta, periods))
    return Projection(
        fit=fit,
        retention=[float(s) for s in retention],
        survivors=[float(s * fit.survivors[0]) for s in retention],
        retention_rate=[None] + [float(r) for r in retention[1:] / retention[:-1]],
        expected_lifetime=expected_lifetime(fit.alpha, fit.beta),
        discount=discount,
        derl=None if discount is None else derl(fit.alpha, fit.beta, discount),
    )


# -- survivors from the workspace's own cohorts -------------------------------------------
def cohort_survivors(durations: pd.DataFrame) -> dict[str, list[int]]:
    """{"YYYY-MM": [n_0, …, n_K]} per first-life start month, from first_life_durations' frame;
    K is the whole months the cohort's youngest member has been followed."""
    per_month = durations.groupby(durations["started_at"].dt.strftime("%Y-%m"), sort=True)
    out = {}
    for label, members in per_month:
        months = math.floor(members["observed_days"].min() / MONTH_DAYS)
        out[label] = [int((members["days"] >= k * MONTH_DAYS).sum()) for k in range(months + 1)]
    return out


def pooled_survivors(cohorts: dict[str, list[int]], months: int) -> tuple[list[str], list[int]]:
    """The cohorts that have observed `months` months, and the sum of their n_0..n_months."""
    pooled = [label for label, counts in cohorts.items() if len(counts) > months]
    if not pooled:
        raise ValueError(f"no cohort has been followed for {months} months yet; pool fewer months or pick a cohort")
    return pooled, [sum(cohorts[label][k] for label in pooled) for k in range(months + 1)]


def workspace_survivors(store: Store, cohort: str | None = None, months: int = 12,
                        locale: str = "en") -> tuple[str, list[int]]:
    """What the counts are ("cohort 2024-03" / "24 cohorts pooled…", in `locale`) and the counts, n_0 first."""
    _ = gettext_for(locale)
    cohorts = cohort_survivors(first_lives(store))
    if cohort is None:
        pooled, counts = pooled_survivors(cohorts, months)
        return _("%(count)s cohorts pooled (%(first)s to %(last)s), months 0–%(months)s", count=len(pooled),
                 first=pooled[0], last=pooled[-1], months=months), counts
    label = f"{parse_month(cohort):%Y-%m}"
    if label not in cohorts:
        raise ValueError(f"no account started paying in {label}; the cohorts run from {min(cohorts)} to "
                         f"{max(cohorts)}")
    return _("cohort %(month)s", month=label), cohorts[label]
