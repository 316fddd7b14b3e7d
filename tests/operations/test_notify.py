"""Notifications against real receivers on loopback: an SMTP server (aiosmtpd) and HTTP webhook
receivers (http.server in a thread) that check the signature as a customer's would — on DuckDB
and PostgreSQL; then `sucesso notify …` and GET /api/notifications."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from servers import free_port  # tests/servers.py
from typer.testing import CliRunner

from sucesso.cli import app as cli_app
from sucesso.operations import notify
from sucesso.store import open_store

SECRET = "whsec_the-receivers-secret"
PASSWORD = "smtp-password-never-shown"
runner = CliRunner()


# -- the receivers ------------------------------------------------------------------------
class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages, self.logins = [], []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    """Accepts PASSWORD only; handled=False lets aiosmtpd answer 535 to a wrong one."""
    server.event_handler.logins.append((auth_data.login, auth_data.password))
    return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)


@pytest.fixture
def smtp_server():
    """A plain SMTP server on loopback (signing in allowed without TLS, as a test may)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class Receiver:
    """A webhook endpoint: answers `statuses` in turn (the last one from then on) and records
    each delivery with whether its signature verified with `secret`."""

    def __init__(self, statuses=(200,), secret=SECRET):
        self.statuses, self.secret, self.deliveries = list(statuses), secret, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = notify.verify_signature(receiver.secret, self.headers.get("Sucesso-Signature", ""), body)
                receiver.deliveries.append({"headers": dict(self.headers), "body": json.loads(body), "valid": valid})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status if valid else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/sucesso"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(200,), secret=SECRET) -> Receiver:
        made.append(Receiver(statuses, secret))
        return made[-1]

    yield make
    for r in made:
        r.close()


def row(store, notification_id: str) -> dict:
    return next(r for r in notify.outbox(store, limit=1000) if r["notification_id"] == notification_id)


