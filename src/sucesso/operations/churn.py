"""Churn requests: the reasons the team records (a taxonomy it edits), the rescue pipeline
(open a request, decide it, list them) and what the decided ones say (reasons ranked, rescue rate).

The taxonomy is a YAML file (default_reasons.yaml documents it) adopted into the workspace
setting `churn_reasons`, as the health model is. Its `generic` policy says what becomes of a
generic reason — one that says nothing the team can act on, such as "other": refuse, flag or allow.

Readings that keep the numbers the same everywhere:
- The counts and the lost MRR are METRICS.md's churn_reasons, churn_requests and
  churn_rescue_rate, read through metrics.api; this module adds labels, kinds and flags.
- Generic: the metric flags unknown, other, no_value and did_not_want_to_pay
  (metrics.operations.GENERIC_REASONS) and the default taxonomy marks exactly those. When a
  team's taxonomy says otherwise, it wins for the codes it lists; the metric's list speaks only
  for codes the taxonomy does not have.
- A code outside the taxonomy cannot be given by a person (the error lists the known ones), but
  an import keeps it and flags it, whatever the policy: teams import their history with their
  old codes. Codes are compared in lower case, as the metric compares them.
- Flagged: a request whose code is not in the taxonomy ("unknown"), or is generic while the
  policy is flag or refuse ("generic": under refuse, one imported before the policy changed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sucesso.ingest import write_batches
from sucesso.ingest.validate import Verdict, column_rule
from sucesso.store import Store, get_setting, set_setting
from sucesso.store.schema import arrow_schema, table
from sucesso.yamlfile import YamlFileError, line_of, read_mapping, validate

SETTING = "churn_reasons"
DECISIONS = ("recovered", "churned")
OUTCOMES = ("pending", *DECISIONS)
REQUESTS = table("churn_requests")


class ChurnError(ValueError):
    """A request that cannot be opened or decided, said so a person can act on it. `message`
    is English with %(name)s fields filled from `params`, so surfaces can translate it."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params

    def translated(self, gettext) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


# -- the taxonomy -----------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$", max_length=255)
    label_en: str = Field(min_length=1)
    label_pt_BR: str = Field(min_length=1)
    kind: Literal["voluntary", "involuntary"]
    generic: bool = False

    def label(self, language: str) -> str:
        return self.label_pt_BR if language == "pt_BR" else self.label_en


class _File(_Strict):
    generic: Literal["refuse", "flag", "allow"] = "flag"
    reasons: list[Reason] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_specific(self):
        if all(r.generic for r in self.reasons):
            raise ValueError("at least one reason must not be generic, or no request could say why")
        return self


def normal(code) -> str:
    return str(code).strip().lower()


@dataclass
class Taxonomy:
    """The reasons by code, the policy for generic ones (refuse, flag, allow) and the file's text."""

    policy: str
    reasons: dict[str, Reason]
    text: str

    def find(self, code) -> Reason | None:
        return self.reasons.get(normal(code))

    def label(self, code, language: str) -> str:
        reason = self.find(code)
        return reason.label(language) if reason else str(code)

    def flag(self, code) -> str | None:
        """Why a request with this code is flagged — "unknown", "generic" — or None."""
        reason = self.find(code)
        if reason is None:
            return "unknown"
        return "generic" if reason.generic and self.policy != "allow" else None

    def specific(self) -> str:
        return ", ".join(code for code, r in self.reasons.items() if not r.generic)

    def accept(self, code: str) -> Reason:
        """The reason a person gives for a new request, or ChurnError (an unknown code; a generic
        one when the policy is refuse)."""
        reason = self.find(code)
        if reason is None:
            raise ChurnError("unknown churn reason %(reason)r; the reasons are: %(known)s", reason=code,
                             known=", ".join(self.reasons))
        if reason.generic and self.policy == "refuse":
            raise ChurnError("%(reason)r is too generic: say what the customer said (%(specific)s); the team refuses "
                             "generic reasons", reason=reason.code, specific=self.specific())
        return reason


