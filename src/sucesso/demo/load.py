"""Put the demo company into a workspace through the same bulk path as every import."""

from __future__ import annotations

from collections.abc import Callable

from sucesso.health.history import HISTORY, compute_history, default_as_of, first_day
from sucesso.ingest import write_batches
from sucesso.operations.playbooks import run as run_playbooks
from sucesso.store import Store, get_setting, set_setting
from sucesso.store.engines import quote
from sucesso.store.schema import BY_NAME, CANONICAL

OPERATIONS = tuple(BY_NAME[name] for name in ("tasks", "playbook_runs", "notifications"))  # the previous demo's work

CURRENCY = {"pt_BR": "BRL", "en": "USD"}


class DemoRefused(Exception):
    pass


def holds_data(store: Store) -> bool:
    return any(store.fetchall(f"SELECT 1 FROM {quote(t.name)} LIMIT 1") for t in CANONICAL)


def load_demo(store: Store, accounts: int = 2000, seed: int = 7, language: str = "pt_BR",
              on_phase: Callable[[str], None] | None = None, health_history: bool = True) -> dict[str, int]:
    """Generate the company and write it, replacing an earlier demo; refuse to mix with real data;
    then score every customer on every day of its three years (health_history) and run the
    default playbooks once, so the team's task lists are not empty (operations/playbooks.py).

    One transaction: a demo interrupted half way leaves the workspace as it was.
    """
    from sucesso.demo.generator import generate

    if language not in CURRENCY:
        raise DemoRefused(f"language must be one of {', '.join(CURRENCY)}, not {language!r}")
    phase = on_phase or (lambda _: None)
    written: dict[str, int] = {}
    with store.transaction():
        if holds_data(store):
            if not get_setting(store, "demo"):
                raise DemoRefused(f"the workspace {store.url} holds data that is not a demo; "
                                  "use another --db for the demo")
            phase("clearing the previous demo")
            for table in (*OPERATIONS, *reversed(CANONICAL), HISTORY):
                store.execute(f"DELETE FROM {quote(table.name)}")
        # Batch by batch (≤ 1M rows each), so memory stays bounded at 100,000 accounts; the
        # generator's keys are unique across batches by construction.
        for name, batch in generate(accounts, seed, language):
            phase(f"writing {name} ({written.get(name, 0) + batch.num_rows:,} rows)")
            report = write_batches(store, name, [batch], label=f"demo {name}")
            if not report.written:
                problems = "; ".join(str(p) for p in report.problems[:5])
                raise RuntimeError(f"the demo generator produced invalid {name} rows: {problems}")
            written[name] = written.get(name, 0) + report.inserted + report.updated + report.unchanged
        set_setting(store, "demo", f"accounts={accounts} seed={seed} language={language}")
        set_setting(store, "currency", CURRENCY[language])
        set_setting(store, "locale", language)
        if health_history:
            first, last = first_day(store), default_as_of(store)
            phase(f"scoring the health of every customer, every day from {first} to {last}")
            written["health_scores"] = compute_history(store, first, last,
                                                       on_progress=lambda d: phase(f"health scored up to {d}"))
        phase("running the playbooks")
        written["tasks"] = run_playbooks(store, started_by="demo").created
    return written
