"""The Segment-compatible tracking API: `POST /v1/identify`, `/v1/group`, `/v1/track`,
`/v1/page`, `/v1/screen`, `/v1/alias` and `/v1/batch` (also `/v1/import`, its older name), so
that a Segment or RudderStack library or destination sends to sucesso when its host (data plane
URL) is this server's. What the calls become: ingest/tracking.py; Segment's rules: ingest/segment.py.

    curl -u "$TOKEN:" -H 'Content-Type: application/json' http://127.0.0.1:8000/v1/track \\
         -d '{"userId": "u1", "event": "Report exported", "context": {"groupId": "acme"}}'

The write key is an API token with the ingest scope (`sucesso token create EMAIL --scope ingest`),
sent as Segment's libraries send a write key — the Basic-auth user name with an empty password —
or as `writeKey` in the body [Segment HTTP API, "Authentication"]; `Authorization: Bearer` works
too. No key or an unknown one: 401; a token without the ingest scope: 403.

Answers are Segment's: 200 `{"success": true}` once the request's rows are committed; 400 for a
body too large or not JSON, and — a request being written all or nothing — when any message
cannot be written, with `errors: [{index, messageId, message}]` naming each (in the request's
language); analytics libraries read `code` and `message`. Bodies may be gzip-compressed
(`Content-Encoding: gzip`, as analytics-python sends with gzip=True); the size limits apply
to the JSON.

Concurrent requests take turns at the workspace in rounds (`_Rounds`): the requests waiting are
read and written together (`tracking.ingest_many`: one transaction for all their tracks,
each request still all or nothing), and each gets its answer once its round is committed.
benchmarks/tracking_throughput.py measures it.

The precomputed pages catch up with tracked events at most every 15 minutes (a recomputation
after every batch would hold the workspace more than the events do).
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import zlib
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sucesso.i18n import N_, gettext_for
from sucesso.ingest import tracking
from sucesso.ingest.segment import BATCH_LIMIT, CALLS, KB, MESSAGE_LIMIT
from sucesso.store import Store
from sucesso.web.render import language_of
from sucesso.web.users import token_of

router = APIRouter()
REFRESH_EVERY = 15 * 60  # seconds


async def _body(request: Request, limit: int) -> bytes:
    """The request's JSON, at most `limit` bytes once decompressed (else Rejected)."""
    too_large = tracking.Rejected(N_("the request is larger than %(limit)s KB"), limit=limit // KB)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise too_large
    if request.headers.get("content-encoding", "").lower() != "gzip":
        return bytes(received)
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflate.decompress(bytes(received), limit + 1)
    except zlib.error:
        raise tracking.Rejected(N_("the body is not valid gzip")) from None
    if len(body) > limit:
        raise too_large
    return body


def _header_key(request: Request) -> str | None:
    """The write key of the Authorization header: Basic auth's user name (Segment's way), or a Bearer token."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0] or None
        except (ValueError, UnicodeDecodeError):
            return None
    if scheme.lower() == "bearer":
        return value.strip() or None
    return None


def _refusal(store: Store, key: str | None) -> int | None:
    """401 for no key or an unknown one, 403 for a token without the ingest scope, else None."""
    found = token_of(store, key) if key else None
    if found is None:
        return 401
    return None if "ingest" in found[1] else 403


@dataclass
class _Waiting:
    """A request waiting for the workspace, and then its answer."""

    body: bytes | None
    call: str | None
    received_at: dt.datetime
    key: str | None  # from the Authorization header; else the body's writeKey
    rejected: tracking.Rejected | None = None
    done: bool = False
    refused: int | None = None
    errors: list = field(default_factory=list)
    failure: Exception | None = None


class _Rounds:
    """Requests take turns at the workspace in rounds: whoever holds it next reads and writes
    every request waiting (up to ROUND) — `tracking.ingest_many`, so that concurrent senders share
    lookups and writes — and each request returns only once the round holding it is committed.

    Reading a body inside the round costs no parallelism (Python runs one thread at a time) and
    lets the requests that arrive meanwhile gather for the next round."""

    ROUND = 64
    GATHER = 0.005  # seconds a round waits for requests still arriving (group commit)

    def __init__(self, workspace):
        self.workspace = workspace
        self.waiting: list[_Waiting] = []
        self.arriving = 0  # requests whose body is being received
        self.changed = threading.Condition()

    def arrive(self) -> None:
        with self.changed:
            self.arriving += 1

    def leave(self) -> None:
        """A request that arrived and will not be submitted (its client went away)."""
        with self.changed:
            self.arriving -= 1
            self.changed.notify_all()

    def submit(self, request: _Waiting) -> None:
        with self.changed:
            self.arriving -= 1
            self.waiting.append(request)
            self.changed.notify_all()
        while not request.done:
            self.workspace.run(lambda store: self._round(store, request))
        if request.failure is not None:
            raise request.failure

    def _round(self, store: Store, mine: _Waiting) -> None:
        if mine.done:  # the round before took it
            return
        with self.changed:
            self.changed.wait_for(lambda: not self.arriving or len(self.waiting) >= self.ROUND, self.GATHER)
            round_, self.waiting = self.waiting[:self.ROUND], self.waiting[self.ROUND:]
        try:
            admitted = []
            refusals: dict[str | None, int | None] = {}
            for request in round_:
                calls = self._read(request)
                if request.key not in refusals:
                    refusals[request.key] = _refusal(store, request.key)
                request.refused = refusals[request.key]
                if request.refused is None and calls is not None:
                    admitted.append((request, calls))
            answers = tracking.ingest_many(store, [calls for _, calls in admitted])
            for (request, _), errors in zip(admitted, answers, strict=True):
                request.errors = errors
        except Exception as exc:  # noqa: BLE001 - every request of the round fails with it (a 500 each)
            for request in round_:
                request.failure = exc
        finally:
            for request in round_:
                request.done = True

    @staticmethod
    def _read(request: _Waiting) -> tracking.Calls | None:
        if request.rejected is not None:
            return None
        try:
            calls = tracking.read(request.body, request.call, request.received_at)
        except tracking.Rejected as exc:
            request.rejected = exc
            return None
        request.key = request.key or calls.write_key
        return calls


def _rounds(app) -> _Rounds:
    if getattr(app.state, "tracking_rounds", None) is None:
        app.state.tracking_rounds = _Rounds(app.state.workspace)
    return app.state.tracking_rounds


async def _receive(request: Request, call: str | None) -> JSONResponse:
    waiting = _Waiting(None, call, dt.datetime.now(dt.UTC).replace(tzinfo=None), _header_key(request))
    rounds = _rounds(request.app)
    rounds.arrive()
    try:
        waiting.body = await _body(request, BATCH_LIMIT if call is None else MESSAGE_LIMIT)
    except tracking.Rejected as exc:
        waiting.rejected = exc
    except BaseException:
        rounds.leave()
        raise
    await run_in_threadpool(rounds.submit, waiting)
    if waiting.refused is None and waiting.rejected is None and not waiting.errors:
        request.app.state.workspace.refresh_now_and_then(REFRESH_EVERY)
        return JSONResponse({"success": True})
    _ = gettext_for(language_of(request))
    if waiting.refused == 401:
        return JSONResponse({"success": False, "code": "unauthorized",
                             "message": _("No valid write key: send an API token with the ingest scope as the "
                                          "Basic-auth user name (or as a Bearer token).")},
                            status_code=401, headers={"WWW-Authenticate": 'Basic realm="sucesso"'})
    if waiting.refused == 403:
        return JSONResponse({"success": False, "code": "forbidden",
                             "message": _("This token does not have the ingest scope.")}, status_code=403)
    if waiting.rejected is not None:
        return JSONResponse({"success": False, "code": "invalid_request",
                             "message": waiting.rejected.translated(_)}, status_code=400)
    errors = waiting.errors
    return JSONResponse({
        "success": False, "code": "invalid_request",
        "message": _("%(count)s message(s) cannot be written; nothing was written.", count=len(errors)),
        "errors": [{"index": e.index, "messageId": e.message_id, "message": e.translated(_)} for e in errors],
    }, status_code=400)


def _route(call: str | None):
    async def receive(request: Request) -> JSONResponse:
        return await _receive(request, call)

    return receive


# What the OpenAPI schema says of the bodies and answers (the handlers read the raw bytes themselves)
_TEXT, _OBJECT = {"type": "string"}, {"type": "object"}
_MESSAGE = {"type": "object", "properties": {
    "userId": _TEXT, "anonymousId": _TEXT, "groupId": _TEXT, "previousId": _TEXT, "event": _TEXT, "name": _TEXT,
    "properties": _OBJECT, "traits": _OBJECT, "context": _OBJECT, "messageId": _TEXT, "writeKey": _TEXT,
    "timestamp": {"type": "string", "format": "date-time"}, "sentAt": {"type": "string", "format": "date-time"}}}
_BATCH = {"type": "object", "required": ["batch"], "properties": {
    "batch": {"type": "array", "items": {**_MESSAGE, "properties": {**_MESSAGE["properties"],
                                                                    "type": {"type": "string", "enum": list(CALLS)}}}},
    "context": _OBJECT, "sentAt": _MESSAGE["properties"]["sentAt"], "writeKey": _TEXT}}
_ERROR = {"type": "object", "properties": {"index": {"type": "integer"}, "message": _TEXT,
                                          "messageId": {"type": "string", "nullable": True}}}
_ANSWER = {"content": {"application/json": {"schema": {"type": "object", "required": ["success"], "properties": {
    "success": {"type": "boolean"}, "code": _TEXT, "message": _TEXT, "errors": {"type": "array", "items": _ERROR}}}}}}
_RESPONSES = {200: {**_ANSWER, "description": "Written"}, 400: {**_ANSWER, "description": "Nothing written"},
              401: {**_ANSWER, "description": "No valid write key"}, 403: {**_ANSWER, "description": "No ingest scope"}}


def _openapi(body: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


for _call in CALLS:
    router.add_api_route(f"/v1/{_call}", _route(_call), methods=["POST"], tags=["tracking"],
                         summary=f"Segment-compatible {_call} call", responses=_RESPONSES,
                         openapi_extra=_openapi(_MESSAGE))
for _path in ("/v1/batch", "/v1/import"):
    router.add_api_route(_path, _route(None), methods=["POST"], tags=["tracking"],
                         summary="Segment-compatible batch of calls (all or nothing)", responses=_RESPONSES,
                         openapi_extra=_openapi(_BATCH))