def default_text() -> str:
    return resources.files("sucesso.operations").joinpath("default_reasons.yaml").read_text(encoding="utf-8")


def load_taxonomy(text: str | None = None, source: str = "the default churn reasons") -> Taxonomy:
    """Read a taxonomy file's text (None: the shipped default); YamlFileError lists every problem
    with its line."""
    text = default_text() if text is None else text
    data, lines = read_mapping(text, source, "a churn reasons file is a mapping (generic:, reasons:)")
    problems: list[str] = []
    parsed = validate(_File, data, (), lines, source, problems)
    first: dict[str, int] = {}
    for i, reason in enumerate(parsed.reasons if parsed else ()):
        if reason.code in first:
            problems.append(f"{source}, line {line_of(('reasons', i, 'code'), lines)}: reasons.{i}.code: "
                            f"{reason.code!r} is already reasons.{first[reason.code]}")
        first.setdefault(reason.code, i)
    if problems:
        raise YamlFileError("\n".join(problems))
    return Taxonomy(parsed.generic, {r.code: r for r in parsed.reasons}, text)


def workspace_taxonomy(store: Store) -> Taxonomy:
    """The taxonomy the workspace uses: the one adopted with `sucesso churn taxonomy FILE`, or the default."""
    return load_taxonomy(get_setting(store, SETTING) or None, "the workspace's churn reasons")


def adopt_taxonomy(store: Store, taxonomy: Taxonomy | None) -> None:
    """Keep `taxonomy` as the workspace's (None: back to the default)."""
    set_setting(store, SETTING, taxonomy.text if taxonomy else "")


@column_rule("churn_requests", "reason_code")
def imported_reasons(store: Store, counts: dict[str, int]) -> Verdict:
    """Imported reason codes against the workspace's taxonomy: generic ones are refused under
    `refuse` and counted in a note under `flag`; codes it does not have are kept and counted."""
    taxonomy = workspace_taxonomy(store)
    generic = {v: n for v, n in counts.items() if taxonomy.flag(v) == "generic"}
    unknown = {v: n for v, n in counts.items() if taxonomy.flag(v) == "unknown"}
    verdict = Verdict()
    if taxonomy.policy == "refuse":
        expected = f"a reason that says why (the team refuses generic reasons): one of {taxonomy.specific()}"
        verdict.refused, generic = dict.fromkeys(generic, expected), {}

    def note(found: dict[str, int], what: str) -> None:
        if found:
            each = ", ".join(f"{v} ×{n:,}" for v, n in sorted(found.items()))
            verdict.notes.append(f"{sum(found.values()):,} churn requests {what} ({each}): imported and flagged")

    note(generic, "with a generic reason")
    note(unknown, "with a reason not in the workspace's churn reasons (`sucesso churn taxonomy`)")
    return verdict


# -- the pipeline -----------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _instant(value: dt.datetime | dt.date | None) -> dt.datetime:
    if value is None:
        return _now()
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _write(store: Store, row: dict) -> None:
    """One row through the importer's checks and upsert, as every write to a canonical table."""
    schema = arrow_schema(REQUESTS, list(row))
    report = write_batches(store, REQUESTS.name, [pa.RecordBatch.from_pylist([row], schema=schema)],
                           label="churn request")
    if not report.written:
        raise ChurnError("; ".join(str(p) for p in report.problems))


def account_csm(store: Store, account_id: str) -> str | None:
    """The account's CSM (who may act on its requests, with admins and managers), or ChurnError."""
    rows = store.fetchall("SELECT csm_id FROM accounts WHERE account_id = ?", (account_id,))
    if not rows:
        raise ChurnError("no account %(account)r in the workspace", account=account_id)
    return rows[0][0]


