"""Sign-in, roles, sessions, CSRF, the login rate limit and API tokens, through the real app
(`create_app`) over a DuckDB workspace in tmp_path; and the `sucesso user` / `token` verbs."""

from __future__ import annotations

import hashlib
import re

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.store import open_store, set_setting
from sucesso.web import auth, users
from sucesso.web.app import create_app

ADMIN, MANAGER, CSM, VIEWER = "ana@example.com", "bia@example.com", "caio@example.com", "vera@example.com"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """argon2 at its lowest cost: the same code path, a hundred times faster."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(users, "_UNKNOWN_USER_HASH", None)


@pytest.fixture
def app(tmp_path):
    app = create_app(str(tmp_path / "w.duckdb"), precompute_in_background=False)
    probe = APIRouter()

    @probe.post("/api/test-ingest")
    def ingest_probe(user: auth.User = Depends(auth.api_scope("ingest"))):
        return {"ok": user.email}

    app.include_router(probe)

    def people(store):
        set_setting(store, "locale", "en")  # the messages the tests read; one test reads Portuguese
        users.create_user(store, ADMIN, "admin", PASSWORD, name="Ana")
        users.create_user(store, MANAGER, "manager", PASSWORD, name="Bia")
        users.create_user(store, CSM, "csm", PASSWORD, name="Caio", csm_id="c1")
        users.create_user(store, VIEWER, "viewer", PASSWORD, name="Vera")

    app.state.workspace.run(people)
    yield app
    app.state.workspace.close()


@pytest.fixture
def client(app):
    return TestClient(app, follow_redirects=False)


def run(app, job):
    return app.state.workspace.run(job)


def csrf_of(client: TestClient, path: str = "/settings") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return CSRF.search(response.text).group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, next_path: str = "/"):
    token = csrf_of(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "next": next_path,
                                       "csrf_token": token})


def signed_in_client(app, email: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert login(client, email).status_code == 303
    return client


def new_token(app, email: str, scopes: str) -> tuple[str, str]:
    return run(app, lambda s: users.create_token(s, users.user_by_email(s, email), "t", scopes))


# -- passwords and sign-in ----------------------------------------------------------------
def test_passwords_are_kept_as_argon2_hashes_never_plain(app):
    stored = run(app, lambda s: s.fetchall("SELECT password_hash FROM users WHERE email = ?", (ADMIN,)))[0][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert run(app, lambda s: users.authenticate(s, ADMIN, PASSWORD)).email == ADMIN
    assert run(app, lambda s: users.authenticate(s, ADMIN, "wrong password")) is None
    with pytest.raises(users.UserError, match="at least 8"):
        run(app, lambda s: users.create_user(s, "x@example.com", "viewer", "short"))


def test_sign_in_sets_a_new_httponly_lax_session_cookie_and_goes_to_next(app, client):
    response = login(client, ADMIN, next_path="/accounts?sort=name")
    assert response.status_code == 303
    assert response.headers["location"] == "/accounts?sort=name"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sucesso_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = run(app, lambda s: s.fetchall("SELECT session_id FROM sessions"))
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(),)]  # only the hash is kept
    assert client.get("/api/me").json()["email"] == ADMIN


def test_session_cookie_is_secure_over_https(app):
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    cookie = next(c for c in login(client, ADMIN).headers.get_list("set-cookie") if c.startswith("sucesso_session"))
    assert "Secure" in cookie


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    wrong = login(client, ADMIN, "not the password")
    unknown = login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "Wrong email or password."
    assert message in wrong.text and message in unknown.text
    assert "sucesso_session" not in client.cookies


def test_sign_in_speaks_the_browsers_language(app):
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    for _ in range(5):
        assert "E-mail ou senha incorretos." in login(client, ADMIN, "wrong password").text
    assert "Tentativas demais: tente de novo em 15 minutos." in login(client, ADMIN).text


def test_deactivated_user_cannot_sign_in(app, client):
    run(app, lambda s: users.set_active(s, users.user_by_email(s, VIEWER).user_id, False))
    assert login(client, VIEWER).status_code == 401


def test_failed_sign_ins_are_limited_per_email(client):
    for _ in range(5):
        assert login(client, ADMIN, "wrong password").status_code == 401
    blocked = login(client, ADMIN)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many attempts: try again in 15 minutes." in blocked.text
    assert login(client, MANAGER).status_code == 303  # another email is not blocked


def test_failed_sign_ins_are_limited_per_client_address(client):
    for i in range(20):
        assert login(client, f"guess{i}@example.com", "wrong password").status_code == 401
    assert login(client, ADMIN).status_code == 429


def test_the_limit_window_slides():
    clock = [0.0]
    limiter = auth.LoginLimiter(clock=lambda: clock[0])
    for _ in range(5):
        limiter.failed("a@x.com", "1.2.3.4")
    assert limiter.wait_minutes("A@x.com", "5.6.7.8") == 15
    clock[0] = 14 * 60 + 1
    assert limiter.wait_minutes("a@x.com", "5.6.7.8") == 1
    clock[0] = 15 * 60 + 1
    assert limiter.wait_minutes("a@x.com", "5.6.7.8") is None


def test_a_session_presented_before_sign_in_is_never_the_one_after(app, client):
    client.cookies.set("sucesso_session", "chosen-by-an-attacker", domain="testserver.local")
    login(client, ADMIN)
    assert client.cookies.get("sucesso_session") != "chosen-by-an-attacker"
    first = client.cookies.get("sucesso_session")
    # signing in again from a live session (its form token) makes a new session and ends the old one
    again = client.post("/login", data={"email": MANAGER, "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert again.status_code == 303
    second = client.cookies.get("sucesso_session")
    assert second != first
    assert run(app, lambda s: s.count("sessions")) == 1
    stale = TestClient(app, follow_redirects=False, cookies={"sucesso_session": first})
    assert stale.get("/api/me").status_code == 401


def test_sign_out_deletes_the_session(app):
    client = signed_in_client(app, ADMIN)
    kept = client.cookies.get("sucesso_session")
    out = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert run(app, lambda s: s.count("sessions")) == 0
    replay = TestClient(app, follow_redirects=False, cookies={"sucesso_session": kept})
    assert replay.get("/api/me").status_code == 401
    assert replay.get("/settings").headers["location"] == "/login?next=%2Fsettings"


def test_an_expired_session_no_longer_signs_in(app):
    client = signed_in_client(app, ADMIN)
    run(app, lambda s: s.execute("UPDATE sessions SET last_seen_at = last_seen_at - INTERVAL 13 HOUR"))
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x",
                                    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1"])
def test_sign_in_never_redirects_off_site(client, target):
    response = login(client, ADMIN, next_path=target)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_signed_in_user_visiting_login_goes_on(app):
    client = signed_in_client(app, ADMIN)
    assert client.get("/login?next=//evil.example").headers["location"] == "/"
    assert client.get("/login?next=/settings").headers["location"] == "/settings"


# -- CSRF -----------------------------------------------------------------------------------
def _user_id(app, email):
    return run(app, lambda s: users.user_by_email(s, email).user_id)


def own_posts(app) -> list[tuple[str, dict]]:
    """Every form POST of the sign-in pages, with data that would succeed given the token."""
    token_id, _ = new_token(app, ADMIN, "read")
    viewer = _user_id(app, VIEWER)
    return [
        ("/logout", {}),
        ("/settings/language", {"locale": "en"}),
        ("/settings/password", {"current": PASSWORD, "new": "another password", "confirm": "another password"}),
        ("/settings/tokens", {"name": "ci", "scopes": "read"}),
        (f"/settings/tokens/{token_id}/revoke", {}),
        ("/settings/users", {"email": "new@example.com", "role": "viewer"}),
        (f"/settings/users/{viewer}/role", {"role": "csm"}),
        (f"/settings/users/{viewer}/active", {"active": "0"}),
        ("/settings/workspace", {"currency": "USD", "locale": "en", "csm_scope": "own"}),
    ]


def test_every_form_refuses_a_missing_or_wrong_csrf_token(app):
    client = signed_in_client(app, ADMIN)
    right = csrf_of(client)
    for path, data in own_posts(app):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "x" + right}).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": right[:-1]}).status_code == 403, path
    assert client.get("/api/me").status_code == 200  # nothing happened: still signed in
    assert run(app, lambda s: users.user_by_email(s, VIEWER).role) == "viewer"


def test_every_form_accepts_the_right_token(app):
    client = signed_in_client(app, ADMIN)
    for path, data in own_posts(app)[1:]:  # all but /logout
        response = client.post(path, data={**data, "csrf_token": csrf_of(client)})
        assert response.status_code in (200, 303), (path, response.text)


def test_sign_in_form_needs_its_pre_session_token(app, client):
    refused = client.post("/login", data={"email": ADMIN, "password": PASSWORD})
    assert refused.status_code == 403 and "sucesso_session" not in client.cookies
    csrf_of(client, "/login")
    other = TestClient(app, follow_redirects=False)
    stolen = csrf_of(other, "/login")  # another browser's token does not match this browser's cookie
    assert client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": stolen}).status_code == 403
    client.cookies.set("sucesso_login", "forged", domain="testserver.local")
    assert client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": "forged"}).status_code == 403


def test_api_changes_with_the_session_cookie_need_the_csrf_header(app):
    client = signed_in_client(app, ADMIN)
    assert client.post("/api/tokens", json={"name": "x", "scopes": ["read"]}).status_code == 403
    header = {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}
    made = client.post("/api/tokens", json={"name": "x", "scopes": ["read"]}, headers=header)
    assert made.status_code == 201
    token_id = made.json()["token_id"]
    assert client.delete(f"/api/tokens/{token_id}").status_code == 403
    assert client.delete(f"/api/tokens/{token_id}", headers=header).json()["revoked_at"] is not None


# -- roles ------------------------------------------------------------------------------------
def test_viewer_cannot_change_the_workspace(app):
    client = signed_in_client(app, VIEWER)
    data = {"currency": "USD", "locale": "en", "csm_scope": "own", "csrf_token": csrf_of(client)}
    assert client.post("/settings/workspace", data=data).status_code == 403
    assert "/settings/workspace" not in client.get("/settings").text


def test_csm_cannot_manage_users(app):
    client = signed_in_client(app, CSM)
    token = csrf_of(client)
    assert client.post("/settings/users", data={"email": "x@example.com", "role": "admin",
                                                "csrf_token": token}).status_code == 403
    assert client.post(f"/settings/users/{_user_id(app, CSM)}/role",
                       data={"role": "admin", "csrf_token": token}).status_code == 403
    assert client.get("/api/users").status_code == 403
    assert run(app, lambda s: users.user_by_email(s, CSM).role) == "csm"


def test_admin_adds_a_user_with_a_generated_password_shown_once(app):
    client = signed_in_client(app, ADMIN)
    page = client.post("/settings/users", data={"email": "Nia@Example.com", "name": "Nia", "role": "csm",
                                                "csm_id": "c2", "csrf_token": csrf_of(client)})
    assert page.status_code == 200
    password = re.search(r'id="new-password" type="text" readonly value="([^"]+)"', page.text).group(1)
    assert password not in client.get("/settings").text
    assert login(TestClient(app, follow_redirects=False), "nia@example.com", password).status_code == 303
    listed = {u["email"]: u for u in client.get("/api/users").json()}
    assert listed["nia@example.com"]["role"] == "csm" and listed["nia@example.com"]["csm_id"] == "c2"


def test_admin_changes_roles_and_deactivates(app):
    admin, viewer = signed_in_client(app, ADMIN), signed_in_client(app, VIEWER)
    vid = _user_id(app, VIEWER)
    assert admin.post(f"/settings/users/{vid}/role", data={"role": "manager",
                                                          "csrf_token": csrf_of(admin)}).status_code == 303
    assert viewer.get("/api/me").json()["role"] == "manager"
    assert admin.post(f"/settings/users/{vid}/active", data={"active": "0",
                                                            "csrf_token": csrf_of(admin)}).status_code == 303
    assert viewer.get("/api/me").status_code == 401  # signed out at once


def test_the_last_admin_stays_admin(app):
    admin = signed_in_client(app, ADMIN)
    refused = admin.post(f"/settings/users/{_user_id(app, ADMIN)}/role",
                         data={"role": "viewer", "csrf_token": csrf_of(admin)})
    assert refused.status_code == 400 and "last active admin" in refused.text


def test_what_a_csm_sees_and_edits(app):
    csm = users.User("u", CSM, "Caio", "csm", None, "c1")
    viewer = users.User("v", VIEWER, "Vera", "viewer", None, None)
    manager = users.User("m", MANAGER, "Bia", "manager", None, None)
    assert auth.can_edit(csm, "c1") and not auth.can_edit(csm, "c2") and not auth.can_edit(csm, None)
    assert not auth.can_edit(viewer, "c1") and auth.can_edit(manager, "c2")
    assert run(app, lambda s: auth.visible_csm(csm, s)) is None  # default csm_scope: all
    run(app, lambda s: set_setting(s, "csm_scope", "own"))
    assert run(app, lambda s: auth.visible_csm(csm, s)) == "c1"
    assert run(app, lambda s: auth.visible_csm(manager, s)) is None
    unlinked = users.User("w", "w@example.com", "W", "csm", None, None)
    assert run(app, lambda s: auth.visible_csm(unlinked, s)) == ""  # matches no account


def test_admin_saves_the_workspace_settings(app):
    client = signed_in_client(app, ADMIN)
    data = {"currency": "usd", "locale": "en", "csm_scope": "own", "csrf_token": csrf_of(client)}
    assert client.post("/settings/workspace", data=data).headers["location"] == "/settings?done=workspace"
    assert app.state.workspace.setting("currency") == "USD" and app.state.workspace.setting("csm_scope") == "own"
    bad = client.post("/settings/workspace", data={**data, "currency": "XX1", "csrf_token": csrf_of(client)})
    assert bad.status_code == 400


def test_everyone_sets_their_own_language_and_password(app):
    client = signed_in_client(app, VIEWER)
    other = signed_in_client(app, VIEWER)
    assert client.post("/settings/language", data={"locale": "en", "csrf_token": csrf_of(client)}).status_code == 303
    assert client.get("/api/me").json()["locale"] == "en"
    wrong = client.post("/settings/password", data={"current": "nope nope", "new": "brand new pw", "confirm":
                                                    "brand new pw", "csrf_token": csrf_of(client)})
    assert wrong.status_code == 400
    done = client.post("/settings/password", data={"current": PASSWORD, "new": "brand new pw", "confirm":
                                                   "brand new pw", "csrf_token": csrf_of(client)})
    assert done.status_code == 303
    assert client.get("/api/me").status_code == 200  # this session stays
    assert other.get("/api/me").status_code == 401  # the others end
    assert run(app, lambda s: users.authenticate(s, VIEWER, "brand new pw")) is not None


# -- API tokens -------------------------------------------------------------------------------
def test_a_token_is_shown_once_and_kept_hashed(app):
    client = signed_in_client(app, MANAGER)
    made = client.post("/settings/tokens", data={"name": "nightly import", "scopes": ["read", "ingest"],
                                                 "csrf_token": csrf_of(client)})
    token = re.search(r'id="new-token" type="text" readonly size="60" value="([^"]+)"', made.text).group(1)
    assert token.startswith("suc_")
    assert token not in client.get("/settings").text
    stored = run(app, lambda s: s.fetchall("SELECT token_hash, scopes FROM api_tokens"))
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), "read,ingest")]
    bearer = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert bearer.get("/api/me").json()["email"] == MANAGER


def test_token_scopes_are_enforced(app):
    _, read = new_token(app, ADMIN, "read")
    _, ingest = new_token(app, ADMIN, "ingest")
    _, admin = new_token(app, ADMIN, "admin")

    def call(token, method, path, **kw):
        return TestClient(app).request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)

    assert call(read, "GET", "/api/tokens").status_code == 200
    assert call(read, "POST", "/api/test-ingest").status_code == 403
    assert call(read, "POST", "/api/tokens", json={"name": "x"}).status_code == 403
    assert call(read, "GET", "/api/users").status_code == 403
    assert call(ingest, "POST", "/api/test-ingest").json() == {"ok": ADMIN}  # no CSRF header needed
    assert call(ingest, "GET", "/api/tokens").status_code == 403  # ingest implies nothing else
    assert call(admin, "POST", "/api/test-ingest").status_code == 200  # admin implies the others
    assert call(admin, "GET", "/api/users").status_code == 200
    assert call(admin, "POST", "/api/tokens", json={"name": "x", "scopes": ["read"]}).status_code == 201


def test_a_token_never_outgrows_its_owners_role(app):
    with pytest.raises(users.UserError, match="cannot hold"):
        new_token(app, VIEWER, "ingest")
    _, token = new_token(app, ADMIN, "admin")
    # (set_role would refuse to demote the last admin; the store is changed directly)
    run(app, lambda s: s.execute("UPDATE users SET role = 'viewer' WHERE email = ?", (ADMIN,)))
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/me").json()["scopes"] == ["read"]
    assert client.get("/api/users").status_code == 403


def test_tokens_only_open_the_api(app):
    _, token = new_token(app, ADMIN, "admin")
    page = TestClient(app, follow_redirects=False, headers={"Authorization": f"Bearer {token}"}).get("/settings")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_revoked_token_is_refused_and_use_is_recorded(app):
    token_id, token = new_token(app, MANAGER, "read")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert run(app, lambda s: users.get_token(s, token_id).last_used_at) is None
    assert client.get("/api/me").status_code == 200
    assert run(app, lambda s: users.get_token(s, token_id).last_used_at) is not None
    owner = signed_in_client(app, MANAGER)
    assert owner.post(f"/settings/tokens/{token_id}/revoke",
                      data={"csrf_token": csrf_of(owner)}).headers["location"] == "/settings?done=revoked"
    refused = client.get("/api/me")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert TestClient(app, headers={"Authorization": "Bearer suc_made-up"}).get("/api/me").status_code == 401


def test_only_admins_revoke_the_tokens_of_others(app):
    token_id, _ = new_token(app, MANAGER, "read")
    viewer = signed_in_client(app, VIEWER)
    refused = viewer.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(viewer)})
    assert refused.status_code == 400
    assert run(app, lambda s: users.get_token(s, token_id).revoked_at) is None
    admin = signed_in_client(app, ADMIN)
    assert admin.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(admin)}).status_code == 303
    assert run(app, lambda s: users.get_token(s, token_id).revoked_at) is not None


# -- what every response promises --------------------------------------------------------------
def test_security_headers_on_pages_json_and_redirects(app, client):
    for response in (client.get("/login"), client.get("/api/me"), client.get("/settings")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp


def test_api_without_a_session_is_401_json(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json") and "detail" in response.json()


def test_no_response_carries_a_secret(app):
    client = signed_in_client(app, ADMIN)
    header = {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}
    token = client.post("/api/tokens", json={"name": "x", "scopes": ["read"]}, headers=header).json()["token"]
    secrets_kept = run(app, lambda s: [r[0] for r in s.fetchall(
        "SELECT password_hash FROM users UNION ALL SELECT token_hash FROM api_tokens "
        "UNION ALL SELECT session_id FROM sessions")])
    secrets_kept += [PASSWORD, token, run(app, lambda s: s.setting("secret_key"))]
    for path in ("/api/me", "/api/tokens", "/api/tokens?all=true", "/api/users", "/settings", "/openapi.json"):
        text = client.get(path).text
        leaked = [s for s in secrets_kept if s and s in text]
        assert not leaked, path
        assert "$argon2" not in text and "password_hash" not in text and "token_hash" not in text, path


# -- the store and the CLI ----------------------------------------------------------------------
def test_a_version_3_workspace_gains_the_user_tables(tmp_path):
    from sucesso.store.engines import connect
    from sucesso.store.migrations import current_version, migrate
    from sucesso.store.schema import VERSION

    url = str(tmp_path / "v3.duckdb")
    old = connect(url)
    migrate(old, to=3)
    old.execute("INSERT INTO csms (csm_id, name, role, active) VALUES ('c1', 'Ana', 'csm', TRUE)")
    old.close()
    with open_store(url) as store:
        assert current_version(store) == VERSION
        assert {"users", "sessions", "api_tokens"} <= store.table_names()
        assert store.fetchall("SELECT csm_id FROM csms") == [("c1",)]


def test_demo_admin_is_made_once(tmp_path):
    with open_store(str(tmp_path / "d.duckdb")) as store:
        email, password = users.ensure_demo_admin(store)
        assert email == "admin@demo.sucesso" and users.authenticate(store, email, password).role == "admin"
        assert users.ensure_demo_admin(store) is None


def test_cli_users_and_tokens(tmp_path):
    from sucesso.cli import app as cli

    db = str(tmp_path / "cli.duckdb")
    runner = CliRunner()

    def sucesso(*args):
        return runner.invoke(cli, [*args, "--db", db], catch_exceptions=False)

    added = sucesso("user", "add", "Ops@Example.com", "--role", "admin", "--generate")
    assert added.exit_code == 0, added.output
    password = re.search(r"password \(shown once\): (\S+)", added.output).group(1)
    assert sucesso("user", "add", "ops@example.com", "--role", "viewer", "--password", "12345678").exit_code == 2
    assert sucesso("user", "add", "x@example.com", "--role", "boss", "--password", "12345678").exit_code == 2
    assert sucesso("user", "add", "csm@example.com", "--role", "csm", "--csm-id", "c9",
                   "--password", "a long password").exit_code == 0
    listed = sucesso("user", "list").output
    assert "ops@example.com" in listed and "c9" in listed
    assert sucesso("user", "set-role", "csm@example.com", "manager").exit_code == 0
    assert sucesso("user", "deactivate", "csm@example.com").exit_code == 0
    made = sucesso("token", "create", "ops@example.com", "--scope", "read,ingest", "--name", "etl")
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    token_id = re.search(r"token (tok_\w+)", made.output).group(1)
    assert token not in sucesso("token", "list").output
    assert sucesso("token", "revoke", token_id).exit_code == 0
    with open_store(db) as store:
        assert users.authenticate(store, "ops@example.com", password).role == "admin"
        assert users.authenticate(store, "csm@example.com", "a long password") is None  # deactivated
        assert users.token_of(store, token) is None  # revoked
        assert store.fetchall("SELECT role FROM users WHERE email = 'csm@example.com'") == [("manager",)]


def test_users_sessions_and_tokens_on_every_engine(store):
    """The same SQL on DuckDB and PostgreSQL: users, sessions, tokens, roles."""
    admin = users.create_user(store, ADMIN, "admin", PASSWORD)
    viewer = users.create_user(store, VIEWER, "viewer", PASSWORD, csm_id="c1")
    with pytest.raises(users.UserError, match="already"):
        users.create_user(store, ADMIN.upper(), "viewer", PASSWORD)
    assert users.authenticate(store, ADMIN.upper(), PASSWORD) == admin
    cookie, csrf = users.start_session(store, viewer.user_id)
    assert users.session_of(store, cookie) == users.Session(viewer, csrf)
    token_id, token = users.create_token(store, admin, "etl", "ingest,read")
    assert users.token_of(store, token) == (admin, frozenset({"read", "ingest"}))
    assert users.get_token(store, token_id).last_used_at is not None
    users.set_role(store, viewer.user_id, "manager")
    with pytest.raises(users.UserError, match="last active admin"):
        users.set_active(store, admin.user_id, False)
    users.set_active(store, viewer.user_id, False)
    assert users.session_of(store, cookie) is None
    users.revoke_token(store, token_id)
    assert users.token_of(store, token) is None
    assert [(r.user.email, r.user.role, r.active) for r in users.list_users(store)] == [
        (ADMIN, "admin", True), (VIEWER, "manager", False)]
