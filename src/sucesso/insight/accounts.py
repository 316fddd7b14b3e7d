"""One row per account as the CS team lists them: who it is, who owns it, what it pays now,
and its latest health — the table behind the accounts list, the portfolio and the
"needing attention" list."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from ibis import _

from sucesso.metrics.mrr import mrr_at
from sucesso.metrics.periods import as_of
from sucesso.metrics.registry import NO_GROUP, Context

COLUMNS = ["account_id", "name", "segment", "plan", "touch_model", "country", "csm_id", "csm_name", "created_at",
           "mrr", "customer", "score", "band", "score_change", "scored_on"]


def account_table(store, on: dt.date, change_days: int = 30) -> pd.DataFrame:
    """Every account on date `on`: MRR just before it, and the latest kept health score on or
    before it with its change over `change_days` (scores from `sucesso health history`)."""
    con = store.ibis()
    accounts, csms = con.table("accounts"), con.table("csms")
    with Context(con, as_of([on])) as ctx:
        paying = mrr_at(ctx.table("subscriptions"), ctx.instants(lambda p: p.end))
        paying = paying.select("account_id", mrr=_.mrr.cast("float64"))
        t = accounts.left_join(csms.select("csm_id", csm_name="name"), "csm_id").drop("csm_id_right")
        t = t.left_join(paying, "account_id").drop("account_id_right")
        frame = con.execute(t.select("account_id", "name", "segment", "plan", "touch_model", "country", "csm_id",
                                     "csm_name", "created_at", "mrr"))
    frame["mrr"] = frame["mrr"].fillna(0.0)
    frame["customer"] = frame["mrr"] > 0
    scores = _latest_scores(store, on, change_days)
    frame = frame.merge(scores, on="account_id", how="left")
    return frame[COLUMNS]


def _latest_scores(store, on: dt.date, change_days: int) -> pd.DataFrame:
    """account_id, score, band, score_change, scored_on: the last kept day on or before `on`."""
    rows = store.fetchall("SELECT max(as_of) FROM health_scores WHERE as_of <= ?", (on,))
    day = rows[0][0] if rows else None
    if day is None:
        return pd.DataFrame(columns=["account_id", "score", "band", "score_change", "scored_on"])
    before = day - dt.timedelta(days=change_days)
    con = store.ibis()
    h = con.table("health_scores")
    now = con.execute(h.filter(h.as_of == day).select("account_id", "score", "band"))
    then = con.execute(h.filter(h.as_of == before).select("account_id", then="score"))
    now = now.merge(then, on="account_id", how="left")
    now["score_change"] = now["score"].round() - now["then"].round()
    now["scored_on"] = day
    return now.drop(columns="then")


BANDS = ("red", "yellow", "green")


def portfolios(customers: pd.DataFrame, coverage: dict[str, float]) -> pd.DataFrame:
    """Per CSM (accounts without one under NO_GROUP), most MRR first: csm_id, csm_name, accounts,
    mrr, mean_score, customers per band, coverage (csm_id → share, from the coverage KPI) and
    load = accounts / the mean over the CSMs (1.0 = an average portfolio)."""
    owned = customers.assign(csm_id=customers["csm_id"].fillna(NO_GROUP),
                             csm_name=customers["csm_name"].fillna(NO_GROUP))
    table = owned.groupby(["csm_id", "csm_name"], dropna=False).agg(
        accounts=("account_id", "count"), mrr=("mrr", "sum"), mean_score=("score", "mean"))
    bands = pd.crosstab([owned["csm_id"], owned["csm_name"]], owned["band"])
    table = table.join(bands.reindex(columns=list(BANDS), fill_value=0)).fillna({b: 0 for b in BANDS})
    table = table.astype({b: "int64" for b in BANDS}).reset_index()
    table["coverage"] = table["csm_id"].map(coverage)
    mean_load = table.loc[table["csm_id"] != NO_GROUP, "accounts"].mean()
    table["load"] = table["accounts"] / mean_load if mean_load else None
    return table.sort_values(["mrr", "csm_id"], ascending=[False, True])


def band_mix(accounts: pd.DataFrame) -> dict[str, int]:
    """Customers per band (those with a score)."""
    scored = accounts[accounts["customer"] & accounts["band"].notna()]
    return scored["band"].value_counts().to_dict()


def needing_attention(accounts: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """Customers in the red band, or that fell 10+ points, the most MRR first."""
    c = accounts[accounts["customer"]]
    flagged = c[(c["band"] == "red") | (c["score_change"] <= -10)]
    return flagged.sort_values(["mrr", "account_id"], ascending=[False, True]).head(limit)


def moved(store, month: str, move: str) -> list[str]:
    """The accounts whose MRR made `move` in `month` (YYYY-MM) — new, reactivation, expansion,
    contraction or churn, or several of them comma-separated ("contraction,churn"), exactly as the
    MRR movement KPIs count them (metrics/mrr.py) — the accounts behind a bar of the movements
    chart, or a point of a churn or retention rate."""
    import functools
    import operator

    from sucesso.metrics.mrr import MOVES, account_periods, moves
    from sucesso.metrics.periods import parse_month, periods

    chosen = move.split(",")
    if unknown := [m for m in chosen if m not in MOVES]:
        raise ValueError(f"a movement is one of {', '.join(MOVES)}, not {unknown[0]!r}")
    first = parse_month(month)
    with Context(store.ibis(), periods(first, first)) as ctx:
        m = account_periods(ctx)
        made = functools.reduce(operator.or_, (moves(m)[c] for c in chosen))
        return sorted(store.ibis().execute(m.filter(made).select("account_id"))["account_id"])


ACTIVITIES = {  # what an account can do in a month: the table, its instant, and which of its rows
    "nps": ("survey_responses", "answered_at", "survey = 'nps'"),
    "csat": ("survey_responses", "answered_at", "survey = 'csat'"),
    "ces": ("survey_responses", "answered_at", "survey = 'ces'"),
    "tickets": ("tickets", "opened_at", "TRUE"),
    "resolved": ("tickets", "resolved_at", "TRUE"),
    "usage": ("usage_events", "occurred_at", "TRUE"),
    "signup": ("accounts", "created_at", "TRUE"),
}


def active(store, month: str, activity: str) -> list[str]:
    """The accounts that did `activity` in `month` (YYYY-MM): answered an NPS, CSAT or CES
    survey, opened a ticket or had one resolved, used the product, signed up — the accounts
    behind a point of the satisfaction, support and adoption KPIs of that month."""
    from sucesso.metrics.periods import add_months, parse_month

    if activity not in ACTIVITIES:
        raise ValueError(f"an activity is one of {', '.join(ACTIVITIES)}, not {activity!r}")
    table, at, which = ACTIVITIES[activity]
    first = parse_month(month)
    start, end = (dt.datetime.combine(day, dt.time()) for day in (first, add_months(first, 1)))
    rows = store.fetchall(f"SELECT DISTINCT account_id FROM {table} WHERE {at} >= ? AND {at} < ? AND {which} "
                          "ORDER BY account_id", (start, end))
    return [r[0] for r in rows]
