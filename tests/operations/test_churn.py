"""Churn requests (operations/churn.py): the taxonomy and its policy for generic reasons, the
pipeline (open, decide, list), imports, the reasons ranked and the rescue rate — on DuckDB and
PostgreSQL — then the CLI and the web page as people use them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.cli import app as cli_app
from sucesso.demo.lifecycle import REASONS as DEMO_REASONS
from sucesso.ingest import import_file
from sucesso.metrics.operations import GENERIC_REASONS
from sucesso.operations import churn
from sucesso.operations.churn import ChurnError
from sucesso.store import open_store
from sucesso.yamlfile import YamlFileError

JAN_5, JAN_20, JAN_25, FEB_1 = (dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 20), dt.datetime(2024, 1, 25),
                                dt.datetime(2024, 2, 1))


def adopt(store, policy: str, text: str | None = None) -> None:
    text = (text or churn.default_text()).replace("\ngeneric: flag\n", f"\ngeneric: {policy}\n")
    churn.adopt_taxonomy(store, churn.load_taxonomy(text))


def three_accounts(store, fill) -> None:
    # MRR: a 100, b 200, c 300 — all since 2023
    fill(store, accounts=[{"account_id": x, "name": x.upper(), "created_at": "2023-01-01"} for x in "abc"],
         subscriptions=[{"account_id": x, "mrr": m, "started_at": "2023-01-01"}
                        for x, m in (("a", 100), ("b", 200), ("c", 300))])


def pipeline(store, fill) -> dict[str, str]:
    """3 requests: a recovered (missing_feature), b churned (price, MRR 200 at request), c pending (other)."""
    three_accounts(store, fill)
    ids = {"a": churn.open_request(store, "a", "missing_feature", requested_at=JAN_5),
           "b": churn.open_request(store, "b", "price", detail="too dear", requested_at=JAN_5),
           "c": churn.open_request(store, "c", "other", requested_at=JAN_20)}
    churn.decide(store, ids["a"], "recovered", JAN_20)
    churn.decide(store, ids["b"], "churned", JAN_25)
    return ids


# -- the pipeline and what it says --------------------------------------------------------------
def test_three_requests_give_a_rescue_rate_of_half_and_rank_the_lost_mrr(store, fill):
    ids = pipeline(store, fill)
    # decided in Jan: a recovered, b churned → 1/2; c is pending and counts nowhere
    assert churn.rescue_rate_by_month(store, "2024-01", "2024-02") == [
        {"period": "2024-01", "decided": 2, "rescue_rate": 0.5},
        {"period": "2024-02", "decided": 0, "rescue_rate": None}]
    # price lost b's 200; missing_feature lost nothing; one request each: both first by count
    assert churn.reasons(store, "2024-01", "2024-02", language="pt_BR") == [
        {"reason_code": "price", "label": "Preço alto", "kind": "voluntary", "generic": False, "flagged": None,
         "requests": 1, "lost_mrr": 200.0, "rank_by_requests": 1, "rank_by_lost_mrr": 1},
        {"reason_code": "missing_feature", "label": "Falta de funcionalidade", "kind": "voluntary", "generic": False,
         "flagged": None, "requests": 1, "lost_mrr": 0.0, "rank_by_requests": 1, "rank_by_lost_mrr": 2}]
    rows = sorted(churn.requests(store, as_of=FEB_1.date()), key=lambda r: r["account_id"])
    assert [(r["account_id"], r["outcome"], r["mrr"], r["age_days"], r["flagged"]) for r in rows] == [
        ("a", "recovered", 100.0, 15, None),   # Jan 5th → decided Jan 20th
        ("b", "churned", 200.0, 20, None),     # Jan 5th → Jan 25th
        ("c", "pending", 300.0, 12, "generic")]  # Jan 20th → as of Feb 1st; "other" is generic: flagged
    pending = churn.requests(store, "pending", as_of=FEB_1.date())
    assert [r["request_id"] for r in pending] == [ids["c"]]
    b = churn.request(store, ids["b"])
    assert (b["account_name"], b["reason_label"], b["reason_detail"], b["voluntary"]) == ("B", "Price too high",
                                                                                      "too dear", True)
    assert churn.requests(store, account_id="a")[0]["reason_code"] == "missing_feature"


def test_voluntary_comes_from_the_reason_kind_unless_told(store, fill):
    three_accounts(store, fill)
    failed = churn.open_request(store, "a", "payment_failure", requested_at=JAN_5)
    told = churn.open_request(store, "b", "payment_failure", voluntary=True, requested_at=JAN_5)
    assert churn.request(store, failed)["voluntary"] is False
    assert churn.request(store, failed)["kind"] == "involuntary"
    assert churn.request(store, told)["voluntary"] is True


def test_open_request_refuses_unknown_codes_accounts_and_a_second_pending_request(store, fill):
    three_accounts(store, fill)
    with pytest.raises(ChurnError, match=r"unknown churn reason 'too_expensive'; the reasons are: price, budget_cut"):
        churn.open_request(store, "a", "too_expensive")
    with pytest.raises(ChurnError, match="no account 'zz'"):
        churn.open_request(store, "zz", "price")
    first = churn.open_request(store, "a", "PRICE", requested_at=JAN_5)  # codes in any case
    assert churn.request(store, first)["reason_code"] == "price"
    with pytest.raises(ChurnError, match=f"'a' already has a pending churn request, {first}: decide it first"):
        churn.open_request(store, "a", "budget_cut")
    assert store.count("churn_requests") == 1


def test_deciding_twice_or_an_unknown_request_is_an_error(store, fill):
    ids = pipeline(store, fill)
    with pytest.raises(ChurnError, match=rf"churn request '{ids['b']}' was already decided: churned on 2024-01-25"):
        churn.decide(store, ids["b"], "recovered")
    with pytest.raises(ChurnError, match="no churn request 'nope'"):
        churn.decide(store, "nope", "churned")
    with pytest.raises(ChurnError, match="decided as recovered or churned, not 'pending'"):
        churn.decide(store, ids["c"], "pending")
    with pytest.raises(ChurnError, match=r"on or after it was made \(2024-01-20 00:00\), not on 2024-01-19"):
        churn.decide(store, ids["c"], "churned", dt.date(2024, 1, 19))
    assert churn.request(store, ids["b"])["outcome"] == "churned"
    assert churn.request(store, ids["c"])["outcome"] == "pending"


@pytest.mark.parametrize("policy, flagged", [("flag", "generic"), ("allow", None)])
def test_a_generic_reason_is_flagged_or_allowed(store, fill, policy, flagged):
    three_accounts(store, fill)
    adopt(store, policy)
    made = churn.open_request(store, "a", "other")
    assert churn.request(store, made)["flagged"] == flagged
    assert churn.request(store, made)["generic"] is True


def test_a_generic_reason_is_refused_saying_why_and_what_instead(store, fill):
    three_accounts(store, fill)
    adopt(store, "refuse")
    with pytest.raises(ChurnError) as caught:
        churn.open_request(store, "a", "other")
    assert str(caught.value).startswith("'other' is too generic: say what the customer said (price, budget_cut, ")
    assert str(caught.value).endswith("); the team refuses generic reasons")
    assert store.count("churn_requests") == 0
    churn.open_request(store, "a", "price")  # a specific reason is fine


# -- imports --------------------------------------------------------------------------------------
CSV = ("request_id,account_id,requested_at,reason_code,voluntary,outcome,decided_at\n"
       "r1,a,2024-01-05,price,true,churned,2024-01-20\n"
       "r2,b,2024-01-06,other,true,churned,2024-01-21\n"
       "r3,c,2024-01-07,Old_Code,true,recovered,2024-01-22\n")


def test_an_import_under_refuse_rejects_generic_rows_and_writes_nothing(store, fill, write):
    three_accounts(store, fill)
    adopt(store, "refuse")
    report = import_file(store, "churn_requests", write("requests.csv", CSV))
    assert not report.written and store.count("churn_requests") == 0
    [problem] = report.problems  # the old code is not refused: history keeps its codes
    assert (problem.row, problem.column, problem.value) == (3, "reason_code", "other")
    assert str(problem).endswith("requests.csv, row 3, column reason_code: 'other' — expected a reason that says "
                                 "why (the team refuses generic reasons): one of " + churn.load_taxonomy().specific())


def test_an_import_under_flag_writes_and_counts_generic_and_unknown_codes(store, fill, write):
    three_accounts(store, fill)
    report = import_file(store, "churn_requests", write("requests.csv", CSV))
    assert report.written and report.inserted == 3
    assert report.notes == [
        "1 churn requests with a generic reason (other ×1): imported and flagged",
        "1 churn requests with a reason not in the workspace's churn reasons (`sucesso churn taxonomy`) "
        "(Old_Code ×1): imported and flagged"]
    flags = {r["request_id"]: r["flagged"] for r in churn.requests(store)}
    assert flags == {"r1": None, "r2": "generic", "r3": "unknown"}
    # the unknown code is ranked under its own name, generic as the metric says (it is not one of its codes)
    ranked = {r["reason_code"]: r for r in churn.reasons(store, "2024-01", "2024-01")}
    assert (ranked["old_code"]["label"], ranked["old_code"]["kind"], ranked["old_code"]["generic"]) == \
        ("old_code", None, False)
    assert ranked["other"]["generic"] is True and ranked["price"]["lost_mrr"] == 100.0


def test_an_import_under_allow_has_no_note_for_generic_codes(store, fill, write):
    three_accounts(store, fill)
    adopt(store, "allow")
    report = import_file(store, "churn_requests", write("requests.csv", CSV))
    assert report.written and [n.split(" (")[0] for n in report.notes] == [
        "1 churn requests with a reason not in the workspace's churn reasons"]


# -- the taxonomy ---------------------------------------------------------------------------------
def test_the_default_taxonomy_has_the_demo_codes_and_the_metric_generic_ones():
    taxonomy = churn.load_taxonomy()
    assert set(DEMO_REASONS) <= set(taxonomy.reasons)
    assert {c for c, r in taxonomy.reasons.items() if r.generic} == set(GENERIC_REASONS)
    assert taxonomy.policy == "flag"
    assert taxonomy.reasons["payment_failure"].kind == "involuntary"


def test_the_team_taxonomy_wins_over_the_metric_list_of_generic_codes(store, fill):
    three_accounts(store, fill)
    text = churn.default_text().replace("label_pt_BR: Outro, kind: voluntary, generic: true",
                                        "label_pt_BR: Outro, kind: voluntary, generic: false")
    adopt(store, "flag", text)
    made = churn.open_request(store, "a", "other", requested_at=JAN_5)
    churn.decide(store, made, "churned", JAN_20)
    [ranked] = churn.reasons(store, "2024-01", "2024-01")
    assert (ranked["reason_code"], ranked["generic"], ranked["flagged"], ranked["lost_mrr"]) == ("other", False, None,
                                                                                               100.0)


BAD_TAXONOMY = """\
generic: sometimes
reasons:
  - {code: price, label_en: Price, label_pt_BR: Preço, kind: voluntary}
  - code: budget
    label_en: Budget
    label_pt_BR: Orçamento
    kind: forced
  - {code: price, label_en: Again, label_pt_BR: De novo, kind: voluntary}
  - {code: Bad Code, label_en: X, label_pt_BR: X, kind: voluntary}
