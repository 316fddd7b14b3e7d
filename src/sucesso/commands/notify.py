"""`sucesso notify`: the e-mail (SMTP) and webhook channels, the outbox, delivering it now.
The logic is in `sucesso.operations.notify`; secrets are read from the environment, never argv."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sucesso.cli import DbOption, JsonOption, app, cli_gettext, fail, help_, out, workspace

notify_app = typer.Typer(help=help_("Notifications: e-mail over SMTP and signed webhooks, sent from an outbox with "
                              "retries."), no_args_is_help=True)
webhook_app = typer.Typer(help=help_("Webhooks: URLs that receive signed JSON for the events they subscribe to."),
                          no_args_is_help=True)
notify_app.add_typer(webhook_app, name="webhook")
app.add_typer(notify_app, name="notify")



def from_env(variable: str | None) -> str | None:
    """The secret held by the environment variable `variable` (None when no variable is named)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise fail("the environment variable %(variable)s is not set (or empty)", variable=variable)
    return value


def when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def print_json(rows) -> None:
    print(json.dumps(rows, ensure_ascii=False, indent=2, default=lambda v: v.isoformat()))


@notify_app.command("smtp", help=help_(
    "Send e-mail through this SMTP server (or, with no options, print how e-mail is sent)."))
def smtp_command(
    host: Annotated[str | None, typer.Option(help=help_(
        "The SMTP server (with no options: print the settings)."))] = None,
    port: Annotated[int, typer.Option(help=help_("Its port: 587 for starttls, 465 for ssl, 25 for none."))] = 587,
    sender: Annotated[str | None, typer.Option("--from", help=help_("The address e-mails come from."))] = None,
    username: Annotated[str | None, typer.Option(help=help_("Sign in to the server as this user."))] = None,
    password_env: Annotated[str | None, typer.Option(
        "--password-env", metavar="VAR", help=help_("The environment variable holding the password."))] = None,
    security: Annotated[str, typer.Option(help=help_("none, starttls or ssl."))] = "starttls",
    db: DbOption = None,
) -> None:
    from sucesso.operations.notify import NotifyError, set_smtp, smtp_settings

    with workspace(db) as store:
        tr = cli_gettext(store)
        if host is None and sender is None:
            settings = smtp_settings(store)
            if settings is None:
                raise fail("e-mail is not set up: sucesso notify smtp --host HOST --from ADDRESS")
            out.print(tr("e-mail from %(sender)s through %(host)s:%(port)s (%(security)s), %(login)s",
                         sender=settings["from"], host=settings["host"], port=settings["port"],
                         security=settings["security"],
                         login=tr("signing in as %(user)s", user=settings["username"]) if settings["username"]
                         else tr("without signing in")), highlight=False)
            return
        if not host or not sender:
            raise fail("give both --host and --from")
        try:
            set_smtp(store, host, port, sender, username, from_env(password_env), security)
        except NotifyError as exc:
            raise fail(exc.message, **exc.params) from None
    out.print(tr("e-mail will be sent from %(sender)s through %(host)s:%(port)s (%(security)s)", sender=sender,
                 host=host, port=port, security=security), highlight=False)


@webhook_app.command("add", help=help_("Send signed notifications to a URL; prints its signing secret once."))
def webhook_add(
    url: Annotated[str, typer.Argument(help=help_("Where to POST the JSON (http:// or https://)."))],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help=help_("An event to send (task.created, alert, …); repeatable. Default: every event."))] = None,
    secret_env: Annotated[str | None, typer.Option(
        "--secret-env", metavar="VAR", help=help_("The environment variable holding the signing secret (default: a "
                                            "new random one)."))] = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.notify import NotifyError, add_webhook

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            webhook_id, secret = add_webhook(store, url, event or ["*"], from_env(secret_env))
        except NotifyError as exc:
            raise fail(exc.message, **exc.params) from None
    out.print(tr("webhook %(id)s added: %(url)s, events %(events)s", id=webhook_id, url=url,
                 events=", ".join(event or ["*"])), highlight=False)
    if not secret_env:
        out.print(tr("signing secret (shown once): %(secret)s", secret=secret), highlight=False, markup=False)


