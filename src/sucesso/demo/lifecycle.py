"""The customer lifecycle, simulated month by month for all accounts at once.

Each month every customer has a health h = base + drift + onboarding terms:

    base  = 0.55·fit − 0.25·friction − 0.3·pay_risk + touch bonus (high 0.45, low 0.15)
    drift = AR(1) noise (0.75 persistence) with occasional shocks (champion leaves, reorg)
    +0.25 once first value is reached, +0.3 more if within 30 days, −0.8 past 30 days
    without it,
    +0.12 per key feature in use beyond two, −0.6 while an invoice is unpaid.

Health drives what happens next:

- a customer disengages with probability σ(−3.5 − 1.4·h): usage falls ×0.55 a month, then
  within 1–3 months it recovers (more often after a proactive CSM call), cancels silently,
  or files a churn request; a rescue call saves some requests (more for high touch);
- a few leave abruptly (business closed, budget cut), more of those short of money;
- unpaid invoices pile up into a streak; after two or three the account pays up after a
  delinquency call or is cut off (involuntary churn, reason payment_failure);
- healthy customers upgrade plans, add seats and add-ons; unhealthy ones downgrade;
- churned customers sometimes come back months later (reactivation).

The result is what the tables are made from: subscription rows, customer lives, churn
requests, CS activities the simulation itself triggered, and per-month health, engagement
and invoice payment months.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sucesso.demo.columns import Window, price_cents, within
from sucesso.demo.company import PLAN_BASE, PLAN_SEAT, Company, choose_rows, sigmoid

REASONS = (
    "price", "switched_competitor", "low_usage", "missing_feature", "bad_support",
    "business_closed", "budget_cut", "payment_failure", "no_value", "other", "unknown",
)
GENERIC_REASONS = ("no_value", "other", "unknown")
PENDING, RECOVERED, CHURNED = 0, 1, 2  # index into schema.CHURN_OUTCOMES
TRIGGERS = ("proactive_call", "rescue_call", "follow_up", "delinquency_call", "expansion_meeting")
ADDONS = ("addon_whatsapp", "addon_bi", "addon_api")
ADDON_PRICE = np.array([[990.0, 2990.0], [299.0, 799.0], [79.0, 199.0]])  # by segment
PROSPECT, ACTIVE, LEAVING, GONE, UNDECIDED = range(5)
TOUCH_BONUS = np.array([0.45, 0.15, 0.0])
RESCUE_CALL = np.array([1.0, 0.85, 0.4])  # chance a churn request gets a rescue call
PROACTIVE_CALL = np.array([0.9, 0.6, 0.15])  # chance a usage drop gets a proactive call
DECIDE = np.array([0.0, 0.0, 0.45, 0.6, 1.0, 1.0])  # by months disengaged


@dataclass
class Lifecycle:
    subscriptions: dict[str, np.ndarray]  # account plan addon mrr quantity start end
    lives: dict[str, np.ndarray]  # account start end: spans as a customer (end NaN = still)
    requests: dict[str, np.ndarray]  # account requested decided outcome voluntary reason
    triggers: dict[str, np.ndarray]  # account day kind
    health: np.ndarray  # (accounts, months) as observed at the end of each month
    engagement: np.ndarray  # (accounts, months) usage multiplier
    paid_month: np.ndarray  # (accounts, months) month paying what was billed then; −1 never
    plan: np.ndarray  # latest main plan, −1 if never a customer
    seats: np.ndarray

    def spans(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Per account and month, the [lo, hi) days it was a customer (lo = hi when not)."""
        n, months = self.health.shape
        lo, hi = np.zeros((n, months)), np.zeros((n, months))
        acc, start = self.lives["account"], self.lives["start"]
        end = np.where(np.isnan(self.lives["end"]), window.days, self.lives["end"])
        for m in range(months):
            a = np.maximum(start, window.month_starts[m])
            b = np.minimum(end, window.month_starts[m + 1])
            ok = b > a
            lo[acc[ok], m], hi[acc[ok], m] = a[ok], b[ok]
        return lo, hi


