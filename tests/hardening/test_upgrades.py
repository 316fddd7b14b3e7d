"""Upgrades: a workspace written by any released schema version — the first one, 1, and every one
after it — opens with the current code and keeps every row, equal; a process killed (SIGKILL) in
the middle of that upgrade leaves a workspace at a version whose tables it has, and the next open
finishes the job; a backup (`sucesso export`) restored (`sucesso import`) into a new workspace
holds every canonical table equal, row for row, with the settings that are data and no secret.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import shutil
import subprocess
import sys

import pytest

from sucesso.store import get_setting, open_store, set_setting
from sucesso.store.engines import Store, connect, quote
from sucesso.store.migrations import VERSION_TABLE, current_version, migrate
from sucesso.store.schema import CANONICAL, TABLES, VERSION, Column, Table

# What each released version brought, frozen: a released version never changes (a workspace
# written by it exists), so `migrate(store, to=v)` must still build exactly this. A new version
# is added here once it is released.
RELEASED: dict[int, dict[str, str]] = {
    1: {
        "csms": "csm_id text, name text, email text, role text, active bool",
        "accounts": "account_id text, name text, segment text, plan text, csm_id text, touch_model text, "
                    "created_at timestamp, country text, industry text, seats int, attributes json",
        "contacts": "contact_id text, account_id text, name text, email text, role text, created_at timestamp",
        "subscriptions": "subscription_id text, account_id text, plan text, mrr decimal, currency text, quantity int, "
                         "started_at timestamp, ended_at timestamp",
        "invoices": "invoice_id text, account_id text, issued_at timestamp, due_at timestamp, paid_at timestamp, "
                    "amount decimal, currency text, category text, status text",
        "usage_events": "event_id text, account_id text, contact_id text, event text, occurred_at timestamp, "
                        "properties json",
        "features": "event text, name text, is_key bool, milestone text",
        "milestones": "account_id text, milestone text, reached_at timestamp",
        "tickets": "ticket_id text, account_id text, contact_id text, opened_at timestamp, "
                   "first_response_at timestamp, resolved_at timestamp, contacts_to_resolve int, channel text, "
                   "category text, priority text",
        "survey_responses": "response_id text, account_id text, contact_id text, survey text, score double, "
                            "scale_min int, scale_max int, comment text, touchpoint text, answered_at timestamp",
        "cs_activities": "activity_id text, account_id text, csm_id text, kind text, occurred_at timestamp, notes text",
        "churn_requests": "request_id text, account_id text, requested_at timestamp, reason_code text, "
                          "reason_detail text, voluntary bool, outcome text, decided_at timestamp",
        "acquisition_spend": "month date, channel text, amount decimal",
        "referrals": "referral_id text, account_id text, referred_account_id text, occurred_at timestamp",
        "targets": "kpi text, period_start date, period_end date, target double, direction text",
    },
    2: {
        "settings": "key text, value text",
        "import_presets": "name text, table_name text, options json",
    },
    3: {
        "health_scores": "account_id text, as_of date, score double, band text, model text, components json",
        "risk_models": "name text, trained_at timestamp, report json, body text",
    },
    4: {
        "users": "user_id text, email text, name text, role text, password_hash text, locale text, csm_id text, "
                 "active bool, created_at timestamp",
        "sessions": "session_id text, user_id text, csrf_token text, created_at timestamp, expires_at timestamp, "
                    "last_seen_at timestamp",
        "api_tokens": "token_id text, user_id text, name text, token_hash text, scopes text, created_at timestamp, "
                      "last_used_at timestamp, revoked_at timestamp",
    },
    5: {
        "tasks": "task_id text, account_id text, title text, kind text, playbook text, occurrence text, "
                 "assignee_csm_id text, status text, created_at timestamp, due_at timestamp, snoozed_until timestamp, "
                 "completed_at timestamp, updated_at timestamp, created_by text, updated_by text, why json, notes text",
        "playbook_runs": "run_id text, started_at timestamp, finished_at timestamp, as_of date, dry_run bool, "
                         "started_by text, report json",
        "notifications": "notification_id text, channel text, destination text, event text, subject text, body json, "
                         "status text, attempts int, created_at timestamp, next_attempt_at timestamp, "
                         "sent_at timestamp, last_error text",
    },
    6: {
        "stripe_events": "event_id text, type text, object_id text, created timestamp, received_at timestamp, "
                         "outcome text, detail text",
        "stripe_objects": "object_id text, kind text, customer_id text, account_id text, last_event_id text, "
                          "last_event_created timestamp, state json, updated_at timestamp",
    },
}
ROWS = 3  # per table


def released_at(version: int) -> dict[str, list[tuple[str, str]]]:
    """table → [(column, portable type)] of the workspace at a released `version`."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for v in range(1, version + 1):
        for name, columns in RELEASED[v].items():
            tables.setdefault(name, []).extend(tuple(c.split()) for c in columns.split(", "))
    return tables


