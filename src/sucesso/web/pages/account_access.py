"""Signing in and out, and Settings: the user's own language, password and API tokens; for
admins the users and their roles and the workspace (currency, language, what a csm sees).
The JSON twins: /api/me, /api/tokens, /api/users. No route ever returns a hash, and a new
token or generated password appears once, in the response that made it.

Every form POSTs with its CSRF token and answers with a redirect to /settings?done=… (so a
reload does not repeat it), except when it has a secret to show once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from babel.numbers import list_currencies
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import AfterValidator, BaseModel, Field

from sucesso.i18n import LANGUAGES
from sucesso.store import get_setting, set_setting
from sucesso.web import users
from sucesso.web.auth import (
    CSM_SCOPES,
    ROLES,
    Forbidden,
    User,
    api_admin,
    api_scope,
    api_user,
    clear_session_cookie,
    client_address,
    csm_scope,
    csrf_ok,
    forget_user,
    require,
    safe_next,
    session_cookie,
    set_session_cookie,
    signed_in,
    user_of,
    verify_csrf,
)
from sucesso.web.render import gettext_of, page
from sucesso.web.users import ROLE_SCOPES, UserError

router = APIRouter()


def N_(message: str) -> str:
    """Marks a message for translation where it is shown, not where it is written."""
    return message


DONE = {
    "language": N_("Your language is saved."),
    "password": N_("Your password is changed; your other sessions are signed out."),
    "revoked": N_("The token is revoked: it no longer works."),
    "role": N_("The role is changed."),
    "deactivated": N_("The user is deactivated and signed out."),
    "activated": N_("The user can sign in again."),
    "workspace": N_("The workspace settings are saved."),
    "user": N_("The user is added."),
}
WRONG_LOGIN = N_("Wrong email or password.")
TOO_MANY = N_("Too many attempts: try again in %(minutes)s minutes.")
FORM_EXPIRED = N_("The form expired: please try again.")


def _run(request: Request, job):
    return request.app.state.workspace.run(job)


def _private(response: Response) -> Response:
    """Pages with forms and secrets are never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _done(key: str) -> RedirectResponse:
    return RedirectResponse(f"/settings?done={key}", status_code=303)


def _admin(user: User) -> None:
    if user.role != "admin":
        raise Forbidden()


# -- sign in and out ----------------------------------------------------------------------
def _login_page(request: Request, next_path: str, email: str = "", error: str | None = None,
                status_code: int = 200) -> Response:
    return _private(page(request, "login.html", status_code=status_code, next=safe_next(next_path), email=email,
                         error=error))


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/"):
    """The sign-in form; someone already signed in goes straight on to `next`."""
    if user_of(request) is not None and request.state.auth == "session":
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next)


@router.post("/login", include_in_schema=False)
def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("/"),
          csrf_valid: bool = Depends(csrf_ok)):
    """Check the form's CSRF token, the rate limit, then the password; on success a new
    session (never the one presented before) and a redirect to `next` (a local path only)."""
    _ = gettext_of(request)
    if not csrf_valid:
        return _login_page(request, next, email, _(FORM_EXPIRED), 403)
    limiter, address = request.app.state.login_limiter, client_address(request)
    if wait := limiter.wait_minutes(email, address):
        return _login_page(request, next, email, _(TOO_MANY) % {"minutes": wait}, 429)
    user = users.check_login(_run(request, lambda s: users.login_record(s, email)), password)
    if user is None:
        limiter.failed(email, address)
        return _login_page(request, next, email, _(WRONG_LOGIN), 401)
    limiter.succeeded(email)
    old = session_cookie(request)

    def start(store) -> str:
        if old:
            users.end_session(store, old)
        return users.start_session(store, user.user_id)[0]

    set_session_cookie(request, _run(request, start))
    forget_user(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request):
    """End the session: its row is deleted, so the cookie is worthless even if kept."""
    if token := session_cookie(request):
        _run(request, lambda s: users.end_session(s, token))
    clear_session_cookie(request)
    forget_user(request)
    return RedirectResponse("/login", status_code=303)


# -- the settings page --------------------------------------------------------------------
def settings_data(request: Request, user: User) -> dict:
    """What Settings shows `user`: their tokens (an admin: everyone's), the users (admins), the
    workspace settings."""
    is_admin = user.role == "admin"

    def gather(store) -> dict:
        return {
            "tokens": users.list_tokens(store, None if is_admin else user.user_id),
            "users": users.list_users(store) if is_admin else [],
            "workspace": {"currency": get_setting(store, "currency"), "locale": get_setting(store, "locale"),
                          "csm_scope": csm_scope(store)},
        }

    return _run(request, gather)