"""


def test_taxonomy_mistakes_are_all_reported_with_their_lines():
    with pytest.raises(YamlFileError) as caught:
        churn.load_taxonomy(BAD_TAXONOMY, "reasons.yaml")
    said = str(caught.value).splitlines()
    assert said[0].startswith("reasons.yaml, line 1: generic: Input should be 'refuse', 'flag' or 'allow'")
    assert said[1].startswith("reasons.yaml, line 7: reasons.1.kind: Input should be 'voluntary' or 'involuntary'")
    assert said[2].startswith("reasons.yaml, line 9: reasons.3.code: String should match pattern")
    assert len(said) == 3  # the duplicate is reported once the rest is right:
    fixed = BAD_TAXONOMY.replace("sometimes", "refuse").replace("forced", "involuntary").replace("Bad Code", "bad")
    with pytest.raises(YamlFileError, match=r"reasons.yaml, line 8: reasons.2.code: 'price' is already reasons.0"):
        churn.load_taxonomy(fixed, "reasons.yaml")
    with pytest.raises(YamlFileError, match=r"reasons.yaml, line 2: not valid YAML"):
        churn.load_taxonomy("generic: flag\n  reasons: []\n", "reasons.yaml")
    with pytest.raises(YamlFileError, match="at least one reason must not be generic"):
        churn.load_taxonomy("reasons:\n  - {code: other, label_en: O, label_pt_BR: O, kind: voluntary, "
                            "generic: true}\n", "reasons.yaml")


# -- the command line -----------------------------------------------------------------------------
runner = CliRunner()


def sucesso(*args: str):
    return runner.invoke(cli_app, list(args), catch_exceptions=False)


def said(result) -> str:
    """The output as one line: Rich wraps at the terminal's width."""
    return " ".join(result.output.split())


