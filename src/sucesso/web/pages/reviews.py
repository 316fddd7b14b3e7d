"""Success reviews: an account's review as a self-contained HTML page (to open, print or e-mail),
as a PDF download, and its data as JSON. ?period=2026-Q3|2026-09|2026 or ?from=&to= (YYYY-MM-DD,
`to` exclusive; default: the last full quarter of data), ?lang=en|pt_BR (default: the account's)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from sucesso.reports import success_review
from sucesso.reports.pdf import review_pdf
from sucesso.reports.render import file_name, review_html
from sucesso.web.auth import User, api_scope, signed_in
from sucesso.web.kit import cached
from sucesso.web.pages.accounts import visible_profile

router = APIRouter()


def review_data(request: Request, account_id: str, user: User) -> dict:
    """The review (reports.review) of an account `user` may see (else 404); a bad period or language: 422."""
    visible_profile(request, account_id, user)
    q = request.query_params
    choice = {k: q.get(k) or None for k in ("period", "from", "to", "lang")}
    workspace = request.app.state.workspace
    try:
        return cached(workspace, ("review", account_id, *choice.values()), lambda: workspace.run(
            lambda store: success_review(store, account_id, choice["period"], choice["from"], choice["to"],
                                         choice["lang"])))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/accounts/{account_id}/review", include_in_schema=False)
def review_page(request: Request, account_id: str, user: User = Depends(signed_in)):
    return HTMLResponse(review_html(review_data(request, account_id, user)))


@router.get("/accounts/{account_id}/review.pdf", include_in_schema=False)
def review_pdf_file(request: Request, account_id: str, user: User = Depends(signed_in)):
    review = review_data(request, account_id, user)
    return Response(review_pdf(review), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{file_name(review, "pdf")}"'})


@router.get("/api/accounts/{account_id}/review", tags=["pages"],
            summary="Success review of an account: ?period=2026-Q3|2026-09|2026 or ?from=&to=, ?lang=en|pt_BR")
def review_api(request: Request, account_id: str, user: User = Depends(api_scope("read"))):
    return review_data(request, account_id, user)
