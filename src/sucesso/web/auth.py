"""Sign-in for the web app and the API: who is asking (`user_of`), what they may do (roles,
token scopes, the csm's portfolio), CSRF, the login rate limit and the security headers.

How it holds together:
- A browser signs in at /login and gets the cookie `sucesso_session`: a random token whose
  SHA-256 is the `sessions` row (web/users.py). HttpOnly, SameSite=Lax, Secure over https,
  path /; it ends after 12 h idle or 7 days, and every sign-in makes a new one.
- Every POST form carries `csrf_token` (`{{ csrf_field() }}`): the session's own token, or,
  before sign-in, a nonce whose signed copy (itsdangerous, keyed by the workspace setting
  `secret_key`) sits in the cookie `sucesso_login`. API calls made with the session cookie
  send it as the `X-CSRF-Token` header; calls with `Authorization: Bearer` need none.
- API tokens authenticate /api/… only; a token's scopes (read, ingest, admin — admin
  implies the others) are capped by its owner's role.
- Failed sign-ins are counted in memory, per process (one server process holds a workspace):
  5 per email and 20 per client address in 15 minutes, then 429 until the oldest expires.
"""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import escape
from starlette.concurrency import run_in_threadpool

from sucesso.store import Store, get_setting, set_setting
from sucesso.web.users import (
    ROLES,
    SCOPES,
    SESSION_LIFETIME,
    Session,
    User,
    UserError,
    ensure_demo_admin,
    session_of,
    token_of,
)

__all__ = [
    "ROLES", "SCOPES", "User", "UserError", "NotSignedIn", "Forbidden", "CsrfRejected", "install", "user_of",
    "signed_in", "require", "api_scope", "can_edit", "visible_csm", "csrf_token", "verify_csrf",
    "ensure_demo_admin", "LoginLimiter",
]

SESSION_COOKIE = "sucesso_session"
LOGIN_COOKIE = "sucesso_login"  # the signed pre-session CSRF nonce
LOGIN_COOKIE_AGE = 2 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSM_SCOPES = ("all", "own")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": CONTENT_SECURITY_POLICY,
}


class NotSignedIn(Exception):
    """Nobody (valid) is signed in: pages redirect to /login, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but not allowed: 403 (page or JSON)."""

    def __init__(self, message: str = "You are not allowed to do this."):
        super().__init__(message)
        self.message = message


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__("The form expired or did not come from this site: reload the page and try again.")


# -- who is asking ----------------------------------------------------------------------
def _workspace(request: Request):
    return request.app.state.workspace


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def user_of(request: Request) -> User | None:
    """The user behind the request, or None: from `Authorization: Bearer <token>` on /api/…
    (then the header decides, valid or not), else from the session cookie. Looked up once per
    request; `request.state.user` holds the answer (the templates read it)."""
    state = request.state
    if getattr(state, "auth_resolved", False):
        return state.user
    state.user, state.auth, state.scopes, state.session_csrf = None, None, frozenset(), None
    token = _bearer(request) if is_api(request) else None
    if token:
        found = _workspace(request).run(lambda store: token_of(store, token))
        if found:
            state.user, state.scopes = found
            state.auth = "token"
    elif cookie := request.cookies.get(SESSION_COOKIE):
        session: Session | None = _workspace(request).run(lambda store: session_of(store, cookie))
        if session:
            state.user, state.session_csrf, state.auth = session.user, session.csrf_token, "session"
    state.auth_resolved = True
    return state.user


def forget_user(request: Request) -> None:
    """Make the next `user_of` look again (after sign-in, sign-out or a change to the user)."""
    request.state.auth_resolved = False


def _token_allows(request: Request, scope: str) -> bool:
    scopes = request.state.scopes
    return scope in scopes or "admin" in scopes


def signed_in(request: Request) -> User:
    """Dependency: the signed-in user, else NotSignedIn. A token (on /api/…) needs the read scope
    to GET and the ingest or admin scope to change anything; a session's API change needs the
    X-CSRF-Token header. Declare `api_scope` on /api/… routes for a precise scope."""
    user = user_of(request)
    if user is None:
        raise NotSignedIn()
    if request.state.auth == "token":
        needed = ("read",) if request.method in SAFE_METHODS else ("ingest", "admin")
        if not any(_token_allows(request, s) for s in needed):
            raise Forbidden(f"This token's scopes do not allow this ({' or '.join(needed)} needed).")
    elif is_api(request) and request.method not in SAFE_METHODS:
        _check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


