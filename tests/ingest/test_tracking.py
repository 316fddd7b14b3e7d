"""The Segment-compatible tracking API: identify → contacts, group → accounts, track (page,
screen) → usage_events; all or nothing, one write per messageId, Segment's sizes and clock-skew
correction — on both engines where the store matters, over HTTP (TestClient and a real uvicorn
server on loopback), and from Segment's own Python library."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import threading

import httpx
import orjson
import pyarrow as pa
import pytest
from argon2 import PasswordHasher
from servers import in_thread  # tests/servers.py

from sucesso.ingest import segment, tracking, write_batches
from sucesso.ingest.segment import Rejected, corrected, read
from sucesso.ingest.tracking import ingest, ingest_many
from sucesso.store import open_store
from sucesso.store.engines import KeyExists
from sucesso.store.schema import arrow_schema, table
from sucesso.web import users

NOW = dt.datetime(2025, 3, 1, 12, 0, 0)


def calls(*messages, sent_at: str | None = None, received_at: dt.datetime = NOW) -> tracking.Calls:
    body = {"batch": list(messages)}
    if sent_at:
        body["sentAt"] = sent_at
    return read(orjson.dumps(body), None, received_at)


def send(store, *messages, **kw):
    """(written, errors) of one batch."""
    return ingest(store, calls(*messages, **kw))


def group(group_id="acme", user=None, message_id=None, **traits):
    message = {"type": "group", "groupId": group_id, "anonymousId": "anon", "traits": traits}
    if user:
        message["userId"] = user
    if message_id:
        message["messageId"] = message_id
    return message


def identify(user, message_id=None, context=None, **traits):
    message = {"type": "identify", "userId": user, "traits": traits, "context": context or {}}
    if message_id:
        message["messageId"] = message_id
    return message


def track(message_id, user=None, event="Report Exported", account=None, **extra):
    message = {"type": "track", "messageId": message_id, "event": event, "anonymousId": "anon", **extra}
    if user:
        message["userId"] = user
    if account:
        message["context"] = {"groupId": account}
    return message


def rows(store, sql):
    return store.fetchall(sql)


# -- the mapping, on both engines ---------------------------------------------------------------
def test_one_batch_creates_the_account_its_contact_and_their_events(store):
    written, errors = send(
        store,
        identify("u1", "m1", name="Ana Lima", email="ana@acme.com", title="CFO"),
        group("acme", user="u1", message_id="m2", name="Acme", plan="pro", employees=420, industry="Retail",
              website="acme.com", address={"country": "BR", "city": "Recife"}),
        track("m3", user="u1", properties={"format": "pdf", "pages": 3}, timestamp="2025-03-01T11:00:00Z"),
        {"type": "page", "messageId": "m4", "userId": "u1", "name": "Pricing", "properties": {"path": "/pricing"}},
        {"type": "screen", "messageId": "m5", "anonymousId": "x", "name": "Home", "context": {"groupId": "acme"}},
    )
    assert errors == []
    assert (written.accounts, written.contacts, written.events) == (1, 1, 3)
    assert rows(store, "SELECT account_id, name, plan, industry, country, seats, created_at, attributes "
                       "FROM accounts") == [
        ("acme", "Acme", "pro", "Retail", "BR", 420, NOW,  # a new account's created_at: the call's moment
         '{"address":{"city":"Recife","country":"BR"},"website":"acme.com"}')]
    assert rows(store, "SELECT contact_id, account_id, name, email, role FROM contacts") == [
        ("u1", "acme", "Ana Lima", "ana@acme.com", "CFO")]  # its account from the group call's userId
    assert rows(store, "SELECT event_id, account_id, contact_id, event, occurred_at, properties "
                       "FROM usage_events ORDER BY event_id") == [
        ("m3", "acme", "u1", "Report Exported", dt.datetime(2025, 3, 1, 11, 0), '{"format":"pdf","pages":3}'),
        ("m4", "acme", "u1", "page", NOW, '{"name":"Pricing","path":"/pricing"}'),
        ("m5", "acme", None, "screen", NOW, '{"name":"Home"}'),
    ]


def test_a_call_keeps_what_it_does_not_send_and_a_repeated_call_writes_nothing(store):
    send(store, group("acme", name="Acme", plan="pro", seats=10, tier="gold"),
         identify("u1", name="Ana", email="ana@acme.com", context={"groupId": "acme"}))
    written, errors = send(store, group("acme", plan="enterprise", region="NE"), identify("u1", role="admin"))
    assert errors == [] and (written.accounts, written.contacts) == (1, 1)
    assert rows(store, "SELECT name, plan, seats, attributes FROM accounts") == [
        ("Acme", "enterprise", 10, '{"region":"NE","tier":"gold"}')]  # traits merged into attributes
    assert rows(store, "SELECT account_id, name, email, role FROM contacts") == [
        ("acme", "Ana", "ana@acme.com", "admin")]
    written, errors = send(store, group("acme", plan="enterprise", region="NE"), identify("u1", role="admin"))
    assert errors == [] and (written.accounts, written.contacts) == (0, 0)


def test_the_account_of_an_event_context_then_properties_then_the_contact(store):
    send(store, group("a1", name="One"), group("a2", name="Two"), group("a3", name="Three"),
         identify("u1", context={"groupId": "a3"}))
    written, errors = send(
        store,
        track("e1", user="u1", account="a1", properties={"groupId": "a2"}),
        track("e2", user="u1", properties={"groupId": "a2"}),
        track("e3", user="u1", properties={"account_id": "a1"}),
        track("e4", user="u1"),
        track("e5", user="nobody-known", account="a2"),
    )
    assert errors == [] and written.events == 5
    assert rows(store, "SELECT event_id, account_id, contact_id FROM usage_events ORDER BY event_id") == [
        ("e1", "a1", "u1"), ("e2", "a2", "u1"), ("e3", "a1", "u1"), ("e4", "a3", "u1"), ("e5", "a2", None)]


def test_a_messageid_is_written_once_in_a_batch_and_across_batches_the_first_stands(store):
    send(store, group("acme", name="Acme"))
    written, errors = send(store, track("m1", account="acme", event="First"),
                           track("m1", account="acme", event="Again"), track("m2", account="acme"))
    assert errors == [] and (written.events, written.duplicates) == (2, 0)
    written, errors = send(store, track("m1", account="acme", event="Resent", timestamp="2025-03-01T11:59:59Z"),
                           track("m3", account="acme"))
    assert errors == [] and (written.events, written.duplicates) == (1, 1)
    assert rows(store, "SELECT event_id, event, occurred_at FROM usage_events ORDER BY event_id") == [
        ("m1", "First", NOW), ("m2", "Report Exported", NOW), ("m3", "Report Exported", NOW)]


def test_a_batch_with_one_bad_message_writes_nothing_and_names_it(store):
    written, errors = send(
        store,
        group("acme", name="Acme"),
        identify("u1", context={"groupId": "acme"}),
        track("m1", user="u1"),
        {"type": "track", "messageId": "m2", "userId": "u1"},  # no event
        track("m3", user="u1", account="ghost"),
    )
    assert [(e.index, e.message_id, str(e)) for e in errors] == [
        (3, "m2", "event: a track call needs the event's name"),
        (4, "m3", "account ghost does not exist: send a group call for it first"),
    ]
    assert written == tracking.Written()
    assert [store.count(t) for t in ("accounts", "contacts", "usage_events")] == [0, 0, 0]


def test_a_track_for_an_account_sent_later_is_refused_then_accepted(store):
    first = [track("m1", user="u9", account="late-co")]
    assert [str(e) for e in send(store, *first)[1]] == [
        "account late-co does not exist: send a group call for it first"]
    assert [str(e) for e in send(store, track("m2", user="u9"))[1]] == [
        "no account for this event: send context.groupId, or identify its userId with an account first"]
    assert send(store, group("late-co", name="Late Co"))[1] == []
    written, errors = send(store, *first)
    assert errors == [] and written.events == 1


def test_the_importer_checks_apply_to_group_and_identify(store):
    written, errors = send(store, group("acme", name="Acme", touch_model="premium", csm_id="c404"))
    assert sorted(str(e) for e in errors) == [
        "traits.csm_id: 'c404' — expected a csm_id that exists in csms",
        "traits.touch_model: 'premium' — expected one of: high, low, tech",
    ]
    assert store.count("accounts") == 0
    assert [str(e) for e in send(store, group("new-co", plan="pro"))[1]] == [
        "groupId new-co is a new account: traits.name is required"]
    assert [str(e) for e in send(store, identify("u1", name="Ana"))[1]] == [
        "contact u1 has no account: send context.groupId (or traits.company.id), or a group call with its userId"]


def test_ignored_calls_and_missing_identity(store):
    c = calls({"type": "alias", "userId": "u1", "previousId": "old"}, {"type": "identify", "anonymousId": "a1"},
              {"type": "track", "event": "X", "messageId": "m1"}, {"type": "bogus", "userId": "u1"}, "not an object")
    assert c.ignored == 2 and c.messages == []
    assert [(e.index, str(e)) for e in c.errors] == [
        (2, "userId or anonymousId is required"),
        (3, "type: expected one of identify, group, track, page, screen, alias, not 'bogus'"),
        (4, "expected a JSON object"),
    ]


def test_a_message_without_messageid_gets_one_from_its_content(store):
    send(store, group("acme", name="Acme"))
    same = {"type": "track", "userId": "u1", "event": "Login", "context": {"groupId": "acme"},
            "timestamp": "2025-03-01T10:00:00Z"}
    assert send(store, same)[0].events == 1
    assert send(store, same, sent_at="2025-03-01T12:00:01Z")[0].duplicates == 1  # resent: same id
    assert send(store, {**same, "timestamp": "2025-03-01T10:00:01Z"})[0].events == 1
    no_time = {k: v for k, v in same.items() if k != "timestamp"}  # happened when received: distinct
    assert send(store, no_time, received_at=NOW)[0].events == 1
    assert send(store, no_time, received_at=NOW + dt.timedelta(seconds=1))[0].events == 1
    assert store.count("usage_events") == 4


def test_concurrent_requests_in_one_round_are_each_all_or_nothing(store):
    send(store, group("acme", name="Acme"))
    a = calls(track("m1", account="acme"), track("m2", account="acme"))
    b = calls(track("m3", account="acme"), track("m4", account="ghost"))  # refused: m3 not written
    c = calls(track("m2", account="acme"), track("m3", account="acme"))  # m2 already in a; m3 is new
    d = calls(group("beta", name="Beta"), track("m5", account="beta"))  # not only tracks: on its own, in turn
    e = calls(track("m6", account="beta"))  # after d: beta exists
    answers = ingest_many(store, [a, b, c, d, e])
    assert [[str(x) for x in errors] for errors in answers] == [
        [], ["account ghost does not exist: send a group call for it first"], [], [], []]
    assert rows(store, "SELECT event_id, account_id FROM usage_events ORDER BY event_id") == [
        ("m1", "acme"), ("m2", "acme"), ("m3", "acme"), ("m5", "beta"), ("m6", "beta")]


# -- de-duplication: tracked_messages, its index, the upgrade from version 6 ----------------------
def test_a_resent_message_is_refused_however_many_events_are_stored(store):
    send(store, group("acme", name="Acme"))
    for n in range(4):  # 10,000 tracked events, e0 … e9999
        assert send(store, *[track(f"e{i}", account="acme") for i in range(n * 2500, (n + 1) * 2500)])[1] == []
    imported = pa.RecordBatch.from_pydict(  # and 20,000 from a file import
        {"event_id": [f"i{i}" for i in range(20_000)], "account_id": ["acme"] * 20_000,
         "event": ["Login"] * 20_000, "occurred_at": [NOW] * 20_000},
        schema=arrow_schema(table("usage_events"), ["event_id", "account_id", "event", "occurred_at"]))
    assert write_batches(store, "usage_events", [imported]).inserted == 20_000
    # a retry of 2,400 of them (more than one look-up's worth) with 100 new ones: the 100 are written
    resent = [track(f"e{i}", account="acme", event="Again") for i in range(5_000, 7_400)]
    written, errors = send(store, *resent, *[track(f"n{i}", account="acme") for i in range(100)])
    assert errors == [] and (written.events, written.duplicates) == (100, 2_400)
    # and through ingest_many, as the server's rounds write them: nothing new
    assert ingest_many(store, [calls(*resent[:1_000]), calls(*resent[1_000:])]) == [[], []]
    assert store.fetchall("SELECT count(*), count(DISTINCT event_id) FROM usage_events") == [(30_100, 30_100)]
    assert store.count("tracked_messages") == 10_100
    assert store.fetchall("SELECT count(*) FROM usage_events WHERE event = 'Again'") == [(0,)]


def test_tracked_messages_refuses_a_recorded_messageid_on_either_engine(store):
    """Its key is a unique index on DuckDB too (indexed_key): append refuses a key it holds."""
    tracked = table("tracked_messages")

    def batch(*ids):
        return pa.RecordBatch.from_pydict({"message_id": list(ids), "received_at": [NOW] * len(ids)},
                                          schema=arrow_schema(tracked))

    store.append(tracked, batch("m1", "m2"))
    with pytest.raises(KeyExists), store.transaction():
        store.append(tracked, batch("m3", "m2"))
    assert store.keys_held(tracked, ["m1", "m2", "m3"]) == {"m1", "m2"}  # the failed transaction wrote nothing
    many = [f"x{i}" for i in range(4_500)]  # three look-ups' worth
    store.append(tracked, batch(*many))
    assert store.keys_held(tracked, [*many[::2], "nope"]) == set(many[::2])


def test_a_message_sent_before_the_upgrade_to_version_7_is_still_written_once(store_url, monkeypatch):
    """Version 6 looked messageIds up in usage_events; the upgrade records the latest stored
    event_ids (here the latest 2, by occurred_at) in tracked_messages."""
    from sucesso.store import migrations
    from sucesso.store.engines import connect

    old = connect(store_url)
    migrations.migrate(old, to=6)
    old.execute("INSERT INTO accounts (account_id, name, created_at) VALUES ('acme', 'Acme', ?)", (NOW,))
    for event_id, hour in (("m-old", 9), ("m-before", 11), ("m-latest", 12)):  # written by version 6's API
        old.execute("INSERT INTO usage_events (event_id, account_id, event, occurred_at) "
                    "VALUES (?, 'acme', 'Login', ?)", (event_id, NOW.replace(hour=hour)))
    old.close()
    monkeypatch.setattr(migrations, "TRACKED_AT_UPGRADE", 2)
    with open_store(store_url) as upgraded:
        assert migrations.current_version(upgraded) >= 7
        assert sorted(r[0] for r in upgraded.fetchall("SELECT message_id FROM tracked_messages")) == [
            "m-before", "m-latest"]
        written, errors = send(upgraded, track("m-before", account="acme", event="Resent"),
                               track("m-after", account="acme"))
        assert errors == [] and (written.events, written.duplicates) == (1, 1)
        assert upgraded.fetchall("SELECT event_id, event FROM usage_events ORDER BY event_id") == [
            ("m-after", "Report Exported"), ("m-before", "Login"), ("m-latest", "Login"), ("m-old", "Login")]


# -- timestamps (Segment's clock-skew correction), sizes ----------------------------------------
def test_clock_skew_is_corrected_with_sent_at():
    # the device clock is 10 minutes fast: it says the event happened at 12:05 and was sent at 12:08;
    # received at 11:58:30 → the event happened 3 minutes before the receipt, 11:55:30
    t = dt.datetime
    assert corrected(t(2025, 3, 1, 12, 5), t(2025, 3, 1, 12, 8), t(2025, 3, 1, 11, 58, 30)) == t(2025, 3, 1, 11, 55, 30)
    assert corrected(t(2020, 1, 1), None, NOW) == t(2020, 1, 1)  # no sentAt: as sent (a historical import)
    assert corrected(None, t(2025, 3, 1, 12, 8), NOW) == NOW  # no timestamp: now
    c = calls({"type": "track", "userId": "u", "event": "E", "messageId": "m",
               "timestamp": "2025-03-01T09:05:00-03:00"},
              sent_at="2025-03-01T12:08:00.000Z", received_at=dt.datetime(2025, 3, 1, 11, 58, 30))
    assert c.messages[0].occurred_at == dt.datetime(2025, 3, 1, 11, 55, 30)  # -03:00 → UTC, then corrected
    c = calls({"type": "track", "userId": "u", "event": "E", "messageId": "m", "timestamp": "2025-03-01T12:05:00Z",
               "sentAt": "2025-03-01T12:07:00Z"}, sent_at="2025-03-01T12:08:00Z", received_at=NOW)
    assert c.messages[0].occurred_at == dt.datetime(2025, 3, 1, 11, 58)  # the message's own sentAt first


def test_timestamps_far_behind_or_ahead_are_errors():
    def error(**fields):
        c = calls({"type": "track", "userId": "u", "event": "E", "messageId": "m", **fields})
        return [str(e) for e in c.errors]

    assert error(timestamp="1969-12-31T23:59:59Z") == [
        "timestamp: 1969-12-31T23:59:59 is before 1970-01-01 (after the clock-skew correction)"]
    assert error(timestamp="2025-03-01T13:00:00Z") == []  # an hour ahead: a clock a bit fast
    assert error(timestamp="2025-03-01T13:00:01Z") == [
        "timestamp: 2025-03-01T13:00:01 is more than an hour after the call arrived (2025-03-01T12:00:00, UTC); "
        "send UTC or an offset, and sentAt"]
    # a device a day ahead, with its sentAt: corrected, not refused
    assert error(timestamp="2025-03-02T11:59:00Z", sentAt="2025-03-02T12:00:00Z") == []
    assert error(timestamp="2015-2-02T00:30:08.276Z") == [
        "timestamp: '2015-2-02T00:30:08.276Z' is not an ISO-8601 date and time"]
    assert error(timestamp=1700000000) == ["timestamp: 1700000000 is not an ISO-8601 date and time"]


def test_sizes_as_segment_documents_them():
    big = {"type": "track", "userId": "u", "event": "E", "messageId": "big", "properties": {"x": "a" * 33_000}}
    c = calls(track("small", user="u"), big)
    assert [(e.index, str(e)) for e in c.errors] == [(1, "the message is 32.3 KB; the limit is 32 KB")]
    with pytest.raises(Rejected, match="the request is larger than 32 KB"):
        read(orjson.dumps(big), "track", NOW)
    large = [{"type": "track", "userId": "u", "event": "E", "messageId": f"m{i}", "properties": {"x": "a" * 20_000}}
             for i in range(26)]
    assert 470 * 1024 < len(orjson.dumps({"batch": large[:24]})) <= 500 * 1024 < len(orjson.dumps({"batch": large}))
    assert len(read(orjson.dumps({"batch": large[:24]}), None, NOW).messages) == 24
    with pytest.raises(Rejected, match="the request is larger than 500 KB"):
        read(orjson.dumps({"batch": large}), None, NOW)
    with pytest.raises(Rejected, match="the batch has 2501 messages; the limit is 2500"):
        read(orjson.dumps({"batch": [track(f"m{i}") for i in range(2501)]}), None, NOW)
    with pytest.raises(Rejected, match="not valid JSON"):
        read(b"{nope", None, NOW)
    assert segment.MESSAGE_LIMIT == 32 * 1024 and segment.BATCH_LIMIT == 500 * 1024


# -- over HTTP ------------------------------------------------------------------------------------
@pytest.fixture
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def tokens_for(url: str) -> dict[str, str]:
    with open_store(url) as store:
        admin = users.create_user(store, "admin@example.com", "admin", "a long enough password")
        viewer = users.create_user(store, "viewer@example.com", "viewer", "a long enough password")
        return {"ingest": users.create_token(store, admin, "segment", "ingest")[1],
                "read": users.create_token(store, viewer, "reader", "read")[1]}


@pytest.fixture
def api(duckdb_url, cheap_hashes):
    from fastapi.testclient import TestClient

    from sucesso.web.app import create_app

    keys = tokens_for(duckdb_url)
    app = create_app(duckdb_url, precompute_in_background=False)
    with TestClient(app) as client:
        yield client, keys, app.state.workspace


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def test_every_call_over_http(api):
    client, keys, workspace = api
    h = basic(keys["ingest"])
    answers = [
        client.post("/v1/group", headers=h, json={"groupId": "acme", "userId": "u1", "traits": {"name": "Acme"}}),
        client.post("/v1/identify", headers=h, json={"userId": "u1", "traits": {"email": "ana@acme.com"},
                                                     "context": {"groupId": "acme"}}),
        client.post("/v1/track", headers=h, json={"userId": "u1", "event": "Login", "messageId": "t1"}),
        client.post("/v1/page", headers=h, json={"userId": "u1", "name": "Home", "messageId": "p1"}),
        client.post("/v1/screen", headers=h, json={"userId": "u1", "name": "Inbox", "messageId": "s1"}),
        client.post("/v1/alias", headers=h, json={"userId": "u1", "previousId": "anon-1"}),
        client.post("/v1/batch", headers=h, json={"batch": [{"type": "track", "userId": "u1", "event": "A",
                                                             "messageId": "b1"}]}),
        client.post("/v1/import", headers=h, json={"batch": [{"type": "track", "userId": "u1", "event": "B",
                                                              "messageId": "b2"}]}),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 8
    assert workspace.run(lambda s: s.fetchall("SELECT event_id, event, account_id, contact_id FROM usage_events "
                                              "ORDER BY event_id")) == [
        ("b1", "A", "acme", "u1"), ("b2", "B", "acme", "u1"), ("p1", "page", "acme", "u1"),
        ("s1", "screen", "acme", "u1"), ("t1", "Login", "acme", "u1")]
    assert workspace.run(lambda s: s.fetchall("SELECT contact_id, account_id, email FROM contacts")) == [
        ("u1", "acme", "ana@acme.com")]


def test_the_write_key_basic_bearer_or_body_and_the_refusals(api):
    client, keys, workspace = api
    workspace.run(lambda s: tracking.ingest(s, calls(group("acme", name="Acme"))))
    body = {"userId": "u1", "event": "Login", "context": {"groupId": "acme"}}
    ok = [client.post("/v1/track", headers=basic(keys["ingest"]), json={**body, "messageId": "k1"}),
          client.post("/v1/track", headers={"Authorization": f"Bearer {keys['ingest']}"},
                      json={**body, "messageId": "k2"}),
          client.post("/v1/track", json={**body, "messageId": "k3", "writeKey": keys["ingest"]})]
    assert [a.status_code for a in ok] == [200, 200, 200]
    unauthorised = [client.post("/v1/track", json=body),
                    client.post("/v1/track", headers=basic("suc_wrong"), json=body),
                    client.post("/v1/track", headers={"Authorization": "Basic !!notbase64"}, json=body),
                    client.post("/v1/batch", content=b"not json at all")]
    assert [a.status_code for a in unauthorised] == [401, 401, 401, 401]
    assert unauthorised[0].json()["code"] == "unauthorized" and "Basic" in unauthorised[0].headers["www-authenticate"]
    forbidden = client.post("/v1/track", headers=basic(keys["read"]), json=body)
    assert forbidden.status_code == 403 and forbidden.json()["success"] is False
    assert workspace.run(lambda s: s.count("usage_events")) == 3


def test_a_refused_batch_over_http_names_each_message_in_the_request_language(api):
    client, keys, workspace = api
    batch = {"batch": [track("m1", user="u1", account="ghost"), {"type": "track", "userId": "u1", "messageId": "m2"}]}
    answer = client.post("/v1/batch", headers=basic(keys["ingest"]) | {"Accept-Language": "en"}, json=batch)
    assert answer.status_code == 400
    assert answer.json() == {
        "success": False, "code": "invalid_request",
        "message": "2 message(s) cannot be written; nothing was written.",
        "errors": [{"index": 0, "messageId": "m1",
                    "message": "account ghost does not exist: send a group call for it first"},
                   {"index": 1, "messageId": "m2", "message": "event: a track call needs the event's name"}]}
    portuguese = client.post("/v1/batch", headers=basic(keys["ingest"]) | {"Accept-Language": "pt-BR"}, json=batch)
    assert portuguese.json()["errors"][0]["message"] == \
        "a conta ghost não existe: envie antes uma chamada group para ela"
    assert workspace.run(lambda s: s.count("usage_events")) == 0


def test_oversize_bodies_over_http_and_gzip(api):
    client, keys, workspace = api
    h = basic(keys["ingest"]) | {"Content-Type": "application/json", "Accept-Language": "en"}
    single = orjson.dumps({"userId": "u", "event": "E", "properties": {"x": "a" * 33_000}})
    answer = client.post("/v1/track", headers=h, content=single)
    assert (answer.status_code, answer.json()["message"]) == (400, "the request is larger than 32 KB")
    huge = orjson.dumps({"batch": [track(f"m{i}", properties={"x": "a" * 20_000}) for i in range(26)]})
    answer = client.post("/v1/batch", headers=h, content=huge)
    assert (answer.status_code, answer.json()["message"]) == (400, "the request is larger than 500 KB")
    answer = client.post("/v1/batch", headers=h | {"Content-Encoding": "gzip"}, content=gzip.compress(huge))
    assert (answer.status_code, answer.json()["message"]) == (400, "the request is larger than 500 KB")
    workspace.run(lambda s: tracking.ingest(s, calls(group("acme", name="Acme"))))
    small = orjson.dumps({"batch": [track("g1", account="acme")]})
    answer = client.post("/v1/batch", headers=h | {"Content-Encoding": "gzip"}, content=gzip.compress(small))
    assert answer.status_code == 200
    assert workspace.run(lambda s: s.count("usage_events")) == 1


# -- a real server on loopback: Segment's library, and concurrent senders that count -------------
@pytest.fixture
def served(store_url, cheap_hashes):
    """A uvicorn server on loopback over a workspace on either engine: (base URL, tokens, URL)."""
    from sucesso.web.app import create_app

    keys = tokens_for(store_url)
    with in_thread(create_app(store_url, precompute_in_background=False)) as base:
        yield base, keys, store_url


def count_events(url: str) -> tuple[int, int]:
    with open_store(url) as store:
        return store.fetchall("SELECT count(*), count(DISTINCT event_id) FROM usage_events")[0]


def test_segments_own_python_library_sends_to_sucesso(served):
    """analytics-python (segment-analytics-python), its host set to sucesso: its queue, its batches
    (gzip), its Basic auth — and on a refused batch, its error holds sucesso's code and message."""
    from segment.analytics import Client

    base, keys, url = served
    failures = []
    client = Client(keys["ingest"], host=base, gzip=True, max_retries=0, upload_interval=0.05,
                    on_error=lambda error, batch: failures.append(error))
    client.group("u1", "acme", {"name": "Acme", "plan": "pro", "employees": 12})
    client.identify("u1", {"name": "Ana", "email": "ana@acme.com"})
    for i in range(30):
        client.track("u1", "Report Exported", {"n": i}, timestamp=dt.datetime(2025, 3, 1, 10, i, tzinfo=dt.UTC))
    client.page("u1", name="Pricing")
    client.screen("u1", name="Inbox")
    client.alias("anon-1", "u1")
    client.flush()
    assert failures == []
    client.track("u2", "Login", context={"groupId": "nowhere"})
    client.flush()
    assert [(f.status, f.code) for f in failures] == [(400, "invalid_request")]
    with open_store(url) as store:
        assert store.fetchall("SELECT account_id, name, plan, seats FROM accounts") == [("acme", "Acme", "pro", 12)]
        assert store.fetchall("SELECT contact_id, account_id, email FROM contacts") == [("u1", "acme", "ana@acme.com")]
        assert store.fetchall("SELECT event, count(*) FROM usage_events GROUP BY event ORDER BY event") == [
            ("Report Exported", 30), ("page", 1), ("screen", 1)]
        first, last = store.fetchall("SELECT min(occurred_at), max(occurred_at) FROM usage_events "
                                     "WHERE event = 'Report Exported'")[0]
    # corrected by the batch's sentAt: the library's clock is this machine's, so only the
    # time in transit (milliseconds) moves them
    assert abs(first - dt.datetime(2025, 3, 1, 10, 0)) < dt.timedelta(seconds=5)
    assert abs(last - first - dt.timedelta(minutes=29)) < dt.timedelta(seconds=5)


