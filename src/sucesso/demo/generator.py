"""The synthetic company: every canonical table of a subscription business, as Arrow batches.

    for table, batch in generate(accounts=2000, seed=7):
        ...

The whole history is simulated first from per-account latent traits (see `company` and
`lifecycle`), so cause and effect are real: fast first value and broad key-feature adoption
raise health; low health shows as falling usage, more tickets and detractor answers, and
precedes churn; unpaid invoices end in involuntary churn. Tables are then written from that
history one after another, the big ones (usage events, invoices) in bounded batches.

Everything random comes from `numpy.random.Generator(PCG64([seed, stream]))`, one stream per
concern, so the same arguments always give the same bytes and the clock is never read
(except for the default `until`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from sucesso.demo import billing, success, support, usage
from sucesso.demo.columns import (
    Window,
    arrow_schema,
    batches,
    canonical_json,
    id_width,
    ids,
    labels,
    money,
)
from sucesso.demo.company import (
    CHANNELS,
    PLANS,
    SEGMENTS,
    SOURCES,
    TOUCH_MODELS,
    Company,
    Team,
    assign_csms,
    build_company,
    build_team,
)
from sucesso.demo.lifecycle import Lifecycle, simulate
from sucesso.demo.names import Names, company_name, names_for, slug
from sucesso.demo.texts import LANGUAGES as TEXTS
from sucesso.demo.texts import Texts
from sucesso.store import schema

__all__ = ["arrow_schema", "generate"]

# one random stream per concern: changing how one table is drawn leaves the others alone
STREAMS = (
    "company", "team", "portfolios", "lifecycle", "csms", "accounts", "contacts", "invoices",
    "usage", "tickets", "surveys", "comments", "activities", "notes", "requests", "referrals",
    "spend",
)
CAC = np.array([100_000.0, 20_000.0, 5_000.0])  # BRL to win one account, by segment
CHANNEL_SHARE = np.array([0.35, 0.2, 0.12, 0.2, 0.13])


def generate(
    accounts: int = 2000,
    seed: int = 7,
    language: str = "pt_BR",
    until: dt.date | None = None,
    months: int = 36,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Yield (table name, record batch) for every canonical table, in `schema.CANONICAL`
    order, each table's batches together; at most `columns.BATCH_ROWS` rows per batch.

    `until` (default: the first day of the current month) is the moment the data is read:
    the history covers the `months` calendar months before it.
    """
    if accounts < 1 or months < 1:
        raise ValueError(f"accounts and months must be at least 1, got {accounts}, {months}")
    if until is None:
        until = dt.date.today().replace(day=1)
    demo = _Demo.build(accounts, seed, names_for(language), TEXTS[language], until, months)
    writers = demo.writers()
    for table in schema.CANONICAL:
        yield from writers[table.name]()


def _stream(seed: int, concern: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, STREAMS.index(concern)]))


