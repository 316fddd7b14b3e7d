"""Support & adoption: first contact resolution, response and resolution times, tickets per
customer; activation, time to first value, adoption, active accounts, stickiness, seats; and
the adoption of each feature in the last month."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sucesso.metrics.api import breakdown
from sucesso.metrics.targets import targets
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import filters
from sucesso.web.kit import Lines, api_json, cached, chart_keys, in_segment, kpi_data, line_figures
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import records

router = APIRouter()

CARDS = (
    ("fcr", "First contact resolution", "rate"),
    ("first_response_hours_median", "First response, median (hours)", "hours"),
    ("resolution_hours_median", "Resolution, median (hours)", "hours"),
    ("tickets_per_customer", "Tickets per customer", "number"), ("activation_rate", "Activation", "rate"),
    ("time_to_first_value_days_median", "Time to first value, median (days)", "days"),
    ("adoption_rate", "Adoption", "rate"), ("active_accounts", "Active accounts", "count"),
    ("stickiness", "Stickiness (DAU/MAU)", "rate"), ("seat_utilisation", "Seat utilisation", "rate"),
)
CHARTS = (
    Lines("fcr", "First contact resolution", (("fcr", "First contact resolution"),), percent=True),
    Lines("tickets", "Tickets per customer", (("tickets_per_customer", "Tickets per customer"),)),
    Lines("first_response", "First response (hours)", (("first_response_hours_median", "Median"),
                                                       ("first_response_hours_p90", "90th percentile"))),
    Lines("resolution", "Resolution (hours)", (("resolution_hours_median", "Median"),
                                               ("resolution_hours_p90", "90th percentile"))),
    Lines("onboarding", "Activation and time to first value", (
        ("activation_rate", "Activation"), ("time_to_first_value_days_median", "Time to first value, median (days)")),
        percent=True, right=("time_to_first_value_days_median",)),
    Lines("adoption", "Adoption and engagement", (("adoption_rate", "Adoption"), ("stickiness", "Stickiness (DAU/MAU)"),
                                                  ("seat_utilisation", "Seat utilisation")), percent=True),
    Lines("active", "Active accounts", (("active_accounts", "Active accounts"),)),
)


def feature_adoption(workspace, month: str, segment: str) -> list[dict]:
    """event, name, value: each feature's adoption in `month`, least adopted first (cached: one query)."""
    def compute():
        frame = workspace.run(lambda store: breakdown(store, "feature_adoption", month, month,
                                                      by="segment" if segment else None))
        frame = in_segment(frame, segment).sort_values(["value", "name"], na_position="first")
        return records(frame, ["event", "name", "value"])

    return cached(workspace, ("feature_adoption", month, segment), compute)


def support_data(request: Request) -> dict:
    f = filters(request)
    workspace = request.app.state.workspace
    data = kpi_data(f, workspace.kpi_table(f.first, f.last, f.segment), CARDS, chart_keys(CHARTS),
                    workspace.run(targets))
    data["features"] = feature_adoption(workspace, data["period"], f.segment) if data["period"] else []
    return data


def support_figures(data: dict, request: Request) -> dict[str, str]:
    if not data["months"]:
        return {}
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    figures = line_figures(data, CHARTS, _, separators)
    if data["features"]:
        features = data["features"]
        figures["features"] = charts.bars([r["name"] for r in features], {_("Customers using it"): [
            r["value"] for r in features]}, percent=True, separators=separators)
    return figures


@router.get("/support", include_in_schema=False)
def support_page(request: Request, user: User = Depends(signed_in)):
    data = support_data(request)
    return page(request, "support.html", data=data, figures=support_figures(data, request), charts=CHARTS)


@router.get("/api/support", tags=["pages"], summary="Support & adoption: FCR, response and resolution times, "
            "tickets, activation, adoption, engagement, feature adoption (?from=&to=&segment=)")
def support_api(request: Request, user: User = Depends(api_scope("read"))):
    return api_json(support_data(request))
