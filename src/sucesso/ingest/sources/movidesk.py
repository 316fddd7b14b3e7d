"""Movidesk's tickets, with their actions → tickets.

The export is the JSON of Movidesk's tickets API (`GET /public/v1/tickets` with
`$expand=clients($expand=organization),actions($expand=createdBy)`): a list of tickets.

    ticket_id           = id
    account_id          = the first client's organization (clients[0].organization: its id as an
                          account_id, else its businessName as an account's exact name), or the client
                          itself when it is a company (personType 2); a ticket without one is left out
    contact_id          = the first client, when a person who is a contact (by id, else e-mail)
    opened_at           = createdDate
    first_response_at   = the first public action (type 2) by an agent after the ticket's first
                          action (the request itself); without actions in the export, slaRealResponseDate
    resolved_at         = resolvedIn (else closedIn)
    contacts_to_resolve = the public agent actions up to the resolution, at least 1, for a resolved
                          ticket (FCR: resolved with at most one agent reply)
    channel             = origin, named (3 → email, 5 → chat, 18 → whatsapp, …)
    category, priority  = category, urgency (lower-case)

An agent is a person whose profile is agent (profileType 1, or 3 "agent and client") and who is not
one of the ticket's clients. Deleted actions do not count.
"""

from __future__ import annotations

import datetime as dt

from sucesso.ingest.importer import ImportOptions, ImportReport
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import Progress
from sucesso.ingest.sources.base import (
    ROW,
    Field,
    is_json,
    left_out,
    load_json,
    lower,
    objects,
    path_value,
    read_records,
    write,
)
from sucesso.ingest.sources.matching import Accounts, Contacts
from sucesso.store import Store

TICKET = (
    Field("id", ("id",), required=True),
    Field("created", ("createdDate",), "timestamp", required=True),
    Field("resolved", ("resolvedIn",), "timestamp"),
    Field("closed", ("closedIn",), "timestamp"),
    Field("real_response", ("slaRealResponseDate",), "timestamp"),
    Field("origin", ("origin",), "int"),
    Field("category", ("category",)),
    Field("urgency", ("urgency",)),
    Field("client_id", ("clients.id",)),
    Field("client_email", ("clients.email",)),
    Field("client_type", ("clients.personType",), "int"),
    Field("client_name", ("clients.businessName",)),
    Field("organization_id", ("clients.organization.id",)),
    Field("organization", ("clients.organization.businessName",)),
)
ACTION = (
    Field("id", ("actions.id",), "int"),
    Field("type", ("actions.type",), "int"),
    Field("created", ("actions.createdDate",), "timestamp"),
    Field("author_id", ("actions.createdBy.id",)),
    Field("author_profile", ("actions.createdBy.profileType",), "int"),
    Field("deleted", ("actions.isDeleted",), "bool"),
)
PUBLIC, AGENT_PROFILES, COMPANY = 2, (1, 3), 2
CHANNELS = {  # the API's origin codes (its documentation's names, shortened)
    1: "web", 2: "web", 3: "email", 4: "trigger", 5: "chat", 6: "chat", 7: "email", 8: "form", 9: "api",
    10: "schedule", 11: "jira", 12: "redmine", 13: "phone", 14: "phone", 15: "phone", 16: "phone",
    17: "remote access", 18: "whatsapp", 19: "movidesk", 20: "chat", 21: "phone", 22: "facebook messenger",
    23: "whatsapp", 24: "chat", 25: "whatsapp",
}


