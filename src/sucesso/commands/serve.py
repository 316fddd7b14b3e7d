"""`sucesso serve`: the web app and API on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from sucesso.cli import DbOption, app, cli_gettext, fail, help_, out
from sucesso.config import workspace_url
from sucesso.store import StoreError


def serve(url: str, host: str, port: int, tr=None) -> None:
    import uvicorn

    from sucesso.web.app import create_app

    tr = tr or cli_gettext()
    try:
        web_app = create_app(url, schedule=True)
    except StoreError as exc:
        raise fail(str(exc)) from None
    out.print(tr("sucesso is running at %(address)s (API documentation at /docs); Ctrl+C stops it.",
                 address=f"[bold]http://{host}:{port}[/]"))
    uvicorn.run(web_app, host=host, port=port, log_level="warning")


@app.command("serve", help=help_("Start the web app and API (sign in with a user made by `sucesso user add`)."))
def serve_command(
    host: Annotated[str, typer.Option(help=help_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=help_("Port to listen on."))] = 8000,
    db: DbOption = None,
) -> None:
    serve(workspace_url(db), host, port)
