"""Team: the headcount the portfolio needs per role against the current one, each CSM's load
(a bar per CSM, a line at 100%) and who is over capacity — operations.team on the customers the
pages read. The JSON twin: /api/team."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Request

from sucesso.operations.team import ROLE_LABELS, TOUCH_LABELS, sizing, team_inputs, workspace_ratios
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.render import gettext_of, language_of, page

router = APIRouter()
OVER, UNDER = charts.BAND_COLOURS["red"], charts.BAND_COLOURS["green"]


def team_data(request: Request) -> dict:
    workspace = request.app.state.workspace
    accounts = workspace.account_rows()
    on = workspace.as_of or dt.date.today()

    def inputs(store):
        return (*team_inputs(store, on), workspace_ratios(store))

    people, activated, ratios = workspace.run(inputs)
    return sizing(accounts, people, activated, ratios, on)


def load_figure(loads: list[dict], _, separators: str) -> str:
    """A bar per CSM (red above 100%, each linking to their accounts) and a dashed line at 100%."""
    fig = go.Figure(go.Bar(x=[f"{r['csm_name'] or r['csm_id']}" for r in loads], y=[r["load"] for r in loads],
                           name=_("Load"), marker_color=[OVER if r["over_capacity"] else UNDER for r in loads],
                           customdata=[f"/accounts?csm_id={quote(r['csm_id'], safe='')}" for r in loads]))
    fig.add_hline(y=1.0, line_dash="dash", line_color="#1d2330", annotation_text=_("100% = a full portfolio"),
                  annotation_position="top left")
    fig.update_layout(**charts.LAYOUT, separators=separators, yaxis_tickformat=".0%", showlegend=False)
    return charts.figure_json(fig)


@router.get("/team", include_in_schema=False)
def team_page(request: Request, user: User = Depends(signed_in)):
    data = team_data(request)
    _ = gettext_of(request)
    figures = {"load": load_figure(data["load"], _, charts.separators_for(language_of(request)))} if data["load"] \
        else {}
    return page(request, "team.html", data=data, figures=figures, roles=ROLE_LABELS, touches=TOUCH_LABELS)


@router.get("/api/team", tags=["operations"],
            summary="Team sizing: headcount needed per role vs current, each CSM's load, who is over capacity")
def team_api(request: Request, user: User = Depends(api_scope("read"))):
    return team_data(request)
