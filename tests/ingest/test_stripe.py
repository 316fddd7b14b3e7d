"""Stripe Billing: webhook events (signed, replayed, duplicated, out of order) and the Dashboard's CSV
exports into accounts, subscriptions and invoices; Stripe's MRR definition with hand-computed
numbers. Payloads: tests/data/stripe (Stripe's documented example objects, adapted)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.cli import app as cli
from sucesso.ingest import stripe as s
from sucesso.ingest import stripe_webhook as hook
from sucesso.ingest.stripe_csv import import_export
from sucesso.metrics.api import kpi_rows
from sucesso.store import get_setting, open_store, set_setting

DATA = Path(__file__).resolve().parents[1] / "data" / "stripe"
SECRET = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
SUB = "sub_1MowQVLkdIwHu7ixeRlqHVzs"
CUS = "cus_NffrFeUfNV2Hib"
INVOICE = "in_1MtHbELkdIwHu7ixl4OzzPMv"


def fixture(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def event(name: str, event_id: str | None = None, created: int | None = None, **changes) -> dict:
    """A fixture event, with another id or time, and its object's top-level fields changed."""
    e = copy.deepcopy(fixture(name))
    e["id"] = event_id or e["id"]
    e["created"] = created or e["created"]
    e["data"]["object"].update(changes)
    return e


def with_quantity(e: dict, quantity: int) -> dict:
    e["data"]["object"]["items"]["data"][0]["quantity"] = quantity
    return e


