"""Support tickets and survey answers (NPS, CSAT, CES).

Tickets arrive per customer month as Poisson(rate by segment · e^(0.5·friction − 0.5·health)),
so troubled and unhappy customers open more of them. Response time depends on channel and
priority, resolution time on category, both log-normal (a long tail of slow tickets).

Surveys: a relationship NPS roughly every quarter, answered by ~30% (45% in enterprise),
scored around 7.4 + 1.9·health; CSAT after 30% of resolved tickets, lower for slow ones;
CES after 10% of resolved tickets (harder when it took several contacts) and after half of
the completed onboardings. Low scores come with a complaint more often than high ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sucesso.demo.columns import MONTH_DAYS, batches, id_width, ids, labels, within
from sucesso.demo.company import Company, choose_rows
from sucesso.demo.lifecycle import Lifecycle
from sucesso.demo.texts import Texts, with_pairs
from sucesso.demo.usage import Customers
from sucesso.store import schema

CHANNELS = ("email", "chat", "phone", "whatsapp")
CHANNEL_MIX = np.array([[0.45, 0.25, 0.2, 0.1], [0.35, 0.3, 0.15, 0.2], [0.2, 0.3, 0.05, 0.45]])
FIRST_RESPONSE_HOURS = np.array([5.0, 0.25, 0.02, 0.6])  # median by channel
CATEGORIES = ("how_to", "bug", "billing", "integration", "access", "feature_request", "data_import")
CATEGORY_MIX = np.array([0.3, 0.2, 0.12, 0.15, 0.08, 0.1, 0.05])
RESOLUTION_HOURS = np.array([6.0, 60.0, 20.0, 40.0, 3.0, 120.0, 30.0])  # median by category
FIRST_CONTACT_FIX = np.array([0.7, 0.45, 0.6, 0.45, 0.75, 0.6, 0.5])  # P(one contact)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_MIX = np.array([[0.15, 0.45, 0.3, 0.1], [0.25, 0.5, 0.2, 0.05], [0.25, 0.5, 0.2, 0.05]])
PRIORITY_SPEED = np.array([1.5, 1.0, 0.6, 0.3])  # × response time
TICKETS_PER_MONTH = np.array([2.0, 0.7, 0.22])  # by segment
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
TOUCHPOINTS = ("relationship", "ticket", "onboarding")


def ticket_rows(
    company: Company, life: Lifecycle, customers: Customers, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    w, seg = company.window, company.segment
    rate = TICKETS_PER_MONTH[seg][:, None] * np.exp(0.5 * company.friction[:, None] - 0.5 * life.health)
    counts = rng.poisson(rate * customers.days() / MONTH_DAYS)
    acc, month = np.nonzero(counts)
    acc, month = np.repeat(acc, counts[acc, month]), np.repeat(month, counts[acc, month])
    n = len(acc)
    opened = within(rng, w, customers.lo[acc, month], customers.hi[acc, month])
    channel = choose_rows(CHANNEL_MIX[seg[acc]], rng)
    category = rng.choice(len(CATEGORIES), n, p=CATEGORY_MIX)
    priority = choose_rows(PRIORITY_MIX[seg[acc]], rng)
    hours = FIRST_RESPONSE_HOURS[channel] * PRIORITY_SPEED[priority] * rng.lognormal(0, 1.0, n)
    first = opened + hours / 24
    first[(rng.random(n) < 0.03) | (first >= w.days)] = np.nan
    fix = RESOLUTION_HOURS[category] * rng.lognormal(0, 1.1, n) * np.exp(-0.2 * life.health[acc, month])
    resolved = np.fmax(opened + fix / 24, first)
    resolved[(rng.random(n) < 0.03) | (resolved >= w.days)] = np.nan
    contacts = np.minimum(rng.geometric(FIRST_CONTACT_FIX[category]), 4)
    order = np.argsort(opened, kind="stable")
    rows = {
        "account": acc, "month": month, "opened": opened, "first": first, "resolved": resolved,
        "contacts": contacts, "channel": channel, "category": category, "priority": priority,
        "contact": _contact(company, acc, rng, share=0.9),
    }
    return {k: v[order] for k, v in rows.items()}


def tickets(
    company: Company, rows: dict[str, np.ndarray], account_ids: pa.Array, contact_ids: pa.Array
) -> Iterator[tuple[str, pa.RecordBatch]]:
    n, w = len(rows["account"]), company.window
    unresolved = np.isnan(rows["resolved"])
    yield from batches(
        "tickets",
        {
            "ticket_id": ids("tkt_", np.arange(1, n + 1), id_width(n, 7)),
            "account_id": account_ids.take(pa.array(rows["account"])),
            "contact_id": _contact_ids(company, rows, contact_ids),
            "opened_at": w.timestamps(rows["opened"]),
            "first_response_at": w.timestamps(rows["first"]),
            "resolved_at": w.timestamps(rows["resolved"]),
            "contacts_to_resolve": pa.array(rows["contacts"], pa.int64(), mask=unresolved),
            "channel": labels(CHANNELS, rows["channel"]),
            "category": labels(CATEGORIES, rows["category"]),
            "priority": labels(PRIORITIES, rows["priority"]),
        },
    )


def survey_rows(
    company: Company,
    life: Lifecycle,
    customers: Customers,
    ticket: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    parts = [
        _nps(company, life, customers, rng),
        _after_tickets(company, life, customers, ticket, rng),
        _after_onboarding(company, customers, rng),
    ]
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((rows["account"], rows["answered"]))
    return {k: v[order] for k, v in rows.items()}


def survey_responses(
    company: Company,
    texts: Texts,
    rows: dict[str, np.ndarray],
    account_ids: pa.Array,
    contact_ids: pa.Array,
    rng: np.random.Generator,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    n, w = len(rows["account"]), company.window
    vocab, comment = _comments(texts, rows, rng)
    lows = np.array([SCALES[s][0] for s in schema.SURVEYS])[rows["survey"]]
    highs = np.array([SCALES[s][1] for s in schema.SURVEYS])[rows["survey"]]
    yield from batches(
        "survey_responses",
        {
            "response_id": ids("srv_", np.arange(1, n + 1), id_width(n, 7)),
            "account_id": account_ids.take(pa.array(rows["account"])),
            "contact_id": _contact_ids(company, rows, contact_ids),
            "survey": labels(schema.SURVEYS, rows["survey"]),
            "score": pa.array(rows["score"].astype(np.float64)),
            "scale_min": pa.array(lows.astype(np.int64)),
            "scale_max": pa.array(highs.astype(np.int64)),
            "comment": labels(vocab, comment, comment < 0),
            "touchpoint": labels(TOUCHPOINTS, rows["touchpoint"]),
            "answered_at": w.timestamps(rows["answered"]),
        },
    )


def _nps(company: Company, life: Lifecycle, customers: Customers, rng: np.random.Generator) -> dict:
    """Relationship NPS every ~91 days from 60 days in, while a customer."""
    w, n = company.window, company.n
    waves = int(w.days // 91) + 1
    first = np.nan_to_num(company.start, nan=np.inf) + 60 + rng.uniform(0, 91, n)
    at = first[:, None] + 91.3 * np.arange(waves)
    acc = np.repeat(np.arange(n), waves)
    at = at.ravel()
    answer = np.isfinite(at) & (rng.random(len(at)) < np.where(company.segment[acc] == 0, 0.45, 0.3))
    acc, at = acc[answer], np.floor(at[answer]) + rng.uniform(0.45, 0.9, int(answer.sum()))
    keep = customers.at(acc, at)
    acc, at = acc[keep], at[keep]
    h = life.health[acc, w.month_of(at)]
    score = np.clip(np.round(rng.normal(7.4 + 1.9 * h, 1.4)), 0, 10)
    return _answers(company, acc, at, 0, score, 0, rng)


def _after_tickets(
    company: Company, life: Lifecycle, customers: Customers, t: dict, rng: np.random.Generator
) -> dict:
    """CSAT (30%) and CES (10%) after resolved tickets, from customers still there."""
    w = company.window
    done = np.flatnonzero(~np.isnan(t["resolved"]))
    when = within(rng, w, t["resolved"][done] + 0.01, t["resolved"][done] + 2.0)
    still = customers.at(t["account"][done], when)
    done, when = done[still], when[still]
    h = life.health[t["account"][done], t["month"][done]]
    slow = np.log1p(t["resolved"][done] - t["opened"][done])  # days to resolve
    csat = rng.random(len(done)) < 0.3
    csat_score = np.clip(np.round(rng.normal(4.8 + 0.5 * h - 0.35 * slow, 0.8)), 1, 5)
    ces = rng.random(len(done)) < 0.1
    effort = t["contacts"][done] - 1
    ces_score = np.clip(np.round(rng.normal(5.9 + 0.5 * h - 0.7 * effort - 0.3 * slow, 1.1)), 1, 7)
    parts = [
        _answers(company, t["account"][done][m], when[m], s, sc[m], 1, rng, t["contact"][done][m])
        for m, s, sc in ((csat, 1, csat_score), (ces, 2, ces_score))
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _after_onboarding(company: Company, customers: Customers, rng: np.random.Generator) -> dict:
    """CES about the onboarding, from half of the accounts that completed it."""
    done = np.nan_to_num(company.start, nan=np.inf) + company.milestone("onboarding_completed")
    reached = np.isfinite(done)
    at = np.full(company.n, np.inf)
    at[reached] = within(rng, company.window, done[reached] + 0.5, done[reached] + 5.0)
    acc = np.flatnonzero(customers.at(np.arange(company.n), at) & (rng.random(company.n) < 0.5))
    score = np.clip(np.round(rng.normal(5.2 + 0.6 * company.fit[acc], 1.2)), 1, 7)
    return _answers(company, acc, at[acc], 2, score, 2, rng)


def _answers(
    company: Company, acc: np.ndarray, at: np.ndarray, survey: int, score: np.ndarray,
    touchpoint: int, rng: np.random.Generator, contact: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    n = len(acc)
    return {
        "account": acc.astype(np.int64), "answered": at, "survey": np.full(n, survey),
        "score": score, "touchpoint": np.full(n, touchpoint),
        "contact": _contact(company, acc, rng, share=0.95) if contact is None else contact,
    }


def _comments(texts: Texts, rows: dict, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Pick a comment from the bucket the score falls in, for a share of answers."""
    buckets = [with_pairs(b) for b in (*texts.nps, *texts.csat, *texts.ces)]
    offsets = np.cumsum([0] + [len(b) for b in buckets])
    score, survey = rows["score"], rows["survey"]
    nps_bucket = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    bucket = np.select(
        [survey == 0, survey == 1], [nps_bucket, 3 + (score >= 4)], 5 + (score >= 5)
    )
    share = np.array([0.55, 0.25, 0.35, 0.5, 0.2, 0.3, 0.15])[bucket]
    sizes = np.diff(offsets)[bucket]
    pick = offsets[bucket] + np.floor(rng.random(len(score)) * sizes).astype(np.int64)
    pick[rng.random(len(score)) >= share] = -1
    return [s for b in buckets for s in b], pick


def _contact(company: Company, acc: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    """A contact of the account (local index), or −1 (unknown) for 1 − share of rows."""
    local = np.floor(rng.random(len(acc)) * company.contacts[acc]).astype(np.int64)
    local[rng.random(len(acc)) >= share] = -1
    return local


def _contact_ids(company: Company, rows: dict, contact_ids: pa.Array) -> pa.Array:
    local = rows["contact"]
    index = company.first_contact[rows["account"]] + np.maximum(local, 0)
    return contact_ids.take(pa.array(index, mask=local < 0))