def test_the_cli_opens_decides_lists_and_ranks(duckdb_url, fill, tmp_path):
    with open_store(duckdb_url) as store:
        three_accounts(store, fill)
    opened = sucesso("churn", "open", "b", "price", "--detail", "too dear", "--at", "2024-01-05", "--db", duckdb_url)
    assert opened.exit_code == 0, opened.output
    request_id = re.search(r"churn request (cr_\w+) opened for B: Price too high, voluntary", opened.output).group(1)
    flagged = sucesso("churn", "open", "c", "other", "--involuntary", "--at", "2024-01-06", "--db", duckdb_url)
    assert "flagged: 'other' is a generic reason" in said(flagged)
    unknown = sucesso("churn", "open", "a", "nope", "--db", duckdb_url)
    assert unknown.exit_code == 2 and "unknown churn reason 'nope'; the reasons are: price" in said(unknown)

    decided = sucesso("churn", "decide", request_id, "churned", "--at", "2024-01-25", "--db", duckdb_url)
    assert decided.exit_code == 0 and f"churn request {request_id} decided: churned" in said(decided)
    again = sucesso("churn", "decide", request_id, "recovered", "--db", duckdb_url)
    assert again.exit_code == 2 and "was already decided: churned on 2024-01-25" in said(again)

    listed = json.loads(sucesso("churn", "list", "--outcome", "pending", "--json", "--db", duckdb_url).output)
    [pending] = listed["requests"]
    assert (pending["account_id"], pending["voluntary"], pending["flagged"], pending["mrr"]) == ("c", False,
                                                                                                "generic", 300.0)
    table = said(sucesso("churn", "list", "--db", duckdb_url))
    assert "R$300.00" in table and "2 requests; 1 pending, R$300.00 MRR at risk" in table

    ranked = json.loads(sucesso("churn", "reasons", "--from", "2024-01", "--to", "2024-01", "--json",
                                "--db", duckdb_url).output)
    assert [(r["reason_code"], r["requests"], r["lost_mrr"]) for r in ranked["reasons"]] == [("price", 1, 200.0)]
    shown = said(sucesso("churn", "reasons", "--from", "2024-01", "--to", "2024-01", "--lang", "pt_BR",
                         "--db", duckdb_url))
    assert "Preço alto" in shown and "R$ 200,00" in shown
    rescue = json.loads(sucesso("churn", "rescue", "--from", "2024-01", "--to", "2024-01", "--json",
                                "--db", duckdb_url).output)
    assert rescue["months"] == [{"period": "2024-01", "decided": 1, "rescue_rate": 0.0}]


