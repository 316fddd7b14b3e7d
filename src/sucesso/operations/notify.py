"""Notifications: e-mail over SMTP and signed webhooks, sent from the `notifications` outbox.

Whoever has news calls `queue(...)`: one pending row per e-mail address and per webhook
subscribed to the event, written in one transaction. `deliver(...)` (the CLI's `sucesso
notify deliver`, run by cron or after a job) sends the rows that are due and records each
attempt in its own transaction; a failed attempt is retried after RETRY_DELAYS (1 min, 5 min,
30 min, 2 h, 12 h), and after the last retry the row is `failed` with the reason kept.

Delivery is at least once: a crash after a message left but before its row says `sent`
sends it again on the next run. Receivers de-duplicate by the `Sucesso-Delivery` header
(the notification id; e-mails carry it in their Message-ID).

A webhook receives `{"id", "event", "created_at", "data"}` as JSON, signed the Stripe way:
`Sucesso-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the
webhook's secret; `verify_signature` checks it. The configuration lives in two settings
(JSON text): `notify_smtp` and `notify_webhooks`. Their secrets (the SMTP password, each
webhook's secret) never leave this module: not in what it returns, nor in `last_error`. They
are kept as given in the workspace database (they must be usable), so guard its copies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import smtplib
import ssl
import time
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from sucesso import __version__
from sucesso.store import Store, get_setting, set_setting
from sucesso.store.schema import NOTIFICATION_STATUSES

SMTP_SETTING, WEBHOOKS_SETTING = "notify_smtp", "notify_webhooks"
SECURITIES = ("none", "starttls", "ssl")
TIMEOUT_S = 10
RETRY_DELAYS = tuple(dt.timedelta(minutes=m) for m in (1, 5, 30, 120, 720))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # the first attempt and one per delay
TEST_EVENT = "test"  # goes to every active webhook, whatever it subscribed to
_COLUMNS = ("notification_id", "channel", "destination", "event", "subject", "status", "attempts", "created_at",
            "next_attempt_at", "sent_at", "last_error")


class NotifyError(ValueError):
    """A notification setting or request that cannot be done, said so a person can act on it.
    `message` is English with %(name)s fields filled from `params`, so surfaces can translate it."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# -- configuration ------------------------------------------------------------------------
def _read(store: Store, key: str, empty):
    text = get_setting(store, key)
    return json.loads(text) if text else empty


def _smtp(store: Store) -> dict | None:
    """The SMTP configuration with its password, or None when e-mail is not set up."""
    return _read(store, SMTP_SETTING, None)


def _webhooks(store: Store) -> list[dict]:
    """Every webhook with its secret."""
    return _read(store, WEBHOOKS_SETTING, [])


def smtp_settings(store: Store) -> dict | None:
    """How e-mail is sent — host, port, from, username, security and whether a password is
    set (never the password) — or None when it is not set up."""
    smtp = _smtp(store)
    if smtp is None:
        return None
    return {k: smtp[k] for k in ("host", "port", "from", "username", "security")} | {
        "password_set": bool(smtp.get("password"))}


def set_smtp(store: Store, host: str, port: int, sender: str, username: str | None = None,
             password: str | None = None, security: str = "starttls") -> None:
    """Send e-mail through this server from the address `sender` (replacing the previous
    settings); `security` is none, starttls or ssl. NotifyError for a value that cannot work."""
    host, sender, username = host.strip(), sender.strip(), (username or "").strip() or None
    if not host:
        raise NotifyError("the SMTP host is empty")
    if not 0 < port < 65536:
        raise NotifyError("the SMTP port must be between 1 and 65535, not %(port)s", port=port)
    if "@" not in sender:
        raise NotifyError("the sender %(sender)r is not an e-mail address", sender=sender)
    if security not in SECURITIES:
        raise NotifyError("the SMTP security must be none, starttls or ssl, not %(security)r", security=security)
    if username and not password:
        raise NotifyError("an SMTP username needs a password")
    set_setting(store, SMTP_SETTING, json.dumps({"host": host, "port": port, "from": sender, "username": username,
                                                 "password": password if username else None,
                                                 "security": security}))


def webhooks(store: Store) -> list[dict]:
    """Every webhook: id, url, events, active (never its secret)."""
    return [{k: w[k] for k in ("id", "url", "events", "active")} for w in _webhooks(store)]