def import_tickets(store: Store, path: str, options: ImportOptions, on_progress: Progress | None = None,
                   on_phase=None) -> list[ImportReport]:
    """A Movidesk tickets export (JSON) into tickets, all or nothing."""
    if not is_json(path, options):
        raise RejectedFile(path, "a Movidesk export is the JSON of its tickets API (a .json file)")
    tickets, actions, clients, with_actions = _records(path, load_json(path, options))
    read = read_records(path, TICKET, tickets, options)
    acted = read_records(path, ACTION, actions, options) if actions else None
    by_ticket: dict[int, list[dict]] = {}
    for action in acted.rows if acted else []:
        by_ticket.setdefault(action[ROW], []).append(action)
    accounts, contacts = Accounts(store), Contacts(store)
    rows, problems, orphans = [], list(acted.problems) if acted else [], []
    for row in read.readable(*([acted] if acted else [])):
        column, ids, name = _customer(row)
        account_id, expected = accounts.find(ids, name) if column else (None, None)
        if account_id is None:
            if expected is None:
                orphans.append(row[ROW])
            else:
                problems.append(Problem(path, row[ROW], column, name or ids[0], expected))
            continue
        person = row.get("client_type") != COMPANY
        contact_id = contacts.find(row.get("client_id"), row.get("client_email")) if person else None
        replies = agent_replies(by_ticket.get(row[ROW], []), clients[row[ROW]]) if row[ROW] in with_actions else None
        rows.append({ROW: row[ROW], "account_id": account_id, "contact_id": contact_id, **ticket(row, replies)})
    labels = {"ticket_id": "id", "account_id": "clients.organization.businessName", "contact_id": "clients.id",
              "opened_at": "createdDate", "first_response_at": "actions.createdDate", "resolved_at": "resolvedIn",
              "contacts_to_resolve": "actions.type", "channel": "origin", "category": "category",
              "priority": "urgency"}
    notes = [left_out("tickets", "an organization", orphans)] if orphans else []
    if not with_actions:
        notes.append("the tickets come without their actions: expand actions($expand=createdBy) in the export "
                     "for first replies and FCR")
    return [write(store, "tickets", read, rows, labels, problems, notes=notes, on_phase=on_phase)]


def agent_replies(actions: list[dict], client_ids: set[str]) -> list[dict]:
    """The public actions by an agent after the ticket's first one (the request), oldest first."""
    ordered = sorted(actions, key=lambda a: (a.get("id") or 0, a.get("created") or dt.datetime.min))
    return [a for a in ordered[1:] if a.get("type") == PUBLIC and a.get("author_profile") in AGENT_PROFILES
            and a.get("author_id") not in client_ids and a.get("created") is not None and not a.get("deleted")]


def ticket(row: dict, replies: list[dict] | None) -> dict:
    """A Movidesk ticket's canonical values, but its account and contact (see the module's docstring);
    `replies`: its public agent actions, None when the export has no actions."""
    opened, resolved = row["created"], row.get("resolved") or row.get("closed")
    if replies is None:
        first, contacts = row.get("real_response"), None
    else:
        after = [a["created"] for a in replies if a["created"] >= opened]
        first = after[0] if after else None
        contacts = max(1, sum(1 for a in replies if a["created"] <= resolved)) if resolved else None
    origin = row.get("origin")
    return {
        "ticket_id": str(row["id"]),
        "opened_at": opened,
        "first_response_at": first,
        "resolved_at": resolved,
        "contacts_to_resolve": contacts,
        "channel": CHANNELS.get(origin, f"origin {origin}") if origin is not None else None,
        "category": lower(row.get("category")),
        "priority": lower(row.get("urgency")),
    }


def _customer(row: dict) -> tuple[str | None, list, object]:
    """Where a ticket's account is named — (column, ids, name) — or (None, [], None) when its
    client is a person without an organization."""
    if row.get("organization_id") or row.get("organization"):
        return "clients.organization", [row.get("organization_id")], row.get("organization")
    if row.get("client_type") in (None, COMPANY):
        return "clients", [row.get("client_id")], row.get("client_name")
    return None, [], None


def _records(path: str, document: object) -> tuple[list[dict], list[dict], dict[int, set[str]], set[int]]:
    """The tickets flattened to TICKET's names (their first client), their actions flattened to
    ACTION's (with the ticket's row), each ticket's client ids, and the tickets that list actions."""
    if isinstance(document, dict):
        document = document.get("value", [document])  # an OData page, or one ticket
    tickets = objects(path, document, "tickets")
    if not any("createdDate" in t for t in tickets):
        raise RejectedFile(path, "these are not Movidesk tickets (no createdDate)")
    records, actions, clients, with_actions = [], [], {}, set()
    for number, t in enumerate(tickets, 1):
        people = [c for c in t.get("clients") or [] if isinstance(c, dict)]
        clients[number] = {str(c["id"]) for c in people if c.get("id") is not None}
        whole = {**t, "clients": people[0] if people else {}}
        records.append({ROW: number, **{f.names[0]: path_value(whole, f.names[0]) for f in TICKET}})
        if isinstance(t.get("actions"), list):
            with_actions.add(number)
            for action in t["actions"]:
                whole = {"actions": action if isinstance(action, dict) else {}}
                actions.append({ROW: number, **{f.names[0]: path_value(whole, f.names[0]) for f in ACTION}})
    return records, actions, clients, with_actions
