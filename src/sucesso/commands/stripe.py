"""`sucesso stripe`: the webhook's signing secret, the Dashboard's CSV exports, the events received.
The logic is in `sucesso.ingest.stripe` and `sucesso.ingest.stripe_csv`; the secret is read from
the environment, never from the command line, and never printed."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import DbOption, JsonOption, app, cli_gettext, fail, help_, out, print_reports, progress_bar, workspace

stripe_app = typer.Typer(help=help_("Stripe Billing: webhook events and the Dashboard's CSV exports into accounts, "
                                    "subscriptions and invoices."), no_args_is_help=True)
app.add_typer(stripe_app, name="stripe")


class Export(StrEnum):
    customers = "customers"
    subscriptions = "subscriptions"
    invoices = "invoices"


@stripe_app.command("secret", help=help_(
    "Keep the webhook endpoint's signing secret (whsec_…), read from an environment variable."))
def secret_command(
    env: Annotated[str, typer.Option("--env", metavar="VAR", help=help_(
        "The environment variable holding the signing secret."))],
    db: DbOption = None,
) -> None:
    from sucesso.ingest.stripe_webhook import Refused, set_secret

    value = os.environ.get(env)
    if not value:
        raise fail("the environment variable %(variable)s is not set (or empty)", variable=env)
    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            set_secret(store, value)
        except Refused as exc:
            raise fail(exc.message, **exc.params) from None
    out.print(tr("the Stripe signing secret is kept; Stripe's events are accepted at POST /webhooks/stripe"),
              highlight=False)


@stripe_app.command("import", help=help_(
    "Import a CSV export of the Stripe Dashboard (customers, subscriptions or invoices), all or nothing."))
def import_command(
    kind: Annotated[Export, typer.Argument(help=help_("What the export holds: customers, subscriptions or "
                                                      "invoices."))],
    file: Annotated[str, typer.Argument(help=help_("The CSV file the Dashboard exported."))],
    errors_file: Annotated[str | None, typer.Option(help=help_("Write every problem found to this CSV."))] = None,
    db: DbOption = None,
) -> None:
    from sucesso.ingest.stripe_csv import import_export

    with workspace(db) as store:
        tr = cli_gettext(store)
        with progress_bar(os.path.basename(file), tr) as (on_progress, on_phase):
            reports = import_export(store, kind.value, file, None, on_progress, on_phase)
    if not print_reports(reports, errors_file, tr, can_skip=False):
        raise typer.Exit(1)


@stripe_app.command("events", help=help_("The webhook events received, latest first, and what each did."))
def events_command(
    limit: Annotated[int, typer.Option(help=help_("How many events."), min=1)] = 30,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.ingest.stripe_webhook import has_secret, recent_events

    with workspace(db) as store:
        tr = cli_gettext(store)
        rows, ready = recent_events(store, limit), has_secret(store)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=lambda v: v.isoformat()))
        return
    if not ready:
        out.print(tr("no signing secret yet: sucesso stripe secret --env VAR"), style="yellow", highlight=False)
    table = Table(tr("received (UTC)"), tr("event"), tr("type"), tr("object"), tr("outcome"),
                  title=tr("Stripe events, latest first"), title_justify="left")
    for r in rows:
        table.add_row(f"{r['received_at']:%Y-%m-%d %H:%M:%S}", r["event_id"], r["type"], r["object_id"] or "",
                      tr(r["outcome"]) + (f" ({r['detail']})" if r["detail"] else ""))
    out.print(table)