@webhook_app.command("list", help=help_("Every webhook and the events it receives (never its secret)."))
def webhook_list(as_json: JsonOption = False, db: DbOption = None) -> None:
    from sucesso.operations.notify import webhooks

    with workspace(db) as store:
        tr = cli_gettext(store)
        rows = webhooks(store)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "URL", tr("events"), tr("active"))
    for w in rows:
        table.add_row(w["id"], w["url"], ", ".join(w["events"]), tr("yes") if w["active"] else tr("no"))
    out.print(table)


@webhook_app.command("remove", help=help_("Stop sending to a webhook."))
def webhook_remove(webhook_id: Annotated[str, typer.Argument(metavar="ID")], db: DbOption = None) -> None:
    from sucesso.operations.notify import NotifyError, remove_webhook

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            remove_webhook(store, webhook_id)
        except NotifyError as exc:
            raise fail(exc.message, **exc.params) from None
    out.print(tr("webhook %(id)s removed", id=webhook_id), highlight=False)


@notify_app.command("test", help=help_(
    "Send a test notification to every webhook (and --email addresses) now, and say how each went."))
def test_command(
    email: Annotated[list[str] | None, typer.Option("--email", help=help_(
        "Also e-mail this address; repeatable."))] = None,
    db: DbOption = None,
) -> None:
    from sucesso.operations.notify import send_test

    with workspace(db) as store:
        tr = cli_gettext(store)
        rows = send_test(store, tr("sucesso: test notification"),
                         tr("This is a test notification from sucesso. If it reached you, this channel works."),
                         email or [])
    if not rows:
        raise fail("nothing to send to: add a webhook (sucesso notify webhook add URL) or set up e-mail "
                   "(sucesso notify smtp) and give --email")
    for r in rows:
        if r["status"] == "sent":
            out.print(f"[green]✓[/] {tr(r['channel'])} {escape(r['destination'])}: {tr('sent')}", highlight=False)
        else:
            out.print(f"[red]✗[/] {tr(r['channel'])} {escape(r['destination'])}: {escape(r['last_error'] or '')} "
                      + tr("(next attempt %(when)s)", when=when(r["next_attempt_at"])), highlight=False)
    if any(r["status"] != "sent" for r in rows):
        raise typer.Exit(1)


@notify_app.command("deliver", help=help_(
    "Send the notifications that are due now (and retry those whose wait is over)."))
def deliver_command(db: DbOption = None) -> None:
    from sucesso.operations.notify import deliver

    with workspace(db) as store:
        tr = cli_gettext(store)
        counts = deliver(store)
    out.print(tr("%(sent)s sent, %(retrying)s to retry later, %(failed)s failed for good", **counts),
              highlight=False)


@notify_app.command("list", help=help_(
    "The outbox, latest first: where each notification goes and how its delivery went."))
def list_command(
    status: Annotated[str | None, typer.Option(help=help_("Only pending, sent or failed ones."))] = None,
    limit: Annotated[int, typer.Option(help=help_("How many, latest first."), min=1)] = 100,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.operations.notify import NotifyError, outbox

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            rows = outbox(store, status, limit)
        except NotifyError as exc:
            raise fail(exc.message, **exc.params) from None
    if as_json:
        print_json(rows)
    else:
        print_outbox(rows, tr)


def print_outbox(rows: list[dict], tr) -> None:
    table = Table(title=tr("notifications, latest first (times in UTC)"), title_justify="left")
    for column in ("created", "channel", "destination", "event", "status", "attempts", "next attempt", "error"):
        table.add_column(tr(column), justify="right" if column == "attempts" else "left")
    for r in rows:
        style = {"sent": "green", "failed": "red"}.get(r["status"], "yellow")
        table.add_row(when(r["created_at"]), tr(r["channel"]), escape(r["destination"]), escape(r["event"]),
                      f"[{style}]{tr(r['status'])}[/]", str(r["attempts"]), when(r["next_attempt_at"]),
                      escape(r["last_error"] or ""))
    out.print(table)
