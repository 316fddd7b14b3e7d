"""Overview: the KPI cards with trend and target status, the MRR movements waterfall, the
health mix and the accounts needing attention."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from sucesso.insight.accounts import band_mix, needing_attention
from sucesso.metrics.periods import parse_month
from sucesso.metrics.targets import status, target_for, targets
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import filters
from sucesso.web.kit import accounts_links
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import plain, records

router = APIRouter()

CARDS = (  # key, label, unit
    ("mrr", "MRR", "money"), ("arr", "ARR", "money"), ("nrr", "Net revenue retention", "rate"),
    ("logo_churn_rate", "Logo churn", "rate"), ("gross_mrr_churn_rate", "Gross revenue churn", "rate"),
    ("nps", "NPS", "number"), ("csat", "CSAT", "rate"),
)
MOVEMENTS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")


def overview_data(request: Request) -> dict:
    f = filters(request)
    workspace = request.app.state.workspace
    kpis = workspace.kpi_table(f.first, f.last, f.segment)
    if kpis.empty:
        return {"filters": f, "cards": [], "months": [], "movements": None, "mix": {}, "attention": []}
    last, previous = kpis.iloc[-1], (kpis.iloc[-2] if len(kpis) > 1 else None)
    goals = workspace.run(targets)
    month = parse_month(last["period"])
    cards = []
    for key, label, unit in CARDS:
        value = last.get(key)
        goal = target_for(goals, key, month)
        cards.append({"key": key, "label": label, "unit": unit, "value": plain(value),
                      "previous": plain(previous.get(key)) if previous is not None else None,
                      "series": [plain(v) for v in kpis[key]], "target": goal and float(goal["target"]),
                      "status": status(value, goal), "zone": last.get("nps_zone") if key == "nps" else None})
    accounts = workspace.account_rows()
    if f.segment:
        accounts = accounts[accounts["segment"] == f.segment]
    movements = {"period": last["period"], "start": plain(previous["mrr"]) if previous is not None else 0.0,
                 **{m: plain(last[m]) for m in MOVEMENTS}, "end": plain(last["mrr"])}
    return {"filters": f, "months": list(kpis["period"]), "cards": cards, "movements": movements,
            "mix": band_mix(accounts), "as_of": str(workspace.as_of),
            "attention": records(needing_attention(accounts), ["account_id", "name", "segment", "csm_name", "mrr",
                                                                "score", "band", "score_change"])}


@router.get("/", include_in_schema=False)
def overview_page(request: Request, user: User = Depends(signed_in)):
    data = overview_data(request)
    fmt_lang = charts.separators_for(language_of(request))
    _ = gettext_of(request)
    figures = {}
    if data["movements"]:
        m = data["movements"]
        labels = [_("Start"), _("New"), _("Expansion"), _("Reactivation"), _("Contraction"), _("Churn"), _("End")]
        values = [m["start"], m["new_mrr"], m["expansion_mrr"], m["reactivation_mrr"], -(m["contraction_mrr"] or 0),
                  -(m["churned_mrr"] or 0), m["end"]]
        links = [accounts_links(f"moved={move}", [m["period"]], data["filters"].segment)[0]
                 for move in ("new", "expansion", "reactivation", "contraction", "churn")]  # the accounts behind
        figures["waterfall"] = charts.waterfall(labels, values, separators=fmt_lang, links=[None, *links, None])
    if data["mix"]:
        bands = [b for b in ("red", "yellow", "green") if b in data["mix"]]
        figures["mix"] = charts.bars([_("Customers")], {_(b): [data["mix"][b]] for b in bands}, stacked=True,
                                     colours={_(b): charts.BAND_COLOURS[b] for b in bands}, separators=fmt_lang,
                                     links={_(b): [f"/accounts?band={b}"] for b in bands})
    return page(request, "overview.html", data=data, figures=figures, today=dt.date.today())


@router.get("/api/overview", tags=["pages"], summary="The overview page's data")
def overview_api(request: Request, user: User = Depends(api_scope("read"))):
    data = overview_data(request)
    data["filters"] = {"from": data["filters"].first, "to": data["filters"].last, "segment": data["filters"].segment}
    return data