def test_the_cli_shows_and_adopts_a_taxonomy(duckdb_url, fill, tmp_path):
    with open_store(duckdb_url) as store:
        three_accounts(store, fill)
    shown = sucesso("churn", "taxonomy", "--db", duckdb_url)
    assert shown.output == churn.default_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_TAXONOMY, encoding="utf-8")
    refused = sucesso("churn", "taxonomy", str(bad), "--db", duckdb_url)
    assert refused.exit_code == 2 and f"{bad}, line 7: reasons.1.kind:" in said(refused)
    strict = tmp_path / "strict.yaml"
    strict.write_text(churn.default_text().replace("\ngeneric: flag\n", "\ngeneric: refuse\n"), encoding="utf-8")
    adopted = sucesso("churn", "taxonomy", str(strict), "--db", duckdb_url)
    assert "churn reasons adopted: 17 reasons; generic ones: refuse" in said(adopted)
    refused = sucesso("churn", "open", "a", "other", "--db", duckdb_url)
    assert refused.exit_code == 2 and "'other' is too generic: say what the customer said" in said(refused)
    assert "churn reasons adopted" in sucesso("churn", "taxonomy", "--default", "--db", duckdb_url).output
    assert sucesso("churn", "open", "a", "other", "--db", duckdb_url).exit_code == 0


