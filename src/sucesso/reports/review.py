"""The success review of one account for a period [start, end): what a CSM presents to the
customer, as one plain dict — the JSON API's answer, and what render.py and pdf.py draw.

The figures reuse the definitions below them, evaluated for this one account and period:
- MRR at the start and at the end: S_a and E_a of the `movements` frame (METRICS.md, "Periods
  and snapshots"), and the change E_a − S_a (as a share of S_a: null when S_a = 0);
- seat utilisation: the `adoption` frame's (active users in the last 30 days of the period / seats);
- tickets: the `support` frame's tickets opened in P, FCR and median hours (METRICS.md "Support"),
  and the tickets resolved in P;
- satisfaction: the `surveys` frame's NPS, CSAT and CES over the answers given in P, and the answers;
- health: the workspace's model (health/report.py) at the end of the period (or when the data
  ends, if sooner) and at its start, with the "what changed" sentences (health/explain.py).
Counted here for the one account, in plain SQL:
- usage events in P, active users (distinct contacts with an event in P), active days (days with
  an event), key features used in P (`features.is_key`), and per month the events and active
  users of P and the two quarters before (the usage chart);
- milestones reached in P and before (with the features tied to them), open tasks, and up to three
  suggestions for the weakest health components.
Words in the dict (sentences, suggestions, milestone names) are in the review's language.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sucesso.health.explain import component_name
from sucesso.health.history import default_as_of
from sucesso.health.report import health_inputs, report_from
from sucesso.health.score import components_of
from sucesso.i18n import gettext_for
from sucesso.insight import account360
from sucesso.metrics.evaluate import clean
from sucesso.metrics.periods import Period, add_months
from sucesso.metrics.registry import METRICS, Context
from sucesso.reports.choices import ReviewSpan, find_account, review_language, review_span
from sucesso.store import get_setting

FRAME_VALUES = {  # frame → what the review reads of it: KPI keys (METRICS.md), else frame columns
    "movements": ("start_mrr", "end_mrr"),
    "adoption": ("seat_utilisation",),
    "support": ("tickets_opened", "fcr", "first_response_hours_median", "resolution_hours_median"),
    "surveys": ("nps", "nps_responses", "csat", "csat_responses", "ces", "ces_responses"),
}
COLUMN_UNITS = {"start_mrr": "money", "end_mrr": "money"}  # frame columns that are no KPI; the rest are counts
CHART_MONTHS_BEFORE = 6  # the usage chart shows the period and the two quarters before it
SUGGEST_BELOW = 70  # a component scoring under this gets a suggestion (green starts at 71)
MAX_SUGGESTIONS = 3
MILESTONES = {  # in English; translated by the catalog (reviews.po)
    "activated": "Activated", "onboarding_completed": "Onboarding completed", "first_value": "First value",
    "first_success": "First success",
}
SUGGESTIONS = {  # health component → what to do about it (English; reviews.po translates)
    "usage": "Agree on a usage routine: which people run which tasks in the product each week.",
    "adoption": "Plan a training on the key features not used yet, and invite the people who have seats but "
                "do not use them.",
    "support": "Review the open tickets together and agree on how to close them; a short training can prevent "
               "the questions that repeat.",
    "satisfaction": "Ask for feedback: go over the latest survey answers together and agree on what to improve.",
    "financial": "Settle the open invoices and check that the plan still fits the team's needs.",
    "engagement": "Schedule regular check-ins with your customer success manager, at least once a month.",
    "referrals": "Share your results: a case study or a referral helps companies like yours.",
}
OTHER_SUGGESTION = "Look into %(component)s together: it is the weakest part of the health score."


def success_review(store, account: str, period: str | None = None, start: str | dt.date | None = None,
                   end: str | dt.date | None = None, lang: str | None = None, today: dt.date | None = None) -> dict:
    """The review of `account` (an account_id or an exact name) for `period` (2026-Q3, 2026-09,
    2026) or [start, end), by default the last full quarter of data; in `lang` (en, pt_BR), by
    default the account's (choices.review_language). AccountNotFound, or ValueError for a bad
    period or language."""
    account_id = find_account(store, account)
    profile = account360.profile(store, account_id)
    span = review_span(store, period, start, end, today)
    language = review_language(store, profile, lang)
    _ = gettext_for(language)
    values = _frame_values(store, account_id, span)
    health = _health(store, account_id, span, language)
    return {
        "account": {"account_id": account_id, "name": profile["name"], "csm": profile.get("csm_name"),
                    "plan": profile.get("plan"), "segment": profile.get("segment"),
                    "country": profile.get("country")},
        "period": {"label": span.label, "kind": span.kind, "from": span.start.isoformat(),
                   "to": span.end.isoformat(), "last_day": span.last_day.isoformat()},
        "language": language,
        "currency": get_setting(store, "currency"),
        "prepared_on": (today or dt.date.today()).isoformat(),
        "kpis": _kpis(store, account_id, span, values, profile),
        "health": health,
        "usage": _monthly_usage(store, account_id, span),
        "tickets": {"opened": values["tickets_opened"], "resolved": _resolved(store, account_id, span),
                    "fcr": values["fcr"], "first_response_hours_median": values["first_response_hours_median"],
                    "resolution_hours_median": values["resolution_hours_median"]},
        "satisfaction": {**{k: values[k] for k in FRAME_VALUES["surveys"]},
                         "answers": _answers(store, account_id, span)},
        "goals": _goals(store, account_id, span, _),
        "next_steps": {"tasks": _open_tasks(store, account_id), "suggestions": _suggestions(health, _)},
    }


def _frame_values(store, account_id: str, span: ReviewSpan) -> dict:
    """FRAME_VALUES for this account and period: one period, the frames restricted to the account."""
    con = store.ibis()
    kind = span.kind if span.kind != "dates" else "month"  # the kind only sets periods_per_year, unused here
    values = {}
    with Context(con, [Period(1, span.start, span.end, kind)], accounts=(account_id,)) as ctx:
        for name, keys in FRAME_VALUES.items():
            t = ctx.frame(name)
            row = con.execute(t.select(*[METRICS[k](t) if k in METRICS else t[k].name(k) for k in keys])).iloc[0]
            values.update({k: clean(row[k], METRICS[k].unit if k in METRICS else COLUMN_UNITS.get(k, "count"))
                           for k in keys})
    return values


def _rows(store, sql: str, params: tuple) -> list[dict]:
    rows, columns = store.fetchall_with_columns(sql, params)
    return [dict(zip(columns, r, strict=True)) for r in rows]


def _instants(span: ReviewSpan) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(span.start, dt.time()), dt.datetime.combine(span.end, dt.time())


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


USAGE_SQL = """
SELECT count(*) AS events, count(DISTINCT contact_id) AS users, count(DISTINCT CAST(occurred_at AS DATE)) AS days
  FROM usage_events WHERE account_id = ? AND occurred_at >= ? AND occurred_at < ?
