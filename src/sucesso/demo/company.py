"""The customer base: who signs up when, how big they are, and the hidden traits behind them.

Every account gets three latent traits drawn once, N(0, 1):

- `fit`: how well the product suits the customer. It speeds up activation and first value,
  widens key-feature adoption and raises health, so it drives retention and expansion.
- `friction`: how much trouble their setup causes; more tickets and a little lower health.
- `pay_risk`: how shaky their payments are; late and unpaid invoices, involuntary churn.

Nothing downstream reads these directly from the tables: they only show through behaviour,
the way real customers' circumstances do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sucesso.demo.columns import Window, business_time, within
from sucesso.demo.names import Names

SEGMENTS = ("enterprise", "mid_market", "smb")
TOUCH_MODELS = ("high", "low", "tech")  # one per segment, same index
SEGMENT_MIX = (0.05, 0.25, 0.70)
PLANS = ("starter", "pro", "business", "enterprise")
PLAN_BASE = np.array([99.0, 299.0, 890.0, 2990.0])  # BRL per month
PLAN_SEAT = np.array([29.0, 49.0, 69.0, 89.0])  # BRL per seat per month
FIRST_PLAN = np.array([[0, 0, 0.4, 0.6], [0, 0.5, 0.5, 0], [0.6, 0.4, 0, 0]])  # by segment
SOURCES = ("google_ads", "meta_ads", "events", "outbound", "partners", "organic", "referral")
CHANNELS = SOURCES[:5]  # the paid ones, with acquisition spend
SOURCE_MIX = np.array(
    [
        [0.10, 0.02, 0.25, 0.45, 0.13, 0.05],
        [0.25, 0.10, 0.12, 0.28, 0.15, 0.10],
        [0.38, 0.28, 0.03, 0.06, 0.10, 0.15],
    ]
)
MILESTONES = ("activated", "onboarding_completed", "first_value", "first_success")
KEY_FEATURES = (
    "integration_connected",  # reached = activated
    "user_invited",
    "workflow_created",  # reached = first_value
    "report_exported",  # reached = first_success
    "automation_run",
)
NEVER = np.inf


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x)))


@dataclass
class Company:
    """The accounts, column-wise (index = account number − 1), sorted by signup."""

    window: Window
    names: Names
    created: np.ndarray  # days since window start
    start: np.ndarray  # first subscription; NaN = still in trial at `until`
    segment: np.ndarray  # index into SEGMENTS (= TOUCH_MODELS)
    plan: np.ndarray  # first plan, index into PLANS
    seats: np.ndarray
    fit: np.ndarray
    friction: np.ndarray
    pay_risk: np.ndarray
    contacts: np.ndarray  # how many contacts
    source: np.ndarray  # index into SOURCES
    country: np.ndarray
    industry: np.ndarray
    erp: np.ndarray
    terms: np.ndarray  # days from invoice to due date
    milestones: np.ndarray  # (n, len(MILESTONES)) days after start when reached, NEVER
    adoption: np.ndarray  # (n, len(KEY_FEATURES)) days after start of first use, NEVER
    csm: np.ndarray = None  # index into Team, −1 = none; set by `Team.assign`

    @property
    def n(self) -> int:
        return len(self.created)

    @property
    def first_contact(self) -> np.ndarray:
        """Global index of each account's first contact (contacts are numbered by account)."""
        return np.concatenate([[0], np.cumsum(self.contacts)[:-1]])

    def milestone(self, name: str) -> np.ndarray:
        return self.milestones[:, MILESTONES.index(name)]


def build_company(n: int, window: Window, names: Names, rng: np.random.Generator) -> Company:
    """Draw `n` accounts signing up over the window, faster and faster (3× by the end)."""
    created = _signups(n, window, rng)
    start = within(rng, window, created + 0.05, created + 3.0)
    start[start >= window.days] = np.nan
    segment = rng.choice(3, n, p=SEGMENT_MIX)
    fit, friction, pay_risk = rng.normal(size=(3, n))
    pay_risk += 0.4 * (segment == 2)  # small businesses pay by boleto, later
    seats = _seats(segment, rng)
    contacts = _contacts(seats, rng)
    milestones, adoption = _onboarding(segment, fit, contacts, rng)
    milestones, adoption = _at_work(start, milestones, adoption, rng)
    return Company(
        window=window,
        names=names,
        created=created,
        start=start,
        segment=segment,
        plan=choose_rows(FIRST_PLAN[segment], rng),
        seats=seats,
        fit=fit,
        friction=friction,
        pay_risk=pay_risk,
        contacts=contacts,
        source=choose_rows(SOURCE_MIX[segment], rng),
        country=rng.choice(len(names.countries), n, p=names.country_weights),
        industry=rng.integers(0, len(names.industries), n),
        erp=rng.integers(0, len(names.erps), n),
        terms=np.where(segment == 0, rng.choice([15.0, 30.0], n), 10.0),
        milestones=milestones,
        adoption=adoption,
    )


def _signups(n: int, window: Window, rng: np.random.Generator) -> np.ndarray:
    growth = np.log(3.0)  # the signup rate triples over the window
    u = np.sort(rng.random(n))
    day = np.floor(window.days * np.log1p(u * np.expm1(growth)) / growth)
    return np.minimum(day + business_time(rng, n), window.days - 1e-3)


