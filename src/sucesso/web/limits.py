"""What a request may send: how much (413), and only text a workspace can store (400).

How much — a ceiling per route family, enforced before and while the body is read, so that an
oversized body is refused without being held in memory or spooled to disk first:
- imports (/api/import/…): the importer's own limit (pages/imports.py, 512 MB) plus 1 MB for the
  multipart envelope; the importer still answers 413 naming the file past its limit;
- the tracking API (/v1/…) and Stripe's webhook (/webhooks/…): none here — their handlers stream
  the body and stop at their own, documented limits (Segment's 400 past 32 KB a call / 500 KB a
  batch; Stripe's 413 past 4 MB);
- everything else (forms, JSON): 2 MB, more than any field allows (a churn request's 100,000
  characters of detail, even JSON-escaped); Starlette also refuses a form field over 1 MB (400).
A Content-Length over the limit is refused before anything is read; a body without one (chunked)
is counted as it arrives and refused as soon as it passes the limit.

What text — every path parameter, query parameter, form field and JSON string or key holds no
NUL character (PostgreSQL cannot store one) and no lone UTF-16 surrogate (JSON's "\\ud800": no
engine can encode it), else 400 before any handler runs; the same request gets the same answer
on DuckDB and on PostgreSQL. The tracking API checks its messages itself (each its own error),
and uploaded files are the importer's to check.
"""

from __future__ import annotations

import json
from contextlib import suppress

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from sucesso.i18n import N_
from sucesso.web.pages import imports

MB = 1024 * 1024
DEFAULT_LIMIT = 2 * MB
OWN_LIMITS = ("/v1/", "/webhooks/")  # handlers that read their bodies themselves, and stop at their own limits
TOO_LARGE = N_("The request is larger than %(limit)s MB.")
UNSTORABLE = N_("The request holds text that cannot be stored (a NUL character or a lone surrogate).")


def body_limit(path: str) -> int | None:
    """The most bytes a request to `path` may send, or None when its handler enforces its own."""
    if path.startswith(OWN_LIMITS):
        return None
    if path.startswith("/api/import/"):
        return imports.MAX_BYTES + MB
    return DEFAULT_LIMIT


class TooLarge(HTTPException):
    """Raised while the body is read (FastAPI answers it as it is: 413)."""

    def __init__(self, message: str):
        super().__init__(413, message)


async def _translated(scope, message: str, **values) -> str:
    from sucesso.web.render import gettext_of

    _ = await run_in_threadpool(gettext_of, Request(scope))  # may read the workspace's language: off the loop
    return _(message, **values)


class BodyLimit:
    """Pure ASGI: refuses a request whose body passes `body_limit(path)` with 413."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        limit = body_limit(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            message = await _translated(scope, TOO_LARGE, limit=limit // MB)
            await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge(await _translated(scope, TOO_LARGE, limit=limit // MB))
            return message

        await self.app(scope, counted, send)


# -- text a workspace can store ---------------------------------------------------------------
def storable(text: str) -> bool:
    """No NUL character and no lone surrogate (what UTF-8 and PostgreSQL's text can hold)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _texts(value) -> list[str]:
    """Every string of a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


async def storable_text(request: Request) -> None:
    """Dependency of every route: 400 unless all the request's text is `storable`."""
    if request.url.path.startswith(OWN_LIMITS):
        return
    texts = [*request.path_params.values(), *request.query_params.keys(), *request.query_params.values()]
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        texts += [t for item in form.multi_items() for t in item if isinstance(t, str)]  # files: the importer's
    elif kind.startswith("application/json"):
        with suppress(ValueError):  # not JSON: the route says so (422), if it reads any
            texts += _texts(json.loads(await request.body()))
    if not all(storable(t) for t in texts):
        raise HTTPException(400, await _translated(request.scope, UNSTORABLE))
