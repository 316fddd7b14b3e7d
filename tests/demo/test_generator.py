"""The demo company: its contract (every rule of store/schema.py), determinism, and the
cause-and-effect signals that health scores and churn models are later fitted on.

Contract tests use 200 accounts; signal tests use the default 2,000 (about a second).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sucesso.demo import arrow_schema, columns, generate
from sucesso.store import schema

UNTIL = dt.date(2025, 11, 1)
END = pd.Timestamp(UNTIL)
DAY = pd.Timedelta(days=1)
TABLES = [t.name for t in schema.CANONICAL]


class Generated(NamedTuple):
    order: list[str]  # table name of each batch, as yielded
    batches: dict[str, list[pa.RecordBatch]]

    def table(self, name: str) -> pa.Table:
        return pa.Table.from_batches(self.batches[name], schema=arrow_schema(schema.table(name)))


def collect(**kwargs) -> Generated:
    order, batches = [], defaultdict(list)
    for name, batch in generate(**kwargs):
        order.append(name)
        batches[name].append(batch)
    return Generated(order, dict(batches))


def fingerprint(generated: Generated) -> dict[str, str]:
    """sha256 of each table's Arrow IPC stream."""
    out = {}
    for name, batches in generated.batches.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batches[0].schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        out[name] = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def small() -> Generated:
    return collect(accounts=200, seed=7, until=UNTIL)


@pytest.fixture(scope="module")
def frames(small: Generated) -> dict[str, pd.DataFrame]:
    return {name: small.table(name).to_pandas() for name in TABLES}


@pytest.fixture(scope="module")
def company() -> dict[str, pd.DataFrame]:
    generated = collect(accounts=2000, seed=7, until=UNTIL)
    return {name: generated.table(name).to_pandas() for name in TABLES}


# -- shape: order, schema, batches, determinism ----------------------------------------------


def test_yields_every_canonical_table_in_order_each_one_together(small: Generated) -> None:
    runs = [name for i, name in enumerate(small.order) if i == 0 or small.order[i - 1] != name]
    assert runs == TABLES


@pytest.mark.parametrize("name", TABLES)
def test_every_batch_has_the_tables_arrow_schema(small: Generated, name: str) -> None:
    expected = arrow_schema(schema.table(name))
    assert expected.names == schema.table(name).column_names
    for batch in small.batches[name]:
        assert batch.schema.equals(expected), name


def test_arrow_schema_maps_the_portable_types() -> None:
    types = {
        ("accounts", "attributes"): pa.string(),
        ("accounts", "seats"): pa.int64(),
        ("accounts", "created_at"): pa.timestamp("us"),
        ("subscriptions", "mrr"): pa.decimal128(18, 2),
        ("survey_responses", "score"): pa.float64(),
        ("features", "is_key"): pa.bool_(),
        ("acquisition_spend", "month"): pa.date32(),
    }
    for (table, column), kind in types.items():
        assert arrow_schema(schema.table(table)).field(column).type == kind


def test_big_tables_come_in_bounded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns, "BATCH_ROWS", 5_000)
    generated = collect(accounts=100, seed=3, until=UNTIL)
    assert len(generated.batches["usage_events"]) > 3
    assert all(b.num_rows <= 5_000 for bs in generated.batches.values() for b in bs)
    runs = [n for i, n in enumerate(generated.order) if i == 0 or generated.order[i - 1] != n]
    assert runs == TABLES


def test_same_arguments_give_the_same_bytes(small: Generated) -> None:
    assert fingerprint(collect(accounts=200, seed=7, until=UNTIL)) == fingerprint(small)


def test_another_seed_gives_another_company(small: Generated) -> None:
    mine, other = fingerprint(small), fingerprint(collect(accounts=200, seed=8, until=UNTIL))
    for name in ("accounts", "subscriptions", "invoices", "usage_events", "tickets"):
        assert mine[name] != other[name], name


def test_tiny_and_short_companies_still_fill_every_table_schema() -> None:
    for kwargs in ({"accounts": 1}, {"accounts": 5, "months": 1}):
        generated = collect(seed=1, until=UNTIL, **kwargs)
        assert [n for i, n in enumerate(generated.order) if i == 0 or generated.order[i - 1] != n] == TABLES


