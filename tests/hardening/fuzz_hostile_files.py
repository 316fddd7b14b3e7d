"""Coverage-guided fuzzing (atheris: libFuzzer for Python) of the importers, the twin of the
Hypothesis tests in test_hostile_files.py:

    python tests/hardening/fuzz_hostile_files.py TARGET [libFuzzer options, e.g. -runs=100000]

TARGET: `tracking` (segment.read on any body), `csv` or `json` (import_file on any bytes saved as
accounts.csv / accounts.json, into a DuckDB workspace in $SUCESSO_FUZZ_DIR). A crash is anything
but a clear refusal — a report with problems (and no table changed), or segment's Rejected — and
libFuzzer saves the input that caused it (-artifact_prefix).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["sucesso"]):
    from sucesso.ingest import import_file
    from sucesso.ingest.segment import CALLS, Rejected, read
    from sucesso.store import open_store

RECEIVED = dt.datetime(2024, 6, 1, 12, 0)
SEEDS = {"tracking": b'\x00{"batch": [{"type": "track", "userId": "u1", "event": "e"}]}',
         "csv": b"account_id,name,created_at\na1,Padaria Pao Quente,2023-01-10\n",
         "json": b'[{"account_id": "a2", "name": "Loja", "created_at": "2024-01-31"}]'}
WORDS = [  # libFuzzer's dictionary syntax: \\xNN is a byte
    *CALLS, "batch", "userId", "anonymousId", "groupId", "messageId", "timestamp", "sentAt", "traits", "context",
    "properties", "event", "employees", "createdAt", "company", "2024-06-01T11:00:00Z", "\\x22", "{", "}", "[", "]",
    ":", ",", "null", "true", "1e999", "account_id", "name", "created_at", "seats", "attributes", "\\x0d\\x0a", ";",
    "\\x09", "\\xef\\xbb\\xbf", "\\x00", "31/12/2024", "1.234,56", "=HYPERLINK(", "99999-01-01"]


def tracking(data: bytes) -> None:
    calls = (None, *CALLS)
    call = calls[data[0] % len(calls)] if data else None
    try:
        read(data[1:], call, RECEIVED)
    except Rejected as exc:
        assert exc.text


def files(extension: str):
    folder = os.environ.get("SUCESSO_FUZZ_DIR") or tempfile.mkdtemp(prefix="sucesso-fuzz-")
    store = open_store(os.path.join(folder, "fuzz.duckdb"))
    path = os.path.join(folder, f"accounts.{extension}")
    with open(path, "wb") as fh:
        fh.write(SEEDS[extension])
    assert import_file(store, "accounts", path).written

    def checksum() -> str:
        rows = store.fetchall("SELECT * FROM accounts ORDER BY account_id")
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    def target(data: bytes) -> None:
        with open(path, "wb") as fh:
            fh.write(data)
        before = checksum()
        report = import_file(store, "accounts", path)
        if not report.written:
            assert report.problems and all(p.file == path and p.expected for p in report.problems)
            assert checksum() == before

    return target


def main() -> None:
    name, *options = sys.argv[1:]
    target = tracking if name == "tracking" else files(name)
    corpus = tempfile.mkdtemp(prefix="corpus-", dir=os.environ.get("SUCESSO_FUZZ_DIR"))
    with open(os.path.join(corpus, "seed"), "wb") as fh:
        fh.write(SEEDS[name])
    tokens = os.path.join(corpus, "..", f"{name}.dict")  # words the mutations splice in
    with open(tokens, "w", encoding="utf-8") as fh:
        fh.writelines(f'"{w}"\n' for w in WORDS)
    atheris.Setup([sys.argv[0], f"-dict={tokens}", *options, corpus], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
