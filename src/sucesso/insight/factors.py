"""Success factors ("first value"): the early behaviours that separate customers who stay.

For each behaviour of an account's first N days, the retention of the accounts that did it
against those that did not, with 95% intervals, sample sizes and a p-value, ranked by lift.

**Population.** Accounts that became customers — their first paid life (`insight.lives`)
started — at least `horizon` days (default 180) before the data ends (`metrics.api.data_end`),
so that their outcome is known. Free-only accounts and prospects never paid, so they have no
outcome and are left out; later lives (comebacks) are not new accounts.

**Outcome (lagging).** `retained_<horizon>d`: the account is still in its first life at
s + horizon, s = the first life's start; with the MRR convention of metrics/mrr.py (read just
before the instant) that is ended_at ≥ s + horizon, or no end. A churn followed by a comeback
within the horizon is not retained. The clock starts at the first paid day, not at signup, so
that a long trial does not count as retention.

**Behaviours (leading).** Counted in the account's first N days (default 30) from
`accounts.created_at`, the signup: onboarding happens from signup, paid or not, and
activation_rate and time to first value (METRICS.md) count their N days from there too. A row
is in the window when its instant ≤ created_at + N days (the bound of activation_rate). Per
account, in the engine (Ibis), only the small per-account results come back:

- per feature of the `features` catalogue: its usage events (count);
- active users: distinct contacts with a usage event (count);
- key features used: catalogue features with is_key used at least once (count);
- days active: distinct calendar days with a usage event (count);
- tickets opened (count; early support load is often a negative factor);
- per milestone: reached in the window (yes/no).

**Statistics.** A split puts n₁ accounts with the behaviour (x₁ retained, p₁ = x₁/n₁) beside
n₀ without it (x₀, p₀). z = 1.959964 (95%).

- Wilson interval of a rate: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
- lift = p₁ − p₀, in [−1, 1] (×100 = percentage points), with Newcombe's hybrid score
  interval from the two Wilson intervals (l, u): [lift − √((p₁−l₁)² + (u₀−p₀)²),
  lift + √((u₁−p₁)² + (p₀−l₀)²)] (Newcombe 1998, Statistics in Medicine 17, method 10).
- p-value: the two-proportion z-test with the pooled rate p = (x₁+x₀)/(n₁+n₀),
  Z = (p₁ − p₀) / √(p(1−p)(1/n₁ + 1/n₀)), p-value = erfc(|Z|/√2); 1 when p is 0 or 1.

A yes/no behaviour splits once. A count behaviour splits at "≥ k" vs "< k" for k in the
distinct counts from 1 to the 95th percentile (a k between two observed counts splits like
the next observed one; at most 50 of them, spread by rank). The chosen k has the largest |Z|
— equivalently the largest chi-square — among the splits with at least `min_accounts` on
each side. Not the largest lift: that favours tiny tail groups, where chance gaps are widest;
|Z| weighs the gap by its standard error. Choosing the best of several k makes its p-value
optimistic; read it as a ranking aid, not a test.

Behaviours with fewer than `min_accounts` (default 20) on either side are reported apart as
too few accounts. The others are ranked by lift, strongest positive first, negative last.
This is association, not cause: healthier accounts may both do more and stay longer. And an
account that pays from signup has its window inside its outcome span: one that churns within
N days has had less time to act, which flatters usage factors a little — keep the horizon
well above N days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from sucesso.i18n import N_, gettext_for
from sucesso.insight.lives import lives
from sucesso.metrics.api import data_end

Z = 1.959963984540054  # the 97.5th percentile of the standard normal: 95% two-sided
MOST_THRESHOLDS = 50


@dataclass(frozen=True)
class Behaviour:
    """One early behaviour: its column in the per-account table, and how to say it.

    `wording` names the fields of `about` and the threshold as {k} (with {s} for a plural).
    """

    column: str
    kind: str  # "count" (split at a threshold) or "yes_no"
    wording: str
    about: dict

    def describe(self, k: int, days: int, _=N_) -> str:
        """The behaviour in words, in the language of the gettext `_` (English by default)."""
        what = _(self.wording).format(k=k, s="" if k == 1 else "s", **self.about)
        return _("{behaviour} in the first {days} days").format(behaviour=what, days=days)


# ── the population and its outcome ───────────────────────────────────────────────────────────

def outcomes(first_lives: pd.DataFrame, end: pd.Timestamp, horizon: int) -> pd.Series:
    """retained (bool) per account_id of the population: the accounts whose first life
    (`first_lives`: life == 1 of `lives`) started at least `horizon` days before `end`;
    retained = still in that life `horizon` days after it started."""
    due = first_lives["started_at"] + pd.Timedelta(days=horizon)
    known = first_lives[due <= end]
    retained = known["ended_at"].isna() | (known["ended_at"] >= due[known.index])
    return pd.Series(retained.to_numpy(), index=pd.Index(known["account_id"], name="account_id"), name="retained")


# ── behaviours, counted in the engine ────────────────────────────────────────────────────────

def _early(con, table: str, at: str, days: int) -> ir.Table:
    """The rows of `table` whose instant `at` falls in their account's first `days` days."""
    accounts = con.table("accounts")
    bounds = accounts.select("account_id", window_end=accounts.created_at + ibis.interval(days=days))
    rows = con.table(table).join(bounds, "account_id")
    return rows.filter(rows[at] <= rows.window_end)


