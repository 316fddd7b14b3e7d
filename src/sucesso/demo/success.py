"""The CS team's work and its outcomes: activities, churn requests, referrals.

Activities are of two sorts. Scheduled ones follow the touch model: onboarding sessions
(4 for high touch, 2 for low, a webinar for a quarter of tech accounts), trainings, success
reviews every quarter (high) or half year (low). Triggered ones come from the lifecycle and
the surveys: a proactive call when usage drops, a rescue call on a churn request and 30
days of follow-ups after a save, delinquency calls, expansion meetings before upgrades,
and follow-ups of detractor answers.

Referrals come from healthy customers (σ(−6 + 1.3·health) a month); some name a company
that signs up within the next 45 days.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sucesso.demo.columns import MONTH_DAYS, batches, id_width, ids, labels, within
from sucesso.demo.company import SOURCES, Company, Team, sigmoid
from sucesso.demo.lifecycle import REASONS, TRIGGERS, Lifecycle
from sucesso.demo.texts import Texts
from sucesso.demo.usage import Customers
from sucesso.store import schema

KINDS = ("onboarding", "training", "success_review") + TRIGGERS
ONBOARDING_DAYS = {0: (2, 10, 25, 45), 1: (3, 20)}  # sessions after start, by touch model
REVIEW_EVERY = {0: 91.0, 1: 182.0}
DETRACTOR_FOLLOW_UP = np.array([0.9, 0.6, 0.2])
ROLE = {k: schema.CSM_ROLES.index(r) for k, r in (
    ("onboarding", "ism"), ("training", "ism"), ("delinquency_call", "support"),
    ("expansion_meeting", "farmer"),
)}


def activity_rows(
    company: Company,
    team: Team,
    life: Lifecycle,
    customers: Customers,
    surveys: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    parts = [
        _scheduled(company, customers, rng),
        {"account": life.triggers["account"].astype(np.int64), "day": life.triggers["day"],
         "kind": life.triggers["kind"].astype(np.int64) + 3},
        _detractor_follow_ups(company, surveys, rng),
    ]
    rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((rows["account"], rows["day"]))
    rows = {k: v[order] for k, v in rows.items()}
    rows["csm"] = _who(company, team, rows, rng)
    return rows


def cs_activities(
    company: Company, texts: Texts, rows: dict, account_ids: pa.Array, csm_ids: pa.Array,
    rng: np.random.Generator,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    n = len(rows["account"])
    notes = [texts.notes[k] for k in KINDS]
    offsets = np.cumsum([0] + [len(x) for x in notes])
    sizes = np.diff(offsets)[rows["kind"]]
    pick = offsets[rows["kind"]] + np.floor(rng.random(n) * sizes).astype(np.int64)
    pick[rng.random(n) >= 0.8] = -1
    yield from batches(
        "cs_activities",
        {
            "activity_id": ids("act_", np.arange(1, n + 1), id_width(n, 7)),
            "account_id": account_ids.take(pa.array(rows["account"])),
            "csm_id": csm_ids.take(pa.array(np.maximum(rows["csm"], 0), mask=rows["csm"] < 0)),
            "kind": labels(KINDS, rows["kind"]),
            "occurred_at": company.window.timestamps(rows["day"]),
            "notes": labels([s for x in notes for s in x], pick, pick < 0),
        },
    )


def churn_requests(
    company: Company, texts: Texts, life: Lifecycle, account_ids: pa.Array,
    rng: np.random.Generator,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The lifecycle's churn requests, with what the customer said for 70% of them."""
    req = life.requests
    order = np.lexsort((req["account"], req["requested"]))
    req = {k: v[order] for k, v in req.items()}
    n = len(order)
    details = [texts.reasons[r] for r in REASONS]
    offsets = np.cumsum([0] + [len(d) for d in details])
    reason = req["reason"].astype(np.int64)
    sizes = np.diff(offsets)[reason]
    pick = offsets[reason] + np.floor(rng.random(n) * sizes).astype(np.int64)
    pick[(rng.random(n) >= 0.7) | (sizes == 0)] = -1
    w = company.window
    yield from batches(
        "churn_requests",
        {
            "request_id": ids("chr_", np.arange(1, n + 1), id_width(n, 6)),
            "account_id": account_ids.take(pa.array(req["account"].astype(np.int64))),
            "requested_at": w.timestamps(req["requested"]),
            "reason_code": labels(REASONS, reason),
            "reason_detail": labels([s for d in details for s in d], pick, pick < 0),
            "voluntary": pa.array(req["voluntary"].astype(bool)),
            "outcome": labels(schema.CHURN_OUTCOMES, req["outcome"].astype(np.int64)),
            "decided_at": w.timestamps(req["decided"]),
        },
    )


