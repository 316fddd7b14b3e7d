"""`sucesso user` and `sucesso token`: who may sign in to the web app, with which role, and the
API tokens scripts use. The logic is in `sucesso.web.users`, shared with the Settings page."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sucesso.cli import DbOption, app, cli_gettext, fail, help_, out, workspace
from sucesso.i18n import N_

user_app = typer.Typer(help=help_("Users of the web app and their roles (admin, manager, csm, viewer)."),
                       no_args_is_help=True)
token_app = typer.Typer(help=help_("API tokens (Authorization: Bearer …), scoped read, ingest or admin."),
                        no_args_is_help=True)
EmailArgument = Annotated[str, typer.Argument(help=help_("The user's email."))]
RoleArgument = Annotated[str, typer.Argument(help=help_("admin, manager, csm or viewer."))]
GenerateOption = Annotated[bool, typer.Option("--generate", help=help_("Generate a password and print it once."))]
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _choose_password(password: str | None, generate: bool) -> tuple[str, bool]:
    """(the password, whether it was generated); prompts twice, hidden, when neither is given."""
    from sucesso.web.users import generate_password

    if password and generate:
        raise fail("give --password or --generate, not both")
    if generate:
        return generate_password(), True
    if password:
        return password, False
    return typer.prompt(cli_gettext()("password"), hide_input=True, confirmation_prompt=True), False


@user_app.command("add", help=help_("Add a user who can sign in to the web app."))
def user_add(
    email: Annotated[str, typer.Argument(help=help_("Their email: what they sign in with."))],
    role: Annotated[str, typer.Option(help=help_("admin, manager, csm or viewer."))],
    name: Annotated[str | None, typer.Option(help=help_("Their name (default: the email's first part)."))] = None,
    csm_id: Annotated[str | None, typer.Option("--csm-id", help=help_(
        "Their csm_id in the csms table (a csm's portfolio)."))] = None,
    password: Annotated[str | None, typer.Option(help=help_("Their password (default: asked twice)."))] = None,
    generate: GenerateOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.web.users import UserError, create_user

    chosen, generated = _choose_password(password, generate)
    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            user = create_user(store, email, role, chosen, name=name, csm_id=csm_id)
        except UserError as exc:
            raise fail(str(exc)) from None
    out.print(tr("user %(email)s added as %(role)s", email=user.email, role=user.role), highlight=False)
    if generated:
        out.print(tr("password (shown once): %(password)s", password=chosen), highlight=False, markup=False)


@user_app.command("list", help=help_("Every user, their role and whether they may sign in."))
def user_list(db: DbOption = None) -> None:
    from sucesso.web.users import list_users

    with workspace(db) as store:
        tr = cli_gettext(store)
        rows = list_users(store)
    table = Table(*map(tr, (N_("email"), N_("name"), N_("role"))), "csm_id", tr("active"), tr("created"))
    for row in rows:
        u = row.user
        table.add_row(u.email, u.name, u.role, u.csm_id or "", tr("yes") if row.active else tr("no"),
                      f"{row.created_at:%Y-%m-%d}")
    out.print(table)


def _change(db: str | None, email: str, change) -> tuple[str, object]:
    """Run `change(store, user)` for the user with this email; their email and the command's
    gettext back."""
    from sucesso.web.users import UserError, user_by_email

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            user = user_by_email(store, email)
            change(store, user)
        except UserError as exc:
            raise fail(str(exc)) from None
    return user.email, tr


@user_app.command("set-role", help=help_("Change a user's role."))
def user_set_role(email: EmailArgument, role: RoleArgument, db: DbOption = None) -> None:
    from sucesso.web.users import set_role

    who, tr = _change(db, email, lambda store, user: set_role(store, user.user_id, role))
    out.print(tr("%(email)s is now %(role)s", email=who, role=role), highlight=False)


@user_app.command("deactivate", help=help_(
    "Stop a user signing in: their sessions end and their tokens stop working."))
def user_deactivate(email: EmailArgument, db: DbOption = None) -> None:
    from sucesso.web.users import set_active

    who, tr = _change(db, email, lambda store, user: set_active(store, user.user_id, False))
    out.print(tr("%(email)s is deactivated", email=who), highlight=False)


@user_app.command("activate", help=help_("Let a deactivated user sign in again."))
def user_activate(email: EmailArgument, db: DbOption = None) -> None:
    from sucesso.web.users import set_active

    who, tr = _change(db, email, lambda store, user: set_active(store, user.user_id, True))
    out.print(tr("%(email)s is active", email=who), highlight=False)


@user_app.command("set-password", help=help_("Set a user's password (for one who forgot theirs); their sessions end."))
def user_set_password(
    email: EmailArgument,
    password: Annotated[str | None, typer.Option(help=help_("The new password (default: asked twice)."))] = None,
    generate: GenerateOption = False,
    db: DbOption = None,
) -> None:
    from sucesso.web.users import set_password

    chosen, generated = _choose_password(password, generate)
    who, tr = _change(db, email, lambda store, user: set_password(store, user.user_id, chosen))
    out.print(tr("password of %(email)s changed", email=who), highlight=False)
    if generated:
        out.print(tr("password (shown once): %(password)s", password=chosen), highlight=False, markup=False)


@token_app.command("create", help=help_("Create an API token and print it once (only its hash is kept)."))
def token_create(
    email: Annotated[str, typer.Argument(help=help_("The user the token acts as."))],
    scope: Annotated[str, typer.Option(help=help_("Comma-separated: read, ingest, admin."))] = "read",
    name: Annotated[str, typer.Option(help=help_("What the token is for."))] = "cli",
    db: DbOption = None,
) -> None:
    from sucesso.web.users import UserError, create_token, user_by_email

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            token_id, token = create_token(store, user_by_email(store, email), name, scope)
        except UserError as exc:
            raise fail(str(exc)) from None
    out.print(tr("token %(token_id)s for %(email)s (shown once; send it as 'Authorization: Bearer <token>'):",
                 token_id=token_id, email=email.strip().lower()), highlight=False)
    print(token)


@token_app.command("list", help=help_(
    "The tokens (never the secrets): owner, scopes, when last used, whether revoked."))
def token_list(email: Annotated[str | None, typer.Argument(help=help_("Only this user's tokens."))] = None,
               db: DbOption = None) -> None:
    from sucesso.web.users import UserError, list_tokens, user_by_email

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            tokens = list_tokens(store, user_by_email(store, email).user_id if email else None)
        except UserError as exc:
            raise fail(str(exc)) from None
    table = Table()
    table.add_column("id", no_wrap=True, min_width=20)  # whole, to be copied into `token revoke`
    for column in (N_("user"), N_("name"), N_("scopes"), N_("created"), N_("last used"), N_("revoked")):
        table.add_column(tr(column))
    for t in tokens:
        table.add_row(t.token_id, t.email, t.name, ",".join(t.scopes), f"{t.created_at:%Y-%m-%d}",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "",
                      f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "")
    out.print(table)


@token_app.command("revoke", help=help_("Revoke a token for good."))
def token_revoke(token_id: Annotated[str, typer.Argument(help=help_("The token's id (see `sucesso token list`)."))],
                 db: DbOption = None) -> None:
    from sucesso.web.users import UserError, revoke_token

    with workspace(db) as store:
        tr = cli_gettext(store)
        try:
            token = revoke_token(store, token_id)
        except UserError as exc:
            raise fail(str(exc)) from None
    out.print(tr("token %(token_id)s (%(name)s, %(email)s) revoked", token_id=token.token_id, name=token.name,
                 email=token.email), highlight=False)
