"""A metric is a small declaration: key, family, unit, lead/lag tag, and an Ibis expression.

The expression reads one *frame*: an Ibis table with one row per period (and group) that a
family module builds from the canonical tables (`@frame`). Adding a KPI means adding one
decorated function (and its test); the evaluator finds it by its key.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from sucesso.metrics.periods import STEP, Period

UNITS = ("money", "rate", "count", "number", "hours", "days", "text")
FAMILIES = ("revenue", "retention", "unit_economics", "satisfaction", "support", "adoption", "operations")
GROUPS = {"segment": "segment", "plan": "plan", "csm": "csm_id", "touch_model": "touch_model",
          "country": "country"}
NO_GROUP = "—"  # how a page lists the accounts without a segment, CSM… (their group is null)
DEFAULT_SETTINGS = {
    "gross_margin": 1.0,
    "activation_days": 30,
    "active_days": 30,
    "coverage_days": 90,
    "nps_zones": ((-100, 0, "critica"), (1, 50, "aperfeicoamento"), (51, 75, "qualidade"), (76, 100, "excelencia")),
}


@dataclass(frozen=True)
class Metric:
    key: str
    family: str
    frame: str
    unit: str
    tag: str  # "L" leading, "G" lagging
    expression: Callable[[ir.Table], ir.Value]
    formula: str

    def __call__(self, t: ir.Table) -> ir.Value:
        return self.expression(t).name(self.key)


METRICS: dict[str, Metric] = {}
FRAMES: dict[str, Callable[[Context], ir.Table]] = {}


def metric(key: str, *, frame: str, unit: str, tag: str) -> Callable:
    """Declare a KPI; the module it lives in is its family."""

    def register(fn: Callable[[ir.Table], ir.Value]) -> Callable:
        family = fn.__module__.rsplit(".", 1)[-1]
        assert unit in UNITS and tag in "LG" and family in FAMILIES, (key, unit, tag, family)
        assert key not in METRICS, f"{key} declared twice"
        METRICS[key] = Metric(key, family, frame, unit, tag, fn, inspect.getdoc(fn) or "")
        return fn

    return register


def frame(name: str) -> Callable:
    def register(fn: Callable[[Context], ir.Table]) -> Callable:
        FRAMES[name] = fn
        return fn

    return register


def ratio(numerator: ir.Value, denominator: ir.Value) -> ir.Value:
    """numerator / denominator as a fraction; null when the denominator is zero or null."""
    return numerator.cast("float64") / denominator.cast("float64").nullif(0)


@dataclass
class Context:
    """What a frame needs: the canonical tables, the periods, the grouping, the settings."""

    backend: object
    periods: list[Period]
    by: str | None = None
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    _frames: dict[str, ir.Table] = field(default_factory=dict)
    accounts: tuple[str, ...] | ir.Column | None = None  # only these accounts' rows (ids, or a column of them)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Drop the shared tables this evaluation computed (use the Context in a `with`)."""
        for t in self._frames.values():
            t.release()
        self._frames.clear()

    def table(self, name: str) -> ir.Table:
        t = self.backend.table(name)
        if self.accounts is not None and "account_id" in t.columns:
            t = t.filter(t.account_id.isin(self.accounts))
        return t

    @property
    def periods_per_year(self) -> int:
        return 12 // STEP[self.periods[0].kind] if self.periods else 12

    @property
    def keys(self) -> list[str]:
        """The columns that identify a frame row: the period index, and the group if any."""
        return ["idx", "grp"] if self.by else ["idx"]

    def period_table(self) -> ir.Table:
        """idx, start, end (timestamps), one row per period."""
        return ibis.memtable(pd.DataFrame({
            "idx": [p.index for p in self.periods],
            "start": [pd.Timestamp(p.start) for p in self.periods],
            "end": [pd.Timestamp(p.end) for p in self.periods],
        }))

    def instants(self, when: Callable[[Period], dt.date]) -> ir.Table:
        """idx, t: one instant per period, e.g. `lambda p: p.end`."""
        return ibis.memtable(pd.DataFrame({
            "idx": [p.index for p in self.periods],
            "t": [pd.Timestamp(when(p)) for p in self.periods],
        }))

    def groups(self) -> ir.Table:
        """account_id, grp: the account's group for --by (its current attributes)."""
        accounts = self.table("accounts")
        return accounts.select("account_id", grp=accounts[GROUPS[self.by]] if self.by else ibis.null("string"))

    def frame(self, name: str) -> ir.Table:
        """A frame, computed once per evaluation (frames read each other's rows)."""
        return self.shared(name, lambda: FRAMES[name](self))

    def shared(self, name: str, build: Callable[[], ir.Table]) -> ir.Table:
        """A table that several frames read, computed once in the engine per evaluation: Ibis's
        `cache()` (a temporary table, or a persisted DataFrame on Spark) instead of one copy of
        its query inside every query that reads it."""
        if name not in self._frames:
            t = build()
            # every column nullable: Ibis infers NOT NULL for some columns an outer join fills
            # with nulls, and the cached table would refuse them
            t = t.cast({c: dtype.copy(nullable=True) for c, dtype in t.schema().items() if not dtype.nullable})
            self._frames[name] = t.cache()
        return self._frames[name]

    def with_groups(self, t: ir.Table) -> ir.Table:
        """Add `grp` to a table that has account_id (a no-op without --by)."""
        if not self.by:
            return t
        g = self.groups()
        return t.join(g, "account_id").view()

    def per_period(self, aggregated: ir.Table, **fill: object) -> ir.Table:
        """Left-join an aggregate keyed by ctx.keys onto every period (and group), filling gaps.

        Periods with no data still get a row (counts and sums 0, the rest null), and so does every
        group of the accounts table, so that all frames have the same rows to merge.
        """
        grid = self.period_table().select("idx")
        if self.by:
            grid = grid.cross_join(self.groups().select("grp").distinct())
        joined = self.left_join_on_keys(grid, aggregated)
        return joined.mutate(**{k: joined[k].fill_null(v) for k, v in fill.items()})

    def left_join_on_keys(self, left: ir.Table, right: ir.Table) -> ir.Table:
        """left ⟕ right on ctx.keys, right's copy of the keys dropped.

        grp may be null (accounts without a segment…): it is matched null-safely, not with `=`.
        """
        on = [left.idx == right.idx] + ([left.grp.identical_to(right.grp)] if self.by else [])
        return left.left_join(right, on).drop(*[f"{k}_right" for k in self.keys]).view()