def test_until_defaults_to_the_first_day_of_this_month() -> None:
    first = dt.date.today().replace(day=1)
    generated = collect(accounts=20, months=3)
    created = generated.table("accounts")["created_at"].to_pandas()
    assert created.max() < pd.Timestamp(first)
    assert created.min() >= pd.Timestamp(first) - pd.DateOffset(months=3)


def test_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="pt_BR"):
        next(generate(accounts=5, language="fr"))


def test_english_company_speaks_english() -> None:
    generated = collect(accounts=50, language="en", until=UNTIL)
    features = generated.table("features").to_pandas()
    assert "Report exported" in set(features["name"])
    comments = generated.table("survey_responses")["comment"].drop_null().to_pylist()
    assert comments and not any("ç" in c or "ã" in c for c in comments)


def test_brazilian_company_by_default(frames: dict[str, pd.DataFrame]) -> None:
    accounts = frames["accounts"]
    assert (accounts["country"] == "BR").mean() > 0.8
    assert accounts["name"].str.contains(r"Ltda|S\.A\.|ME|EIRELI").mean() > 0.6
    assert frames["subscriptions"]["currency"].isna().all()  # the workspace currency
    assert frames["survey_responses"]["comment"].dropna().str.contains("ã|ç|é|ê").any()


# -- every rule of schema.py, checked on the arrays -------------------------------------------


def _rules(table: schema.Table) -> list[tuple[str, schema.Column]]:
    return [(table.name, c) for c in table.columns]


ALL_COLUMNS = [rule for t in schema.CANONICAL for rule in _rules(t)]


@pytest.mark.parametrize(("name", "col"), ALL_COLUMNS, ids=[f"{t}.{c.name}" for t, c in ALL_COLUMNS])
def test_column_rules_hold(small: Generated, name: str, col: schema.Column) -> None:
    values = small.table(name)[col.name]
    if col.required:
        assert values.null_count == 0, "required"
    present = values.drop_null()
    if len(present) == 0:
        return
    if col.enum:
        assert pc.all(pc.is_in(present, pa.array(col.enum))).as_py(), f"enum {col.enum}"
    if col.min is not None or col.max is not None:
        low, high = pc.min_max(present.cast(pa.float64())).values()
        assert col.min is None or low.as_py() >= col.min
        assert col.max is None or high.as_py() <= col.max
    if col.max_length is not None:
        assert pc.max(pc.utf8_length(present)).as_py() <= col.max_length
    if col.type == "json":
        for text in present.to_pylist():
            assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if col.type == "text":
        assert pc.min(pc.utf8_length(present)).as_py() > 0, "no empty strings"


CHECKS = [(t.name, check) for t in schema.CANONICAL for check in t.checks]


@pytest.mark.parametrize(("name", "check"), CHECKS, ids=[f"{t}:{c.condition}" for t, c in CHECKS])
def test_row_checks_hold(small: Generated, name: str, check: schema.Check) -> None:
    rows = small.table(name)  # noqa: F841 - read by DuckDB below
    broken = duckdb.sql(f"SELECT count(*) FROM rows WHERE NOT ({check.condition})").fetchall()[0][0]
    assert broken == 0, f"{check.column}: expected {check.expected}"


@pytest.mark.parametrize("name", TABLES)
def test_keys_are_unique(frames: dict[str, pd.DataFrame], name: str) -> None:
    key = list(schema.table(name).key)
    assert not frames[name].duplicated(key).any()


REFERENCES = [(t.name, c) for t in schema.CANONICAL for c in t.columns if c.references]


@pytest.mark.parametrize(("name", "col"), REFERENCES, ids=[f"{t}.{c.name}" for t, c in REFERENCES])
def test_references_point_at_existing_rows(small: Generated, name: str, col: schema.Column) -> None:
    target_table, target_column = col.references.split(".")
    present = small.table(name)[col.name].drop_null()
    assert pc.all(pc.is_in(present, small.table(target_table)[target_column])).as_py() in (True, None)


# -- the story holds together ------------------------------------------------------------------


