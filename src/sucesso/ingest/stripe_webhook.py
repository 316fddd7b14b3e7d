"""Stripe's webhook events, received: the signature checked with the official `stripe` package,
each event applied once and in order (`ingest.stripe` maps it).

Order. Stripe does not promise to deliver events once or in order. Each event is applied once
(`stripe_events` keeps its id: a redelivery changes nothing). Each object keeps the time of the
newest event applied to it (`stripe_objects`); an older event is recorded as ignored_stale and
changes nothing: every event carries the whole object, so the newer state is already there.
Events of the same second are ordered by the object's lifecycle (a subscription: incomplete,
trialing, live, ended; an invoice: draft, open, uncollectible, paid or void) and then by kind
(created, updated, deleted), so that e.g. customer.subscription.created (incomplete) arriving
after the update that activated it in the same second cannot undo it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sucesso.i18n import N_
from sucesso.ingest.stripe import (
    History,
    Tracked,
    account_of,
    account_row,
    customer_from_api,
    existing_accounts,
    id_of,
    invoice_row,
    moment,
    move_customer,
    rank,
    save,
    subscription_from_api,
    tracked,
    write_rows,
    write_subscription,
)
from sucesso.store import Store, get_setting, set_setting

SECRET_SETTING = "stripe_webhook_secret"
TOLERANCE = 300  # seconds an event's signature stays valid: Stripe's libraries' default


class Refused(Exception):
    """What was sent cannot be taken (an unsigned or malformed event, a secret that is none): a request
    answers 400 and nothing is written."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params

    def translated(self, _) -> str:
        return _(self.message, **self.params)


class NotSetUp(Refused):
    """The workspace has no signing secret yet (`sucesso stripe secret --env VAR`)."""


@dataclass(frozen=True)
class Outcome:
    outcome: str  # applied, ignored_stale, ignored, duplicate
    detail: str | None = None


# -- the signing secret and the signature ------------------------------------------------
def set_secret(store: Store, secret: str) -> None:
    """Keep the webhook endpoint's signing secret (whsec_…) in the workspace's settings."""
    secret = secret.strip()
    if not secret.startswith("whsec_") or len(secret) < 10:
        raise Refused(N_("a Stripe signing secret starts with whsec_ (Stripe Dashboard > Developers > "
                         "Webhooks > the endpoint > Signing secret)"))
    set_setting(store, SECRET_SETTING, secret)


def has_secret(store: Store) -> bool:
    return bool(get_setting(store, SECRET_SETTING))


def verify(payload: bytes, header: str | None, secret: str, tolerance: int = TOLERANCE) -> dict:
    """The event in `payload`, once the official `stripe` package has checked its Stripe-Signature
    header: HMAC-SHA256 with `secret` of "timestamp.payload", the timestamp at most `tolerance`
    seconds old (an older one is a replay). Refused otherwise."""
    import stripe

    if not header:
        raise Refused(N_("no Stripe-Signature header: only Stripe's signed events are accepted here"))
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        if "tolerance" in str(exc):
            raise Refused(N_("the signature's timestamp is more than %(seconds)s seconds old (a replayed "
                             "event?)"), seconds=tolerance) from None
        raise Refused(N_("the Stripe-Signature header does not match this body and the workspace's signing "
                         "secret")) from None
    except UnicodeDecodeError:
        raise Refused(N_("the body is not UTF-8 text")) from None
    try:
        event = json.loads(payload)
    except ValueError:
        raise Refused(N_("the body is not JSON")) from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise Refused(N_("the body is not a Stripe event (an object with an id and a type)"))
    return event


def receive(store: Store, payload: bytes, header: str | None, received_at: datetime | None = None) -> Outcome:
    """A webhook delivery: verified against the workspace's secret, then applied (once)."""
    secret = get_setting(store, SECRET_SETTING)
    if not secret:
        raise NotSetUp(N_("Stripe webhooks are not set up in this workspace: run sucesso stripe secret --env VAR"))
    return apply_event(store, verify(payload, header, secret), received_at)


# -- events -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: datetime
    object: dict
    previous: dict  # data.previous_attributes of an *.updated event

    @property
    def label(self) -> str:
        return f"Stripe event {self.id} ({self.type})"


