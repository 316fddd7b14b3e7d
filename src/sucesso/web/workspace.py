"""The server's hold on its workspace: the store, lent to one request or job at a time
(store/shared.py: a DuckDB file is open only during a job, so that the CLI can write it
meanwhile), and the results the pages read precomputed, kept in memory — every KPI for every
month the data covers, overall and per segment — so that a page answers in milliseconds.

`refresh()` recomputes them: at start, and in the background after writes
(`refresh_in_background`), one recomputation at a time and, under a stream of writes, spaced so
that recomputing holds the workspace at most a tenth of the time (REFRESH_SHARE): a steady
stream of imports would otherwise queue a recomputation behind each, and every request behind
them (benchmarks/load.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

from sucesso.metrics.registry import NO_GROUP
from sucesso.store import Store, StoreUnavailable, get_setting
from sucesso.store.shared import SharedStore

T = TypeVar("T")
RETRY_SECONDS = 30  # a precomputation the workspace was unavailable for is tried again after this
REFRESH_SHARE = 0.1  # under a stream of writes, recomputing holds the workspace at most this share of the time


class WebWorkspace:
    def __init__(self, url: str):
        self.url = url
        self.shared = SharedStore(url)
        self._ready = threading.Event()
        self.kpis: pd.DataFrame | None = None  # period, segment ("" = all), one column per KPI
        self.accounts: pd.DataFrame | None = None  # insight.accounts.account_table on `as_of`
        self.health = None  # health.report.HealthInputs on `as_of`, for any account's report
        self.as_of = None
        self.months: list[str] = []
        self.computed_at: float | None = None
        self.error: str | None = None
        self._streamed_at: float | None = None  # refresh_now_and_then's last refresh
        self._refresh_lock = threading.Lock()
        self._refresh_due: float | None = None  # when the next background recomputation runs
        self._refresher: threading.Thread | None = None
        self._refreshed_at: float | None = None  # when the last one ended

    def run(self, job: Callable[[Store], T]) -> T:
        """Run `job` with the store, alone; StoreUnavailable if the workspace stays busy (another
        process writes it) or cannot be reached."""
        with self.shared.use() as store:
            return job(store)

    def setting(self, key: str) -> str:
        return self.run(lambda s: get_setting(s, key))

    def refresh(self) -> None:
        """Recompute the KPI table the pages read (every KPI, every month, overall and by segment)."""
        from sucesso.metrics.api import data_end, kpi_rows
        from sucesso.metrics.periods import add_months

        def compute(store: Store) -> tuple[pd.DataFrame, list[str]]:
            end = data_end(store)
            if end is None:
                return pd.DataFrame(), []
            rows = store.fetchall("SELECT min(started_at) FROM subscriptions")
            first = pd.Timestamp(rows[0][0]).date().replace(day=1)
            last = end.date().replace(day=1)
            if last > first:  # the month the data ends in is usually partial
                last = add_months(last, -1)
            span = (f"{first:%Y-%m}", f"{last:%Y-%m}")
            overall = [{"segment": "", **r} for r in kpi_rows(store, None, *span)]
            by_segment = [{**r, "segment": r["segment"] if r["segment"] is not None else NO_GROUP}
                          for r in kpi_rows(store, None, *span, by="segment")]
            return pd.DataFrame(overall + by_segment), [r["period"] for r in overall]

        def accounts(store: Store):
            from sucesso.health.history import default_as_of
            from sucesso.insight.accounts import account_table

            day = default_as_of(store)
            return day, account_table(store, day)

        def health(store: Store):
            from sucesso.health.report import health_inputs

            return health_inputs(store, self.as_of)

        try:
            started = time.perf_counter()
            self.kpis, self.months = self.run(compute)
            self.as_of, self.accounts = self.run(accounts)
            self.health = self.run(health)
            self.computed_at = time.perf_counter() - started
            self.error = None
        except StoreUnavailable as exc:  # busy past the wait, or the database down: again in a while
            self.error = f"{type(exc).__name__}: {exc}"
            retry = threading.Timer(RETRY_SECONDS, self.refresh)
            retry.daemon = True
            retry.start()
        except Exception as exc:  # noqa: BLE001 - shown on the pages instead of a dead server
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def refresh_in_background(self) -> None:
        """Recompute after a write, in the background: at once if the workspace has been quiet
        (the pages then wait for it, so that what was just written shows), else as soon as the
        last recomputation is far enough behind (REFRESH_SHARE; the pages show the figures they
        have until then). Writes meanwhile share the one recomputation."""
        with self._refresh_lock:
            now = time.monotonic()
            due = now
            if self._refreshed_at is not None and self.computed_at is not None:
                due = max(now, self._refreshed_at + self.computed_at * (1 - REFRESH_SHARE) / REFRESH_SHARE)
            self._refresh_due = min(due, self._refresh_due or due)
            if self._refresh_due <= now:
                self._ready.clear()
            if self._refresher is None:
                self._refresher = threading.Thread(target=self._refresh_when_due, name="sucesso-precompute",
                                                   daemon=True)
                self._refresher.start()

    def _refresh_when_due(self) -> None:
        while True:
            with self._refresh_lock:
                if self._refresh_due is None:
                    self._refresher = None
                    return
                wait = self._refresh_due - time.monotonic()
                if wait <= 0:
                    self._refresh_due = None
            if wait > 0:
                time.sleep(min(wait, 1.0))
                continue
            self.refresh()
            with self._refresh_lock:
                self._refreshed_at = time.monotonic()

    def refresh_now_and_then(self, every_seconds: float = 15 * 60) -> None:
        """After a stream of small writes (tracked events, Stripe webhooks): recompute in the
        background at most every `every_seconds` (the pages were computed when the server started)."""
        now = time.monotonic()
        if self._streamed_at is None:
            self._streamed_at = now
        elif now - self._streamed_at >= every_seconds:
            self._streamed_at = now
            self.refresh_in_background()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def kpi_table(self, first: str | None = None, last: str | None = None, segment: str = "") -> pd.DataFrame:
        """The precomputed rows of one segment ("" = all) from month `first` to `last`."""
        self.wait_ready()
        if self.kpis is None or self.kpis.empty:
            return pd.DataFrame()
        t = self.kpis[self.kpis["segment"] == segment]
        if first:
            t = t[t["period"] >= first]
        if last:
            t = t[t["period"] <= last]
        return t.reset_index(drop=True)

    def account_rows(self) -> pd.DataFrame:
        self.wait_ready()
        return self.accounts if self.accounts is not None else pd.DataFrame()

    def segments(self) -> list[str]:
        self.wait_ready()
        if self.kpis is None or self.kpis.empty:
            return []
        return sorted(s for s in self.kpis["segment"].unique() if s)

    def close(self) -> None:
        self.shared.close()
