"""Finding a source's customers, people and owners among the workspace's rows.

An organization (Zendesk, Movidesk) or a company (HubSpot, Salesforce) is an account when its id
is an account_id of the workspace, else when its name is exactly (spaces around aside) the name of
one account; a name two accounts share finds neither, and the problem says so. A requester or
client is a contact when its id is a contact_id, else when its e-mail is a contact's (any case).
An owner is a CSM when it is a csm_id, a CSM's e-mail (any case) or a CSM's name (any case).
"""

from __future__ import annotations

from collections.abc import Iterable

from sucesso.store import Store

ACCOUNT_EXPECTED = "an account of the workspace: its account_id or its exact name (import the accounts first)"


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class Accounts:
    """The workspace's accounts, by id and by name."""

    def __init__(self, store: Store):
        rows = store.fetchall("SELECT account_id, name, csm_id FROM accounts")
        self.csm_of = {a: c for a, _, c in rows}
        self.by_name: dict[str, list[str]] = {}
        for account_id, name, _ in rows:
            self.by_name.setdefault(name.strip(), []).append(account_id)

    def find(self, ids: Iterable[object], name: object) -> tuple[str | None, str | None]:
        """(account_id, None) when found; (None, what was expected) when not; (None, None) when
        neither an id nor a name is given."""
        ids = [i for i in map(_text, ids) if i]
        for account_id in ids:
            if account_id in self.csm_of:
                return account_id, None
        name = _text(name)
        if name is None:
            return None, (ACCOUNT_EXPECTED if ids else None)
        found = self.by_name.get(name, [])
        if len(found) > 1:
            return None, f"a name only one account has ({len(found)} accounts are named so: give the account_id)"
        return (found[0], None) if found else (None, ACCOUNT_EXPECTED)


class Contacts:
    """The workspace's contacts, by id and by e-mail."""

    def __init__(self, store: Store):
        rows = store.fetchall("SELECT contact_id, email FROM contacts")
        self.ids = {c for c, _ in rows}
        self.by_email = {e.strip().lower(): c for c, e in rows if e and e.strip()}

    def find(self, contact_id: object, email: object) -> str | None:
        contact_id, email = _text(contact_id), _text(email)
        if contact_id in self.ids:
            return contact_id
        return self.by_email.get(email.lower()) if email else None


class Csms:
    """The workspace's CSMs, by id, e-mail or name."""

    def __init__(self, store: Store):
        self.names: dict[str, str] = {}
        for csm_id, name, email in store.fetchall("SELECT csm_id, name, email FROM csms"):
            for key in (name, email):
                if key and key.strip():
                    self.names.setdefault(key.strip().lower(), csm_id)
            self.names[csm_id.strip().lower()] = csm_id  # an id wins over a name that reads the same

    def find(self, owner: object) -> str | None:
        owner = _text(owner)
        return self.names.get(owner.lower()) if owner else None
