"""Everything about one account, for the account 360 page: its MRR month by month, its health
history with components, its contacts, and one timeline of what happened — daily usage,
tickets, survey answers, invoices, CS activities and churn requests, newest first."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from sucesso.metrics.mrr import mrr_at
from sucesso.metrics.periods import add_months, periods
from sucesso.metrics.registry import Context


def profile(store, account_id: str) -> dict | None:
    con = store.ibis()
    a, c = con.table("accounts"), con.table("csms")
    t = a.filter(a.account_id == account_id).left_join(c.select("csm_id", csm_name="name"), "csm_id")
    rows = con.execute(t.drop("csm_id_right")).to_dict("records")
    return rows[0] if rows else None


def mrr_history(store, account_id: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """period (YYYY-MM), mrr: the account's MRR just before the end of each month."""
    con = store.ibis()
    months = periods(first, last)
    subs = con.table("subscriptions")
    with Context(con, months) as ctx:
        paid = con.execute(mrr_at(subs.filter(subs.account_id == account_id), ctx.instants(lambda p: p.end)))
    by_index = dict(zip(paid["idx"], paid["mrr"].astype(float), strict=True))
    return pd.DataFrame({"period": [p.label for p in months], "mrr": [by_index.get(p.index, 0.0) for p in months]})


def health_history(store, account_id: str) -> pd.DataFrame:
    """as_of, score, band, components (JSON text) from the kept history."""
    from sucesso.health.history import history

    return history(store, account_id)


def contacts(store, account_id: str) -> pd.DataFrame:
    con = store.ibis()
    t = con.table("contacts")
    return con.execute(t.filter(t.account_id == account_id).order_by("name"))


def timeline(store, account_id: str, since: dt.date, limit: int = 200) -> pd.DataFrame:
    """at, kind, title, detail: the account's events on or after `since`, newest first
    (usage as one line per active day)."""
    con = store.ibis()
    lo = pd.Timestamp(since)

    def rows(name: str, at: str):
        t = con.table(name)
        return t.filter((t.account_id == account_id) & (t[at] >= lo))

    def lines(t, at, kind, title, detail):
        """One timeline line per row, in the same types whatever the table."""
        kind = ibis.literal(kind) if isinstance(kind, str) else kind
        return t.select(at=at.cast("timestamp"), kind=kind.cast("string"), title=title.cast("string"),
                        detail=ibis.coalesce(detail.cast("string"), ibis.literal("")).cast("string"))

    e = rows("usage_events", "occurred_at")
    usage = e.group_by(day=e.occurred_at.truncate("D")).aggregate(
        events=e.count(), users=e.contact_id.nunique(), features=e.event.nunique())
    usage = lines(usage, usage.day, "usage", usage.events.cast("string") + " events",
                  usage.users.cast("string") + " users, " + usage.features.cast("string") + " features")
    t = rows("tickets", "opened_at")
    tickets = lines(t, t.opened_at, "ticket", ibis.coalesce(t.category, ibis.literal("ticket")),
                    ibis.coalesce(t.priority, ibis.literal("")) + " " + ibis.coalesce(t.channel, ibis.literal("")))
    s = rows("survey_responses", "answered_at")
    surveys = lines(s, s.answered_at, s.survey, s.survey.upper() + " " + s.score.cast("string"), s.comment)
    i = rows("invoices", "issued_at")
    invoices = lines(i, i.issued_at, "invoice", i.amount.cast("string") + " " + i.status, i.category)
    a = rows("cs_activities", "occurred_at")
    activities = lines(a, a.occurred_at, "cs_activity", a.kind, a.notes)
    r = rows("churn_requests", "requested_at")
    requests = lines(r, r.requested_at, "churn_request", r.reason_code + ": " + r.outcome, r.reason_detail)
    union = ibis.union(usage, tickets, surveys, invoices, activities, requests)
    return con.execute(union.order_by(ibis.desc("at")).limit(limit))


def span_for(last_day: dt.date, months: int = 24) -> tuple[dt.date, dt.date]:
    last = last_day.replace(day=1)
    return add_months(last, -(months - 1)), last
