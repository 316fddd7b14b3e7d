"""Stripe Billing → accounts, subscriptions and invoices: how Stripe's customers, subscriptions and
invoices map onto the canonical tables, Stripe's MRR, and what sucesso keeps of each Stripe object.
The webhook (`ingest.stripe_webhook`) and the Dashboard's CSV exports (`ingest.stripe_csv`) both
write through here. No call to Stripe is ever made: what an event or a row does not say is not
known.

Customers → accounts. account_id = the customer's `metadata.sucesso_account_id`, else its
`metadata.account_id` (so a Stripe customer lands on the account the CRM already made), else the
customer id. An account Stripe made (its id is the customer's) takes Stripe's name (else the
description, else the e-mail, else the id), created_at and country (address.country); an
account of the workspace's own that a customer is linked to keeps its values and takes Stripe's
only where it has none. Either way `attributes` gains stripe_customer_id and email_domain (and
stripe_deleted_at when the customer is deleted: the account stays, with its history).
An event about a customer sucesso has not seen yet (a subscription before its customer.created)
makes a minimal account — account_id and name = the customer id — that the customer's own
event completes; when that event links the customer to another account, the customer's
subscription and invoice rows move there and the minimal account goes (when nothing else refers
to it).

Subscriptions → subscriptions, with Stripe's own MRR definition (Billing analytics, "Billing
metric definitions" and "How do you calculate MRR?"): the monthly-normalised value of an
active or past_due subscription; trialing, unpaid, paused and incomplete ones count 0, as do
taxes, free prices and metered (usage-based) prices. Per licensed item
    unit_amount × quantity × (1 monthly, 1/12 yearly, 52/12 weekly, 365/12 daily) / interval_count,
in the currency's units (cents → units; JPY and the other zero-decimal currencies as they are),
minus the lasting discounts: a coupon's percent_off, or its amount_off normalised the same way
(it comes off every invoice), for a coupon whose duration is forever or repeating and not yet
ended; `once` coupons leave MRR alone. Stripe's default counts forever coupons only; its
"subtract recurring discounts" setting counts repeating ones too, as here. Discounts that an
event names by id only (newer API versions do not expand them) cannot be read without calling
Stripe and are not subtracted. Rounded to the cent.
A subscription row holds one MRR (DESIGN.md: a plan change is one row ending and another
starting), so a change of MRR, plan, quantity or currency ends the current row at the event's
time and starts the next: sub_X, then sub_X~2, sub_X~3… A canceled subscription ends at its
ended_at (else canceled_at); incomplete and incomplete_expired ones never started (no row).
The first event seen of a subscription starts it at its start_date, and when that event is an
update, the attributes it changed (previous_attributes) give the row before the change.

Invoices → invoices: amount = amount_due, in the currency's units; issued_at = created;
due_at = due_date; paid_at = status_transitions.paid_at; status as Stripe's (open, paid, void,
uncollectible). Drafts are not invoices yet: left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa

from sucesso.ingest.importer import ImportReport, write_batches
from sucesso.ingest.problems import Problem
from sucesso.store import Store
from sucesso.store.engines import quote
from sucesso.store.schema import ACCOUNT, CANONICAL, arrow_type
from sucesso.store.schema import table as table_named

CENT = Decimal("0.01")
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
                          "XAF", "XOF", "XPF"})  # Stripe's amounts in these are whole units
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
PER_MONTH = {"month": (1, 1), "year": (1, 12), "week": (52, 12), "day": (365, 12)}  # × a / b
PAYING = ("active", "past_due")
NOT_STARTED = ("incomplete", "incomplete_expired")
ENDED = ("canceled", "incomplete_expired")
# Lifecycle ranks, used only between events of the same second (see ingest/stripe_webhook.py).
SUBSCRIPTION_RANK = {"incomplete": 0, "trialing": 1, "canceled": 3, "incomplete_expired": 3}  # else 2
INVOICE_RANK = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}
KIND_RANK = {"created": 0, "deleted": 2}  # else 1


class Unwritable(Exception):
    """Rows an event (or an export) implies do not pass the importer's checks: nothing was written."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