"""
KEY_FEATURES_SQL = """
SELECT f.event, f.name, count(u.event_id) AS events
  FROM features f LEFT JOIN usage_events u
    ON u.event = f.event AND u.account_id = ? AND u.occurred_at >= ? AND u.occurred_at < ?
 WHERE f.is_key GROUP BY f.event, f.name ORDER BY f.name, f.event
"""


def _kpis(store, account_id: str, span: ReviewSpan, values: dict, profile: dict) -> dict:
    lo, hi = _instants(span)
    usage = _rows(store, USAGE_SQL, (account_id, lo, hi))[0]
    features = [{"event": f["event"], "name": f["name"], "events": int(f["events"]), "used": f["events"] > 0}
                for f in _rows(store, KEY_FEATURES_SQL, (account_id, lo, hi))]
    start, end = values["start_mrr"], values["end_mrr"]
    change = round(end - start, 2)
    seats = profile.get("seats")
    return {"mrr_start": start, "mrr_end": end, "mrr_change": change,
            "mrr_change_rate": change / start if start else None,
            "seats": None if seats is None or pd.isna(seats) else int(seats),
            "seat_utilisation": values["seat_utilisation"],
            "active_users": int(usage["users"]), "active_days": int(usage["days"]),
            "usage_events": int(usage["events"]),
            "key_features": features, "key_features_used": sum(f["used"] for f in features)}


MONTHLY_SQL = """
SELECT date_trunc('month', occurred_at) AS month, count(*) AS events, count(DISTINCT contact_id) AS users
  FROM usage_events WHERE account_id = ? AND occurred_at >= ? AND occurred_at < ?
 GROUP BY date_trunc('month', occurred_at)
"""


def _monthly_usage(store, account_id: str, span: ReviewSpan) -> list[dict]:
    """Per month from two quarters before the period to its end: usage events and active users
    (distinct contacts with an event in the month); months without usage count 0."""
    first = add_months(span.start.replace(day=1), -CHART_MONTHS_BEFORE)
    lo = dt.datetime.combine(first, dt.time())
    counted = {pd.Timestamp(r["month"]).strftime("%Y-%m"): r
               for r in _rows(store, MONTHLY_SQL, (account_id, lo, _instants(span)[1]))}
    months, month = [], first
    while month < span.end:
        row = counted.get(f"{month:%Y-%m}", {"events": 0, "users": 0})
        months.append({"month": f"{month:%Y-%m}", "events": int(row["events"]), "active_users": int(row["users"]),
                       "in_period": month >= span.start.replace(day=1)})
        month = add_months(month, 1)
    return months


def _resolved(store, account_id: str, span: ReviewSpan) -> int:
    rows = store.fetchall("SELECT count(*) FROM tickets WHERE account_id = ? AND resolved_at >= ? AND resolved_at < ?",
                          (account_id, *_instants(span)))
    return int(rows[0][0])


ANSWERS_SQL = """
SELECT r.survey, r.score, r.scale_min, r.scale_max, r.comment, r.answered_at, c.name AS contact
  FROM survey_responses r LEFT JOIN contacts c ON c.contact_id = r.contact_id
 WHERE r.account_id = ? AND r.answered_at >= ? AND r.answered_at < ?
 ORDER BY r.answered_at, r.response_id
