"""Customer lives: the spans during which an account paid (MRR > 0), from its subscriptions.

An account's MRR at t is the sum over its subscriptions with started_at ≤ t < ended_at
(DESIGN.md). A *life* is a maximal span with MRR > 0: paid subscriptions that overlap or
touch (a plan change ends one row at t and starts the next at t) make one life; a gap with
no paid subscription ends it (churn), and a later paid subscription starts a new life
(reactivation). Survival, churn labels and success factors all read lives from here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd


def lives(store) -> pd.DataFrame:
    """account_id, life (1, 2, … in order), started_at, ended_at (NaT while still paying).

    Sorted by account and start. Free (mrr = 0) subscriptions do not make a life.
    """
    con = store.ibis()
    subs = con.table("subscriptions")
    paid = con.execute(subs.filter(subs.mrr > 0).select("account_id", "started_at", "ended_at"))
    return merge_spans(paid)


def merge_spans(paid: pd.DataFrame) -> pd.DataFrame:
    """Union of [started_at, ended_at) spans per account (ended_at NaT = open), as lives."""
    columns = ["account_id", "life", "started_at", "ended_at"]
    if paid.empty:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "account_id" else "datetime64[us]")
                             for c in columns}).astype({"life": "int64"})
    far = pd.Timestamp("2262-01-01")
    p = paid.assign(started_at=pd.to_datetime(paid["started_at"]),
                    ended_at=pd.to_datetime(paid["ended_at"]).fillna(far))
    p = p.sort_values(["account_id", "started_at", "ended_at"]).reset_index(drop=True)
    # the furthest end reached so far within the account, before this row
    reach = p.groupby("account_id")["ended_at"].cummax()
    previous_reach = reach.groupby(p["account_id"]).shift()
    starts_life = previous_reach.isna() | (p["started_at"] > previous_reach)
    life = starts_life.astype("int64").groupby(p["account_id"]).cumsum()
    out = (p.assign(life=life).groupby(["account_id", "life"], sort=True)
           .agg(started_at=("started_at", "min"), ended_at=("ended_at", "max")).reset_index())
    out["ended_at"] = out["ended_at"].where(out["ended_at"] < far)
    return out[columns]


def churned_between(all_lives: pd.DataFrame, since: dt.datetime, until: dt.datetime) -> pd.Index:
    """The accounts that were customers at `since` and stopped paying by `until`.

    With the MRR convention of metrics/mrr.py (MRR just before an instant): a customer at T
    has a life with started_at < T ≤ ended_at (or no end); it has churned by U when that life
    ended before U (ended_at < U), so its MRR just before U is 0. A plan change is not a churn
    (it does not end the life); a churn followed by a comeback before U still counts.
    """
    since, until = pd.Timestamp(since), pd.Timestamp(until)
    ended = all_lives["ended_at"]
    running = (all_lives["started_at"] < since) & (ended.isna() | (ended >= since))
    stopped = running & ended.notna() & (ended < until)
    return pd.Index(all_lives.loc[stopped, "account_id"].unique(), name="account_id")


def churn_labels(all_lives: pd.DataFrame, dates: list[dt.date], horizon_days: int = 90) -> pd.DataFrame:
    """account_id, as_of, churned: for each date T, the accounts that churned in (T, T + horizon]
    (`churned_between`). Accounts not listed did not churn then."""
    frames = []
    for d in dates:
        t = dt.datetime(d.year, d.month, d.day)
        hit = churned_between(all_lives, t, t + dt.timedelta(days=horizon_days))
        frames.append(pd.DataFrame({"account_id": hit, "as_of": d, "churned": True}))
    if not frames:
        return pd.DataFrame({"account_id": [], "as_of": [], "churned": []})
    return pd.concat(frames, ignore_index=True)


def with_churn_labels(rows: pd.DataFrame, all_lives: pd.DataFrame, horizon_days: int = 90) -> pd.DataFrame:
    """rows (account_id, as_of, …) with a bool `churned` column: churned in (as_of, as_of + horizon]."""
    labels = churn_labels(all_lives, sorted(set(rows["as_of"])), horizon_days)
    out = rows.merge(labels, on=["account_id", "as_of"], how="left")
    out["churned"] = out["churned"].astype("boolean").fillna(False).astype(bool)
    return out