def require(*roles: str) -> Callable[[Request], User]:
    """Dependency factory: the signed-in user if their role is one of `roles`, else Forbidden."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; the roles are {ROLES}")

    def dependency(request: Request) -> User:
        user = signed_in(request)
        if user.role not in roles:
            raise Forbidden()
        return user

    return dependency


def api_scope(scope: str) -> Callable[[Request], User]:
    """Dependency factory for /api/… routes: a session user (with X-CSRF-Token to change
    anything), or a token holding `scope` (admin implies read and ingest; ingest implies nothing)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; the scopes are {SCOPES}")

    def dependency(request: Request) -> User:
        user = user_of(request)
        if user is None:
            raise NotSignedIn()
        if request.state.auth == "token" and not _token_allows(request, scope):
            raise Forbidden(f"This token does not have the {scope} scope.")
        if request.state.auth == "session" and request.method not in SAFE_METHODS:
            _check_csrf(request, request.headers.get(CSRF_HEADER))
        return user

    return dependency


def api_admin(request: Request) -> User:
    """Dependency for /api/… routes for admins alone: a signed-in admin, or an admin's token with the admin scope."""
    user = api_scope("admin")(request)
    if user.role != "admin":
        raise Forbidden()
    return user


def api_user(request: Request) -> User:
    """Dependency for /api/… routes any valid token may call (who am I): no scope needed."""
    user = user_of(request)
    if user is None:
        raise NotSignedIn()
    return user


# -- the csm's portfolio ----------------------------------------------------------------
def csm_scope(store: Store) -> str:
    """The workspace setting `csm_scope`: "all" (default: a csm sees every account) or "own"."""
    value = get_setting(store, "csm_scope")
    return value if value in CSM_SCOPES else "all"


def can_edit(user: User | None, account_csm_id: str | None) -> bool:
    """May `user` change an account of this CSM? Admins and managers: any; a csm: their own
    accounts only (whatever csm_scope says); a viewer: none."""
    if user is None or user.role == "viewer":
        return False
    if user.role in ("admin", "manager"):
        return True
    return bool(user.csm_id) and account_csm_id == user.csm_id


def visible_csm(user: User, store: Store) -> str | None:
    """Whose accounts `user` sees: None for all, else a csm_id to filter on. A csm under
    csm_scope "own" sees only theirs ("" — matching no account — when linked to no CSM)."""
    if user.role == "csm" and csm_scope(store) == "own":
        return user.csm_id or ""
    return None


# -- CSRF -------------------------------------------------------------------------------
def secret_key(request: Request) -> str:
    """The workspace's secret (setting `secret_key`), made on first use."""
    cached = getattr(request.app.state, "secret_key", None)
    if cached:
        return cached

    def ensure(store: Store) -> str:
        key = get_setting(store, "secret_key")
        if not key:
            key = secrets.token_urlsafe(32)
            set_setting(store, "secret_key", key)
        return key

    request.app.state.secret_key = _workspace(request).run(ensure)
    return request.app.state.secret_key


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(request), salt="sucesso-login-csrf")


def _login_nonce(request: Request) -> str | None:
    """The pre-session nonce: the one made for this response, else the signed cookie's."""
    pending = getattr(request.state, "login_nonce", None)
    if pending:
        return pending
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not cookie:
        return None
    try:
        return _signer(request).loads(cookie, max_age=LOGIN_COOKIE_AGE)
    except BadSignature:
        return None


def csrf_token(request: Request) -> str:
    """The token forms must send back: the session's, or before sign-in a nonce whose signed
    copy goes out as the `sucesso_login` cookie with this response."""
    user_of(request)
    if request.state.auth == "session":
        return request.state.session_csrf
    nonce = _login_nonce(request)
    if nonce is None:
        nonce = request.state.login_nonce = secrets.token_urlsafe(32)
        _queue_cookie(request, LOGIN_COOKIE, _signer(request).dumps(nonce), LOGIN_COOKIE_AGE)
    return nonce


def _expected_csrf(request: Request) -> str | None:
    user_of(request)
    if request.state.auth == "session":
        return request.state.session_csrf
    return _login_nonce(request)


def _csrf_matches(request: Request, given: str | None) -> bool:
    expected = _expected_csrf(request)
    return bool(given and expected and hmac.compare_digest(given.encode(), expected.encode()))


def _check_csrf(request: Request, given: str | None) -> None:
    if not _csrf_matches(request, given):
        raise CsrfRejected()


