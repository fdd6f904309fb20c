"""The BCSS warehouse on Spark: a `SparkEngine` behind the same `Engine` interface as DuckDB.

`primex linkage code --engine spark` runs the three heavy steps of coding in Spark: NISS
validation and pseudonymisation (one Arrow UDF, `mapInArrow`, that calls the same vectorised
`niss.check_column` and `pseudonymise_column` as the DuckDB path on each Arrow batch), and
the warehouse join at every `at:` point (the standard SQL of `primex.linkage.join`, run by
Spark SQL on the Parquet warehouse). The results come back to the driver as Arrow and are
normalised to the types DuckDB gives (Spark hands out large strings), so the coded file is
byte-identical to the DuckDB path's.

The project key reaches the executors only inside the UDF's closure, for the duration of
the job (Spark ships it with the task, in memory); it is never written to a table, a file
or a log. On a cluster turn on `spark.authenticate`, `spark.network.crypto.enabled` and
`spark.io.encryption.enabled` so that it is encrypted in transit and in any spill
(docs/scale.md).

PySpark is the optional extra `primex[spark]` (installed by `make`); it is imported only
when a Spark engine is asked for. Tests and this machine run Spark in local mode.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from primex.errors import PrimexError
from primex.linkage import niss
from primex.linkage.pseudonym import pseudonymise_column

DEFAULT_MASTER = "local[2]"


def spark_session(master: str | None = None) -> Any:
    """One Spark session per process (Spark allows only one active context): local mode by
    default, `PRIMEX_SPARK_MASTER` or `master` to point at a cluster."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise PrimexError(
            "the Spark engine needs PySpark", where="--engine spark",
            hint="install the extra: pip install 'primex[spark]' (make does it)",
        ) from None
    master = master or os.environ.get("PRIMEX_SPARK_MASTER") or DEFAULT_MASTER
    # the Python workers run the UDF: same interpreter (and venv) as this process
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    try:
        session = (
            SparkSession.builder.master(master)
            .appName("primex-bcss")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("PRIMEX_SPARK_SHUFFLE", "8"))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", os.environ.get("PRIMEX_SPARK_DRIVER_MEMORY", "2g"))
            # spills of the key-bearing job are encrypted (the key rides in task closures)
            .config("spark.io.encryption.enabled", "true")
            .getOrCreate()
        )
    except Exception as exc:  # no Java runtime, a JVM that fails to start, ...
        raise PrimexError(
            f"cannot start Spark ({type(exc).__name__})", where=f"master {master}",
            hint="install a Java runtime (17 or newer): scripts/test-system-deps.sh does it",
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def normalise_arrow(table: pa.Table) -> pa.Table:
    """Spark's Arrow types → DuckDB's: large strings/binaries to plain ones, no metadata."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_large_binary(t):
            t = pa.binary()
        fields.append(pa.field(f.name, t, f.nullable))
    return table.cast(pa.schema(fields))


class SparkEngine:
    """Spark SQL behind the `Engine` interface. Tables are temporary views over Parquet."""

    def __init__(self, session: Any = None, *, master: str | None = None) -> None:
        self.spark = session if session is not None else spark_session(master)
        self._views: list[str] = []

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        frame = self._sql(sql, params)
        return normalise_arrow(frame.toArrow())

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        self._sql(sql, params).collect()

    def _sql(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> Any:
        if params is None:
            return self.spark.sql(sql)
        if not isinstance(params, Mapping):
            raise PrimexError("the Spark engine takes named parameters only (:name)",
                              hint="pass a mapping of parameter names to values")
        return self.spark.sql(sql, args=dict(params))

    def register_parquet(self, name: str, path: Path) -> None:
        if not Path(path).exists():
            raise PrimexError("file not found", where=str(path))
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)
        self._views.append(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        self._views.append(name)

    def close(self) -> None:
        # the session is shared by the process (one JVM): only this engine's views go
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views.clear()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_CODED_SCHEMA = "row_pos long, nn11 string, reason byte, pseudonym string"


def check_and_pseudonymise(
    engine: SparkEngine, values: pa.Array | pa.ChunkedArray, project_key: bytes,
    *, partitions: int | None = None,
) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """NISS validation and pseudonymisation in Spark, one Arrow UDF per batch.

    Returns what the local path returns: nn11 per row (null when invalid), the reason code
    per row (0 = valid), and the pseudonyms of the valid rows in row order."""
    column = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    n = len(column)
    table = pa.table({"row_pos": pa.array(np.arange(n, dtype=np.int64)), "niss": column})
    key = bytes(project_key)  # captured by the closure: shipped with the tasks, never stored

    def code_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            nn11, reasons = niss.check_column(batch.column("niss"))
            valid = reasons == 0
            pseudonyms = np.full(len(batch), None, dtype=object)
            if valid.any():
                coded = pseudonymise_column(nn11.filter(pa.array(valid)), key)
                pseudonyms[valid] = coded.to_numpy(zero_copy_only=False)
            yield pa.RecordBatch.from_arrays(
                [batch.column("row_pos"), nn11, pa.array(reasons, pa.int8()),
                 pa.array(pseudonyms, pa.string())],
                names=["row_pos", "nn11", "reason", "pseudonym"],
            )

    frame = engine.spark.createDataFrame(table)
    if partitions:
        frame = frame.repartition(partitions)
    out = normalise_arrow(frame.mapInArrow(code_batches, _CODED_SCHEMA).toArrow())
    out = out.sort_by("row_pos")
    if out.num_rows != n or not np.array_equal(out.column("row_pos").to_numpy(), np.arange(n)):
        raise PrimexError("Spark lost or duplicated rows while coding", hint="report this bug")
    reasons = out.column("reason").to_numpy().astype(np.int8)
    pseudonyms = out.column("pseudonym").combine_chunks().filter(pa.array(reasons == 0))
    return out.column("nn11").combine_chunks(), reasons, pseudonyms