def test_the_import_command_reports_the_flagged_codes(duckdb_url, fill, write):
    with open_store(duckdb_url) as store:
        three_accounts(store, fill)
    done = sucesso("import", "churn_requests", write("requests.csv", CSV), "--db", duckdb_url)
    assert done.exit_code == 0 and "requests.csv: 1 churn requests with a generic reason (other ×1)" in said(done)


# -- the web page ---------------------------------------------------------------------------------
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def web(demo_url, tmp_path_factory):
    from argon2 import PasswordHasher

    from sucesso.web import users
    from sucesso.web.app import create_app

    url = str(tmp_path_factory.mktemp("churn-web") / "demo.duckdb")
    shutil.copy(demo_url, url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        with open_store(url) as store:
            csm = store.fetchall("SELECT csm_id FROM accounts WHERE csm_id IS NOT NULL ORDER BY csm_id LIMIT 1")[0][0]
            for role in ("admin", "csm", "viewer"):
                users.create_user(store, f"{role}@example.com", role, PASSWORD, csm_id=csm if role == "csm" else None)
        app = create_app(url, precompute_in_background=False)
        yield app, csm
        app.state.workspace.wait_ready()


def client_as(app, role: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 303
    return client, client.get("/api/me").json()["csrf_token"]


def accounts_without_pending(app, csm: str) -> tuple[str, str]:
    """A customer of `csm` and one of another CSM, neither with a pending request."""
    rows = app.state.workspace.run(lambda s: s.fetchall(
        "SELECT account_id, csm_id FROM accounts WHERE csm_id IS NOT NULL AND account_id NOT IN "
        "(SELECT account_id FROM churn_requests WHERE outcome = 'pending') ORDER BY account_id"))
    customers = set(app.state.workspace.account_rows().query("customer")["account_id"])
    mine = next(a for a, c in rows if c == csm and a in customers)
    theirs = next(a for a, c in rows if c != csm and a in customers)
    return mine, theirs


def test_the_page_shows_the_pipeline_reasons_and_rescue_rate(web):
    app, _csm = web
    admin, _token = client_as(app, "admin")
    data = admin.get("/api/churn").json()
    assert data["outcome"] == "pending" and all(r["outcome"] == "pending" for r in data["requests"])
    assert data["mrr_at_risk"] == pytest.approx(sum(r["mrr"] for r in data["requests"]))
    assert data["reasons"] and [r["lost_mrr"] for r in data["reasons"]] == sorted(
        (r["lost_mrr"] for r in data["reasons"]), reverse=True)
    f = data["filters"]
    same = app.state.workspace.run(lambda s: churn.rescue_rate_by_month(s, f["from"], f["to"]))
    assert data["rescue"] == same
    page = admin.get("/churn").text
    assert 'href="/churn"' in page  # in the navigation
    assert "Open a churn request" in page or "Abrir um pedido de cancelamento" in page
    first = data["requests"][0]
    assert f'href="/accounts/{first["account_id"]}"' in page
    assert f'churn?from={f["from"]}&to={f["to"]}&outcome=churned&reason={data["reasons"][0]["reason_code"]}' \
        in page  # the lost-MRR bars link to the requests behind them
    churned = admin.get(f"/api/churn?outcome=churned&reason={data['reasons'][0]['reason_code']}").json()
    assert {r["reason_code"] for r in churned["requests"]} == {data["reasons"][0]["reason_code"]}


def test_admin_csm_and_viewer_may_do_what_their_role_allows(web):
    app, csm = web
    mine, theirs = accounts_without_pending(app, csm)
    viewer, viewer_token = client_as(app, "viewer")
    page = viewer.get("/churn")
    assert page.status_code == 200
    assert "/churn/requests/decide" not in page.text and 'name="account_id"' not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert viewer.post("/churn/requests", data={"account_id": mine, "reason_code": "price",
                                                "csrf_token": csrf}).status_code == 403
    assert viewer.post("/api/churn/requests", json={"account_id": mine, "reason_code": "price"},
                       headers={"X-CSRF-Token": viewer_token}).status_code == 403

    worker, token = client_as(app, "csm")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', worker.get("/churn").text).group(1)
    assert worker.post("/churn/requests", data={"account_id": theirs, "reason_code": "price",
                                                "csrf_token": csrf}).status_code == 403
    assert worker.post("/churn/requests", data={"account_id": mine, "reason_code": "price"}).status_code == 403  # CSRF
    assert worker.post("/api/churn/requests", json={"account_id": mine, "reason_code": "price"}).status_code == 403
    opened = worker.post("/churn/requests", data={"account_id": mine, "reason_code": "price", "kind": "involuntary",
                                                  "detail": "achou caro", "csrf_token": csrf})
    assert opened.status_code == 303 and opened.headers["location"] == "/churn?done=opened"
    [made] = [r for r in worker.get("/api/churn").json()["requests"] if r["account_id"] == mine]
    assert (made["reason_code"], made["voluntary"], made["reason_detail"], made["can_decide"]) == (
        "price", False, "achou caro", True)
    again = worker.post("/churn/requests", data={"account_id": mine, "reason_code": "budget_cut", "csrf_token": csrf})
    assert again.status_code == 400 and "já tem um pedido de cancelamento pendente" in again.text  # in pt_BR

    admin, admin_token = client_as(app, "admin")
    other = admin.post("/api/churn/requests", json={"account_id": theirs, "reason_code": "other"},
                       headers={"X-CSRF-Token": admin_token})
    assert other.status_code == 201 and other.json()["flagged"] == "generic"
    listed = {r["account_id"]: r for r in worker.get("/api/churn").json()["requests"]}
    assert listed[theirs]["can_decide"] is False  # the csm sees it, may not decide it
    assert worker.post("/api/churn/requests/decide", json={"request_id": other.json()["request_id"],
                                                           "outcome": "recovered"},
                       headers={"X-CSRF-Token": token}).status_code == 403

    decided = worker.post("/churn/requests/decide", data={"request_id": made["request_id"], "outcome": "recovered",
                                                          "csrf_token": csrf})
    assert decided.status_code == 303
    app.state.workspace.wait_ready()
    twice = admin.post("/api/churn/requests/decide", json={"request_id": made["request_id"], "outcome": "churned"},
                       headers={"X-CSRF-Token": admin_token})
    assert twice.status_code == 400 and "was already decided: recovered on" in twice.json()["detail"]
    unknown = admin.post("/api/churn/requests/decide", json={"request_id": "nope", "outcome": "churned"},
                         headers={"X-CSRF-Token": admin_token})
    assert unknown.status_code == 404
    done = admin.post("/api/churn/requests/decide", json={"request_id": other.json()["request_id"],
                                                          "outcome": "churned"}, headers={"X-CSRF-Token": admin_token})
    assert done.status_code == 200 and done.json()["outcome"] == "churned"
    app.state.workspace.wait_ready()
