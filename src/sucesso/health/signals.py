"""What each customer's data says as of a date: the signals health models and churn risk read.

As of T (a date, read at its midnight), for every customer at T (MRR just before T > 0, the
convention of metrics/mrr.py). "The last N days" is [T − N days, T), so nothing on or after
T is ever read: a score as of a past date sees only what was known then.

A signal is *missing* (null) when the data cannot say — no survey answer in the window, seats
unknown, no usage in the previous window to compare with, or a whole source table empty in
the workspace (the team does not send tickets, say) — and never silently 0. Counting
signals are 0 when their table has rows but none for the account.

The heavy lifting runs in the engine (Ibis), a chunk of dates per query; only one row per
customer and date comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis import _

from sucesso.metrics.frames import attach, days_in, windowed
from sucesso.metrics.mrr import customers_at_end, first_paid, mrr_at
from sucesso.metrics.periods import as_of
from sucesso.metrics.registry import Context
from sucesso.metrics.unit_economics import past_due


@dataclass(frozen=True)
class Signal:
    name: str
    source: str  # the canonical table it reads: missing for everyone when that table is empty
    meaning: str


SIGNALS: dict[str, Signal] = {s.name: s for s in (
    Signal("mrr", "subscriptions", "MRR just before the date"),
    Signal("mrr_trend_90d", "subscriptions", "MRR now / MRR 90 days before − 1 (missing if it paid nothing then)"),
    Signal("tenure_days", "subscriptions", "days since the account first paid"),
    Signal("events_30d", "usage_events", "usage events in the last 30 days"),
    Signal("usage_change_30d", "usage_events",
           "usage events in the last 30 days / in the 30 days before − 1 (missing if there were none)"),
    Signal("active_days_30d", "usage_events", "days with any usage in the last 30 days (0–30)"),
    Signal("active_users_30d", "usage_events", "people with any usage in the last 30 days"),
    Signal("seat_utilisation_30d", "usage_events", "active users in 30 days / seats (missing if seats unknown)"),
    Signal("key_features_30d", "usage_events", "share of the key features used in the last 30 days (0–1)"),
    Signal("tickets_90d", "tickets", "tickets opened in the last 90 days"),
    Signal("open_tickets", "tickets", "tickets open at the date"),
    Signal("nps_last", "survey_responses", "the latest NPS answer (0–10) in the satisfaction window"),
    Signal("csat_last", "survey_responses", "the latest CSAT answer, rescaled to 0–100, in the satisfaction window"),
    Signal("detractors_180d", "survey_responses", "NPS answers 0–6 in the last 180 days"),
    Signal("promoters_180d", "survey_responses", "NPS answers 9–10 in the last 180 days"),
    Signal("overdue_invoices", "invoices", "invoices past due and unpaid at the date"),
    Signal("days_since_cs_touch", "cs_activities",
           "days since the last CS activity (since the account was created if none)"),
    Signal("cs_touches_90d", "cs_activities", "CS activities in the last 90 days"),
    Signal("referrals_365d", "referrals", "referrals the account made in the last 365 days"),
    Signal("churn_request_open", "churn_requests", "1 when a churn request is pending at the date, else 0"),
)}

ATTRIBUTES = ("segment", "plan", "touch_model", "csm_id", "country", "seats", "created_at", "attributes")
CHUNK_DAYS = 183  # dates per query: fewer, bigger queries compile less often
LAST_30 = (1 << 30) - 1  # the bits of the last 30 days in a 60-day window mask (bit d = d + 1 days back)


def signals(store, dates: list[dt.date], satisfaction_days: int = 365,
            accounts: list[str] | None = None) -> pd.DataFrame:
    """account_id, as_of (date), the account's ATTRIBUTES and one column per SIGNALS entry:
    one row per customer at each date (of `accounts` only, when given), ordered by date and account."""
    backend = store.ibis()
    empty = {t for t in {s.source for s in SIGNALS.values()} if not store.has_rows(t)}
    only = tuple(accounts) if accounts is not None else None
    parts = [_chunk(backend, chunk, satisfaction_days, only) for chunk in _chunks(sorted(set(dates)))]
    out = pd.concat(parts, ignore_index=True) if parts else _chunk(backend, [], satisfaction_days, only)
    for name, s in SIGNALS.items():
        if s.source in empty:
            out[name] = pd.Series(float("nan"), index=out.index, dtype="float64")
    return out.sort_values(["as_of", "account_id"], ignore_index=True)


def _chunks(dates: list[dt.date]) -> Iterator[list[dt.date]]:
    for i in range(0, len(dates), CHUNK_DAYS):
        yield dates[i:i + CHUNK_DAYS]


def _chunk(backend, dates: list[dt.date], satisfaction_days: int, accounts: tuple[str, ...] | None) -> pd.DataFrame:
    with Context(backend, as_of(dates), accounts=accounts) as ctx:
        raw = backend.execute(signal_table(ctx, satisfaction_days))
    labels = {i: d for i, d in enumerate(dates, start=1)}
    raw.insert(1, "as_of", raw.pop("idx").map(labels))
    return derive(raw)


def signal_table(ctx: Context, satisfaction_days: int) -> ir.Table:
    """The raw counts and values per customer and date (idx), for `derive` to finish."""
    # money as float64 here: pandas would otherwise build a Decimal per value
    customers = customers_at_end(ctx).select("account_id", "idx", mrr=_.mrr.cast("float64"))
    keyed = ["account_id", "idx"]
    t = customers
    for part in (_mrr_then(ctx), _usage(ctx), _tickets(ctx), _surveys(ctx, satisfaction_days),
                 _invoices(ctx), _cs(ctx), _referrals(ctx), _requests(ctx)):
        t = attach(t, part, keyed)
    accounts = ctx.table("accounts").select("account_id", *ATTRIBUTES)
    t = attach(attach(t, accounts, ["account_id"]), first_paid(ctx.table("subscriptions")), ["account_id"])
    at = ctx.period_table().select("idx", at="end")
    return t.join(at, "idx").select(*t.columns, "at")


def _count_in(ctx: Context, table: str, at: str, days: int, name: str) -> ir.Table:
    """account_id, idx, `name`: the rows of `table` whose `at` falls in the last `days` days."""
    rows = windowed(ctx, ctx.table(table), at, days)
    return rows.group_by(["account_id", "idx"]).aggregate(**{name: _.count()})


def _mrr_then(ctx: Context) -> ir.Table:
    then = mrr_at(ctx.table("subscriptions"), ctx.instants(lambda p: p.end - dt.timedelta(days=90)))
    return then.select("account_id", "idx", mrr_90d_ago=_.mrr.cast("float64"))


def _usage(ctx: Context) -> ir.Table:
    """Per customer and date: events in the last 30 days and the 30 before, active days and
    users in the last 30, key features used in the last 30 (from 60-day day-bit masks)."""
    events = windowed(ctx, ctx.table("usage_events"), "occurred_at", 60)
    recent = events.bit <= LAST_30
    key = ctx.table("features").filter(_.is_key)
    per_user = events.group_by(["account_id", "idx", "contact_id"]).aggregate(
        n30=_.count(where=recent), n_prev=_.count(where=~recent), mask=_.bit.bit_or())
    usage = per_user.group_by(["account_id", "idx"]).aggregate(
        events_30d=_.n30.sum(), events_prev_30d=_.n_prev.sum(),
        active_days_mask=_.mask.bit_or(),
        active_users_30d=_.contact_id.count(where=(_.n30 > 0)))
    usage = usage.mutate(active_days_30d=days_in(usage.active_days_mask & LAST_30, 30)).drop("active_days_mask")
    used = events.filter(recent & events.event.isin(key.event))
    key_used = used.group_by(["account_id", "idx"]).aggregate(key_features_used=_.event.nunique())
    catalogue = key.aggregate(key_features=_.count())
    return attach(usage, key_used, ["account_id", "idx"]).cross_join(catalogue)


def _tickets(ctx: Context) -> ir.Table:
    tickets, at = ctx.table("tickets"), ctx.period_table()
    recent = _count_in(ctx, "tickets", "opened_at", 90, "tickets_90d")
    unresolved = tickets.resolved_at.isnull() | (tickets.resolved_at >= at.end)
    open_now = tickets.join(at, [tickets.opened_at < at.end, unresolved])
    open_now = open_now.group_by(["account_id", "idx"]).aggregate(open_tickets=_.count())
    return _outer(recent, open_now)


def _surveys(ctx: Context, satisfaction_days: int) -> ir.Table:
    """The latest NPS and CSAT answers in the window, and NPS detractors/promoters in 180 days."""
    answers = ctx.table("survey_responses")
    since = ctx.instants(lambda p: p.end - dt.timedelta(days=satisfaction_days)).rename(since="t")
    window = ctx.period_table().join(since, "idx").select("idx", "since", until="end")
    a = answers.filter(answers.survey.isin(["nps", "csat"]))
    a = a.join(window, [a.answered_at >= window.since, a.answered_at < window.until])
    rescaled = ((a.score - a.scale_min) / (a.scale_max - a.scale_min) * 100).cast("float64")
    a = a.select("account_id", "idx", "survey", "answered_at", "response_id",
                 score=ibis.ifelse(a.survey == "nps", a.score.cast("float64"), rescaled)).view()
    newest = ibis.row_number().over(group_by=[a.account_id, a.idx, a.survey],
                                    order_by=[ibis.desc(a.answered_at), ibis.desc(a.response_id)])
    latest = a.mutate(rank=newest).filter(_.rank == 0)
    last = latest.group_by(["account_id", "idx"]).aggregate(
        nps_last=_.score.max(where=_.survey == "nps"), csat_last=_.score.max(where=_.survey == "csat"))
    nps = windowed(ctx, answers.filter(answers.survey == "nps"), "answered_at", 180)
    recent = nps.group_by(["account_id", "idx"]).aggregate(
        detractors_180d=_.count(where=_.score <= 6), promoters_180d=_.count(where=_.score >= 9))
    return _outer(last, recent)


def _invoices(ctx: Context) -> ir.Table:
    late = past_due(ctx, ctx.period_table())
    return late.group_by(["account_id", "idx"]).aggregate(overdue_invoices=_.count())


def _cs(ctx: Context) -> ir.Table:
    acts, at = ctx.table("cs_activities"), ctx.period_table()
    before = acts.join(at, acts.occurred_at < at.end)
    last = before.group_by(["account_id", "idx"]).aggregate(last_cs_touch=_.occurred_at.max())
    return _outer(last, _count_in(ctx, "cs_activities", "occurred_at", 90, "cs_touches_90d"))


def _referrals(ctx: Context) -> ir.Table:
    return _count_in(ctx, "referrals", "occurred_at", 365, "referrals_365d")


def _requests(ctx: Context) -> ir.Table:
    r, at = ctx.table("churn_requests"), ctx.period_table()
    pending = r.join(at, [r.requested_at < at.end, r.decided_at.isnull() | (r.decided_at >= at.end)])
    return pending.group_by(["account_id", "idx"]).aggregate(churn_requests_pending=_.count())


def _outer(a: ir.Table, b: ir.Table) -> ir.Table:
    """Two aggregates keyed by (account_id, idx), side by side."""
    j = a.outer_join(b, ["account_id", "idx"])
    return j.select(account_id=ibis.coalesce(j.account_id, j.account_id_right),
                    idx=ibis.coalesce(j.idx, j.idx_right),
                    **{c: j[c] for c in a.columns + b.columns if c not in ("account_id", "idx")}).view()


def derive(raw: pd.DataFrame) -> pd.DataFrame:
    """The SIGNALS columns from the raw counts: fill counts with 0, ratios where defined."""
    counts = ["events_30d", "events_prev_30d", "active_days_30d", "active_users_30d", "key_features_used",
              "tickets_90d", "open_tickets", "detractors_180d", "promoters_180d", "overdue_invoices",
              "cs_touches_90d", "referrals_365d", "churn_requests_pending"]
    r = raw.copy()
    for c in counts:
        r[c] = pd.to_numeric(r[c]).fillna(0).astype("int64")
    mrr, then = r["mrr"].astype("float64"), pd.to_numeric(r["mrr_90d_ago"]).astype("float64").fillna(0)
    at = pd.to_datetime(r.pop("at"))
    seats = pd.to_numeric(r["seats"]).astype("float64")
    created = pd.to_datetime(r["created_at"])
    since_touch = pd.to_datetime(r.pop("last_cs_touch")).fillna(created)
    out = r.assign(
        mrr=mrr,
        mrr_trend_90d=(mrr / then.where(then > 0)) - 1,
        tenure_days=(at - pd.to_datetime(r.pop("first_paid_at"))).dt.total_seconds() / 86_400,
        usage_change_30d=r["events_30d"] / r["events_prev_30d"].where(r["events_prev_30d"] > 0) - 1,
        seat_utilisation_30d=r["active_users_30d"] / seats.where(seats > 0),
        key_features_30d=r["key_features_used"] / pd.to_numeric(r["key_features"]).where(lambda k: k > 0),
        nps_last=pd.to_numeric(r["nps_last"]).astype("float64"),
        csat_last=pd.to_numeric(r["csat_last"]).astype("float64"),
        days_since_cs_touch=((at - since_touch).dt.total_seconds() / 86_400).clip(lower=0),
        churn_request_open=(r["churn_requests_pending"] > 0).astype("int64"),
    )
    keep = ["account_id", "as_of", *ATTRIBUTES, *SIGNALS]
    return out[keep]