def _settings_page(request: Request, user: User, status_code: int = 200, done: str | None = None,
                   **extra) -> Response:
    """Settings for `user`; `done` (else ?done=…) picks the message of what just succeeded."""
    _ = gettext_of(request)
    done = DONE.get(done or request.query_params.get("done", ""))
    return _private(page(
        request, "settings.html", status_code=status_code, me=user, is_admin=user.role == "admin",
        roles=ROLES, scopes=[s for s in users.SCOPES if s in ROLE_SCOPES[user.role]], languages=LANGUAGES,
        csm_scopes=CSM_SCOPES, done=_(done) if done else None, **settings_data(request, user), **extra))


def _failed(request: Request, user: User, error: UserError | str) -> Response:
    _ = gettext_of(request)
    text = error.translated(_) if isinstance(error, UserError) else _(error)
    return _settings_page(request, user, 400, error=text[:1].upper() + text[1:])


@router.get("/settings", include_in_schema=False)
def settings(request: Request, user: User = Depends(signed_in)):
    return _settings_page(request, user)


@router.post("/settings/language", include_in_schema=False)
def save_language(request: Request, user: User = Depends(signed_in), _csrf=Depends(verify_csrf),
                  locale: str = Form("")):
    """The user's own language ("" = the browser's, else the workspace's)."""
    if locale and locale not in LANGUAGES:
        return _failed(request, user, N_("Choose one of the languages offered."))
    _run(request, lambda s: users.set_locale(s, user.user_id, locale))
    return _done("language")


@router.post("/settings/password", include_in_schema=False)
def change_password(request: Request, user: User = Depends(signed_in), _csrf=Depends(verify_csrf),
                    current: str = Form(""), new: str = Form(""), confirm: str = Form("")):
    """The user's own password: the current one first; every other session of theirs ends."""
    if new != confirm:
        return _failed(request, user, N_("The new password and its confirmation differ."))
    record = _run(request, lambda s: users.login_record(s, user.email))
    if users.check_login(record, current) is None:
        return _failed(request, user, N_("The current password is not right."))
    keep = session_cookie(request)
    try:
        _run(request, lambda s: users.set_password(s, user.user_id, new, keep_session=keep))
    except UserError as exc:
        return _failed(request, user, exc)
    return _done("password")


@router.post("/settings/tokens", include_in_schema=False)
def create_token(request: Request, user: User = Depends(signed_in), _csrf=Depends(verify_csrf),
                 name: str = Form(""), scopes: list[str] = Form(default_factory=list)):
    """A new token for the user; the page shows it this once."""
    try:
        token_id, token = _run(request, lambda s: users.create_token(s, user, name, scopes))
    except UserError as exc:
        return _failed(request, user, exc)
    return _settings_page(request, user, new_token={"token_id": token_id, "name": name, "token": token})


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token(request: Request, token_id: str, user: User = Depends(signed_in), _csrf=Depends(verify_csrf)):
    """Revoke one of the user's tokens (an admin: anyone's)."""
    try:
        _run(request, lambda s: users.revoke_token(s, token_id, by=user))
    except UserError as exc:
        return _failed(request, user, exc)
    return _done("revoked")


@router.post("/settings/users", include_in_schema=False)
def add_user(request: Request, user: User = Depends(require("admin")), _csrf=Depends(verify_csrf),
             email: str = Form(""), name: str = Form(""), role: str = Form("viewer"), csm_id: str = Form(""),
             password: str = Form("")):
    """Add a user (admins). No password given: one is generated and shown this once."""
    chosen = password or users.generate_password()
    try:
        added = _run(request, lambda s: users.create_user(s, email, role, chosen, name=name, csm_id=csm_id))
    except UserError as exc:
        return _failed(request, user, exc)
    shown = None if password else {"email": added.email, "password": chosen}
    return _settings_page(request, user, new_password=shown, done="user")


@router.post("/settings/users/{user_id}/role", include_in_schema=False)
def change_role(request: Request, user_id: str, user: User = Depends(require("admin")),
                _csrf=Depends(verify_csrf), role: str = Form("")):
    try:
        _run(request, lambda s: users.set_role(s, users.user_by_id(s, user_id).user_id, role))
    except UserError as exc:
        return _failed(request, user, exc)
    return _done("role")


