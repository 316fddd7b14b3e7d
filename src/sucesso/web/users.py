"""Who may sign in, kept in the workspace database: users and roles, passwords, browser
sessions and API tokens. The web app (web/auth.py, pages/account_access.py) and the CLI
(`sucesso user`, `sucesso token`) both call these functions; none of them knows HTTP.

What is stored is never a secret itself:
- a password as its argon2id hash (argon2-cffi's defaults: 64 MiB, 3 passes);
- a session as the SHA-256 hex of the cookie's random token (`secrets.token_urlsafe(32)`),
  so a copy of the database cannot be replayed as a cookie;
- an API token (`suc_` + `secrets.token_urlsafe(32)`) as its SHA-256 hex; it is shown once.

A session ends after SESSION_IDLE without a request or SESSION_LIFETIME after sign-in,
whichever comes first. Times are naive UTC, as everywhere in the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sucesso.store import Store
from sucesso.store.schema import USER_ROLES

ROLES = USER_ROLES  # ("admin", "manager", "csm", "viewer")
SCOPES = ("read", "ingest", "admin")
# The most a token of each role may do: a token never outgrows its owner's role.
ROLE_SCOPES = {
    "admin": frozenset(SCOPES),
    "manager": frozenset({"read", "ingest"}),
    "csm": frozenset({"read", "ingest"}),
    "viewer": frozenset({"read"}),
}
SESSION_IDLE = dt.timedelta(hours=12)
SESSION_LIFETIME = dt.timedelta(days=7)
LAST_SEEN_EVERY = dt.timedelta(minutes=1)  # how stale last_seen_at/last_used_at may be (fewer writes)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_PREFIX = "suc_"
DEMO_ADMIN = "admin@demo.sucesso"

HASHER = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_USER_COLUMNS = "user_id, email, name, role, locale, csm_id"  # the fields of User, in order
_JOINED_USER = ", ".join("u." + c for c in _USER_COLUMNS.split(", "))


class UserError(ValueError):
    """A request about users or tokens that cannot be done, said so a person can act on it.
    `message` is English with %(name)s fields filled from `params`, so pages can translate it."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params

    def translated(self, gettext: Callable[[str], str]) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


@dataclass
class User:
    user_id: str
    email: str
    name: str
    role: str
    locale: str | None
    csm_id: str | None


