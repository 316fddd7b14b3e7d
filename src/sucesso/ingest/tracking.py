"""Segment-compatible tracking: `identify`, `group` and `track` calls (and `page`, `screen`)
become contacts, accounts and usage_events — every message checked first, then all of a
request written in one transaction or nothing, each track written once however often its
messageId is sent.

`read(body, call, received_at)` (from `ingest.segment`, whose docstring cites what Segment
documents: sizes, ids, clock-skew correction, timestamps far ahead or behind) checks a request
body with no store; `ingest(store, calls)` resolves accounts and contacts and writes. The HTTP
side — routes, write key, answers — is web/pages/tracking.py.

How calls map onto the canonical tables (DESIGN.md):

- track → usage_events: event_id = messageId, event = the event's name, occurred_at = the
  corrected timestamp (UTC), properties = the properties (canonical JSON), contact_id = userId
  when that contact exists, account_id = context.groupId, else properties.groupId or
  properties.account_id, else the account of the contact userId. No account, or one that does
  not exist: an error. page and screen are tracks of the events "page" and "screen", their
  name and category added to the properties.
- identify → contacts: contact_id = userId; name, email, role and created_at from the traits;
  the account from context.groupId, traits.groupId, traits.company.id or traits.account_id,
  else from a group call of the same request with that userId, else the contact's stored one.
- group → accounts: account_id = groupId; the known columns from the traits, name required for
  a new account, created_at (for a new account) the call's moment unless traits.createdAt says;
  every other trait merged into the account's attributes. A userId links that user's stored
  contact to the account.
- alias calls, and identify calls without a userId (anonymous), are accepted and ignored:
  sucesso keeps no anonymous profiles.

Accounts and contacts are written through the importer's `write_batches` (the same checks as
`sucesso import`: enums, lengths, references, required columns of new rows); a column a call
does not send keeps its stored value, and a row that would not change is not written. Usage
events are checked here against the same declaration (required values, lengths, the account and
contact that must exist).

Each messageId is written once. The transaction that appends a track records its messageId in
tracked_messages, whose key (a unique index on either engine, store/schema.py) refuses one
recorded before; the transaction is then rolled back and run again without the tracks whose
messageIds the index holds. So a message sent again, however late, changes nothing and its first
arrival stands (Segment's de-duplication window is 24 hours; this one has no end). Recording
reads nothing but the index, and so does the look (only for requests that resend a message):
neither grows with usage_events (benchmarks/tracking-throughput.json). `ingest_many` writes the
tracks of concurrent requests in one transaction. DuckDB holds the index in memory, within the
workspace's limit (1200 MB unless SUCESSO_DUCKDB_MEMORY says otherwise): about 100 bytes a
messageId (5 million take 480 MB), and writes it out at each checkpoint, which makes a large
index slower to write to (the --all-tracked runs of the benchmark); PostgreSQL keeps it on disk.

What this promises, precisely: from schema version 7 on, the API writes each messageId it
receives at most once; the upgrade to it recorded the event_ids of the latest million events
(by occurred_at), so that a message sent shortly before the upgrade counts too. The API does not
look at usage_events first, so on DuckDB it does not see the events a file import writes: an
import of an event_id the API wrote upserts that row (the importer keeps the key), but a
messageId sent after an import wrote the same event_id is appended as a second row with that
key. On PostgreSQL usage_events' own key refuses it, and the retry looks there too: the message
counts as sent before. Seeing them on DuckDB would mean reading every stored event_id for each
request again, as before version 7 (DuckDB tables carry no index: store/engines.py).

Within a request, group calls are written before identify calls and those before tracks, so
one batch can create an account, its contact and their events; calls about one account (or
contact) are merged in order, the later trait winning. identify and group carry state, not
events: a resent one writes the same values again, which changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import orjson
import pyarrow as pa

from sucesso.i18n import N_
from sucesso.ingest.importer import write_batches
from sucesso.ingest.segment import Calls, Message, MessageError, Rejected, read
from sucesso.store import Store
from sucesso.store.engines import KeyExists
from sucesso.store.schema import Table, arrow_schema, table

__all__ = ["Calls", "Message", "MessageError", "Rejected", "Written", "ingest", "ingest_many", "read"]

ACCOUNTS, CONTACTS, USAGE = table("accounts"), table("contacts"), table("usage_events")
TRACKED = table("tracked_messages")
USAGE_COLUMNS = ["event_id", "account_id", "contact_id", "event", "occurred_at", "properties"]
USAGE_SCHEMA = arrow_schema(USAGE, USAGE_COLUMNS)
TRACKED_SCHEMA = arrow_schema(TRACKED)
T = TypeVar("T")
# the call's field a column comes from, to name it in an error (else traits.<column>)
SOURCE_FIELDS = {
    "accounts": {"account_id": "groupId", "created_at": "traits.createdAt", "attributes": "traits"},
    "contacts": {"contact_id": "userId", "account_id": "context.groupId", "created_at": "traits.createdAt"},
}


@dataclass
class Written:
    """What a request wrote: usage events (and the resent ones already stored), accounts and
    contacts inserted or changed."""

    events: int = 0
    duplicates: int = 0
    accounts: int = 0
    contacts: int = 0


@dataclass
class _Merged:
    """The calls of a request about one account (group) or contact (identify), in order."""

    columns: dict
    extras: dict
    account_id: str | None  # the last one named
    first: Message
    last: Message


@dataclass
class _Plan:
    """The rows a request will write, each with the message it comes from, and the messages
    that cannot be written."""

    accounts: list[tuple[dict, Message]] = field(default_factory=list)
    contacts: list[tuple[dict, Message]] = field(default_factory=list)
    events: list[tuple[Message, str, str | None]] = field(default_factory=list)  # (track, account, contact)
    refused: list[tuple[Message, MessageError]] = field(default_factory=list)
    known_accounts: set[str] = field(default_factory=set)  # stored, or written by this request
    account_of: dict[str, str] = field(default_factory=dict)  # contact → its account after this request

    def refuse(self, message: Message, text: str, **params: object) -> None:
        self.refused.append((message, MessageError(message.index, message.message_id, text, params)))


class _Refused(Exception):
    def __init__(self, errors: list[MessageError]):
        super().__init__(f"{len(errors)} message(s) refused")
        self.errors = errors


def ingest(store: Store, calls: Calls) -> tuple[Written, list[MessageError]]:
    """Write what `read` found, all or nothing, in one transaction: accounts (group), then
    contacts (identify), then usage events (track). Returns what was written and no errors, or
    nothing written and every message that cannot be (found by `read`, or here against the
    workspace), in order."""
    plan = _plan(store, calls.messages)
    errors = sorted(calls.errors + [e for _, e in plan.refused], key=lambda e: e.index)
    if errors:
        return Written(), errors
    try:
        written = _write_once(store, plan.events, lambda known: _write_plan(store, plan, known))
    except _Refused as exc:
        return Written(), exc.errors
    return written, []


def ingest_many(store: Store, requests: list[Calls]) -> list[list[MessageError]]:
    """Several requests, each written all or nothing as `ingest` would write them one after the
    other; the errors of each ([] when written). A run of requests holding nothing but tracks
    shares one resolution and one write: tracks change no account or contact, so resolving them
    together is resolving them in turn, and the first of a messageId sent twice stands."""
    answers: list[list[MessageError]] = []
    run: list[Calls] = []
    for calls in [*requests, None]:
        if calls is not None and all(m.call == "track" for m in calls.messages):
            run.append(calls)
            continue
        if run:
            answers += _ingest_tracks(store, run)
            run = []
        if calls is not None:
            answers.append(ingest(store, calls)[1])
    return answers


def _ingest_tracks(store: Store, requests: list[Calls]) -> list[list[MessageError]]:
    owner = {id(m): n for n, calls in enumerate(requests) for m in calls.messages}
    plan = _plan(store, [m for calls in requests for m in calls.messages])
    answers = [list(calls.errors) for calls in requests]
    for message, error in plan.refused:
        answers[owner[id(message)]].append(error)
    events, seen = [], set()
    for event in plan.events:
        message = event[0]
        if not answers[owner[id(message)]] and message.message_id not in seen:
            seen.add(message.message_id)
            events.append(event)
    if events:
        _write_once(store, events, lambda known: _write_events(store, events, known))
    return [sorted(errors, key=lambda e: e.index) for errors in answers]


# -- resolving ------------------------------------------------------------------------------
def _plan(store: Store, messages: list[Message]) -> _Plan:
    """Each message's account and contact, from the workspace and from the request itself."""
    contacts = _stored(store, CONTACTS, {m.user_id for m in messages if m.user_id})
    named = {m.account_id for m in messages if m.account_id} | {c["account_id"] for c in contacts.values()}
    accounts = _stored(store, ACCOUNTS, named)
    plan = _Plan(known_accounts=set(accounts), account_of={u: c["account_id"] for u, c in contacts.items()})
    groups = [m for m in messages if m.call == "group"]
    _plan_accounts(plan, groups, accounts)
    links = {m.user_id: m for m in groups if m.user_id}  # the last group call of a user wins
    _plan_contacts(plan, [m for m in messages if m.call == "identify"], links, contacts)
    _plan_events(plan, [m for m in messages if m.call == "track"])
    return plan


