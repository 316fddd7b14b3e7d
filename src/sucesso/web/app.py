"""The web app: `create_app(url)` gives the FastAPI application over one workspace.

Pages are server-rendered (Jinja2) with Plotly charts whose JavaScript is served from the
installed plotly package (no CDN: the app works with no internet). Every page and its JSON
twin under /api/… live in one module of `sucesso.web.pages` (each has a `router`); sign-in,
roles, CSRF and security headers come from `sucesso.web.auth`.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import escape

from sucesso import __version__
from sucesso.i18n import N_, gettext_for
from sucesso.store import StoreUnavailable
from sucesso.web import pages
from sucesso.web.limits import BodyLimit, storable_text
from sucesso.web.schedule import Schedule
from sucesso.web.workspace import WebWorkspace


def plotly_js() -> str:
    import plotly

    return os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")


log = logging.getLogger("sucesso.web")
UNAVAILABLE = N_("The workspace is unavailable right now: its database is busy or cannot be reached. "
                 "Try again in a moment.")
RETRY_AFTER_SECONDS = 5


def _unavailable(request: Request, exc: StoreUnavailable):
    """503, page or JSON, while the workspace's DuckDB file stays busy (another sucesso process
    writes it) or its PostgreSQL server is down; the next request tries again (store/shared.py).
    The reason goes to the log, not to the client (it names hosts and files)."""
    from sucesso.web.auth import is_api
    from sucesso.web.render import requested_language

    log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api(request):
        return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=headers)
    language = requested_language(request) or "en"  # not the workspace's: it cannot be read
    _ = gettext_for(language)
    title = escape(_("Workspace unavailable"))
    body = (f'<!doctype html><html lang="{escape(language.replace("_", "-"))}"><meta charset="utf-8">'
            f"<title>{title}</title><main><h1>{title}</h1><p>{escape(_(UNAVAILABLE))}</p></main>")
    return HTMLResponse(body, status_code=503, headers=headers)


def create_app(url: str, precompute_in_background: bool = True, schedule: bool = False) -> FastAPI:
    """The app over the workspace at `url`; `schedule`: also run the playbooks and deliver the
    notifications on their own (web/schedule.py), as `sucesso serve` does."""
    workspace = WebWorkspace(url)
    jobs = Schedule(workspace) if schedule else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if jobs:
            jobs.start()
        yield
        if jobs:
            jobs.stop()
        workspace.close()

    app = FastAPI(title="sucesso", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  dependencies=[Depends(storable_text)],
                  description="Every page of the sucesso web app as JSON, and imports. Sign in, or send "
                              "`Authorization: Bearer <token>` with a token from Settings.")
    app.openapi_version = "3.0.3"  # the Swagger UI that swagger-ui-bundle installs (4.x) reads 3.0, not 3.1
    app.state.workspace = workspace
    if precompute_in_background:
        workspace.refresh_in_background()
    else:
        workspace.refresh()

    from sucesso.web import auth

    app.add_middleware(BodyLimit)  # inside the security headers (added next), so its 413 has them too
    auth.install(app)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    static = resources.files("sucesso.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_script():
        return FileResponse(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    # the OpenAPI documentation, with Swagger UI from the installed swagger-ui-bundle (no CDN)
    import swagger_ui_bundle

    app.mount("/vendor/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return FileResponse(str(static.joinpath("docs.html")), media_type="text/html")

    for module in pkgutil.iter_modules(pages.__path__):
        app.include_router(importlib.import_module(f"{pages.__name__}.{module.name}").router)
    app.openapi = _openapi(app)
    return app


def _openapi(app: FastAPI):
    """FastAPI's schema of `app`, where a 422 says what the app sends: FastAPI's list of
    validation errors, or one message (the app's own checks: HTTPException(422, "…"))."""
    made = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schemas = made()["components"]["schemas"]
            schemas["HTTPValidationError"]["properties"]["detail"] = {"title": "Detail", "anyOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}, {"type": "string"}]}
        return app.openapi_schema

    return openapi