def referral_rows(
    company: Company, life: Lifecycle, customers: Customers, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Referrals by healthy customers; 45% bring a company that signs up soon after.

    Marks the referred accounts' acquisition source as "referral".
    """
    days = customers.days()
    p = sigmoid(-6.0 + 1.3 * life.health) * days / MONTH_DAYS
    acc, month = np.nonzero(rng.random(days.shape) < p)
    at = within(rng, company.window, customers.lo[acc, month], customers.hi[acc, month])
    order = np.argsort(at, kind="stable")
    acc, at = acc[order], at[order]
    first_later = np.searchsorted(company.created, at, side="right")
    later = np.searchsorted(company.created, at + 45, side="right") - first_later
    choice = first_later + np.floor(rng.random(len(at)) * later).astype(np.int64)
    named = (later > 0) & (rng.random(len(at)) < 0.45)
    referred = np.where(named, choice, -1)
    _, first = np.unique(referred, return_index=True)
    repeat = np.ones(len(referred), bool)
    repeat[first] = False
    referred[repeat] = -1  # a company is referred once; later mentions stay anonymous
    company.source[referred[referred >= 0]] = SOURCES.index("referral")
    return {"account": acc, "referred": referred, "at": at}


def referrals(
    company: Company, rows: dict, account_ids: pa.Array
) -> Iterator[tuple[str, pa.RecordBatch]]:
    n = len(rows["account"])
    referred = rows["referred"]
    yield from batches(
        "referrals",
        {
            "referral_id": ids("ref_", np.arange(1, n + 1), id_width(n, 5)),
            "account_id": account_ids.take(pa.array(rows["account"])),
            "referred_account_id": account_ids.take(
                pa.array(np.maximum(referred, 0), mask=referred < 0)
            ),
            "occurred_at": company.window.timestamps(rows["at"]),
        },
    )


def _scheduled(company: Company, customers: Customers, rng: np.random.Generator) -> dict:
    """Onboarding sessions, trainings and success reviews that happened while a customer."""
    start = np.nan_to_num(company.start, nan=np.inf)
    seg, n = company.segment, company.n
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    for touch, offsets in ONBOARDING_DAYS.items():
        acc = np.flatnonzero(seg == touch)
        for offset in offsets:
            parts.append((acc, start[acc] + offset + rng.uniform(-1, 3, len(acc)), 0))
    webinar = np.flatnonzero((seg == 2) & (rng.random(n) < 0.25))
    parts.append((webinar, start[webinar] + rng.uniform(2, 10, len(webinar)), 0))
    waves = int(company.window.days // 91) + 1
    for touch, every in REVIEW_EVERY.items():
        acc = np.flatnonzero(seg == touch)
        for k in range(waves):
            due = start[acc] + 80 + every * k + rng.uniform(-10, 10, len(acc))
            done = rng.random(len(acc)) < (0.9 if touch == 0 else 0.75)
            parts.append((acc[done], due[done], 2))
            trained = rng.random(len(acc)) < (0.5 if touch == 0 else 0.15)
            parts.append((acc[trained], due[trained] + rng.uniform(15, 60, trained.sum()), 1))
    acc = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    day = np.floor(day) + rng.uniform(0.5, 0.85, len(day))  # 09:00–17:00 in Brazil
    ok = customers.at(acc, day)
    return {"account": acc[ok].astype(np.int64), "day": day[ok], "kind": kind[ok]}


def _detractor_follow_ups(company: Company, surveys: dict, rng: np.random.Generator) -> dict:
    is_detractor = (surveys["survey"] == 0) & (surveys["score"] <= 6)
    acc = surveys["account"][is_detractor]
    called = rng.random(len(acc)) < DETRACTOR_FOLLOW_UP[company.segment[acc]]
    day = surveys["answered"][is_detractor][called] + rng.uniform(1, 7, int(called.sum()))
    acc, ok = acc[called], day < company.window.days
    return {"account": acc[ok], "day": day[ok],
            "kind": np.full(int(ok.sum()), KINDS.index("follow_up"))}


def _who(company: Company, team: Team, rows: dict, rng: np.random.Generator) -> np.ndarray:
    """The account's CSM (its predecessor before a handover), or a specialist by kind."""
    csm = company.csm[rows["account"]].copy()
    for leaver in np.flatnonzero(~team.active):
        before = (csm == team.successor[leaver]) & (rows["day"] < team.handover[leaver])
        csm[before] = leaver
    for kind, role in ROLE.items():
        staff = team.members(role)
        mine = rows["kind"] == KINDS.index(kind)
        if len(staff):
            csm[mine] = staff[rng.integers(0, len(staff), int(mine.sum()))]
    return csm
