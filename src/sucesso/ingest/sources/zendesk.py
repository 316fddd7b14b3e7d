"""Zendesk Support's tickets, with their metrics → tickets.

Two shapes of export are read:

- the tickets CSV (or XLSX) export of Zendesk Support: "Id", "Requester id", "Requester email",
  "Organization", "Created at", "Solved at", "First reply time in minutes", "Replies", "Reopens",
  "Via", "Ticket type", "Priority", … (the times as the export writes them: in the account's
  time zone);
- the API's JSON: `GET /api/v2/tickets.json?include=metric_sets,users,organizations` (the
  incremental export too, and the JSON export, one ticket a line), each ticket with its
  `metric_set` inline, or the metric sets side-loaded (`metric_sets` or `ticket_metrics`, by
  ticket_id); side-loaded `organizations` and `users` give names and e-mails to match by.

    ticket_id           = id
    account_id          = the organization: organization_id or its external_id as an account_id,
                          else its name as an account's exact name (a ticket without one is left out)
    contact_id          = the requester, when a contact: requester id as a contact_id, else its e-mail
    opened_at           = created at
    first_response_at   = created at + first reply time (calendar minutes)
    resolved_at         = solved at
    contacts_to_resolve = max(replies, 1) + reopens, for a solved ticket
    channel, category, priority = via, type, priority (lower-case)

FCR (METRICS.md: tickets resolved with contacts_to_resolve = 1): Zendesk counts `replies`, the
public agent replies, and `reopens`. A ticket solved with at most one reply and never reopened was
resolved at the first contact (1); otherwise each reply, and each reopening, was one more contact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sucesso.ingest.importer import ImportOptions, ImportReport
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import Progress
from sucesso.ingest.sources.base import (
    ROW,
    Field,
    Read,
    is_json,
    left_out,
    load_json,
    lower,
    objects,
    path_value,
    read_records,
    read_table,
    write,
)
from sucesso.ingest.sources.matching import Accounts, Contacts
from sucesso.store import Store

CENTURY = 100 * 365.25 * 24 * 60  # minutes: a longer first reply time is a mistake (and would overflow a date)
COMMON = (
    Field("created_at", ("Created at", "created_at"), "timestamp", required=True),
    Field("solved_at", ("Solved at", "metric_set.solved_at"), "timestamp"),
    Field("reply_minutes", ("First reply time in minutes", "metric_set.reply_time_in_minutes.calendar"),
          "double", min=0, max=CENTURY),
    Field("replies", ("Replies", "metric_set.replies"), "int", min=0),
    Field("reopens", ("Reopens", "metric_set.reopens"), "int", min=0),
    Field("via", ("Via", "via.channel")),
    Field("type", ("Ticket type", "type", "Type")),
    Field("priority", ("Priority", "priority")),
)
CSV_FIELDS = (
    Field("id", ("Id", "Ticket ID"), required=True),
    Field("organization", ("Organization", "Organization name"), expected=True),
    Field("requester_id", ("Requester id",)),
    Field("requester_email", ("Requester email",)),
    *COMMON,
)
JSON_FIELDS = (  # the names of the records `_records` makes; the first name of each field is read
    Field("id", ("id",), required=True),
    Field("organization_id", ("organization_id",)),
    Field("organization_external_id", ("organization.external_id",)),
    Field("organization", ("organization.name",)),
    Field("requester_id", ("requester_id",)),
    Field("requester_email", ("requester.email",)),
    *(dataclasses.replace(f, names=f.names[1:]) for f in COMMON),
)


def import_tickets(store: Store, path: str, options: ImportOptions, on_progress: Progress | None = None,
                   on_phase=None) -> list[ImportReport]:
    """A Zendesk tickets export into tickets, all or nothing."""
    if is_json(path, options):
        read = read_records(path, JSON_FIELDS, _records(path, load_json(path, options)), options)
    else:
        read = read_table(path, CSV_FIELDS, options, on_progress)
    return [_tickets(store, read, on_phase)]


def _tickets(store: Store, read: Read, on_phase) -> ImportReport:
    accounts, contacts = Accounts(store), Contacts(store)
    tickets, problems, orphans = [], [], []
    organization = read.column("organization")
    for row in read.readable():
        account_id, expected = accounts.find([row.get("organization_id"), row.get("organization_external_id")],
                                             row.get("organization"))
        if account_id is None:
            if expected is None:
                orphans.append(row[ROW])
            elif row.get("organization") or "organization_id" not in read.columns:
                problems.append(Problem(read.path, row[ROW], organization, row.get("organization"), expected))
            else:
                problems.append(Problem(read.path, row[ROW], "organization_id", row["organization_id"], expected))
            continue
        tickets.append({ROW: row[ROW], "account_id": account_id, **ticket(row),
                        "contact_id": contacts.find(row.get("requester_id"), row.get("requester_email"))})
    labels = {"ticket_id": "id", "account_id": "organization", "contact_id": "requester_id",
              "opened_at": "created_at", "first_response_at": "reply_minutes", "resolved_at": "solved_at",
              "contacts_to_resolve": "replies", "channel": "via", "category": "type", "priority": "priority"}
    notes = [left_out("tickets", "an organization", orphans)] if orphans else []
    if not any(row.get("solved_at") or row.get("replies") is not None for row in read.rows):
        notes.append("no ticket has metrics (solved at, replies): export them (CSV export, or the API with "
                     "include=metric_sets) for resolution times and FCR")
    return write(store, "tickets", read, tickets, {c: read.column(k) for c, k in labels.items()},
                 problems, notes=notes, on_phase=on_phase)


def ticket(row: dict) -> dict:
    """A Zendesk ticket's canonical values, but its account and contact (see the module's docstring)."""
    opened, minutes, solved = row["created_at"], row.get("reply_minutes"), row.get("solved_at")
    replies, reopens = row.get("replies"), row.get("reopens")
    resolved_in = max(replies, 1) + reopens if solved and replies is not None and reopens is not None else None
    return {
        "ticket_id": str(row["id"]),
        "opened_at": opened,
        "first_response_at": opened + dt.timedelta(minutes=minutes) if minutes is not None else None,
        "resolved_at": solved,
        "contacts_to_resolve": resolved_in,
        "channel": lower(row.get("via")),
        "category": lower(row.get("type")),
        "priority": lower(row.get("priority")),
    }


def _records(path: str, document: object) -> list[dict]:
    """The tickets of a JSON document, flattened to JSON_FIELDS' names, each with its row (its
    position in the list of tickets), its metric set and its side-loaded organization and requester."""
    if isinstance(document, dict) and "ticket" in document:
        document = {**document, "tickets": [document["ticket"]]}
    sideloads = document if isinstance(document, dict) else {}
    tickets = objects(path, sideloads.get("tickets") if sideloads else document, "tickets")
    metrics = {m.get("ticket_id"): m for key in ("metric_sets", "ticket_metrics")
               for m in sideloads.get(key) or [] if isinstance(m, dict)}
    organizations = {o.get("id"): o for o in sideloads.get("organizations") or [] if isinstance(o, dict)}
    users = {u.get("id"): u for u in sideloads.get("users") or [] if isinstance(u, dict)}
    if not any("created_at" in t for t in tickets):
        raise RejectedFile(path, "these are not Zendesk tickets (no created_at); export "
                                 "/api/v2/tickets.json?include=metric_sets,users,organizations")
    records = []
    for number, t in enumerate(tickets, 1):
        whole = {**t, "metric_set": t.get("metric_set") or metrics.get(t.get("id")) or {},
                 "organization": organizations.get(t.get("organization_id")) or {},
                 "requester": users.get(t.get("requester_id")) or {}}
        records.append({ROW: number, **{f.names[0]: path_value(whole, f.names[0]) for f in JSON_FIELDS}})
    return records
