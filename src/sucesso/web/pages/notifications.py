"""The notifications outbox and its channels, as JSON for admins (secrets never leave the server)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sucesso.operations import notify
from sucesso.web.auth import User, api_admin
from sucesso.web.render import gettext_of

router = APIRouter()


@router.get("/api/notifications", tags=["operations"],
            summary="The notifications outbox (latest first) and the e-mail and webhook channels (admins)")
def notifications_api(request: Request, status: str | None = None, limit: int = 100,
                      user: User = Depends(api_admin)):

    def read(store):
        return {"smtp": notify.smtp_settings(store), "webhooks": notify.webhooks(store),
                "outbox": notify.outbox(store, status, max(1, min(limit, 1000)))}

    try:
        return request.app.state.workspace.run(read)
    except notify.NotifyError as exc:
        return JSONResponse({"detail": gettext_of(request)(exc.message, **exc.params)}, status_code=422)