@router.post("/settings/users/{user_id}/active", include_in_schema=False)
def change_active(request: Request, user_id: str, user: User = Depends(require("admin")),
                  _csrf=Depends(verify_csrf), active: str = Form("0")):
    """Deactivate (signs them out, stops their tokens) or reactivate a user (admins)."""
    on = active == "1"
    try:
        _run(request, lambda s: users.set_active(s, users.user_by_id(s, user_id).user_id, on))
    except UserError as exc:
        return _failed(request, user, exc)
    return _done("activated" if on else "deactivated")


@router.post("/settings/workspace", include_in_schema=False)
def save_workspace(request: Request, user: User = Depends(require("admin")), _csrf=Depends(verify_csrf),
                   currency: str = Form(""), locale: str = Form(""), csm_scope_: str = Form("", alias="csm_scope")):
    """The workspace's currency and language and what a csm sees (admins)."""
    currency = currency.strip().upper()
    if currency not in list_currencies():
        return _failed(request, user, N_("The currency is a three-letter ISO code, such as BRL or USD."))
    if locale not in LANGUAGES or csm_scope_ not in CSM_SCOPES:
        return _failed(request, user, N_("Choose one of the options offered."))

    def save(store) -> None:
        with store.transaction():
            for key, value in (("currency", currency), ("locale", locale), ("csm_scope", csm_scope_)):
                set_setting(store, key, value)

    _run(request, save)
    return _done("workspace")


# -- JSON -----------------------------------------------------------------------------------
# The store keeps naive UTC; the API says so (RFC 3339 needs the zone: "…Z").
UtcTime = Annotated[dt.datetime, AfterValidator(lambda t: t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t)]


class MeOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: str
    locale: str | None
    csm_id: str | None
    signed_in_with: str = Field(description="session or token")
    scopes: list[str] = Field(description="What this request may do through the API.")
    csrf_token: str | None = Field(None, description="Send as X-CSRF-Token to change anything with the session "
                                                     "cookie (absent for tokens, which need none).")


class TokenOut(BaseModel):
    token_id: str
    user_id: str
    email: str
    name: str
    scopes: list[str]
    created_at: UtcTime
    last_used_at: UtcTime | None
    revoked_at: UtcTime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")


class TokenIn(BaseModel):
    name: str = Field("token", max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"], description="read, ingest, admin")


class UserOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: str
    locale: str | None
    csm_id: str | None
    active: bool
    created_at: UtcTime


def _token_out(token: users.Token) -> dict:
    return {**token.__dict__, "scopes": list(token.scopes)}


@router.get("/api/me", tags=["account"], response_model=MeOut, summary="Who is signed in (any token)")
def me(request: Request, user: User = Depends(api_user)):
    session = request.state.auth == "session"
    scopes = sorted(ROLE_SCOPES[user.role]) if session else sorted(request.state.scopes)
    return MeOut(**user.__dict__, signed_in_with=request.state.auth, scopes=scopes,
                 csrf_token=request.state.session_csrf if session else None)


@router.get("/api/tokens", tags=["account"], response_model=list[TokenOut],
            summary="Your API tokens (admins: everyone's with ?all=true)")
def tokens(request: Request, all: bool = False, user: User = Depends(api_scope("read"))):
    if all:
        _admin(user)
    return [_token_out(t) for t in _run(request, lambda s: users.list_tokens(s, None if all else user.user_id))]


@router.post("/api/tokens", tags=["account"], response_model=TokenCreated, status_code=201,
             summary="Create an API token for yourself: the answer holds it, once")
def new_token(request: Request, body: TokenIn, user: User = Depends(api_scope("admin"))):
    def create(store):
        token_id, token = users.create_token(store, user, body.name, body.scopes)
        return users.get_token(store, token_id), token

    try:
        made, token = _run(request, create)
    except UserError as exc:
        return _problem(400, str(exc))
    return {**_token_out(made), "token": token}


@router.delete("/api/tokens/{token_id}", tags=["account"], response_model=TokenOut,
               summary="Revoke a token (yours; admins: anyone's)")
def delete_token(request: Request, token_id: str, user: User = Depends(api_scope("admin"))):
    def revoke(store):
        users.revoke_token(store, token_id, by=user)
        return users.get_token(store, token_id)

    try:
        return _token_out(_run(request, revoke))
    except UserError as exc:
        return _problem(404, str(exc))


@router.get("/api/users", tags=["account"], response_model=list[UserOut], summary="Every user (admins)")
def users_api(request: Request, user: User = Depends(api_admin)):
    return [{**row.user.__dict__, "active": row.active, "created_at": row.created_at}
            for row in _run(request, users.list_users)]


def _problem(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)
