"""Every figure links to the accounts behind it: each point of a KPI line carries (customdata)
the accounts page filtered to that KPI's accounts in that month — ?moved= for the MRR movements a
revenue KPI is made of, ?activity= for what the accounts of a satisfaction, support or adoption
KPI did that month — and the accounts page lists exactly those accounts. Small hand-computed
workspaces for the lists; the demo company for the pages; chromium for the click."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from servers import in_thread  # tests/servers.py

from sucesso.insight.accounts import active, moved
from sucesso.web.app import create_app
from sucesso.web.kit import EVERY_MOVE

EMAIL, PASSWORD = "ana@example.com", "a long enough password"
CHROMIUM = "/usr/bin/chromium"


# -- the lists behind the links, hand-computed --------------------------------------------
def test_the_accounts_that_did_something_in_a_month(store, fill):
    fill(store,
         accounts=[{"account_id": "a4", "name": "Nova", "created_at": "2025-03-15"}],
         survey_responses=[
             {"account_id": "a1", "survey": "nps", "score": 9, "answered_at": "2025-03-05"},
             {"account_id": "a1", "survey": "nps", "score": 3, "answered_at": "2025-03-20"},
             {"account_id": "a2", "survey": "nps", "score": 10, "answered_at": "2025-04-01"},  # April
             {"account_id": "a3", "survey": "csat", "score": 5, "answered_at": "2025-03-10"}],
         tickets=[{"account_id": "a2", "opened_at": "2025-02-27", "resolved_at": "2025-03-02"}],
         usage_events=[{"account_id": "a3", "event": "login", "occurred_at": "2025-03-31 23:59:00"},
                       {"account_id": "a1", "event": "login", "occurred_at": "2025-02-28 23:59:00"}])
    assert active(store, "2025-03", "nps") == ["a1"]  # twice, listed once
    assert active(store, "2025-04", "nps") == ["a2"]
    assert active(store, "2025-03", "csat") == ["a3"] and active(store, "2025-03", "ces") == []
    assert active(store, "2025-03", "tickets") == [] and active(store, "2025-02", "tickets") == ["a2"]
    assert active(store, "2025-03", "resolved") == ["a2"]
    assert active(store, "2025-03", "usage") == ["a3"]
    assert active(store, "2025-03", "signup") == ["a4"]
    with pytest.raises(ValueError, match="an activity is one of"):
        active(store, "2025-03", "logins")


def test_several_movements_at_once(store, fill):
    """March 2025: a2 churns (100 → 0), a3 contracts (100 → 60), a4 is new (0 → 50), a1 stays."""
    fill(store, subscriptions=[
        {"account_id": "a1", "mrr": 100, "started_at": "2025-01-01"},
        {"account_id": "a2", "mrr": 100, "started_at": "2025-01-01", "ended_at": "2025-03-15"},
        {"account_id": "a3", "mrr": 100, "started_at": "2025-01-01", "ended_at": "2025-03-01"},
        {"account_id": "a3", "mrr": 60, "started_at": "2025-03-01"},
        {"account_id": "a4", "mrr": 50, "started_at": "2025-03-10"}])
    assert moved(store, "2025-03", "churn") == ["a2"]
    assert moved(store, "2025-03", "contraction,churn") == ["a2", "a3"]  # the accounts behind gross MRR churn
    assert moved(store, "2025-03", EVERY_MOVE.removeprefix("moved=")) == ["a2", "a3", "a4"]
    with pytest.raises(ValueError, match="not 'upsell'"):
        moved(store, "2025-03", "churn,upsell")


# -- the links on the pages ------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace_url(demo_url, tmp_path_factory) -> str:
    url = str(tmp_path_factory.mktemp("links") / "workspace.duckdb")
    shutil.copyfile(demo_url, url)
    return url


@pytest.fixture(scope="module")
def app(workspace_url):
    from sucesso.web.users import create_user

    app = create_app(workspace_url, precompute_in_background=False)
    app.state.workspace.run(lambda store: create_user(store, EMAIL, "admin", PASSWORD, name="Ana"))
    yield app
    app.state.workspace.close()


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    signed = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "next": "/", "csrf_token": token},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return client


def figure(client: TestClient, path: str, name: str) -> dict:
    import json

    html = client.get(path + ("&" if "?" in path else "?") + "lang=en").text
    found = re.search(rf'<script type="application/json" id="fig-{name}">(.*?)</script>', html, re.S)
    assert found, f"no figure {name} on {path}"
    return json.loads(found.group(1).replace("<\\/", "</"))


def links_of(fig: dict) -> dict[str, list | None]:
    return {trace["name"]: trace.get("customdata") for trace in fig["data"]}


def listed(client: TestClient, link: str) -> list[str]:
    """The account ids the accounts page lists at `link` (every page of it)."""
    data = client.get("/api" + link).json()
    ids = [a["account_id"] for a in data["accounts"]]
    for number in range(2, data["pages"] + 1):
        ids += [a["account_id"] for a in client.get(f"/api{link}&page={number}").json()["accounts"]]
    return ids


def test_revenue_lines_link_to_the_movements_they_are_made_of(client, app):
    months = app.state.workspace.months[-12:]
    churn = links_of(figure(client, "/revenue", "churn"))
    assert churn["Logo churn"] == [f"/accounts?moved=churn&month={m}" for m in months]
    assert churn["Gross MRR churn"] == [f"/accounts?moved=contraction,churn&month={m}" for m in months]
    assert churn["Net MRR churn"][0] == f"/accounts?moved=reactivation,expansion,contraction,churn&month={months[0]}"
    retention = links_of(figure(client, "/revenue", "retention"))
    assert retention["NRR (month)"][-1] == f"/accounts?moved=expansion,contraction,churn&month={months[-1]}"
    assert retention["GRR (month)"][-1] == f"/accounts?moved=contraction,churn&month={months[-1]}"
    assert retention["NRR (12 months)"] is None  # a cohort twelve months back: no list on the accounts page
    quick = figure(client, "/revenue", "quick_ratio")
    assert links_of(quick)["Quick ratio"][-1] == f"/accounts?{EVERY_MOVE}&month={months[-1]}"
    assert quick["layout"]["hovermode"] == "closest"  # so that a click is on one line, not the whole month
    assert links_of(figure(client, "/revenue", "movements"))["MRR"][-1] == f"/accounts?{EVERY_MOVE}&month={months[-1]}"


def test_a_churn_point_lists_the_accounts_of_its_kpi(client, app):
    workspace = app.state.workspace
    month = workspace.months[-2]
    kpis = workspace.kpi_table(month, month).iloc[0]
    churned = listed(client, f"/accounts?moved=churn&month={month}")
    assert len(churned) == kpis["churned_customers"]
    contracted = listed(client, f"/accounts?moved=contraction&month={month}")
    both = listed(client, f"/accounts?moved=contraction,churn&month={month}")
    assert sorted(both) == sorted(churned + contracted) and contracted  # one movement per account and month


def test_satisfaction_and_support_lines_link_to_what_the_accounts_did(client, app):
    workspace = app.state.workspace
    months = workspace.months[-12:]
    satisfaction = figure(client, "/satisfaction", "nps")
    assert links_of(satisfaction)["NPS"] == [f"/accounts?activity=nps&month={m}" for m in months]
    shares = links_of(figure(client, "/satisfaction", "shares"))
    assert shares["CSAT (satisfied share)"][0] == f"/accounts?activity=csat&month={months[0]}"
    assert shares["Easy CES answers"][0] == f"/accounts?activity=ces&month={months[0]}"
    expected = {"tickets": ("Tickets per customer", "tickets"), "fcr": ("First contact resolution", "resolved"),
                "resolution": ("Median", "resolved"), "onboarding": ("Activation", "signup"),
                "active": ("Active accounts", "usage")}
    for chart, (line, activity) in expected.items():
        assert links_of(figure(client, "/support", chart))[line][-1] == f"/accounts?activity={activity}&month=" \
                                                                         f"{months[-1]}", chart

    month = months[-1]
    answered = listed(client, f"/accounts?activity=nps&month={month}")
    start = dt.datetime.fromisoformat(f"{month}-01")
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    rows = workspace.run(lambda store: store.fetchall(
        "SELECT DISTINCT account_id FROM survey_responses WHERE survey = 'nps' AND answered_at >= ? "
        "AND answered_at < ?", (start, end)))
    assert answered and sorted(answered) == sorted(r[0] for r in rows)


def test_links_keep_the_segment(client, app):
    workspace = app.state.workspace
    segment = workspace.segments()[0]
    month = workspace.months[-1]
    fig = figure(client, f"/revenue?segment={segment}", "churn")
    link = links_of(fig)["Logo churn"][-1]
    assert link.startswith(f"/accounts?moved=churn&month={month}&segment=")
    accounts = client.get("/api" + link).json()["accounts"]
    assert all(a["segment"] == segment for a in accounts)


def test_the_overview_waterfall_links_each_movement(client, app):
    month = app.state.workspace.months[-1]
    waterfall = figure(client, "/", "waterfall")["data"][0]
    assert waterfall["customdata"] == [None, *(f"/accounts?moved={m}&month={month}" for m in
                                               ("new", "expansion", "reactivation", "contraction", "churn")), None]


def test_an_unknown_activity_is_refused(client, app):
    month = app.state.workspace.months[-1]
    assert client.get(f"/api/accounts?activity=logins&month={month}").status_code == 422
    assert client.get(f"/accounts?activity=usage&month={month}&lang=en").status_code == 200


# -- the click, in a browser --------------------------------------------------------------------
def test_clicking_a_point_opens_its_accounts(workspace_url, tmp_path):
    """The quick ratio's last point, clicked in chromium, opens the accounts whose MRR moved then."""

    from playwright.sync_api import sync_playwright

    from sucesso.store import open_store
    from sucesso.web.users import create_user

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    url = str(tmp_path / "clicked.duckdb")
    shutil.copyfile(workspace_url, url)
    with open_store(url) as store:
        create_user(store, "bia@example.com", "admin", PASSWORD, name="Bia")
    with in_thread(create_app(url, precompute_in_background=False)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "bia@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/revenue?lang=en")
        chart = page.locator("#chart-quick_ratio[data-rendered=true]")
        chart.scroll_into_view_if_needed()
        x, y, month = chart.evaluate("""gd => {  // the last point, in the page's pixels
            const trace = gd.data[0], last = trace.x.length - 1, box = gd.getBoundingClientRect();
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [box.left + xa._offset + xa.d2p(trace.x[last]), box.top + ya._offset + ya.d2p(trace.y[last]),
                    trace.x[last]];
        }""")
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_url(re.compile(r"/accounts\?"))
        assert page.url.endswith(f"/accounts?{EVERY_MOVE}&month={month}")
        assert page.locator("table tbody tr").count() > 0
        browser.close()
