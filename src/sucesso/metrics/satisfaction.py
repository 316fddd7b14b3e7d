"""Satisfaction KPIs (METRICS.md, "Satisfaction"; all leading): NPS and its zone, CSAT, CES.

A period's survey KPIs use the answers given in it: start(P) ≤ answered_at < end(P). Every
answer is read on its own scale (scale_min…scale_max, stored with the answer).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sucesso.metrics.registry import Context, frame, metric, ratio


def nps_zone_of(value: ir.NumericValue, zones) -> ir.StringValue:
    """The zone of an NPS value; zones are (lower, upper, name) with integer bounds.

    A fractional NPS stays in the zone whose lower bound it has reached: 50.5 is still
    "aperfeicoamento" (51…75 is "qualidade"), 0.5 still "critica". Null NPS, null zone.
    """
    ordered = sorted(zones, key=lambda z: z[0], reverse=True)
    return ibis.cases(*[(value >= lower, name) for lower, _upper, name in ordered], else_=ibis.null("string"))


@frame("surveys")
def surveys(ctx: Context) -> ir.Table:
    """Per period (and group): counts and sums of the NPS, CSAT and CES answers given in P."""
    answers, periods = ctx.table("survey_responses"), ctx.period_table()
    given = answers.join(periods, [answers.answered_at >= periods.start, answers.answered_at < periods.end])
    a = ctx.with_groups(given.select("account_id", "idx", "survey", "score", "scale_min", "scale_max").view())
    is_nps, is_csat, is_ces = (a.survey == s for s in ("nps", "csat", "ces"))
    rescaled = (a.score - a.scale_min) / (a.scale_max - a.scale_min) * 100
    agg = a.group_by(ctx.keys).aggregate(
        nps_responses=a.count(where=is_nps),
        nps_promoters=a.count(where=is_nps & (a.score >= 9)),
        nps_passives=a.count(where=is_nps & (a.score > 6) & (a.score < 9)),
        nps_detractors=a.count(where=is_nps & (a.score <= 6)),
        csat_responses=a.count(where=is_csat),
        csat_satisfied=a.count(where=is_csat & (a.score >= a.scale_max - 1)),
        csat_rescaled_sum=rescaled.cast("float64").sum(where=is_csat),
        ces_responses=a.count(where=is_ces),
        ces_easy=a.count(where=is_ces & (a.score >= a.scale_max - 2)),
        ces_score_sum=a.score.cast("float64").sum(where=is_ces),
    )
    counts = ["nps_responses", "nps_promoters", "nps_passives", "nps_detractors", "csat_responses",
              "csat_satisfied", "ces_responses", "ces_easy"]
    filled = ctx.per_period(agg, **dict.fromkeys(counts, 0), csat_rescaled_sum=0.0, ces_score_sum=0.0)
    return filled.mutate(nps_zone=nps_zone_of(nps(filled), ctx.settings["nps_zones"]))


@metric("nps", frame="surveys", unit="number", tag="L")
def nps(t):
    """nps = 100 × (promoters − detractors) / responses; range −100…100

    Scores 0–10: promoters 9–10, passives 7–8, detractors 0–6 (a fractional score: promoter
    from 9, detractor up to 6, passive between).
    """
    # 100 × first, so an integer NPS is exact and falls on the right side of a zone bound
    return ratio((t.nps_promoters - t.nps_detractors) * 100, t.nps_responses)


@metric("nps_zone", frame="surveys", unit="text", tag="L")
def nps_zone(t):
    """nps_zone = critica −100…0, aperfeicoamento 1…50, qualidade 51…75, excelencia 76…100

    Bounds from settings["nps_zones"]; applied to the nps value, a fractional NPS staying in
    the zone whose lower bound it has reached (50.5 → aperfeicoamento). Null without answers.
    """
    return t.nps_zone


@metric("nps_promoters", frame="surveys", unit="count", tag="L")
def nps_promoters(t):
    """nps_promoters = #NPS answers with score 9–10"""
    return t.nps_promoters


@metric("nps_passives", frame="surveys", unit="count", tag="L")
def nps_passives(t):
    """nps_passives = #NPS answers with score 7–8"""
    return t.nps_passives


@metric("nps_detractors", frame="surveys", unit="count", tag="L")
def nps_detractors(t):
    """nps_detractors = #NPS answers with score 0–6"""
    return t.nps_detractors


@metric("nps_responses", frame="surveys", unit="count", tag="L")
def nps_responses(t):
    """nps_responses = #NPS answers"""
    return t.nps_responses


@metric("csat", frame="surveys", unit="rate", tag="L")
def csat(t):
    """csat = #CSAT answers with score ≥ scale_max − 1 / #CSAT answers

    The satisfied threshold is the top two points of each answer's own scale (4–5 on 1–5,
    9–10 on 1–10).
    """
    return ratio(t.csat_satisfied, t.csat_responses)


@metric("csat_mean", frame="surveys", unit="number", tag="L")
def csat_mean(t):
    """csat_mean = mean over CSAT answers of (score − scale_min) / (scale_max − scale_min) × 100

    The mean CSAT score rescaled to 0–100, each answer on its own scale.
    """
    return ratio(t.csat_rescaled_sum, t.csat_responses)


@metric("ces", frame="surveys", unit="number", tag="L")
def ces(t):
    """ces = mean CES score on its scale (default 1–7, higher = easier)"""
    return ratio(t.ces_score_sum, t.ces_responses)


@metric("ces_easy_share", frame="surveys", unit="rate", tag="L")
def ces_easy_share(t):
    """ces_easy_share = #CES answers with score ≥ scale_max − 2 / #CES answers

    The top three points of the answer's scale (5–7 on the default 1–7).
    """
    return ratio(t.ces_easy, t.ces_responses)