def test_concurrent_senders_lose_nothing_and_write_nothing_twice(served):
    base, keys, url = served
    h = basic(keys["ingest"])
    with httpx.Client(base_url=base, timeout=60) as client:
        setup = {"batch": [group(f"acct-{i}", name=f"Account {i}") for i in range(20)]
                 + [identify(f"u{i}", context={"groupId": f"acct-{i % 20}"}) for i in range(100)]}
        assert client.post("/v1/batch", headers=h, json=setup).status_code == 200

    def batch(thread: int, n: int) -> bytes:
        """180 events of this thread's own, and 20 of its neighbour's (sent by both: a retry elsewhere)."""
        own = [f"t{thread}-b{n}-e{i}" for i in range(180)]
        neighbours = [f"t{(thread + 1) % 4}-b{n}-e{i}" for i in range(0, 180, 9)]
        messages = [{"type": "track", "userId": f"u{k % 100}", "event": "Login", "messageId": message_id,
                     "timestamp": "2025-03-01T10:00:00Z"} for k, message_id in enumerate(own + neighbours)]
        return orjson.dumps({"batch": messages, "sentAt": dt.datetime.now(dt.UTC).isoformat()})

    failures = []

    def sender(thread: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            for n in range(25):
                answer = client.post("/v1/batch", headers=h | {"Content-Type": "application/json"},
                                     content=batch(thread, n))
                if answer.status_code != 200:
                    failures.append(answer.text)

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    # 4 threads × 25 batches × 200 events = 20,000 sent, of which 4 × 25 × 20 = 2,000 twice:
    # 18,000 events, each once
    assert count_events(url) == (18_000, 18_000)


def test_a_messageid_a_file_import_wrote_as_an_event_id(store):
    """PostgreSQL's key on usage_events refuses it and the retry finds it there: sent before, not a
    500. DuckDB has no index on usage_events (store/engines.py): the documented second row."""
    send(store, group("acme", name="Acme"))
    imported = pa.RecordBatch.from_pydict(
        {"event_id": ["x1"], "account_id": ["acme"], "event": ["Login"], "occurred_at": [NOW]},
        schema=arrow_schema(table("usage_events"), ["event_id", "account_id", "event", "occurred_at"]))
    assert write_batches(store, "usage_events", [imported]).inserted == 1
    written, errors = send(store, track("x1", account="acme"), track("x2", account="acme"))
    assert errors == []
    keyed = store.keyed(table("usage_events"))
    rows_of_x1 = 1 if keyed else 2
    assert (written.events, written.duplicates) == ((1, 1) if keyed else (2, 0))
    assert store.fetchall("SELECT count(*) FROM usage_events WHERE event_id = 'x1'") == [(rows_of_x1,)]