@dataclass(frozen=True)
class UserRow:
    """A user as the admin's list shows it."""

    user: User
    active: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class Token:
    """An API token as listed: everything but the secret."""

    token_id: str
    user_id: str
    email: str
    name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def digest(secret: str) -> str:
    """SHA-256 hex: how session ids and API tokens are stored (they are random, so no salt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(8)


# -- passwords --------------------------------------------------------------------------
def hash_password(password: str) -> str:
    check_password(password)
    return HASHER.hash(password)


def check_password(password: str) -> None:
    """Raise UserError unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise UserError("a password needs at least %(n)s characters", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise UserError("a password has at most %(n)s characters", n=MAX_PASSWORD)


def generate_password() -> str:
    """A random password of 16 URL-safe characters (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- users ------------------------------------------------------------------------------
def _user(row: tuple) -> User:
    return User(*row)


def normalise_email(email: str) -> str:
    """Lower-cased and stripped; UserError unless it looks like an address."""
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 255:
        raise UserError("%(email)s is not an email address", email=email)
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError("unknown role %(role)s; the roles are: %(roles)s", role=role, roles=", ".join(ROLES))
    return role


def create_user(store: Store, email: str, role: str, password: str, name: str | None = None,
                csm_id: str | None = None, locale: str | None = None) -> User:
    """Add a user who can sign in with `password`; UserError if the email is taken or a value is wrong."""
    email, role = normalise_email(email), check_role(role)
    password_hash = hash_password(password)
    user = User(_new_id("usr_"), email, (name or "").strip() or email.split("@")[0], role, locale,
                (csm_id or "").strip() or None)
    with store.transaction():
        if store.fetchall("SELECT 1 FROM users WHERE email = ?", (email,)):
            raise UserError("there is already a user %(email)s", email=email)
        store.execute(
            "INSERT INTO users (user_id, email, name, role, password_hash, locale, csm_id, active, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, ?)",
            (user.user_id, user.email, user.name, user.role, password_hash, user.locale, user.csm_id, now()))
    return user


def get_user(store: Store, user_id: str, *, active_only: bool = True) -> User | None:
    where = "user_id = ?" + (" AND active" if active_only else "")
    rows = store.fetchall(f"SELECT {_USER_COLUMNS} FROM users WHERE {where}", (user_id,))
    return _user(rows[0]) if rows else None


def user_by_email(store: Store, email: str) -> User:
    """The user (active or not) with this email, or UserError."""
    rows = store.fetchall(f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?", (email.strip().lower(),))
    if not rows:
        raise UserError("no user %(email)s", email=email.strip())
    return _user(rows[0])


def user_by_id(store: Store, user_id: str) -> User:
    """The user (active or not) with this id, or UserError."""
    user = get_user(store, user_id, active_only=False)
    if user is None:
        raise UserError("no user %(id)s", id=user_id)
    return user


def list_users(store: Store) -> list[UserRow]:
    rows = store.fetchall(f"SELECT {_USER_COLUMNS}, active, created_at FROM users ORDER BY email")
    return [UserRow(_user(r[:6]), bool(r[6]), r[7]) for r in rows]


def count_users(store: Store) -> int:
    return store.fetchall("SELECT count(*) FROM users")[0][0]


# A hash of a password nobody knows, verified when the email is unknown so that a wrong email
# takes as long as a wrong password (no telling which addresses have accounts).
_UNKNOWN_USER_HASH: str | None = None


def _unknown_user_hash() -> str:
    global _UNKNOWN_USER_HASH
    if _UNKNOWN_USER_HASH is None:
        _UNKNOWN_USER_HASH = HASHER.hash(secrets.token_urlsafe(16))
    return _UNKNOWN_USER_HASH


def login_record(store: Store, email: str) -> tuple[User, str] | None:
    """The active user with this email and their password hash, or None."""
    rows = store.fetchall(f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE email = ? AND active",
                          (email.strip().lower(),))
    return (_user(rows[0][:6]), rows[0][6]) if rows else None


def check_login(record: tuple[User, str] | None, password: str) -> User | None:
    """The user if `password` is theirs, else None. Takes as long for an unknown email as for a
    wrong password, so the answer does not tell which addresses have accounts. Needs no store
    (the web verifies outside the workspace lock: argon2 takes about 0.15 s on purpose)."""
    if record is None:
        _password_matches(_unknown_user_hash(), password)
        return None
    user, password_hash = record
    return user if _password_matches(password_hash, password) else None


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (the same None for every failure)."""
    return check_login(login_record(store, email), password)


def _other_active_admins(store: Store, user_id: str) -> int:
    return store.fetchall("SELECT count(*) FROM users WHERE role = 'admin' AND active AND user_id <> ?",
                          (user_id,))[0][0]


def _keep_an_admin(store: Store, user_id: str) -> None:
    """UserError if `user_id` is the last active admin (nobody could manage users any more)."""
    row = store.fetchall("SELECT role, active FROM users WHERE user_id = ?", (user_id,))
    if row and row[0][0] == "admin" and row[0][1] and not _other_active_admins(store, user_id):
        raise UserError("this is the last active admin: make another user admin first")


def set_role(store: Store, user_id: str, role: str) -> None:
    check_role(role)
    with store.transaction():
        if role != "admin":
            _keep_an_admin(store, user_id)
        store.execute("UPDATE users SET role = ? WHERE user_id = ?", (role, user_id))


def set_active(store: Store, user_id: str, active: bool) -> None:
    """Deactivating also ends the user's sessions; their tokens stop working while inactive."""
    with store.transaction():
        if not active:
            _keep_an_admin(store, user_id)
            store.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        store.execute("UPDATE users SET active = ? WHERE user_id = ?", (active, user_id))


def set_locale(store: Store, user_id: str, locale: str | None) -> None:
    store.execute("UPDATE users SET locale = ? WHERE user_id = ?", (locale or None, user_id))


def set_password(store: Store, user_id: str, password: str, *, keep_session: str | None = None) -> None:
    """A new password ends every session of the user but `keep_session` (a cookie token)."""
    password_hash = hash_password(password)
    with store.transaction():
        store.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", (password_hash, user_id))
        keep = digest(keep_session) if keep_session else ""
        store.execute("DELETE FROM sessions WHERE user_id = ? AND session_id <> ?", (user_id, keep))


def ensure_demo_admin(store: Store) -> tuple[str, str] | None:
    """When the workspace has no user yet: create admin@demo.sucesso with a generated password
    and return (email, password) to print once; otherwise None."""
    if count_users(store):
        return None
    password = generate_password()
    create_user(store, DEMO_ADMIN, "admin", password, name="Demo admin")
    return DEMO_ADMIN, password


# -- sessions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def start_session(store: Store, user_id: str) -> tuple[str, str]:
    """A new session for the user: (the cookie's token, its CSRF token). Only the hash is kept."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    t = now()
    with store.transaction():
        store.execute("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?", (t, t - SESSION_IDLE))
        store.execute(
            "INSERT INTO sessions (session_id, user_id, csrf_token, created_at, expires_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (digest(token), user_id, csrf, t, t + SESSION_LIFETIME, t))
    return token, csrf


def session_of(store: Store, token: str) -> Session | None:
    """The live session behind a cookie token (its user active), or None; marks it seen."""
    t = now()
    rows = store.fetchall(
        f"SELECT s.csrf_token, s.last_seen_at, {_JOINED_USER}"
        " FROM sessions s JOIN users u ON u.user_id = s.user_id"
        " WHERE s.session_id = ? AND s.expires_at > ? AND s.last_seen_at > ? AND u.active",
        (digest(token), t, t - SESSION_IDLE))
    if not rows:
        return None
    csrf, last_seen, *fields = rows[0]
    if t - last_seen > LAST_SEEN_EVERY:
        store.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", (t, digest(token)))
    return Session(_user(tuple(fields)), csrf)


def end_session(store: Store, token: str) -> None:
    store.execute("DELETE FROM sessions WHERE session_id = ?", (digest(token),))


# -- API tokens -------------------------------------------------------------------------
def parse_scopes(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """"read,ingest" or a list → the scopes in canonical order; UserError for unknown ones."""
    given = [s.strip().lower() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = sorted(set(given) - set(SCOPES))
    if unknown or not given:
        raise UserError("scopes are a comma-separated list of %(scopes)s", scopes=", ".join(SCOPES))
    return tuple(s for s in SCOPES if s in given)


def effective_scopes(scopes: tuple[str, ...] | frozenset[str], role: str) -> frozenset[str]:
    """What a token may do: its scopes, capped by its owner's role now; admin implies the others."""
    granted = set(SCOPES) if "admin" in scopes else set(scopes)
    return frozenset(granted & ROLE_SCOPES.get(role, frozenset()))


def create_token(store: Store, user: User, name: str, scopes: str | list[str] | tuple[str, ...]) -> tuple[str, str]:
    """A new API token for `user`: (token_id, the token). The token is not kept; show it once."""
    wanted = parse_scopes(scopes)
    beyond = [s for s in wanted if s not in ROLE_SCOPES[user.role]]
    if beyond:
        raise UserError("a %(role)s cannot hold a token with the scope %(scopes)s", role=user.role,
                        scopes=", ".join(beyond))
    name = name.strip() or "token"
    if len(name) > 100:
        raise UserError("a token name has at most 100 characters")
    token_id, token = _new_id("tok_"), TOKEN_PREFIX + secrets.token_urlsafe(32)
    store.execute(
        "INSERT INTO api_tokens (token_id, user_id, name, token_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (token_id, user.user_id, name, digest(token), ",".join(wanted), now()))
    return token_id, token


def token_of(store: Store, token: str) -> tuple[User, frozenset[str]] | None:
    """The active user behind a live (not revoked) token and what it may do, or None; marks it used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    rows = store.fetchall(
        f"SELECT t.token_id, t.scopes, t.last_used_at, {_JOINED_USER}"
        " FROM api_tokens t JOIN users u ON u.user_id = t.user_id"
        " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.active", (digest(token),))
    if not rows:
        return None
    token_id, scopes, last_used, *fields = rows[0]
    t = now()
    if last_used is None or t - last_used > LAST_SEEN_EVERY:
        store.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", (t, token_id))
    user = _user(tuple(fields))
    return user, effective_scopes(tuple(scopes.split(",")), user.role)


def _tokens(store: Store, where: str = "", params: tuple = ()) -> list[Token]:
    rows = store.fetchall(
        "SELECT t.token_id, t.user_id, u.email, t.name, t.scopes, t.created_at, t.last_used_at, t.revoked_at"
        f" FROM api_tokens t JOIN users u ON u.user_id = t.user_id {where} ORDER BY t.created_at DESC", params)
    return [Token(r[0], r[1], r[2], r[3], tuple(r[4].split(",")), r[5], r[6], r[7]) for r in rows]


def list_tokens(store: Store, user_id: str | None = None) -> list[Token]:
    """The tokens of one user (None: everyone's), newest first."""
    return _tokens(store, "WHERE t.user_id = ?", (user_id,)) if user_id else _tokens(store)


def get_token(store: Store, token_id: str) -> Token | None:
    found = _tokens(store, "WHERE t.token_id = ?", (token_id,))
    return found[0] if found else None


def revoke_token(store: Store, token_id: str, by: User | None = None) -> Token:
    """Revoke a token for good. `by` (None: the CLI, trusted) may revoke their own, or any if admin."""
    token = get_token(store, token_id)
    if token is None or (by is not None and by.role != "admin" and token.user_id != by.user_id):
        raise UserError("no token %(id)s", id=token_id)
    if token.revoked_at is None:
        store.execute("UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?", (now(), token_id))
    return token
