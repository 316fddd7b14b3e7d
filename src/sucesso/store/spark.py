"""A read-only workspace on Apache Spark: the Parquet tables `sucesso export` writes.

URL: `spark://MASTER?path=FOLDER`, where MASTER is `local[*]` (or `local[N]`) for Spark
in this process, or `HOST:PORT` for a standalone cluster master; FOLDER holds
`<table>.parquet` files or `<table>/` folders of Parquet parts (as Spark itself writes
them), and the export's manifest.json (currency and language). Metrics and cohorts run
here; data goes in through a DuckDB or PostgreSQL workspace and `sucesso export`.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs

from sucesso.store.engines import Store, StoreError
from sucesso.store.schema import CANONICAL

_SESSION = None


def parse_url(url: str) -> tuple[str, str]:
    rest = url.removeprefix("spark://")
    master, _, query = rest.partition("?")
    path = parse_qs(query).get("path", [""])[0]
    if not master or not path:
        raise StoreError(f"a Spark workspace URL is spark://MASTER?path=FOLDER (e.g. spark://local[*]?path=export), "
                         f"not {url!r}")
    return (master if master.startswith("local") else f"spark://{master}"), path


def session(master: str):
    """One SparkSession per process, in UTC so timestamps read as written."""
    global _SESSION
    if _SESSION is None:
        from pyspark.sql import SparkSession

        _SESSION = (SparkSession.builder.master(master).appName("sucesso")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.sql.shuffle.partitions", os.environ.get("SUCESSO_SPARK_PARTITIONS", "8"))
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.memory", os.environ.get("SUCESSO_SPARK_MEMORY", "2g"))
                    .getOrCreate())
        _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def _mend_ibis_pyspark() -> None:
    """Two gaps in Ibis's PySpark backend that the metrics step into:
    - its compiler has no rule for BIT_OR, which Spark SQL has had since 3.0;
    - `Table.cache()` compiles the query without first registering the in-memory tables it
      reads (the period calendar), so Spark cannot find them.
    """
    from ibis.backends.pyspark import Backend
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    if getattr(Backend, "_sucesso_mended", False):
        return

    def visit_BitOr(self, op, *, arg, where):
        return self.agg.bit_or(arg, where=where)

    create_cached = Backend._create_cached_table

    def _create_cached_table(self, name, expr):
        self._run_pre_execute_hooks(expr)
        return create_cached(self, name, expr)

    PySparkCompiler.visit_BitOr = visit_BitOr
    Backend._create_cached_table = _create_cached_table
    Backend._sucesso_mended = True


class SparkStore(Store):
    engine = "spark"

    def __init__(self, url: str):
        super().__init__(url)
        self.master, self.path = parse_url(url)
        if not os.path.isdir(self.path):
            raise StoreError(f"the Spark workspace folder {self.path} does not exist")
        try:
            with open(os.path.join(self.path, "manifest.json"), encoding="utf-8") as fh:
                self.manifest = json.load(fh)
        except FileNotFoundError:
            self.manifest = {}
        self.spark = session(self.master)

    def _table_path(self, name: str) -> str | None:
        for candidate in (os.path.join(self.path, f"{name}.parquet"), os.path.join(self.path, name)):
            if os.path.exists(candidate):
                return candidate
        return None

    def table_names(self) -> set[str]:
        return {t.name for t in CANONICAL if self._table_path(t.name)}

    def setting(self, key: str) -> str | None:
        return self.manifest.get("settings", {}).get(key)

    def count(self, table: str) -> int:
        return self.ibis().table(table).count().execute()

    def ibis(self):
        if self._ibis is None:
            import ibis

            _mend_ibis_pyspark()
            self._ibis = ibis.pyspark.connect(self.spark)
            missing = [t.name for t in CANONICAL if not self._table_path(t.name)]
            if missing:
                raise StoreError(f"the Spark workspace {self.path} lacks {', '.join(missing)} "
                                 "(write it with `sucesso export`)")
            for t in CANONICAL:
                self._ibis.read_parquet(self._table_path(t.name), table_name=t.name)
        return self._ibis

    def execute(self, sql, params=()):
        raise StoreError("a Spark workspace is read-only: import into DuckDB or PostgreSQL, then `sucesso export`")

    def fetchall(self, sql, params=()):
        raise StoreError("a Spark workspace answers metrics and cohorts only")

    def close(self) -> None:
        pass  # the session lives as long as the process