def _plan_accounts(plan: _Plan, groups: list[Message], stored: dict[str, dict]) -> None:
    for account_id, merged in _merge(groups, lambda m: m.account_id).items():
        old = stored.get(account_id)
        row = {"account_id": account_id, **merged.columns}
        if old is None and "name" not in row:
            plan.refuse(merged.last, N_("groupId %(account)s is a new account: traits.name is required"),
                        account=account_id)
            continue
        if old is None:
            row.setdefault("created_at", merged.first.occurred_at)
        if merged.extras:
            attributes = orjson.loads(old["attributes"]) if old and old["attributes"] else {}
            row["attributes"] = orjson.dumps({**attributes, **merged.extras}, option=orjson.OPT_SORT_KEYS).decode()
        plan.known_accounts.add(account_id)
        _add_if_changed(plan.accounts, row, old, merged.last)


def _plan_contacts(plan: _Plan, identifies: list[Message], links: dict[str, Message],
                   stored: dict[str, dict]) -> None:
    identified = _merge(identifies, lambda m: m.user_id)
    for user, merged in identified.items():
        account = merged.account_id or (links[user].account_id if user in links else plan.account_of.get(user))
        if account is None:
            plan.refuse(merged.last, N_("contact %(user)s has no account: send context.groupId (or "
                                        "traits.company.id), or a group call with its userId"), user=user)
        elif account not in plan.known_accounts:
            plan.refuse(merged.last, N_("account %(account)s does not exist: send a group call for it first"),
                        account=account)
        else:
            plan.account_of[user] = account
            _add_if_changed(plan.contacts, {"contact_id": user, "account_id": account, **merged.columns},
                            stored.get(user), merged.last)
    for user, group in links.items():  # a group call moves a stored contact to its account
        if user not in identified and user in stored and group.account_id in plan.known_accounts:
            plan.account_of[user] = group.account_id
            _add_if_changed(plan.contacts, {"contact_id": user, "account_id": group.account_id}, stored[user], group)