def choose_rows(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of a matrix of (not necessarily normalised) weights."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), weights.shape[1] - 1)


def _seats(segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    median = np.array([80.0, 18.0, 4.0])[segment]
    spread = np.array([0.7, 0.5, 0.6])[segment]
    return np.maximum(1, np.round(median * rng.lognormal(0.0, spread))).astype(np.int64)


def _contacts(seats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The users the company knows by name: most of the seats, at most 150."""
    known = np.round(seats * rng.uniform(0.5, 0.95, len(seats)))
    return np.clip(known, 1, 150).astype(np.int64)


def _onboarding(
    segment: np.ndarray, fit: np.ndarray, contacts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Days from first subscription to each milestone and first use of each key feature.

    Good fit activates sooner and reaches first value faster; about 1 in 6 accounts never
    reaches first value. Each delay starts from the step it depends on.
    """
    n = len(fit)

    def delay(median: float, slope: float, spread: float) -> np.ndarray:
        return rng.lognormal(np.log(median) - slope * fit, spread)

    def never(bias: float, slope: float) -> np.ndarray:
        return rng.random(n) < sigmoid(bias - slope * fit)

    tech = segment == 2
    activated = np.where(never(-3.0, 0.8), NEVER, delay(2.5, 0.3, 0.9))
    first_value = np.where(never(-1.6, 1.1), NEVER, activated + delay(14.0, 0.5, 0.8))
    onboarded = activated + np.where(tech, delay(18.0, 0.2, 0.7), delay(35.0, 0.2, 0.35))
    onboarded[never(np.where(tech, -1.0, -2.4), 0.6)] = NEVER
    first_success = np.where(never(-1.0, 0.9), NEVER, first_value + delay(45.0, 0.3, 0.5))
    invited = activated + delay(6.0, 0.0, 1.0)
    invited[never(-0.8, 0.9) | ((contacts == 1) & (rng.random(n) < 0.5))] = NEVER
    automation = np.where(never(-0.2, 1.1), NEVER, first_value + delay(25.0, 0.3, 0.7))
    milestones = np.column_stack([activated, onboarded, first_value, first_success])
    adoption = np.column_stack([activated, invited, first_value, first_success, automation])
    return milestones, adoption


def _at_work(
    start: np.ndarray, milestones: np.ndarray, adoption: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Move each first use and milestone to office hours of its day, keeping every step
    after the one it depends on (and after the subscription start)."""
    steps = np.column_stack([milestones, adoption[:, [1, 4]]])  # + invited, automation
    begin = np.nan_to_num(start, nan=0.0)[:, None]
    moved = np.floor(begin + steps) + business_time(rng, steps.size).reshape(steps.shape)
    moved = np.where(np.isfinite(steps), np.maximum(moved - begin, 0.01), NEVER)
    act, onboarded, value, success, invited, auto = moved.T
    onboarded, value, invited = (np.maximum(x, act) for x in (onboarded, value, invited))
    success, auto = np.maximum(success, value), np.maximum(auto, value)
    return (
        np.column_stack([act, onboarded, value, success]),
        np.column_stack([act, invited, value, success, auto]),
    )


@dataclass
class Team:
    """The CS team: CSMs owning portfolios by touch model, plus ISMs, farmers, managers and
    support. A few CSMs have left; before their handover day their successor's accounts
    were theirs, so old activities carry their id.
    """

    role: np.ndarray  # index into schema.CSM_ROLES
    active: np.ndarray
    portfolio: np.ndarray  # touch model index a CSM serves, −1 for other roles
    pooled: np.ndarray  # a tech-touch pooled CSM
    successor: np.ndarray  # for inactive CSMs: who took over, else −1
    handover: np.ndarray  # day the successor took over, NaN if active

    @property
    def n(self) -> int:
        return len(self.role)

    def members(self, role: int) -> np.ndarray:
        return np.flatnonzero((self.role == role) & self.active)


def build_team(company: Company, rng: np.random.Generator) -> Team:
    """Staff by portfolio size: high touch ~1 CSM per 30 accounts, low ~1 per 60, tech pooled."""
    counts = np.bincount(company.segment, minlength=3)
    high, low = int(np.ceil(counts[0] / 30)), int(np.ceil(counts[1] / 60))
    pooled = int(np.ceil(counts[2] / 1500))
    owners = high + low
    extra = [max(1, round(owners / k)) for k in (6, 8, 10, 5)]  # ism, farmer, manager, support
    gone = max(1, owners // 5) if owners else 0
    role = np.concatenate([np.zeros(owners + pooled + gone, int)] + [
        np.full(k, r) for r, k in zip((1, 2, 3, 4), extra, strict=True)
    ])
    portfolio = np.full(len(role), -1)
    portfolio[:high], portfolio[high:owners], portfolio[owners:owners + pooled] = 0, 1, 2
    active = np.ones(len(role), bool)
    active[owners + pooled:owners + pooled + gone] = False
    successor = np.full(len(role), -1)
    successor[~active] = rng.integers(0, owners, gone)
    handover = np.full(len(role), np.nan)
    handover[~active] = rng.uniform(0.25, 0.75, gone) * company.window.days
    is_pooled = np.zeros(len(role), bool)
    is_pooled[owners:owners + pooled] = True
    return Team(role, active, portfolio, is_pooled, successor, handover)


def assign_csms(company: Company, team: Team, rng: np.random.Generator) -> None:
    """Each high/low-touch account gets a CSM of its portfolio; 40% of tech ones the pool."""
    csm = np.full(company.n, -1)
    for touch in (0, 1, 2):
        owners = np.flatnonzero(team.portfolio == touch)
        mine = np.flatnonzero(company.segment == touch)
        if touch == 2:
            mine = mine[rng.random(len(mine)) < 0.4]
        if len(owners) and len(mine):
            csm[mine] = owners[rng.integers(0, len(owners), len(mine))]
    company.csm = csm
