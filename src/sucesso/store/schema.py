"""The canonical tables (DESIGN.md), declared once.

Every other part of sucesso reads this declaration: the migrations create tables and add
columns from it, the importer validates against it, export and the metrics read it. A
column or table carries the schema version that introduced it (`since`), so an old
workspace is upgraded by adding what came later (see `store.migrations`).

Types are portable names, mapped to each engine's DDL in `store.engines`:
text, int, decimal (money: 18 digits, 2 decimals), double, bool, timestamp (UTC, no zone),
date, json (canonical JSON text: sorted keys, compact, so re-imports compare equal).
"""

from __future__ import annotations

from dataclasses import dataclass

MONEY_SCALE = 2


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    references: str | None = None  # "table.column" that must hold this value
    default: str | None = None  # SQL over the row's other columns, used when no value is given
    since: int = 1


@dataclass(frozen=True)
class Check:
    """A rule over several columns of one row, as SQL; a row breaks it when it is false.

    Checked when every column it uses is in the source; unknown (NULL) values pass.
    """

    column: str  # the column blamed in the error message
    condition: str
    uses: tuple[str, ...]
    expected: str


def _after(later: str, earlier: str, strict: bool = False) -> Check:
    op, words = (">", "after") if strict else (">=", "on or after")
    return Check(later, f"{later} {op} {earlier}", (later, earlier), f"a moment {words} {earlier}")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    since: int = 1
    canonical: bool = True  # False for the app's own state (not imported/exported)
    extras_column: str | None = None  # where unknown source columns go (JSON)
    # Its key is a unique index on DuckDB too (PostgreSQL tables all have theirs): for a table whose
    # key is checked on every write, where a scan would grow with the table, and never bulk-loaded
    # (the index makes bulk loads slower: store/engines.py says why DuckDB tables otherwise carry
    # none). DuckDB holds such an index whole in memory (about 100 bytes a text key) and writes it
    # out at each checkpoint (about 0.1 s a million keys).
    indexed_key: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def columns_at(self, version: int) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.since <= version)


ID = 255  # longest identifier accepted
NAME = 1_000
LONG_TEXT = 100_000
JSON_TEXT = 1_000_000


def _id(name: str, *, required: bool = True, references: str | None = None) -> Column:
    return Column(name, "text", required=required, max_length=ID, references=references)


def _text(name: str, max_length: int = NAME, **kw) -> Column:
    return Column(name, "text", max_length=max_length, **kw)


def _money(name: str, *, required: bool = True) -> Column:
    return Column(name, "decimal", required=required, min=0)


def _ts(name: str, *, required: bool = False) -> Column:
    return Column(name, "timestamp", required=required)


TOUCH_MODELS = ("high", "low", "tech")
CSM_ROLES = ("csm", "ism", "farmer", "manager", "support")
INVOICE_STATUSES = ("open", "paid", "void", "uncollectible")
SURVEYS = ("nps", "csat", "ces")
CHURN_OUTCOMES = ("pending", "recovered", "churned")
DIRECTIONS = ("higher", "lower")
USER_ROLES = ("admin", "manager", "csm", "viewer")  # who may do what in the web app (web/auth.py)
TASK_STATUSES = ("open", "snoozed", "done", "cancelled")
NOTIFICATION_CHANNELS = ("email", "webhook")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")  # failed: gave up after the last retry
STRIPE_KINDS = ("customer", "subscription", "invoice")
STRIPE_OUTCOMES = ("applied", "ignored_stale", "ignored")  # what a Stripe event did (ingest/stripe.py)

ACCOUNT = "accounts.account_id"
CONTACT = "contacts.contact_id"
CSM = "csms.csm_id"

