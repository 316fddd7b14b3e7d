"""`sucesso review`: the success review of one account for a period, as HTML and PDF files."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sucesso.cli import DbOption, JsonOption, app, cli_gettext, fail, help_, workspace

FORMATS = {"html": ("html",), "pdf": ("pdf",), "both": ("html", "pdf")}


@app.command("review", help=help_("The success review of one account for a period, in the customer's language: "
                                  "written as HTML and PDF files, their paths printed."))
def review_command(
    account: Annotated[str, typer.Argument(help=help_("An account_id, or the exact name of one account."))],
    start: Annotated[str | None, typer.Option("--from", help=help_(
        "First day, YYYY-MM-DD (with --to)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=help_(
        "The day after the last one, YYYY-MM-DD (with --from)."))] = None,
    period: Annotated[str | None, typer.Option(help=help_(
        "2026-Q3, 2026-09 or 2026 (default: the last full quarter of data)."))] = None,
    lang: Annotated[str | None, typer.Option("--lang", help=help_(
        "en or pt_BR (default: the account's language, else its country's, else the workspace's)."))] = None,
    fmt: Annotated[str, typer.Option("--format", help=help_("html, pdf or both."))] = "both",
    folder: Annotated[str, typer.Option("--out", help=help_("Folder to write to (created if needed)."))] = ".",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.reports import AccountNotFound, success_review

    with workspace(db) as store:
        cli_gettext(store, lang)
        if fmt not in FORMATS:
            raise fail("--format must be html, pdf or both, not %(format)r", format=fmt)
        try:
            review = success_review(store, account, period, start, end, lang)
        except AccountNotFound as exc:
            if exc.matches:
                raise fail("several accounts are named %(name)r (%(ids)s): give its account_id", name=account,
                           ids=", ".join(exc.matches)) from None
            raise fail("no account %(account)r: give an account_id or the exact name of one account",
                       account=account) from None
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(review, ensure_ascii=False, indent=2))
        return
    from sucesso.reports.output import write_review

    for path in write_review(review, folder, FORMATS[fmt]):
        print(path)
