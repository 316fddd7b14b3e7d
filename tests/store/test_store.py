"""The store on both engines: schema, upsert semantics, transactions, migrations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from sucesso.store import get_setting, open_store, set_setting
from sucesso.store.migrations import current_version, migrate
from sucesso.store.schema import CANONICAL, VERSION, arrow_schema, table


def csms(*rows):
    t = table("csms")
    return pa.RecordBatch.from_pylist([dict(zip(["csm_id", "name", "role", "active"], r, strict=True)) for r in rows],
                                      schema=arrow_schema(t, ["csm_id", "name", "role", "active"]))


def test_new_workspace_has_every_table_at_the_current_version(store):
    names = store.table_names()
    assert {t.name for t in CANONICAL} <= names
    assert current_version(store) == VERSION


def test_upsert_counts_inserted_updated_unchanged(store):
    cols = ["csm_id", "name", "role", "active"]
    t = table("csms")
    first = store.upsert(t, cols, [csms(("c1", "Ana", "csm", True), ("c2", "Bia", "ism", True))])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = store.upsert(t, cols, [csms(("c1", "Ana", "csm", True), ("c2", "Bia Lima", "ism", True),
                                        ("c3", "Caio", "farmer", False))])
    assert (again.inserted, again.updated, again.unchanged) == (1, 1, 1)
    assert store.fetchall("SELECT name FROM csms WHERE csm_id = 'c2'") == [("Bia Lima",)]
    assert store.count("csms") == 3


def test_upsert_leaves_columns_the_source_lacks(store):
    t = table("csms")
    store.upsert(t, ["csm_id", "name", "role", "active"], [csms(("c1", "Ana", "csm", False))])
    batch = pa.RecordBatch.from_pylist([{"csm_id": "c1", "name": "Ana Souza"}],
                                       schema=arrow_schema(t, ["csm_id", "name"]))
    counts = store.upsert(t, ["csm_id", "name"], [batch])
    assert counts.updated == 1
    assert store.fetchall("SELECT name, role, active FROM csms") == [("Ana Souza", "csm", False)]


def test_failed_transaction_writes_nothing(store):
    t = table("csms")
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert(t, ["csm_id", "name", "role", "active"], [csms(("c1", "Ana", "csm", True))])
        raise RuntimeError("boom")
    assert store.count("csms") == 0


def test_money_and_time_types_round_trip(store):
    t = table("acquisition_spend")
    batch = pa.RecordBatch.from_pylist(
        [{"month": dt.date(2024, 3, 1), "channel": "google_ads", "amount": Decimal("1234.56")}],
        schema=arrow_schema(t))
    store.upsert(t, t.column_names, [batch])
    got = list(store.read_batches("SELECT * FROM acquisition_spend", arrow_schema(t)))[0].to_pylist()
    assert got == [{"month": dt.date(2024, 3, 1), "channel": "google_ads", "amount": Decimal("1234.56")}]


def test_settings(store):
    assert get_setting(store, "currency") == "BRL"
    set_setting(store, "currency", "USD")
    assert get_setting(store, "currency") == "USD"


def test_old_workspace_is_upgraded_without_losing_rows(store_url):
    """A workspace written at schema version 1 opens at the current version with its rows."""
    from sucesso.store.engines import connect

    old = connect(store_url)
    assert migrate(old, to=1) == [1]
    assert "settings" not in old.table_names()
    old.execute("INSERT INTO csms (csm_id, name, role, active) VALUES ('c1', 'Ana', 'csm', TRUE)")
    old.close()

    upgraded = open_store(store_url)
    assert current_version(upgraded) == VERSION
    assert upgraded.fetchall("SELECT csm_id, name FROM csms") == [("c1", "Ana")]
    assert get_setting(upgraded, "currency") == "BRL"
    assert migrate(upgraded) == []  # opening again changes nothing
    upgraded.close()


def test_newer_workspace_is_refused(store_url):
    from sucesso.store import StoreError

    s = open_store(store_url)
    s.execute("INSERT INTO sucesso_schema (version, applied_at) VALUES (?, ?)", (VERSION + 1, dt.datetime(2030, 1, 1)))
    s.close()
    with pytest.raises(StoreError, match="newer sucesso"):
        open_store(store_url)
