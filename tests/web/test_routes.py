"""Every route of the app, with every role and with no session, and the answer each gets —
generated from the app's own routes, so a new route without an expected answer fails here.
And imports over the API: the importer's checks, all or nothing, scopes."""

from __future__ import annotations

import re
import shutil

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sucesso.store import open_store, set_setting
from sucesso.web import users
from sucesso.web.app import create_app

PASSWORD = "a long enough password"
ROLES = ("admin", "manager", "csm", "viewer")
PUBLIC = {"/login", "/docs", "/openapi.json"}
ADMIN_ONLY = {"/api/users", "/api/notifications", "/api/status"}


@pytest.fixture(scope="module")
def app(demo_url, tmp_path_factory):
    url = str(tmp_path_factory.mktemp("routes") / "demo.duckdb")
    shutil.copy(demo_url, url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))  # same path, cheap
        with open_store(url) as store:
            csm = store.fetchall("SELECT csm_id FROM accounts WHERE csm_id IS NOT NULL LIMIT 1")[0][0]
            for role in ROLES:
                users.create_user(store, f"{role}@example.com", role, PASSWORD,
                                  csm_id=csm if role == "csm" else None)
        yield create_app(url, precompute_in_background=False)


def client_as(app, role: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if role:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        r = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, r.text
    return client


def all_routes(routes):
    for route in routes:
        nested = getattr(route, "original_router", None)  # an included router
        yield from all_routes(nested.routes) if nested is not None else [route]


def get_routes(app, account_id: str) -> list[str]:
    paths = []
    for route in all_routes(app.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", set()) or set()
        if path and "GET" in methods and not path.startswith(("/static", "/vendor", "/docs/")):
            paths.append(path.replace("{account_id}", account_id))
    return sorted(set(paths))


def expected(path: str, role: str | None) -> int:
    if path == "/login":
        return 303 if role else 200  # signed in already: on to the app
    if path in PUBLIC:
        return 200
    if role is None:
        return 401 if path.startswith("/api/") else 303
    if path in ADMIN_ONLY and role != "admin":
        return 403
    return 200


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_get_route_answers_as_expected(app, role):
    client = client_as(app, role)
    account_id = client_as(app, "admin").get("/api/accounts").json()["accounts"][0]["account_id"]
    routes = get_routes(app, account_id)
    assert {"/", "/accounts", f"/accounts/{account_id}", "/api/overview", "/settings"} <= set(routes)
    got = {path: client.get(path).status_code for path in routes}
    assert got == {path: expected(path, role) for path in routes}
    if role is None:
        assert client.get("/revenue").headers["location"].startswith("/login")


def test_a_csm_who_sees_only_their_own_accounts(app):
    admin, csm = client_as(app, "admin"), client_as(app, "csm")
    everyone = admin.get("/api/accounts?all=1").json()["total"]
    app.state.workspace.run(lambda store: set_setting(store, "csm_scope", "own"))
    try:
        mine = csm.get("/api/accounts?all=1").json()
        assert 0 < mine["total"] < everyone
        assert {a["csm_id"] for a in mine["accounts"]} == {app.state.workspace.run(
            lambda store: users.user_by_email(store, "csm@example.com").csm_id)}
        other = admin.get("/api/accounts?all=1&sort=name").json()["accounts"]
        foreign = next(a for a in other if a["csm_id"] not in {mine["accounts"][0]["csm_id"]})
        assert csm.get(f"/api/accounts/{foreign['account_id']}").status_code == 404
    finally:
        app.state.workspace.run(lambda store: set_setting(store, "csm_scope", "all"))


def test_imports_over_the_api_check_everything_and_write_all_or_nothing(app, tmp_path):
    admin, viewer = client_as(app, "admin"), client_as(app, "viewer")
    ingest = app.state.workspace.run(lambda store: users.create_token(
        store, users.user_by_email(store, "admin@example.com"), "ci", "ingest"))[1]
    read = app.state.workspace.run(lambda store: users.create_token(
        store, users.user_by_email(store, "admin@example.com"), "ro", "read"))[1]
    good = "account_id;name;created_at\nnew_1;Nova Ltda;01/02/2024\nnew_2;Outra ME;15/03/2024\n"
    bad = "account_id;name;created_at\nnew_3;Ok;01/02/2024\nnew_4;Bad;32/13/2024\n"
    files = lambda text, name: {"file": (name, text.encode(), "text/csv")}  # noqa: E731
    r = TestClient(app).post("/api/import/accounts?date_format=dd/mm/yyyy", files=files(bad, "contas.csv"),
                             headers={"Authorization": f"Bearer {ingest}"})
    assert r.status_code == 422
    problem = r.json()["problems"][0]
    assert problem["row"] == 3 and problem["column"] == "created_at" and problem["value"] == "32/13/2024"
    assert problem["message"].startswith("contas.csv, row 3, column created_at")
    assert admin.get("/api/accounts?q=new_3&all=1").json()["total"] == 0  # nothing written
    r = TestClient(app).post("/api/import/accounts", files=files(good, "contas.csv"),
                             headers={"Authorization": f"Bearer {ingest}"})
    assert r.status_code == 200 and r.json()["inserted"] == 2
    again = TestClient(app).post("/api/import/accounts", files=files(good, "contas.csv"),
                                 headers={"Authorization": f"Bearer {ingest}"})
    assert again.json()["inserted"] == 0 and again.json()["unchanged"] == 2
    assert TestClient(app).post("/api/import/accounts", files=files(good, "c.csv"),
                                headers={"Authorization": f"Bearer {read}"}).status_code == 403
    assert viewer.post("/api/import/accounts", files=files(good, "c.csv")).status_code == 403
    assert TestClient(app).post("/api/import/nope", files=files(good, "c.csv"),
                                headers={"Authorization": f"Bearer {ingest}"}).status_code == 404


def test_portfolio_adds_up_to_the_customers(app):
    admin = client_as(app, "admin")
    csms = admin.get("/api/portfolio").json()["csms"]
    customers = admin.get("/api/accounts").json()["total"]  # customers only, by default
    assert sum(c["accounts"] for c in csms) == customers
    assert all(c["red"] + c["yellow"] + c["green"] <= c["accounts"] for c in csms)
    assert [c["mrr"] for c in csms] == sorted((c["mrr"] for c in csms), reverse=True)
    page = admin.get("/portfolio").text
    assert csms[0]["csm_name"] in page


def test_the_accounts_behind_each_mrr_movement(app):
    admin = client_as(app, "admin")
    workspace = app.state.workspace
    month = workspace.months[-2]
    kpis = workspace.kpi_table(month, month).iloc[0]
    for move, count in (("new", "new_customers"), ("reactivation", "reactivated_customers"),
                        ("churn", "churned_customers")):
        got = admin.get(f"/api/accounts?moved={move}&month={month}").json()
        assert got["total"] == kpis[count], move
    churned = admin.get(f"/api/accounts?moved=churn&month={month}").json()["accounts"]
    assert churned and not any(a["customer"] for a in churned)  # churned: no longer customers, still listed
    assert admin.get(f"/api/accounts?moved=upsell&month={month}").status_code == 422
    page = admin.get("/revenue").text  # the churn bar of that month links to them (in the figure's JSON)
    assert f"accounts?moved=churn&month={month}" in page