# -- e-mail -------------------------------------------------------------------------------
def test_an_email_arrives_with_subject_recipients_text_and_html(store, smtp_server):
    notify.set_smtp(store, "127.0.0.1", smtp_server.port, "cs@example.com", security="none")
    body = {"text": "Acme went red.\nCall them today.", "html": "<p>Acme went <b>red</b>.</p>", "account": "acme"}
    ids = notify.queue(store, "alert", "Acme is red", body, ["ana@example.com", "", None, "bia@example.com"])
    assert len(ids) == 2  # the empty addresses are skipped
    assert [r["status"] for r in notify.outbox(store)] == ["pending", "pending"]

    now = dt.datetime(2030, 1, 2, 3, 4, 5)
    assert notify.deliver(store, now=now) == {"sent": 2, "retrying": 0, "failed": 0}
    assert sorted(to for _, (to,), _ in smtp_server.messages) == ["ana@example.com", "bia@example.com"]
    sender, _, message = smtp_server.messages[0]
    assert sender == "cs@example.com" and message["Subject"] == "Acme is red" and message["From"] == "cs@example.com"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP lines end in CRLF
    assert text.strip() == "Acme went red.\nCall them today."
    assert message.get_body(("html",)).get_content().strip() == "<p>Acme went <b>red</b>.</p>"
    assert message["Message-ID"].strip("<>").split("@")[0] in ids  # the same on a resend: de-duplicable
    sent = row(store, ids[0])
    assert (sent["status"], sent["attempts"], sent["sent_at"], sent["next_attempt_at"]) == ("sent", 1, now, None)
    assert notify.deliver(store, now=now + dt.timedelta(days=1)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(smtp_server.messages) == 2  # sent is never sent again


def test_no_email_rows_without_smtp_and_webhooks_only_for_their_events(store, receiver):
    assert notify.queue(store, "alert", "s", {"text": "t"}, ["ana@example.com"]) == []
    alerts, everything = receiver(), receiver()
    notify.add_webhook(store, alerts.url, ["alert"], secret=SECRET)
    notify.add_webhook(store, everything.url, ["*"], secret=SECRET)
    assert len(notify.queue(store, "alert", "s", {"text": "t"})) == 2
    assert len(notify.queue(store, "task.created", "s", {"text": "t"})) == 1
    assert len(notify.queue(store, notify.TEST_EVENT, "s", {"text": "t"})) == 2  # a test reaches every webhook
    assert notify.deliver(store)["sent"] == 5
    assert [d["body"]["event"] for d in alerts.deliveries] == ["alert", "test"]


def tls_context(tmp_path) -> ssl.SSLContext:
    """A server context with a self-signed certificate for 127.0.0.1."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test certificate")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_signs_in_and_a_wrong_password_is_never_shown(duckdb_url, tmp_path, monkeypatch, security):
    context = tls_context(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # the client trusts the test certificate
    inbox = Inbox()
    # aiosmtpd counts only STARTTLS as TLS when offering AUTH; a whole-connection TLS server must be told
    tls = ({"tls_context": context, "require_starttls": True} if security == "starttls"
           else {"ssl_context": context, "auth_require_tls": False})
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, **tls)
    controller.start()
    try:
        with open_store(duckdb_url) as store:
            notify.set_smtp(store, "127.0.0.1", controller.port, "cs@example.com", "cs", PASSWORD, security)
            assert notify.smtp_settings(store) == {"host": "127.0.0.1", "port": controller.port,
                                                   "from": "cs@example.com", "username": "cs",
                                                   "security": security, "password_set": True}
            notify.queue(store, "alert", "over TLS", {"text": "hello"}, ["ana@example.com"])
            assert notify.deliver(store)["sent"] == 1
            assert inbox.logins == [(b"cs", PASSWORD.encode())] and inbox.messages[0][2]["Subject"] == "over TLS"

            notify.set_smtp(store, "127.0.0.1", controller.port, "cs@example.com", "cs", "wrong-" + PASSWORD,
                            security)
            (nid,) = notify.queue(store, "alert", "refused", {"text": "hello"}, ["ana@example.com"])
            assert notify.deliver(store)["retrying"] == 1
            error = row(store, nid)["last_error"]
            assert error.startswith("SMTPAuthenticationError") and PASSWORD not in error
    finally:
        controller.stop()


# -- webhooks -----------------------------------------------------------------------------
def test_a_webhook_receives_signed_json_with_its_headers(store, receiver):
    hook = receiver()
    webhook_id, secret = notify.add_webhook(store, hook.url, ["task.created"])
    hook.secret = secret  # generated: shown once, here
    assert len(secret) >= 40 and webhook_id.startswith("wh_")
    body = {"task_id": "t1", "title": "Call Acme", "due": dt.date(2030, 1, 9)}
    (nid,) = notify.queue(store, "task.created", "New task", body)
    assert notify.deliver(store) == {"sent": 1, "retrying": 0, "failed": 0}
    (got,) = hook.deliveries
    assert got["valid"]
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert headers["content-type"] == "application/json" and headers["sucesso-event"] == "task.created"
    assert headers["sucesso-delivery"] == nid and headers["sucesso-signature"].startswith("t=")
    assert got["body"]["id"] == nid and got["body"]["event"] == "task.created"
    assert got["body"]["data"] == {"task_id": "t1", "title": "Call Acme", "due": "2030-01-09"}
    assert dt.datetime.fromisoformat(got["body"]["created_at"]).utcoffset() == dt.timedelta(0)
    assert row(store, nid)["status"] == "sent"


def test_500_twice_then_200_is_retried_with_backoff_and_sent_once(store, receiver):
    hook = receiver(statuses=(500, 500, 200))
    notify.add_webhook(store, hook.url, ["alert"], secret=SECRET)
    (nid,) = notify.queue(store, "alert", "Acme is red", {"text": "red"})
    t0 = dt.datetime(2030, 1, 1, 12, 0)
    assert notify.deliver(store, now=t0) == {"sent": 0, "retrying": 1, "failed": 0}
    first = row(store, nid)
    assert (first["status"], first["attempts"]) == ("pending", 1)
    assert first["next_attempt_at"] == dt.datetime(2030, 1, 1, 12, 1)  # 1 minute later
    assert first["last_error"] == "HTTP 500 Internal Server Error"

    assert notify.deliver(store, now=t0 + dt.timedelta(seconds=30)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(hook.deliveries) == 1  # not due yet
    assert notify.deliver(store, now=dt.datetime(2030, 1, 1, 12, 1))["retrying"] == 1
    assert row(store, nid)["next_attempt_at"] == dt.datetime(2030, 1, 1, 12, 6)  # then 5 minutes
    assert notify.deliver(store, now=dt.datetime(2030, 1, 1, 12, 6))["sent"] == 1
    done = row(store, nid)
    assert (done["status"], done["attempts"], done["sent_at"]) == ("sent", 3, dt.datetime(2030, 1, 1, 12, 6))
    assert notify.deliver(store, now=dt.datetime(2030, 1, 3)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(hook.deliveries) == 3 and {d["headers"]["Sucesso-Delivery"] for d in hook.deliveries} == {nid}
    assert all(d["valid"] for d in hook.deliveries)


def test_a_receiver_that_always_fails_ends_failed_without_the_secret(store, receiver):
    hook = receiver(statuses=(503,))
    notify.add_webhook(store, hook.url, ["*"], secret=SECRET)
    (nid,) = notify.queue(store, "alert", "s", {"text": "t"})
    now, waits = dt.datetime(2030, 1, 1), []
    for attempt in range(1, notify.MAX_ATTEMPTS + 1):
        counts = notify.deliver(store, now=now)
        r = row(store, nid)
        assert r["attempts"] == attempt
        if attempt < notify.MAX_ATTEMPTS:
            assert counts == {"sent": 0, "retrying": 1, "failed": 0}
            waits.append(r["next_attempt_at"] - now)
            now = r["next_attempt_at"]
    assert counts == {"sent": 0, "retrying": 0, "failed": 1}
    assert [w.total_seconds() / 60 for w in waits] == [1, 5, 30, 120, 720]
    assert notify.MAX_ATTEMPTS == 6 and len(hook.deliveries) == 6
    assert (r["status"], r["next_attempt_at"], r["last_error"]) == ("failed", None, "HTTP 503 Service Unavailable")
    assert notify.deliver(store, now=now + dt.timedelta(days=30))["failed"] == 0  # given up: never again
    assert notify.outbox(store, "failed")[0]["notification_id"] == nid and notify.outbox(store, "sent") == []
    assert SECRET not in json.dumps(notify.outbox(store) + notify.webhooks(store), default=str)


def test_a_dead_port_is_retried(store):
    notify.add_webhook(store, f"http://127.0.0.1:{free_port()}/gone", ["*"], secret=SECRET)
    (nid,) = notify.queue(store, "alert", "s", {"text": "t"})
    now = dt.datetime(2030, 1, 1)
    assert notify.deliver(store, now=now) == {"sent": 0, "retrying": 1, "failed": 0}
    r = row(store, nid)
    assert r["last_error"].startswith("ConnectError") and r["next_attempt_at"] == now + dt.timedelta(minutes=1)


def test_a_removed_webhook_gets_nothing_more(store, receiver):
    hook = receiver()
    webhook_id, _ = notify.add_webhook(store, hook.url, secret=SECRET)
    with pytest.raises(notify.NotifyError, match="already a webhook"):
        notify.add_webhook(store, hook.url)
    (nid,) = notify.queue(store, "alert", "s", {"text": "t"})
    notify.remove_webhook(store, webhook_id)
    assert notify.webhooks(store) == []
    assert notify.deliver(store)["retrying"] == 1 and hook.deliveries == []
    assert row(store, nid)["last_error"] == "no webhook is configured for this URL any more"
    assert notify.queue(store, "alert", "s", {"text": "t"}) == []
    with pytest.raises(notify.NotifyError, match="no webhook"):
        notify.remove_webhook(store, webhook_id)


def test_settings_are_checked(store):
    for bad in ("ftp://example.com/x", "example.com/hook", "http://"):
        with pytest.raises(notify.NotifyError, match="not an http"):
            notify.add_webhook(store, bad)
    for args, problem in ((("", 25, "a@b.c"), "host is empty"), (("h", 0, "a@b.c"), "port"),
                          (("h", 25, "nobody"), "not an e-mail"), (("h", 25, "a@b.c", "u"), "needs a password"),
                          (("h", 25, "a@b.c", None, None, "tls"), "security")):
        with pytest.raises(notify.NotifyError, match=problem):
            notify.set_smtp(store, *args)
    assert notify.smtp_settings(store) is None and notify.webhooks(store) == []
    with pytest.raises(notify.NotifyError, match="status"):
        notify.outbox(store, "lost")


# -- signatures ---------------------------------------------------------------------------
def test_verify_signature_needs_the_secret_the_body_and_a_fresh_time():
    body = b'{"id":"ntf_1","event":"alert"}'
    t = 1_900_000_000
    header = notify.sign(SECRET, body, timestamp=t)
    # HMAC-SHA256 of "1900000000." + body, computed apart from the code with openssl:
    # printf '%s' '1900000000.{"id":"ntf_1","event":"alert"}' | openssl dgst -sha256 -hmac "$SECRET"
    assert header == "t=1900000000,v1=" + KNOWN_HMAC
    assert notify.verify_signature(SECRET, header, body, now=t)
    assert notify.verify_signature(SECRET, header, body, now=t + 300)  # at the tolerance
    assert not notify.verify_signature(SECRET, header, body, now=t + 301)  # stale
    assert not notify.verify_signature(SECRET, header, body, now=t - 301)  # from the future
    assert not notify.verify_signature("another secret", header, body, now=t)
    assert not notify.verify_signature(SECRET, header, body + b" ", now=t)
    assert notify.verify_signature(SECRET, f"t={t},v1=00ff,v1={KNOWN_HMAC}", body, now=t)  # a rotated secret
    for broken in ("", "v1=" + KNOWN_HMAC, f"t={t},v1=não-hex", f"t=soon,v1={KNOWN_HMAC}", f"t={t}",
                   f"t={t},t={t},v1={KNOWN_HMAC}"):
        assert not notify.verify_signature(SECRET, broken, body, now=t), broken
    assert notify.verify_signature(SECRET, notify.sign(SECRET, body), body)  # the clock, both sides


KNOWN_HMAC = "51711aa8a06e1784a8ecb2ade07a4d5700cbd3263647f877f58f0eb4007786bd"


# -- the command line ---------------------------------------------------------------------
def sucesso(*args: str, env: dict | None = None):
    return runner.invoke(cli_app, list(args), env=env, catch_exceptions=False)


def test_cli_configures_tests_delivers_and_never_prints_a_secret(store_url, smtp_server, receiver, monkeypatch):
    db = ("--db", store_url)
    done = sucesso("notify", "smtp", "--host", "127.0.0.1", "--port", str(smtp_server.port), "--from",
                   "cs@example.com", "--username", "cs", "--password-env", "SMTP_PASSWORD", "--security", "none", *db,
                   env={"SMTP_PASSWORD": PASSWORD})
    assert done.exit_code == 0, done.output
    assert sucesso("notify", "smtp", "--host", "h", "--from", "x@y.z", "--password-env", "UNSET_VAR", *db).exit_code \
        == 2  # a variable that is not set is an error, and changes nothing
    shown = sucesso("notify", "smtp", *db).output
    assert "cs@example.com" in shown and "signing in as cs" in shown and PASSWORD not in shown

    hook = receiver()
    added = sucesso("notify", "webhook", "add", hook.url, "--event", "alert", "--event", "task.created", *db)
    assert added.exit_code == 0, added.output
    secret = added.output.split("signing secret (shown once): ")[1].split()[0]
    hook.secret = secret
    listed = "".join(sucesso("notify", "webhook", "list", *extra, *db).output for extra in ((), ("--json",)))
    assert hook.url.split("//")[1][:20] in listed and secret not in listed
    webhook_id = json.loads(sucesso("notify", "webhook", "list", "--json", *db).output)[0]["id"]

    tested = sucesso("notify", "test", "--email", "ana@example.com", *db)
    assert tested.exit_code == 0, tested.output
    assert tested.output.count("sent") == 2 and "ana@example.com" in tested.output
    assert smtp_server.messages[0][2]["Subject"] == "sucesso: test notification"
    assert smtp_server.logins == [(b"cs", PASSWORD.encode())]  # the password came from the environment
    assert hook.deliveries[0]["valid"] and hook.deliveries[0]["body"]["event"] == "test"

    failing = receiver(statuses=(500,), secret=SECRET)
    env = {"HOOK_SECRET": SECRET}
    given = sucesso("notify", "webhook", "add", failing.url, "--secret-env", "HOOK_SECRET", *db, env=env)
    assert given.exit_code == 0 and SECRET not in given.output and "shown once" not in given.output
    with open_store(store_url) as s:
        notify.queue(s, "alert", "Acme is red", {"text": "red"}, ["bia@example.com"])
    delivered = sucesso("notify", "deliver", *db)
    assert "2 sent, 1 to retry later, 0 failed for good" in delivered.output, delivered.output
    everything = "".join(sucesso("notify", "list", *extra, *db).output
                         for extra in ((), ("--json",), ("--status", "pending", "--json")))
    assert "HTTP 500" in everything and SECRET not in everything and secret not in everything
    assert PASSWORD not in everything
    pending = json.loads(sucesso("notify", "list", "--status", "pending", "--json", *db).output)
    assert [(r["destination"], r["attempts"]) for r in pending] == [(failing.url, 1)]
    assert sucesso("notify", "list", "--status", "lost", *db).exit_code == 2

    assert sucesso("notify", "webhook", "remove", webhook_id, *db).exit_code == 0
    assert sucesso("notify", "webhook", "remove", webhook_id, *db).exit_code == 2


def test_cli_test_with_no_channel_says_so(duckdb_url):
    result = sucesso("notify", "test", "--db", duckdb_url)
    assert result.exit_code == 2 and "nothing to send to" in result.output


def test_cli_speaks_portuguese(duckdb_url, monkeypatch):
    monkeypatch.setenv("SUCESSO_LANG", "pt_BR")
    assert "0 enviadas, 0 a tentar de novo depois, 0 falharam de vez" in sucesso("notify", "deliver", "--db",
                                                                                 duckdb_url).output
    refused = sucesso("notify", "webhook", "add", "ftp://example.com", "--db", duckdb_url)
    assert refused.exit_code == 2 and "não é uma URL http:// ou https://" in refused.output


# -- the web API --------------------------------------------------------------------------
def test_api_shows_the_outbox_and_channels_to_admins_only(tmp_path, monkeypatch):
    from sucesso.web import users
    from sucesso.web.app import create_app

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    web = create_app(str(tmp_path / "w.duckdb"), precompute_in_background=False)

    def setup(store):
        notify.set_smtp(store, "127.0.0.1", 2525, "cs@example.com", "cs", PASSWORD, "none")
        notify.add_webhook(store, "https://example.com/hook", ["alert"], secret=SECRET)
        notify.queue(store, "alert", "Acme is red", {"text": "red"}, ["ana@example.com"])
        admin = users.create_user(store, "admin@example.com", "admin", "a long enough password")
        users.create_user(store, "manager@example.com", "manager", "a long enough password")
        return {"admin": users.create_token(store, admin, "t", "admin")[1],
                "admin, read only": users.create_token(store, admin, "r", "read")[1]}

    tokens = web.state.workspace.run(setup)
    client = TestClient(web)
    answer = client.get("/api/notifications", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert answer.status_code == 200
    got = answer.json()
    assert got["smtp"]["password_set"] is True and "password" not in got["smtp"]
    assert got["webhooks"] == [{"id": got["webhooks"][0]["id"], "url": "https://example.com/hook",
                                "events": ["alert"], "active": True}]
    assert sorted(r["channel"] for r in got["outbox"]) == ["email", "webhook"]
    assert PASSWORD not in answer.text and SECRET not in answer.text
    assert client.get("/api/notifications?status=nope",
                      headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 422
    assert client.get("/api/notifications", headers={"Authorization": f"Bearer {tokens['admin, read only']}"}
                      ).status_code == 403
    assert client.get("/api/notifications").status_code == 401  # no one signed in
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/login", data={"email": "manager@example.com", "password": "a long enough password",
                                "csrf_token": csrf})
    assert client.get("/api/notifications").status_code == 403  # a manager's session
    web.state.workspace.close()