def apply_event(store: Store, event: dict, received_at: datetime | None = None) -> Outcome:
    """Apply one (verified) event, once, in one transaction; its outcome is recorded."""
    try:  # the envelope, as Stripe documents it
        data = event.get("data") or {}
        obj = data.get("object") if isinstance(data.get("object"), dict) else {}
        created = moment(event.get("created")) or datetime.now(UTC).replace(tzinfo=None)
        previous = data.get("previous_attributes") or {}
        if not isinstance(previous, dict):
            raise TypeError("data.previous_attributes is not an object")
    except (AttributeError, TypeError, ValueError, ArithmeticError, OSError) as exc:
        raise Refused(N_("the event is not as Stripe documents it (%(problem)s)"),
                      problem=f"{type(exc).__name__}: {exc}") from None
    e = Event(event["id"], event["type"], created, obj, previous)
    with store.transaction():
        if store.fetchall("SELECT 1 FROM stripe_events WHERE event_id = ?", (e.id,)):
            return Outcome("duplicate")
        apply = APPLY.get(obj.get("object")) if isinstance(obj.get("object"), str) else None
        if apply is None or not isinstance(obj.get("id"), str):
            outcome = Outcome("ignored", "not about a customer, a subscription or an invoice")
        else:
            try:
                outcome = apply(store, e)
            except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, OSError) as exc:
                raise Refused(N_("the event's %(kind)s is not as Stripe documents it (%(problem)s)"),
                              kind=obj["object"], problem=f"{type(exc).__name__}: {exc}") from None
        store.execute(
            "INSERT INTO stripe_events (event_id, type, object_id, created, received_at, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.id, e.type, obj.get("id") if isinstance(obj.get("id"), str) else None, e.created,
             received_at or datetime.now(UTC).replace(tzinfo=None), outcome.outcome, outcome.detail))
    return outcome


def _stale(known: Tracked) -> Outcome:
    return Outcome("ignored_stale", f"older than {known.last_event_id}, already applied")


def _apply_customer(store: Store, e: Event) -> Outcome:
    deleted = e.type == "customer.deleted" or bool(e.object.get("deleted"))
    order = rank("customer", "deleted" if deleted else None, e.type)
    known = tracked(store, e.object["id"])
    if known and known.older_than(e.created, order):
        return _stale(known)
    customer = customer_from_api(e.object)
    account_id = known.account_id if known and deleted else customer.account_id
    existing = existing_accounts(store, [account_id]).get(account_id)
    if deleted:  # the account stays where it is, with its history, marked; the object may be a stub
        if existing is None and customer.created is None:
            return Outcome("ignored", "a deleted customer sucesso never had")
        row = account_row(customer, None) if existing is None else {"account_id": account_id}
        attributes = json.loads((existing or row).get("attributes") or "{}")
        row["attributes"] = json.dumps({**attributes, "stripe_deleted_at": e.created.isoformat()}, sort_keys=True)
    else:
        row = account_row(customer, existing)
    write_rows(store, "accounts", [row], e.label)
    if known and known.account_id != account_id:
        move_customer(store, customer.id, known.account_id, account_id)
    save(store, [Tracked(customer.id, "customer", customer.id, account_id, e.id, e.created, {"rank": order})])
    return Outcome("applied")


def _apply_subscription(store: Store, e: Event) -> Outcome:
    snap = subscription_from_api(e.object, e.created)
    order = rank("subscription", snap.status, e.type)
    known = tracked(store, snap.id)
    if known and known.older_than(e.created, order):
        return _stale(known)
    if snap.customer is None:
        return Outcome("ignored", "a subscription without a customer")
    if known:
        before = History.from_state(known.state)
        history, account_id = before.advance(snap, e.created), known.account_id
    else:
        before, history = None, History()
        if e.previous:  # the first event seen is an update: the row before it, from what it changed
            history = history.advance(subscription_from_api({**e.object, **e.previous}, e.created), e.created)
        history = history.advance(snap, e.created)
        if not history.segments:
            return Outcome("ignored", f"not started ({snap.status})")
        account_id = account_of(store, snap.customer, history.segments[0][0])
    write_subscription(store, snap.id, account_id, history, before)
    save(store, [Tracked(snap.id, "subscription", snap.customer, account_id, e.id, e.created,
                         {"rank": order, **history.state()})])
    return Outcome("applied")


def _apply_invoice(store: Store, e: Event) -> Outcome:
    row = invoice_row(e.object)
    order = rank("invoice", row["status"], e.type)
    known = tracked(store, row["invoice_id"])
    if known and known.older_than(e.created, order):
        return _stale(known)
    customer = id_of(e.object.get("customer"))
    if row["status"] == "draft" or customer is None:
        return Outcome("ignored", "a draft invoice (not issued yet)" if customer else "an invoice without a customer")
    account_id = known.account_id if known else account_of(store, customer, row["issued_at"] or e.created)
    write_rows(store, "invoices", [{**row, "account_id": account_id}], e.label)
    save(store, [Tracked(row["invoice_id"], "invoice", customer, account_id, e.id, e.created, {"rank": order})])
    return Outcome("applied")


APPLY = {"customer": _apply_customer, "subscription": _apply_subscription, "invoice": _apply_invoice}


def recent_events(store: Store, limit: int = 50) -> list[dict]:
    """The latest webhook events received, newest first."""
    rows, columns = store.fetchall_with_columns(
        "SELECT event_id, type, object_id, created, received_at, outcome, detail FROM stripe_events "
        "ORDER BY received_at DESC, created DESC LIMIT ?", (limit,))
    return [dict(zip(columns, r, strict=True)) for r in rows]