# -- amounts and MRR --------------------------------------------------------------------
def major(amount, currency: str | None) -> Decimal | None:
    """A Stripe amount, given in the currency's smallest unit (cents; yen as they are), in units."""
    if amount is None:
        return None
    code = (currency or "").upper()
    places = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return Decimal(str(amount)).scaleb(-places)


def monthly(amount: Decimal, interval: str, count: int = 1) -> Decimal:
    """An amount billed every `count` `interval`s, per month: ×1 monthly, /12 yearly, ×52/12
    weekly, ×365/12 daily, then / interval_count."""
    times, per = PER_MONTH[interval]
    return amount * times / (per * max(count, 1))


@dataclass(frozen=True)
class Item:
    """A subscription item: its price per unit and billing interval (in units), and its quantity."""

    amount: Decimal
    quantity: int = 1
    interval: str = "month"
    interval_count: int = 1
    metered: bool = False
    label: str | None = None


@dataclass(frozen=True)
class Coupon:
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None  # in units, off every invoice
    duration: str = "forever"  # once, repeating, forever
    end: datetime | None = None  # when a repeating coupon stops

    def lasts(self, at: datetime) -> bool:
        """Does it still lower the subscription's price at `at`? (Not a `once` coupon.)"""
        return self.duration == "forever" or (self.duration == "repeating" and (self.end is None or self.end > at))


def mrr(items: list[Item], coupons: list[Coupon] = (), at: datetime | None = None) -> Decimal:
    """A live subscription's MRR: Σ over licensed items of monthly(amount × quantity), less its
    lasting coupons (percent_off, or monthly(amount_off)), never below 0, to the cent."""
    licensed = [i for i in items if not i.metered]
    total = sum((monthly(i.amount * i.quantity, i.interval, i.interval_count) for i in licensed), Decimal(0))
    for coupon in coupons:
        if at is not None and not coupon.lasts(at):
            continue
        if coupon.percent_off is not None:
            total -= total * coupon.percent_off / 100
        elif coupon.amount_off is not None and licensed:
            total -= monthly(coupon.amount_off, licensed[0].interval, licensed[0].interval_count)
    return max(total, Decimal(0)).quantize(CENT, ROUND_HALF_UP)


# -- Stripe's objects, read ---------------------------------------------------------------
def moment(seconds) -> datetime | None:
    """A Stripe timestamp (seconds since 1970, UTC) as the store's naive UTC time."""
    if seconds is None or isinstance(seconds, bool):
        return None
    return datetime.fromtimestamp(int(seconds), UTC).replace(tzinfo=None)


def id_of(value) -> str | None:
    """An expandable field's id: the string, or the expanded object's id (TypeError for anything else)."""
    found = value.get("id") if isinstance(value, dict) else value
    if found is not None and not isinstance(found, str):
        raise TypeError(f"expected an id, not {found!r}")
    return found


@dataclass(frozen=True)
class Customer:
    id: str
    name: str | None = None
    description: str | None = None
    email: str | None = None
    created: datetime | None = None
    country: str | None = None
    linked: str | None = None  # the account the customer's metadata names

    @property
    def account_id(self) -> str:
        return self.linked or self.id

    @property
    def label(self) -> str:
        return next(v.strip() for v in (self.name, self.description, self.email, self.id) if v and v.strip())

    @property
    def email_domain(self) -> str | None:
        _, at, domain = (self.email or "").strip().rpartition("@")
        return (domain.lower() or None) if at else None