async def csrf_ok(request: Request) -> bool:
    """Does the request carry the right CSRF token (X-CSRF-Token header, else the form's
    `csrf_token` field)? Requests authenticated by an API token need none."""
    await run_in_threadpool(user_of, request)  # the store may be busy: keep it off the event loop
    if request.state.auth == "token":
        return True
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return await run_in_threadpool(_csrf_matches, request, given)


async def verify_csrf(request: Request) -> None:
    """Dependency for every POST form route: CsrfRejected (403) unless the form's `csrf_token`
    (or the X-CSRF-Token header) is the one bound to this session or pre-session cookie."""
    if not await csrf_ok(request):
        raise CsrfRejected()


# -- cookies ----------------------------------------------------------------------------
def _cookie_header(request: Request, name: str, value: str, max_age: int) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if request.url.scheme == "https":
        parts.append("Secure")
    return "; ".join(parts)


def _queue_cookie(request: Request, name: str, value: str, max_age: int) -> None:
    """A Set-Cookie the middleware adds to whatever response this request gets."""
    queued = getattr(request.state, "set_cookies", None)
    if queued is None:
        queued = request.state.set_cookies = []
    queued.append(_cookie_header(request, name, value, max_age))


def set_session_cookie(request: Request, token: str) -> None:
    """The new session's cookie, and the pre-session one cleared."""
    _queue_cookie(request, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    _queue_cookie(request, LOGIN_COOKIE, "", 0)


def clear_session_cookie(request: Request) -> None:
    _queue_cookie(request, SESSION_COOKIE, "", 0)


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


# -- the login rate limit -----------------------------------------------------------------
class LoginLimiter:
    """Failed sign-ins in a sliding window, in memory (this process only; a restart forgets).
    Keyed by email and by client address; a success forgets the email's failures."""

    def __init__(self, per_email: int = 5, per_address: int = 20, window: float = 15 * 60,
                 clock: Callable[[], float] = time.monotonic):
        self.limits = {"email": per_email, "address": per_address}
        self.window, self.clock = window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def wait_minutes(self, email: str, address: str) -> int | None:
        """Minutes until another attempt is allowed, or None when one is allowed now."""
        now = self.clock()
        with self._lock:
            waits = []
            for kind, value in (("email", email.strip().lower()), ("address", address)):
                times = self._recent((kind, value), now)
                if len(times) >= self.limits[kind]:
                    waits.append(times[-self.limits[kind]] + self.window - now)
        return max(1, math.ceil(max(waits) / 60)) if waits else None

    def failed(self, email: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a flood: forget the stale keys
                for key in list(self._failures):
                    self._recent(key, now)
            for key in (("email", email.strip().lower()), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(("email", email.strip().lower()), None)


def client_address(request: Request) -> str:
    """The peer's address (a proxy in front should be the only peer; X-Forwarded-For is not trusted)."""
    return request.client.host if request.client else "unknown"


# -- installing it all --------------------------------------------------------------------
def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else "/" (no open redirect: no scheme, no host,
    no //, no backslash, no control characters)."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target)):
        return "/"
    return target


def _not_signed_in(request: Request, exc: NotSignedIn):
    if is_api(request):
        return JSONResponse({"detail": "Not signed in: sign in, or send Authorization: Bearer <token>."},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = here if request.method in SAFE_METHODS else "/"
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _forbidden(request: Request, exc: Forbidden):
    if is_api(request):
        return JSONResponse({"detail": exc.message}, status_code=403)
    from sucesso.i18n import gettext_for
    from sucesso.web.render import language_of

    _ = gettext_for(language_of(request))
    body = (f'<!doctype html><html lang="{escape(language_of(request).replace("_", "-"))}"><meta charset="utf-8">'
            f"<title>{escape(_('Not allowed'))}</title><main><h1>{escape(_('Not allowed'))}</h1>"
            f"<p>{escape(_(exc.message))}</p><p><a href=\"/\">{escape(_('Back to the overview'))}</a></p></main>")
    return HTMLResponse(body, status_code=403)


class SecurityMiddleware:
    """Pure ASGI: adds the security headers to every response, and the cookies queued by
    `_queue_cookie` during the request (from routes or templates alike). An unexpected error
    gets its 500 here, with the headers (Starlette's own is sent outside every middleware)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                headers += [(b"set-cookie", c.encode()) for c in state.get("set_cookies", [])]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_headers)
            raise  # still logged, as Starlette does


def install(app: FastAPI) -> None:
    """Sign-in for `app`: the security headers and cookie middleware, the NotSignedIn /
    Forbidden handlers, and the login rate limiter (app.state.login_limiter)."""
    app.state.login_limiter = LoginLimiter()
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_middleware(SecurityMiddleware)