def sign(payload: bytes, secret: str = SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe documents it: t=…,v1=HMAC-SHA256(secret, "t.payload")."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def rows(store, sql: str) -> list[tuple]:
    return store.fetchall(sql)


def subscriptions(store) -> list[tuple]:
    return rows(store, "SELECT subscription_id, account_id, mrr, quantity, started_at, ended_at FROM subscriptions "
                       "ORDER BY subscription_id")


def at(seconds: int) -> datetime:
    return s.moment(seconds)


def state(store) -> dict:
    """Everything the Stripe integration can write."""
    tables = ("accounts", "subscriptions", "invoices", "stripe_events", "stripe_objects")
    return {t: rows(store, f"SELECT * FROM {t} ORDER BY 1") for t in tables}


# -- MRR, hand-computed -------------------------------------------------------------------------
def item(amount: str, quantity: int = 1, interval: str = "month", count: int = 1, metered: bool = False) -> s.Item:
    return s.Item(Decimal(amount), quantity, interval, count, metered)


NOW = datetime(2024, 6, 1)


@pytest.mark.parametrize("items, coupons, expected", [
    ([item("1200", interval="year")], [], "100.00"),  # 1200 / 12
    ([item("10", 3, "week")], [], "130.00"),  # 3 × 10 × 52 / 12
    ([item("300", count=3)], [], "100.00"),  # every 3 months: 300 / 3
    ([item("12", interval="day")], [], "365.00"),  # 12 × 365 / 12
    ([item("100")], [s.Coupon(percent_off=Decimal(20))], "80.00"),  # 20% forever
    ([item("100")], [s.Coupon(percent_off=Decimal(50), duration="once")], "100.00"),  # once: not lasting
    ([item("100")], [s.Coupon(percent_off=Decimal(25), duration="repeating", end=datetime(2024, 9, 1))], "75.00"),
    ([item("100")], [s.Coupon(percent_off=Decimal(25), duration="repeating", end=datetime(2024, 5, 1))], "100.00"),
    ([item("1200", interval="year")], [s.Coupon(amount_off=Decimal(120))], "90.00"),  # 100 − 120 / 12
    ([item("10")], [s.Coupon(amount_off=Decimal(50))], "0.00"),  # never below zero
    ([item("100"), item("0.05", 1000, metered=True)], [], "100.00"),  # metered prices are not MRR
    ([item("49.90", 2), item("600", interval="year")], [], "149.80"),  # 99.80 + 50
])
def test_mrr_is_normalised_to_a_month_as_stripe_defines_it(items, coupons, expected):
    assert s.mrr(items, coupons, NOW) == Decimal(expected)


def test_amounts_come_from_the_currencys_smallest_unit():
    assert s.major(1000, "usd") == Decimal("10.00")
    assert s.major(1200, "jpy") == Decimal(1200)  # a zero-decimal currency
    assert s.major(5120, "kwd") == Decimal("5.120")  # a three-decimal one


def subscription(status: str = "active", **changes) -> dict:
    obj = copy.deepcopy(fixture("customer.subscription.created")["data"]["object"])
    obj.update(status=status, **changes)
    return obj


@pytest.mark.parametrize("status, expected", [
    ("active", "10.00"), ("past_due", "10.00"), ("trialing", "0.00"), ("unpaid", "0.00"), ("paused", "0.00")])
def test_only_active_and_past_due_subscriptions_count(status, expected):
    assert s.subscription_from_api(subscription(status), NOW).terms.mrr == Decimal(expected)


def test_a_forever_coupon_lowers_mrr_and_a_once_coupon_does_not():
    forever = {"id": "di_1", "object": "discount", "end": None,
               "coupon": {"id": "VIP20", "object": "coupon", "percent_off": 20, "duration": "forever"}}
    once = {"id": "di_2", "object": "discount", "end": None,
            "coupon": {"id": "WELCOME", "object": "coupon", "percent_off": 50, "duration": "once"}}
    assert s.subscription_from_api(subscription(discount=forever), NOW).terms.mrr == Decimal("8.00")  # 10 − 20%
    assert s.subscription_from_api(subscription(discount=once), NOW).terms.mrr == Decimal("10.00")
    newer_api = {"id": "di_3", "object": "discount", "source": {"type": "coupon", "coupon": forever["coupon"]}}
    assert s.subscription_from_api(subscription(discounts=[newer_api]), NOW).terms.mrr == Decimal("8.00")
    # by id only (not expanded): cannot be read without calling Stripe, so not subtracted
    assert s.subscription_from_api(subscription(discounts=["di_1"]), NOW).terms.mrr == Decimal("10.00")


def test_a_subscription_canceled_during_its_trial_never_had_mrr():
    canceled = subscription("canceled", trial_end=1680000000, canceled_at=1679900000, ended_at=1679900000)
    assert s.subscription_from_api(canceled, NOW).terms.mrr == Decimal("0.00")
    after_trial = subscription("canceled", trial_end=1679700000, canceled_at=1685577600, ended_at=1685577600)
    assert s.subscription_from_api(after_trial, NOW).terms.mrr == Decimal("10.00")  # what it paid while live


# -- events, on both engines ----------------------------------------------------------------------
def test_a_subscription_then_its_customer_map_to_an_account_subscription_and_invoice(store):
    assert hook.apply_event(store, fixture("customer.subscription.created")).outcome == "applied"
    # the customer is not known yet: a minimal account named by its id holds the subscription
    assert rows(store, "SELECT account_id, name FROM accounts") == [(CUS, CUS)]
    assert hook.apply_event(store, fixture("customer.created")).outcome == "applied"
    assert hook.apply_event(store, fixture("invoice.paid")).outcome == "applied"
    account = rows(store, "SELECT account_id, name, created_at, country, attributes FROM accounts")
    assert account == [(CUS, "Jenny Rosen", at(1679609700), "BR",
                        '{"email_domain":"example.com","stripe_customer_id":"cus_NffrFeUfNV2Hib"}')]
    assert subscriptions(store) == [(SUB, CUS, Decimal("10.00"), 1, at(1679609767), None)]
    assert rows(store, "SELECT plan, currency FROM subscriptions") == [("prod_Na6dGcTsmU0I4R", "USD")]  # no nickname
    assert rows(store, "SELECT invoice_id, account_id, issued_at, due_at, paid_at, amount, currency, status "
                       "FROM invoices") == [(INVOICE, CUS, at(1679609767), None, at(1679609770), Decimal("10.00"),
                                             "USD", "paid")]


def test_an_upgrade_ends_one_row_and_starts_the_next_so_the_metrics_see_an_expansion(store):
    hook.apply_event(store, fixture("customer.created"))
    hook.apply_event(store, fixture("customer.subscription.created"))
    hook.apply_event(store, fixture("customer.subscription.updated"))  # quantity 1 → 3 on 2023-04-14
    upgraded = at(1681430400)
    assert subscriptions(store) == [(SUB, CUS, Decimal("10.00"), 1, at(1679609767), upgraded),
                                    (f"{SUB}~2", CUS, Decimal("30.00"), 3, upgraded, None)]
    march, april = kpi_rows(store, ["mrr", "new_mrr", "expansion_mrr"], "2023-03", "2023-04")
    assert (march["mrr"], march["new_mrr"]) == (10.0, 10.0)
    assert (april["mrr"], april["expansion_mrr"]) == (30.0, 20.0)  # 10 at the start of April, 30 at its end
    hook.apply_event(store, fixture("customer.subscription.deleted"))  # canceled on 2023-06-01
    assert subscriptions(store)[-1] == (f"{SUB}~2", CUS, Decimal("30.00"), 3, upgraded, at(1685577600))
    june = kpi_rows(store, ["mrr", "churned_mrr"], "2023-06", "2023-06")[0]
    assert (june["mrr"], june["churned_mrr"]) == (0.0, 30.0)


def test_a_redelivered_event_changes_nothing(store):
    hook.apply_event(store, fixture("customer.subscription.created"))
    before = state(store)
    assert hook.apply_event(store, fixture("customer.subscription.created")).outcome == "duplicate"
    assert state(store) == before


def test_an_older_update_arriving_late_does_not_overwrite_the_newer_state(store):
    hook.apply_event(store, fixture("customer.subscription.created"))
    newer = with_quantity(event("customer.subscription.updated", "evt_newer", 1681430400), 3)
    older = with_quantity(event("customer.subscription.updated", "evt_older", 1681000000), 2)
    assert hook.apply_event(store, newer).outcome == "applied"
    before = subscriptions(store)
    outcome = hook.apply_event(store, older)
    assert outcome.outcome == "ignored_stale"
    assert subscriptions(store) == before and before[-1][2:4] == (Decimal("30.00"), 3)
    assert rows(store, "SELECT outcome FROM stripe_events WHERE event_id = 'evt_older'") == [("ignored_stale",)]


def test_an_update_arriving_after_the_deletion_leaves_the_subscription_ended(store):
    hook.apply_event(store, fixture("customer.subscription.created"))
    hook.apply_event(store, fixture("customer.subscription.deleted"))  # 2023-06-01
    ended = subscriptions(store)
    assert ended[-1][5] == at(1685577600)
    assert hook.apply_event(store, fixture("customer.subscription.updated")).outcome == "ignored_stale"
    assert subscriptions(store) == ended


def test_an_update_arriving_before_the_creation_still_ends_in_the_right_state(store):
    # the update is the first event seen: what it changed (previous_attributes) gives the row before it
    hook.apply_event(store, fixture("customer.subscription.updated"))
    assert hook.apply_event(store, fixture("customer.subscription.created")).outcome == "ignored_stale"
    upgraded = at(1681430400)
    assert subscriptions(store) == [(SUB, CUS, Decimal("10.00"), 1, at(1679609767), upgraded),
                                    (f"{SUB}~2", CUS, Decimal("30.00"), 3, upgraded, None)]


def test_events_of_the_same_second_follow_the_lifecycle(store):
    activated = event("customer.subscription.updated", "evt_active", 1679609768)
    incomplete = event("customer.subscription.created", "evt_incomplete", 1679609768, status="incomplete")
    assert hook.apply_event(store, activated).outcome == "applied"
    assert hook.apply_event(store, incomplete).outcome == "ignored_stale"  # same second, earlier in the lifecycle
    assert subscriptions(store)[-1][2] == Decimal("30.00")


def test_invoices_paid_then_voided_and_a_late_finalization_is_ignored(store):
    hook.apply_event(store, fixture("invoice.paid"))
    finalized = event("invoice.paid", "evt_finalized", None, status="open",
                      status_transitions={"finalized_at": 1679609768, "paid_at": None})
    finalized["type"] = "invoice.finalized"
    assert hook.apply_event(store, finalized).outcome == "ignored_stale"  # same second as the payment, less advanced
    assert rows(store, "SELECT status, paid_at FROM invoices") == [("paid", at(1679609770))]
    voided = event("invoice.paid", "evt_voided", 1679700000, status="void")
    voided["type"] = "invoice.voided"
    assert hook.apply_event(store, voided).outcome == "applied"
    assert rows(store, "SELECT status FROM invoices") == [("void",)]
    draft = event("invoice.paid", "evt_draft", 1679600000, id="in_draft", status="draft")
    draft["type"] = "invoice.created"
    assert hook.apply_event(store, draft).outcome == "ignored"
    assert rows(store, "SELECT count(*) FROM invoices") == [(1,)]


def test_a_customer_linked_by_metadata_brings_its_rows_to_the_crms_account(store, fill):
    fill(store, accounts=[{"account_id": "acme", "name": "Acme (CRM)", "created_at": "2020-01-01", "segment": "smb"}])
    hook.apply_event(store, fixture("customer.subscription.created"))  # before its customer: a minimal account
    hook.apply_event(store, fixture("invoice.paid"))
    linked = event("customer.created", metadata={"account_id": "acme"})
    assert hook.apply_event(store, linked).outcome == "applied"
    assert rows(store, "SELECT DISTINCT account_id FROM subscriptions") == [("acme",)]
    assert rows(store, "SELECT DISTINCT account_id FROM invoices") == [("acme",)]
    # the CRM's account keeps its own name and date, gains the Stripe attributes; the minimal one is gone
    assert rows(store, "SELECT account_id, name, created_at, segment, country FROM accounts") == [
        ("acme", "Acme (CRM)", datetime(2020, 1, 1), "smb", "BR")]
    assert json.loads(rows(store, "SELECT attributes FROM accounts")[0][0])["stripe_customer_id"] == CUS


@pytest.mark.parametrize("linked", [None, "acme"])
def test_a_deleted_customer_keeps_its_account_and_history_marked(store, linked):
    hook.apply_event(store, event("customer.created", metadata={"account_id": linked} if linked else {}))
    hook.apply_event(store, fixture("customer.subscription.created"))
    stub = {"id": "evt_deleted", "object": "event", "type": "customer.deleted", "created": 1690000000,
            "data": {"object": {"id": CUS, "object": "customer", "deleted": True}}}
    assert hook.apply_event(store, stub).outcome == "applied"
    name, attributes = rows(store, "SELECT name, attributes FROM accounts")[0]
    assert name == "Jenny Rosen" and json.loads(attributes)["stripe_deleted_at"] == "2023-07-22T04:26:40"
    assert subscriptions(store)[0][1] == (linked or CUS)  # the stub names no account: the rows stay where they are
    assert hook.apply_event(store, event("customer.created", "evt_late_update")).outcome == "ignored_stale"


def test_other_event_types_are_acknowledged_and_recorded_as_ignored(store):
    other = {"id": "evt_charge", "object": "event", "type": "charge.succeeded", "created": 1679609770,
             "data": {"object": {"id": "ch_3MtHbELkdIwHu7ix0snN0B15", "object": "charge", "amount": 1000}}}
    assert hook.apply_event(store, other).outcome == "ignored"
    assert rows(store, "SELECT event_id, object_id, outcome FROM stripe_events") == [
        ("evt_charge", "ch_3MtHbELkdIwHu7ix0snN0B15", "ignored")]
    assert rows(store, "SELECT count(*) FROM accounts") == [(0,)]


def test_an_event_whose_rows_fail_the_checks_writes_nothing(store):
    hook.apply_event(store, fixture("customer.created"))
    bad = event("invoice.paid", due_date=1600000000)  # due before it was issued
    before = state(store)
    with pytest.raises(s.Unwritable) as refused:
        hook.apply_event(store, bad)
    assert "due_at" in str(refused.value)
    assert state(store) == before


# -- the endpoint ---------------------------------------------------------------------------------
@pytest.fixture
def web(duckdb_url):
    from sucesso.web.app import create_app

    with open_store(duckdb_url) as store:
        hook.set_secret(store, SECRET)
    app = create_app(duckdb_url, precompute_in_background=False)
    with TestClient(app) as client:
        client.workspace = app.state.workspace
        yield client


def post(client, e: dict | bytes, header: str | None = "sign", secret: str = SECRET, at: int | None = None):
    body = e if isinstance(e, bytes) else json.dumps(e).encode()
    headers = {"Content-Type": "application/json"}
    if header == "sign":
        headers["Stripe-Signature"] = sign(body, secret, at)
    elif header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/webhooks/stripe", content=body, headers=headers)


def web_state(client) -> dict:
    return client.workspace.run(state)


def test_a_signed_event_is_accepted(web):
    r = post(web, fixture("customer.created"))
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "outcome": "applied", "detail": None}
    assert web.workspace.run(lambda st: rows(st, "SELECT account_id, name FROM accounts")) == [(CUS, "Jenny Rosen")]
    # the official package's own test helper signs the same way
    import stripe

    body = json.dumps(fixture("invoice.paid")).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    assert web.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": header}).status_code == 200


