"""The triggers and conditions of playbooks (playbooks.py): what happened, to which customers.

A trigger reads the run's data (RunData: the date T, the health scores and signals of every
customer on the dates it needs, the store) and returns the accounts it fires for, each with
an *occurrence* — what fired, stable from run to run, so the same thing never makes two
tasks — and the facts a task's title and its "why" show.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sucesso.health.signals import SIGNALS
from sucesso.store import Store

ACCOUNT_FIELDS = ("segment", "plan", "touch_model", "country", "csm_id")
FIELDS = (*ACCOUNT_FIELDS, "band", "score", *SIGNALS)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(Strict):
    field: str
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
    value: Any

    @field_validator("field")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; the fields are: {', '.join(FIELDS)}")
        return name

    @model_validator(mode="after")
    def _value_fits(self):
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"`{self.op}` compares with a list of values, got {self.value!r}")
        if self.op in ("<", "<=", ">", ">=") and not isinstance(self.value, int | float):
            raise ValueError(f"`{self.op}` compares with a number, got {self.value!r}")
        return self

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """Rows meeting the condition; a missing value never does."""
        column = frame[self.field] if self.field in frame else pd.Series(None, index=frame.index, dtype="object")
        known = column.notna()
        if self.op == "in":
            hit = column.isin(self.value)
        elif self.op == "not in":
            hit = ~column.isin(self.value)
        else:
            hit = {"==": column == self.value, "!=": column != self.value, "<": column < self.value,
                   "<=": column <= self.value, ">": column > self.value, ">=": column >= self.value}[self.op]
        return known & hit.fillna(False).astype(bool)

    def describe(self) -> str:
        value = ", ".join(map(str, self.value)) if isinstance(self.value, list) else self.value
        return f"{self.field} {self.op} {value}"


@dataclass
class RunData:
    """What a run reads: the date, the scores and signals of every customer on the dates the
    triggers need (`scores`), those of T (`now`, by account), and the store for the rest."""

    store: Store
    as_of: dt.date
    scores: pd.DataFrame
    now: pd.DataFrame
    names: dict[str, str]
    language: str
    currency: str


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _found(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "occurrence", "facts"])


class _Trigger(Strict):
    def dates(self, as_of: dt.date) -> list[dt.date]:
        return [as_of]

    def find(self, data: RunData) -> pd.DataFrame:  # account_id, occurrence, facts
        raise NotImplementedError

    def words(self, facts: dict, _) -> str:
        """What fired, in a sentence in the language of `_` (an i18n gettext)."""
        raise NotImplementedError


class HealthEnteredBand(_Trigger):
    """The score's band became `band` within the last `lookback_days` days (and still is)."""

    kind: Literal["health_entered_band"]
    band: str = "red"
    lookback_days: int = Field(7, ge=1, le=90)

    def dates(self, as_of):
        return [as_of - dt.timedelta(days=d) for d in range(self.lookback_days + 1)]

    def find(self, data):
        window = data.scores.sort_values("as_of")
        rows = []
        for account_id, scored in window.groupby("account_id", sort=False):
            bands = list(zip(scored["as_of"], scored["band"], scored["rounded"], strict=True))
            if bands[-1][0] != data.as_of or bands[-1][1] != self.band:
                continue
            outside = [day for day, band, _ in bands if band != self.band]
            if not outside and len(bands) == self.lookback_days + 1:
                continue  # in the band the whole window: it entered before, an earlier run saw it
            since = next(day for day, _, _ in bands if not outside or day > outside[-1])
            rows.append({"account_id": account_id, "occurrence": f"{self.band} since {since}",
                         "facts": {"score": int(bands[-1][2]), "since": since.isoformat(), "band": self.band}})
        return _found(rows)

    def words(self, facts, _):
        return _("health entered %(band)s on %(since)s (score %(score)s)", band=_(facts["band"]),
                 since=facts["since"], score=facts["score"])


class HealthDropped(_Trigger):
    """The rounded score fell by at least `points` between T − `days` and T."""

    kind: Literal["health_dropped"]
    points: int = Field(20, ge=1, le=100)
    days: int = Field(30, ge=1, le=365)

    def dates(self, as_of):
        return [as_of, as_of - dt.timedelta(days=self.days)]

    def find(self, data):
        then = data.scores[data.scores["as_of"] == data.as_of - dt.timedelta(days=self.days)]
        both = data.now.reset_index().merge(then[["account_id", "rounded"]], on="account_id", suffixes=("", "_then"))
        fell = both[both["rounded_then"] - both["rounded"] >= self.points]
        return _found([{"account_id": r.account_id,
                        "occurrence": f"{int(r.rounded_then)} to {int(r.rounded)} by {data.as_of}",
                        "facts": {"points": int(r.rounded_then - r.rounded), "days": self.days,
                                  "score": int(r.rounded), "before": int(r.rounded_then)}}
                       for r in fell.itertuples()])

    def words(self, facts, _):
        return _("health fell %(points)s points in %(days)s days (%(before)s → %(score)s)", **facts)