def open_request(store: Store, account_id: str, reason_code: str, voluntary: bool | None = None,
                 detail: str | None = None, requested_at: dt.datetime | dt.date | None = None) -> str:
    """Record that the account asked to leave, for a reason of the workspace's taxonomy (voluntary
    or not from the reason's kind, unless told); a pending request, whose id is returned. An
    account has one pending request at a time."""
    reason = workspace_taxonomy(store).accept(reason_code)
    with store.transaction():
        account_csm(store, account_id)
        pending = store.fetchall("SELECT request_id FROM churn_requests WHERE account_id = ? AND outcome = 'pending'",
                                 (account_id,))
        if pending:
            raise ChurnError("%(account)r already has a pending churn request, %(request)s: decide it first",
                             account=account_id, request=pending[0][0])
        request_id = f"cr_{uuid.uuid4().hex[:12]}"
        _write(store, {"request_id": request_id, "account_id": account_id, "requested_at": _instant(requested_at),
                       "reason_code": reason.code, "reason_detail": (detail or "").strip() or None,
                       "voluntary": reason.kind == "voluntary" if voluntary is None else voluntary,
                       "outcome": "pending", "decided_at": None})
    return request_id


def decide(store: Store, request_id: str, outcome: str, decided_at: dt.datetime | dt.date | None = None) -> None:
    """A pending request ends: the customer was recovered, or churned. Deciding twice is an error."""
    if outcome not in DECISIONS:
        raise ChurnError("a churn request is decided as recovered or churned, not %(outcome)r", outcome=outcome)
    with store.transaction():
        rows = store.fetchall("SELECT requested_at, outcome, decided_at FROM churn_requests WHERE request_id = ?",
                              (request_id,))
        if not rows:
            raise ChurnError("no churn request %(request)r", request=request_id)
        requested_at, current, when = rows[0]
        if current != "pending":
            raise ChurnError("churn request %(request)r was already decided: %(outcome)s on %(day)s",
                             request=request_id, outcome=current, day=f"{when:%Y-%m-%d}" if when else "?")
        decided_at = _instant(decided_at)
        if decided_at < requested_at:
            raise ChurnError("a churn request is decided on or after it was made (%(requested)s), not on %(day)s",
                             requested=f"{requested_at:%Y-%m-%d %H:%M}", day=f"{decided_at:%Y-%m-%d %H:%M}")
        _write(store, {"request_id": request_id, "requested_at": requested_at, "outcome": outcome,
                       "decided_at": decided_at})


REQUEST_SQL = """
SELECT r.request_id, r.account_id, a.name AS account_name, a.segment, a.csm_id, c.name AS csm_name, r.requested_at,
       r.reason_code, r.reason_detail, r.voluntary, r.outcome, r.decided_at,
       (SELECT sum(s.mrr) FROM subscriptions s WHERE s.account_id = r.account_id AND s.started_at < r.requested_at
          AND (s.ended_at IS NULL OR s.ended_at >= r.requested_at)) AS mrr
FROM churn_requests r JOIN accounts a ON a.account_id = r.account_id LEFT JOIN csms c ON c.csm_id = a.csm_id
"""


def requests(store: Store, outcome: str | None = None, account_id: str | None = None, *,
             reason_code: str | None = None, csm_id: str | None = None, segment: str | None = None,
             request_id: str | None = None, language: str = "en", as_of: dt.date | None = None) -> list[dict]:
    """Churn requests, oldest first, each with its account's name, segment and CSM, the MRR at
    request (MRR(a, requested_at) as churn_reasons reads it: the subscriptions running just before
    the request), its age in days (to the decision, or to `as_of`: today, or the day after the
    data ends), the reason's label in `language`, kind, generic and why it is flagged (or None)."""
    from sucesso.metrics.registry import NO_GROUP

    where, params = [], []
    for sql, value in (("r.outcome = ?", outcome), ("r.account_id = ?", account_id),
                       ("lower(r.reason_code) = ?", reason_code and normal(reason_code)), ("a.csm_id = ?", csm_id),
                       ("r.request_id = ?", request_id)):
        if value is not None:
            where.append(sql)
            params.append(value)
    if segment:
        where.append("a.segment IS NULL" if segment == NO_GROUP else "a.segment = ?")
        params += [] if segment == NO_GROUP else [segment]
    rows, columns = store.fetchall_with_columns(
        REQUEST_SQL + (f"WHERE {' AND '.join(where)} " if where else "") + "ORDER BY r.requested_at, r.request_id",
        params)
    taxonomy = workspace_taxonomy(store)
    today = _instant(as_of or _default_day(store))
    return [_described(dict(zip(columns, row, strict=True)), taxonomy, language, today) for row in rows]