def test_unsigned_forged_tampered_and_replayed_events_are_refused_and_write_nothing(web):
    e = fixture("customer.created")
    body = json.dumps(e).encode()
    before = web_state(web)
    refused = {
        "no header": post(web, e, header=None),
        "wrong secret": post(web, e, secret="whsec_someone_elses_secret"),
        "tampered body": post(web, body.replace(b"Jenny Rosen", b"Mallory"), header=sign(body)),
        "replayed": post(web, e, at=int(time.time()) - 600),  # signed 10 minutes ago: outside the 5 minutes
        "garbage header": post(web, e, header="t=abc,v1=def"),
    }
    for what, r in refused.items():
        assert r.status_code == 400, (what, r.text)
        assert r.json()["received"] is False
    assert "300" in refused["replayed"].json()["message"]  # the tolerance, in the workspace's language
    assert web_state(web) == before


def test_a_redelivery_through_the_endpoint_changes_nothing(web):
    assert post(web, fixture("customer.subscription.created")).json()["outcome"] == "applied"
    before = web_state(web)
    again = post(web, fixture("customer.subscription.created"))  # Stripe retries: a new signature, same event
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert web_state(web) == before


def test_rows_that_fail_the_checks_answer_422_with_the_problems(web):
    r = post(web, event("invoice.paid", due_date=1600000000))
    assert r.status_code == 422
    assert any("due_at" in p for p in r.json()["problems"])
    assert web_state(web)["invoices"] == [] and web_state(web)["stripe_events"] == []


