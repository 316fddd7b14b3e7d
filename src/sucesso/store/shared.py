"""A long-running process's hold on its workspace (the web server's): `with shared.use() as store:`
lends the store to one job — a request, a scheduled run — at a time.

DuckDB lets one process at a time open a file for writing. So that the CLI can write the
workspace while `sucesso serve` runs, the server lets go of a DuckDB file whenever another
process waits for it (that process touches `<file>.waiting` while it retries: engines.py): at
the end of the current job, or within WATCH_SECONDS when idle; and before opening it again, it
lets the waiter go first. It also closes the file after IDLE_SECONDS unused, for programs that do
not say they wait. Either side waits quietly up to busy_seconds() (30 s) before giving up with
StoreUnavailable. Keeping the file open between jobs matters: opening and closing it costs
12 ms (36 ms after a write, which checkpoints), several times per page.

A PostgreSQL connection has no such limit and is kept; it is checked before each job and opened
again when lost (the server restarted). A job that loses it midway fails with StoreUnavailable,
and the next job reconnects.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from sucesso.store import open_store
from sucesso.store.engines import Store, StoreUnavailable, busy_seconds, someone_waits

IDLE_SECONDS = 1.0
WATCH_SECONDS = 0.05


class SharedStore:
    def __init__(self, url: str):
        self.url = url
        self.lock = threading.RLock()
        self._store: Store | None = open_store(url)  # creates or upgrades the workspace, once
        self._depth = 0  # nested use() calls of the job holding the lock
        self._used_at = time.monotonic()
        self._closed = threading.Event()
        threading.Thread(target=self._watch, name="sucesso-store-watch", daemon=True).start()

    @contextlib.contextmanager
    def use(self) -> Iterator[Store]:
        """The store, for this thread alone until the block ends (nested uses share it)."""
        deadline = time.monotonic() + busy_seconds()
        with self.lock:
            if not self._depth:
                self._store = self._take(deadline)
            self._depth += 1
            try:
                yield self._store
            except Exception as exc:
                if self._store is not None and self._store.lost(exc):
                    self._discard()
                    raise StoreUnavailable(f"the connection to the workspace was lost: {str(exc).strip()}") from exc
                raise
            finally:
                self._depth -= 1
                if not self._depth:
                    self._release()
                    self._used_at = time.monotonic()
                    if someone_waits(self.url):
                        self._discard()

    def _release(self) -> None:
        """Drop what the job's metrics registered in the connection (engines.py: release_memtables)."""
        if self._store is not None:
            with contextlib.suppress(Exception):  # a lost connection: the next job opens another
                self._store.release_memtables()

    def _take(self, deadline: float) -> Store:
        if self._store is not None:
            if self._store.answers():
                return self._store
            self._discard()
        while someone_waits(self.url) and time.monotonic() < deadline:
            time.sleep(0.01)  # another process asked for the file first: its turn
        return open_store(self.url, upgrade=False, wait=max(0.0, deadline - time.monotonic()))

    def _watch(self) -> None:
        """Let go of an idle DuckDB file when someone waits for it, or after IDLE_SECONDS."""
        while not self._closed.wait(WATCH_SECONDS):
            store = self._store
            if store is None or not store.exclusive or not self.lock.acquire(blocking=False):
                continue
            try:
                idle = time.monotonic() - self._used_at > IDLE_SECONDS
                if self._store is store and not self._depth and (idle or someone_waits(self.url)):
                    self._discard()
            finally:
                self.lock.release()

    def _discard(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            with contextlib.suppress(Exception):  # a lost connection may fail to close
                store.close()

    def close(self) -> None:
        self._closed.set()
        with self.lock:
            self._discard()