@dataclass
class _Demo:
    """The simulated history, and how each table is written from it."""

    company: Company
    team: Team
    life: Lifecycle
    customers: usage.Customers
    referred: dict[str, np.ndarray]
    texts: Texts
    seed: int
    account_names: list[str]
    account_ids: pa.Array
    contact_ids: pa.Array
    csm_ids: pa.Array

    @classmethod
    def build(cls, n: int, seed: int, names: Names, texts: Texts, until: dt.date, months: int) -> _Demo:
        window = Window.ending(until, months)
        company = build_company(n, window, names, _stream(seed, "company"))
        team = build_team(company, _stream(seed, "team"))
        assign_csms(company, team, _stream(seed, "portfolios"))
        life = simulate(company, _stream(seed, "lifecycle"))
        customers = usage.Customers(window, life)
        referred = success.referral_rows(company, life, customers, _stream(seed, "referrals"))
        n_contacts = int(company.contacts.sum())
        return cls(
            company, team, life, customers, referred, texts, seed,
            account_names=_company_names(company, _stream(seed, "accounts")),
            account_ids=ids("acc_", np.arange(1, n + 1), id_width(n)),
            contact_ids=ids("ctt_", np.arange(1, n_contacts + 1), id_width(n_contacts, 7)),
            csm_ids=ids("csm_", np.arange(1, team.n + 1), id_width(team.n, 3)),
        )

    def rng(self, concern: str) -> np.random.Generator:
        return _stream(self.seed, concern)

    def writers(self) -> dict[str, Callable[[], Iterator[tuple[str, pa.RecordBatch]]]]:
        c, life, acc, people = self.company, self.life, self.account_ids, self.contact_ids
        return {
            "csms": lambda: _csms(c, self.team, self.csm_ids, self.rng("csms")),
            "accounts": lambda: _accounts(c, life, acc, self.csm_ids, self.account_names),
            "contacts": lambda: _contacts(c, self.account_names, acc, people, self.rng("contacts")),
            "subscriptions": lambda: billing.subscriptions(c, life, acc),
            "invoices": lambda: billing.invoices(c, life, acc, self.rng("invoices")),
            "usage_events": lambda: usage.usage_events(c, life, self.customers, acc, people, self.rng("usage")),
            "features": lambda: usage.features(self.texts),
            "milestones": lambda: usage.milestones(c, self.customers, acc),
            "tickets": lambda: support.tickets(c, self.ticket_rows, acc, people),
            "survey_responses": lambda: support.survey_responses(
                c, self.texts, self.survey_rows, acc, people, self.rng("comments")
            ),
            "cs_activities": lambda: success.cs_activities(
                c, self.texts, self.activity_rows, acc, self.csm_ids, self.rng("notes")
            ),
            "churn_requests": lambda: success.churn_requests(c, self.texts, life, acc, self.rng("requests")),
            "acquisition_spend": lambda: _acquisition_spend(c, self.rng("spend")),
            "referrals": lambda: success.referrals(c, self.referred, acc),
            "targets": lambda: _targets(c.window),
        }

    @cached_property
    def ticket_rows(self) -> dict[str, np.ndarray]:
        return support.ticket_rows(self.company, self.life, self.customers, self.rng("tickets"))

    @cached_property
    def survey_rows(self) -> dict[str, np.ndarray]:
        return support.survey_rows(self.company, self.life, self.customers, self.ticket_rows, self.rng("surveys"))

    @property
    def activity_rows(self) -> dict[str, np.ndarray]:
        return success.activity_rows(
            self.company, self.team, self.life, self.customers, self.survey_rows, self.rng("activities")
        )


