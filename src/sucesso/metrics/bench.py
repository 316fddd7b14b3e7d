"""The metrics benchmark: a full recompute of every KPI against the floor of one scan per table.

    sucesso bench [--accounts 100000] [--months 36] [--folder benchmarks]

The demo company is generated once into FOLDER/bench-N.duckdb (kept for re-runs). Then,
each in a fresh process so its peak memory is its own:
- floor: one aggregate scan of every canonical table (a count of every column), in the
  same engine;
- recompute: every KPI for the last `months` months, plus the logo and revenue cohort
  tables.
Results go to FOLDER/metrics-bench.json (one entry per run appended).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time

from sucesso.metrics.periods import add_months


def floor(store) -> None:
    """One aggregate over every value of every table: the least any full recompute must read.

    min(hash(value)) per column, because a plain count() may be answered from the engine's
    column statistics without reading the data.
    """
    from sucesso.store.schema import CANONICAL

    con = store.ibis()
    for t in CANONICAL:
        table = con.table(t.name)
        con.execute(table.aggregate([table[c].hash().min().name(f"h_{c}") for c in t.column_names]))


def recompute(store, months: int) -> None:
    from sucesso.metrics.api import data_end
    from sucesso.metrics.cohorts import cohort_tables
    from sucesso.metrics.evaluate import evaluate, select_metrics
    from sucesso.metrics.periods import periods

    last = data_end(store).date().replace(day=1)
    last = add_months(last, -1)
    first = add_months(last, -(months - 1))
    evaluate(store.ibis(), select_metrics(), periods(first, last))
    cohort_tables(store.ibis(), first, last)


def measure(url: str, what: str, months: int) -> dict:
    """Run one step in this process; report seconds and peak resident memory."""
    from sucesso.store import open_store

    with open_store(url) as store:
        t0 = time.perf_counter()
        floor(store) if what == "floor" else recompute(store, months)
        seconds = time.perf_counter() - t0
    return {"step": what, "seconds": round(seconds, 2), "peak_mib": round(peak_resident_mib())}


def peak_resident_mib() -> float:
    """This process's peak resident memory (VmHWM: getrusage's maxrss survives exec, so a
    child would report its parent's peak)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_subprocess(url: str, what: str, months: int) -> dict:
    code = ("import json, sys; from sucesso.metrics.bench import measure; "
            f"print(json.dumps(measure({url!r}, {what!r}, {months})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(accounts: int, months: int, folder: str, seed: int = 7, on_phase=None) -> dict:
    from sucesso.demo.load import load_demo
    from sucesso.store import get_setting, open_store

    phase = on_phase or (lambda _: None)
    os.makedirs(folder, exist_ok=True)
    url = os.path.join(folder, f"bench-{accounts}.duckdb")
    generated = None
    with open_store(url) as store:
        wanted = f"accounts={accounts} seed={seed} language=pt_BR"
        if get_setting(store, "demo") != wanted:
            phase(f"generating the demo company with {accounts:,} accounts")
            t0 = time.perf_counter()
            load_demo(store, accounts=accounts, seed=seed, on_phase=phase, health_history=False)
            generated = round(time.perf_counter() - t0, 1)
        rows = {t: store.count(t) for t in ("accounts", "subscriptions", "usage_events", "invoices")}
    phase("floor: one aggregate scan of every table")
    floor_result = _in_subprocess(url, "floor", months)
    phase(f"recompute: every KPI for {months} months and both cohort tables")
    full = _in_subprocess(url, "recompute", months)
    result = {
        "date": dt.date.today().isoformat(), "engine": "duckdb", "accounts": accounts, "months": months,
        "rows": rows, "generate_seconds": generated, "floor": floor_result, "recompute": full,
        "ratio": round(full["seconds"] / max(floor_result["seconds"], 1e-9), 2),
        "cores": os.cpu_count(),
    }
    path = os.path.join(folder, "metrics-bench.json")
    history = []
    if os.path.exists(path):
        with open(path) as fh:
            history = json.load(fh)
    history.append(result)
    with open(path, "w") as fh:
        json.dump(history, fh, indent=2)
    return result