def _plan_events(plan: _Plan, tracks: list[Message]) -> None:
    for m in tracks:
        account = m.account_id or plan.account_of.get(m.user_id)
        if account is None:
            plan.refuse(m, N_("no account for this event: send context.groupId, or identify its userId with an "
                              "account first"))
        elif account not in plan.known_accounts:
            plan.refuse(m, N_("account %(account)s does not exist: send a group call for it first"), account=account)
        else:
            plan.events.append((m, account, m.user_id if m.user_id in plan.account_of else None))


def _merge(messages: list[Message], key) -> dict[str, _Merged]:
    """Calls about the same key merged in order: the later value of a column or trait wins."""
    merged: dict[str, _Merged] = {}
    for m in messages:
        found = merged.get(key(m))
        if found is None:
            merged[key(m)] = _Merged(dict(m.columns), dict(m.extras), m.account_id, m, m)
        else:
            found.columns.update(m.columns)
            found.extras.update(m.extras)
            found.account_id, found.last = m.account_id or found.account_id, m
    return merged


def _add_if_changed(rows: list, row: dict, stored: dict | None, message: Message) -> None:
    """Plan `row` unless the stored row holds its every value already (a repeated call writes nothing)."""
    if stored is None or any(stored[c] != v for c, v in row.items()):
        rows.append((row, message))


