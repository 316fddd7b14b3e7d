"""Load: concurrent senders on the tracking and import APIs of a real `sucesso serve` over
loopback, readers meanwhile, for minutes on each engine; then an exact count — nothing lost,
nothing written twice, nothing of a refused request written — and the server's memory flat.
benchmarks/load.py is the run (what the senders do, how memory is read); this holds its promises
(docs/RELIABILITY.md). SUCESSO_LOAD_SECONDS sets the minutes (180 s on each engine unless it
says); the figures are printed: `pytest -s -m load`.
"""

from __future__ import annotations

import json
import os

import load  # benchmarks/load.py (pytest's pythonpath)
import pytest

pytestmark = pytest.mark.load
SECONDS = float(os.environ.get("SUCESSO_LOAD_SECONDS", "180"))
# How much the server's memory may rise from warmed up to the end. On PostgreSQL the server holds
# nothing that grows with the data: a leak of 5 KB a request would fail. On DuckDB the engine works
# inside the server: beyond the index of tracked messageIds (Result.index_mb) its working memory grows
# with the data, which the run multiplies (90,186 usage events at the start, over a million at the end).
GROWTH_MB = {"postgres": 24, "duckdb": 64}


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_under_load_nothing_is_lost_or_twice_and_memory_stays_flat(engine, tmp_path, request):
    url = str(tmp_path / "load.duckdb") if engine == "duckdb" else request.getfixturevalue("postgres").new_database()
    result = load.run(url, SECONDS, tmp_path / "server.log", accounts=300)
    summary = result.summary()
    print(json.dumps(summary, indent=1))
    assert result.tally.failures == [], result.tally.failures[:5]
    assert result.counted == result.expected
    answers = result.tally.answers  # every kind of request really ran, many times
    for kind in ("tracking batch 200", "tracking batch 400", "tracking retry 200", "track 200",
                 "import events 200", "import events 422", "import again 200", "import contacts 200"):
        assert answers[kind] >= 3, (kind, answers)
    assert result.expected["events"] > 50_000 and result.expected["contacts"] > 100
    assert result.memory_growth_mb < result.index_mb + GROWTH_MB[engine], summary
    warm_files, end_files = result.open_files
    assert end_files <= warm_files + 5, summary
