"""Hostile requests against the whole web app, over a copy of the 800-account demo workspace (and,
where a value reaches SQL, over PostgreSQL too):
schemathesis over every operation of the app's own OpenAPI schema (anonymous, an admin's session,
an admin's token); SQL injection in every query parameter, JSON field, form field and path id;
path traversal; oversized bodies; CSRF on every state-changing route; session fixation; the
cookies' flags; the security headers on every kind of response; and no secret in any log record
or any GET response.

Builds on tests/web/test_auth.py (CSRF on each settings form, the pre-session login token, session
renewal at sign-in, the login rate limit, the security headers of a page, an API answer and a
redirect, no hash in the account routes) and tests/web/test_routes.py (every GET route with every
role); here every route is walked, hostile values are sent, and what must not change is counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import APIRouter
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import response_schema_conformance
from servers import free_port, in_thread  # tests/servers.py

from sucesso.ingest import stripe_webhook
from sucesso.ingest.sources import SOURCES
from sucesso.operations import notify
from sucesso.store import open_store
from sucesso.store.schema import CANONICAL
from sucesso.web import users
from sucesso.web.app import create_app
from sucesso.web.auth import SAFE_METHODS
from sucesso.web.limits import body_limit
from sucesso.web.pages import imports

PASSWORD = "a long enough password"
ADMIN, MANAGER, VIEWER = "admin@example.com", "manager@example.com", "viewer@example.com"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SQL_PAYLOADS = (
    "' OR 1=1 --",
    '"; DROP TABLE accounts; --',
    "\u2019 OR \u20181\u2019=\u20181",  # unicode quotes, which some drivers fold into ASCII ones
    "1); DELETE FROM users; --",
    "%' OR '%'='",
)
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def cheap_argon2():
    """argon2 at its lowest cost: the same code path, a hundred times faster."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        mp.setattr(users, "_UNKNOWN_USER_HASH", None)
        yield


def add_people(store) -> None:
    for email, role in ((ADMIN, "admin"), (MANAGER, "manager"), (VIEWER, "viewer")):
        users.create_user(store, email, role, PASSWORD)


def app_over(url: str):
    """The app over `url` (its workspace closed when the module's tests are done)."""
    app = create_app(url, precompute_in_background=False)
    yield app
    app.state.workspace.close()


def demo_copy(demo_url: str, folder) -> str:
    """A throw-away copy of the demo workspace with an admin, a manager and a viewer."""
    url = str(folder / "demo.duckdb")
    shutil.copy(demo_url, url)
    with open_store(url) as store:
        add_people(store)
    return url


@pytest.fixture(scope="module")
def hostile_app(demo_url, tmp_path_factory, cheap_argon2):
    yield from app_over(demo_copy(demo_url, tmp_path_factory.mktemp("hostile")))


@pytest.fixture(scope="module")
def fuzzed_app(demo_url, tmp_path_factory, cheap_argon2):
    """Its own copy: schemathesis writes whatever the schema allows."""
    url = demo_copy(demo_url, tmp_path_factory.mktemp("fuzzed"))
    with open_store(url) as store:
        stripe_webhook.set_secret(store, "whsec_fuzzing")  # else the webhook answers 503 (not set up), rightly
    yield from app_over(url)


@pytest.fixture(scope="module")
def postgres_app(postgres, cheap_argon2):
    """The same app over PostgreSQL: a 40-account demo company in a new database of the cluster."""
    from sucesso.demo.load import load_demo

    url = postgres.new_database()
    with open_store(url) as store:
        load_demo(store, accounts=40, seed=7, health_history=False)
        add_people(store)
    yield from app_over(url)


@pytest.fixture(params=["duckdb", "postgres"])
def engine_app(request):
    """The hostile requests that reach SQL go to both engines."""
    return request.getfixturevalue("hostile_app" if request.param == "duckdb" else "postgres_app")


def run(app, job):
    return app.state.workspace.run(job)


def signed_in(app, email: str = ADMIN, base_url: str = "http://testserver") -> TestClient:
    client = TestClient(app, base_url=base_url, follow_redirects=False)
    token = CSRF_FIELD.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient) -> str:
    return client.get("/api/me").json()["csrf_token"]


def new_token(app, email: str = ADMIN, scopes: str = "admin") -> tuple[str, str]:
    return run(app, lambda s: users.create_token(s, users.user_by_email(s, email), "hostile", scopes))


def bearer(app, token: str, **kwargs) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"}, follow_redirects=False, **kwargs)


def table_counts(app) -> dict[str, int]:
    def count(store):
        return {t: store.count(t) for t in sorted(store.table_names()) if not t.startswith("ibis_")}  # not Ibis' own

    return run(app, count)


def all_routes(routes) -> Iterator:
    for route in routes:
        nested = getattr(route, "original_router", None)  # an included router
        yield from all_routes(nested.routes) if nested is not None else [route]


def known_ids(app) -> dict[str, list[str]]:
    """Real ids of the workspace, for the path parameters and fields that name one."""
    def read(store):
        first = lambda sql: [r[0] for r in store.fetchall(sql)]  # noqa: E731
        return {"account_id": first("SELECT account_id FROM accounts ORDER BY account_id LIMIT 3"),
                "task_id": first("SELECT task_id FROM tasks WHERE status = 'open' ORDER BY task_id LIMIT 3"),
                "request_id": first("SELECT request_id FROM churn_requests ORDER BY request_id LIMIT 3"),
                "csm_id": first("SELECT csm_id FROM csms ORDER BY csm_id LIMIT 2"),
                "user_id": first(f"SELECT user_id FROM users WHERE email = '{VIEWER}'")}

    return run(app, read)