class _Log:
    """Rows appended a few at a time, concatenated column-wise at the end."""

    def __init__(self, *fields: str) -> None:
        self.parts: dict[str, list[np.ndarray]] = {f: [] for f in fields}

    def add(self, **cols: np.ndarray | float) -> None:
        sizes = [np.size(v) for v in cols.values() if np.ndim(v)]
        size = sizes[0] if sizes else 1
        for name in self.parts:
            self.parts[name].append(np.broadcast_to(np.asarray(cols[name]), (size,)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.parts.items()}


def simulate(company: Company, rng: np.random.Generator) -> Lifecycle:
    """Run the monthly lifecycle over the company's window."""
    return _Simulation(company, rng).run()


class _Simulation:
    def __init__(self, c: Company, rng: np.random.Generator) -> None:
        n, months = c.n, c.window.months
        self.c, self.w, self.rng = c, c.window, rng
        self.base = 0.55 * c.fit - 0.25 * c.friction - 0.3 * c.pay_risk + TOUCH_BONUS[c.segment]
        self.begins = np.where(np.isnan(c.start), -1, c.window.month_of(np.nan_to_num(c.start)))
        self.phase = np.full(n, PROSPECT)
        self.k = np.zeros(n, int)  # months disengaged
        self.drift = np.zeros(n)
        self.streak = np.zeros(n, int)
        self.factor = np.ones(n)
        self.called = np.zeros(n, bool)
        self.plan, self.seats = np.full(n, -1), c.seats.copy()
        self.mrr = np.zeros(n, np.int64)
        self.main_start = np.full(n, np.nan)
        self.life_start = np.full(n, np.nan)
        self.addon, self.addon_mrr = np.full(n, -1), np.zeros(n, np.int64)
        self.addon_start = np.full(n, np.nan)
        self.ending = np.full(n, np.nan)
        self.gone_month, self.may_return = np.full(n, -99), np.ones(n, bool)
        self.involuntary = np.zeros(n, bool)
        self.health = np.zeros((n, months), np.float32)
        self.engagement = np.zeros((n, months), np.float32)
        self.paid_month = np.zeros((n, months), np.int16)
        self.subs = _Log("account", "plan", "addon", "mrr", "quantity", "start", "end")
        self.lives = _Log("account", "start", "end")
        self.requests = _Log("account", "requested", "decided", "outcome", "voluntary", "reason")
        self.triggers = _Log("account", "day", "kind")

    def run(self) -> Lifecycle:
        for m in range(self.w.months):
            self._month(m)
        self._close_open()
        return Lifecycle(
            subscriptions=self.subs.arrays(),
            lives=self.lives.arrays(),
            requests=self.requests.arrays(),
            triggers=self.triggers.arrays(),
            health=self.health,
            engagement=self.engagement,
            paid_month=self.paid_month,
            plan=self.plan,
            seats=self.seats,
        )

    # -- one month ---------------------------------------------------------------------------

    def _month(self, m: int) -> None:
        self._start(m)
        h = self._health(m)
        live = np.isin(self.phase, (ACTIVE, LEAVING, UNDECIDED))
        settled = live & (self.life_start < self.w.month_starts[m])
        self.ending[:] = np.nan
        self._bill(m, h, live, settled)
        calm = settled & np.isnan(self.ending)
        self._decide(m, h, calm & (self.phase == LEAVING))
        entered = self._disengage(m, h, calm & (self.phase == ACTIVE))
        staying = calm & (self.phase == ACTIVE) & np.isnan(self.ending) & ~entered
        self._change_plans(m, h, staying)
        self._end(m)
        self._reactivate(m)
        since = self.w.month_starts[m] + 15 - self.c.start
        ramp = np.where(since < 30, 0.6, 1.0)
        self.health[:, m] = h - 0.5 * self.k
        self.engagement[:, m] = self.factor * ramp
        shock = (self.rng.random(self.c.n) < 0.02) * self.rng.uniform(0.8, 1.6, self.c.n)
        self.drift = 0.75 * self.drift + 0.33 * self.rng.normal(size=self.c.n) - shock

    def _start(self, m: int) -> None:
        new = (self.phase == PROSPECT) & (self.begins == m)
        self.phase[new] = ACTIVE
        self.life_start[new] = self.main_start[new] = self.c.start[new]
        self.plan[new] = self.c.plan[new]
        self.mrr[new] = _price(self.plan[new], self.seats[new])
        self.drift[new] = self.rng.normal(0.0, 0.3, int(new.sum()))

    def _health(self, m: int) -> np.ndarray:
        since = self.w.month_starts[m] + 15 - np.nan_to_num(self.c.start, nan=np.inf)
        value = self.c.milestone("first_value")
        realised = value <= since
        early = value <= 30  # value within a month builds habits that last
        gap = ~realised & (since > 30)
        breadth = (self.c.adoption <= since[:, None]).sum(axis=1)
        return (
            self.base + self.drift + 0.25 * realised + 0.3 * early - 0.8 * gap
            + 0.12 * (breadth - 2) - 0.6 * (self.streak > 0)
        )

    def _bill(self, m: int, h: np.ndarray, live: np.ndarray, settled: np.ndarray) -> None:
        """Did this month's invoices get paid? Streaks of unpaid months end in a payment
        after a delinquency call or in involuntary churn."""
        n, rng = self.c.n, self.rng
        odds = -3.6 + 0.9 * self.c.pay_risk - 0.3 * h + 2.0 * (self.streak > 0)
        unpaid = live & (rng.random(n) < sigmoid(odds))
        self.paid_month[:, m] = np.where(unpaid, -1, m)
        caught_up = live & ~unpaid & (self.streak > 0)  # paid this month's and the arrears
        self.streak = np.where(live & unpaid, self.streak + 1, 0)
        called = np.flatnonzero(unpaid & (rng.random(n) < 0.6))
        day = self.w.month_starts[m] + rng.uniform(12, 26, len(called))
        self._trigger(called, day, "delinquency_call")
        r = rng.random(n)
        long = settled & (self.streak >= 3)
        pays = settled & (((self.streak == 2) & (r < 0.5)) | (long & (r < 0.3)))
        cut = settled & (((self.streak == 2) & (r >= 0.7)) | (long & (r >= 0.3)))
        for back in range(min(m, 3) + 1):
            column = self.paid_month[:, m - back]
            column[(pays | caught_up) & (column == -1)] = m
        self.streak[pays] = 0
        idx = np.flatnonzero(cut)
        end = self.w.month_starts[m] + rng.uniform(10, 25, len(idx))
        self.ending[idx], self.involuntary[idx] = end, True
        self.factor[idx] *= 0.8
        reason = np.full(len(idx), REASONS.index("payment_failure"))
        self.requests.add(
            account=idx, requested=end - rng.uniform(1, 5, len(idx)), decided=end,
            outcome=CHURNED, voluntary=False, reason=reason,
        )

    def _decide(self, m: int, h: np.ndarray, leaving: np.ndarray) -> None:
        """Disengaged customers recover, cancel silently, or ask to cancel."""
        n, rng = self.c.n, self.rng
        self.k[leaving] += 1
        seg = self.c.segment
        back = leaving & (rng.random(n) < 0.10 + 0.20 * self.called + 0.08 * (seg == 0))
        self.phase[back], self.k[back], self.factor[back] = ACTIVE, 0, 1.0
        self.drift[back] += 0.5
        still = leaving & ~back
        self.factor[still] = 0.55 ** self.k[still]
        young = self.w.month_starts[m] - self.life_start < 120  # little invested yet: quick to go
        decide = np.where(young, np.maximum(DECIDE[np.minimum(self.k, 5)], 0.75), DECIDE[np.minimum(self.k, 5)])
        deciding = still & (rng.random(n) < decide)
        silent = deciding & (rng.random(n) < 0.15)
        idx = np.flatnonzero(silent)
        self.ending[idx] = within(rng, self.w, *self._month_bounds(m, len(idx)))
        asked = np.flatnonzero(deciding & ~silent)
        self._request(m, asked, h, self._voluntary_reasons(asked, m), bias=0.0)

    def _disengage(self, m: int, h: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Abrupt departures, and customers starting to drift away."""
        n, rng, seg = self.c.n, self.rng, self.c.segment
        strain = 0.0025 * np.exp(0.8 * self.c.pay_risk)  # money trouble closes businesses
        abrupt = np.flatnonzero(active & (rng.random(n) < strain))
        closed = rng.random(len(abrupt)) < 0.5
        reason = np.where(closed, REASONS.index("business_closed"), REASONS.index("budget_cut"))
        self._request(m, abrupt, h, reason, bias=np.where(closed, -20.0, -1.0))
        risk = sigmoid(-3.5 - 1.4 * h + np.array([-0.6, 0.0, 0.25])[seg])
        untouched = active.copy()
        untouched[abrupt] = False
        entered = untouched & (rng.random(n) < risk)
        self.phase[entered], self.k[entered], self.factor[entered] = LEAVING, 1, 0.55
        self.called[entered] = rng.random(int(entered.sum())) < PROACTIVE_CALL[seg[entered]]
        idx = np.flatnonzero(entered & self.called)
        self._trigger(idx, within(rng, self.w, *self._month_bounds(m, len(idx))), "proactive_call")
        return entered

    def _request(
        self, m: int, idx: np.ndarray, h: np.ndarray, reason: np.ndarray, bias: np.ndarray | float
    ) -> None:
        """A churn request: a rescue call may save it; undecided at `until` it stays pending."""
        rng, seg = self.rng, self.c.segment[idx]
        requested = within(rng, self.w, *self._month_bounds(m, len(idx)))
        decided = requested + rng.uniform(1.0, 14.0, len(idx))
        called = rng.random(len(idx)) < RESCUE_CALL[seg]
        self._trigger(idx[called], requested[called] + rng.uniform(0.1, 1.0, called.sum()), "rescue_call")
        odds = -0.2 + 0.5 * h[idx] + np.array([0.6, 0.3, -0.2])[seg] + bias
        saved = called & (rng.random(len(idx)) < sigmoid(odds))
        pending = decided >= self.w.days
        outcome = np.where(pending, PENDING, np.where(saved, RECOVERED, CHURNED))
        self.requests.add(
            account=idx, requested=requested, decided=np.where(pending, np.nan, decided),
            outcome=outcome, voluntary=True, reason=reason,
        )
        kept = idx[saved & ~pending]
        self.phase[kept], self.k[kept], self.factor[kept] = ACTIVE, 0, 1.0
        self.drift[kept] += 0.9
        for lo, hi in ((5, 12), (18, 30)):  # 30 days of intensive care
            day = decided[saved & ~pending] + rng.uniform(lo, hi, len(kept))
            self._trigger(kept[day < self.w.days], day[day < self.w.days], "follow_up")
        self.phase[idx[pending]] = UNDECIDED
        lost = outcome == CHURNED
        self.ending[idx[lost]] = decided[lost]
        self.factor[idx[lost]] *= 0.5
        self.may_return[idx[lost]] = reason[lost] != REASONS.index("business_closed")

    def _voluntary_reasons(self, idx: np.ndarray, m: int) -> np.ndarray:
        """Why a disengaged customer says it leaves; some give a generic answer."""
        c = self.c
        since = self.w.month_starts[m] - c.start[idx]
        narrow = (c.adoption[idx] <= since[:, None]).sum(axis=1) <= 2
        no_value = c.milestone("first_value")[idx] > since
        weights = np.zeros((len(idx), len(REASONS)))
        weights[:, 0] = np.array([0.10, 0.15, 0.25])[c.segment[idx]]
        weights[:, 1] = 0.15
        weights[:, 2] = 0.12 + 0.15 * narrow
        weights[:, 3] = 0.13
        weights[:, 4] = 0.04 + 0.20 * (c.friction[idx] > 0.8)
        weights[:, 6] = 0.07
        weights[:, 8] = 0.04 + 0.10 * no_value
        weights[:, 9], weights[:, 10] = 0.05, 0.05
        return choose_rows(weights, self.rng)

    def _change_plans(self, m: int, h: np.ndarray, staying: np.ndarray) -> None:
        """Upgrades (plan or seats), downgrades and add-ons; each is a new subscription row."""
        n, rng = self.c.n, self.rng
        lo = np.fmax(np.fmax(self.main_start, self.addon_start) + 1.0, self.w.month_starts[m])
        hi = self.w.month_starts[m + 1]
        staying = staying & (lo < hi - 0.1)
        day = within(rng, self.w, np.minimum(lo, hi - 0.1), np.full(n, hi))
        up = staying & (rng.random(n) < sigmoid(-4.4 + 0.9 * h))
        down = staying & ~up & (rng.random(n) < sigmoid(-5.3 - 0.9 * h))
        step = rng.random(n) < 0.55
        plan = np.where(up & step & (self.plan < 3), self.plan + 1, self.plan)
        plan = np.where(down & step & (self.plan > 0), plan - 1, plan)
        grow = np.maximum(self.seats + 1, np.round(self.seats * rng.uniform(1.15, 1.6, n)))
        shrink = np.maximum(1, np.minimum(self.seats - 1, np.round(self.seats * rng.uniform(0.6, 0.85, n))))
        seats = np.where(up & (plan == self.plan), grow, np.where(down & (plan == self.plan), shrink, self.seats))
        changed = np.flatnonzero((up | down) & ((plan != self.plan) | (seats != self.seats)))
        self._close_main(changed, day[changed])
        self.plan[changed], self.seats[changed] = plan[changed], seats[changed]
        self.mrr[changed] = _price(plan[changed], seats[changed])
        self.main_start[changed] = day[changed]
        farmer = changed[up[changed] & (self.c.segment[changed] < 2)]
        farmer = farmer[rng.random(len(farmer)) < 0.7]
        self._trigger(farmer, day[farmer] - rng.uniform(2, 20, len(farmer)), "expansion_meeting")
        self._addons(staying & ~up & ~down, day, h)

    def _addons(self, eligible: np.ndarray, day: np.ndarray, h: np.ndarray) -> None:
        n, rng = self.c.n, self.rng
        has = self.addon >= 0
        dropped = np.flatnonzero(eligible & has & (rng.random(n) < 0.03))
        self._close_addon(dropped, day[dropped])
        added = np.flatnonzero(eligible & ~has & (rng.random(n) < sigmoid(-4.8 + 0.8 * h)))
        band = ADDON_PRICE[self.c.segment[added]]
        self.addon[added] = rng.integers(0, len(ADDONS), len(added))
        self.addon_mrr[added] = price_cents(rng.uniform(band[:, 0], band[:, 1]))
        self.addon_start[added] = day[added]

    def _end(self, m: int) -> None:
        idx = np.flatnonzero(~np.isnan(self.ending))
        day = self.ending[idx]
        self._close_main(idx, day)
        self._close_addon(idx[self.addon[idx] >= 0], self.ending[idx[self.addon[idx] >= 0]])
        self.lives.add(account=idx, start=self.life_start[idx], end=day)
        self.phase[idx], self.gone_month[idx], self.k[idx] = GONE, m, 0

    def _reactivate(self, m: int) -> None:
        """Some churned customers come back: more of those cut off for not paying."""
        rng, n = self.rng, self.c.n
        ready = (self.phase == GONE) & (m - self.gone_month >= 3) & self.may_return & (self.c.fit > -1.2)
        back = np.flatnonzero(ready & (rng.random(n) < np.where(self.involuntary, 0.035, 0.012)))
        day = within(rng, self.w, *self._month_bounds(m, len(back)))
        self.phase[back], self.k[back], self.streak[back], self.factor[back] = ACTIVE, 0, 0, 1.0
        self.life_start[back] = self.main_start[back] = day
        self.plan[back] = np.maximum(0, self.plan[back] - (rng.random(len(back)) < 0.4))
        self.mrr[back] = _price(self.plan[back], self.seats[back])
        self.drift[back], self.involuntary[back] = 0.2, False

    # -- bookkeeping -------------------------------------------------------------------------

    def _month_bounds(self, m: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full(size, self.w.month_starts[m]), np.full(size, self.w.month_starts[m + 1])

    def _trigger(self, idx: np.ndarray, day: np.ndarray, kind: str) -> None:
        ok = day < self.w.days
        self.triggers.add(account=idx[ok], day=day[ok], kind=TRIGGERS.index(kind))

    def _close_main(self, idx: np.ndarray, day: np.ndarray) -> None:
        self.subs.add(
            account=idx, plan=self.plan[idx], addon=False, mrr=self.mrr[idx],
            quantity=self.seats[idx], start=self.main_start[idx], end=day,
        )

    def _close_addon(self, idx: np.ndarray, day: np.ndarray) -> None:
        self.subs.add(
            account=idx, plan=self.addon[idx], addon=True, mrr=self.addon_mrr[idx],
            quantity=1, start=self.addon_start[idx], end=day,
        )
        self.addon[idx], self.addon_start[idx] = -1, np.nan

    def _close_open(self) -> None:
        live = np.flatnonzero(np.isin(self.phase, (ACTIVE, LEAVING, UNDECIDED)))
        self._close_main(live, np.full(len(live), np.nan))
        with_addon = live[self.addon[live] >= 0]
        self._close_addon(with_addon, np.full(len(with_addon), np.nan))
        self.lives.add(account=live, start=self.life_start[live], end=np.nan)


def _price(plan: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """Monthly list price in cents: plan base + per seat, shop-window rounded."""
    return price_cents(PLAN_BASE[plan] + PLAN_SEAT[plan] * seats)
