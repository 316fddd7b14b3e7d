"""Revenue & retention: MRR and its movements, churn (logo, gross, net — negative churn shown as
such), NRR/GRR, the quick ratio, unit economics of the last month and the cohort tables.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sucesso.metrics.cohorts import cohort_tables
from sucesso.metrics.periods import parse_month
from sucesso.metrics.targets import targets
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import filters
from sucesso.web.kit import (
    Lines,
    accounts_links,
    api_json,
    bars_and_line,
    cached,
    chart_keys,
    kpi_data,
    kpi_links,
    last_values,
    line_figures,
)
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import records

router = APIRouter()


# -- revenue & retention --------------------------------------------------------------------
CARDS = (  # key, label, unit: the last month
    ("mrr", "MRR", "money"), ("arr", "ARR", "money"), ("customers", "Customers", "count"),
    ("net_new_mrr", "Net new MRR", "money"), ("logo_churn_rate", "Logo churn", "rate"),
    ("gross_mrr_churn_rate", "Gross MRR churn", "rate"), ("net_mrr_churn_rate", "Net MRR churn", "rate"),
    ("nrr", "Net revenue retention", "rate"), ("grr", "Gross revenue retention", "rate"),
    ("quick_ratio", "Quick ratio", "number"),
)
UNIT_ECONOMICS = (
    ("arpa", "ARPA (average revenue per account)", "money"), ("ltv", "LTV (lifetime value)", "money"),
    ("cac", "CAC (customer acquisition cost)", "money"), ("ltv_to_cac", "LTV:CAC", "number"),
    ("cac_payback_months", "CAC payback (months)", "number"), ("average_ticket", "Average ticket", "money"),
    ("delinquency_rate", "Delinquency", "rate"),
)
MOVEMENTS = (  # key, label, colour, sign (gains above the axis, losses below), the mrr.MOVES name
    ("new_mrr", "New", "#2e7d32", 1, "new"), ("expansion_mrr", "Expansion", "#66bb6a", 1, "expansion"),
    ("reactivation_mrr", "Reactivation", "#26a69a", 1, "reactivation"),
    ("contraction_mrr", "Contraction", "#ef6c00", -1, "contraction"), ("churned_mrr", "Churn", "#c62828", -1, "churn"),
)
NEGATIVE_CHURN = "negative churn (expansion exceeds losses)"
CHARTS = (
    Lines("churn", "Churn rates", (("logo_churn_rate", "Logo churn"), ("gross_mrr_churn_rate", "Gross MRR churn"),
                                   ("net_mrr_churn_rate", "Net MRR churn")), percent=True, below_zero=NEGATIVE_CHURN),
    Lines("retention", "Net and gross revenue retention", (
        ("nrr", "NRR (month)"), ("grr", "GRR (month)"), ("nrr_12m", "NRR (12 months)"), ("grr_12m", "GRR (12 months)")),
        percent=True),
    Lines("quick_ratio", "Quick ratio", (("quick_ratio", "Quick ratio"),)),
)


def cohorts(workspace, first: str, last: str, segment: str) -> dict[str, list[dict]]:
    """The logo and revenue cohort tables of first paid months first..last, of the segment's
    accounts (cached: one query)."""
    def compute():
        tables = workspace.run(lambda store: cohort_tables(store.ibis(), parse_month(first), parse_month(last),
                                                           segment or None))
        return {kind: records(table) for kind, table in tables.items()}

    return cached(workspace, ("cohorts", first, last, segment), compute)


def revenue_data(request: Request) -> dict:
    f = filters(request)
    workspace = request.app.state.workspace
    kpis = workspace.kpi_table(f.first, f.last, f.segment)
    keys = ["mrr", *(m[0] for m in MOVEMENTS), "net_new_mrr", *chart_keys(CHARTS)]
    data = kpi_data(f, kpis, CARDS, keys, workspace.run(targets))
    data["unit_economics"] = last_values(kpis, UNIT_ECONOMICS)
    net = data["series"]["net_mrr_churn_rate"][-1] if data["months"] else None
    data["negative_churn"] = net is not None and net < 0
    data["cohorts"] = cohorts(workspace, f.first, f.last, f.segment) if data["months"] else {"logo": [], "revenue": []}
    return data


def revenue_figures(data: dict, request: Request) -> dict[str, str]:
    if not data["months"]:
        return {}
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    s, months, segment = data["series"], data["months"], data["filters"].segment
    bars = [(_(label), [None if v is None else sign * v for v in s[key]], colour,
             accounts_links(f"moved={move}", months, segment))  # the accounts behind each bar
            for key, label, colour, sign, move in MOVEMENTS]
    figures = {"movements": bars_and_line(months, bars, (_("MRR"), s["mrr"]), separators,
                                          kpi_links("mrr", months, segment))}
    figures |= line_figures(data, CHARTS, _, separators)
    for kind in ("logo", "revenue"):
        rows = data["cohorts"][kind]
        if rows:
            columns = [c for c in rows[0] if c.startswith("m") and c[1:].isdigit()]
            figures[f"cohort_{kind}"] = charts.heatmap([r["cohort"] for r in rows], [int(c[1:]) for c in columns],
                                                       [[r[c] for c in columns] for r in rows], separators=separators)
    return figures


@router.get("/revenue", include_in_schema=False)
def revenue_page(request: Request, user: User = Depends(signed_in)):
    data = revenue_data(request)
    return page(request, "revenue.html", data=data, figures=revenue_figures(data, request), charts=CHARTS,
                negative_churn=NEGATIVE_CHURN)


@router.get("/api/revenue", tags=["pages"], summary="Revenue & retention: MRR movements, churn, NRR/GRR, quick "
            "ratio, unit economics, cohorts (?from=&to=&segment=)")
def revenue_api(request: Request, user: User = Depends(api_scope("read"))):
    return api_json(revenue_data(request))
