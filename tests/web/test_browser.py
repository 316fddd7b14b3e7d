"""The web app as a person uses it: Debian's chromium, driven by Playwright, against the real
server on loopback. Signs in, opens every page in both languages, applies a filter, opens an
account 360, checks that charts rendered, that the console stayed clean and that every
control has a label, and saves screenshots (build/screenshots/)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from servers import in_thread  # tests/servers.py

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PAGES = ["/", "/revenue", "/satisfaction", "/support", "/health", "/accounts", "/portfolio", "/tasks", "/churn",
         "/targets", "/team", "/settings"]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(demo_url, tmp_path_factory):
    """The demo company with 60 days of health history and an admin, served by uvicorn."""
    from sucesso.health.history import compute_history, default_as_of
    from sucesso.store import open_store
    from sucesso.web.app import create_app
    from sucesso.web.users import create_user

    url = str(tmp_path_factory.mktemp("browser") / "demo.duckdb")
    shutil.copy(demo_url, url)
    with open_store(url) as store:
        last = default_as_of(store)
        compute_history(store, last - dt.timedelta(days=60), last)
        create_user(store, "ana@example.com", "admin", PASSWORD, name="Ana")
    with in_thread(create_app(url, precompute_in_background=False)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `apt-get install chromium` (scripts/test does it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def sign_in(browser, server, language: str):
    context = browser.new_context(locale="pt-BR" if language == "pt_BR" else "en-US",
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(f"{server}/")
    assert "/login" in page.url  # not signed in: sent to the sign-in page
    page.locator("input[name=email]").fill("ana@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:2000]
    return context, page, errors


def unlabelled_controls(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML.slice(0, 120))""")


@pytest.mark.parametrize("language", ["en", "pt_BR"])
def test_every_page_renders_its_charts_in_both_languages(browser, server, language):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = sign_in(browser, server, language)
    expected = {"en": "Overview", "pt_BR": "Visão geral"}[language]
    assert page.locator("h1").first.inner_text() == expected
    for path in PAGES:
        page.goto(f"{server}{path}")
        page.wait_for_load_state("networkidle")
        charts = page.locator(".chart")
        for i in range(charts.count()):
            charts.nth(i).locator(".main-svg").first.wait_for(timeout=10_000)
            assert charts.nth(i).get_attribute("data-rendered") == "true", f"{path}: chart {i} not drawn"
        assert unlabelled_controls(page) == [], path
        name = path.strip("/").replace("/", "_") or "overview"
        page.screenshot(path=str(SHOTS / f"{language}_{name}.png"), full_page=True)
    assert errors == []
    context.close()


def test_a_filter_an_account_360_and_the_keyboard(browser, server):
    context, page, errors = sign_in(browser, server, "en")
    before = page.locator(".card .value").first.inner_text()
    page.select_option("#f-segment", "smb")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert "segment=smb" in page.url
    assert page.locator(".card .value").first.inner_text() != before  # the smb MRR, not everyone's
    page.goto(f"{server}/accounts?sort=score")
    first = page.locator("tbody tr td a").first
    name = first.inner_text()
    first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith(name)
    page.locator("#chart-mrr .main-svg").first.wait_for(timeout=10_000)
    page.screenshot(path=str(SHOTS / "en_account_360.png"), full_page=True)
    # its success review, as the customer will see it: self-contained, with its charts
    page.goto(page.url.split("?")[0] + "/review?lang=en")
    assert page.locator("h1").first.inner_text().startswith(name) or name in page.content()
    assert page.locator("svg").count() >= 1
    page.screenshot(path=str(SHOTS / "en_review.png"), full_page=True)
    # the API documentation draws from the installed Swagger UI, under the same strict CSP
    page.goto(f"{server}/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() >= 10
    page.screenshot(path=str(SHOTS / "en_docs.png"))
    # the keyboard reaches the navigation from the top of the page
    page.goto(f"{server}/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('href')")
    assert focused in ("/", "#main")
    assert errors == []
    context.close()


def test_the_playbooks_tasks_are_worked_in_the_browser(browser, server):
    """The demo ran the playbooks: their tasks are listed with why each was made; one is done."""
    context, page, errors = sign_in(browser, server, "en")
    page.goto(f"{server}/tasks")
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() > 5

    def total() -> int:  # "151 tasks, 2 overdue"
        return int(page.locator("main p.muted").first.inner_text().split()[0].replace(",", ""))

    before = total()
    first = rows.first
    first.locator("summary").click()
    assert first.locator("details li").first.inner_text().startswith("Playbook ")
    account = first.locator("td a").first.inner_text()
    title = first.locator("td").nth(2).inner_text().split("\n")[0]
    first.get_by_role("button", name="Done").click()
    page.wait_for_load_state("networkidle")
    assert total() == before - 1
    page.select_option("#t-status", "done")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert title in page.locator("table.tasks").inner_text()
    page.locator(f"table.tasks a:text('{account}')").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith(account)
    assert page.locator("#tasks").count() == 1
    page.screenshot(path=str(SHOTS / "en_tasks_account.png"), full_page=True)
    assert errors == []
    context.close()
