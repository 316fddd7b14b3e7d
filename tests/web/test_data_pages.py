"""The data pages — revenue, satisfaction, support, health — and their JSON twins, on a copy of
the demo company (the session's demo is read-only; signing in writes a session): the numbers
shown are the precomputed KPIs, formatted; the filters change them; an empty workspace and one
without health history render."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sucesso.health.history import compute_history, default_as_of, history
from sucesso.metrics.api import breakdown
from sucesso.store import open_store
from sucesso.web.app import create_app
from sucesso.web.render import Formats

EMAIL, PASSWORD = "ana@example.com", "a long enough password"
PAGES = ("/revenue", "/satisfaction", "/support", "/health")
HISTORY_DAYS = 10


def signed_in_client(app) -> TestClient:
    """A client signed in as a new admin through the sign-in form (GET /login for the CSRF token,
    then POST /login), as a person would be."""
    from sucesso.web.users import create_user

    app.state.workspace.run(lambda store: create_user(store, EMAIL, "admin", PASSWORD, name="Ana"))
    client = TestClient(app)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    signed = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "next": "/", "csrf_token": token},
                         follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return client


def copy_workspace(source: str, folder: Path) -> str:
    target = folder / "workspace.duckdb"
    shutil.copyfile(source, target)
    return str(target)


@pytest.fixture(scope="module")
def with_history(demo_url, tmp_path_factory) -> str:
    """The demo with the last days of health history kept."""
    url = copy_workspace(demo_url, tmp_path_factory.mktemp("history"))
    with open_store(url) as store:
        last = default_as_of(store)
        compute_history(store, last - dt.timedelta(days=HISTORY_DAYS - 1), last)
    return url


@pytest.fixture(scope="module")
def app(with_history):
    app = create_app(with_history, precompute_in_background=False)
    yield app
    app.state.workspace.close()


@pytest.fixture(scope="module")
def client(app) -> TestClient:
    return signed_in_client(app)


@pytest.fixture(scope="module")
def kpis(app):
    """The precomputed KPI table of the last 12 months (the pages' default period), all segments."""
    workspace = app.state.workspace
    return workspace.kpi_table(workspace.months[-12], workspace.months[-1])


@pytest.fixture(scope="module")
def fmt(app) -> Formats:
    return Formats("en", app.state.workspace.setting("currency"))


def get(client: TestClient, path: str, **params):
    response = client.get(path, params={"lang": "en", **params})
    assert response.status_code == 200, response.text[:2000]
    return response


def figure(html: str, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="fig-{name}">(.*?)</script>', html, re.S)
    assert found, f"no figure {name}"
    return json.loads(found.group(1).replace("<\\/", "</"))


# -- revenue ----------------------------------------------------------------------------
def test_revenue_shows_the_last_months_kpis(client, kpis, fmt):
    last = kpis.iloc[-1]
    html = get(client, "/revenue").text
    for key, unit in (("mrr", "money"), ("arr", "money"), ("logo_churn_rate", "rate"), ("nrr", "rate"),
                      ("arpa", "money"), ("ltv", "money"), ("delinquency_rate", "rate")):
        assert fmt.value(last[key], unit) in html, key
    assert ("negative churn (expansion exceeds losses)" in html) == (last["net_mrr_churn_rate"] < 0)
    movements = figure(html, "movements")
    names = [t["name"] for t in movements["data"]]
    assert names == ["New", "Expansion", "Reactivation", "Contraction", "Churn", "MRR"]
    assert movements["data"][4]["y"][-1] == pytest.approx(-last["churned_mrr"])  # losses below the axis
    assert 'role="img"' in html and "fig-cohort_logo" in html and "fig-cohort_revenue" in html


def test_revenue_twin(client, kpis):
    data = get(client, "/api/revenue").json()
    assert data["filters"] == {"from": kpis["period"].iloc[0], "to": kpis["period"].iloc[-1], "segment": ""}
    assert data["months"] == list(kpis["period"])
    for key in ("mrr", "new_mrr", "churned_mrr", "gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr_12m",
                "quick_ratio"):
        assert data["series"][key] == pytest.approx(list(kpis[key]), nan_ok=True), key
    assert {c["key"]: c["value"] for c in data["unit_economics"]}["cac"] == pytest.approx(kpis["cac"].iloc[-1])
    assert data["negative_churn"] == (kpis["net_mrr_churn_rate"].iloc[-1] < 0)
    logo = data["cohorts"]["logo"]
    assert [r["cohort"] for r in logo] == data["months"]
    first = logo[0]
    assert first["size"] > 0 and 0 < first["m0"] <= 1 and first[f"m{len(logo) - 1}"] is not None
    assert logo[-1]["m1"] is None  # the last cohort has no second month yet


def test_segment_and_period_filters(client, app):
    workspace = app.state.workspace
    smb = workspace.kpi_table(workspace.months[-12], workspace.months[-1], "smb")
    overall = get(client, "/api/revenue").json()
    data = get(client, "/api/revenue", segment="smb").json()
    assert data["series"]["mrr"] == pytest.approx(list(smb["mrr"]))
    assert data["series"]["mrr"][-1] < overall["series"]["mrr"][-1]
    cohorts, smb_cohorts = overall["cohorts"]["logo"], data["cohorts"]["logo"]
    assert all(s["size"] <= c["size"] for s, c in zip(smb_cohorts, cohorts, strict=True))
    assert 0 < sum(s["size"] for s in smb_cohorts) < sum(c["size"] for c in cohorts)
    months = get(client, "/api/revenue", **{"from": workspace.months[-3], "to": workspace.months[-2]}).json()["months"]
    assert months == workspace.months[-3:-1]
    assert "ignored a month" in get(client, "/revenue", **{"from": "2024-13"}).text


# -- satisfaction -----------------------------------------------------------------------
def test_satisfaction_page_and_twin(client, kpis, fmt):
    last = kpis.iloc[-1]
    html = get(client, "/satisfaction").text
    assert fmt.number(last["nps"]) in html and fmt.rate(last["csat"]) in html and fmt.number(last["ces"]) in html
    nps = figure(html, "nps")
    assert [t["name"] for t in nps["data"]] == ["Detractors", "Passives", "Promoters", "NPS"]
    assert nps["data"][0]["customdata"][-1].startswith("/satisfaction?")  # a bar opens its comments
    data = get(client, "/api/satisfaction").json()
    assert data["series"]["nps"] == pytest.approx(list(kpis["nps"]), nan_ok=True)
    assert data["nps_zone"] == last["nps_zone"]
    comments = data["comments"]
    assert comments["page"] == 1 and len(comments["rows"]) == min(50, comments["total"]) > 0
    days = [r["answered_at"] for r in comments["rows"]]
    assert days == sorted(days, reverse=True)
    assert all(r["comment"] and data["months"][0] <= r["answered_at"][:7] <= data["months"][-1]
               for r in comments["rows"])
    assert f'href="/accounts/{comments["rows"][0]["account_id"]}"' in html


def test_comment_filters(client, app):
    detractors = get(client, "/api/satisfaction", category="detractor").json()["comments"]
    assert detractors["survey"] == "nps" and detractors["rows"]
    assert all(r["survey"] == "nps" and r["score"] <= 6 and r["category"] == "detractor" for r in detractors["rows"])
    csat = get(client, "/api/satisfaction", survey="csat", page="2").json()["comments"]
    assert csat["page"] == 2 and all(r["survey"] == "csat" and r["category"] is None for r in csat["rows"])
    smb = get(client, "/api/satisfaction", segment="smb").json()["comments"]
    everyone = get(client, "/api/satisfaction").json()["comments"]
    assert all(r["segment"] == "smb" for r in smb["rows"]) and smb["total"] < everyone["total"]
    assert get(client, "/api/satisfaction", page="9999").json()["comments"]["page"] == everyone["pages"]


# -- support ----------------------------------------------------------------------------
def test_support_page_and_twin(client, app, kpis, fmt):
    last = kpis.iloc[-1]
    html = get(client, "/support").text
    assert fmt.rate(last["fcr"]) in html and fmt.rate(last["activation_rate"]) in html
    assert fmt.count(last["active_accounts"]) in html
    data = get(client, "/api/support").json()
    assert data["series"]["resolution_hours_p90"] == pytest.approx(list(kpis["resolution_hours_p90"]), nan_ok=True)
    expected = app.state.workspace.run(lambda s: breakdown(s, "feature_adoption", data["period"], data["period"]))
    shown = {r["event"]: r["value"] for r in data["features"]}
    assert shown == pytest.approx(expected.set_index("event")["value"].to_dict())
    values = [r["value"] for r in data["features"]]
    assert values == sorted(values)
    enterprise = get(client, "/api/support", segment="enterprise").json()["features"]
    assert {r["event"] for r in enterprise} == {r["event"] for r in data["features"]} and enterprise != data["features"]
    assert "fig-features" in html


# -- health -----------------------------------------------------------------------------
def test_health_with_history(client, app, with_history):
    workspace = app.state.workspace
    data = get(client, "/api/health").json()
    assert data["history"] is True
    assert data["trend"] and {"as_of", "customers", "mean_score", "red", "yellow", "green"} <= set(data["trend"][0])
    accounts = workspace.account_rows()
    customers = accounts[accounts["customer"] & accounts["band"].notna()]
    assert data["mix"] == customers["band"].value_counts().to_dict()
    red = customers[customers["band"] == "red"]
    assert data["at_risk"]["total"] == len(red) and data["at_risk"]["mrr"] == pytest.approx(red["mrr"].sum())
    mrrs = [r["mrr"] for r in data["at_risk"]["rows"]]
    assert mrrs == sorted(mrrs, reverse=True) and data["at_risk"]["rows"][0]["mrr"] == red["mrr"].max()

    kept = workspace.run(lambda s: history(s))
    day = kept[kept["as_of"] == kept["as_of"].max()]
    usage = [json.loads(c)["usage"] for c in day["components"]]
    components = {c["component"]: c for c in data["components"]["components"]}
    assert data["components"]["customers"] == len(day)
    assert components["usage"]["mean"] == pytest.approx(sum(usage) / len(usage))

    html = get(client, "/health").text
    assert f'href="/accounts/{data["at_risk"]["rows"][0]["account_id"]}"' in html
    assert "/accounts?band=red" in html and "sucesso health backtest" in html
    assert figure(html, "mix")["data"][0]["customdata"] == ["/accounts?band=red"]

    smb = get(client, "/api/health", segment="smb").json()
    assert all(r["segment"] == "smb" for r in smb["at_risk"]["rows"])
    assert sum(smb["mix"].values()) < sum(data["mix"].values())
    assert smb["components"]["customers"] < data["components"]["customers"]
    assert "/accounts?segment=smb&amp;band=red" in get(client, "/health", segment="smb").text


def test_health_without_history(demo_url, tmp_path):
    app = create_app(copy_workspace(demo_url, tmp_path), precompute_in_background=False)
    try:
        client = signed_in_client(app)
        assert "sucesso health history" in get(client, "/health").text
        data = get(client, "/api/health").json()
        assert data["history"] is False and data["trend"] == [] and data["at_risk"]["rows"] == []
    finally:
        app.state.workspace.close()


# -- every page -------------------------------------------------------------------------
def test_an_empty_workspace_renders(tmp_path):
    app = create_app(str(tmp_path / "empty.duckdb"), precompute_in_background=False)
    try:
        client = signed_in_client(app)
        for path in PAGES:
            assert "No data yet" in get(client, path).text or path == "/health"
            data = get(client, "/api" + path).json()
            assert data.get("months", []) == [] and data["filters"]["to"] is None
        assert "sucesso health history" in get(client, "/health").text
    finally:
        app.state.workspace.close()


def test_pages_need_sign_in(app):
    anonymous = TestClient(app)
    for path in PAGES:
        assert anonymous.get(path, follow_redirects=False).status_code == 303
        assert anonymous.get("/api" + path).status_code == 401


def test_pages_speak_portuguese(client, kpis, fmt):
    response = client.get("/revenue", headers={"accept-language": "pt-BR"})
    assert response.status_code == 200
    html = response.text
    assert "Receita e retenção" in html and "Economia unitária" in html
    assert Formats("pt_BR", fmt.currency).money(kpis["mrr"].iloc[-1]) in html
    movements = figure(html, "movements")
    assert movements["layout"]["separators"] == ",." and movements["data"][0]["name"] == "Novo"
    for path in PAGES[1:]:
        assert client.get(path, headers={"accept-language": "pt-BR"}).status_code == 200
