"""The spreadsheet template for teams that keep everything in spreadsheets (`sucesso template`).

One XLSX workbook: a README sheet (LEIA-ME in Portuguese) documenting every column of every
table — its type, whether it is required, the values it allows, an example — then one sheet per
canonical table, parents first, its header row in the chosen language (English: the canonical
names; Portuguese: the names `ingest.headers` gives, which the importer reads as well), a drop-down
list on every column with a fixed set of values, and example rows of one small, consistent
company, so that the template imports as it is. `sucesso import workbook FILE.xlsx` imports
every sheet at once (`ingest.sources.workbook`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sucesso.i18n import N_, gettext_for
from sucesso.ingest.headers import header, sheet_name
from sucesso.store.schema import CANONICAL, Column, Table

BOOLEANS = {"en": ("true", "false"), "pt_BR": ("sim", "não")}
VALIDATED_ROWS = 5_000  # the drop-down lists cover this many rows under the header

TYPES = {
    "text": N_("text"), "int": N_("whole number"), "decimal": N_("amount (2 decimals)"), "double": N_("number"),
    "bool": N_("true or false"), "timestamp": N_("date, optionally with a time"), "date": N_("date"),
    "json": N_("JSON object"),
}

DESCRIPTIONS = {  # "column", or "table.column" where a table means something else by it
    "csm_id": N_("The CSM's identifier, as your team calls them"),
    "csms.name": N_("The CSM's name"),
    "csms.email": N_("The CSM's e-mail"),
    "csms.role": N_("What the person does in the CS team"),
    "active": N_("Still in the team"),
    "account_id": N_("The customer's identifier in your systems"),
    "accounts.name": N_("The customer's name"),
    "segment": N_("The customer's segment (SMB, Mid-market, Enterprise, …)"),
    "plan": N_("The plan the customer is on"),
    "accounts.csm_id": N_("The CSM in charge of the customer (a csm_id of the csms sheet)"),
    "touch_model": N_("How the customer is served: high touch, low touch or tech touch"),
    "accounts.created_at": N_("When the customer signed up"),
    "country": N_("The customer's country"),
    "industry": N_("The customer's industry"),
    "seats": N_("Licensed seats (users the contract allows)"),
    "attributes": N_("Anything else, as a JSON object; extra columns of this sheet are added to it"),
    "contact_id": N_("The person's identifier"),
    "contacts.account_id": N_("The customer the person works for"),
    "contacts.name": N_("The person's name"),
    "contacts.email": N_("The person's e-mail"),
    "contacts.role": N_("The person's job title or role"),
    "contacts.created_at": N_("When the person became a contact"),
    "subscription_id": N_("The subscription's identifier"),
    "subscriptions.plan": N_("The plan subscribed to"),
    "mrr": N_("Monthly recurring revenue of the subscription (an annual plan: its price / 12)"),
    "currency": N_("Currency code (BRL, USD, …); empty: the workspace's"),
    "quantity": N_("Units subscribed (seats, licences)"),
    "started_at": N_("When the subscription started"),
    "ended_at": N_("When it ended (empty: still active); a plan change ends one row and starts another"),
    "invoice_id": N_("The invoice's identifier"),
    "issued_at": N_("When the invoice was issued"),
    "due_at": N_("When it is due"),
    "paid_at": N_("When it was paid (empty: not paid)"),
    "invoices.amount": N_("The invoice's total"),
    "invoices.category": N_("What it charges for (subscription, services, …)"),
    "status": N_("The invoice's status"),
    "event_id": N_("The event's identifier"),
    "usage_events.contact_id": N_("The person who did it (optional)"),
    "usage_events.event": N_("What was done in the product (a name your product uses)"),
    "usage_events.occurred_at": N_("When it was done"),
    "properties": N_("Details of the event, as a JSON object"),
    "features.event": N_("The usage event that means the feature was used"),
    "features.name": N_("The feature's name, as people read it"),
    "is_key": N_("A key feature (counts for adoption)"),
    "features.milestone": N_("The milestone reached the first time it is used (optional)"),
    "milestones.milestone": N_("The milestone: activated, first_value, first_success, onboarding_completed, …"),
    "reached_at": N_("When the customer reached it"),
    "ticket_id": N_("The ticket's identifier"),
    "tickets.contact_id": N_("The person who opened it (optional)"),
    "opened_at": N_("When the ticket was opened"),
    "first_response_at": N_("When the customer first got an answer"),
    "resolved_at": N_("When it was resolved (empty: still open)"),
    "contacts_to_resolve": N_("How many contacts it took to resolve it (1: resolved at the first contact)"),
    "tickets.channel": N_("Where it came in (email, chat, phone, …)"),
    "tickets.category": N_("What it was about"),
    "priority": N_("Its priority"),
    "response_id": N_("The answer's identifier"),
    "survey_responses.contact_id": N_("The person who answered (optional)"),
    "survey": N_("The survey: nps, csat or ces"),
    "score": N_("The score given"),
    "scale_min": N_("The lowest score of the scale (empty: 0 for NPS, 1 for CSAT and CES)"),
    "scale_max": N_("The highest score of the scale (empty: 10 for NPS, 5 for CSAT, 7 for CES)"),
    "comment": N_("What the person wrote"),
    "touchpoint": N_("When it was asked (onboarding, quarterly, after a ticket, …)"),
    "answered_at": N_("When it was answered"),
    "activity_id": N_("The activity's identifier"),
    "cs_activities.csm_id": N_("The CSM who did it (optional)"),
    "kind": N_("onboarding, success_review, proactive_call, follow_up, training, …"),
    "cs_activities.occurred_at": N_("When it happened"),
    "notes": N_("Notes"),
    "request_id": N_("The request's identifier"),
    "requested_at": N_("When the customer asked to cancel"),
    "reason_code": N_("Why (a code of the workspace's churn reasons: price, missing_feature, …)"),
    "reason_detail": N_("The reason in the customer's words"),
    "voluntary": N_("The customer chose to leave (false: e.g. a failed payment)"),
    "outcome": N_("pending, recovered (the customer stayed) or churned"),
    "decided_at": N_("When the outcome was decided"),
    "month": N_("The month (its first day)"),
    "acquisition_spend.channel": N_("The acquisition channel (ads, events, partners, …)"),
    "acquisition_spend.amount": N_("What was spent on it in the month"),
    "referral_id": N_("The referral's identifier"),
    "referrals.account_id": N_("The customer who referred"),
    "referred_account_id": N_("The customer referred, once it is one (optional)"),
    "referrals.occurred_at": N_("When the referral was made"),
    "kpi": N_("The KPI's key (METRICS.md: nrr, logo_churn_rate, nps, …)"),
    "period_start": N_("First day of the period"),
    "period_end": N_("Day after the period's last day"),
    "target": N_("The target (rates as fractions: 5% is 0.05)"),
    "direction": N_("higher: above the target is good; lower: below it is"),
}


def _t(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm)


EXAMPLES: dict[str, list[dict]] = {  # one small company, consistent across the sheets
    "csms": [
        {"csm_id": "c1", "name": "Ana Souza", "email": "ana@example.com", "role": "csm", "active": True},
        {"csm_id": "c2", "name": "Bruno Lima", "email": "bruno@example.com", "role": "manager", "active": True},
    ],
    "accounts": [
        {"account_id": "a1", "name": "Padaria Pão Quente", "segment": "SMB", "plan": "Pro", "csm_id": "c1",
         "touch_model": "low", "created_at": _t(2023, 1, 10, 9), "country": "BR", "industry": "Food",
         "seats": 5, "attributes": '{"region": "South"}'},
        {"account_id": "a2", "name": "Oficina Bom Motor", "segment": "SMB", "plan": "Basic", "csm_id": "c2",
         "touch_model": "tech", "created_at": _t(2023, 2, 20, 14), "country": "BR", "industry": "Automotive",
         "seats": 2},
    ],
    "contacts": [
        {"contact_id": "p1", "account_id": "a1", "name": "Carla Dias", "email": "carla@padaria.example",
         "role": "Owner", "created_at": _t(2023, 1, 10, 9)},
        {"contact_id": "p2", "account_id": "a2", "name": "Marcos Lima", "email": "marcos@bommotor.example",
         "role": "Manager", "created_at": _t(2023, 2, 21, 10)},
    ],
    "subscriptions": [
        {"subscription_id": "s1", "account_id": "a1", "plan": "Pro", "mrr": Decimal("299.90"), "currency": "BRL",
         "quantity": 5, "started_at": _t(2023, 1, 10)},
        {"subscription_id": "s2", "account_id": "a2", "plan": "Basic", "mrr": Decimal("99.00"), "currency": "BRL",
         "quantity": 2, "started_at": _t(2023, 2, 20), "ended_at": _t(2024, 2, 20)},
    ],
    "invoices": [
        {"invoice_id": "i1", "account_id": "a1", "issued_at": _t(2024, 5, 1), "due_at": _t(2024, 5, 10),
         "paid_at": _t(2024, 5, 8), "amount": Decimal("299.90"), "currency": "BRL", "category": "subscription",
         "status": "paid"},
        {"invoice_id": "i2", "account_id": "a2", "issued_at": _t(2024, 1, 1), "due_at": _t(2024, 1, 10),
         "amount": Decimal("99.00"), "currency": "BRL", "category": "subscription", "status": "open"},
    ],
    "usage_events": [
        {"event_id": "e1", "account_id": "a1", "contact_id": "p1", "event": "report_exported",
         "occurred_at": _t(2024, 5, 2, 14), "properties": '{"format": "pdf"}'},
        {"event_id": "e2", "account_id": "a2", "event": "login", "occurred_at": _t(2024, 1, 5, 8, 30)},
    ],
    "features": [
        {"event": "report_exported", "name": "Report export", "is_key": True, "milestone": "first_value"},
        {"event": "login", "name": "Login", "is_key": False},
    ],
    "milestones": [
        {"account_id": "a1", "milestone": "activated", "reached_at": _t(2023, 1, 12)},
        {"account_id": "a1", "milestone": "first_value", "reached_at": _t(2023, 1, 20)},
    ],
    "tickets": [
        {"ticket_id": "t1", "account_id": "a1", "contact_id": "p1", "opened_at": _t(2024, 5, 2, 10),
         "first_response_at": _t(2024, 5, 2, 11, 30), "resolved_at": _t(2024, 5, 2, 15), "contacts_to_resolve": 1,
         "channel": "email", "category": "billing", "priority": "normal"},
        {"ticket_id": "t2", "account_id": "a2", "opened_at": _t(2024, 5, 3, 9), "channel": "chat",
         "category": "bug", "priority": "high"},
    ],
    "survey_responses": [
        {"response_id": "r1", "account_id": "a1", "contact_id": "p1", "survey": "nps", "score": 9,
         "comment": "Great support", "touchpoint": "quarterly", "answered_at": _t(2024, 5, 5, 10)},
        {"response_id": "r2", "account_id": "a2", "survey": "csat", "score": 4, "scale_min": 1, "scale_max": 5,
         "touchpoint": "after a ticket", "answered_at": _t(2024, 5, 6, 16)},
    ],
    "cs_activities": [
        {"activity_id": "act1", "account_id": "a1", "csm_id": "c1", "kind": "onboarding",
         "occurred_at": _t(2023, 1, 11, 10), "notes": "Kick-off call"},
        {"activity_id": "act2", "account_id": "a2", "csm_id": "c2", "kind": "proactive_call",
         "occurred_at": _t(2024, 4, 10, 16)},
    ],
    "churn_requests": [
        {"request_id": "cr1", "account_id": "a2", "requested_at": _t(2024, 1, 15, 11), "reason_code": "price",
         "reason_detail": "Found a cheaper tool", "voluntary": True, "outcome": "churned",
         "decided_at": _t(2024, 2, 1, 9)},
    ],
    "acquisition_spend": [
        {"month": dt.date(2024, 5, 1), "channel": "google_ads", "amount": Decimal("1500.00")},
        {"month": dt.date(2024, 5, 1), "channel": "events", "amount": Decimal("800.00")},
    ],
    "referrals": [
        {"referral_id": "ref1", "account_id": "a1", "referred_account_id": "a2", "occurred_at": _t(2023, 2, 15)},
    ],
    "targets": [
        {"kpi": "nrr", "period_start": dt.date(2024, 1, 1), "period_end": dt.date(2025, 1, 1), "target": 1.05,
         "direction": "higher"},
        {"kpi": "logo_churn_rate", "period_start": dt.date(2024, 1, 1), "period_end": dt.date(2025, 1, 1),
         "target": 0.02, "direction": "lower"},
    ],
}

GUIDE = (
    N_("How to use this workbook"),
    N_("1. Fill one sheet per table, keeping its first row (the column names) as it is. The example rows "
       "show the format: replace them with your data. A sheet you do not use can stay empty."),
    N_("2. Import the whole workbook: sucesso import workbook %(file)s — or one sheet: "
       "sucesso import accounts %(file)s --sheet %(sheet)s"),
    N_("3. Nothing is written unless every row of every sheet is valid; the problems name the sheet, the row "
       "and the column. Importing the same workbook again changes nothing."),
    N_("Dates: a date cell, or text such as 2024-12-31 or 31/12/2024 (day first; for month first use "
       "--date-format mm/dd/yyyy). Amounts: a number cell, or text such as 1.234,56 or 1,234.56."),
    N_("An identifier (account_id, contact_id, …) is yours to choose; the same one in another sheet links the "
       "rows (a contact's account_id is an account_id of the accounts sheet)."),
)
COLUMNS_HEADER = (N_("Sheet"), N_("Column"), N_("Type"), N_("Required"), N_("Allowed values"), N_("Example"),
                  N_("Description"))


def description(table: Table, column: str) -> str:
    return DESCRIPTIONS.get(f"{table.name}.{column}", DESCRIPTIONS.get(column, ""))


def allowed(table: Table, col: Column, language: str, _) -> str:
    """The values a column allows, in words."""
    if col.enum:
        return ", ".join(col.enum)
    if col.type == "bool":
        return ", ".join(BOOLEANS[language])
    if col.references:
        target, column = col.references.split(".")
        return _("%(column)s from the %(sheet)s sheet", column=header(table, column, language),
                 sheet=sheet_name(next(t for t in CANONICAL if t.name == target), language))
    if col.min is not None:
        return f"≥ {col.min:g}"
    return ""


def cell(col: Column, value, language: str):
    """An example value as the template writes it (booleans in the sheet's language)."""
    if col.type == "bool" and value is not None:
        return BOOLEANS[language][0 if value else 1]
    return value


def write_template(path: str, language: str = "en") -> None:
    """Write the template workbook to `path`, its headers and README in `language` (en or pt_BR)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    _ = gettext_for(language)
    language = _.language
    book = Workbook()
    readme = book.active
    readme.title = "LEIA-ME" if language == "pt_BR" else "README"
    _write_readme(readme, path, language, _)
    for table in CANONICAL:
        sheet = book.create_sheet(sheet_name(table, language))
        sheet.append([header(table, c.name, language) for c in table.columns])
        for row in EXAMPLES.get(table.name, []):
            sheet.append([cell(c, row.get(c.name), language) for c in table.columns])
        for i, col in enumerate(table.columns, 1):
            letter = get_column_letter(i)
            sheet.column_dimensions[letter].width = max(14, len(header(table, col.name, language)) + 4)
            sheet.cell(1, i).font = Font(bold=True)
            for r in range(2, sheet.max_row + 1):
                sheet.cell(r, i).number_format = _number_format(col, language)
            choices = col.enum or (BOOLEANS[language] if col.type == "bool" else None)
            if choices:
                rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                      showErrorMessage=True, errorTitle=_("Allowed values"),
                                      error=", ".join(choices))
                rule.add(f"{letter}2:{letter}{VALIDATED_ROWS + 1}")
                sheet.add_data_validation(rule)
        sheet.freeze_panes = "A2"
    book.save(path)


def _write_readme(sheet, path: str, language: str, _) -> None:
    from pathlib import Path

    from openpyxl.styles import Font

    first = sheet_name(CANONICAL[1], language)
    for i, line in enumerate(GUIDE):
        sheet.append([_(line, file=Path(path).name, sheet=first)])
        if i == 0:
            sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append([_(h) for h in COLUMNS_HEADER])
    for c in range(1, len(COLUMNS_HEADER) + 1):
        sheet.cell(sheet.max_row, c).font = Font(bold=True)
    for table in CANONICAL:
        example = (EXAMPLES.get(table.name) or [{}])[0]
        for col in table.columns:
            required = col.required and not col.default
            value = cell(col, example.get(col.name), language)
            sheet.append([sheet_name(table, language), header(table, col.name, language), _(TYPES[col.type]),
                          _("yes") if required else _("no"), allowed(table, col, language, _),
                          _example_text(value, col, language), _(description(table, col.name))])
    for letter, width in zip("ABCDEFG", (22, 26, 26, 10, 34, 24, 70), strict=True):
        sheet.column_dimensions[letter].width = width


def _number_format(col: Column, language: str) -> str:
    day = "dd/mm/yyyy" if language == "pt_BR" else "yyyy-mm-dd"
    return {"timestamp": f"{day} hh:mm", "date": day, "decimal": "#,##0.00"}.get(col.type, "General")


def _example_text(value, col: Column, language: str) -> str:
    """An example as text for the README (dates in the language's order)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M" if language == "pt_BR" else "%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y" if language == "pt_BR" else "%Y-%m-%d")
    if isinstance(value, Decimal) and language == "pt_BR":
        return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return str(value)