def spans(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Customer lives: maximal stretches covered by overlapping or touching subscriptions."""
    s = subscriptions[["account_id", "started_at", "ended_at"]].copy()
    s["ended_at"] = s["ended_at"].fillna(END)
    s = s.sort_values(["account_id", "started_at"])
    reach = s.groupby("account_id")["ended_at"].transform(lambda e: e.cummax().shift())
    s["life"] = (reach.isna() | (reach < s["started_at"])).groupby(s["account_id"]).cumsum()
    lives = s.groupby(["account_id", "life"]).agg(start=("started_at", "min"), end=("ended_at", "max"))
    return lives.reset_index()


def customer_at(lives: pd.DataFrame, account_ids: pd.Series, when: pd.Series) -> np.ndarray:
    probe = pd.DataFrame({"account_id": account_ids.to_numpy(), "at": when.to_numpy(), "row": np.arange(len(when))})
    hit = probe.merge(lives, on="account_id")
    hit = hit[(hit["start"] <= hit["at"]) & (hit["at"] < hit["end"])]
    out = np.zeros(len(probe), bool)
    out[hit["row"].to_numpy()] = True
    return out


def test_usage_and_tickets_happen_only_while_a_customer(frames: dict[str, pd.DataFrame]) -> None:
    lives = spans(frames["subscriptions"])
    for name, column in (("usage_events", "occurred_at"), ("tickets", "opened_at"),
                         ("survey_responses", "answered_at"), ("milestones", "reached_at")):
        rows = frames[name]
        assert customer_at(lives, rows["account_id"], rows[column]).all(), name


def test_people_belong_to_the_account_they_act_for(frames: dict[str, pd.DataFrame]) -> None:
    owner = frames["contacts"].set_index("contact_id")["account_id"]
    for name in ("usage_events", "tickets", "survey_responses"):
        rows = frames[name].dropna(subset=["contact_id"])
        assert (rows["contact_id"].map(owner) == rows["account_id"]).all(), name


def test_nothing_happens_after_until(frames: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        for col in schema.table(name).columns:
            if col.type == "timestamp" and col.name != "due_at":
                assert (frames[name][col.name].dropna() < END).all(), f"{name}.{col.name}"


def test_accounts_are_owned_by_active_csms_by_touch_model(frames: dict[str, pd.DataFrame]) -> None:
    accounts, csms = frames["accounts"], frames["csms"].set_index("csm_id")
    owned = accounts.dropna(subset=["csm_id"])
    assert (owned["csm_id"].map(csms["role"]) == "csm").all()
    assert owned["csm_id"].map(csms["active"]).all()
    assert accounts.loc[accounts["touch_model"] != "tech", "csm_id"].notna().all()
    assert accounts.loc[accounts["touch_model"] == "tech", "csm_id"].isna().any()
    assert (~csms["active"]).sum() >= 1
    assert set(csms["role"]) == set(schema.CSM_ROLES)


def test_invoice_status_matches_payment(frames: dict[str, pd.DataFrame]) -> None:
    inv = frames["invoices"]
    assert (inv["paid_at"].notna() == (inv["status"] == "paid")).all()
    assert {"paid", "open", "void"} <= set(inv["status"])
    assert ((inv["due_at"] - inv["issued_at"]) > 10 * DAY - pd.Timedelta(milliseconds=1)).all()
    assert (inv["paid_at"].dropna() >= inv["issued_at"][inv["paid_at"].notna()]).all()
    assert (inv["amount"].map(lambda d: d.as_tuple().exponent) == -2).all()


def test_every_open_subscription_belongs_to_a_current_customer(frames: dict[str, pd.DataFrame]) -> None:
    subs = frames["subscriptions"]
    first = subs.groupby("account_id")["started_at"].min()
    created = frames["accounts"].set_index("account_id")["created_at"]
    assert (first >= created.loc[first.index]).all()
    assert subs["ended_at"].isna().any() and subs["ended_at"].notna().any()
    assert subs["plan"].str.startswith("addon_").any()


def test_churn_request_outcomes_match_subscriptions(frames: dict[str, pd.DataFrame]) -> None:
    lives, req = spans(frames["subscriptions"]), frames["churn_requests"]
    decided = req.dropna(subset=["decided_at"])
    after = customer_at(lives, decided["account_id"], decided["decided_at"])
    assert not after[(decided["outcome"] == "churned").to_numpy()].any()
    assert after[(decided["outcome"] == "recovered").to_numpy()].all()
    assert (req["decided_at"].isna() == (req["outcome"] == "pending")).all()
    assert not req.loc[req["reason_code"] == "payment_failure", "voluntary"].any()


def test_first_use_of_a_tied_feature_is_its_milestone(frames: dict[str, pd.DataFrame]) -> None:
    events, features = frames["usage_events"], frames["features"].dropna(subset=["milestone"])
    first = events.groupby(["account_id", "event"])["occurred_at"].min().rename("first").reset_index()
    first = first.merge(features[["event", "milestone"]], on="event")
    tied = frames["milestones"][frames["milestones"]["milestone"].isin(features["milestone"])]
    joined = first.merge(tied, on=["account_id", "milestone"], how="outer")
    assert len(joined) > 0
    assert (joined["first"] == joined["reached_at"]).all()


def test_feature_catalog(frames: dict[str, pd.DataFrame]) -> None:
    features = frames["features"]
    assert len(features) == 12 and features["is_key"].sum() == 5
    assert set(features["event"]) == set(frames["usage_events"]["event"])


def test_referrals_point_to_later_signups(frames: dict[str, pd.DataFrame]) -> None:
    refs = frames["referrals"].dropna(subset=["referred_account_id"])
    created = frames["accounts"].set_index("account_id")["created_at"]
    assert (refs["referred_account_id"].map(created) > refs["occurred_at"]).all()


def test_spend_covers_every_month_and_channel(frames: dict[str, pd.DataFrame]) -> None:
    spend = frames["acquisition_spend"]
    assert len(spend) == 36 * 5
    assert set(spend["channel"]) == {"google_ads", "meta_ads", "events", "outbound", "partners"}


def test_targets_use_metric_keys(frames: dict[str, pd.DataFrame]) -> None:
    targets = frames["targets"]
    assert {"nrr", "logo_churn_rate", "nps"} <= set(targets["kpi"])
    assert set(targets.loc[targets["kpi"] == "logo_churn_rate", "direction"]) == {"lower"}


# -- cause and effect, on 2,000 accounts --------------------------------------------------------
#
# Each `*_rates` helper measures one signal as (rate in the group expected to do worse or
# better, rate in the comparison group); the tests assert the gap. The same helpers print the
# figures quoted in the report (see the module's `signal_report`).


class Counts:
    """Rows per account in [t0, t1), for many windows at once (sorted-key binary search)."""

    def __init__(self, rows: pd.DataFrame, column: str) -> None:
        self.codes = {a: i for i, a in enumerate(sorted(rows["account_id"].unique()))}
        self.keys = np.sort(self._key(rows["account_id"], rows[column]))

    def _key(self, account_ids: pd.Series, when: pd.Series) -> np.ndarray:
        code = account_ids.map(self.codes).fillna(-1).to_numpy(np.int64)
        return code * 10**16 + when.to_numpy("datetime64[us]").astype(np.int64)

    def between(self, account_ids: pd.Series, t0: pd.Series, t1: pd.Series) -> np.ndarray:
        upper = np.searchsorted(self.keys, self._key(account_ids, t1))
        return upper - np.searchsorted(self.keys, self._key(account_ids, t0))


class Company(NamedTuple):
    tables: dict[str, pd.DataFrame]
    lives: pd.DataFrame
    cohort: pd.DataFrame  # accounts first a customer at least a year before `until`

    @classmethod
    def of(cls, tables: dict[str, pd.DataFrame]) -> Company:
        lives = spans(tables["subscriptions"])
        first = lives.groupby("account_id")["start"].min()
        first = first[first < END - 365 * DAY].rename("start").reset_index()
        accounts = tables["accounts"][["account_id", "created_at", "segment", "touch_model"]]
        return cls(tables, lives, first.merge(accounts, on="account_id"))

    def customer(self, account_ids: pd.Series, when: pd.Series) -> np.ndarray:
        return customer_at(self.lives, account_ids, when)

    def churned_within(self, days: int) -> np.ndarray:
        """Cohort accounts no longer customers `days` after they first became one."""
        return ~self.customer(self.cohort["account_id"], self.cohort["start"] + days * DAY)

    def fast_value(self) -> np.ndarray:
        """Cohort accounts that reached first value within 30 days of signing up."""
        milestones = self.tables["milestones"]
        fv = milestones[milestones["milestone"] == "first_value"].set_index("account_id")["reached_at"]
        return ((self.cohort["account_id"].map(fv) - self.cohort["created_at"]) <= 30 * DAY).to_numpy()


@pytest.fixture(scope="module")
def demo(company: dict[str, pd.DataFrame]) -> Company:
    return Company.of(company)


def early_churn_rates(c: Company, days: int) -> tuple[float, float]:
    """Churn within `days` of becoming a customer: first value within 30 days vs later/never."""
    churned, fast = c.churned_within(days), c.fast_value()
    return churned[fast].mean(), churned[~fast].mean()


def breadth_churn_rates(c: Company) -> tuple[float, float]:
    """One-year churn of accounts using ≥ 3 vs ≤ 1 key features in their first 90 days."""
    keys = set(c.tables["features"].query("is_key")["event"])
    events = c.tables["usage_events"].merge(c.cohort[["account_id", "start"]], on="account_id")
    early = events[events["event"].isin(keys) & (events["occurred_at"] < events["start"] + 90 * DAY)]
    breadth = c.cohort["account_id"].map(early.groupby("account_id")["event"].nunique()).fillna(0).to_numpy()
    alive, churned = ~c.churned_within(90), c.churned_within(365)
    return churned[alive & (breadth >= 3)].mean(), churned[alive & (breadth <= 1)].mean()


def expansion_rates(c: Company) -> tuple[float, float]:
    """Share of accounts whose main subscription MRR ever went up: fast vs slow first value."""
    subs = c.tables["subscriptions"]
    main = subs[~subs["plan"].str.startswith("addon_")].sort_values("started_at")
    grew = main.groupby("account_id")["mrr"].apply(lambda m: bool((m.diff().dropna() > 0).any()))
    expanded, fast = c.cohort["account_id"].map(grew).fillna(False).to_numpy(bool), c.fast_value()
    return expanded[fast].mean(), expanded[~fast].mean()


def detractor_churn_rates(c: Company) -> tuple[float, float]:
    """Not a customer 180 days after an NPS answer: detractors (0–6) vs promoters (9–10)."""
    nps = c.tables["survey_responses"].query("survey == 'nps'")
    nps = nps[nps["answered_at"] < END - 180 * DAY]
    churned = ~c.customer(nps["account_id"], nps["answered_at"] + 180 * DAY)
    return churned[(nps["score"] <= 6).to_numpy()].mean(), churned[(nps["score"] >= 9).to_numpy()].mean()


def usage_before_churn(c: Company) -> tuple[float, float, float]:
    """Median events per known user in the 60 days before churn; in days 90–150 before it;
    and for customers that stayed, same segment, at the same customer age."""
    usage = Counts(c.tables["usage_events"], "occurred_at")
    people = c.tables["contacts"].groupby("account_id").size()
    segment = c.tables["accounts"].set_index("account_id")["segment"]
    gone = c.lives[c.lives["end"] < END].assign(age=lambda d: d["end"] - d["start"])
    gone = gone[gone["age"] >= 150 * DAY]
    per_user = gone["account_id"].map(people).to_numpy()
    last = usage.between(gone["account_id"], gone["end"] - 60 * DAY, gone["end"]) / per_user
    before = usage.between(gone["account_id"], gone["end"] - 150 * DAY, gone["end"] - 90 * DAY) / per_user
    stayed = c.lives[c.lives["end"] == END]
    stayed_segment = stayed["account_id"].map(segment)
    matched = []
    for row in gone.itertuples():
        pool = stayed[(stayed_segment == segment[row.account_id]) & (stayed["start"] + row.age < END)].head(20)
        t = pool["start"] + row.age
        matched.append(usage.between(pool["account_id"], t - 60 * DAY, t) / pool["account_id"].map(people).to_numpy())
    return np.median(last), np.median(before), np.median(np.concatenate(matched))


def at_half_year(c: Company, flagged: np.ndarray) -> tuple[float, float]:
    """Churn in the next 180 days of customers 180 days in: flagged vs not."""
    at = c.cohort["start"] + 180 * DAY
    alive = c.customer(c.cohort["account_id"], at)
    churned = ~c.customer(c.cohort["account_id"], at + 180 * DAY)
    return churned[alive & flagged].mean(), churned[alive & ~flagged].mean()


def ticket_heavy_churn_rates(c: Company) -> tuple[float, float]:
    """Top quarter of their segment by tickets in the first 180 days vs the rest."""
    at = c.cohort["start"] + 180 * DAY
    tickets = Counts(c.tables["tickets"], "opened_at").between(c.cohort["account_id"], at - 180 * DAY, at)
    frame = pd.DataFrame({"segment": c.cohort["segment"], "tickets": tickets})
    heavy = frame.groupby("segment")["tickets"].transform(lambda t: t > t.quantile(0.75)).to_numpy()
    return at_half_year(c, heavy)


def overdue_churn_rates(c: Company) -> tuple[float, float]:
    """Accounts that had an invoice unpaid 15 days past due in the first 180 days vs not."""
    inv = c.tables["invoices"].query("status != 'void'")
    overdue_from = inv["due_at"] + 15 * DAY
    late = inv[(inv["paid_at"] > overdue_from) | (inv["paid_at"].isna() & (overdue_from < END))]
    first_late = late.groupby("account_id")["due_at"].min() + 15 * DAY
    was_late = (c.cohort["account_id"].map(first_late) < c.cohort["start"] + 180 * DAY).to_numpy()
    return at_half_year(c, was_late)


def touch_churn_rates(c: Company) -> tuple[float, float]:
    """One-year churn: high touch vs tech touch."""
    churned, touch = c.churned_within(365), c.cohort["touch_model"].to_numpy()
    return churned[touch == "high"].mean(), churned[touch == "tech"].mean()


def test_fast_first_value_means_lower_early_churn(demo: Company) -> None:
    for days, factor in ((90, 0.6), (180, 0.5)):
        fast, slow = early_churn_rates(demo, days)
        assert fast < factor * slow, days


def test_key_feature_breadth_means_retention(demo: Company) -> None:
    broad, narrow = breadth_churn_rates(demo)
    assert broad < 0.4 * narrow


def test_fast_first_value_means_more_expansion(demo: Company) -> None:
    fast, slow = expansion_rates(demo)
    assert fast > 1.3 * slow


def test_detractors_churn_more(demo: Company) -> None:
    detractors, promoters = detractor_churn_rates(demo)
    assert detractors > 3 * promoters


def test_usage_falls_in_the_60_days_before_churn(demo: Company) -> None:
    last, before, retained = usage_before_churn(demo)
    assert last < 0.5 * retained
    assert last < 0.6 * before


def test_ticket_heavy_accounts_churn_more(demo: Company) -> None:
    heavy, rest = ticket_heavy_churn_rates(demo)
    assert heavy > 1.5 * rest


def test_overdue_invoices_precede_churn(demo: Company) -> None:
    late, on_time = overdue_churn_rates(demo)
    assert late > 1.25 * on_time


def test_high_touch_keeps_customers_longer(demo: Company) -> None:
    high, tech = touch_churn_rates(demo)
    assert high < tech


def test_churn_requests_precede_most_voluntary_churn(demo: Company) -> None:
    ends = demo.lives[demo.lives["end"] < END][["account_id", "end"]]
    requests = demo.tables["churn_requests"]
    churned = requests[requests["outcome"] == "churned"]
    matched = ends.merge(churned, left_on=["account_id", "end"], right_on=["account_id", "decided_at"])
    involuntary = int((~matched["voluntary"]).sum())
    assert involuntary > 0
    assert (len(matched) - involuntary) / (len(ends) - involuntary) > 0.7
    assert (matched["requested_at"] < matched["decided_at"]).all()
    assert 0.03 < requests["reason_code"].isin(["other", "unknown", "no_value"]).mean() < 0.25
    assert (requests["outcome"] == "recovered").mean() > 0.08


def signal_report(accounts: int = 2000, seed: int = 7) -> dict[str, tuple[float, ...]]:
    """The measured signals for one company (run by hand: python -c "...signal_report()")."""
    generated = collect(accounts=accounts, seed=seed, until=UNTIL)
    c = Company.of({name: generated.table(name).to_pandas() for name in TABLES})
    return {
        "churn 90d: fast first value vs not": early_churn_rates(c, 90),
        "churn 180d: fast first value vs not": early_churn_rates(c, 180),
        "churn 1y: >=3 vs <=1 key features in 90d": breadth_churn_rates(c),
        "expanded: fast first value vs not": expansion_rates(c),
        "churn 180d after NPS: detractor vs promoter": detractor_churn_rates(c),
        "events/user: last 60d, 90-150d before, retained same age": usage_before_churn(c),
        "churn 180d: ticket-heavy vs rest": ticket_heavy_churn_rates(c),
        "churn 180d: overdue invoice vs not": overdue_churn_rates(c),
        "churn 1y: high touch vs tech": touch_churn_rates(c),
    }