TABLES: tuple[Table, ...] = (
    Table(
        "csms",
        (
            _id("csm_id"),
            _text("name", required=True),
            _text("email"),
            Column("role", "text", required=True, enum=CSM_ROLES),
            Column("active", "bool", required=True, default="TRUE"),
        ),
        key=("csm_id",),
    ),
    Table(
        "accounts",
        (
            _id("account_id"),
            _text("name", required=True),
            _text("segment"),
            _text("plan"),
            _id("csm_id", required=False, references=CSM),
            Column("touch_model", "text", enum=TOUCH_MODELS),
            _ts("created_at", required=True),
            _text("country"),
            _text("industry"),
            Column("seats", "int", min=0),
            Column("attributes", "json", max_length=JSON_TEXT),
        ),
        key=("account_id",),
        extras_column="attributes",
    ),
    Table(
        "contacts",
        (
            _id("contact_id"),
            _id("account_id", references=ACCOUNT),
            _text("name"),
            _text("email"),
            _text("role"),
            _ts("created_at"),
        ),
        key=("contact_id",),
    ),
    Table(
        "subscriptions",
        (
            _id("subscription_id"),
            _id("account_id", references=ACCOUNT),
            _text("plan"),
            _money("mrr"),
            Column("currency", "text", max_length=3),
            Column("quantity", "int", min=0),
            _ts("started_at", required=True),
            _ts("ended_at"),
        ),
        key=("subscription_id",),
        checks=(_after("ended_at", "started_at", strict=True),),
    ),
    Table(
        "invoices",
        (
            _id("invoice_id"),
            _id("account_id", references=ACCOUNT),
            _ts("issued_at", required=True),
            _ts("due_at"),
            _ts("paid_at"),
            _money("amount"),
            Column("currency", "text", max_length=3),
            _text("category"),
            Column("status", "text", required=True, enum=INVOICE_STATUSES),
        ),
        key=("invoice_id",),
        checks=(_after("due_at", "issued_at"),),
    ),
    Table(
        "usage_events",
        (
            _id("event_id"),
            _id("account_id", references=ACCOUNT),
            _id("contact_id", required=False, references=CONTACT),
            _text("event", required=True, max_length=ID),
            _ts("occurred_at", required=True),
            Column("properties", "json", max_length=JSON_TEXT),
        ),
        key=("event_id",),
    ),
    Table(
        "features",
        (
            _text("event", required=True, max_length=ID),
            _text("name", required=True),
            Column("is_key", "bool", required=True),
            _text("milestone", max_length=ID),
        ),
        key=("event",),
    ),
    Table(
        "milestones",
        (
            _id("account_id", references=ACCOUNT),
            _text("milestone", required=True, max_length=ID),
            _ts("reached_at", required=True),
        ),
        key=("account_id", "milestone"),
    ),
    Table(
        "tickets",
        (
            _id("ticket_id"),
            _id("account_id", references=ACCOUNT),
            _id("contact_id", required=False, references=CONTACT),
            _ts("opened_at", required=True),
            _ts("first_response_at"),
            _ts("resolved_at"),
            Column("contacts_to_resolve", "int", min=1),
            _text("channel"),
            _text("category"),
            _text("priority"),
        ),
        key=("ticket_id",),
        checks=(
            _after("first_response_at", "opened_at"),
            _after("resolved_at", "opened_at"),
        ),
    ),
    Table(
        "survey_responses",
        (
            _id("response_id"),
            _id("account_id", references=ACCOUNT),
            _id("contact_id", required=False, references=CONTACT),
            Column("survey", "text", required=True, enum=SURVEYS),
            Column("score", "double", required=True),
            Column("scale_min", "int", required=True, default="CASE WHEN survey = 'nps' THEN 0 ELSE 1 END"),
            Column("scale_max", "int", required=True,
                   default="CASE survey WHEN 'nps' THEN 10 WHEN 'csat' THEN 5 WHEN 'ces' THEN 7 END"),
            _text("comment", max_length=LONG_TEXT),
            _text("touchpoint"),
            _ts("answered_at", required=True),
        ),
        key=("response_id",),
        checks=(
            Check("scale_max", "scale_max > scale_min", ("scale_min", "scale_max"), "a number above scale_min"),
            Check("scale_min", "survey <> 'nps' OR (scale_min = 0 AND scale_max = 10)",
                  ("survey", "scale_min", "scale_max"), "the 0–10 scale for an NPS answer"),
            Check("score", "score BETWEEN scale_min AND scale_max", ("score", "scale_min", "scale_max"),
                  "a score within the answer's scale (scale_min to scale_max)"),
        ),
    ),
    Table(
        "cs_activities",
        (
            _id("activity_id"),
            _id("account_id", references=ACCOUNT),
            _id("csm_id", required=False, references=CSM),
            _text("kind", required=True, max_length=ID),
            _ts("occurred_at", required=True),
            _text("notes", max_length=LONG_TEXT),
        ),
        key=("activity_id",),
    ),
    Table(
        "churn_requests",
        (
            _id("request_id"),
            _id("account_id", references=ACCOUNT),
            _ts("requested_at", required=True),
            _text("reason_code", required=True, max_length=ID),
            _text("reason_detail", max_length=LONG_TEXT),
            Column("voluntary", "bool", required=True),
            Column("outcome", "text", required=True, enum=CHURN_OUTCOMES),
            _ts("decided_at"),
        ),
        key=("request_id",),
        checks=(_after("decided_at", "requested_at"),),
    ),
    Table(
        "acquisition_spend",
        (
            Column("month", "date", required=True),
            _text("channel", required=True, max_length=ID),
            _money("amount"),
        ),
        key=("month", "channel"),
    ),
    Table(
        "referrals",
        (
            _id("referral_id"),
            _id("account_id", references=ACCOUNT),
            _id("referred_account_id", required=False, references=ACCOUNT),
            _ts("occurred_at", required=True),
        ),
        key=("referral_id",),
    ),
    Table(
        "targets",
        (
            _text("kpi", required=True, max_length=ID),
            Column("period_start", "date", required=True),
            Column("period_end", "date", required=True),
            Column("target", "double", required=True),
            Column("direction", "text", required=True, enum=DIRECTIONS),
        ),
        key=("kpi", "period_start"),
        checks=(_after("period_end", "period_start", strict=True),),
    ),
    # The workspace's own state, version 2.
    Table(
        "settings",
        (_text("key", required=True, max_length=ID), _text("value", max_length=LONG_TEXT)),
        key=("key",),
        since=2,
        canonical=False,
    ),
    Table(
        "import_presets",
        (
            _text("name", required=True, max_length=ID),
            _text("table_name", required=True, max_length=ID),
            Column("options", "json", required=True, max_length=JSON_TEXT),
        ),
        key=("name",),
        since=2,
        canonical=False,
    ),
    # Version 3: health score history (health/history.py), one row per account and day.
    Table(
        "health_scores",
        (
            _id("account_id"),
            Column("as_of", "date", required=True),
            Column("score", "double", required=True, min=0, max=100),
            _text("band", required=True, max_length=ID),
            _text("model", required=True, max_length=ID),
            Column("components", "json", required=True, max_length=JSON_TEXT),
        ),
        key=("account_id", "as_of"),
        since=3,
        canonical=False,
    ),
    # Version 3: trained churn-risk models (insight/risk.py), the latest one in use.
    Table(
        "risk_models",
        (
            _text("name", required=True, max_length=ID),
            _ts("trained_at", required=True),
            Column("report", "json", required=True, max_length=JSON_TEXT),
            _text("body", required=True, max_length=200_000_000),
        ),
        key=("name",),
        since=3,
        canonical=False,
    ),
    # Version 4: who may sign in (web/users.py): people, their browser sessions and API tokens.
    # Secrets are never stored: passwords as argon2 hashes, session ids and tokens as SHA-256 hex.
    Table(
        "users",
        (
            _id("user_id"),
            _text("email", required=True, max_length=ID),  # lower-cased; unique, kept so by web/users.py
            _text("name", required=True),
            Column("role", "text", required=True, enum=USER_ROLES),
            _text("password_hash", required=True),
            _text("locale", max_length=ID),
            _id("csm_id", required=False),
            Column("active", "bool", required=True, default="TRUE"),
            _ts("created_at", required=True),
        ),
        key=("user_id",),
        since=4,
        canonical=False,
    ),
    Table(
        "sessions",
        (
            _text("session_id", required=True, max_length=64),  # SHA-256 hex of the cookie's token
            _id("user_id"),
            _text("csrf_token", required=True, max_length=ID),
            _ts("created_at", required=True),
            _ts("expires_at", required=True),
            _ts("last_seen_at", required=True),
        ),
        key=("session_id",),
        since=4,
        canonical=False,
    ),
    Table(
        "api_tokens",
        (
            _id("token_id"),
            _id("user_id"),
            _text("name", required=True),
            _text("token_hash", required=True, max_length=64),  # SHA-256 hex of the token
            _text("scopes", required=True, max_length=ID),  # comma-separated: read, ingest, admin
            _ts("created_at", required=True),
            _ts("last_used_at"),
            _ts("revoked_at"),
        ),
        key=("token_id",),
        since=4,
        canonical=False,
    ),
    # Version 5: the CS operation (operations/): tasks the playbooks (or people) create, the runs of
    # the playbooks, and the outbox of notifications (e-mail and webhooks) with their retries.
    Table(
        "tasks",
        (
            _id("task_id"),
            _id("account_id"),
            _text("title", required=True),
            _text("kind", required=True, max_length=ID),  # a cs_activities kind: proactive_call, rescue_call, …
            _text("playbook", max_length=ID),  # the rule that created it; empty for a task a person made
            _text("occurrence", max_length=ID),  # what fired it (a response id, "red since 2026-10-02"): never twice
            _id("assignee_csm_id", required=False),
            Column("status", "text", required=True, enum=TASK_STATUSES),
            _ts("created_at", required=True),
            _ts("due_at"),
            _ts("snoozed_until"),
            _ts("completed_at"),
            _ts("updated_at", required=True),
            _text("created_by", required=True, max_length=ID),  # "playbook" or the person's e-mail
            _text("updated_by", max_length=ID),  # who last completed, snoozed, reassigned or cancelled it
            Column("why", "json", max_length=JSON_TEXT),  # the rule, its trigger and the data it saw
            _text("notes", max_length=LONG_TEXT),
        ),
        key=("task_id",),
        since=5,
        canonical=False,
    ),
    Table(
        "playbook_runs",
        (
            _id("run_id"),
            _ts("started_at", required=True),
            _ts("finished_at"),
            Column("as_of", "date", required=True),
            Column("dry_run", "bool", required=True),
            _text("started_by", required=True, max_length=ID),  # "schedule", "cli" or a person's e-mail
            Column("report", "json", max_length=JSON_TEXT),  # per playbook: matched, created, skipped
        ),
        key=("run_id",),
        since=5,
        canonical=False,
    ),
    Table(
        "notifications",
        (
            _id("notification_id"),
            Column("channel", "text", required=True, enum=NOTIFICATION_CHANNELS),
            _text("destination", required=True),  # an e-mail address or a webhook URL
            _text("event", required=True, max_length=ID),  # task.created, alert, test
            _text("subject", required=True),
            Column("body", "json", required=True, max_length=JSON_TEXT),
            Column("status", "text", required=True, enum=NOTIFICATION_STATUSES),
            Column("attempts", "int", required=True, min=0),
            _ts("created_at", required=True),
            _ts("next_attempt_at"),
            _ts("sent_at"),
            _text("last_error", max_length=LONG_TEXT),
        ),
        key=("notification_id",),
        since=5,
        canonical=False,
    ),
    # Version 6: Stripe billing (ingest/stripe.py): every webhook event received, once, with what it
    # did; and each Stripe object sucesso knows, with the newest event applied to it (so that an
    # older event arriving late changes nothing) and the canonical rows it maps to.
    Table(
        "stripe_events",
        (
            _text("event_id", required=True, max_length=ID),
            _text("type", required=True, max_length=ID),
            _text("object_id", max_length=ID),
            _ts("created", required=True),  # the event's own time, on Stripe's clock
            _ts("received_at", required=True),
            Column("outcome", "text", required=True, enum=STRIPE_OUTCOMES),
            _text("detail", max_length=LONG_TEXT),
        ),
        key=("event_id",),
        since=6,
        canonical=False,
    ),
    Table(
        "stripe_objects",
        (
            _text("object_id", required=True, max_length=ID),  # cus_…, sub_…, in_…
            Column("kind", "text", required=True, enum=STRIPE_KINDS),
            _text("customer_id", max_length=ID),  # the Stripe customer it belongs to (a customer: itself)
            _id("account_id"),  # the account its canonical rows are written under
            _text("last_event_id", max_length=ID),
            _ts("last_event_created"),  # empty: known from a CSV export or only by reference, no event yet
            Column("state", "json", max_length=JSON_TEXT),  # its rank and, for a subscription, its segments
            _ts("updated_at", required=True),
        ),
        key=("object_id",),
        since=6,
        canonical=False,
    ),
    # Version 7: the messageIds the tracking API (ingest/tracking.py) has written, each recorded with
    # its event: the key refuses a message sent again, without reading usage_events.
    Table(
        "tracked_messages",
        (
            _id("message_id"),  # = usage_events.event_id
            _ts("received_at", required=True),  # when its event was written (the upgrade's moment for older ones)
        ),
        key=("message_id",),
        since=7,
        canonical=False,
        indexed_key=True,
    ),
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
CANONICAL: tuple[Table, ...] = tuple(t for t in TABLES if t.canonical)
VERSION: int = max(max(t.since, *(c.since for c in t.columns)) for t in TABLES)


def table(name: str) -> Table:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(t.name for t in CANONICAL)
        raise KeyError(f"unknown table {name!r}; the tables are: {known}") from None


def time_columns(t: Table) -> list[str]:
    return [c.name for c in t.columns if c.type in ("timestamp", "date")]


def arrow_type(portable: str):
    """The Arrow type that carries a column of this portable type in and out of the store."""
    import pyarrow as pa

    return {
        "text": pa.string(),
        "int": pa.int64(),
        "decimal": pa.decimal128(18, MONEY_SCALE),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us"),
        "date": pa.date32(),
        "json": pa.string(),
    }[portable]


def arrow_schema(t: Table, columns: list[str] | None = None):
    import pyarrow as pa

    names = columns if columns is not None else t.column_names
    return pa.schema([pa.field(n, arrow_type(t.column(n).type)) for n in names])
