"""Satisfaction: NPS with its promoters, passives and detractors and the zone of the last month;
CSAT and CES over time; the recent comments, filtered by survey, NPS category and segment."""

from __future__ import annotations

import datetime as dt

import ibis
from fastapi import APIRouter, Depends, Request

from sucesso.metrics.periods import add_months, parse_month
from sucesso.metrics.registry import NO_GROUP
from sucesso.metrics.targets import targets
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import filters
from sucesso.web.kit import Lines, api_json, bars_and_line, chart_keys, kpi_data, kpi_links, line_figures
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import records

router = APIRouter()
PAGE_SIZE = 50
SURVEYS = ("nps", "csat", "ces")
# NPS categories on the 0–10 score, as metrics/satisfaction.py counts them (METRICS.md): a
# detractor up to 6, a promoter from 9, a passive between. Used only to filter and label comments.
CATEGORIES = ("detractor", "passive", "promoter")
DETRACTOR_MAX, PROMOTER_MIN = 6, 9

CARDS = (
    ("nps", "NPS", "number"), ("nps_responses", "NPS answers", "count"), ("csat", "CSAT", "rate"),
    ("csat_mean", "CSAT mean (0–100)", "number"), ("ces", "CES (1–7, higher is easier)", "number"),
    ("ces_easy_share", "Easy CES answers", "rate"),
)
ANSWERS = (  # key, label, colour, the category its bar links to
    ("nps_detractors", "Detractors", "#c62828", "detractor"), ("nps_passives", "Passives", "#e0a800", "passive"),
    ("nps_promoters", "Promoters", "#2e7d32", "promoter"),
)
CHARTS = (
    Lines("shares", "CSAT and easy CES answers", (("csat", "CSAT (satisfied share)"),
                                                   ("ces_easy_share", "Easy CES answers")), percent=True),
    Lines("means", "Mean scores", (("csat_mean", "CSAT mean (0–100)"), ("ces", "CES (1–7, higher is easier)")),
          right=("ces",)),
)
ZONES = {"critica": "Critical", "aperfeicoamento": "Improvement", "qualidade": "Quality", "excelencia": "Excellence"}


def recent_comments(store, first: str | None, last: str | None, segment: str = "", survey: str = "",
                    category: str = "", number: int = 1, size: int = PAGE_SIZE) -> tuple[int, int, list[dict]]:
    """(how many, the page number, that page of them): answers with a comment given in months
    first..last, newest first, with the account's name and segment. A page past the last is the last."""
    con = store.ibis()
    answers, accounts = con.table("survey_responses"), con.table("accounts")
    t = answers.filter(answers.comment.notnull(), answers.comment.strip() != "")
    if first:
        t = t.filter(t.answered_at >= dt.datetime.combine(parse_month(first), dt.time()))
    if last:
        t = t.filter(t.answered_at < dt.datetime.combine(add_months(parse_month(last), 1), dt.time()))
    if survey:
        t = t.filter(t.survey == survey)
    if survey == "nps" and category:
        t = t.filter({"detractor": t.score <= DETRACTOR_MAX, "promoter": t.score >= PROMOTER_MIN,
                      "passive": (t.score > DETRACTOR_MAX) & (t.score < PROMOTER_MIN)}[category])
    t = t.join(accounts.select("account_id", "name", "segment"), "account_id")
    if segment:
        t = t.filter(t.segment.fill_null(NO_GROUP) == segment)
    total = int(con.execute(t.count()))
    number = min(number, max(1, -(-total // size)))
    shown = t.order_by([ibis.desc("answered_at"), "response_id"]).limit(size, offset=(number - 1) * size)
    rows = records(con.execute(shown.select("response_id", "account_id", "name", "segment", "survey", "score",
                                            "scale_min", "scale_max", "comment", "touchpoint", "answered_at")))
    for r in rows:
        r["category"] = _category(r["score"]) if r["survey"] == "nps" else None
    return total, number, rows


def _category(score: float) -> str:
    return "detractor" if score <= DETRACTOR_MAX else ("promoter" if score >= PROMOTER_MIN else "passive")


def _page_number(text: str | None) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def satisfaction_data(request: Request) -> dict:
    f = filters(request, keep=("survey", "category"))
    workspace = request.app.state.workspace
    kpis = workspace.kpi_table(f.first, f.last, f.segment)
    data = kpi_data(f, kpis, CARDS, [*(a[0] for a in ANSWERS), "nps", *chart_keys(CHARTS)], workspace.run(targets))
    data["nps_zone"] = kpis["nps_zone"].iloc[-1] if data["months"] else None
    category = f.keep.get("category") if f.keep.get("category") in CATEGORIES else ""
    survey = f.keep.get("survey") if f.keep.get("survey") in SURVEYS else ("nps" if category else "")
    category = category if survey == "nps" else ""  # CSAT and CES answers have no category
    f.keep = {k: v for k, v in (("survey", survey), ("category", category)) if v}
    number = _page_number(request.query_params.get("page"))
    total, number, rows = workspace.run(lambda store: recent_comments(
        store, f.first, f.last, f.segment, survey, category, number)) if data["months"] else (0, 1, [])
    data["comments"] = {"survey": survey, "category": category, "total": total, "page": number,
                        "pages": max(1, -(-total // PAGE_SIZE)), "rows": rows}
    return data


def satisfaction_figures(data: dict, request: Request) -> dict[str, str]:
    if not data["months"]:
        return {}
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    f, s, months = data["filters"], data["series"], data["months"]
    bars = [(_(label), s[key], colour,
             [f"/satisfaction?{f.query(survey='nps', category=category, **{'from': m, 'to': m})}#comments"
              for m in months])
            for key, label, colour, category in ANSWERS]
    return {"nps": bars_and_line(months, bars, (_("NPS"), s["nps"]), separators, kpi_links("nps", months, f.segment)),
            **line_figures(data, CHARTS, _, separators)}


@router.get("/satisfaction", include_in_schema=False)
def satisfaction_page(request: Request, user: User = Depends(signed_in)):
    data = satisfaction_data(request)
    return page(request, "satisfaction.html", data=data, figures=satisfaction_figures(data, request), charts=CHARTS,
                surveys=SURVEYS, categories=CATEGORIES, zones=ZONES)


@router.get("/api/satisfaction", tags=["pages"], summary="Satisfaction: NPS, CSAT, CES and the recent comments "
            "(?from=&to=&segment=&survey=nps|csat|ces&category=detractor|passive|promoter&page=)")
def satisfaction_api(request: Request, user: User = Depends(api_scope("read"))):
    return api_json(satisfaction_data(request))
