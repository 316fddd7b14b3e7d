"""Stripe's webhook endpoint: `POST /webhooks/stripe` receives Stripe Billing's events (customers,
subscriptions, invoices) and maps them into accounts, subscriptions and invoices (ingest/stripe_webhook.py,
ingest/stripe.py).

Set it up once: in the Stripe Dashboard (Developers > Webhooks) add the endpoint
https://YOUR-SERVER/webhooks/stripe, then keep its signing secret in the workspace:

    STRIPE_WEBHOOK_SECRET=whsec_… sucesso stripe secret --env STRIPE_WEBHOOK_SECRET

No sign-in: each request must carry a Stripe-Signature made with that secret, at most 5 minutes
old. Answers (Stripe retries any non-2xx for up to three days):
- 200 once the event is applied, or safely ignored: a redelivery (duplicate), an event older than
  what sucesso already holds of its object (ignored_stale), a type sucesso does not map (ignored);
- 400 for a missing or wrong signature, a replayed (too old) one, a body that is not an event;
- 413 for a body over 4 MB; 422 when the event's rows fail the importer's checks (nothing
  written; the problems are in the answer); 503 while no signing secret is set.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sucesso.ingest import stripe_webhook
from sucesso.ingest.stripe import Unwritable
from sucesso.web.render import gettext_of

router = APIRouter()
MAX_BYTES = 4 * 1024 * 1024


async def _body(request: Request) -> bytes | None:
    """The raw body (the signature is over its exact bytes), or None past MAX_BYTES."""
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BYTES:
            return None
    return bytes(received)


@router.post("/webhooks/stripe", tags=["stripe"], summary="Stripe webhook events (signed with the workspace's "
                                                          "signing secret)")
async def receive_event(request: Request) -> JSONResponse:
    body = await _body(request)
    _ = gettext_of(request)
    if body is None:
        return JSONResponse({"received": False, "message": _("the request is larger than %(limit)s MB",
                                                             limit=MAX_BYTES // (1024 * 1024))}, status_code=413)
    header = request.headers.get("stripe-signature")
    workspace = request.app.state.workspace
    try:
        outcome = await run_in_threadpool(workspace.run, lambda store: stripe_webhook.receive(store, body, header))
    except stripe_webhook.NotSetUp as exc:
        return JSONResponse({"received": False, "message": exc.translated(_)}, status_code=503)
    except stripe_webhook.Refused as exc:
        return JSONResponse({"received": False, "message": exc.translated(_)}, status_code=400)
    except Unwritable as exc:
        return JSONResponse({"received": False, "message": _("the event's rows cannot be written; nothing was "
                                                             "written"),
                             "problems": [str(p) for p in exc.problems]}, status_code=422)
    if outcome.outcome == "applied":
        request.app.state.workspace.refresh_now_and_then()
    return JSONResponse({"received": True, "outcome": outcome.outcome, "detail": outcome.detail})