def _per_account(frame: pd.DataFrame, column: str, values: list) -> pd.DataFrame:
    """A long (account_id, column, n) frame as one count column per value, zeros filled."""
    wide = frame.pivot_table(index="account_id", columns=column, values="n", aggfunc="sum", fill_value=0)
    return wide.reindex(columns=values, fill_value=0)


def early_behaviours(store, days: int) -> tuple[list[Behaviour], pd.DataFrame]:
    """The behaviours, and their counts per account (index account_id; accounts that did
    nothing in their window have no row: read them as zeros)."""
    con = store.ibis()
    catalogue = con.execute(con.table("features").select("event", "name", "is_key").order_by("event"))
    milestones = sorted(con.execute(con.table("milestones").select("milestone").distinct())["milestone"])
    behaviours = _behaviours(catalogue, milestones)
    counts = _early_counts(con, days, catalogue, milestones)
    return behaviours, counts.reindex(columns=[b.column for b in behaviours], fill_value=0)


def _behaviours(catalogue: pd.DataFrame, milestones: list[str]) -> list[Behaviour]:
    return [
        *(Behaviour(f"milestone:{m}", "yes_no", N_("Reached {milestone}"), {"milestone": m}) for m in milestones),
        Behaviour("key_features", "count", N_("Used ≥ {k} key feature{s}"), {"measure": "key_features"}),
        *(Behaviour(f"feature:{f.event}", "count", N_("Used {feature} ≥ {k} time{s}"),
                    {"feature": f.name, "event": f.event}) for f in catalogue.itertuples()),
        Behaviour("active_users", "count", N_("≥ {k} active user{s}"), {"measure": "active_users"}),
        Behaviour("days_active", "count", N_("Active on ≥ {k} day{s}"), {"measure": "days_active"}),
        Behaviour("tickets", "count", N_("Opened ≥ {k} ticket{s}"), {"measure": "tickets"}),
    ]


def _early_counts(con, days: int, catalogue: pd.DataFrame, milestones: list[str]) -> pd.DataFrame:
    """One column per behaviour (Behaviour.column), one row per account with something in its window."""
    events = _early(con, "usage_events", "occurred_at", days)
    used = events.filter(events.event.isin(catalogue["event"].tolist()))
    used = con.execute(used.group_by(["account_id", "event"]).aggregate(n=_.count()))
    activity = con.execute(events.group_by("account_id").aggregate(
        active_users=_.contact_id.nunique(), days_active=_.occurred_at.date().nunique()))
    tickets = con.execute(_early(con, "tickets", "opened_at", days).group_by("account_id").aggregate(tickets=_.count()))
    reached = con.execute(_early(con, "milestones", "reached_at", days).select("account_id", "milestone")
                          .distinct().mutate(n=1))

    features = _per_account(used, "event", catalogue["event"].tolist())
    key_events = catalogue.loc[catalogue["is_key"].astype(bool), "event"]
    return pd.concat([
        _per_account(reached, "milestone", milestones).add_prefix("milestone:"),
        (features[key_events] > 0).sum(axis=1).rename("key_features"),
        features.add_prefix("feature:"),
        activity.set_index("account_id"),
        tickets.set_index("account_id"),
    ], axis=1).fillna(0).astype("int64")


# ── statistics of a split ─────────────────────────────────────────────────────────────────────

