"""What `sucesso serve` does on its own: the playbooks every `playbooks_every_minutes` minutes
(a workspace setting; 60 by default, 0 turns it off) and the due notifications every minute.
Each job takes the workspace's lock like a request does; a failed job is logged and retried
at the next tick, never stopping the server."""

from __future__ import annotations

import logging
import threading
import time

from sucesso.store import get_setting

log = logging.getLogger("sucesso.schedule")
SETTING = "playbooks_every_minutes"
DEFAULT_MINUTES = 60


class Schedule:
    def __init__(self, workspace, tick_seconds: float = 60):
        self.workspace = workspace
        self.tick_seconds = tick_seconds
        self.last_playbooks: float | None = None
        self._stop = threading.Event()

    def every_minutes(self) -> int:
        value = self.workspace.run(lambda s: get_setting(s, SETTING))
        try:
            return max(0, int(value)) if value else DEFAULT_MINUTES
        except ValueError:
            return DEFAULT_MINUTES

    def tick(self, clock: float | None = None) -> dict:
        """Run what is due now; what ran."""
        from sucesso.operations import notify
        from sucesso.operations.playbooks import run

        clock = time.monotonic() if clock is None else clock
        done = {}
        every = self.every_minutes()
        if every and (self.last_playbooks is None or clock - self.last_playbooks >= every * 60):
            self.last_playbooks = clock
            done["playbooks"] = self._safely(lambda s: run(s, started_by="schedule").created)
        done["notifications"] = self._safely(notify.deliver)
        return done

    def _safely(self, job):
        try:
            return self.workspace.run(job)
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("scheduled job failed")
            return None

    def start(self) -> None:
        def loop():
            self.workspace.wait_ready()
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.tick_seconds)

        threading.Thread(target=loop, name="sucesso-schedule", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
