"""One connection class per engine. The only place in sucesso that knows which engine runs.

Everything above `store/` talks to a `Store`: SQL that both engines accept, Arrow in and
out, one transaction per job, and an Ibis backend for the metrics.

DuckDB tables carry no PRIMARY KEY: its index makes bulk loads about 4.7 times slower
(measured: 2M rows in 1.83 s with the key, 0.39 s without), and no row reaches a table
except through `Store.upsert`, which keeps keys unique. PostgreSQL tables have real keys.
A table that declares `indexed_key` (schema.py) has its PRIMARY KEY on DuckDB too: one whose
key is checked on every write (`append` raises KeyExists) and never bulk-loaded, so that neither
that check nor `keys_held` reads the whole table. DuckDB holds the index in memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv

from sucesso.store.schema import Column, Table, arrow_type


class StoreError(Exception):
    """A problem with the workspace database that the user can act on."""


class StoreUnavailable(StoreError):
    """The workspace cannot be used right now but may be in a moment: its DuckDB file is held by
    another sucesso process past the wait, or its PostgreSQL server cannot be reached."""


BUSY_SECONDS = 30.0


def busy_seconds() -> float:
    """How long a sucesso process waits for a workspace that another one holds ($SUCESSO_BUSY_SECONDS)."""
    return float(os.environ.get("SUCESSO_BUSY_SECONDS", BUSY_SECONDS))


class KeyExists(Exception):
    """`Store.append` met a key its table holds already (a table whose key is enforced); the
    transaction it ran in is void: roll it back."""


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    """A workspace database. Use `sucesso.store.open_store(url)` to get one."""

    engine: str = ""
    types: dict[str, str] = {}
    primary_keys: bool = False
    param: str = "?"
    exclusive: bool = False  # one process at a time may open it: a long-running one holds it per job

    def __init__(self, url: str):
        self.url = url
        self._depth = 0
        self._ibis = None
        self._memtables: list[str] = []  # the in-memory tables the metrics registered (release_memtables)

    # -- SQL -------------------------------------------------------------------------
    def execute(self, sql: str, params: tuple | list = ()) -> None:
        raise NotImplementedError

    def fetchall(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        raise NotImplementedError

    def fetchall_with_columns(self, sql: str, params: tuple | list = ()) -> tuple[list[tuple], list[str]]:
        """The rows and the column names of a query."""
        raise NotImplementedError

    def sql(self, text: str) -> str:
        """Turn `?` placeholders into the engine's own."""
        return text if self.param == "?" else text.replace("?", self.param)

    def read_batches(self, sql: str, schema: pa.Schema, batch_rows: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def _begin(self) -> None:
        self.execute("BEGIN")

    def _commit(self) -> None:
        self.execute("COMMIT")

    def _rollback(self) -> None:
        self.execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """One transaction for everything inside; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        self._commit()

    # -- tables ----------------------------------------------------------------------
    def column_ddl(self, col: Column) -> str:
        return f"{quote(col.name)} {self.types[col.type]}" + (" NOT NULL" if col.required else "")

    def keyed(self, table: Table) -> bool:
        """Whether `table`'s key is a unique index here (every PostgreSQL table, `indexed_key` ones on DuckDB)."""
        return self.primary_keys or table.indexed_key

    def create_table(self, table: Table, columns: Iterable[Column], *, temporary: bool = False,
                     name: str | None = None) -> None:
        parts = [self.column_ddl(c) for c in columns]
        if self.keyed(table) and not temporary:
            parts.append("PRIMARY KEY (" + ", ".join(quote(k) for k in table.key) + ")")
        kind = "TEMPORARY TABLE" if temporary else "TABLE"
        self.execute(f"CREATE {kind} {quote(name or table.name)} (" + ", ".join(parts) + ")")

    def add_column(self, table: Table, col: Column) -> None:
        # Added columns are nullable: rows written before they existed have no value.
        self.execute(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(col.name)} {self.types[col.type]}")

    def table_names(self) -> set[str]:
        raise NotImplementedError

    def setting(self, key: str) -> str | None:
        rows = self.fetchall("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def count(self, table: str) -> int:
        return self.fetchall(f"SELECT count(*) FROM {quote(table)}")[0][0]

    def has_rows(self, table: str) -> bool:
        return bool(self.fetchall(f"SELECT 1 FROM {quote(table)} LIMIT 1"))

    def _append_arrow(self, name: str, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def append(self, table: Table, batch: pa.RecordBatch) -> None:
        """Append `batch` to `table`, in the caller's transaction (or its own). Where the key is
        enforced (every PostgreSQL table, `indexed_key` ones on DuckDB) a key the table holds
        already raises KeyExists; elsewhere keys are the caller's care."""
        try:
            with self.transaction():
                self._append_arrow(table.name, batch)
        except Exception as exc:
            if self._duplicate_key(exc):
                raise KeyExists(str(exc)) from None
            raise

    def _duplicate_key(self, exc: Exception) -> bool:
        """Whether `exc` is the engine refusing a key that its table holds already."""
        return False

    def replace_rows(self, table: Table, where: str, params: tuple, batches: Iterable[pa.RecordBatch]) -> int:
        """Delete the rows of `table` matching `where` (SQL with `?` parameters) and append
        `batches` in their place, in one transaction; returns the rows written."""
        rows = 0
        with self.transaction():
            self.execute(f"DELETE FROM {quote(table.name)} WHERE {where}", params)
            for batch in batches:
                if batch.num_rows:
                    self._append_arrow(table.name, batch)
                    rows += batch.num_rows
        return rows

    def upsert(self, table: Table, columns: list[str], batches: Iterable[pa.RecordBatch],
               insert_only: tuple[str, ...] = ()) -> UpsertCounts:
        """Insert new keys, update changed rows in place, leave equal rows alone.

        `columns` are the columns the source provides (the key among them); a column the
        source lacks keeps its stored value, and one in `insert_only` (a default the
        source did not give) is written for new rows only. Keys must be unique within the
        batches (the importer checks it). Runs inside the caller's transaction, or its own.
        """
        cols = [table.column(c) for c in columns]
        stage = f"_stage_{table.name}"
        with self.transaction():
            if not self.fetchall(f"SELECT 1 FROM {quote(table.name)} LIMIT 1"):
                # A first load has nothing to compare with: straight in, no staging.
                rows = 0
                for batch in batches:
                    if batch.num_rows:
                        self._append_arrow(table.name, batch)
                        rows += batch.num_rows
                return UpsertCounts(inserted=rows)
            self.execute(f"DROP TABLE IF EXISTS {quote(stage)}")
            self.create_table(table, [Column(c.name, c.type) for c in cols], temporary=True, name=stage)
            for batch in batches:
                if batch.num_rows:
                    self._append_arrow(stage, batch)
            t, s = quote(table.name), quote(stage)
            join = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in table.key)
            values = [c for c in columns if c not in table.key and c not in insert_only]
            differs = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM s.{quote(c)}" for c in values) or "FALSE"
            first_key = f"t.{quote(table.key[0])}"
            inserted, updated, unchanged = self.fetchall(
                f"SELECT count(*) FILTER (WHERE {first_key} IS NULL),"
                f" count(*) FILTER (WHERE {first_key} IS NOT NULL AND ({differs})),"
                f" count(*) FILTER (WHERE {first_key} IS NOT NULL AND NOT ({differs}))"
                f" FROM {s} s LEFT JOIN {t} t ON {join}"
            )[0]
            if updated:
                sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in values)
                self.execute(f"UPDATE {t} AS t SET {sets} FROM {s} s WHERE {join} AND ({differs})")
            if inserted:
                names = ", ".join(quote(c) for c in columns)
                self.execute(
                    f"INSERT INTO {t} ({names}) SELECT {', '.join('s.' + quote(c) for c in columns)}"
                    f" FROM {s} s WHERE NOT EXISTS (SELECT 1 FROM {t} t WHERE {join})"
                )
            self.execute(f"DROP TABLE {s}")
        return UpsertCounts(inserted, updated, unchanged)

    # Values per IN-list of `keys_held`: DuckDB looks an IN-list up in an index (ART) while it names
    # at most index_scan_max_count (2,048) values, and reads the whole table beyond.
    KEYS_PER_LOOKUP = 2000

    def keys_held(self, table: Table, values: list) -> set:
        """Those of `values` that `table` holds as its key (one column). An index lookup when the key
        has an index (every PostgreSQL table, `indexed_key` ones on DuckDB), its cost independent of
        the table's size; a scan otherwise."""
        (key,) = table.key
        held: set = set()
        for start in range(0, len(values), self.KEYS_PER_LOOKUP):
            chunk = values[start:start + self.KEYS_PER_LOOKUP]
            sql = f"SELECT {quote(key)} FROM {quote(table.name)} WHERE {quote(key)} IN ({', '.join('?' * len(chunk))})"
            held.update(r[0] for r in self.fetchall(sql, chunk))
        return held

    def existing(self, table: Table, keys: pa.Table) -> pa.Table:
        """The rows of `keys` (some of table's columns) that the table holds."""
        stage = "_sucesso_lookup"
        names = keys.column_names
        with self.transaction():
            self.execute(f"DROP TABLE IF EXISTS {stage}")
            self.create_table(table, [Column(n, table.column(n).type) for n in names], temporary=True, name=stage)
            for batch in keys.to_batches():
                self._append_arrow(stage, batch)
            cols = ", ".join(f"k.{quote(n)}" for n in names)
            match = " AND ".join(f"t.{quote(n)} = k.{quote(n)}" for n in names)
            sql = (f"SELECT DISTINCT {cols} FROM {stage} k "
                   f"WHERE EXISTS (SELECT 1 FROM {quote(table.name)} t WHERE {match})")
            found = pa.Table.from_batches(list(self.read_batches(sql, keys.schema)), schema=keys.schema)
            self.execute(f"DROP TABLE {stage}")
        return found

    def ibis(self):
        """An Ibis backend over this workspace, for the metrics."""
        raise NotImplementedError

    def _noting_memtables(self, backend, drop: Callable[[str], None]):
        """`backend`, noting the in-memory tables (ibis.memtable) it registers, so that
        release_memtables() can `drop` them. Ibis keeps each one registered, and a hook to drop it
        at exit, for as long as the process lives: a server, whose connection lasts for days,
        would hold every table every request made."""
        register = backend._register_in_memory_table

        def register_and_note(op) -> None:
            register(op)
            self._memtables.append(op.name)

        backend._register_in_memory_table = register_and_note
        backend._make_memtable_finalizer = lambda name: None
        self._drop_memtable = drop
        return backend

    def release_memtables(self) -> None:
        """Drop the in-memory tables the expressions run so far registered (an expression run
        again registers its own again). The web server calls it after each job (store/shared.py)."""
        if not self._memtables:
            return
        for name in self._memtables:
            self._drop_memtable(name)
        self._memtables.clear()
        self._ibis._memtables.clear()

    def memory_used(self) -> int | None:
        """The bytes the engine holds in this process (None: it runs in a server of its own)."""
        return None

    def answers(self) -> bool:
        """Whether the connection still works (a kept connection is checked before each job)."""
        return True

    def lost(self, exc: BaseException) -> bool:
        """Whether `exc`, raised while using the store, means the connection is gone (its server
        restarted): the store must be opened again."""
        return False

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


DUCKDB_MEMORY = "1200MB"
WAITING = ".waiting"  # beside a DuckDB file: a process is waiting to open it (touched at each retry)
WAITING_FRESH_SECONDS = 1.0  # an older marker is a waiter's that died


class DuckDBStore(Store):
    engine = "duckdb"
    exclusive = True
    types = {
        "text": "VARCHAR", "int": "BIGINT", "decimal": "DECIMAL(18,2)", "double": "DOUBLE",
        "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "date": "DATE", "json": "VARCHAR",
    }

    def __init__(self, url: str, wait: float | None = None):
        super().__init__(url)
        self.path = url.removeprefix("duckdb://")
        self.con = self._connect(busy_seconds() if wait is None else wait)
        # DuckDB would take 80% of the machine for its buffers; a bounded pool spills to disk
        # instead (measured: the 100k-account recompute peaks at 1.4 GB for 5% more time).
        self.con.execute(f"SET memory_limit = '{os.environ.get('SUCESSO_DUCKDB_MEMORY', DUCKDB_MEMORY)}'")
        self.con.execute("SET enable_progress_bar = false")

    def _connect(self, wait: float):
        """Open the file, waiting up to `wait` seconds, quietly, while another process holds it
        (DuckDB lets one process at a time write a file): retries back off from 5 to 100 ms, and
        the marker file `<file>.waiting` says someone waits, so that a server holding the file
        lets go of it at its next chance (store/shared.py)."""
        import duckdb

        deadline, pause, marker, waited = time.monotonic() + wait, 0.005, self.path + WAITING, False
        try:
            while True:
                try:
                    return duckdb.connect(self.path)
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower():
                        raise StoreError(f"cannot open the workspace {self.path}: {exc}") from None
                    if time.monotonic() >= deadline:
                        raise StoreUnavailable(f"the workspace {self.path} is busy (another sucesso process is "
                                               f"writing it); tried for {wait:.2g} s") from None
                except duckdb.Error as exc:
                    raise StoreError(f"{self.path} is not a sucesso workspace (a DuckDB file): {exc}") from None
                with contextlib.suppress(OSError), open(marker, "a"):
                    os.utime(marker)
                waited = True
                time.sleep(min(pause * random.uniform(0.5, 1.0), max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, 0.1)
        finally:
            if waited:  # got the file or gave up: no longer waiting
                with contextlib.suppress(OSError):
                    os.remove(marker)

    def execute(self, sql, params=()):
        self.con.execute(sql, params)

    def fetchall(self, sql, params=()):
        return self.con.execute(sql, params).fetchall()

    def fetchall_with_columns(self, sql, params=()):
        cursor = self.con.execute(sql, params)
        return cursor.fetchall(), [d[0] for d in cursor.description]

    def read_batches(self, sql, schema, batch_rows=1_000_000):
        for batch in self.con.sql(sql).to_arrow_reader(batch_rows):
            yield batch.cast(schema) if batch.schema != schema else batch

    def table_names(self):
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        return {r[0] for r in self.fetchall(sql)}

    def _append_arrow(self, name, batch):
        import duckdb

        self.con.register("_sucesso_arrow_in", batch)
        try:
            self.con.execute(f"INSERT INTO {quote(name)} BY NAME SELECT * FROM _sucesso_arrow_in")
        finally:
            # after a failed INSERT the transaction refuses everything until rolled back, which drops the view
            with contextlib.suppress(duckdb.TransactionException):
                self.con.unregister("_sucesso_arrow_in")

    def _duplicate_key(self, exc):
        import duckdb

        return isinstance(exc, duckdb.ConstraintException) and "Duplicate key" in str(exc)

    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = self._noting_memtables(ibis.duckdb.from_connection(self.con), self.con.unregister)
        return self._ibis

    def memory_used(self):
        return self.fetchall("SELECT sum(memory_usage_bytes) FROM duckdb_memory()")[0][0]

    def close(self):
        self.con.close()


class PostgresStore(Store):
    engine = "postgres"
    types = {
        "text": "TEXT", "int": "BIGINT", "decimal": "NUMERIC(18,2)", "double": "DOUBLE PRECISION",
        "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "date": "DATE", "json": "TEXT",
    }
    primary_keys = True
    param = "%s"

    def __init__(self, url: str, wait: float | None = None):
        import psycopg

        super().__init__(url)
        # An unreachable server fails the request after 10 s rather than the system's TCP timeout.
        timeout = {} if "connect_timeout" in url else {"connect_timeout": 10}
        try:
            self.con = psycopg.connect(url, autocommit=True, options="-c timezone=UTC", **timeout)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"cannot connect to the PostgreSQL workspace: {str(exc).strip()}") from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the PostgreSQL workspace: {str(exc).strip()}") from None

    def execute(self, sql, params=()):
        self.con.execute(self.sql(sql), params or None)

    def fetchall(self, sql, params=()):
        return self.con.execute(self.sql(sql), params or None).fetchall()

    def fetchall_with_columns(self, sql, params=()):
        cursor = self.con.execute(self.sql(sql), params or None)
        return cursor.fetchall(), [d[0] for d in cursor.description]

    def table_names(self):
        return {
            r[0]
            for r in self.fetchall(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }

    def _append_arrow(self, name, batch):
        buf = io.BytesIO()
        pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        cols = ", ".join(quote(c) for c in batch.schema.names)
        with self.con.cursor() as cur, cur.copy(f"COPY {quote(name)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())

    def _duplicate_key(self, exc):
        import psycopg

        return isinstance(exc, psycopg.errors.UniqueViolation)

    def read_batches(self, sql, schema, batch_rows=1_000_000):
        # COPY out as CSV and let Arrow parse it with the known types: far faster than rows.
        buf = io.BytesIO()
        with self.con.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
        if not buf.tell():
            return
        buf.seek(0)
        reader = pacsv.open_csv(
            buf,
            read_options=pacsv.ReadOptions(column_names=schema.names, block_size=64 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),  # notes and comments hold line breaks
            convert_options=pacsv.ConvertOptions(
                column_types=schema,
                true_values=["t"],
                false_values=["f"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from reader

    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = self._noting_memtables(ibis.postgres.from_connection(self.con),
                                                lambda name: self.execute(f"DROP TABLE IF EXISTS {quote(name)}"))
        return self._ibis

    def answers(self):
        import psycopg

        try:
            self.con.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def lost(self, exc):
        import psycopg

        return isinstance(exc, psycopg.Error) and (self.con.broken or self.con.closed)

    def close(self):
        self.con.close()


def _duckdb_path(url: str) -> str | None:
    if url.startswith(("postgresql://", "postgres://", "spark://")):
        return None
    return url.removeprefix("duckdb://")


def someone_waits(url: str) -> bool:
    """Whether another process is waiting to open the workspace at `url` (a DuckDB file it found
    held: see DuckDBStore._connect); always False for PostgreSQL, which many processes share."""
    path = _duckdb_path(url)
    try:
        return path is not None and os.stat(path + WAITING).st_mtime > time.time() - WAITING_FRESH_SECONDS
    except OSError:
        return False


def connect(url: str, wait: float | None = None) -> Store:
    """The store at `url`; `wait`: seconds to wait for a workspace another process holds
    (default: busy_seconds())."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, wait)
    if "://" in url and not url.startswith("duckdb://"):
        raise StoreError(f"unknown workspace URL {url!r}: use a DuckDB file path or postgresql://…")
    path = _duckdb_path(url)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise StoreError(f"the folder {parent} for the workspace {path} does not exist")
    return DuckDBStore(url, wait)


__all__ = ["Store", "StoreError", "StoreUnavailable", "UpsertCounts", "busy_seconds", "connect", "someone_waits",
           "arrow_type", "KeyExists"]
