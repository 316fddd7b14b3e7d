"""HubSpot's companies and contacts exports (CSV or XLSX, as CRM > Export writes them) → accounts
and contacts (see `crm` for the mapping). The column names are the properties' labels, in
English or in Portuguese ("Record ID"/"ID do registro", "Company name", "Company owner",
"Create Date", "Country/Region", "Industry", "Number of Employees"; for contacts "First Name",
"Last Name", "Email", "Job Title" and the association: "Associated Company IDs" or
"Associated Company")."""

from __future__ import annotations

from functools import partial

from sucesso.ingest.sources.base import Field
from sucesso.ingest.sources.crm import Crm, import_accounts, import_contacts

RECORD_ID = ("Record ID", "ID do registro", "hs_object_id")
CREATED = ("Create Date", "Data de criação", "createdate")

HUBSPOT = Crm(
    "hubspot",
    companies=(
        Field("id", (*RECORD_ID, "Company ID"), required=True),
        Field("name", ("Company name", "Nome da empresa", "name")),
        Field("created_at", CREATED, "timestamp"),
        Field("owner", ("Company owner", "Proprietário da empresa", "hubspot_owner_id")),
        Field("country", ("Country/Region", "País/região", "country")),
        Field("industry", ("Industry", "Setor")),
        Field("employees", ("Number of Employees", "Número de funcionários", "numberofemployees")),
    ),
    contacts=(
        Field("id", (*RECORD_ID, "Contact ID"), required=True),
        Field("account_id", ("Associated Company IDs", "Associated Company ID", "Primary Associated Company ID",
                             "Associated Company IDs (Primary)", "Company ID", "associatedcompanyid")),
        Field("account", ("Associated Company", "Primary Associated Company", "Company Name", "Empresa associada")),
        Field("first_name", ("First Name", "Nome", "firstname")),
        Field("last_name", ("Last Name", "Sobrenome", "lastname")),
        Field("email", ("Email", "E-mail")),
        Field("title", ("Job Title", "Cargo", "jobtitle")),
        Field("created_at", CREATED, "timestamp"),
    ),
)

import_companies = partial(import_accounts, HUBSPOT)
import_people = partial(import_contacts, HUBSPOT)