def wilson(x: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of the rate x/n (NaN, NaN when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    p, z2 = x / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)  # only rounding can cross 0 or 1


def newcombe(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float]:
    """The 95% hybrid score interval of x1/n1 − x0/n0 (Newcombe 1998, method 10)."""
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan
    p1, p0 = x1 / n1, x0 / n0
    (l1, u1), (l0, u0) = wilson(x1, n1), wilson(x0, n0)
    lift = p1 - p0
    return lift - math.hypot(p1 - l1, u0 - p0), lift + math.hypot(u1 - p1, p0 - l0)


def z_score(x1: int, n1: int, x0: int, n0: int) -> float:
    """The pooled two-proportion Z of x1/n1 − x0/n0; 0 when all or none retained."""
    if n1 == 0 or n0 == 0:
        return math.nan
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return (x1 / n1 - x0 / n0) / se if se > 0 else 0.0


def _split(did: np.ndarray, retained: np.ndarray) -> tuple[int, int, int, int]:
    """x1, n1, x0, n0: the retained and all accounts with the behaviour (`did`), and without."""
    return int(retained[did].sum()), int(did.sum()), int(retained[~did].sum()), int((~did).sum())


def _side(x: int, n: int) -> dict:
    return {"accounts": n, "retained": x, "rate": x / n if n else math.nan, "ci": list(wilson(x, n))}


def compare(did: np.ndarray, retained: np.ndarray) -> dict:
    """The retention of the accounts that did (`did` true) against the others."""
    x1, n1, x0, n0 = _split(did, retained)
    return {"with": _side(x1, n1), "without": _side(x0, n0),
            "lift": x1 / n1 - x0 / n0 if n1 and n0 else math.nan, "lift_ci": list(newcombe(x1, n1, x0, n0)),
            "p_value": math.erfc(abs(z_score(x1, n1, x0, n0)) / math.sqrt(2))}


# ── thresholds and factors ───────────────────────────────────────────────────────────────────

def thresholds(counts: np.ndarray) -> np.ndarray:
    """The candidate k: 1 and the distinct counts up to the 95th percentile, at most 50."""
    top = max(np.percentile(counts, 95), 1) if len(counts) else 1
    values = np.union1d([1], counts[(counts >= 1) & (counts <= top)])
    if len(values) > MOST_THRESHOLDS:
        values = values[np.linspace(0, len(values) - 1, MOST_THRESHOLDS).round().astype(int)]
    return values


def best_threshold(counts: np.ndarray, retained: np.ndarray, min_accounts: int) -> int:
    """The k whose split "≥ k" vs "< k" has the largest |Z| with min_accounts on both sides
    (the smallest such k on a tie); the smallest candidate when no split has enough."""
    def score(k: int) -> float:
        x1, n1, x0, n0 = _split(counts >= k, retained)
        return abs(z_score(x1, n1, x0, n0)) if min(n1, n0) >= min_accounts else -1.0

    candidates = thresholds(counts)
    return int(candidates[int(np.argmax([score(k) for k in candidates]))])


def factor(b: Behaviour, counts: np.ndarray, retained: np.ndarray, days: int, min_accounts: int, _=N_) -> dict:
    k = best_threshold(counts, retained, min_accounts) if b.kind == "count" else 1
    return {"behaviour": b.describe(k, days, _), "kind": b.kind, **b.about,
            "threshold": k if b.kind == "count" else None, "indicator": "leading",
            **compare(counts >= k, retained)}


def _defined(value):
    """NaN → None, through lists and dicts: undefined numbers are null in every output."""
    if isinstance(value, dict):
        return {k: _defined(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_defined(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def success_factors(store, days: int = 30, horizon: int = 180, min_accounts: int = 20, locale: str = "en") -> dict:
    """The success factors of the workspace (module docstring), as `sucesso factors --json`
    prints them: ranked `factors`, and `too_few_accounts` (fewer than min_accounts on a side);
    behaviours and the outcome's definition worded in `locale`."""
    _ = gettext_for(locale)
    end = data_end(store)
    if end is None:
        raise ValueError("the workspace has no subscriptions or invoices: no account has an outcome yet")
    end = pd.Timestamp(end)
    all_lives = lives(store)
    retained = outcomes(all_lives[all_lives["life"] == 1], end, horizon)
    if retained.empty:
        raise ValueError(f"no account became a customer at least {horizon} days before the data ends "
                         f"({end:%Y-%m-%d}): try a shorter --horizon")
    behaviours, table = early_behaviours(store, days)
    counts, ok = table.reindex(retained.index, fill_value=0), retained.to_numpy()
    found = [factor(b, counts[b.column].to_numpy(), ok, days, min_accounts, _) for b in behaviours]
    enough = [min(f["with"]["accounts"], f["without"]["accounts"]) >= min_accounts for f in found]
    return _defined({
        "days": days, "horizon_days": horizon, "min_accounts": min_accounts, "data_end": f"{end:%Y-%m-%d}",
        "population": len(ok), "baseline_retention": float(ok.mean()),
        "outcome": {"name": f"retained_{horizon}d", "indicator": "lagging",
                    "definition": _("still paying in the first paid life %(days)s days after it started",
                                    days=horizon)},
        "factors": sorted((f for f, e in zip(found, enough, strict=True) if e), key=lambda f: -f["lift"]),
        "too_few_accounts": [f for f, e in zip(found, enough, strict=True) if not e],
    })
