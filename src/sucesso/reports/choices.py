"""What a success review is about, chosen from what a person typed: the account (an id, or an
exact name), the period [start, end) and the customer's language."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass

from babel import Locale

from sucesso.health.history import default_as_of
from sucesso.i18n import LANGUAGES, normalise
from sucesso.metrics.periods import add_months, align
from sucesso.store import get_setting

BRAZIL = {"brazil", "brasil", "br", "bra"}


class AccountNotFound(LookupError):
    """No account has this id or name, or several have this name (`matches` holds their ids)."""

    def __init__(self, ref: str, matches: list[str] | None = None):
        self.ref, self.matches = ref, matches or []
        found = f"several accounts are named {ref!r}: {', '.join(self.matches)}" if self.matches else \
            f"no account {ref!r} in the workspace"
        super().__init__(found)


def find_account(store, ref: str) -> str:
    """The account_id of `ref`: an account_id, else the exact name of one account."""
    if store.fetchall("SELECT 1 FROM accounts WHERE account_id = ?", (ref,)):
        return ref
    named = [r[0] for r in store.fetchall("SELECT account_id FROM accounts WHERE name = ? ORDER BY account_id",
                                          (ref,))]
    if len(named) == 1:
        return named[0]
    raise AccountNotFound(ref, named)


@dataclass(frozen=True)
class ReviewSpan:
    """The period [start, end) a review covers; kind is quarter, month, year or dates."""

    start: dt.date
    end: dt.date
    kind: str
    label: str  # 2026-Q3, 2026-09, 2026 or 2026-07-01_2026-10-01: in file names and the JSON

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


PERIOD = re.compile(r"(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>\d{2}))?")


def review_span(store, period: str | None = None, start: str | dt.date | None = None,
                end: str | dt.date | None = None, today: dt.date | None = None) -> ReviewSpan:
    """A period as 2026-Q3, 2026-09 or 2026; or dates from `start` to `end` (exclusive,
    YYYY-MM-DD); or by default the last full quarter of the workspace's data (it may end in
    the past: health.history.default_as_of)."""
    if period and (start or end):
        raise ValueError("give a period or --from and --to, not both")
    if start or end:
        if not (start and end):
            raise ValueError("give both --from and --to (YYYY-MM-DD; --to is the day after the last)")
        first, stop = _day(start), _day(end)
        if stop <= first:
            raise ValueError(f"--to ({stop}) must come after --from ({first})")
        return ReviewSpan(first, stop, "dates", f"{first}_{stop}")
    if period:
        return _named_period(period.strip())
    first = add_months(align(default_as_of(store, today), "quarter"), -3)
    return _quarter(first)


def _day(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _named_period(text: str) -> ReviewSpan:
    m = PERIOD.fullmatch(text)
    if not m or (m["month"] and not 1 <= int(m["month"]) <= 12):
        raise ValueError(f"expected a period as 2026-Q3, 2026-09 or 2026, got {text!r}")
    year = int(m["year"])
    if m["quarter"]:
        return _quarter(dt.date(year, 3 * int(m["quarter"]) - 2, 1))
    if m["month"]:
        first = dt.date(year, int(m["month"]), 1)
        return ReviewSpan(first, add_months(first, 1), "month", text)
    return ReviewSpan(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), "year", text)


def _quarter(first: dt.date) -> ReviewSpan:
    return ReviewSpan(first, add_months(first, 3), "quarter", f"{first.year}-Q{(first.month - 1) // 3 + 1}")


def review_language(store, account: dict, lang: str | None = None) -> str:
    """en or pt_BR: `lang`, else the account's attributes `language` / `locale`, else its
    country (Brazil → pt_BR, any other country → en), else the workspace's locale."""
    if lang:
        chosen = normalise(lang, default="")
        if chosen not in LANGUAGES:
            raise ValueError(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        return chosen
    attributes = _attributes(account.get("attributes"))
    for key in ("language", "locale"):
        if chosen := normalise(str(attributes.get(key) or ""), default=""):
            return chosen
    country = str(account.get("country") or "").strip().lower()
    if country in BRAZIL:
        return "pt_BR"
    if country in _countries():
        return "en"
    return normalise(get_setting(store, "locale"))


def _attributes(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@functools.cache
def _countries() -> frozenset[str]:
    """Country codes and names (English and Portuguese, lower case) that Babel knows."""
    known = set()
    for language in ("en", "pt"):
        for code, name in Locale.parse(language).territories.items():
            if code.isalpha():
                known.update((code.lower(), name.lower()))
    return frozenset(known)
