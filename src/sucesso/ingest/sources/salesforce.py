"""Salesforce's Account and Contact exports → accounts and contacts (see `crm` for the mapping).

Read: a Data Loader (or Data Export) CSV, whose columns are the API names ("Id", "Name", "Type",
"Industry", "BillingCountry", "OwnerId", "CreatedDate", "NumberOfEmployees"; contacts "Id",
"AccountId", "FirstName", "LastName", "Email", "Title"), or a report's export, whose columns are
the labels ("Account ID", "Account Name", "Account Owner", "Billing Country", "Employees"; contacts
"Contact ID", "Account ID", "First Name", "Last Name", "Title"). The other columns go into the
account's attributes, API names spelled apart (AnnualRevenue → annual_revenue). The owner is
matched as a CSM by csm_id (a team that uses the Salesforce user ids), e-mail or name.
"""

from __future__ import annotations

import re
from functools import partial

from sucesso.ingest.sources.base import Field
from sucesso.ingest.sources.crm import Crm, import_accounts, import_contacts

CREATED = ("CreatedDate", "Created Date")


def words(api_name: str) -> str:
    """"AnnualRevenue" → "Annual Revenue" (then normalised to annual_revenue in attributes)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", api_name)


SALESFORCE = Crm(
    "salesforce",
    companies=(
        Field("id", ("Id", "Account ID", "Account.Id"), required=True),
        Field("name", ("Name", "Account Name")),
        Field("created_at", CREATED, "timestamp"),
        Field("owner", ("OwnerId", "Account Owner", "Owner.Name", "Owner Name", "Owner.Email")),
        Field("country", ("BillingCountry", "Billing Country")),
        Field("industry", ("Industry",)),
        Field("employees", ("NumberOfEmployees", "Employees")),
    ),
    contacts=(
        Field("id", ("Id", "Contact ID"), required=True),
        Field("account_id", ("AccountId", "Account ID")),
        Field("account", ("Account.Name", "Account Name")),
        Field("first_name", ("FirstName", "First Name")),
        Field("last_name", ("LastName", "Last Name")),
        Field("name", ("Name", "Full Name")),
        Field("email", ("Email",)),
        Field("title", ("Title",)),
        Field("created_at", CREATED, "timestamp"),
    ),
    attribute=words,
)

import_accounts_export = partial(import_accounts, SALESFORCE)
import_contacts_export = partial(import_contacts, SALESFORCE)
