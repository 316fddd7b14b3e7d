"""The web app: `create_app(url)` gives the FastAPI application over one workspace.

Pages are server-rendered (Jinja2) with Plotly charts whose JavaScript is served from the
installed plotly package (no CDN: the app works with no internet). Every page and its JSON
twin under /api/… live in one module of `sucesso.web.pages` (each has a `router`); sign-in,
roles, CSRF and security headers come from `sucesso.web.auth`.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from sucesso import __version__
from sucesso.web import pages
from sucesso.web.schedule import Schedule
from sucesso.web.workspace import WebWorkspace


def plotly_js() -> str:
    import plotly

    return os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")


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
                  description="Every page of the sucesso web app as JSON, and imports. Sign in, or send "
                              "`Authorization: Bearer <token>` with a token from Settings.")
    app.openapi_version = "3.0.3"  # the Swagger UI that swagger-ui-bundle installs (4.x) reads 3.0, not 3.1
    app.state.workspace = workspace
    if precompute_in_background:
        workspace.refresh_in_background()
    else:
        workspace.refresh()

    from sucesso.web import auth

    auth.install(app)
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
    return app
