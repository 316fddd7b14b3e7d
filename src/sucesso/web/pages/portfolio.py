"""Portfolio: per CSM, the accounts they own, their MRR, health mix, coverage and load."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Request

from sucesso.insight.accounts import BANDS, portfolios
from sucesso.metrics.api import kpi_rows
from sucesso.metrics.registry import NO_GROUP
from sucesso.web import charts
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.filters import filters
from sucesso.web.kit import cached
from sucesso.web.render import gettext_of, language_of, page
from sucesso.web.tables import records

router = APIRouter()


PAGE_SIZE = 50


def portfolio_data(request: Request, paged: bool = False) -> dict:
    """Per CSM, most MRR first; `paged`: 50 CSMs a page (?page=), as the page shows them."""
    f = filters(request)
    workspace = request.app.state.workspace
    rows = workspace.account_rows()
    if rows.empty:
        return {"filters": f, "month": None, "csms": [], "page": 1, "pages": 1}
    table = cached(workspace, ("portfolio", f.segment, f.last), lambda: _per_csm(workspace, rows, f.segment, f.last))
    pages, number = 1, 1
    if paged:
        pages = max(1, -(-len(table) // PAGE_SIZE))
        try:
            number = min(pages, max(1, int(request.query_params.get("page", "1"))))
        except ValueError:
            number = 1
        table = table[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    return {"filters": f, "month": f.last, "csms": table, "page": number, "pages": pages}


def _per_csm(workspace, rows, segment: str, month: str | None) -> list[dict]:
    customers = rows[rows["customer"]]
    if segment:
        customers = customers[customers["segment"] == segment]
    return records(portfolios(customers, _coverage_by_csm(workspace, month)))


def _coverage_by_csm(workspace, month: str | None) -> dict:
    """csm_id → coverage (customers with a CS activity in 90 days / customers) at the end of `month`."""
    if month is None:
        return {}
    cache = workspace.__dict__.setdefault("_coverage", {})
    if month not in cache:
        rows = workspace.run(lambda s: kpi_rows(s, ["coverage"], month, month, by="csm"))
        cache[month] = {r["csm"] if r["csm"] is not None else NO_GROUP: r["coverage"] for r in rows}
    return cache[month]


@router.get("/portfolio", include_in_schema=False)
def portfolio_page(request: Request, user: User = Depends(signed_in)):
    data = portfolio_data(request, paged=True)
    _ = gettext_of(request)
    figures = {}
    if data["csms"]:
        top = pd.DataFrame(data["csms"]).head(25)
        figures["mix"] = charts.bars(list(top["csm_name"]), {_(b): list(top[b]) for b in BANDS}, stacked=True,
                                     colours={_(b): charts.BAND_COLOURS[b] for b in BANDS},
                                     links={_(b): [f"/accounts?csm_id={c}&band={b}" for c in top["csm_id"]]
                                            for b in BANDS},
                                     separators=charts.separators_for(language_of(request)))
    return page(request, "portfolio.html", data=data, figures=figures)


@router.get("/api/portfolio", tags=["pages"], summary="Per CSM: accounts, MRR, health mix, coverage, load")
def portfolio_api(request: Request, user: User = Depends(api_scope("read"))):
    data = portfolio_data(request)
    f = data.pop("filters")
    return {"filters": {"from": f.first, "to": f.last, "segment": f.segment}, **data}