def asgi_call(app, method: str, path: str, headers: Iterable[tuple[str, str]] = (), chunks: Iterable[bytes] = (),
              query: str = "", raw_path: bytes | None = None) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight to the ASGI app, as a server hands it over: `path` as given (no
    normalisation of .. or %2e), the body chunk by chunk from `chunks` (a generator may be
    endless). Returns the status, the headers, the body and how many chunks the app read."""
    chunks = iter(chunks)
    read = 0
    status, answer_headers, body = 0, {}, bytearray()

    async def exchange():
        nonlocal read, status, answer_headers
        answered, body_done = asyncio.Event(), False

        async def receive():
            nonlocal read, body_done
            if body_done:
                await answered.wait()
                return {"type": "http.disconnect"}
            chunk = next(chunks, None)
            if chunk is None:
                body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            read += 1
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message):
            nonlocal status, answer_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                answer_headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    answered.set()

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": raw_path or quote(path).encode(), "root_path": "",
                 "query_string": query.encode(), "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
                 "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers)]}
        await asyncio.wait_for(app(scope, receive, send), 60)

    asyncio.run(exchange())
    return status, answer_headers, bytes(body), read


# -- schemathesis: the app's own OpenAPI schema ------------------------------------------------
AUTH_MODES = ("anonymous", "admin session", "admin token")
EXAMPLES = 20
FEWER = {"/api/playbooks/run": 3}  # a second per run over 800 accounts


@pytest.fixture
def hypothesis_restored():
    """schemathesis patches Hypothesis's internals the first time it builds a strategy (a printer
    that prints nothing, a larger buffer): they are put back afterwards, so that the rest of the
    suite reports its falsifying examples as usual."""
    from hypothesis import core as root_core
    from hypothesis.internal import entropy
    from hypothesis.internal.conjecture import engine
    from hypothesis.strategies._internal import collections, core
    from schemathesis.generation.hypothesis import setup

    patched = [(root_core, "RepresentationPrinter"), (root_core, "BUFFER_SIZE"), (engine, "BUFFER_SIZE"),
               (collections, "BUFFER_SIZE"), (core, "is_first_param_referenced_in_function"),
               (entropy, "register_random")]
    saved = [(module, name, getattr(module, name)) for module, name in patched]
    yield
    for module, name, value in saved:
        setattr(module, name, value)
    setup._is_patched = False


def fuzzing_client(app, auth: str) -> tuple[ASGIClient, str | None]:
    """A requests session straight to the app (no lifespan) with `auth`; and the token used, if any."""
    client = ASGIClient(app)
    if auth == "admin token":
        token_id, token = new_token(app)
        client.headers["Authorization"] = f"Bearer {token}"
        return client, token_id
    if auth == "admin session":
        cookie, csrf = run(app, lambda s: users.start_session(s, users.user_by_email(s, ADMIN).user_id))
        client.cookies.set("sucesso_session", cookie)
        client.headers["X-CSRF-Token"] = csrf
    return client, None


def fuzz(operation, client: ASGIClient, known: dict[str, list[str]], examples: int) -> None:
    """Positive and negative cases of one operation; a path parameter or body field that names
    something (account_id, task_id, table…) is now and then a real one, so that the cases get
    past "not found" into the code behind it."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @given(case=strategy, data=st.data())
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case, data):
        for values in (case.path_parameters, case.query, case.body):
            if isinstance(values, dict):
                for name in [n for n in values if known.get(n)]:
                    values[name] = data.draw(st.sampled_from([values[name], *known[name]]))
        case.call_and_validate(session=client, base_url="http://testserver",
                               checks=[not_a_server_error, response_schema_conformance])

    check()


@pytest.mark.slow
@pytest.mark.parametrize("auth", AUTH_MODES)
def test_every_operation_of_the_openapi_schema_holds_under_fuzzing(fuzzed_app, auth, hypothesis_restored):
    """No 5xx and no answer outside the schema, for any input the schema allows or refuses."""
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(fuzzed_app.openapi())))  # a copy: it resolves
    client, auth_token = fuzzing_client(fuzzed_app, auth)
    spare_token, _ = new_token(fuzzed_app, MANAGER, "read")  # revocable by the fuzzer; its own token is not
    known = {**known_ids(fuzzed_app), "token_id": [spare_token],
             "table": [t.name for t in CANONICAL] + list(SOURCES),
             "action": ["complete", "snooze", "reassign", "cancel"], "kpi": ["nrr", "logo_churn_rate"]}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz(operation, client, known, FEWER.get(operation.path, EXAMPLES))
        except (Exception, ExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations == sum(len(p) for p in fuzzed_app.openapi()["paths"].values()) > 30
    assert not failures, "\n\n".join(failures)
    if auth_token:
        assert run(fuzzed_app, lambda s: users.get_token(s, auth_token).revoked_at) is None


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12)
STRIPE_EVENTS = sorted((Path(__file__).parents[1] / "data" / "stripe").glob("*.json"))  # Stripe's own examples


