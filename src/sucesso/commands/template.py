"""`sucesso template`: the spreadsheet template (XLSX) for teams that keep everything in spreadsheets."""

from __future__ import annotations

from typing import Annotated

import typer

from sucesso.cli import LangOption, app, cli_gettext, fail, help_, out
from sucesso.ingest.template import write_template


@app.command("template", help=help_(
    "Write the spreadsheet template: a documented sheet per table, headers in English or Portuguese."))
def template_command(
    lang: LangOption = None,
    out_file: Annotated[str | None, typer.Option("--out", help=help_(
        "The file to write (default: sucesso-template.xlsx; in Portuguese sucesso-modelo.xlsx)."))] = None,
) -> None:
    _ = cli_gettext(None, lang)
    path = out_file or ("sucesso-modelo.xlsx" if _.language == "pt_BR" else "sucesso-template.xlsx")
    try:
        write_template(path, _.language)
    except OSError as exc:
        raise fail("cannot write %(path)s: %(reason)s", path=path, reason=exc.strerror or str(exc)) from None
    out.print(_("template written to %(path)s: fill in its sheets, then import them all with "
                "sucesso import workbook %(path)s", path=path), highlight=False)