def _family(data_type: str) -> str:
    """A catalog's column type as the portable types group them (json is text in both engines)."""
    t = data_type.lower()
    for prefix, family in (("decimal", "decimal"), ("numeric", "decimal"), ("bigint", "int"), ("double", "double"),
                           ("boolean", "bool"), ("timestamp", "timestamp"), ("date", "date")):
        if t.startswith(prefix):
            return family
    return "text"


def catalog(store: Store) -> dict[str, list[tuple[str, str]]]:
    """table → [(column, type family)] as the database itself describes it (not the declaration)."""
    schema = "main" if store.engine == "duckdb" else "public"
    rows = store.fetchall("SELECT table_name, column_name, data_type FROM information_schema.columns "
                          "WHERE table_schema = ? ORDER BY table_name, ordinal_position", (schema,))
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        found.setdefault(table, []).append((column, _family(data_type)))
    return found


def _with_versions(tables: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    portable = {n: [(c, "text" if t == "json" else t) for c, t in cols] for n, cols in tables.items()}
    return {**portable, VERSION_TABLE: [("version", "text"), ("applied_at", "timestamp")]}  # INTEGER: not a family


def released_catalog(version: int) -> dict[str, list[tuple[str, str]]]:
    """What `catalog` finds in a workspace of the released `version`."""
    return _with_versions(released_at(version))


def declared_catalog(version: int) -> dict[str, list[tuple[str, str]]]:
    """What `catalog` finds in a workspace at `version` as store/schema.py declares it."""
    return _with_versions({t.name: [(c.name, c.type) for c in t.columns_at(version)] for t in TABLES
                           if t.since <= version})


# -- rows of any table, in the columns a version has ------------------------------------------------------
def _value(table: Table, col: Column, i: int):
    if col.enum:
        return col.enum[i % len(col.enum)]
    if col.type == "text":
        if col.references:  # the same ids in every table: acc0, con1, csm2
            return f"{col.references.split('.')[0][:3]}{i}"
        if col.name == table.key[0] and col.name.endswith("_id"):
            return f"{table.name[:3]}{i}"
        return f"{col.name} {i}: São Paulo — “aspas” 'x' \\ ção"
    return {
        "int": i + 1,
        "decimal": decimal.Decimal(f"{1234 + i}.56"),
        "double": 0.25 + i,
        "bool": i % 2 == 0,
        "timestamp": dt.datetime(2024, 1, 2 + i, 3, 4, 5, 123_456 + i),
        "date": dt.date(2024, 1 + i, 1),
        "json": json.dumps({"i": i, "nome": "ação"}, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    }[col.type]


def fill_version(store: Store, version: int) -> dict[str, list[tuple]]:
    """ROWS rows in every table the workspace has at `version`, written with that version's
    columns through SQL; table → the rows written."""
    written = {}
    for table in TABLES:
        if table.since > version:
            continue
        columns = table.columns_at(version)
        rows = [tuple(_value(table, c, i) for c in columns) for i in range(ROWS)]
        names = ", ".join(quote(c.name) for c in columns)
        marks = ", ".join("?" for _ in columns)
        with store.transaction():
            for row in rows:
                store.execute(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", row)
        written[table.name] = rows
    return written


def _typed(rows) -> list[tuple]:
    """Rows in a stable order, each value with its type: equal means equal and of the same type."""
    return sorted((tuple((type(v).__name__, v) for v in row) for row in rows), key=repr)


def read(store: Store, table: str, columns: list[str]) -> list[tuple]:
    return store.fetchall(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}")


def old_workspace(url: str, version: int) -> dict[str, list[tuple]]:
    """A workspace at `version` with ROWS rows in each of its tables; table → every row it holds
    (with those a version's data step wrote)."""
    with connect(url) as store:
        migrate(store, to=version)
        fill_version(store, version)
        return {t.name: read(store, t.name, [c.name for c in t.columns_at(version)]) for t in TABLES
                if t.since <= version}


# -- a workspace of every released version opens and keeps every row -------------------------------------
def test_every_version_below_the_current_one_is_frozen_here():
    assert sorted(RELEASED) == list(range(1, VERSION)) or sorted(RELEASED) == list(range(1, VERSION + 1))


@pytest.mark.parametrize("version", range(1, VERSION))
def test_a_workspace_of_each_released_version_opens_migrated_with_every_row_equal(store_url, version):
    written = old_workspace(store_url, version)
    with connect(store_url) as store:
        assert catalog(store) == released_catalog(version)  # migrate(to=v) still builds the released v
        assert current_version(store) == version

    with open_store(store_url) as store:
        assert current_version(store) == VERSION
        assert [v for (v,) in store.fetchall(f"SELECT version FROM {VERSION_TABLE} ORDER BY version")] == \
            list(range(1, VERSION + 1))
        assert catalog(store) == declared_catalog(VERSION)
        for table in TABLES:
            if table.since > version:
                continue
            old = [c.name for c in table.columns_at(version)]
            assert _typed(read(store, table.name, old)) == _typed(written[table.name]), table.name
            assert len(written[table.name]) >= ROWS
            added = [c.name for c in table.columns if c.name not in old]
            if added:  # columns a later version added: empty in the rows written before it
                assert set(read(store, table.name, added)) == {(None,) * len(added)}


def test_the_first_release_s_rows_survive_byte_for_byte_through_both_engines(store_url):
    """The hand-checked case: one account of version 1, read back after the upgrade."""
    with connect(store_url) as store:
        migrate(store, to=1)
        store.execute("INSERT INTO accounts (account_id, name, created_at, seats, attributes) VALUES (?, ?, ?, ?, ?)",
                      ("a1", "Padaria São João", dt.datetime(2021, 3, 4, 5, 6, 7, 890_123), 12, '{"uf":"SP"}'))
        store.execute("INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at) VALUES (?, ?, ?, ?)",
                      ("s1", "a1", decimal.Decimal("1234.56"), dt.datetime(2021, 3, 4)))
    with open_store(store_url) as store:
        assert store.fetchall("SELECT account_id, name, created_at, seats, attributes FROM accounts") == [
            ("a1", "Padaria São João", dt.datetime(2021, 3, 4, 5, 6, 7, 890_123), 12, '{"uf":"SP"}')]
        assert store.fetchall("SELECT mrr FROM subscriptions") == [(decimal.Decimal("1234.56"),)]
        assert sorted(read(store, "settings", ["key", "value"])) == [("currency", "BRL"), ("locale", "pt_BR")]  # v2


# -- a backup restored is the workspace it was taken of ------------------------------------------------------
SUCESSO = [sys.executable, "-c", "from sucesso.cli import run; run()"]
SECRETS = {"secret_key": "SIGNING-KEY-d41d8cd98f", "stripe": "whsec_STRIPE-SECRET-8f00b204",
           "smtp": "SMTP-PASSWORD-e9800998", "webhook": "WEBHOOK-SECRET-ecf8427e"}


def _edited_settings() -> dict[str, str]:
    """A value the team chose for each setting a backup carries, under the keys their modules keep them."""
    from sucesso.health import history, model
    from sucesso.operations import churn, playbooks, team
    from sucesso.web import schedule

    return {
        "currency": "USD", "locale": "en",
        history.MODEL_SETTING: "# edited by the team\n" + model.default_text(),
        playbooks.SETTING: "# edited by the team\n" + playbooks.default_text(),
        churn.SETTING: "# edited by the team\n" + churn.default_text(),
        team.SETTING: "# edited by the team\n" + team.DEFAULT_RATIOS,
        "csm_scope": "own",
        schedule.SETTING: "15",
    }


def _with_state_and_secrets(store: Store) -> None:
    """The demo as a team has used it: tasks (the demo's), health history, users and a token, its own
    settings, and every secret the workspace can hold."""
    from sucesso.health.history import compute_history
    from sucesso.ingest import stripe_webhook
    from sucesso.operations import notify
    from sucesso.web.users import create_token, create_user

    compute_history(store, dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    admin = create_user(store, "admin@example.com", "admin", "backup password 1234")
    create_token(store, admin, "ci", "admin")
    for key, value in _edited_settings().items():
        set_setting(store, key, value)
    set_setting(store, "secret_key", SECRETS["secret_key"])
    stripe_webhook.set_secret(store, SECRETS["stripe"])
    notify.set_smtp(store, "smtp.example.com", 587, "cs@example.com", "cs", SECRETS["smtp"])
    notify.add_webhook(store, "https://hooks.example.com/sucesso", secret=SECRETS["webhook"])


def _cli(*args: str) -> None:
    done = subprocess.run([*SUCESSO, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SUCESSO_LANG": "en"})
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_backup_restored_into_a_new_workspace_holds_every_canonical_row_equal(demo_url, store_url, tmp_path):
    source = str(tmp_path / "source.duckdb")
    shutil.copy(demo_url, source)
    with open_store(source) as store:
        _with_state_and_secrets(store)
        assert store.count("tasks") and store.count("health_scores") and store.count("users")
    backup = tmp_path / "backup"
    _cli("export", str(backup), "--db", source)
    _cli("import", str(backup), "--db", store_url)

    with open_store(source) as before, open_store(store_url) as after:
        for table in CANONICAL:  # every row, every value, of the same type: money, timestamps, JSON text
            rows = read(before, table.name, table.column_names)
            assert rows, table.name
            assert _typed(read(after, table.name, table.column_names)) == _typed(rows), table.name
        for key, value in _edited_settings().items():
            assert get_setting(after, key) == value, key
        for key in ("secret_key", "stripe_webhook_secret", "notify_smtp", "notify_webhooks", "demo"):
            assert after.setting(key) is None, key  # no secret, nor what is not data
        for table in ("users", "sessions", "api_tokens", "tasks", "playbook_runs", "notifications", "health_scores"):
            assert after.count(table) == 0, table  # the app's own state stays behind (ingest/export.py)
        hashes = [h for (h,) in before.fetchall("SELECT password_hash FROM users UNION ALL "
                                                "SELECT token_hash FROM api_tokens")]
    written = b"".join(p.read_bytes() for p in backup.iterdir())
    for secret in [*SECRETS.values(), *hashes]:
        assert secret.encode() not in written
    assert sorted(p.name for p in backup.iterdir()) == sorted(["manifest.json",
                                                               *(f"{t.name}.parquet" for t in CANONICAL)])


def test_the_settings_a_backup_carries_are_the_edited_ones_and_no_secret():
    from sucesso.ingest.export import RESTORED_SETTINGS

    assert set(RESTORED_SETTINGS) == set(_edited_settings())
    assert not {"secret_key", "stripe_webhook_secret", "notify_smtp", "notify_webhooks"} & set(RESTORED_SETTINGS)