def damaged(event: dict, changes: dict[str, object], item_changes: dict[str, object]) -> dict:
    """A copy of `event` whose object (and its first item, if any) has fields replaced or added."""
    event = json.loads(json.dumps(event))
    obj = event["data"]["object"]
    obj.update(changes)
    items = (obj.get("items") or {}).get("data") if isinstance(obj.get("items"), dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        items[0].update(item_changes)
    return event


@given(example=st.sampled_from(STRIPE_EVENTS), created=st.integers(1_500_000_000, 1_900_000_000) | JSON,
       event_id=st.text(min_size=1),
       changes=st.dictionaries(st.text(max_size=20) | st.sampled_from(["customer", "status", "items", "currency",
                                                                        "created", "metadata", "address", "plan",
                                                                        "discount", "amount_due", "lines"]),
                               JSON, max_size=4),
       item_changes=st.dictionaries(st.sampled_from(["price", "plan", "quantity"]), JSON, max_size=2))
@settings(max_examples=80, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_signed_stripe_events_of_any_shape_never_fail_the_server(fuzzed_app, example, created, event_id, changes,
                                                                 item_changes):
    """Past the signature (the schema cannot reach there): Stripe's own example events with fields
    replaced by any JSON are applied, ignored, or refused with 400/422, never a 5xx."""
    event = {**damaged(json.loads(example.read_text()), changes, item_changes), "id": event_id, "created": created}
    payload = json.dumps(event).encode()
    response = TestClient(fuzzed_app).post("/webhooks/stripe", content=payload, headers={
        "Stripe-Signature": stripe_signature(payload, "whsec_fuzzing"), "Content-Type": "application/json"})
    assert response.status_code in (200, 400, 422), response.text


def test_what_the_fuzzing_found_stays_fixed(fuzzed_app):
    """Each was a 500: an upload read as a workbook under a name openpyxl refuses; Stripe events whose
    time, data, object type or customer is not what Stripe documents."""
    api = bearer(fuzzed_app, new_token(fuzzed_app)[1])
    for url, name in (("/api/import/accounts?format=xlsx", "export"), ("/api/import/workbook", "a.csv")):
        assert api.post(url, files={"file": (name, b"not a workbook")}).status_code == 422, url
    example = {p.name.removesuffix(".json"): json.loads(p.read_text()) for p in STRIPE_EVENTS}
    customer, subscription = example["customer.created"], example["customer.subscription.created"]
    found = [{**customer, "created": "yesterday"}, {**customer, "data": ["x"]},
             damaged(customer, {"object": ["customer"]}, {}), damaged(subscription, {"customer": []}, {})]
    for number, event in enumerate([customer, *found]):  # (the customer first: its row makes the list reach SQL)
        payload = json.dumps({**event, "id": f"evt_found_{number}"}).encode()
        response = TestClient(fuzzed_app).post("/webhooks/stripe", content=payload, headers={
            "Stripe-Signature": stripe_signature(payload, "whsec_fuzzing")})
        assert response.status_code in (200, 400), (number, response.text)


def test_every_api_route_is_in_the_openapi_schema(hostile_app):
    """So that the fuzzing above reaches all of them (pages and forms are walked below)."""
    documented = {(m.upper(), p) for p, ops in hostile_app.openapi()["paths"].items() for m in ops}
    api = {(m, r.path) for r in all_routes(hostile_app.routes) for m in getattr(r, "methods", None) or ()
           if r.path.startswith(("/api/", "/v1/", "/webhooks/")) and m != "HEAD"}
    assert api == documented


# -- SQL injection ------------------------------------------------------------------------------
FILTERS = ("q", "band", "csm_id", "segment", "plan", "touch_model", "sort", "page", "all", "outcome", "reason",
           "assignee", "playbook", "lang", "done")
CHECKED = ("month", "moved", "activity", "from", "to", "period", "status", "limit")  # each may refuse the request


def get_paths(app, account_id: str, prefix: str) -> list[str]:
    paths = {r.path.replace("{account_id}", account_id) for r in all_routes(app.routes)
             if "GET" in (getattr(r, "methods", None) or ()) and r.path.startswith(prefix)}
    return sorted(p for p in paths if "{" not in p)


def test_sql_injection_in_query_parameters_finds_nothing_and_changes_nothing(engine_app):
    """Every GET route with every query parameter the app reads set to each payload: the free
    filters together, and each parameter that may refuse the request alone (so that no refusal
    hides another parameter). No 5xx, filters that match nothing still match nothing, and every
    table keeps its rows."""
    admin, pages = bearer(engine_app, new_token(engine_app)[1]), signed_in(engine_app)
    account = known_ids(engine_app)["account_id"][0]
    api = get_paths(engine_app, account, "/api/")
    html = [p for p in get_paths(engine_app, account, "/")
            if not p.startswith(("/api/", "/static", "/vendor", "/docs", "/login", "/openapi"))]
    assert len(api) > 15 and len(html) > 12
    before = table_counts(engine_app)
    for number, payload in enumerate(SQL_PAYLOADS):
        alone = CHECKED if number < 2 else ()  # (two payloads suffice for the checked ones: they refuse early)
        for path in api:
            for query in [dict.fromkeys(FILTERS, payload), *({name: payload} for name in alone)]:
                response = admin.get(path, params=query)
                assert response.status_code < 500, (path, query, response.text)
        for path in html:
            response = pages.get(path, params=dict.fromkeys(FILTERS + CHECKED, payload))
            assert response.status_code < 500, (path, payload, response.text)
        for name in ("q", "band", "csm_id", "segment", "plan", "touch_model"):
            assert admin.get("/api/accounts", params={name: payload, "all": "1"}).json()["total"] == 0, name
        assert admin.get("/api/tasks", params={"assignee": payload, "status": "all"}).json()["total"] == 0
        assert admin.get("/api/tasks", params={"playbook": payload, "status": "all", "assignee": "all"}
                         ).json()["total"] == 0
        assert admin.get("/api/churn", params={"reason": payload, "outcome": "all"}).json()["requests"] == []
    assert table_counts(engine_app) == before


def test_sql_injection_in_path_ids_is_not_found(engine_app):
    admin, page = bearer(engine_app, new_token(engine_app)[1]), signed_in(engine_app)
    before = table_counts(engine_app)
    for payload in SQL_PAYLOADS:
        its = quote(payload, safe="")
        for path in (f"/api/accounts/{its}", f"/api/accounts/{its}/review"):
            assert admin.get(path).status_code == 404, path
        for path in (f"/accounts/{its}", f"/accounts/{its}/review", f"/accounts/{its}/review.pdf"):
            assert page.get(path).status_code == 404, path
        assert admin.delete(f"/api/tokens/{its}").status_code == 404
        assert admin.post(f"/api/import/{its}", files={"file": ("a.csv", b"account_id\nx\n")}).status_code == 404
        assert admin.post(f"/api/tasks/{its}", json={"task_id": "x"}).status_code == 404
        form = {"csrf_token": csrf_of(page)}
        assert page.post(f"/settings/users/{its}/role", data={**form, "role": "viewer"}).status_code == 400
        assert page.post(f"/settings/users/{its}/active", data={**form, "active": "0"}).status_code == 400
        assert page.post(f"/settings/tokens/{its}/revoke", data=form).status_code == 400
        assert page.post("/tasks/complete", data={**form, "task_id": payload}).status_code == 404
        assert page.post("/churn/requests/decide", data={**form, "request_id": payload, "outcome": "churned"}
                         ).status_code in (400, 404)
    assert table_counts(engine_app) == before


def test_sql_injection_in_json_and_form_fields_is_stored_as_text(engine_app):
    """Ids that name nothing are refused; free text is kept exactly as sent (so it went in as a
    parameter, not as SQL); no table loses a row."""
    admin, page = bearer(engine_app, new_token(engine_app)[1]), signed_in(engine_app)
    known = known_ids(engine_app)
    account, task, request_id = known["account_id"][0], known["task_id"][0], known["request_id"][0]
    reason = admin.get("/api/churn").json()["choices"][0]["code"]
    before = table_counts(engine_app)
    for payload in SQL_PAYLOADS:
        assert admin.post("/api/tasks", json={"account_id": payload, "title": "x"}).status_code == 404
        made = admin.post("/api/tasks", json={"account_id": account, "title": payload, "notes": payload})
        assert made.status_code == 200 and (made.json()["title"], made.json()["notes"]) == (payload, payload)
        assert admin.post("/api/tasks", json={"account_id": account, "title": "x", "assignee_csm_id": payload}
                          ).status_code < 500
        assert admin.post("/api/tasks/complete", json={"task_id": payload}).status_code == 404
        assert admin.post("/api/tasks/reassign", json={"task_id": task, "csm_id": payload}).status_code == 409
        assert admin.post("/api/churn/requests", json={"account_id": payload, "reason_code": reason}
                          ).status_code == 404
        assert admin.post("/api/churn/requests", json={"account_id": account, "reason_code": payload}
                          ).status_code == 400
        assert admin.post("/api/churn/requests/decide", json={"request_id": payload, "outcome": "churned"}
                          ).status_code == 404
        for field in ("kpi", "period", "direction", "value"):
            target = {"kpi": "nrr", "value": 1.05, "period": "2031", field: payload}
            assert admin.post("/api/targets", json=target).status_code == 400, field
        assert admin.delete("/api/targets", params={"kpi": payload, "period": "2031"}).status_code in (400, 404)
        token = admin.post("/api/tokens", json={"name": payload, "scopes": ["read"]})
        assert token.status_code == 201 and token.json()["name"] == payload.strip()
        assert admin.post("/api/tokens", json={"name": "x", "scopes": [payload]}).status_code == 400
        assert admin.get("/api/notifications", params={"status": payload}).status_code == 422
        assert admin.post("/api/import/accounts", params={"map": f"{payload}=name", "delimiter": payload[:1]},
                          files={"file": ("a.csv", b"account_id,name\nx1,X\n")}).status_code < 500
        assert admin.post("/api/import/accounts", params={"preset": payload},
                          files={"file": ("a.csv", b"account_id,name\nx1,X\n")}).status_code == 422
        form = {"csrf_token": csrf_of(page)}
        assert page.post("/settings/users", data={**form, "email": payload, "role": "viewer"}).status_code == 400
        assert page.post("/settings/users", data={**form, "email": "x@example.com", "role": payload}
                         ).status_code == 400
        assert page.post("/targets", data={**form, "kpi": payload, "value": "1", "period": "2031"}).status_code == 400
        assert page.post("/churn/requests", data={**form, "account_id": payload, "reason_code": reason}
                         ).status_code in (400, 404)
        login = TestClient(engine_app, follow_redirects=False)
        nonce = CSRF_FIELD.search(login.get("/login").text).group(1)
        assert login.post("/login", data={"email": payload, "password": payload, "csrf_token": nonce}
                          ).status_code == 401
    opened = admin.post("/api/churn/requests", json={"account_id": account, "reason_code": reason,
                                                     "detail": SQL_PAYLOADS[1]})
    assert opened.status_code == 201
    assert run(engine_app, lambda s: s.fetchall("SELECT reason_detail FROM churn_requests WHERE request_id = ?",
                                                 (opened.json()["request_id"],))) == [(SQL_PAYLOADS[1],)]
    assert admin.post("/api/tasks/complete", json={"task_id": task, "notes": SQL_PAYLOADS[0]}).status_code == 200
    after = table_counts(engine_app)
    assert set(after) == set(before) and all(after[t] >= before[t] for t in before)  # nothing dropped or deleted
    assert after["accounts"] == before["accounts"] and after["users"] == before["users"]
    assert after["tasks"] - before["tasks"] >= len(SQL_PAYLOADS)
    assert run(engine_app, lambda s: s.fetchall("SELECT count(*) FROM churn_requests WHERE request_id = ?",
                                                 (request_id,)))[0][0] == 1


UNSTORABLE = ("a\x00b", "\x00")  # NUL: PostgreSQL refuses it in text


def test_text_no_workspace_can_store_is_refused_alike_on_both_engines(engine_app):
    """A NUL character anywhere (path, query, form, JSON) or a lone surrogate in JSON: 400, the same on
    DuckDB as on PostgreSQL (where it would fail the SQL), and nothing written."""
    admin, page = bearer(engine_app, new_token(engine_app)[1]), signed_in(engine_app)
    account = known_ids(engine_app)["account_id"][0]
    before = table_counts(engine_app)
    form = {"csrf_token": csrf_of(page)}
    for payload in UNSTORABLE:
        its = quote(payload, safe="")
        answers = {
            "query": admin.get("/api/tasks", params={"assignee": payload}),
            "query name": admin.get("/api/accounts", params={payload: "x"}),
            "path": admin.get(f"/api/accounts/{its}"),
            "page path": page.get(f"/accounts/{its}"),
            "json": admin.post("/api/tasks", json={"account_id": account, "title": payload}),
            "json key": admin.post("/api/targets", json={"kpi": "nrr", "value": 1, "period": "2031", payload: 1}),
            "form": page.post("/settings/users", data={**form, "email": "n@example.com", "name": payload}),
            "multipart form": page.post("/settings/language", files={"locale": (None, payload),
                                                                      "csrf_token": (None, form["csrf_token"])}),
            "sign-in": TestClient(engine_app).post("/login", data={"email": payload, "password": payload}),
            "import option": admin.post("/api/import/accounts", params={"delimiter": payload},
                                        files={"file": ("a.csv", b"account_id\nx\n")}),
        }
        for where, response in answers.items():
            assert response.status_code == 400, (where, response.status_code, response.text[:200])
        tracked = admin.post("/v1/track", json={"userId": payload, "event": "x", "context": {"groupId": account}})
        assert tracked.status_code == 400 and "NUL" in tracked.json()["errors"][0]["message"]
    surrogate = b'{"account_id": "%s", "title": "\\ud800"}' % account.encode()
    assert admin.post("/api/tasks", content=surrogate, headers={"Content-Type": "application/json"}).status_code == 400
    assert admin.post("/v1/track", content=b'{"userId": "\\ud800", "event": "x"}').status_code == 400
    assert table_counts(engine_app) == before


# -- path traversal -----------------------------------------------------------------------------
TRAVERSALS = (
    "/static/../../../../../../etc/passwd",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/static/..\\..\\..\\..\\etc\\passwd",
    "/static//etc/passwd",
    "/static/app.css/../../../../etc/passwd",
    "/static/\x00../../etc/passwd",
    "/vendor/swagger/../../../../../../etc/passwd",
    "/vendor/swagger/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/vendor/swagger/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/vendor/plotly.min.js/../../../etc/passwd",
    "/accounts/../../../../etc/passwd",
    "/docs/../../etc/passwd",
)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_reaches_a_file_outside_the_static_folders(hostile_app, path):
    """As a server hands the path over: percent-decoded once (%2f → /), never normalised."""
    status, headers, body, _ = asgi_call(hostile_app, "GET", unquote(path), raw_path=path.encode())
    assert status in (400, 404), (status, body[:200])
    assert b"root:" not in body and all(h in headers for h in SECURITY_HEADERS)


def test_path_traversal_in_account_ids_is_not_found(hostile_app):
    """Ids that climb out (as a server hands them over: %2F and %2E decoded, nothing normalised)
    name no account; an upload keeps only its base name."""
    api = [("Authorization", f"Bearer {new_token(hostile_app)[1]}")]
    pages = [("Cookie", f"sucesso_session={signed_in(hostile_app).cookies.get('sucesso_session')}")]
    for account_id in ("..", "%2E%2E", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%5C..%5Cetc%5Cpasswd", "%2Fetc%2Fpasswd"):
        for headers, path in ((api, f"/api/accounts/{account_id}"), (api, f"/api/accounts/{account_id}/review"),
                              (pages, f"/accounts/{account_id}"), (pages, f"/accounts/{account_id}/review.pdf")):
            status, _, body, _ = asgi_call(hostile_app, "GET", unquote(path), headers, raw_path=path.encode())
            assert status == 404 and b"root:" not in body, (path, status)
    upload = bearer(hostile_app, api[0][1].split()[1]).post(
        "/api/import/accounts", files={"file": ("../../etc/passwd", b"account_id\nx\n")})
    assert upload.status_code in (200, 422) and "/etc" not in upload.text and upload.json()["file"] == "passwd"


# -- oversized bodies ---------------------------------------------------------------------------
CHUNK = 64 * 1024


def endless(first: bytes = b"", filler: bytes = b"x" * CHUNK) -> Iterator[bytes]:
    """A body that never ends: what the app reads of it is counted by asgi_call."""
    if first:
        yield first
    yield from itertools.repeat(filler)


def multipart_head(boundary: str = "hostile") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\naccount_id,name\r\n").encode()


@pytest.fixture
def small_import_limit(monkeypatch):
    """The importer's limit at 4 MB (the same code as at 512 MB, quicker to pass)."""
    monkeypatch.setattr(imports, "MAX_BYTES", 4 * 1024 * 1024)
    return imports.MAX_BYTES + 1024 * 1024


def test_the_limits_of_each_route_family():
    mb = 1024 * 1024
    assert body_limit("/api/import/accounts") == 513 * mb  # the importer's 512 MB and 1 MB of envelope
    assert body_limit("/api/tasks") == body_limit("/settings/users") == body_limit("/login") == 2 * mb
    assert body_limit("/v1/batch") is body_limit("/webhooks/stripe") is None  # their handlers stop at their own


def test_oversized_bodies_are_refused_without_being_read(hostile_app, small_import_limit):
    ingest = ("Authorization", f"Bearer {new_token(hostile_app)[1]}")
    session = signed_in(hostile_app)
    cookie = ("Cookie", f"sucesso_session={session.cookies.get('sucesso_session')}")
    json_type, form_type = ("Content-Type", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")
    multipart = ("Content-Type", "multipart/form-data; boundary=hostile")
    # (method, path, headers, first bytes, the limit in bytes, the status past it[, the filler])
    cases = [
        ("POST", "/api/import/accounts", [ingest, multipart], multipart_head(), small_import_limit, 413),
        ("POST", "/api/tasks", [ingest, json_type], b'{"title": "', 2 * 1024 * 1024, 413),
        ("POST", "/api/tasks", [json_type], b'{"title": "', 2 * 1024 * 1024, 413),  # nobody signed in
        ("POST", "/settings/language", [cookie, form_type], b"locale=", 1024 * 1024, 400),  # Starlette: 1 MB a field
        ("POST", "/settings/language", [cookie, form_type], b"locale=", 2 * 1024 * 1024, 413, b"&a=" + b"x" * CHUNK),
        ("POST", "/login", [form_type], b"email=", 1024 * 1024, 400),
        ("POST", "/v1/track", [ingest, json_type], b'{"userId": "', 32 * 1024, 400),  # Segment's answer
        ("POST", "/v1/batch", [ingest, json_type], b'{"batch": "', 500 * 1024, 400),
        ("POST", "/webhooks/stripe", [json_type], b'{"id": "', 4 * 1024 * 1024, 413),
    ]
    before = table_counts(hostile_app)
    for method, path, headers, first, limit, status, *filler in cases:
        started = time.perf_counter()
        got, answer_headers, body, read = asgi_call(hostile_app, method, path, headers, endless(first, *filler))
        assert got == status, (path, got, body[:300])
        assert read <= limit // CHUNK + 2, (path, read)  # stopped at the limit, not at the end (there is none)
        assert time.perf_counter() - started < 10, path
        assert all(h in answer_headers for h in SECURITY_HEADERS), path
        declared = [*headers, ("Content-Length", str(100 * limit))]  # a declared length over the limit: nothing read
        if not path.startswith(("/v1/", "/webhooks/")):
            got, _, body, read = asgi_call(hostile_app, method, path, declared, endless(first))
            assert (got, read) == (413, 0), (path, got, read, body[:200])
            assert b"MB" in body
    assert table_counts(hostile_app) == before


def test_a_body_within_the_limits_still_goes_through(hostile_app):
    """The limit is no obstacle to a large but legal body: 1.5 MB of JSON is a 422 (too long a
    title), not a 413; a 30 KB Segment call is written."""
    client = bearer(hostile_app, new_token(hostile_app)[1])
    account = known_ids(hostile_app)["account_id"][0]
    response = client.post("/api/tasks", json={"account_id": account, "title": "x" * (1536 * 1024)})
    assert response.status_code == 422
    track = {"userId": "u-big", "event": "Big", "properties": {"blob": "y" * (30 * 1024)},
             "context": {"groupId": account}}
    assert client.post("/v1/track", json=track).json() == {"success": True}


# -- CSRF and sessions ----------------------------------------------------------------------------
CSRF_EXEMPT = ("/v1/", "/webhooks/")  # a write key or Stripe's signature, never a cookie, says who asks


def state_changing_routes(app, ids: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for route in all_routes(app.routes):
        path = getattr(route, "path", "")
        for method in sorted(set(getattr(route, "methods", None) or ()) - SAFE_METHODS):
            if not path.startswith(CSRF_EXEMPT):
                found.append((method, re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)))
    return found


def test_every_state_changing_route_refuses_a_missing_foreign_or_cross_site_csrf_token(hostile_app):
    """Every POST/DELETE/PUT/PATCH route of the app (walked from its routes, so a new one is covered),
    with a signed-in admin's session cookie: no token, another session's, an empty one, or a
    cross-site Origin without one — 403, and nothing changed. The app does not read Origin: the
    token decides, and a page of another site cannot read it (SameSite=Lax keeps the cookie off
    its POSTs as well)."""
    admin, other = signed_in(hostile_app), signed_in(hostile_app, MANAGER)
    known = known_ids(hostile_app)
    ids = {"account_id": known["account_id"][0], "token_id": new_token(hostile_app)[0], "user_id": known["user_id"][0],
           "action": "complete", "table": "accounts"}
    routes = state_changing_routes(hostile_app, ids)
    assert len(routes) >= 25 and ("POST", "/login") in routes and ("DELETE", "/api/tokens/" + ids["token_id"]) in routes
    foreign = csrf_of(other)
    cross_site = {"Origin": "https://evil.example", "Referer": "https://evil.example/form"}
    before = table_counts(hostile_app)
    for method, path in routes:
        api = path.startswith("/api/")
        attempts = {
            "missing": {},
            "another session's": {"headers": {"X-CSRF-Token": foreign}} if api else {"data": {"csrf_token": foreign}},
            "cross-site": {"headers": cross_site},
            "empty": {"headers": {"X-CSRF-Token": ""}} if api else {"data": {"csrf_token": ""}},
        }
        for name, extra in attempts.items():
            if api and "data" not in extra:
                extra = {**extra, "json": {}}
            response = admin.request(method, path, **extra)
            assert response.status_code == 403, (method, path, name, response.status_code, response.text[:200])
    assert table_counts(hostile_app) == before
    assert admin.get("/api/me").json()["email"] == ADMIN  # not signed out either


def test_a_session_planted_before_sign_in_dies_at_sign_in(hostile_app):
    """Session fixation: a session id planted in the victim's browser is never the one the victim
    gets — whether made up (ignored) or the attacker's own live session (ended by the sign-in)."""
    attacker = signed_in(hostile_app, VIEWER)
    for planted in ("made-up-by-the-attacker", attacker.cookies.get("sucesso_session")):
        victim = TestClient(hostile_app, follow_redirects=False)
        victim.cookies.set("sucesso_session", planted, domain="testserver.local")
        form = victim.get("/settings" if victim.get("/api/me").status_code == 200 else "/login").text
        response = victim.post("/login", data={"email": MANAGER, "password": PASSWORD,
                                               "csrf_token": CSRF_FIELD.search(form).group(1)})
        assert response.status_code == 303
        fresh = victim.cookies.get("sucesso_session")
        assert fresh and fresh != planted
        assert victim.get("/api/me").json()["email"] == MANAGER
        cleared = [c for c in response.headers.get_list("set-cookie") if c.startswith("sucesso_login=")]
        assert cleared and "Max-Age=0" in cleared[0]  # the pre-session token is spent
    assert attacker.get("/api/me").status_code == 401  # the planted live session is gone


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_cookie_is_httponly_lax_and_secure_over_https(hostile_app, scheme):
    client = TestClient(hostile_app, base_url=f"{scheme}://testserver", follow_redirects=False)
    made = client.get("/login").headers.get_list("set-cookie")
    nonce = CSRF_FIELD.search(client.get("/login").text).group(1)
    made += client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": nonce}
                        ).headers.get_list("set-cookie")
    made += client.post("/logout", data={"csrf_token": CSRF_FIELD.search(client.get("/settings").text).group(1)}
                        ).headers.get_list("set-cookie")
    names = {c.split("=", 1)[0] for c in made}
    assert names == {"sucesso_login", "sucesso_session"}
    for cookie in made:
        flags = [f.strip() for f in cookie.split(";")[1:]]
        assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags, cookie
        assert ("Secure" in flags) == (scheme == "https"), cookie


# -- security headers ------------------------------------------------------------------------------
def test_security_headers_on_every_kind_of_response(hostile_app, tmp_path):
    anonymous = TestClient(hostile_app, follow_redirects=False)
    admin = signed_in(hostile_app)
    admin_api = bearer(hostile_app, new_token(hostile_app)[1])
    account = known_ids(hostile_app)["account_id"][0]
    responses = {
        "page": admin.get("/"), "account page": admin.get(f"/accounts/{account}"), "login": anonymous.get("/login"),
        "redirect": anonymous.get("/settings"), "json": admin_api.get("/api/overview"),
        "401": anonymous.get("/api/me"), "403": signed_in(hostile_app, VIEWER).get("/api/users"),
        "404 page": admin.get("/no-such-page"), "404 json": admin_api.get("/api/accounts/nope"),
        "404 static": anonymous.get("/static/nope.css"), "405": anonymous.put("/api/me"),
        "422": admin_api.get("/api/accounts?moved=upsell&month=2024-01"),
        "413": admin_api.post("/api/tasks", content=b"x" * (3 * 1024 * 1024),
                              headers={"Content-Type": "application/json"}),
        "400 tracking": admin_api.post("/v1/track", content=b"not json"),
        "static": anonymous.get("/static/app.css"), "swagger": anonymous.get("/vendor/swagger/swagger-ui.css"),
        "plotly": anonymous.get("/vendor/plotly.min.js"), "docs": anonymous.get("/docs"),
        "openapi": anonymous.get("/openapi.json"), "head": anonymous.head("/login"),
        "pdf": admin.get(f"/accounts/{account}/review.pdf"),
        "500": failing_app_response(tmp_path),
    }
    assert responses["500"].status_code == 500 and responses["404 static"].status_code == 404
    for name, response in responses.items():
        headers = response.headers
        missing = [h for h in SECURITY_HEADERS if h not in headers]
        assert not missing, (name, response.status_code, missing)
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", name
        assert headers["referrer-policy"] == "same-origin", name
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "unsafe-eval" not in csp, name


def failing_app_response(folder):
    """The answer to a route that fails unexpectedly (an app of its own, over an empty workspace)."""
    app = create_app(str(folder / "empty.duckdb"), precompute_in_background=False)
    probe = APIRouter()

    @probe.get("/api/fails")
    def fails():
        raise RuntimeError("an unexpected error")

    app.include_router(probe)
    response = TestClient(app, raise_server_exceptions=False).get("/api/fails")
    app.state.workspace.close()
    return response


# -- secrets never logged nor returned ---------------------------------------------------------------
@pytest.fixture
def served(hostile_app):
    """The app behind a real uvicorn on loopback, logging at DEBUG into the root logger (caplog)."""
    with in_thread(hostile_app, log_config=None, log_level="debug", access_log=True, lifespan="off") as base:
        yield base


def stripe_signature(payload: bytes, secret: str) -> str:
    at = int(time.time())
    return f"t={at},v1={hmac.new(secret.encode(), f'{at}.'.encode() + payload, hashlib.sha256).hexdigest()}"


def exercise_every_secret(app, base: str) -> list[str]:
    """Sign in, add users with passwords, change a password, make tokens (JSON and form), use
    them, set the SMTP password, a webhook's secret and Stripe's signing secret, deliver (and
    fail) notifications, receive a signed Stripe event. The secrets it used."""
    secrets_used, browsers = [], []

    def keep(value: str) -> str:
        secrets_used.append(value)
        return value

    def browser() -> httpx.Client:
        client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        browsers.append(client)
        return client

    def sign_in(client: httpx.Client, email: str, password: str) -> None:
        nonce = CSRF_FIELD.search(client.get("/login").text).group(1)
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": nonce})
        assert response.status_code == 303, response.text
        keep(client.cookies.get("sucesso_session"))

    admin = browser()
    sign_in(admin, ADMIN, keep(PASSWORD))
    form = lambda **data: {**data, "csrf_token": CSRF_FIELD.search(admin.get("/settings").text).group(1)}  # noqa: E731
    chosen = keep("chosen-password-Ω-1234")
    assert admin.post("/settings/users", data=form(email="nia@example.com", role="manager",
                                                   password=chosen)).status_code == 200
    shown = admin.post("/settings/users", data=form(email="gen@example.com", role="viewer"))
    keep(re.search(r'id="new-password" type="text" readonly value="([^"]+)"', shown.text).group(1))
    nia = browser()
    sign_in(nia, "nia@example.com", chosen)
    nia_form = {"csrf_token": CSRF_FIELD.search(nia.get("/settings").text).group(1)}
    changed = keep("changed-password-ß-5678")
    assert nia.post("/settings/password", data={**nia_form, "current": chosen, "new": changed,
                                                 "confirm": changed}).status_code == 303
    wrong = keep("a-wrong-password-guess")
    guess = browser()
    nonce = CSRF_FIELD.search(guess.get("/login").text).group(1)
    refused = guess.post("/login", data={"email": ADMIN, "password": wrong, "csrf_token": nonce})
    assert refused.status_code == 401 and wrong not in refused.text  # the form comes back without it
    header = {"X-CSRF-Token": admin.get("/api/me").json()["csrf_token"]}
    api_token = keep(admin.post("/api/tokens", json={"name": "ci", "scopes": ["admin"]}, headers=header
                                ).json()["token"])
    made = admin.post("/settings/tokens", data=form(name="segment", scopes=["ingest"]))
    write_key = keep(re.search(r'id="new-token" type="text" readonly size="60" value="([^"]+)"', made.text).group(1))
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/me", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
        assert client.post("/v1/track", auth=(write_key, ""),
                           json={"userId": "u1", "event": "Logged in", "context": {"groupId": "nowhere"}}
                           ).status_code in (200, 400)
        assert client.post("/v1/track", json={"userId": "u1", "event": "x", "writeKey": write_key}).status_code in (
            200, 400)
        assert client.get("/api/me", headers={"Authorization": "Bearer suc_" + wrong}).status_code == 401
    smtp, hook, stripe = keep("smtp-password-Σ-9012"), keep("webhook-secret-Ж-3456"), keep("whsec_hostile_7890")
    dead = free_port()  # nothing listens: every delivery fails, and its error is recorded

    def configure(store):
        notify.set_smtp(store, "127.0.0.1", dead, "cs@example.com", username="mailer", password=smtp,
                        security="none")
        notify.add_webhook(store, f"http://127.0.0.1:{dead}/hook", secret=hook)
        stripe_webhook.set_secret(store, stripe)
        notify.queue(store, "test", "Hello", {"text": "hi"}, emails=["ops@example.com"])
        return notify.deliver(store)

    delivered = {}  # in a thread of its own, as the scheduler does it: its log records are the app's
    worker = threading.Thread(target=lambda: delivered.update(run(app, configure)))
    worker.start()
    worker.join(60)
    assert delivered["retrying"] == 2
    event = json.dumps({"id": "evt_hostile", "object": "event", "type": "customer.created", "created": int(time.time()),
                        "data": {"object": {"id": "cus_hostile", "object": "customer", "name": "Hostile Ltda",
                                            "created": int(time.time())}}}).encode()
    with httpx.Client(base_url=base, timeout=30) as client:
        signed = client.post("/webhooks/stripe", content=event, headers={"Stripe-Signature": stripe_signature(
            event, stripe), "Content-Type": "application/json"})
        assert signed.status_code in (200, 422), signed.text
        forged = client.post("/webhooks/stripe", content=event, headers={"Stripe-Signature": stripe_signature(
            event, "whsec_" + wrong)})
        assert forged.status_code == 400
    secrets_used.append(run(app, lambda s: s.setting("secret_key")))
    for client in browsers:
        client.close()
    return secrets_used


def test_no_secret_is_ever_logged_nor_returned(hostile_app, served, caplog):
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):  # every logger, even one set quieter by its library
        caplog.set_level(logging.DEBUG, logger=name)
    secrets_used = exercise_every_secret(hostile_app, served)
    assert len(secrets_used) >= 12 and all(secrets_used)
    test_client = threading.get_ident()  # what this test's own HTTP client logs (cookies it received) is not the app's
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                       if not (r.thread == test_client and r.name.startswith(("httpx", "httpcore"))))
    assert "GET /api/me" in logged and "uvicorn" in logged  # the access log was captured
    assert not [s for s in secrets_used if s in logged]
    admin, admin_api = signed_in(hostile_app), bearer(hostile_app, new_token(hostile_app)[1])
    account = known_ids(hostile_app)["account_id"][0]
    texts = {}
    for path in get_paths(hostile_app, account, "/"):
        if not path.startswith(("/static", "/vendor")):
            texts[path] = admin.get(path).text + (admin_api.get(path).text if path.startswith("/api/") else "")
    texts["/api/tokens?all=true"] = admin_api.get("/api/tokens?all=true").text
    texts["/api/notifications"] = admin_api.get("/api/notifications").text
    assert json.loads(texts["/api/notifications"])["smtp"]["password_set"] is True
    leaks = {path: [s for s in secrets_used if s in text] for path, text in texts.items()}
    assert not {path: found for path, found in leaks.items() if found}
    assert all("$argon2" not in t and "password_hash" not in t and "token_hash" not in t for t in texts.values())