class SurveyAnswer(_Trigger):
    """An answer to `survey` with a score in [min_score, max_score] in the last `within_days` days."""

    kind: Literal["survey_answer"]
    survey: Literal["nps", "csat", "ces"] = "nps"
    min_score: float | None = None
    max_score: float | None = None
    within_days: int = Field(7, ge=1, le=365)

    def find(self, data):
        low = -math.inf if self.min_score is None else self.min_score
        high = math.inf if self.max_score is None else self.max_score
        rows = data.store.fetchall(
            "SELECT response_id, account_id, score, answered_at, comment FROM survey_responses "
            "WHERE survey = ? AND answered_at >= ? AND answered_at < ? AND score >= ? AND score <= ?",
            (self.survey, _ts(data.as_of - dt.timedelta(days=self.within_days)), _ts(data.as_of),
             max(low, -1e9), min(high, 1e9)))
        return _found([{"account_id": account, "occurrence": f"{self.survey} answer {response}",
                        "facts": {"score": int(score) if float(score).is_integer() else float(score),
                                  "answered_at": answered.date().isoformat(), "comment": (comment or "")[:500]}}
                       for response, account, score, answered, comment in rows])

    def words(self, facts, _):
        said = _("%(survey)s answer %(score)s on %(answered_at)s", survey=self.survey.upper(), score=facts["score"],
                 answered_at=facts["answered_at"])
        return f"{said}: “{facts['comment']}”" if facts.get("comment") else said


class MilestoneMissing(_Trigger):
    """Created between `up_to_days` and `after_days` days ago and `milestone` not reached yet."""

    kind: Literal["milestone_missing"]
    milestone: str = "activated"
    after_days: int = Field(30, ge=0)
    up_to_days: int = Field(120, ge=1)

    def find(self, data):
        reached = {a for (a,) in data.store.fetchall(
            "SELECT account_id FROM milestones WHERE milestone = ? AND reached_at < ?",
            (self.milestone, _ts(data.as_of)))}
        now = data.now.reset_index()
        created = pd.to_datetime(now["created_at"])
        age = (pd.Timestamp(data.as_of) - created).dt.days
        late = now[(age >= self.after_days) & (age <= self.up_to_days) & ~now["account_id"].isin(reached)]
        due = lambda created: pd.Timestamp(created).date() + dt.timedelta(days=self.after_days)  # noqa: E731
        return _found([{"account_id": r.account_id, "occurrence": f"no {self.milestone} by {due(r.created_at)}",
                        "facts": {"days": int(a), "milestone": self.milestone,
                                  "created_at": pd.Timestamp(r.created_at).date().isoformat()}}
                       for r, a in zip(late.itertuples(), age[late.index], strict=True)])

    def words(self, facts, _):
        return _("%(milestone)s not reached %(days)s days after signing up (%(created_at)s)", **facts)


class NoCsActivity(_Trigger):
    """No CS activity in the last `days` days (the signal days_since_cs_touch)."""

    kind: Literal["no_cs_activity"]
    days: int = Field(45, ge=1)

    def find(self, data):
        now = data.now.reset_index()
        quiet = now[now["days_since_cs_touch"] >= self.days]
        rows = []
        for r in quiet.itertuples():
            last = (_ts(data.as_of) - dt.timedelta(days=float(r.days_since_cs_touch))).date()
            rows.append({"account_id": r.account_id, "occurrence": f"no CS activity since {last}",
                         "facts": {"days": int(r.days_since_cs_touch), "last_activity": last.isoformat()}})
        return _found(rows)

    def words(self, facts, _):
        return _("no CS activity for %(days)s days (the last on %(last_activity)s)", **facts)


class InvoiceOverdue(_Trigger):
    """An invoice past due by more than `grace_days` (up to `max_days`) and unpaid at T — the
    past-due rule of metrics/unit_economics.py."""

    kind: Literal["invoice_overdue"]
    grace_days: int = Field(3, ge=0)
    max_days: int = Field(60, ge=1)

    def find(self, data):
        at = _ts(data.as_of)
        rows = data.store.fetchall(
            "SELECT invoice_id, account_id, amount, due_at FROM invoices WHERE status <> 'void' "
            "AND NOT (status = 'paid' AND paid_at IS NULL) AND issued_at < ? AND due_at < ? AND due_at >= ? "
            "AND (paid_at IS NULL OR paid_at >= ?)",
            (at, at - dt.timedelta(days=self.grace_days), at - dt.timedelta(days=self.max_days), at))
        return _found([{"account_id": account, "occurrence": f"invoice {invoice}",
                        "facts": {"days": (at - due).days, "amount": float(amount), "invoice_id": invoice,
                                  "due_at": due.date().isoformat()}}
                       for invoice, account, amount, due in rows])

    def words(self, facts, _):
        return _("invoice %(invoice_id)s was due on %(due_at)s and is %(days)s days overdue", **facts)