def _csms(
    c: Company, team: Team, csm_ids: pa.Array, rng: np.random.Generator
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The CS team; pooled tech-touch CSMs are named after the team that shares them."""
    names = c.names
    first = rng.integers(0, len(names.first_names), team.n)
    last = rng.integers(0, len(names.surnames), team.n)
    people = [f"{names.first_names[f]} {names.surnames[s]}" for f, s in zip(first, last, strict=True)]
    emails = [
        f"{slug(names.first_names[f])}.{slug(names.surnames[s])}@{names.staff_domain}"
        for f, s in zip(first, last, strict=True)
    ]
    for number, i in enumerate(np.flatnonzero(team.pooled), start=1):
        people[i] = f"{names.pooled_csm} {number}"
        emails[i] = f"{slug(names.pooled_csm)}{number}@{names.staff_domain}"
    yield from batches(
        "csms",
        {
            "csm_id": csm_ids,
            "name": pa.array(people, pa.string()),
            "email": pa.array(emails, pa.string()),
            "role": labels(schema.CSM_ROLES, team.role),
            "active": pa.array(team.active),
        },
    )


def _company_names(c: Company, rng: np.random.Generator) -> list[str]:
    names, n = c.names, c.n
    kinds = list(names.industries.values())
    pattern = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    kind = np.floor(rng.random(n) * np.array([len(kinds[i]) for i in c.industry])).astype(int)
    a, b = rng.integers(0, len(names.surnames), (2, n))
    brand = rng.integers(0, len(names.brands), n)
    suffix = rng.choice(len(names.suffixes), n, p=names.suffix_weights)
    return [
        company_name(names, pattern[i], kinds[c.industry[i]][kind[i]], names.surnames[a[i]],
                     names.surnames[b[i]], names.brands[brand[i]], names.suffixes[suffix[i]])
        for i in range(n)
    ]


def _accounts(
    c: Company, life: Lifecycle, account_ids: pa.Array, csm_ids: pa.Array, names: list[str]
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Accounts as the CRM shows them today: latest plan and seats, custom fields."""
    vocab = c.names
    erp_key, source_key = vocab.attribute_keys
    attributes = [
        canonical_json({erp_key: vocab.erps[e], source_key: vocab.sources[SOURCES[s]]})
        for e, s in zip(c.erp, c.source, strict=True)
    ]
    yield from batches(
        "accounts",
        {
            "account_id": account_ids,
            "name": pa.array(names, pa.string()),
            "segment": labels(SEGMENTS, c.segment),
            "plan": labels(PLANS, np.maximum(life.plan, 0), life.plan < 0),
            "csm_id": csm_ids.take(pa.array(np.maximum(c.csm, 0), mask=c.csm < 0)),
            "touch_model": labels(TOUCH_MODELS, c.segment),
            "created_at": c.window.timestamps(c.created),
            "country": labels(vocab.countries, c.country),
            "industry": labels(list(vocab.industries), c.industry),
            "seats": pa.array(life.seats.astype(np.int64)),
            "attributes": pa.array(attributes, pa.string()),
        },
    )


def _contacts(
    c: Company, account_names: list[str], account_ids: pa.Array, contact_ids: pa.Array,
    rng: np.random.Generator,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """People at each customer; the first is the buyer. They join right at signup."""
    names = c.names
    acc = np.repeat(np.arange(c.n), c.contacts)
    n = len(acc)
    first = rng.integers(0, len(names.first_names), n)
    last = rng.integers(0, len(names.surnames), n)
    buyer = np.arange(n) == c.first_contact[acc]
    role = np.where(buyer, 0, rng.integers(1, len(names.contact_roles), n))
    domains = [slug(_core(name, names))[:40] + ".example" for name in account_names]
    people = [f"{names.first_names[f]} {names.surnames[s]}" for f, s in zip(first, last, strict=True)]
    emails = [
        f"{slug(names.first_names[f])}.{slug(names.surnames[s])}@{domains[a]}"
        for f, s, a in zip(first, last, acc, strict=True)
    ]
    yield from batches(
        "contacts",
        {
            "contact_id": contact_ids,
            "account_id": account_ids.take(pa.array(acc)),
            "name": pa.array(people, pa.string()),
            "email": pa.array(emails, pa.string(), mask=rng.random(n) < 0.08),
            "role": labels(names.contact_roles, role),
            "created_at": c.window.timestamps(c.created[acc] + rng.uniform(0.0, 0.04, n)),
        },
    )


def _core(name: str, names: Names) -> str:
    """A company name without its legal form, for its e-mail domain."""
    for suffix in names.suffixes:
        if suffix and name.endswith(" " + suffix):
            return name[: -len(suffix) - 1]
    return name


def _acquisition_spend(c: Company, rng: np.random.Generator) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Monthly spend per paid channel: what winning that month's new accounts cost (CAC by
    segment, ±30%), plus an always-on floor for the ad channels."""
    w = c.window
    won = ~np.isnan(c.start) & (c.source < len(CHANNELS))
    month = w.month_of(np.nan_to_num(c.start[won]))
    cost = CAC[c.segment[won]] * rng.lognormal(0.0, 0.3, int(won.sum()))
    spend = np.zeros((w.months, len(CHANNELS)))
    np.add.at(spend, (month, c.source[won]), cost)
    floor = spend.sum() / max(w.months, 1) * CHANNEL_SHARE * 0.1
    spend += floor * rng.uniform(0.5, 1.5, spend.shape)
    months, channels = np.meshgrid(np.arange(w.months), np.arange(len(CHANNELS)), indexing="ij")
    yield from batches(
        "acquisition_spend",
        {
            "month": w.dates(w.month_starts[months.ravel()]),
            "channel": labels(CHANNELS, channels.ravel()),
            "amount": money(np.round(spend.ravel() * 100).astype(np.int64)),
        },
    )


# kpi → (target in the first quarter, change per quarter, direction); keys from METRICS.md
TARGETS = {
    "nrr": (1.00, 0.01, "higher"),
    "grr": (0.90, 0.005, "higher"),
    "logo_churn_rate": (0.025, -0.001, "lower"),
    "nps": (40.0, 2.0, "higher"),
    "csat": (0.85, 0.01, "higher"),
    "first_response_hours_median": (4.0, -0.25, "lower"),
    "activation_rate": (0.70, 0.02, "higher"),
    "time_to_first_value_days_median": (21.0, -1.0, "lower"),
    "delinquency_rate": (0.05, -0.002, "lower"),
    "coverage": (0.80, 0.02, "higher"),
}


def _targets(w: Window) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Quarterly OKR targets for the current quarter and the three before it."""
    current = np.datetime64(w.until, "M")
    quarter = current - (current.astype(int) % 3)
    starts = quarter - 3 * np.arange(3, -1, -1)
    rows = [
        (kpi, s, s + 3, round(first + step * q, 4), direction)
        for kpi, (first, step, direction) in TARGETS.items()
        for q, s in enumerate(starts)
    ]
    kpi, start, end, target, direction = zip(*rows, strict=True)
    yield from batches(
        "targets",
        {
            "kpi": pa.array(kpi, pa.string()),
            "period_start": pa.array(np.array(start).astype("datetime64[D]"), pa.date32()),
            "period_end": pa.array(np.array(end).astype("datetime64[D]"), pa.date32()),
            "target": pa.array(target, pa.float64()),
            "direction": pa.array(direction, pa.string()),
        },
    )