"""


def _answers(store, account_id: str, span: ReviewSpan) -> list[dict]:
    return [{"survey": a["survey"], "score": float(a["score"]), "scale_min": int(a["scale_min"]),
             "scale_max": int(a["scale_max"]), "comment": a["comment"] or None, "answered_at": _iso(a["answered_at"]),
             "contact": a["contact"]} for a in _rows(store, ANSWERS_SQL, (account_id, *_instants(span)))]


def _health(store, account_id: str, span: ReviewSpan, language: str) -> dict | None:
    """The health report at the end of the period (or the day after the data ends, if sooner)
    against its start: score, band, components then and now, what changed. None when the account
    has no score then (it was no paying customer)."""
    as_of = max(span.start + dt.timedelta(days=1), min(span.end, default_as_of(store)))
    inputs = health_inputs(store, as_of, (as_of - span.start).days, accounts=[account_id])
    found = report_from(inputs, account_id, locale=language)["accounts"]
    if not found:
        return None
    now = found[0]
    before = inputs.before[inputs.before["account_id"] == account_id]
    then = before.iloc[0] if len(before) else None
    start_of = {c: _number(then[c]) for c in components_of(before)} if then is not None else {}
    return {"as_of": inputs.as_of.isoformat(), "since": inputs.since.isoformat(), "model": now["model"],
            "score": now["rounded"], "band": now["band"],
            "start_score": _number(then["rounded"]) if then is not None else None,
            "start_band": then["band"] if then is not None else None, "change": now["change"],
            "components": [{"name": c["name"], "label": component_name(c["name"], language), "score": c["score"],
                            "start_score": start_of.get(c["name"]), "weight": c["weight"], "missing": c["missing"]}
                           for c in now["components"]],
            "changes": now["changes"]}


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


MILESTONES_SQL = "SELECT milestone, reached_at FROM milestones WHERE account_id = ? AND reached_at < ? " \
                 "ORDER BY reached_at, milestone"


def _goals(store, account_id: str, span: ReviewSpan, _) -> dict:
    """Milestones reached in the period, and earlier, each with the features tied to it."""
    lo, hi = _instants(span)
    tied: dict[str, list[str]] = {}
    for milestone, name in store.fetchall("SELECT milestone, name FROM features WHERE milestone IS NOT NULL "
                                          "ORDER BY name"):
        tied.setdefault(milestone, []).append(name)
    goals = {"reached": [], "earlier": []}
    for m in _rows(store, MILESTONES_SQL, (account_id, hi)):
        when = "reached" if pd.Timestamp(m["reached_at"]) >= pd.Timestamp(lo) else "earlier"
        goals[when].append({"milestone": m["milestone"], "label": _milestone_label(m["milestone"], _),
                            "reached_at": _iso(m["reached_at"]), "features": tied.get(m["milestone"], [])})
    return goals


def _milestone_label(milestone: str, _) -> str:
    return _(MILESTONES[milestone]) if milestone in MILESTONES else milestone.replace("_", " ").capitalize()


TASKS_SQL = "SELECT title, due_at, status FROM tasks WHERE account_id = ? AND status = 'open' " \
            "ORDER BY due_at NULLS LAST, title"


def _open_tasks(store, account_id: str) -> list[dict]:
    return [{"title": t["title"], "due_at": _iso(t["due_at"]), "status": t["status"]}
            for t in _rows(store, TASKS_SQL, (account_id,))]


def _suggestions(health: dict | None, _) -> list[dict]:
    """Up to three, for the weakest components scoring under SUGGEST_BELOW, weakest first."""
    if health is None:
        return []
    weak = sorted((c for c in health["components"] if not c["missing"] and c["weight"]
                   and c["score"] < SUGGEST_BELOW), key=lambda c: c["score"])
    return [{"component": c["name"], "score": c["score"],
             "text": _(SUGGESTIONS[c["name"]]) if c["name"] in SUGGESTIONS
             else _(OTHER_SUGGESTION, component=c["label"])} for c in weak[:MAX_SUGGESTIONS]]
