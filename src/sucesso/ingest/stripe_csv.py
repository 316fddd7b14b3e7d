"""The Stripe Dashboard's CSV exports (Customers, Subscriptions, Invoices > Export) → accounts,
subscriptions and invoices, mapped as the webhook maps Stripe's objects (`ingest.stripe`), and
written as `sucesso import` writes: all or nothing, a problem naming the export's row and column,
a re-import changing nothing.

Columns read (any spelling; amounts in units, as the exports write them, times in UTC):
  customers.csv      id, Name, Description, Email, Created (UTC), Address Country, and the metadata
                     columns "sucesso_account_id (metadata)" / "account_id (metadata)" (the link to
                     an account of the workspace, as the webhook reads metadata)
  subscriptions.csv  id, Customer ID, Status, Plan (older exports; its id or name) or Price /
                     Product (newer ones), Quantity, Amount (per unit and interval), Currency,
                     Interval, Interval Count, Start Date (UTC) (else Start (UTC), else Created
                     (UTC)), Ended At (UTC), Canceled At (UTC), Trial End (UTC), Current Period
                     Start (UTC)
  invoices.csv       id, Customer, Amount Due (else Total), Currency, Status (else Paid), Date (UTC)
                     (else Created (UTC)), Due Date (UTC), Paid At (UTC)

An export is a snapshot: a subscription's row holds the MRR the export says. Imported again later
with another MRR, the row ends at the export's Current Period Start (else at the import) and the
next row starts, as a webhook update would. A subscription's customer must be known (import
customers.csv first, or have the account). Rows the webhook keeps up to date are left out (its
state is newer), as are draft invoices and subscriptions that never started (incomplete); each
left-out group is noted on the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sucesso.ingest.importer import ImportOptions, ImportReport
from sucesso.ingest.problems import Problem, RejectedFile
from sucesso.ingest.readers import Progress
from sucesso.ingest.sources.base import ROW, Field, Read, lower, no_mapping, read_table, write
from sucesso.ingest.stripe import (
    ENDED,
    NOT_STARTED,
    PER_MONTH,
    Customer,
    History,
    Item,
    Tracked,
    Unwritable,
    account_row,
    delete_subscriptions,
    existing_accounts,
    lapsed,
    move_customer,
    rank,
    save,
    snapshot,
    tracked_all,
    write_rows,
)
from sucesso.store import Store

CUSTOMER_FIELDS = (
    Field("id", ("id", "Customer ID"), required=True),
    Field("name", ("Name", "Customer Name")),
    Field("description", ("Description",)),
    Field("email", ("Email", "Customer Email")),
    Field("created", ("Created (UTC)", "Created"), "timestamp"),
    Field("country", ("Address Country", "Country", "Billing Address Country", "Shipping Address Country")),
    Field("sucesso_account_id", ("sucesso_account_id (metadata)",)),
    Field("account_id", ("account_id (metadata)",)),
)
SUBSCRIPTION_FIELDS = (
    Field("id", ("id", "Subscription ID"), required=True),
    Field("customer", ("Customer ID", "Customer"), required=True),
    Field("status", ("Status",), required=True),
    Field("plan", ("Plan", "Plan Nickname", "Plan Name", "Product Name", "Product", "Price Nickname", "Price",
                   "Plan price ID", "Price ID")),
    Field("quantity", ("Quantity",), "int", min=0),
    Field("amount", ("Amount", "Plan Amount", "Price Amount", "Unit Amount"), "decimal", expected=True, min=0),
    Field("currency", ("Currency", "Plan Currency", "Price Currency")),
    Field("interval", ("Interval", "Plan Interval", "Price Interval"), expected=True),
    Field("interval_count", ("Interval Count", "Plan Interval Count", "Price Interval Count"), "int", min=1),
    Field("started", ("Start Date (UTC)", "Start (UTC)", "Created (UTC)"), "timestamp", required=True),
    Field("ended", ("Ended At (UTC)",), "timestamp"),
    Field("canceled", ("Canceled At (UTC)",), "timestamp"),
    Field("trial_end", ("Trial End (UTC)",), "timestamp"),
    Field("period_start", ("Current Period Start (UTC)",), "timestamp"),
)
INVOICE_FIELDS = (
    Field("id", ("id", "Invoice ID"), required=True),
    Field("customer", ("Customer", "Customer ID"), required=True),
    Field("amount", ("Amount Due", "Total", "Amount"), "decimal", expected=True),
    Field("currency", ("Currency",)),
    Field("status", ("Status",)),
    Field("paid", ("Paid",), "bool"),
    Field("issued", ("Date (UTC)", "Created (UTC)"), "timestamp", required=True),
    Field("due", ("Due Date (UTC)",), "timestamp"),
    Field("paid_at", ("Paid At (UTC)",), "timestamp"),
)
STATUSES = ("draft", "open", "paid", "void", "uncollectible")
KNOWN_CUSTOMER = ("a Stripe customer imported before (sucesso stripe import customers FILE) or an account_id "
                  "of the workspace")


def _read(path: str, fields: tuple[Field, ...], options: ImportOptions | None,
          on_progress: Progress | None) -> Read:
    options = options or ImportOptions()
    no_mapping(path, options, "Stripe")
    return read_table(path, fields, options, on_progress)


def _write(store: Store, table_name: str, read: Read, rows: list[dict], labels: dict[str, str],
           problems: list[Problem], notes: list[str], objects: list[Tracked], on_phase,
           moves: list[tuple[str, str, str]] = (), earlier: list[dict] = (), lapsed: list[str] = ()
           ) -> list[ImportReport]:
    """The rows, and what is known of the Stripe objects behind them, in one transaction. A
    subscription's `earlier` rows (known before; one ends where the export's row starts) follow
    the rows of the file, and the rows of segments that no longer last go."""
    try:
        with store.transaction():
            report = write(store, table_name, read, rows, labels, problems, notes=notes, on_phase=on_phase)
            if not report.written:
                return [report]
            delete_subscriptions(store, list(lapsed))
            before = write_rows(store, table_name, list(earlier), read.path)
            if before:
                report.inserted, report.updated = report.inserted + before.inserted, report.updated + before.updated
            save(store, objects)
            for customer_id, old, new in moves:
                move_customer(store, customer_id, old, new)
    except Unwritable as exc:  # rows the export's rows imply (earlier segments, moves) were refused
        report = ImportReport(read.path, table_name, problems=exc.problems)
    return [report]


def _when_imported() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _notes(*groups: tuple[str, list[int]]) -> list[str]:
    """"left out rows 3, 7 (why)" for each group of rows left out."""
    return [f"left out row{'s' if len(rows) > 1 else ''} " + ", ".join(map(str, rows[:10]))
            + (", …" if len(rows) > 10 else "") + f" ({why})" for why, rows in groups if rows]


def import_customers(store: Store, path: str, options: ImportOptions | None = None,
                     on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """customers.csv → accounts (see `ingest.stripe` for the mapping), all or nothing."""
    read = _read(path, CUSTOMER_FIELDS, options, on_progress)
    known = tracked_all(store, "customer")
    accounts = existing_accounts(store)
    rows, objects, moves, kept, shared, seen = [], [], [], [], [], set()
    for r in read.readable():  # rows with a value that cannot be read are reported as they are
        customer_id = str(r["id"]).strip()
        if customer_id in known and known[customer_id].by_webhook:
            kept.append(r[ROW])
            continue
        customer = Customer(customer_id, r.get("name"), r.get("description"), r.get("email"), r.get("created"),
                            (r.get("country") or "").strip().upper() or None,
                            (r.get("sucesso_account_id") or r.get("account_id") or "").strip() or None)
        objects.append(Tracked(customer_id, "customer", customer_id, customer.account_id, state={"rank": 0}))
        if customer_id in known and known[customer_id].account_id != customer.account_id:
            moves.append((customer_id, known[customer_id].account_id, customer.account_id))
        if customer.account_id in seen:  # two customers of one account: the first row gives its values
            shared.append(r[ROW])
            continue
        seen.add(customer.account_id)
        rows.append({ROW: r[ROW], **account_row(customer, accounts.get(customer.account_id))})
    linked = read.columns.get("sucesso_account_id") or read.columns.get("account_id")
    labels = {"account_id": linked or read.column("id"), "attributes": "attributes",
              **{c: read.columns[k] for c, k in (("name", "name"), ("created_at", "created"), ("country", "country"))
                 if k in read.columns}}
    for column in ("name", "created_at", "country"):  # what the export lacks comes from the account (or none)
        labels.setdefault(column, column)
    notes = _notes(("customers the Stripe webhook keeps up to date", kept),
                   ("customers of an account an earlier row gives its values", shared))
    return _write(store, "accounts", read, rows, labels, [], notes, objects, on_phase, moves)


def _customer_accounts(store: Store) -> dict[str, str]:
    """Stripe customer id → its account: the customers known, and the accounts whose id is one."""
    accounts = {a: a for a in existing_accounts(store)}
    return accounts | {c: t.account_id for c, t in tracked_all(store, "customer").items()}


def _ended(r: dict, status: str) -> datetime | None:
    return (r.get("ended") or r.get("canceled")) if status in ENDED else None


def import_subscriptions(store: Store, path: str, options: ImportOptions | None = None,
                         on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """subscriptions.csv → subscriptions, MRR as Stripe defines it (`ingest.stripe.mrr`), all or nothing."""
    read = _read(path, SUBSCRIPTION_FIELDS, options, on_progress)
    column = {f.key: read.column(f.key) for f in SUBSCRIPTION_FIELDS}
    column["end"] = column["ended" if "ended" in read.columns else "canceled"]
    customers, known = _customer_accounts(store), tracked_all(store, "subscription")
    rows, objects, problems, kept, unstarted, gone, earlier, dropped = [], [], [], [], [], [], [], []
    now = _when_imported()
    for r in read.readable():
        sub_id, customer, status = str(r["id"]).strip(), str(r["customer"]).strip(), lower(r["status"]) or ""
        before = known.get(sub_id)
        if before and before.by_webhook:
            kept.append(r[ROW])
            continue
        if status in NOT_STARTED:
            unstarted.append(r[ROW])
            continue
        interval = lower(r.get("interval")) or ""
        if interval not in PER_MONTH:
            problems.append(Problem(read.path, r[ROW], column["interval"], r.get("interval"),
                                    "day, week, month or year"))
            continue
        if status in ENDED and _ended(r, status) is None:
            problems.append(Problem(read.path, r[ROW], column["end"], None, "when the canceled subscription ended"))
            continue
        account_id = before.account_id if before else customers.get(customer)
        if account_id is None:
            problems.append(Problem(read.path, r[ROW], column["customer"], customer, KNOWN_CUSTOMER))
            continue
        item = Item(r.get("amount") or Decimal(0), 1 if r.get("quantity") is None else r["quantity"], interval,
                    r.get("interval_count") or 1, label=r.get("plan"))
        snap = snapshot(sub_id, customer, status, [item], [], r.get("currency"), r["started"], _ended(r, status),
                        r.get("trial_end"), now)
        previous = History.from_state(before.state) if before else None
        history = (previous or History()).advance(snap, r.get("period_start") or now)
        written = history.rows(sub_id, account_id)
        if written:  # the row the export describes (its row number unique), and the ones before it
            rows.append({ROW: r[ROW], **written[-1]})
            earlier += written[:-1]
        else:
            gone.append(r[ROW])
        dropped += lapsed(sub_id, history, previous, written)
        objects.append(Tracked(sub_id, "subscription", customer, account_id,
                               state={"rank": rank("subscription", status), **history.state()}))
    labels = {"subscription_id": column["id"], "account_id": column["customer"], "plan": column["plan"],
              "mrr": column["amount"], "currency": column["currency"], "quantity": column["quantity"],
              "started_at": column["started"], "ended_at": column["end"]}
    notes = _notes(("subscriptions the Stripe webhook keeps up to date", kept),
                   ("incomplete subscriptions, never started", unstarted),
                   ("subscriptions that ended as they started", gone))
    return _write(store, "subscriptions", read, rows, labels, problems, notes, objects, on_phase,
                  earlier=earlier, lapsed=dropped)


def import_invoices(store: Store, path: str, options: ImportOptions | None = None,
                    on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """invoices.csv → invoices, all or nothing; drafts are left out."""
    read = _read(path, INVOICE_FIELDS, options, on_progress)
    column = {f.key: read.column(f.key) for f in INVOICE_FIELDS}
    if "status" not in read.columns and "paid" not in read.columns:
        problems = [Problem(read.path, None, "", None, "a Status (or Paid) column: the invoices' status")]
        return [ImportReport(read.path, "invoices", problems=problems)]
    customers, known = _customer_accounts(store), tracked_all(store, "invoice")
    rows, objects, problems, kept, drafts = [], [], [], [], []
    for r in read.readable():
        invoice_id, customer = str(r["id"]).strip(), str(r["customer"]).strip()
        status = lower(r.get("status")) or ("paid" if r.get("paid") else "open")
        before = known.get(invoice_id)
        if before and before.by_webhook:
            kept.append(r[ROW])
            continue
        if status == "draft":
            drafts.append(r[ROW])
            continue
        if status not in STATUSES:
            problems.append(Problem(read.path, r[ROW], column["status"], r.get("status"), ", ".join(STATUSES[1:])))
            continue
        account_id = before.account_id if before else customers.get(customer)
        if account_id is None:
            problems.append(Problem(read.path, r[ROW], column["customer"], customer, KNOWN_CUSTOMER))
            continue
        rows.append({ROW: r[ROW], "invoice_id": invoice_id, "account_id": account_id, "issued_at": r["issued"],
                     "due_at": r.get("due"), "paid_at": r.get("paid_at"), "amount": r.get("amount"),
                     "currency": (r.get("currency") or "").strip().upper() or None, "status": status})
        objects.append(Tracked(invoice_id, "invoice", customer, account_id, state={"rank": rank("invoice", status)}))
    labels = {"invoice_id": column["id"], "account_id": column["customer"], "issued_at": column["issued"],
              "due_at": column["due"], "paid_at": column["paid_at"], "amount": column["amount"],
              "currency": column["currency"], "status": column["status" if "status" in read.columns else "paid"]}
    notes = _notes(("invoices the Stripe webhook keeps up to date", kept), ("draft invoices, not issued", drafts))
    return _write(store, "invoices", read, rows, labels, problems, notes, objects, on_phase)


EXPORTS = {"customers": (import_customers, "accounts"), "subscriptions": (import_subscriptions, "subscriptions"),
           "invoices": (import_invoices, "invoices")}


def import_export(store: Store, kind: str, path: str, options: ImportOptions | None = None,
                  on_progress: Progress | None = None, on_phase=None) -> list[ImportReport]:
    """Import a Stripe export of `kind` (customers, subscriptions or invoices): one report; a file
    that cannot be read at all is a report with that one problem."""
    run, table = EXPORTS[kind]
    try:
        return run(store, path, options, on_progress, on_phase)
    except RejectedFile as exc:
        return [ImportReport(path, table, problems=[exc.problem])]
