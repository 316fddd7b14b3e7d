"""Health: the band mix over time from the kept history (`sucesso health history`), the mix now
with links to its accounts, the customers at risk (red, most MRR first), the average of each
score component on the latest scored day, and how to check the model (the backtest)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Request

from sucesso.health.history import HISTORY, component_averages, trend
from sucesso.insight.accounts import band_mix
from sucesso.metrics.periods import add_months, parse_month
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import Filters, filters
from sucesso.web.kit import api_json, bars_and_line, cached, in_segment
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import plain, records

router = APIRouter()
TREND_EVERY_DAYS = 7
AT_RISK_BAND, AT_RISK_ROWS = "red", 25
AT_RISK_COLUMNS = ["account_id", "name", "segment", "csm_name", "mrr", "score", "score_change", "scored_on"]
HISTORY_COMMAND, BACKTEST_COMMAND = "sucesso health history", "sucesso health backtest"
COMPONENTS = {"usage": "Usage", "adoption": "Adoption", "support": "Support", "satisfaction": "Satisfaction",
              "financial": "Financial", "engagement": "Engagement", "referrals": "Referrals"}


def history_kept(workspace) -> tuple | None:
    """(first day, last day, rows) of the kept history, None without one: the key of what is cached
    from it, so a `sucesso health history` run while the server is up shows."""
    rows = workspace.run(lambda store: store.fetchall(f"SELECT min(as_of), max(as_of), count(*) FROM {HISTORY.name}"))
    return tuple(rows[0]) if rows and rows[0][0] is not None else None


def band_trend(workspace, kept: tuple, f: Filters) -> list[dict]:
    """The band mix and mean score every week of the kept history, within the months filtered
    (up to the last kept day when the filter ends on the latest month)."""
    frame = cached(workspace, ("health_trend", kept, f.segment),
                   lambda: workspace.run(lambda s: trend(s, None, TREND_EVERY_DAYS, f.segment or None)))
    if f.first:
        frame = frame[frame["as_of"] >= parse_month(f.first)]
    if f.last and workspace.months and f.last < workspace.months[-1]:
        frame = frame[frame["as_of"] < add_months(parse_month(f.last), 1)]
    return records(frame)


def at_risk(accounts: pd.DataFrame) -> dict:
    """Customers in the red band, the most MRR first: how many, their MRR, the first rows."""
    if accounts.empty:
        return {"total": 0, "mrr": 0.0, "rows": []}
    red = accounts[accounts["customer"] & (accounts["band"] == AT_RISK_BAND)]
    red = red.sort_values(["mrr", "account_id"], ascending=[False, True])
    return {"total": len(red), "mrr": float(red["mrr"].sum()), "rows": records(red.head(AT_RISK_ROWS), AT_RISK_COLUMNS)}


def health_data(request: Request) -> dict:
    f = filters(request)
    workspace = request.app.state.workspace
    accounts = in_segment(workspace.account_rows(), f.segment)
    kept = history_kept(workspace)
    data = {"filters": f, "history": kept is not None, "as_of": plain(workspace.as_of),
            "history_command": HISTORY_COMMAND, "backtest_command": BACKTEST_COMMAND,
            "trend": [], "mix": {}, "at_risk": at_risk(pd.DataFrame()),
            "components": {"as_of": None, "customers": 0, "components": []}}
    if kept is None:
        return data
    data["trend"] = band_trend(workspace, kept, f)
    mix = band_mix(accounts) if not accounts.empty else {}
    data["mix"] = {b: int(mix[b]) for b in sorted(mix, key=_band_order)}
    data["at_risk"] = at_risk(accounts)
    on = workspace.as_of or kept[1]
    data["components"] = cached(workspace, ("health_components", kept, on, f.segment),
                                lambda: workspace.run(lambda store: component_averages(store, on, f.segment)))
    return data


def _band_order(band: str) -> int:
    order = list(charts.BAND_COLOURS)
    return order.index(band) if band in order else len(order)


def health_figures(data: dict, request: Request) -> dict[str, str]:
    _ = gettext_of(request)
    separators = charts.separators_for(language_of(request))
    f, figures = data["filters"], {}
    if data["trend"]:
        days = [r["as_of"] for r in data["trend"]]
        bands = [b for b in data["trend"][0] if b not in ("as_of", "customers", "mean_score")]
        bars = [(_(b), [r[b] for r in data["trend"]], charts.BAND_COLOURS.get(b), None) for b in bands]
        figures["trend"] = bars_and_line(days, bars, (_("Mean score"), [r["mean_score"] for r in data["trend"]]),
                                         separators)
    if data["mix"]:
        mix = data["mix"]
        figures["mix"] = charts.bars([_("Customers")], {_(b): [n] for b, n in mix.items()}, stacked=True,
                                     colours={_(b): charts.BAND_COLOURS.get(b) for b in mix}, separators=separators,
                                     links={_(b): [f"/accounts?{f.query(band=b, **{'from': None, 'to': None})}"]
                                            for b in mix})
    if data["components"]["components"]:
        parts = data["components"]["components"]
        figures["components"] = charts.bars([_(COMPONENTS.get(p["component"], p["component"])) for p in parts],
                                            {_("Average score"): [p["mean"] for p in parts]}, separators=separators)
    return figures


@router.get("/health", include_in_schema=False)
def health_page(request: Request, user: User = Depends(signed_in)):
    data = health_data(request)
    return page(request, "health.html", data=data, figures=health_figures(data, request), components=COMPONENTS)


@router.get("/api/health", tags=["pages"], summary="Health: band mix over time, customers at risk, component "
            "averages (?from=&to=&segment=)")
def health_api(request: Request, user: User = Depends(api_scope("read"))):
    return api_json(health_data(request))
