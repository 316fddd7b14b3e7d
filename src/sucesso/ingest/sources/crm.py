"""Companies and contacts from a CRM's export → accounts and contacts (HubSpot, Salesforce).

A CRM preset (`Crm`) only says what its exports call the columns; this module maps them:

    accounts: account_id = the record's id; name; created_at; country; industry;
              csm_id = the owner, when the owner is a CSM of the workspace (by csm_id, e-mail or
              name); else the account keeps the CSM it has, and the owner goes into attributes
              (`owner`); the number of employees into attributes (`employees`: seats are the
              licensed seats, not the headcount), and every other column too
    contacts: contact_id = the record's id; account_id = the associated company (its id as an
              account_id, else its name as an account's exact name; of several ids the first, the
              primary); name = first + last name; email; role = the job title; created_at

A column the export does not have is not written (what the workspace holds stays). A contact
without a company is left out (a contact belongs to an account); a company that is no account
of the workspace is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sucesso.ingest.importer import ImportOptions, ImportReport
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import Progress
from sucesso.ingest.sources.base import ROW, Field, left_out, read_table, write
from sucesso.ingest.sources.matching import Accounts, Csms
from sucesso.store import Store

ACCOUNT_COLUMNS = {"account_id": "id", "name": "name", "created_at": "created_at", "country": "country",
                   "industry": "industry", "csm_id": "owner"}
CONTACT_COLUMNS = {"contact_id": "id", "email": "email", "role": "title", "created_at": "created_at"}


@dataclass(frozen=True)
class Crm:
    """What a CRM's exports call the columns (field keys: see ACCOUNT_COLUMNS and CONTACT_COLUMNS,
    plus `employees`; contacts: `account_id`/`account` for the company, `first_name`,
    `last_name`/`name`), and how its other columns are named in attributes."""

    name: str
    companies: tuple[Field, ...]
    contacts: tuple[Field, ...]
    attribute: Callable[[str], str] = str


def import_accounts(crm: Crm, store: Store, path: str, options: ImportOptions,
                    on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """A CRM's companies (accounts) export into accounts, all or nothing."""
    read = read_table(path, crm.companies, options, on_progress, keep_others=True)
    csms, accounts = Csms(store), Accounts(store)
    present = {c: k for c, k in ACCOUNT_COLUMNS.items() if k in read.columns}
    rows, owners, readable = [], [], read.readable()
    for row in readable:
        account = {ROW: row[ROW], **{c: row.get(k) for c, k in present.items()}, "account_id": str(row["id"])}
        csm_id = csms.find(row.get("owner"))
        if "csm_id" in present:  # an owner who is no CSM leaves the account's CSM as it is
            account["csm_id"] = csm_id or accounts.csm_of.get(account["account_id"])
        owners.append(row.get("owner") if csm_id is None else None)
        rows.append(account)
    others = {crm.attribute(o): [row["others"][o] for row in readable] for o in read.others}
    others |= {"employees": [row.get("employees") for row in readable], "owner": owners}
    labels = {c: read.columns[k] for c, k in present.items()}
    return [write(store, "accounts", read, rows, labels, [], others=others, on_phase=on_phase)]


def import_contacts(crm: Crm, store: Store, path: str, options: ImportOptions,
                    on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """A CRM's contacts export into contacts, each with its company's account, all or nothing."""
    read = read_table(path, crm.contacts, options, on_progress)
    company = read.columns.get("account_id") or read.columns.get("account")
    if company is None:
        names = [n for f in crm.contacts if f.key in ("account_id", "account") for n in f.names[:1]]
        raise RejectedFile(path, f"no column with the contact's company ({' or '.join(map(repr, names))}); "
                                 f"the file has: {', '.join([*read.columns.values(), *read.others])}")
    accounts = Accounts(store)
    present = {c: k for c, k in CONTACT_COLUMNS.items() if k in read.columns}
    named = [k for k in ("first_name", "last_name", "name") if k in read.columns]
    rows, problems, orphans = [], [], []
    for row in read.readable():
        primary = (row.get("account_id") or "").split(";")[0]
        account_id, expected = accounts.find([primary], row.get("account"))
        if account_id is None:
            if expected is None:
                orphans.append(row[ROW])
            else:
                problems.append(Problem(path, row[ROW], company, row.get("account") or primary, expected))
            continue
        contact = {ROW: row[ROW], **{c: row.get(k) for c, k in present.items()}, "contact_id": str(row["id"]),
                   "account_id": account_id}
        if named:
            contact["name"] = row.get("name") or " ".join(filter(None, (row.get("first_name"), row.get("last_name")))) \
                or None
        rows.append(contact)
    labels = {c: read.columns[k] for c, k in present.items()} | {"account_id": company}
    if named:
        labels["name"] = read.columns[named[0]]
    notes = [left_out("contacts", "a company", orphans)] if orphans else []
    return [write(store, "contacts", read, rows, labels, problems, notes=notes, on_phase=on_phase)]
