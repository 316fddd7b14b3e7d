"""Product usage: the feature catalog, onboarding milestones and the usage event stream.

Each customer month gets Poisson(λ) events with

    λ = 2.0 · known users · e^(0.5·health) · engagement · (customer days in month / 30.4)

where engagement falls while a customer disengages (×0.55 a month) and is lower in the
first month (ramp-up). An event is one of the key features with probability ~22% (more
for good fit), but only features the account has started using; otherwise a common one.
The first use of each key feature is an event at exactly the moment the matching
milestone is reached, so `first_value` = first `workflow_created`, and so on.
Events are drawn column-wise in chunks of whole accounts, never one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sucesso.demo import columns
from sucesso.demo.columns import (
    MONTH_DAYS,
    Window,
    batches,
    canonical_json,
    id_width,
    ids,
    labels,
    within,
)
from sucesso.demo.company import KEY_FEATURES, MILESTONES, NEVER, Company
from sucesso.demo.lifecycle import Lifecycle
from sucesso.demo.texts import Texts

COMMON = (
    "login", "dashboard_viewed", "record_created", "record_updated",
    "search_performed", "comment_added", "file_uploaded",
)
COMMON_MIX = np.array([0.30, 0.22, 0.18, 0.12, 0.10, 0.05, 0.03])
EVENTS = COMMON + KEY_FEATURES
TIED = {"integration_connected": "activated", "workflow_created": "first_value",
        "report_exported": "first_success"}
SYSTEM_EVENTS = ("automation_run",)  # no person behind them: contact_id is null
EVENTS_PER_USER_MONTH = 2.0
FORMATS = ("pdf", "xlsx", "csv")


def features(texts: Texts) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The catalog: 12 events, 5 of them key features, 3 tied to milestones."""
    yield from batches(
        "features",
        {
            "event": pa.array(EVENTS, pa.string()),
            "name": pa.array([texts.features[e] for e in EVENTS], pa.string()),
            "is_key": pa.array([e in KEY_FEATURES for e in EVENTS]),
            "milestone": pa.array([TIED.get(e) for e in EVENTS], pa.string()),
        },
    )


class Customers:
    """Answers "was account a a customer at instant t?" from the lifecycle's spans."""

    def __init__(self, window: Window, life: Lifecycle) -> None:
        self.window = window
        self.lo, self.hi = life.spans(window)

    def at(self, account: np.ndarray, t: np.ndarray) -> np.ndarray:
        finite = np.isfinite(t) & (t < self.window.days) & (t >= 0)
        m = self.window.month_of(np.where(finite, t, 0.0))
        return finite & (self.lo[account, m] <= t) & (t < self.hi[account, m])

    def days(self) -> np.ndarray:
        return self.hi - self.lo


def first_uses(company: Company, customers: Customers) -> np.ndarray:
    """(accounts, key features) absolute instant of first use while a customer, else NEVER."""
    n = company.n
    at = np.nan_to_num(company.start, nan=np.inf)[:, None] + company.adoption
    acc = np.repeat(np.arange(n), len(KEY_FEATURES))
    ok = customers.at(acc, at.ravel()).reshape(at.shape)
    return np.where(ok, at, NEVER)