def _stored(store: Store, t: Table, keys: set[str]) -> dict[str, dict]:
    """The stored rows of `t` whose key (its first column) is among `keys`, by key."""
    if not keys:
        return {}
    columns = t.column_names
    rows = store.fetchall(f"SELECT {', '.join(columns)} FROM {t.name} WHERE {columns[0]} = ANY(?)", (list(keys),))
    return {r[0]: dict(zip(columns, r, strict=True)) for r in rows}


# -- writing --------------------------------------------------------------------------------
def _write_once(store: Store, events: list[tuple[Message, str, str | None]], write: Callable[[set[str]], T]) -> T:
    """`write(known)` in one transaction, `known` being the messageIds of `events` already written.
    Run first with none known: most requests hold none, and the key checks each messageId recorded
    for less than a look-up costs (DuckDB plans every value looked up). When it refuses one
    (KeyExists), the transaction is rolled back and run again, with them looked up."""
    try:
        with store.transaction():
            return write(set())
    except KeyExists:
        ids = [m.message_id for m, _, _ in events]
        with store.transaction():
            known = store.keys_held(TRACKED, ids)
            if store.keyed(USAGE):  # an event_id a file import wrote refuses the messageId too
                known |= store.keys_held(USAGE, ids)
            return write(known)


def _write_plan(store: Store, plan: _Plan, known: set[str]) -> Written:
    written = Written(accounts=_write_rows(store, ACCOUNTS, plan.accounts),
                      contacts=_write_rows(store, CONTACTS, plan.contacts))
    if plan.events:
        written.events, written.duplicates = _write_events(store, plan.events, known)
    return written


def _write_rows(store: Store, t: Table, rows: list[tuple[dict, Message]]) -> int:
    """Upsert planned rows with the importer's checks (`write_batches`), a batch per set of columns
    sent (a column a call does not send keeps its stored value); the rows inserted or updated."""
    by_columns: dict[tuple[str, ...], list[tuple[dict, Message]]] = {}
    for row, message in rows:
        by_columns.setdefault(tuple(c for c in t.column_names if c in row), []).append((row, message))
    written = 0
    for columns, group in by_columns.items():
        data = {c: [row[c] for row, _ in group] for c in columns}
        report = write_batches(store, t.name, [pa.RecordBatch.from_pydict(data, schema=arrow_schema(t, list(columns)))],
                               label=f"{t.name} (tracking)")
        if not report.written:
            raise _Refused([_problem_error(t.name, p, group) for p in report.problems])
        written += report.inserted + report.updated
    return written


def _problem_error(table_name: str, problem, group: list[tuple[dict, Message]]) -> MessageError:
    """An importer problem (on row n of the batch) as an error of the message the row comes from."""
    message = group[problem.row - 1][1] if problem.row else group[0][1]
    where = SOURCE_FIELDS[table_name].get(problem.column, f"traits.{problem.column}")
    value = "(empty)" if problem.value in (None, "") else repr(problem.value)
    return MessageError(message.index, message.message_id, N_("%(field)s: %(value)s — expected %(expected)s"),
                        {"field": where, "value": value, "expected": problem.expected})


def _write_events(store: Store, events: list[tuple[Message, str, str | None]], known: set[str]) -> tuple[int, int]:
    """Record the messageIds of the events not `known` in tracked_messages (whose key refuses one
    recorded before: KeyExists) and append those events: (written, known). In the caller's
    transaction."""
    new = [e for e in events if e[0].message_id not in known]
    if new:
        received = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        store.append(TRACKED, pa.RecordBatch.from_pydict(
            {"message_id": [m.message_id for m, _, _ in new], "received_at": [received] * len(new)},
            schema=TRACKED_SCHEMA))
        store.append(USAGE, _usage_batch(new))
    return len(new), len(events) - len(new)


def _usage_batch(events: list[tuple[Message, str, str | None]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        "event_id": [m.message_id for m, _, _ in events],
        "account_id": [account for _, account, _ in events],
        "contact_id": [contact for _, _, contact in events],
        "event": [m.event for m, _, _ in events],
        "occurred_at": [m.occurred_at for m, _, _ in events],
        "properties": [m.properties for m, _, _ in events],
    }, schema=USAGE_SCHEMA)
