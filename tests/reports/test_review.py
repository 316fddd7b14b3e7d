"""The success review: its figures on a tiny account filled by hand (DuckDB and PostgreSQL), the
choice of period and language, and the report as HTML, PDF (rendered to images, its text read
back), from the command line and from the web app — on a copy of the demo workspace."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pypdfium2 as pdfium
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sucesso.cli import app as cli
from sucesso.health.report import health_report
from sucesso.reports import AccountNotFound, review_span, success_review
from sucesso.reports.choices import review_language
from sucesso.reports.pdf import review_pdf
from sucesso.reports.render import review_html
from sucesso.store import open_store, set_setting
from sucesso.web import users
from sucesso.web.app import create_app

Q3 = dict(period="2026-Q3")
TITLES = {
    "pt_BR": ["Revisão de sucesso", "Destaques do período", "Saúde da conta", "Uso e adoção", "Suporte", "Satisfação",
              "Metas alcançadas", "Próximos passos"],
    "en": ["Success review", "Highlights of the period", "Health score", "Usage and adoption", "Support",
           "Satisfaction", "Goals achieved", "Next steps"],
}
SECTIONS = ("kpis", "health", "usage", "support", "satisfaction", "goals", "next-steps")


def fill_tiny(store, fill) -> None:
    """Acme Ltda (Brazil, 4 seats) in 2026-Q3 [07-01, 10-01): MRR 1.000,00 → 1.234,56 (plan change on
    08-01); 5 usage events by 3 people on 4 days (+1 in May, +1 after the quarter); 2 tickets, one
    resolved in first contact; an NPS 9 and a CSAT 4/5; first_value reached in the quarter, activated
    before; one open task. Also: an empty account, two accounts with the same name, a US account."""
    fill(store,
         csms=[{"csm_id": "csm1", "name": "Ana Lima", "role": "csm"}],
         accounts=[{"account_id": "acme", "name": "Acme Ltda", "country": "BR", "seats": 4, "plan": "pro",
                    "segment": "smb", "csm_id": "csm1", "created_at": "2025-01-10"},
                   {"account_id": "empty", "name": "Vazia ME", "country": "BR", "created_at": "2025-01-10"},
                   {"account_id": "twin1", "name": "Gêmeas SA", "created_at": "2025-01-10"},
                   {"account_id": "twin2", "name": "Gêmeas SA", "created_at": "2025-01-10"},
                   {"account_id": "globex", "name": "Globex Inc", "country": "US", "created_at": "2025-01-10"}],
         contacts=[{"contact_id": c, "account_id": "acme", "name": n}
                   for c, n in (("c1", "Bia"), ("c2", "Caio"), ("c3", "Dani"))],
         subscriptions=[{"account_id": "acme", "mrr": 1000, "started_at": "2025-01-10", "ended_at": "2026-08-01"},
                        {"account_id": "acme", "mrr": 1234.56, "started_at": "2026-08-01"},
                        {"account_id": "globex", "mrr": 50, "started_at": "2025-01-10"}],
         invoices=[{"account_id": "acme", "issued_at": "2026-09-30T12:00:00", "due_at": "2026-10-10",
                    "paid_at": "2026-09-30T12:00:00", "amount": 1234.56, "status": "paid"}],
         features=[{"event": "login", "name": "Login", "is_key": False},
                   {"event": "workflow_created", "name": "Workflow created", "is_key": True,
                    "milestone": "first_value"},
                   {"event": "automation_run", "name": "Automation run", "is_key": True},
                   {"event": "report_exported", "name": "Report exported", "is_key": True,
                    "milestone": "first_success"}],
         usage_events=[{"account_id": "acme", "contact_id": c, "event": e, "occurred_at": at} for c, e, at in (
             ("c1", "login", "2026-05-15T10:00:00"),  # before the quarter: the chart's May
             ("c1", "login", "2026-07-05T10:00:00"),
             ("c1", "workflow_created", "2026-07-05T11:00:00"),
             ("c2", "login", "2026-08-10T10:00:00"),
             ("c3", "login", "2026-09-20T10:00:00"),
             (None, "automation_run", "2026-09-29T03:00:00"),  # no person behind it
             ("c1", "login", "2026-10-02T10:00:00"))],  # after the quarter
         milestones=[{"account_id": "acme", "milestone": "activated", "reached_at": "2025-02-01"},
                     {"account_id": "acme", "milestone": "first_value", "reached_at": "2026-07-05T11:00:00"}],
         tickets=[{"account_id": "acme", "opened_at": "2026-07-10T09:00:00", "first_response_at": "2026-07-10T11:00:00",
                   "resolved_at": "2026-07-10T13:00:00", "contacts_to_resolve": 1},
                  {"account_id": "acme", "opened_at": "2026-08-01T09:00:00", "first_response_at": "2026-08-01T15:00:00",
                   "resolved_at": "2026-08-03T09:00:00", "contacts_to_resolve": 3}],
         survey_responses=[{"account_id": "acme", "contact_id": "c1", "survey": "nps", "score": 9,
                            "comment": "Ótimo suporte", "answered_at": "2026-08-15T10:00:00"},
                           {"account_id": "acme", "contact_id": "c2", "survey": "csat", "score": 4,
                            "answered_at": "2026-07-20T10:00:00"}])
    now = dt.datetime(2026, 9, 1)
    for task_id, title, status, due in (("t1", "Quarterly business review", "open", dt.datetime(2026, 10, 15)),
                                        ("t2", "Old call", "done", None)):
        store.execute("INSERT INTO tasks (task_id, account_id, title, kind, status, created_at, updated_at, "
                      "created_by, due_at) VALUES (?, 'acme', ?, 'proactive_call', ?, ?, ?, 'ana@example.com', ?)",
                      (task_id, title, status, now, now, due))


@pytest.fixture
def tiny(store, fill):
    fill_tiny(store, fill)
    return store


def test_the_figures_of_a_quarter(tiny):
    r = success_review(tiny, "acme", **Q3, today=dt.date(2026, 10, 5))
    assert r["account"] == {"account_id": "acme", "name": "Acme Ltda", "csm": "Ana Lima", "plan": "pro",
                            "segment": "smb", "country": "BR"}
    assert r["period"] == {"label": "2026-Q3", "kind": "quarter", "from": "2026-07-01", "to": "2026-10-01",
                           "last_day": "2026-09-30"}
    assert (r["language"], r["currency"], r["prepared_on"]) == ("pt_BR", "BRL", "2026-10-05")
    k = r["kpis"]
    assert (k["mrr_start"], k["mrr_end"], k["mrr_change"]) == (1000.0, 1234.56, 234.56)
    assert k["mrr_change_rate"] == pytest.approx(0.23456)
    assert (k["usage_events"], k["active_users"], k["active_days"]) == (5, 3, 4)
    assert k["seats"] == 4 and k["seat_utilisation"] == pytest.approx(1 / 4)  # only Dani in the last 30 days
    assert [(f["event"], f["used"], f["events"]) for f in k["key_features"]] == [
        ("automation_run", True, 1), ("report_exported", False, 0), ("workflow_created", True, 1)]
    assert k["key_features_used"] == 2
    assert [(m["month"], m["events"], m["active_users"], m["in_period"]) for m in r["usage"]] == [
        ("2026-01", 0, 0, False), ("2026-02", 0, 0, False), ("2026-03", 0, 0, False), ("2026-04", 0, 0, False),
        ("2026-05", 1, 1, False), ("2026-06", 0, 0, False),
        ("2026-07", 2, 1, True), ("2026-08", 1, 1, True), ("2026-09", 2, 1, True)]
    # first responses 2 h and 6 h, resolutions 4 h and 48 h; one of the two in first contact
    assert r["tickets"] == {"opened": 2, "resolved": 2, "fcr": 0.5, "first_response_hours_median": 4.0,
                            "resolution_hours_median": 26.0}
    s = r["satisfaction"]
    assert (s["nps"], s["nps_responses"], s["csat"], s["csat_responses"], s["ces"]) == (100.0, 1, 1.0, 1, None)
    assert [(a["survey"], a["score"], a["contact"], a["comment"]) for a in s["answers"]] == [
        ("csat", 4.0, "Caio", None), ("nps", 9.0, "Bia", "Ótimo suporte")]
    assert r["goals"] == {
        "reached": [{"milestone": "first_value", "label": "Primeiro valor", "reached_at": "2026-07-05",
                     "features": ["Workflow created"]}],
        "earlier": [{"milestone": "activated", "label": "Ativação", "reached_at": "2025-02-01", "features": []}]}
    assert r["next_steps"]["tasks"] == [{"title": "Quarterly business review", "due_at": "2026-10-15",
                                         "status": "open"}]


def test_health_is_the_models_at_the_end_and_the_start(tiny):
    r = success_review(tiny, "acme", **Q3)
    expected = health_report(tiny, dt.date(2026, 10, 1), 92, "acme", locale="pt_BR")["accounts"][0]
    h = r["health"]
    assert (h["as_of"], h["since"]) == ("2026-10-01", "2026-07-01")
    assert (h["score"], h["band"], h["change"], h["changes"]) == (expected["rounded"], expected["band"],
                                                                  expected["change"], expected["changes"])
    assert h["start_score"] == round(expected["previous_score"])
    assert [(c["name"], c["score"]) for c in h["components"]] == [(c["name"], c["score"])
                                                                  for c in expected["components"]]
    start = health_report(tiny, dt.date(2026, 7, 1), 30, "acme")["accounts"][0]
    assert (h["start_score"], h["start_band"]) == (start["rounded"], start["band"])
    assert {c["name"]: c["start_score"] for c in h["components"]} == {c["name"]: c["score"]
                                                                       for c in start["components"]}
    # suggestions: the weakest components under 70, weakest first, at most three, in Portuguese
    weak = sorted((c for c in h["components"] if not c["missing"] and c["score"] < 70), key=lambda c: c["score"])
    suggested = r["next_steps"]["suggestions"]
    assert [s["component"] for s in suggested] == [c["name"] for c in weak[:3]] == ["adoption", "usage"]
    assert suggested[1]["text"].startswith("Combinem uma rotina de uso")


def test_an_account_with_nothing_gets_a_review_that_says_so(tiny):
    r = success_review(tiny, "Vazia ME", **Q3)
    assert r["account"]["account_id"] == "empty"
    assert r["kpis"]["mrr_start"] == r["kpis"]["mrr_end"] == 0 and r["kpis"]["mrr_change_rate"] is None
    assert r["kpis"]["usage_events"] == 0 and r["kpis"]["seat_utilisation"] is None
    assert r["health"] is None and r["next_steps"] == {"tasks": [], "suggestions": []}
    assert r["tickets"]["opened"] == 0 and r["tickets"]["fcr"] is None and r["satisfaction"]["answers"] == []
    html = review_html(r)
    for words in ("Nenhum chamado foi aberto ou resolvido no período.", "Nenhuma resposta de pesquisa no período.",
                  "Nenhum novo marco foi alcançado no período.", "Nenhuma tarefa aberta.", "Nenhum uso nestes meses.",
                  "Sem score de saúde no fim do período"):
        assert words in html
    assert review_pdf(r).startswith(b"%PDF")


def test_accounts_by_id_or_unambiguous_name(tiny):
    assert success_review(tiny, "Globex Inc", **Q3)["account"]["account_id"] == "globex"
    with pytest.raises(AccountNotFound, match="no account 'nobody'"):
        success_review(tiny, "nobody")
    with pytest.raises(AccountNotFound) as ambiguous:
        success_review(tiny, "Gêmeas SA")
    assert ambiguous.value.matches == ["twin1", "twin2"]


def test_periods(tiny):
    span = lambda *a, **k: (lambda s: (s.start.isoformat(), s.end.isoformat(), s.label))(  # noqa: E731
        review_span(tiny, *a, **k))
    assert span("2026-Q3") == ("2026-07-01", "2026-10-01", "2026-Q3")
    assert span("2026-09") == ("2026-09-01", "2026-10-01", "2026-09")
    assert span("2026") == ("2026-01-01", "2027-01-01", "2026")
    assert span(start="2026-07-15", end="2026-08-15") == ("2026-07-15", "2026-08-15", "2026-07-15_2026-08-15")
    # by default the last full quarter of data: it ends on 2026-09-30, so the health date is 2026-10-01 → Q3
    assert span(today=dt.date(2027, 3, 1)) == ("2026-07-01", "2026-10-01", "2026-Q3")
    assert span(today=dt.date(2026, 9, 30)) == ("2026-04-01", "2026-07-01", "2026-Q2")
    for bad in (dict(period="2026-Q5"), dict(period="2026-13"), dict(start="2026-07-01"),
                dict(start="2026-08-01", end="2026-07-01"), dict(period="2026", start="2026-01-01", end="2026-02-01"),
                dict(start="01/07/2026", end="2026-08-01")):
        with pytest.raises(ValueError):
            review_span(tiny, **bad)


def test_the_customers_language(tiny):
    def language(account: dict, lang: str | None = None) -> str:
        return review_language(tiny, account, lang)

    assert language({"country": "BR"}) == "pt_BR" and language({"country": "Brasil"}) == "pt_BR"
    assert language({"country": "US"}) == language({"country": "Germany"}) == "en"
    assert language({"country": "BR", "attributes": '{"language": "en-US"}'}) == "en"
    assert language({"country": "US", "attributes": '{"locale": "pt_BR"}'}) == "pt_BR"
    assert language({"country": "BR"}, "en") == "en"
    assert language({"country": "Atlantis"}) == language({}) == "pt_BR"  # the workspace's
    set_setting(tiny, "locale", "en")
    assert language({}) == "en"
    with pytest.raises(ValueError, match="--lang"):
        language({}, "fr")


# -- the report, on a copy of the demo workspace with Acme added ------------------------------
@pytest.fixture
def demo_copy(demo_url, tmp_path, fill) -> str:
    url = str(tmp_path / "demo.duckdb")
    shutil.copy(demo_url, url)
    with open_store(url) as store:
        fill_tiny(store, fill)
    return url


def pdf_pages(data: bytes) -> tuple[list[str], object]:
    """The text of every page (no-break spaces as spaces), and the first page as a grey image."""
    doc = pdfium.PdfDocument(data)
    try:
        texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
        image = doc[0].render(scale=1).to_pil().convert("L")
    finally:
        doc.close()
    return [t.replace("\xa0", " ") for t in texts], image


def inked(image) -> float:
    """The share of the pixels that are not white."""
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / sum(histogram)


def test_the_html_is_one_self_contained_page_with_every_section(demo_copy):
    with open_store(demo_copy) as store:
        html = review_html(success_review(store, "acme", **Q3))
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    for title in TITLES["pt_BR"]:
        assert title in html
    assert "Acme Ltda" in html and "R$\xa01.234,56" in html and "+R$\xa0234,56 (+23,5%)" in html
    assert re.search(r"<figure class=\"chart\"[^>]*><svg", html)
    fetched = r"(src|href)=\"(https?:)?//|<script|<link(?![^>]*href=\"data:)|<img|url\((?!#)"
    assert not re.search(fetched, html)  # nothing fetched


def test_the_pdf_in_portuguese_and_in_english(demo_copy):
    with open_store(demo_copy) as store:
        portuguese = review_pdf(success_review(store, "acme", **Q3))
        english = review_pdf(success_review(store, "acme", **Q3, lang="en"))
        demo_account = store.fetchall("SELECT account_id, name FROM accounts WHERE country = 'BR' "
                                      "ORDER BY account_id LIMIT 1")[0]
        demo = review_pdf(success_review(store, demo_account[0]))
    for data, language in ((portuguese, "pt_BR"), (english, "en")):
        assert data.startswith(b"%PDF")
        texts, first = pdf_pages(data)
        assert len(texts) >= 1 and inked(first) > 0.03, "the first page looks blank"
        assert "Acme Ltda" in texts[0]
        text = "\n".join(texts)
        for title in TITLES[language]:
            assert title in text, title
    pt_text, en_text = "\n".join(pdf_pages(portuguese)[0]), "\n".join(pdf_pages(english)[0])
    assert "R$ 1.234,56" in pt_text and "Destaques do período" not in en_text and "R$1,234.56" in en_text
    texts, first = pdf_pages(demo)
    assert demo_account[1] in texts[0] and "Destaques do período" in texts[0] and inked(first) > 0.03


def test_the_command_writes_both_files(demo_copy, tmp_path):
    runner = CliRunner()
    folder = tmp_path / "reviews"
    done = runner.invoke(cli, ["review", "Acme Ltda", "--period", "2026-Q3", "--out", str(folder), "--db", demo_copy])
    assert done.exit_code == 0, done.output
    written = done.output.split()
    assert written == [str(folder / "review-acme-2026-Q3.html"), str(folder / "review-acme-2026-Q3.pdf")]
    assert "Destaques do período" in (folder / "review-acme-2026-Q3.html").read_text(encoding="utf-8")
    assert (folder / "review-acme-2026-Q3.pdf").read_bytes().startswith(b"%PDF")
    one = runner.invoke(cli, ["review", "acme", "--from", "2026-07-01", "--to", "2026-08-01", "--format", "pdf",
                              "--lang", "en", "--out", str(folder), "--db", demo_copy])
    assert one.output.split() == [str(folder / "review-acme-2026-07-01_2026-08-01.pdf")]
    unknown = runner.invoke(cli, ["review", "nobody", "--db", demo_copy])
    assert unknown.exit_code == 2 and "no account 'nobody'" in unknown.output
    bad = runner.invoke(cli, ["review", "acme", "--period", "2026-Q9", "--db", demo_copy])
    assert bad.exit_code == 2 and "2026-Q9" in bad.output


PASSWORD = "a long enough password"


def test_the_web_pages_and_the_json_twin(demo_copy, monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with open_store(demo_copy) as store:
        for role, csm in (("viewer", None), ("csm", "csm_001")):
            users.create_user(store, f"{role}@example.com", role, PASSWORD, csm_id=csm)
    app = create_app(demo_copy, precompute_in_background=False)
    try:
        viewer, csm = (client_as(app, role) for role in ("viewer", "csm"))
        page = viewer.get("/accounts/acme/review?period=2026-Q3")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<svg" in page.text and "Destaques do período" in page.text
        assert "Highlights of the period" in viewer.get("/accounts/acme/review?period=2026-Q3&lang=en").text
        pdf = viewer.get("/accounts/acme/review.pdf?from=2026-07-01&to=2026-10-01")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"] == 'attachment; filename="review-acme-2026-07-01_2026-10-01.pdf"'
        assert pdf.content.startswith(b"%PDF")
        data = viewer.get("/api/accounts/acme/review?period=2026-Q3").json()
        assert data["tickets"]["fcr"] == 0.5 and data["kpis"]["mrr_end"] == 1234.56
        assert viewer.get("/api/accounts/acme/review?period=2026-Q9").status_code == 422
        assert viewer.get("/api/accounts/nobody/review").status_code == 404
        app.state.workspace.run(lambda store: set_setting(store, "csm_scope", "own"))  # acme is csm1's
        assert csm.get("/accounts/acme/review").status_code == 404
        assert csm.get("/api/accounts/acme/review").status_code == 404
        own = app.state.workspace.run(lambda store: store.fetchall(
            "SELECT account_id FROM accounts WHERE csm_id = 'csm_001' ORDER BY account_id LIMIT 1"))[0][0]
        assert csm.get(f"/api/accounts/{own}/review").status_code == 200
    finally:
        app.state.workspace.close()


def client_as(app, role: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    signed = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303, signed.text
    return client