def request(store: Store, request_id: str, language: str = "en") -> dict:
    """One request as `requests` has it, or ChurnError."""
    found = requests(store, request_id=request_id, language=language)
    if not found:
        raise ChurnError("no churn request %(request)r", request=request_id)
    return found[0]


def _default_day(store: Store) -> dt.date:
    from sucesso.health.history import default_as_of

    return default_as_of(store)


def _described(row: dict, taxonomy: Taxonomy, language: str, today: dt.datetime) -> dict:
    reason = taxonomy.find(row["reason_code"])
    end = row["decided_at"] if row["outcome"] != "pending" and row["decided_at"] else today
    return {**row, "mrr": float(row["mrr"] or 0), "age_days": max(0, (end - row["requested_at"]).days),
            "reason_label": taxonomy.label(row["reason_code"], language), "kind": reason.kind if reason else None,
            "generic": reason.generic if reason else None, "flagged": taxonomy.flag(row["reason_code"])}


# -- what the decided requests say ------------------------------------------------------------
def reasons(store: Store, first_month: str, last_month: str, segment: str | None = None,
            language: str = "en") -> list[dict]:
    """Churn requests decided from first_month to last_month per reason — METRICS.md churn_reasons
    summed over the months: requests, and lost MRR (the MRR at request of those that churned) —
    with each one's rank by requests and by lost MRR (1 = most; ties share a rank), the label in
    `language`, kind (None when not in the taxonomy), generic and flagged. Most lost MRR first."""
    from sucesso.metrics.api import breakdown
    from sucesso.metrics.registry import NO_GROUP

    frame = breakdown(store, "churn_reasons", first_month, last_month, by="segment" if segment else None)
    if segment:
        frame = frame[frame["segment"].fillna(NO_GROUP) == segment]
    taxonomy = workspace_taxonomy(store)
    totals: dict[str, dict] = {}
    for r in frame.to_dict("records"):
        t = totals.setdefault(normal(r["reason_code"]), {"requests": 0, "lost_mrr": 0.0, "generic": False})
        t["requests"] += int(r["requests"])
        t["lost_mrr"] += float(r["lost_mrr"])
        t["generic"] |= bool(r["generic"])
    rows = []
    for code, t in totals.items():
        reason = taxonomy.find(code)
        rows.append({"reason_code": code, "label": taxonomy.label(code, language),
                     "kind": reason.kind if reason else None, "generic": reason.generic if reason else t["generic"],
                     "flagged": taxonomy.flag(code), "requests": t["requests"], "lost_mrr": round(t["lost_mrr"], 2)})
    for key in ("requests", "lost_mrr"):
        for r in rows:
            r[f"rank_by_{key}"] = 1 + sum(other[key] > r[key] for other in rows)
    return sorted(rows, key=lambda r: (-r["lost_mrr"], -r["requests"], r["reason_code"]))


def rescue_rate_by_month(store: Store, first_month: str, last_month: str, segment: str | None = None) -> list[dict]:
    """Per month: the churn requests decided in it and the share recovered (METRICS.md
    churn_requests and churn_rescue_rate; None when none was decided)."""
    from sucesso.metrics.api import kpi_rows
    from sucesso.metrics.registry import NO_GROUP

    rows = kpi_rows(store, ["churn_requests", "churn_rescue_rate"], first_month, last_month,
                    by="segment" if segment else None)
    if segment:
        rows = [r for r in rows if (NO_GROUP if r["segment"] is None else r["segment"]) == segment]
    return [{"period": r["period"], "decided": r["churn_requests"], "rescue_rate": r["churn_rescue_rate"]}
            for r in rows]