def linked_account(metadata: dict) -> str | None:
    """The account a customer's metadata names: sucesso_account_id, else account_id."""
    for key in ("sucesso_account_id", "account_id"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def customer_from_api(obj: dict) -> Customer:
    address = obj.get("address") or (obj.get("shipping") or {}).get("address") or {}
    country = address.get("country")
    return Customer(obj["id"], obj.get("name"), obj.get("description"), obj.get("email"), moment(obj.get("created")),
                    country.upper() if country else None, linked_account(obj.get("metadata") or {}))


@dataclass(frozen=True)
class Terms:
    """What one subscription row says besides its dates."""

    mrr: Decimal
    plan: str | None = None
    quantity: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """A subscription as Stripe described it at one moment."""

    id: str
    customer: str | None
    status: str
    terms: Terms
    started: datetime
    ended: datetime | None = None  # canceled or expired: when it ended


def snapshot(sub_id: str, customer: str | None, status: str, items: list[Item], coupons: list[Coupon],
             currency: str | None, started: datetime, ended: datetime | None, trial_end: datetime | None,
             at: datetime) -> Snapshot:
    """A subscription's snapshot: a canceled one keeps the MRR it had while live (none when it ended
    within its trial)."""
    live = status in PAYING or (status == "canceled" and not (trial_end and ended and ended <= trial_end))
    labels = [i.label for i in items if i.label]
    quantities = [i.quantity for i in items if not i.metered]
    terms = Terms(mrr(items, coupons, at) if live else Decimal("0.00"), " + ".join(dict.fromkeys(labels)) or None,
                  sum(quantities) if quantities else None, currency.upper() if currency else None)
    return Snapshot(sub_id, customer, status, terms, started, ended if status in ENDED else None)


def _item(item: dict, currency: str | None) -> Item:
    price = item.get("price") or item.get("plan") or {}
    recurring = price.get("recurring") or price  # a plan object has its interval at the top
    unit = next((price[k] for k in ("unit_amount_decimal", "unit_amount", "amount_decimal", "amount")
                 if price.get(k) is not None), 0)  # a tiered price has none: counted 0
    product = price.get("product")
    label = (price.get("nickname") or price.get("lookup_key") or (product.get("name") if isinstance(product, dict)
             else None) or id_of(product) or price.get("id"))
    quantity = item.get("quantity")
    return Item(major(unit, price.get("currency") or currency), 1 if quantity is None else int(quantity),
                recurring.get("interval") or "month", int(recurring.get("interval_count") or 1),
                recurring.get("usage_type") == "metered", label)


def _coupons(obj: dict, currency: str | None) -> list[Coupon]:
    """The subscription's discounts whose coupon the event carries (the legacy `discount`, or
    `discounts` expanded); one by id only cannot be read here."""
    found: dict[str, Coupon] = {}
    for discount in [obj.get("discount"), *(obj.get("discounts") or [])]:
        if not isinstance(discount, dict):
            continue
        coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
        if not isinstance(coupon, dict):
            continue
        percent = coupon.get("percent_off")
        found[discount.get("id") or coupon.get("id") or str(len(found))] = Coupon(
            Decimal(str(percent)) if percent is not None else None,
            major(coupon.get("amount_off"), coupon.get("currency") or currency),
            coupon.get("duration") or "forever", moment(discount.get("end")))
    return list(found.values())


def subscription_from_api(obj: dict, at: datetime) -> Snapshot:
    items = (obj.get("items") or {}).get("data")
    if items is None and obj.get("plan"):  # an old API version: one plan at the top
        items = [{"plan": obj["plan"], "quantity": obj.get("quantity")}]
    items = items or []
    currency = obj.get("currency") or next(
        ((i.get("price") or i.get("plan") or {}).get("currency") for i in items), None)
    status = obj.get("status") or "active"
    ended = moment(obj.get("ended_at")) or moment(obj.get("canceled_at")) or at
    return snapshot(obj["id"], id_of(obj.get("customer")), status, [_item(i, currency) for i in items],
                    _coupons(obj, currency), currency,
                    moment(obj.get("start_date") or obj.get("start") or obj.get("created")) or at, ended,
                    moment(obj.get("trial_end")), at)


def invoice_row(obj: dict) -> dict:
    """An invoice object's canonical row (account_id aside)."""
    currency = obj.get("currency")
    amount = major(obj.get("amount_due", obj.get("total")), currency)
    return {"invoice_id": obj["id"], "issued_at": moment(obj.get("created")), "due_at": moment(obj.get("due_date")),
            "paid_at": moment((obj.get("status_transitions") or {}).get("paid_at")),
            "amount": amount.quantize(CENT, ROUND_HALF_UP) if amount is not None else None,
            "currency": currency.upper() if currency else None, "status": obj.get("status")}


# -- a subscription's rows over time ------------------------------------------------------
def segment_id(sub_id: str, index: int) -> str:
    """The row of the `index`-th segment: sub_X, then sub_X~2, sub_X~3…"""
    return sub_id if index == 0 else f"{sub_id}~{index + 1}"


@dataclass(frozen=True)
class History:
    """A subscription's segments — (start, terms), each lasting until the next — and its end."""

    segments: tuple[tuple[datetime, Terms], ...] = ()
    ended_at: datetime | None = None

    def advance(self, snap: Snapshot, at: datetime) -> History:
        """The history once Stripe says `snap` at `at` (no earlier than what it holds)."""
        if snap.status in NOT_STARTED and not self.segments:
            return self
        if snap.ended is not None:
            return History(self.segments or ((snap.started, snap.terms),), snap.ended)
        if not self.segments:
            return History(((snap.started, snap.terms),))
        start, terms = self.segments[-1]
        if terms == snap.terms:
            return History(self.segments)
        if at <= start:  # a change at the very moment the segment began: that segment's terms
            return History(self.segments[:-1] + ((start, snap.terms),))
        return History(self.segments + ((at, snap.terms),))

    def ids(self, sub_id: str) -> list[str]:
        return [segment_id(sub_id, i) for i in range(len(self.segments))]

    def rows(self, sub_id: str, account_id: str) -> list[dict]:
        """One subscriptions row per segment that lasted (a segment the end cut off has none)."""
        rows = []
        for i, (start, terms) in enumerate(self.segments):
            end = self.segments[i + 1][0] if i + 1 < len(self.segments) else None
            if self.ended_at is not None and (end is None or self.ended_at < end):
                end = self.ended_at
            if end is not None and end <= start:
                continue
            rows.append({"subscription_id": segment_id(sub_id, i), "account_id": account_id, "plan": terms.plan,
                         "mrr": terms.mrr, "currency": terms.currency, "quantity": terms.quantity,
                         "started_at": start, "ended_at": end})
        return rows

    def state(self) -> dict:
        return {"segments": [[s.isoformat(), str(t.mrr), t.plan, t.quantity, t.currency] for s, t in self.segments],
                "ended_at": self.ended_at.isoformat() if self.ended_at else None}

    @classmethod
    def from_state(cls, state: dict) -> History:
        segments = tuple((datetime.fromisoformat(s), Terms(Decimal(m), p, q, c))
                         for s, m, p, q, c in state.get("segments", ()))
        ended = state.get("ended_at")
        return cls(segments, datetime.fromisoformat(ended) if ended else None)


# -- what sucesso knows of each Stripe object ---------------------------------------------
@dataclass
class Tracked:
    object_id: str
    kind: str  # customer, subscription, invoice
    customer_id: str | None
    account_id: str
    last_event_id: str | None = None
    last_event_created: datetime | None = None  # None: from a CSV export, or only named so far
    state: dict = field(default_factory=dict)  # "rank"; a subscription's History.state()

    def older_than(self, at: datetime, rank: int) -> bool:
        """Is an event of (`at`, `rank`) older than the newest applied to this object?"""
        if self.last_event_created is None:
            return False
        return (at, rank) < (self.last_event_created, self.state.get("rank", 0))

    @property
    def by_webhook(self) -> bool:
        return self.last_event_created is not None


OBJECT_COLUMNS = ("object_id", "kind", "customer_id", "account_id", "last_event_id", "last_event_created", "state",
                  "updated_at")


def tracked(store: Store, object_id: str) -> Tracked | None:
    rows = store.fetchall("SELECT object_id, kind, customer_id, account_id, last_event_id, last_event_created, state "
                          "FROM stripe_objects WHERE object_id = ?", (object_id,))
    return _tracked_row(rows[0]) if rows else None


def tracked_all(store: Store, kind: str) -> dict[str, Tracked]:
    rows = store.fetchall("SELECT object_id, kind, customer_id, account_id, last_event_id, last_event_created, state "
                          "FROM stripe_objects WHERE kind = ?", (kind,))
    return {r[0]: _tracked_row(r) for r in rows}


def _tracked_row(row: tuple) -> Tracked:
    return Tracked(*row[:6], json.loads(row[6]) if row[6] else {})


def save(store: Store, objects: list[Tracked]) -> None:
    """Record (insert or replace) what is known of these objects (of one named twice, the last)."""
    objects = list({o.object_id: o for o in objects}.values())
    if not objects:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    data = {"object_id": [o.object_id for o in objects], "kind": [o.kind for o in objects],
            "customer_id": [o.customer_id for o in objects], "account_id": [o.account_id for o in objects],
            "last_event_id": [o.last_event_id for o in objects],
            "last_event_created": [o.last_event_created for o in objects],
            "state": [json.dumps(o.state, sort_keys=True, separators=(",", ":")) for o in objects],
            "updated_at": [now] * len(objects)}
    table = table_named("stripe_objects")
    batch = pa.RecordBatch.from_pydict({c: pa.array(v, arrow_type(table.column(c).type)) for c, v in data.items()})
    store.upsert(table, list(OBJECT_COLUMNS), [batch])


def rank(kind: str, status: str | None, event_type: str = "") -> int:
    """Where an object's status and the event's kind stand in its lifecycle (same-second ties)."""
    if kind == "subscription":
        status_rank = SUBSCRIPTION_RANK.get(status or "", 2)
    elif kind == "invoice":
        status_rank = INVOICE_RANK.get(status or "", 1)
    else:
        status_rank = 1 if status == "deleted" else 0
    return status_rank * 3 + KIND_RANK.get(event_type.rpartition(".")[2], 1)


# -- writing ------------------------------------------------------------------------------
def write_rows(store: Store, table_name: str, rows: list[dict], label: str) -> ImportReport | None:
    """Rows (column → value) through the importer's checks and upsert; Unwritable if refused."""
    if not rows:
        return None
    table = table_named(table_name)
    columns = list(dict.fromkeys(c for r in rows for c in r))
    batch = pa.RecordBatch.from_pydict(
        {c: pa.array([r.get(c) for r in rows], arrow_type(table.column(c).type)) for c in columns})
    report = write_batches(store, table_name, [batch], label=label)
    if not report.written:
        raise Unwritable(report.problems)
    return report


def existing_accounts(store: Store, ids: list[str] | None = None) -> dict[str, dict]:
    """The accounts (all, or these ids): name, created_at, country, attributes."""
    sql = "SELECT account_id, name, created_at, country, attributes FROM accounts"
    if ids is not None:
        if not ids:
            return {}
        sql += f" WHERE account_id IN ({', '.join('?' * len(ids))})"
    return {r[0]: {"name": r[1], "created_at": r[2], "country": r[3], "attributes": r[4]}
            for r in store.fetchall(sql, ids or ())}


def account_row(customer: Customer, existing: dict | None) -> dict:
    """The account row a customer gives: Stripe's values win on an account Stripe made; on an
    account of the workspace's own (linked by metadata) they only fill what it lacks."""
    existing = existing or {}
    theirs = {"name": customer.label, "created_at": customer.created, "country": customer.country}
    first, second = (existing, theirs) if customer.linked and existing else (theirs, existing)
    row = {"account_id": customer.account_id,
           **{k: first.get(k) if first.get(k) is not None else second.get(k) for k in theirs}}
    attributes = json.loads(existing.get("attributes") or "{}")
    attributes.update({"stripe_customer_id": customer.id, "email_domain": customer.email_domain})
    row["attributes"] = json.dumps({k: v for k, v in attributes.items() if v is not None}, sort_keys=True)
    return row


def account_of(store: Store, customer_id: str, since: datetime) -> str:
    """The account of a Stripe customer; one not seen yet gets a minimal account (id and name =
    the customer id, created at `since`) unless an account has its id already."""
    known = tracked(store, customer_id)
    if known:
        return known.account_id
    if not existing_accounts(store, [customer_id]):
        write_rows(store, "accounts", [{"account_id": customer_id, "name": customer_id, "created_at": since,
                                        "attributes": json.dumps({"stripe_customer_id": customer_id})}],
                   f"Stripe customer {customer_id}")
    save(store, [Tracked(customer_id, "customer", customer_id, customer_id)])
    return customer_id


def move_customer(store: Store, customer_id: str, old: str, new: str) -> None:
    """The customer's subscription and invoice rows go from account `old` to `new`; `old` goes when
    Stripe made it (its id is the customer's) and nothing else refers to it."""
    moved: dict[str, list[str]] = {"subscriptions": [], "invoices": []}
    for obj in store.fetchall("SELECT object_id, kind, state FROM stripe_objects WHERE customer_id = ? "
                              "AND kind <> 'customer'", (customer_id,)):
        if obj[1] == "subscription":
            moved["subscriptions"] += History.from_state(json.loads(obj[2] or "{}")).ids(obj[0])
        else:
            moved["invoices"].append(obj[0])
    for table_name, ids in moved.items():
        if not ids:
            continue
        key = table_named(table_name).key[0]
        found, columns = store.fetchall_with_columns(
            f"SELECT * FROM {quote(table_name)} WHERE {quote(key)} IN ({', '.join('?' * len(ids))})", ids)
        write_rows(store, table_name, [{**dict(zip(columns, r, strict=True)), "account_id": new} for r in found],
                   f"Stripe customer {customer_id}")
    store.execute("UPDATE stripe_objects SET account_id = ? WHERE customer_id = ?", (new, customer_id))
    if old == customer_id and not _referenced(store, old):
        store.execute("DELETE FROM accounts WHERE account_id = ?", (old,))


def _referenced(store: Store, account_id: str) -> bool:
    for table in CANONICAL:
        for column in table.columns:
            if column.references == ACCOUNT and store.fetchall(
                    f"SELECT 1 FROM {quote(table.name)} WHERE {quote(column.name)} = ? LIMIT 1", (account_id,)):
                return True
    return False


def lapsed(sub_id: str, history: History, before: History | None, rows: list[dict]) -> list[str]:
    """The rows of segments that no longer last (an end came before them): to delete."""
    ids = set(history.ids(sub_id)) | set(before.ids(sub_id) if before else ())
    return sorted(ids - {r["subscription_id"] for r in rows})


def delete_subscriptions(store: Store, ids: list[str]) -> None:
    if ids:
        store.execute(f"DELETE FROM subscriptions WHERE subscription_id IN ({', '.join('?' * len(ids))})", ids)


def write_subscription(store: Store, sub_id: str, account_id: str, history: History, before: History | None) -> None:
    """The subscription's rows as `history` has them."""
    rows = history.rows(sub_id, account_id)
    delete_subscriptions(store, lapsed(sub_id, history, before, rows))
    write_rows(store, "subscriptions", rows, f"Stripe subscription {sub_id}")
