"""Import presets for the exports CS teams already have: support tickets (Zendesk, Movidesk),
CRM companies and contacts (HubSpot, Salesforce), Stripe's billing exports (ingest/stripe_csv.py)
and the spreadsheet template's workbook.

Each preset reads its tool's export, maps it onto canonical rows and writes them through the
importer: the same checks, all or nothing, a re-import changes nothing, and a problem names the
export's own row and column. `sucesso import zendesk FILE`, `POST /api/import/zendesk`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sucesso.ingest import stripe_csv
from sucesso.ingest.importer import ImportOptions, ImportReport
from sucesso.ingest.problems import RejectedFile
from sucesso.ingest.readers import Progress
from sucesso.ingest.sources import hubspot, movidesk, salesforce, workbook, zendesk
from sucesso.ingest.sources.base import no_mapping
from sucesso.store import Store


class Preset(NamedTuple):
    run: Callable[..., list[ImportReport]]  # (store, path, options, on_progress, on_phase)
    table: str  # what it writes
    maps_itself: bool = True  # --map and --skip-invalid do not apply


SOURCES: dict[str, Preset] = {
    "zendesk": Preset(zendesk.import_tickets, "tickets"),
    "movidesk": Preset(movidesk.import_tickets, "tickets"),
    "hubspot-companies": Preset(hubspot.import_companies, "accounts"),
    "hubspot-contacts": Preset(hubspot.import_people, "contacts"),
    "salesforce-accounts": Preset(salesforce.import_accounts_export, "accounts"),
    "salesforce-contacts": Preset(salesforce.import_contacts_export, "contacts"),
    "stripe-customers": Preset(stripe_csv.import_customers, "accounts"),
    "stripe-subscriptions": Preset(stripe_csv.import_subscriptions, "subscriptions"),
    "stripe-invoices": Preset(stripe_csv.import_invoices, "invoices"),
    "workbook": Preset(workbook.import_workbook, "workbook", maps_itself=False),
}


def is_source(name: str) -> bool:
    return name in SOURCES


def import_source(store: Store, name: str, path: str, options: ImportOptions | None = None,
                  on_progress: Progress | None = None, on_phase: Callable[[str], None] | None = None
                  ) -> list[ImportReport]:
    """Import `path`, an export of the source `name` (SOURCES), all or nothing: one report per
    table written; a file that cannot be read at all is one report with one problem."""
    preset = SOURCES[name]
    options = options or ImportOptions()
    on_phase = on_phase or (lambda _: None)
    try:
        if preset.maps_itself:
            no_mapping(path, options, name)
        on_phase("reading")
        return preset.run(store, path, options, on_progress, on_phase)
    except RejectedFile as exc:
        return [ImportReport(path, preset.table, problems=[exc.problem])]