def add_webhook(store: Store, url: str, events: Iterable[str] = ("*",),
                secret: str | None = None) -> tuple[str, str]:
    """Subscribe `url` to `events` ("*": all); (its id, its signing secret — generated unless
    given; show it once, it cannot be read back)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError("%(url)r is not an http:// or https:// URL", url=url)
    events = list(dict.fromkeys(e.strip() for e in events if e and e.strip())) or ["*"]
    secret = secret or secrets.token_urlsafe(32)
    with store.transaction():
        hooks = _webhooks(store)
        if any(w["url"] == url for w in hooks):
            raise NotifyError("there is already a webhook for %(url)s", url=url)
        webhook_id = "wh_" + secrets.token_hex(6)
        hooks.append({"id": webhook_id, "url": url, "secret": secret, "events": events, "active": True})
        set_setting(store, WEBHOOKS_SETTING, json.dumps(hooks))
    return webhook_id, secret


def remove_webhook(store: Store, webhook_id: str) -> None:
    """Stop sending to the webhook `webhook_id` (what is queued for it fails); NotifyError if unknown."""
    with store.transaction():
        hooks = _webhooks(store)
        kept = [w for w in hooks if w["id"] != webhook_id]
        if len(kept) == len(hooks):
            raise NotifyError("there is no webhook %(id)r", id=webhook_id)
        set_setting(store, WEBHOOKS_SETTING, json.dumps(kept))


# -- the outbox ---------------------------------------------------------------------------
def _json_value(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def queue(store: Store, event: str, subject: str, body: dict, emails: Iterable[str] = (),
          webhooks: bool = True) -> list[str]:
    """Queue `body` for each address of `emails` (when SMTP is set up; empty ones skipped) and
    (unless `webhooks` is False) each active webhook subscribed to `event` or "*"; the new
    notification ids. An e-mail is
    `body["text"]` (plain; else the subject) and, if given, `body["html"]`; a webhook gets the
    whole `body` as "data" (dates and times in it as ISO text)."""
    smtp = _smtp(store)
    addresses = list(dict.fromkeys(a.strip() for a in emails if a and a.strip())) if smtp else []
    urls = [w["url"] for w in (_webhooks(store) if webhooks else [])
            if w["active"] and (event == TEST_EVENT or "*" in w["events"] or event in w["events"])]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_value)
    created = utcnow()
    ids = []
    with store.transaction():
        for channel, destination in [("email", a) for a in addresses] + [("webhook", u) for u in urls]:
            ids.append("ntf_" + secrets.token_hex(8))
            store.execute(
                "INSERT INTO notifications (notification_id, channel, destination, event, subject, body, status,"
                " attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                (ids[-1], channel, destination, event, subject, text, created))
    return ids


def outbox(store: Store, status: str | None = None, limit: int = 100, ids: Iterable[str] | None = None) -> list[dict]:
    """The latest notifications first (only those with `status`, or of `ids`, when given), without their bodies."""
    conditions, params = [], []
    if status is not None:
        if status not in NOTIFICATION_STATUSES:
            raise NotifyError("the status must be pending, sent or failed, not %(status)r", status=status)
        conditions, params = ["status = ?"], [status]
    if ids is not None:
        ids = list(ids)
        conditions.append("notification_id IN (" + ", ".join("?" * len(ids)) + ")" if ids else "FALSE")
        params += ids
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    rows = store.fetchall(f"SELECT {', '.join(_COLUMNS)} FROM notifications {where}"
                          " ORDER BY created_at DESC, notification_id LIMIT ?", (*params, limit))
    return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]


def send_test(store: Store, subject: str, text: str, emails: Iterable[str] = ()) -> list[dict]:
    """Queue a test notification for `emails` and every active webhook, deliver it now, and
    return its rows as the attempt left them (none when no channel is set up)."""
    ids = queue(store, TEST_EVENT, subject, {"text": text}, emails)
    deliver(store, ids=ids)
    return outbox(store, ids=ids, limit=len(ids))


def deliver(store: Store, now: dt.datetime | None = None, ids: Iterable[str] | None = None) -> dict:
    """Send every pending notification due at `now` (naive UTC; default: now), or only those of
    `ids`; {"sent", "retrying", "failed"}: how many of this run's attempts ended each way.

    Each row is updated in its own transaction right after its attempt. At least once: a crash
    between sending and recording sends again on the next run (receivers de-duplicate by the
    notification id), and a row recorded as sent is never sent again."""
    now = now or utcnow()
    rows = store.fetchall(
        "SELECT notification_id, channel, destination, event, subject, body, attempts, created_at"
        " FROM notifications WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        " ORDER BY created_at, notification_id", (now,))
    wanted = None if ids is None else set(ids)
    smtp, hooks = _smtp(store), {w["url"]: w for w in _webhooks(store)}
    hidden = [s for s in [(smtp or {}).get("password"), *(w["secret"] for w in hooks.values())] if s]
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for notification_id, channel, destination, event, subject, body, attempts, created_at in rows:
        if wanted is not None and notification_id not in wanted:
            continue
        data = json.loads(body)
        try:
            if channel == "email":
                _send_email(smtp, notification_id, destination, subject, data)
            else:
                _post_webhook(hooks.get(destination), notification_id, destination, event, created_at, data)
            error = None
        except _Undeliverable as exc:
            error = str(exc)
        except Exception as exc:  # whatever went wrong with one row is that row's retry
            error = _redact(f"{type(exc).__name__}: {exc}", hidden)
        counts[_record(store, notification_id, attempts + 1, error, now)] += 1
    return counts


def _record(store: Store, notification_id: str, attempts: int, error: str | None, now: dt.datetime) -> str:
    """Write the outcome of attempt number `attempts`; "sent", "retrying" or "failed"."""
    if error is None:
        outcome, status, next_at, sent_at = "sent", "sent", None, now
    elif attempts >= MAX_ATTEMPTS:
        outcome, status, next_at, sent_at = "failed", "failed", None, None
    else:
        outcome, status, next_at, sent_at = "retrying", "pending", now + RETRY_DELAYS[attempts - 1], None
    with store.transaction():
        store.execute("UPDATE notifications SET status = ?, attempts = ?, next_attempt_at = ?, sent_at = ?,"
                      " last_error = ? WHERE notification_id = ?",
                      (status, attempts, next_at, sent_at, error, notification_id))
    return outcome


def _redact(text: str, hidden: list[str]) -> str:
    for secret in hidden:
        text = text.replace(secret, "***")
    return text


class _Undeliverable(Exception):
    """The channel is no longer configured, or the receiver said no (its message is the reason)."""


# -- the channels -------------------------------------------------------------------------
def _send_email(smtp: dict | None, notification_id: str, to: str, subject: str, body: dict) -> None:
    if smtp is None:
        raise _Undeliverable("SMTP is not configured")
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, smtp["from"], to
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    # The same id on every attempt, so a copy sent twice is recognisably the same message.
    message["Message-ID"] = f"<{notification_id}@{smtp['from'].rpartition('@')[2]}>"
    message.set_content(body.get("text") or subject)
    if body.get("html"):
        message.add_alternative(body["html"], subtype="html")
    context = ssl.create_default_context()
    if smtp["security"] == "ssl":
        client = smtplib.SMTP_SSL(smtp["host"], smtp["port"], timeout=TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(smtp["host"], smtp["port"], timeout=TIMEOUT_S)
    with client:
        if smtp["security"] == "starttls":
            client.starttls(context=context)
        if smtp.get("username"):
            client.login(smtp["username"], smtp["password"])
        client.send_message(message)


def _post_webhook(hook: dict | None, notification_id: str, url: str, event: str, created_at: dt.datetime,
                  data: dict) -> None:
    import httpx

    if hook is None:
        raise _Undeliverable("no webhook is configured for this URL any more")
    payload = json.dumps({"id": notification_id, "event": event,
                          "created_at": created_at.replace(tzinfo=dt.UTC).isoformat(), "data": data},
                         separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": f"sucesso/{__version__}", "Sucesso-Event": event,
               "Sucesso-Delivery": notification_id, "Sucesso-Signature": sign(hook["secret"], payload)}
    answer = httpx.post(url, content=payload, headers=headers, timeout=TIMEOUT_S)
    if not answer.is_success:
        raise _Undeliverable(f"HTTP {answer.status_code} {answer.reason_phrase}".strip())


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The Sucesso-Signature header for `body`: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
    The time is the wall clock's when sending (receivers compare it with theirs)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def _digest(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, header: str, body: bytes, tolerance_s: int = 300,
                     now: float | None = None) -> bool:
    """Whether `header` (Sucesso-Signature) signs `body` with `secret` at a time within
    `tolerance_s` seconds of `now` (Unix seconds; default: the clock). Constant-time compare."""
    fields = [part.strip().partition("=") for part in (header or "").split(",")]
    stamps = [v for k, _, v in fields if k == "t"]
    signatures = [v for k, _, v in fields if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = _digest(secret, t, body)
    return any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures)