def milestones(
    company: Company, customers: Customers, account_ids: pa.Array
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """Milestones reached while a customer, before `until`."""
    at = np.nan_to_num(company.start, nan=np.inf)[:, None] + company.milestones
    acc = np.repeat(np.arange(company.n), len(MILESTONES))
    which = np.tile(np.arange(len(MILESTONES)), company.n)
    flat = at.ravel()
    ok = customers.at(acc, flat)
    yield from batches(
        "milestones",
        {
            "account_id": account_ids.take(pa.array(acc[ok])),
            "milestone": labels(MILESTONES, which[ok]),
            "reached_at": company.window.timestamps(flat[ok]),
        },
    )


def usage_events(
    company: Company,
    life: Lifecycle,
    customers: Customers,
    account_ids: pa.Array,
    contact_ids: pa.Array,
    rng: np.random.Generator,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    counts = _monthly_counts(company, life, customers, rng)
    adopted = first_uses(company, customers)
    firsts = np.isfinite(adopted).sum(axis=1)
    per_account = counts.sum(axis=1) + firsts
    width = id_width(int(per_account.sum()), 9)
    vocab = _property_vocabulary(company)
    numbered = 0
    for a0, a1 in _chunks(per_account, columns.BATCH_ROWS):
        rows = _chunk(company, customers, counts, adopted, a0, a1, rng)
        n = len(rows["account"])
        contact = company.first_contact[rows["account"]] + rows["contact"]
        yield from batches(
            "usage_events",
            {
                "event_id": ids("evt_", np.arange(numbered + 1, numbered + n + 1), width),
                "account_id": account_ids.take(pa.array(rows["account"])),
                "contact_id": contact_ids.take(pa.array(contact, mask=rows["contact"] < 0)),
                "event": labels(EVENTS, rows["event"]),
                "occurred_at": company.window.timestamps(rows["t"]),
                "properties": labels(vocab, rows["props"], rows["props"] < 0),
            },
        )
        numbered += n


def _monthly_counts(
    company: Company, life: Lifecycle, customers: Customers, rng: np.random.Generator
) -> np.ndarray:
    users = np.minimum(company.contacts, company.seats) * 0.9 + 0.5
    rate = EVENTS_PER_USER_MONTH * users[:, None] * np.exp(0.5 * life.health)
    rate = rate * life.engagement * customers.days() / MONTH_DAYS
    return rng.poisson(rate).astype(np.int64)


def _chunks(per_account: np.ndarray, limit: int) -> Iterator[tuple[int, int]]:
    """Consecutive account ranges holding at most `limit` events (or one account)."""
    cum = np.cumsum(per_account)
    a0, done = 0, 0
    while a0 < len(per_account):
        a1 = int(np.searchsorted(cum, done + limit, side="right"))
        a1 = max(a1, a0 + 1)
        yield a0, a1
        done, a0 = int(cum[a1 - 1]), a1


def _chunk(
    company: Company,
    customers: Customers,
    counts: np.ndarray,
    adopted: np.ndarray,
    a0: int,
    a1: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """All events of accounts a0…a1−1, ordered by account and time."""
    acc_local, month = np.nonzero(counts[a0:a1])
    repeat = counts[a0:a1][acc_local, month]
    acc = np.repeat(acc_local + a0, repeat)
    month = np.repeat(month, repeat)
    t = within(rng, company.window, customers.lo[acc, month], customers.hi[acc, month])
    event = _event_kinds(company, adopted, acc, t, rng)
    first_acc, first_feature = np.nonzero(np.isfinite(adopted[a0:a1]))
    first_acc = first_acc + a0
    acc = np.concatenate([acc, first_acc])
    t = np.concatenate([t, adopted[first_acc, first_feature]])
    event = np.concatenate([event, first_feature + len(COMMON)])
    order = np.lexsort((t, acc))
    acc, t, event = acc[order], t[order], event[order]
    contact = np.floor(company.contacts[acc] * rng.random(len(acc)) ** 1.4).astype(np.int64)
    contact[np.isin(event, [EVENTS.index(e) for e in SYSTEM_EVENTS])] = -1
    return {"account": acc, "t": t, "event": event, "contact": contact,
            "props": _properties(company, acc, event, rng)}


def _event_kinds(
    company: Company, adopted: np.ndarray, acc: np.ndarray, t: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(acc)
    key_share = np.clip(0.22 + 0.06 * company.fit[acc], 0.05, 0.45)
    feature = rng.integers(0, len(KEY_FEATURES), n)
    common = np.searchsorted(np.cumsum(COMMON_MIX), rng.random(n) * COMMON_MIX.sum(), side="right")
    keyed = (rng.random(n) < key_share) & (adopted[acc, feature] < t)
    return np.where(keyed, feature + len(COMMON), np.minimum(common, len(COMMON) - 1))


def _property_vocabulary(company: Company) -> list[str]:
    """Every properties JSON the stream uses: export formats, integration providers, file
    sizes (in steps of 50 kB)."""
    formats = [canonical_json({"format": f}) for f in FORMATS]
    providers = [canonical_json({"provider": e}) for e in company.names.erps]
    sizes = [canonical_json({"size_kb": 50 * (i + 1)}) for i in range(100)]
    return formats + providers + sizes


def _properties(
    company: Company, acc: np.ndarray, event: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Index into the property vocabulary, −1 (null) for most events."""
    n, nf, ne = len(acc), len(FORMATS), len(company.names.erps)
    props = np.full(n, -1)
    export = event == EVENTS.index("report_exported")
    props[export] = rng.choice(nf, int(export.sum()), p=[0.5, 0.4, 0.1])
    integration = event == EVENTS.index("integration_connected")
    props[integration] = nf + company.erp[acc[integration]]
    upload = event == EVENTS.index("file_uploaded")
    size = np.minimum(rng.geometric(0.08, int(upload.sum())), 100) - 1
    props[upload] = nf + ne + size
    return props