def test_a_signed_but_malformed_event_is_refused_with_400(web):
    e = fixture("customer.subscription.created")
    e["data"]["object"]["items"]["data"][0]["price"]["recurring"]["interval"] = "fortnight"
    r = post(web, e)
    assert r.status_code == 400 and "subscription" in r.json()["message"]
    assert web_state(web)["subscriptions"] == [] and web_state(web)["stripe_events"] == []


def test_without_a_signing_secret_the_endpoint_answers_503(web):
    web.workspace.run(lambda st: set_setting(st, hook.SECRET_SETTING, ""))
    r = post(web, fixture("customer.created"))
    assert r.status_code == 503 and "sucesso stripe secret" in r.json()["message"]


# -- the CLI --------------------------------------------------------------------------------------
def test_the_secret_is_read_from_the_environment_and_never_printed(duckdb_url, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    done = runner.invoke(cli, ["stripe", "secret", "--env", "STRIPE_WEBHOOK_SECRET", "--db", duckdb_url])
    assert done.exit_code == 0, done.output
    assert SECRET not in done.output and "POST /webhooks/stripe" in " ".join(done.output.split())
    with open_store(duckdb_url) as store:
        assert get_setting(store, hook.SECRET_SETTING) == SECRET
    monkeypatch.setenv("NOT_A_SECRET", "sk_live_oops")
    refused = runner.invoke(cli, ["stripe", "secret", "--env", "NOT_A_SECRET", "--db", duckdb_url])
    assert refused.exit_code == 2 and "whsec_" in refused.output and "sk_live_oops" not in refused.output


def test_the_cli_imports_an_export_and_lists_the_events(duckdb_url):
    runner = CliRunner()
    done = runner.invoke(cli, ["stripe", "import", "customers", str(DATA / "customers.csv"), "--db", duckdb_url])
    assert done.exit_code == 0, done.output
    with open_store(duckdb_url) as store:
        hook.apply_event(store, fixture("customer.subscription.created"))
    listed = runner.invoke(cli, ["stripe", "events", "--json", "--db", duckdb_url])
    assert [e["event_id"] for e in json.loads(listed.output)] == [fixture("customer.subscription.created")["id"]]


# -- the Dashboard's CSV exports -----------------------------------------------------------------
def load(store, kind: str, name: str):
    report, = import_export(store, kind, str(DATA / name))
    assert report.written, [str(p) for p in report.problems]
    return report


def test_the_exports_import_with_stripes_mrr_and_a_rerun_changes_nothing(store):
    assert load(store, "customers", "customers.csv").inserted == 3
    subs = load(store, "subscriptions", "subscriptions.csv")  # the older export: Plan, Interval, Amount
    assert subs.inserted == 4 and subs.notes == ["left out row 6 (incomplete subscriptions, never started)"]
    assert load(store, "subscriptions", "subscriptions_prices.csv").inserted == 2  # the newer: Product, Price
    invoices = load(store, "invoices", "invoices.csv")
    assert invoices.inserted == 3 and invoices.notes == ["left out row 5 (draft invoices, not issued)"]
    assert rows(store, "SELECT account_id, name, country FROM accounts ORDER BY 1") == [
        ("acme-padaria", "Padaria Pão Quente", "BR"),  # linked by account_id (metadata); named by its description
        (CUS, "Jenny Rosen", "BR"), ("cus_Qz81KdWm3JvT0a", "Northwind Traders", None)]
    assert rows(store, "SELECT subscription_id, account_id, mrr, ended_at FROM subscriptions ORDER BY 1") == [
        (SUB, CUS, Decimal("10.00"), None),  # 10 a month
        ("sub_1N4aBcLkdIwHu7ixYr5tQw2E", "acme-padaria", Decimal("100.00"), None),  # 1200 a year
        ("sub_1NTmV3LkdIwHu7ixG6hJk8Lm", "cus_Qz81KdWm3JvT0a", Decimal("130.00"), datetime(2023, 8, 15, 10)),  # 3×10/wk
        ("sub_1NTmW9LkdIwHu7ixTr1aLt0p", "cus_Qz81KdWm3JvT0a", Decimal("0.00"), None),  # trialing
        ("sub_1OaQ2rLkdIwHu7ixQuart001", CUS, Decimal("100.00"), None),  # 300 every 3 months
        ("sub_1ObR7sLkdIwHu7ixPast002", "acme-padaria", Decimal("299.80"), None)]  # past_due: 2 × 149.90
    assert rows(store, "SELECT invoice_id, account_id, amount, status, due_at FROM invoices ORDER BY 1") == [
        (INVOICE, CUS, Decimal("10.00"), "paid", None),
        ("in_1N4aBdLkdIwHu7ixK2v9Wq1P", "acme-padaria", Decimal("1200.00"), "open", datetime(2023, 6, 1, 13, 41)),
        ("in_1NTmV4LkdIwHu7ixV0idEd01", "cus_Qz81KdWm3JvT0a", Decimal("30.00"), "void", None)]
    before = state(store)
    for kind, name in (("customers", "customers.csv"), ("subscriptions", "subscriptions.csv"),
                       ("subscriptions", "subscriptions_prices.csv"), ("invoices", "invoices.csv")):
        again = load(store, kind, name)
        assert (again.inserted, again.updated) == (0, 0), name
    assert {t: v for t, v in state(store).items() if t != "stripe_objects"} == \
        {t: v for t, v in before.items() if t != "stripe_objects"}


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(store, write):
    load(store, "customers", "customers.csv")
    path = write("subscriptions.csv", (
        "id,Customer ID,Plan,Quantity,Currency,Interval,Amount,Status,Created (UTC),Canceled At (UTC)\n"
        "sub_ok,cus_NffrFeUfNV2Hib,basic,1,usd,month,10.00,active,2023-03-23 22:16,\n"
        "sub_a,cus_unknown,basic,1,usd,month,10.00,active,2023-03-23 22:16,\n"
        "sub_b,cus_NffrFeUfNV2Hib,basic,1,usd,fortnight,10.00,active,2023-03-23 22:16,\n"
        "sub_c,cus_NffrFeUfNV2Hib,basic,1,usd,month,ten,active,2023-03-23 22:16,\n"
        "sub_d,cus_NffrFeUfNV2Hib,basic,1,usd,month,10.00,canceled,2023-03-23 22:16,\n"
        "sub_e,cus_NffrFeUfNV2Hib,basic,1,usd,month,10.00,active,the 23rd of March,\n"))
    report, = import_export(store, "subscriptions", path)
    assert not report.written
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(3, "Customer ID"), (4, "Interval"), (5, "Amount"), (6, "Canceled At (UTC)"),
                     (7, "Created (UTC)")}, \
        [str(p) for p in report.problems]
    assert "sucesso stripe import customers" in next(str(p) for p in report.problems if p.row == 3)
    assert rows(store, "SELECT count(*) FROM subscriptions") == [(0,)]


