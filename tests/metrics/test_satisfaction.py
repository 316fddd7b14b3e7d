"""Satisfaction KPIs (METRICS.md "Satisfaction"), hand-computed, on every engine."""

from __future__ import annotations

import pytest

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def answer(account, survey, score, at, scale=None):
    low, high = scale or SCALES[survey]
    return {"account_id": account, "survey": survey, "score": score, "scale_min": low, "scale_max": high,
            "answered_at": at}


def nps_answers(at, *scores):
    return [answer(f"n{i}", "nps", s, at) for i, s in enumerate(scores)]


def test_nps_counts_promoters_passives_detractors_of_the_answers_given_in_the_period(kpis):
    ws = kpis(survey_responses=[
        *nps_answers("2024-01-10", 10, 9, 8, 7, 6, 0), answer("x", "csat", 5, "2024-01-10"),
        *nps_answers("2024-03-31 23:59:59", 10, 10, 9, 7),
        *nps_answers("2023-12-31 23:59:59", 0), *nps_answers("2024-04-01", 0),   # outside Jan–Mar
    ])
    keys = ["nps", "nps_zone", "nps_promoters", "nps_passives", "nps_detractors", "nps_responses"]
    jan, feb, mar = ws.rows(keys, "2024-01", "2024-03")
    # Jan: promoters 10, 9; passives 8, 7; detractors 6, 0 → 100 × (2 − 2) / 6 = 0 → critica
    assert jan == {"period": "2024-01", "nps": 0.0, "nps_zone": "critica", "nps_promoters": 2, "nps_passives": 2,
                   "nps_detractors": 2, "nps_responses": 6}
    # Feb: no answers → counts 0, nps 0 / 0 → null, no zone
    assert feb == {"period": "2024-02", "nps": None, "nps_zone": None, "nps_promoters": 0, "nps_passives": 0,
                   "nps_detractors": 0, "nps_responses": 0}
    # Mar: 3 promoters, 1 passive → 100 × 3 / 4 = 75 → qualidade (51…75)
    assert (mar["nps"], mar["nps_zone"], mar["nps_responses"]) == (75.0, "qualidade", 4)


def test_nps_zone_bounds_default_and_configured(kpis):
    ws = kpis(survey_responses=[
        *nps_answers("2024-01-05", *[9] * 1, *[7] * 99),     # 100 × 1 / 100 = 1       → aperfeicoamento
        *nps_answers("2024-02-05", *[10] * 34, *[8] * 33),   # 100 × 34 / 67 = 50.75   → aperfeicoamento
        *nps_answers("2024-03-05", *[9] * 51, *[7] * 49),    # 100 × 51 / 100 = 51     → qualidade
        *nps_answers("2024-04-05", *[10] * 19, *[8] * 6),    # 100 × 19 / 25 = 76      → excelencia
        *nps_answers("2024-05-05", 10, 3),                   # 100 × (1 − 1) / 2 = 0   → critica
    ])
    assert ws.values("nps", "2024-01", "2024-05") == [1.0, pytest.approx(3400 / 67), 51.0, 76.0, 0.0]
    assert ws.values("nps_zone", "2024-01", "2024-05") == [
        "aperfeicoamento", "aperfeicoamento", "qualidade", "excelencia", "critica"]
    ws.settings = {"nps_zones": [[-100, 50, "baixa"], [51, 100, "alta"]]}
    assert ws.values("nps_zone", "2024-01", "2024-05") == ["baixa", "baixa", "alta", "alta", "baixa"]


def test_csat_and_csat_mean_read_each_answer_on_its_own_scale(kpis):
    ws = kpis(survey_responses=[
        answer("a", "csat", 5, "2024-01-02"), answer("a", "csat", 4, "2024-01-03"),
        answer("b", "csat", 3, "2024-01-04"), answer("b", "csat", 1, "2024-01-05"),
        answer("c", "csat", 9, "2024-01-06", scale=(0, 10)), answer("c", "csat", 8, "2024-01-07", scale=(0, 10)),
        answer("c", "nps", 10, "2024-01-07"),
    ])
    jan, feb = ws.rows(["csat", "csat_mean"], "2024-01", "2024-02")
    # satisfied = top two points of the answer's scale: 5, 4 (on 1–5) and 9 (on 0–10) → 3 / 6
    # rescaled: 100, 75, 50, 0 (1–5) and 90, 80 (0–10) → 395 / 6 = 65.83
    assert jan["csat"] == 0.5 and jan["csat_mean"] == pytest.approx(395 / 6)
    assert feb == {"period": "2024-02", "csat": None, "csat_mean": None}


def test_ces_mean_and_easy_share(kpis):
    ws = kpis(survey_responses=[
        answer("a", "ces", 7, "2024-02-01"), answer("a", "ces", 5, "2024-02-02"), answer("b", "ces", 4, "2024-02-03"),
        answer("b", "ces", 2, "2024-02-04"), answer("c", "ces", 3, "2024-02-05", scale=(1, 5)),
    ])
    jan, feb = ws.rows(["ces", "ces_easy_share"], "2024-01", "2024-02")
    # mean (7 + 5 + 4 + 2 + 3) / 5 = 4.2; top three points: 7, 5 (≥ 5 on 1–7) and 3 (≥ 3 on 1–5) → 3 / 5
    assert feb == {"period": "2024-02", "ces": pytest.approx(4.2), "ces_easy_share": pytest.approx(0.6)}
    assert jan == {"period": "2024-01", "ces": None, "ces_easy_share": None}


def test_satisfaction_by_segment_keeps_accounts_without_a_segment(kpis):
    ws = kpis(
        accounts=[{"account_id": "a", "name": "A", "created_at": "2020-01-01", "segment": "smb"},
                  {"account_id": "b", "name": "B", "created_at": "2020-01-01", "segment": "ent"},
                  {"account_id": "c", "name": "C", "created_at": "2020-01-01", "segment": "ent"},
                  {"account_id": "d", "name": "D", "created_at": "2020-01-01"}],
        survey_responses=[answer("a", "nps", 10, "2024-01-10"), answer("a", "csat", 5, "2024-01-10"),
                          answer("b", "nps", 0, "2024-01-10"), answer("c", "nps", 9, "2024-01-10"),
                          answer("c", "csat", 2, "2024-01-10"), answer("d", "nps", 8, "2024-01-10"),
                          answer("a", "nps", 4, "2024-02-10")],
    )
    rows = ws.rows(["nps", "nps_responses", "csat"], "2024-01", "2024-02", by="segment")
    # Jan ent: b detractor, c promoter → 0; c's CSAT 2 on 1–5 → 0 / 1. smb: a → 100, CSAT 5 → 1.
    # no segment (d): a passive → 0.  Feb: smb a detractor → −100; the others answered nothing.
    assert rows == [
        {"period": "2024-01", "segment": "ent", "nps": 0.0, "nps_responses": 2, "csat": 0.0},
        {"period": "2024-01", "segment": "smb", "nps": 100.0, "nps_responses": 1, "csat": 1.0},
        {"period": "2024-01", "segment": None, "nps": 0.0, "nps_responses": 1, "csat": None},
        {"period": "2024-02", "segment": "ent", "nps": None, "nps_responses": 0, "csat": None},
        {"period": "2024-02", "segment": "smb", "nps": -100.0, "nps_responses": 1, "csat": None},
        {"period": "2024-02", "segment": None, "nps": None, "nps_responses": 0, "csat": None},
    ]