class ChurnRequest(_Trigger):
    """A churn request opened in the last `within_days` days and still pending at T
    (outcome: pending), or decided recovered/churned in the last `within_days` days."""

    kind: Literal["churn_request"]
    outcome: Literal["pending", "recovered", "churned"] = "pending"
    within_days: int = Field(14, ge=1)

    def find(self, data):
        at, since = _ts(data.as_of), _ts(data.as_of - dt.timedelta(days=self.within_days))
        if self.outcome == "pending":
            sql = ("SELECT request_id, account_id, reason_code, requested_at FROM churn_requests "
                   "WHERE requested_at >= ? AND requested_at < ? AND (outcome = 'pending' OR decided_at >= ?)")
            params = (since, at, at)
        else:
            sql = ("SELECT request_id, account_id, reason_code, requested_at FROM churn_requests "
                   "WHERE outcome = ? AND decided_at >= ? AND decided_at < ?")
            params = (self.outcome, since, at)
        return _found([{"account_id": account, "occurrence": f"churn request {request} {self.outcome}",
                        "facts": {"reason": reason, "request_id": request,
                                  "requested_at": requested.date().isoformat()}}
                       for request, account, reason, requested in data.store.fetchall(sql, params)])

    def words(self, facts, _):
        if self.outcome == "pending":
            return _("asked to cancel on %(requested_at)s (reason: %(reason)s)", **facts)
        return _("the churn request of %(requested_at)s was decided: %(outcome)s", outcome=_(self.outcome), **facts)


class RenewalDue(_Trigger):
    """The renewal date falls in [T, T + `within_days`]: the account attribute `date_attribute`
    (an ISO date) when it has one, else the next anniversary of the start of the customer's
    current paid life (the schema keeps no contract end; annual contracts renew on it)."""

    kind: Literal["renewal_due"]
    within_days: int = Field(60, ge=1, le=366)
    date_attribute: str = "renewal_date"

    def find(self, data):
        from sucesso.insight.lives import lives

        spans = lives(data.store)
        at = pd.Timestamp(data.as_of)
        current = spans[(spans["started_at"] < at) & (spans["ended_at"].isna() | (spans["ended_at"] >= at))]
        started = dict(zip(current["account_id"], current["started_at"], strict=True))
        rows = []
        for r in data.now.reset_index().itertuples():
            due = _attribute_date(r.attributes, self.date_attribute)
            if due is None and r.account_id in started:
                due = _next_anniversary(started[r.account_id].date(), data.as_of)
            if due is not None and 0 <= (due - data.as_of).days <= self.within_days:
                rows.append({"account_id": r.account_id, "occurrence": f"renewal {due}",
                             "facts": {"date": due.isoformat(), "days": (due - data.as_of).days}})
        return _found(rows)

    def words(self, facts, _):
        return _("renews on %(date)s, in %(days)s days", **facts)


class Signals(_Trigger):
    """The account meets every condition of one of the groups in `any`; once a month at most."""

    kind: Literal["signals"]
    any: list[list[Condition]] = Field(min_length=1)

    def find(self, data):
        now = data.now.reset_index()
        hit = pd.Series(False, index=now.index)
        for group in self.any:
            mask = pd.Series(True, index=now.index)
            for condition in group:
                mask &= condition.mask(now)
            hit |= mask
        fields = sorted({c.field for group in self.any for c in group})
        return _found([{"account_id": r["account_id"], "occurrence": f"signals {data.as_of:%Y-%m}",
                        "facts": {f: plain(r[f]) for f in fields if f in r}}
                       for r in now[hit].to_dict("records")])

    def words(self, facts, _):
        return _("signals: %(values)s", values=", ".join(f"{k} = {v}" for k, v in facts.items()))


Trigger = Annotated[HealthEnteredBand | HealthDropped | SurveyAnswer | MilestoneMissing | NoCsActivity
                    | InvoiceOverdue | ChurnRequest | RenewalDue | Signals, Field(discriminator="kind")]


def _attribute_date(attributes: str | None, key: str) -> dt.date | None:
    if not attributes:
        return None
    try:
        value = json.loads(attributes).get(key)
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except (ValueError, AttributeError):
        return None


def _next_anniversary(start: dt.date, on: dt.date) -> dt.date:
    """The first anniversary of `start` on or after `on` (29 February renews on 28 February)."""
    year = max(on.year, start.year + 1)
    while True:
        day = dt.date(year, start.month, min(start.day, 28) if start.month == 2 else start.day)
        if day >= on:
            return day
        year += 1


def plain(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 4) if isinstance(value, float) else value


def why_words(why: dict, _) -> list[str]:
    """A task's "why was this created?" in sentences: the playbook, what fired, the conditions."""
    from pydantic import TypeAdapter

    if not why:
        return [_("created by a person")]
    trigger = TypeAdapter(Trigger).validate_python(why["trigger"])
    said = [_("Playbook %(name)s: %(description)s", name=why["playbook"], description=why.get("description") or ""),
            _("On %(as_of)s: %(what)s.", as_of=why["as_of"], what=trigger.words(why["facts"], _))]
    if why.get("when"):
        said.append(_("Conditions met: %(conditions)s.", conditions="; ".join(why["when"])))
    seen = why.get("seen") or {}
    if seen.get("score") is not None:
        said.append(_("Health then: %(score)s (%(band)s).", score=seen["score"], band=_(seen.get("band") or "")))
    return said