def test_a_file_without_the_columns_an_export_has_is_refused(store, write):
    report, = import_export(store, "invoices", write("invoices.csv", "id,Customer,Amount Due,Date (UTC)\n"
                                                                     "in_1,cus_1,10.00,2023-03-23 22:16\n"))
    assert not report.written and "Status" in str(report.problems[0])
    report, = import_export(store, "subscriptions", write("s.csv", "id,Status\nsub_1,active\n"))
    assert not report.written and "Customer ID" in str(report.problems[0])


def test_a_customer_linked_later_takes_its_rows_to_the_linked_account(store, write):
    load(store, "customers", "customers.csv")
    load(store, "subscriptions", "subscriptions.csv")
    load(store, "invoices", "invoices.csv")
    linked = write("customers.csv", "id,Name,Created (UTC),account_id (metadata)\n"
                                    "cus_Qz81KdWm3JvT0a,Northwind Traders,2023-07-14 09:05,northwind\n")
    assert import_export(store, "customers", linked)[0].written
    assert rows(store, "SELECT DISTINCT account_id FROM subscriptions WHERE subscription_id LIKE 'sub_1NT%'") == [
        ("northwind",)]
    assert rows(store, "SELECT account_id FROM invoices WHERE invoice_id = 'in_1NTmV4LkdIwHu7ixV0idEd01'") == [
        ("northwind",)]
    assert rows(store, "SELECT count(*) FROM accounts WHERE account_id = 'cus_Qz81KdWm3JvT0a'") == [(0,)]


