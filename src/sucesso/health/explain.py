"""What changed since the previous score, in words a CSM can repeat to a manager.

Given each account's score and signals now and at an earlier date, and the events between
the two dates, `explain` gives per account a list of short sentences, most important first:

- the score's move ("score fell 18 points since 2024-02-01 (72 → 54)");
- components that moved by `COMPONENT_MOVE` points or more ("usage 80 → 35");
- facts behind them: usage up or down by 20% or more in 30 days, MRR down in 90 days,
  invoices overdue, a churn request pending, tickets piling up, no CS touch for long;
- dated events since the earlier date: NPS detractor and promoter answers, churn requests.

In English or Brazilian Portuguese (numbers and dates per locale, Babel).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from sucesso.formatting import babel_locale
from sucesso.health.score import components_of

COMPONENT_MOVE = 10  # points of a component's own 0–100 score
USAGE_MOVE = 0.2

PHRASES = {
    "en": {
        "score_fell": "score fell {n} points since {date} ({before} → {after})",
        "score_rose": "score rose {n} points since {date} ({before} → {after})",
        "component": "{name} {before} → {after}",
        "component_missing": "{name}: no data now",
        "usage_fell": "usage fell {pct} in 30 days",
        "usage_rose": "usage rose {pct} in 30 days",
        "mrr_fell": "MRR down {pct} in 90 days",
        "overdue": "{n} invoice(s) overdue",
        "request_open": "a churn request is pending",
        "tickets": "{n} tickets in 90 days (was {before})",
        "no_touch": "no CS activity for {n} days",
        "detractor": "a detractor NPS answer ({score}) on {date}",
        "promoter": "a promoter NPS answer ({score}) on {date}",
        "request": "churn request opened on {date} ({reason})",
        "new": "first score (not a customer on {date})",
    },
    "pt_BR": {
        "score_fell": "score caiu {n} pontos desde {date} ({before} → {after})",
        "score_rose": "score subiu {n} pontos desde {date} ({before} → {after})",
        "component": "{name} {before} → {after}",
        "component_missing": "{name}: sem dados agora",
        "usage_fell": "uso caiu {pct} em 30 dias",
        "usage_rose": "uso subiu {pct} em 30 dias",
        "mrr_fell": "MRR caiu {pct} em 90 dias",
        "overdue": "{n} fatura(s) em atraso",
        "request_open": "há um pedido de cancelamento pendente",
        "tickets": "{n} chamados em 90 dias (eram {before})",
        "no_touch": "sem atividade de CS há {n} dias",
        "detractor": "uma resposta NPS detratora ({score}) em {date}",
        "promoter": "uma resposta NPS promotora ({score}) em {date}",
        "request": "pedido de cancelamento aberto em {date} ({reason})",
        "new": "primeiro score (não era cliente em {date})",
    },
}
COMPONENT_NAMES = {
    "pt_BR": {"usage": "uso", "adoption": "adoção", "support": "suporte", "satisfaction": "satisfação",
              "financial": "financeiro", "engagement": "relacionamento", "referrals": "indicações"},
}
NO_TOUCH_DAYS = 90


def language(locale: str | None) -> str:
    return "en" if babel_locale(locale).startswith("en") else "pt_BR"


def component_name(name: str, locale: str | None) -> str:
    return COMPONENT_NAMES.get(language(locale), {}).get(name, name)


def explain(now: pd.DataFrame, before: pd.DataFrame, events: pd.DataFrame, since: dt.date,
            locale: str | None = "pt_BR") -> dict[str, list[str]]:
    """account_id → sentences. `now` and `before` are scores with signals (history.scores_on(…,
    with_signals=True)) on the current and the earlier date; `events` comes from `events_between`."""
    lang = language(locale)
    loc = babel_locale(locale)
    say = PHRASES[lang]
    pct = lambda x: format_percent(abs(x), "#,##0%", locale=loc)  # noqa: E731
    num = lambda x: format_decimal(int(x), "#,##0", locale=loc)  # noqa: E731
    day = lambda d: format_date(pd.Timestamp(d).date(), "medium" if lang == "en" else "dd/MM/yyyy", locale=loc)  # noqa: E731
    earlier = before.set_index("account_id")
    by_account = {a: g for a, g in events.groupby("account_id")} if len(events) else {}
    names = components_of(now)
    out: dict[str, list[str]] = {}
    for row in now.itertuples(index=False):
        r = row._asdict()
        words: list[str] = []
        b = earlier.loc[r["account_id"]] if r["account_id"] in earlier.index else None
        if b is None:
            words.append(say["new"].format(date=day(since)))
        else:
            move = r["rounded"] - b["rounded"]
            if not np.isnan(move) and move != 0:
                key = "score_fell" if move < 0 else "score_rose"
                words.append(say[key].format(n=int(abs(move)), date=day(since), before=int(b["rounded"]),
                                             after=int(r["rounded"])))
            for c in names:
                counted = np.isnan(r.get(c, np.nan)) or r.get(f"{c}__weight", 0) > 0  # weight 0: not in the score
                words += _component_move(c, r.get(c), b.get(c), say, locale) if counted else []
        words += _facts(r, b, say, pct, num)
        for e in (by_account.get(r["account_id"], pd.DataFrame()).itertuples(index=False)):
            words.append(say[e.kind].format(date=day(e.at), score=_int(e.score), reason=e.reason))
        out[r["account_id"]] = words
    return out


def _int(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(int(value))


def _component_move(name: str, now, before, say, locale) -> list[str]:
    label = component_name(name, locale)
    if now is None or before is None:
        return []
    if np.isnan(now) and not np.isnan(before):
        return [say["component_missing"].format(name=label)]
    if not np.isnan(now) and not np.isnan(before) and abs(now - before) >= COMPONENT_MOVE:
        return [say["component"].format(name=label, before=int(round(before)), after=int(round(now)))]
    return []


def _facts(r: dict, b, say, pct, num) -> list[str]:
    words = []
    change = r.get("usage_change_30d")
    if change is not None and not np.isnan(change) and abs(change) >= USAGE_MOVE:
        words.append(say["usage_fell" if change < 0 else "usage_rose"].format(pct=pct(change)))
    trend = r.get("mrr_trend_90d")
    if trend is not None and not np.isnan(trend) and trend <= -0.05:
        words.append(say["mrr_fell"].format(pct=pct(trend)))
    if r.get("overdue_invoices", 0) > 0:
        words.append(say["overdue"].format(n=int(r["overdue_invoices"])))
    if r.get("churn_request_open", 0) > 0:
        words.append(say["request_open"])
    if b is not None and r.get("tickets_90d", 0) >= max(3, 2 * b.get("tickets_90d", 0)) > 0:
        words.append(say["tickets"].format(n=int(r["tickets_90d"]), before=int(b["tickets_90d"])))
    touch = r.get("days_since_cs_touch")
    if touch is not None and not np.isnan(touch) and touch >= NO_TOUCH_DAYS:
        words.append(say["no_touch"].format(n=num(touch)))
    return words


def events_between(store, since: dt.date, until: dt.date, account_ids: list[str] | None = None) -> pd.DataFrame:
    """account_id, kind (detractor / promoter / request), at, score, reason: the dated events of
    [since, until), oldest first."""
    con = store.ibis()
    lo, hi = pd.Timestamp(since), pd.Timestamp(until)
    answers = con.table("survey_responses")
    a = answers.filter((answers.survey == "nps") & (answers.answered_at >= lo) & (answers.answered_at < hi)
                       & ((answers.score <= 6) | (answers.score >= 9)))
    requests = con.table("churn_requests")
    r = requests.filter((requests.requested_at >= lo) & (requests.requested_at < hi))
    if account_ids is not None:
        a, r = a.filter(a.account_id.isin(account_ids)), r.filter(r.account_id.isin(account_ids))
    nps = con.execute(a.select("account_id", at="answered_at", score="score"))
    nps["kind"] = np.where(nps["score"] <= 6, "detractor", "promoter")
    nps["reason"] = ""
    req = con.execute(r.select("account_id", at="requested_at", reason="reason_code"))
    req["kind"], req["score"] = "request", np.nan
    both = pd.concat([nps, req], ignore_index=True) if len(req) else nps
    return both.sort_values(["account_id", "at"], ignore_index=True)[["account_id", "kind", "at", "score", "reason"]]