def test_an_export_leaves_alone_what_the_webhook_keeps(store):
    load(store, "customers", "customers.csv")
    hook.apply_event(store, fixture("customer.subscription.created"))
    hook.apply_event(store, fixture("customer.subscription.updated"))  # two rows, from the webhook
    kept = subscriptions(store)
    report = load(store, "subscriptions", "subscriptions.csv")
    assert "left out row 2 (subscriptions the Stripe webhook keeps up to date)" in report.notes
    assert [r for r in subscriptions(store) if r[0].startswith(SUB)] == kept


def test_a_later_export_with_another_mrr_ends_the_row_and_starts_the_next(store, write):
    load(store, "customers", "customers.csv")
    header = "id,Customer ID,Plan,Quantity,Currency,Interval,Amount,Status,Start (UTC),Current Period Start (UTC)\n"
    write("march.csv", header + "sub_x,cus_NffrFeUfNV2Hib,basic,1,usd,month,10.00,active,2023-03-01 00:00,"
                                "2023-03-01 00:00\n")
    path = write("may.csv", header + "sub_x,cus_NffrFeUfNV2Hib,basic,2,usd,month,10.00,active,2023-03-01 00:00,"
                                     "2023-05-01 00:00\n")
    assert import_export(store, "subscriptions", str(Path(path).parent / "march.csv"))[0].written
    may, = import_export(store, "subscriptions", path)
    assert may.written, [str(p) for p in may.problems]
    assert subscriptions(store) == [("sub_x", CUS, Decimal("10.00"), 1, datetime(2023, 3, 1), datetime(2023, 5, 1)),
                                    ("sub_x~2", CUS, Decimal("20.00"), 2, datetime(2023, 5, 1), None)]
