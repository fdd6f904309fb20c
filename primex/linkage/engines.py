"""Which engine codes an extract on the BCSS side, and where its warehouse lives.

* `duckdb` (default): the warehouse is `<home>/bcss/warehouse.duckdb`, or a Parquet folder;
  NISS validation and pseudonymisation run in this process (vectorised Arrow/NumPy + the
  compiled HMAC kernel).
* `spark`: the warehouse is a Parquet folder (default `<home>/bcss/warehouse/`); validation,
  pseudonymisation and the join run in Spark (`primex.linkage.spark`).

A Parquet warehouse folder holds `dwh_person/*.parquet` and `dwh_position/` partitioned by
quarter (`quarter=2024Q1/*.parquet`), as `primex synth generate --warehouse-parquet` and
`primex.synthetic.warehouse_files` write it. Both engines read the same folder with the same
SQL and give the same bytes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from primex.errors import PrimexError
from primex.extract.engine import DuckDBEngine, Engine
from primex.home import Home
from primex.linkage import niss
from primex.linkage.pseudonym import pseudonymise_column

ENGINES = ("duckdb", "spark")
PARQUET_FOLDER = "warehouse"  # under <home>/bcss/
TABLES = ("dwh_person", "dwh_position")


def check_engine(name: str, home: Home, warehouse: Path | None = None) -> Path:
    """Refuse an unknown engine or a warehouse it cannot read, before any work; returns the
    warehouse path."""
    if name not in ENGINES:
        raise PrimexError(f"unknown engine {name!r}", where="--engine",
                          hint=f"one of {', '.join(ENGINES)}")
    path = Path(warehouse) if warehouse is not None else default_warehouse(home, name)
    if path.is_dir():
        _parquet_tables(path)
    elif name == "spark":
        raise PrimexError(
            "the Spark engine reads the warehouse as a Parquet folder", where=str(path),
            hint=f"give --warehouse a folder (default {home.bcss / PARQUET_FOLDER})",
        )
    elif not path.exists():
        raise PrimexError("warehouse not found", where=str(path),
                          hint="generate it with `primex synth generate` or give --warehouse")
    return path


def default_warehouse(home: Home, engine: str) -> Path:
    return home.bcss / PARQUET_FOLDER if engine == "spark" else home.warehouse_db


def _parquet_tables(folder: Path) -> dict[str, Path]:
    tables = {t: folder / t for t in TABLES}
    missing = [t for t, p in tables.items() if not p.is_dir()]
    if missing:
        raise PrimexError(
            f"the Parquet warehouse has no {', '.join(missing)} folder", where=str(folder),
            hint="write it with `primex synth generate --warehouse-parquet` (or export the "
                 "warehouse as dwh_person/ and dwh_position/quarter=…/ Parquet files)",
        )
    return tables


@contextlib.contextmanager
def open_warehouse(engine: str, home: Home, warehouse: Path | None = None) -> Iterator[Engine]:
    """An engine with the views `dwh_person` and `dwh_position`."""
    path = check_engine(engine, home, warehouse)
    if engine == "duckdb" and not path.is_dir():
        with DuckDBEngine(path) as duck:
            yield duck
        return
    tables = _parquet_tables(path)
    if engine == "duckdb":
        with DuckDBEngine(None) as duck:
            for name, folder in tables.items():
                glob = str(folder / "**" / "*.parquet").replace("'", "''")
                duck.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM read_parquet('{glob}', "
                             "hive_partitioning = true)")
            yield duck
        return
    from primex.linkage.spark import SparkEngine

    with SparkEngine() as spark:
        for name, folder in tables.items():
            spark.register_parquet(name, folder)
        yield spark


def check_and_pseudonymise(
    engine: str, values: pa.Array | pa.ChunkedArray, project_key: bytes
) -> tuple[pa.Array, np.ndarray, pa.Array]:
    """(nn11 per row, null when invalid; reason code per row, 0 = valid; pseudonyms of the
    valid rows in order), computed by the chosen engine."""
    if engine == "spark":
        from primex.linkage.spark import SparkEngine
        from primex.linkage.spark import check_and_pseudonymise as on_spark

        with SparkEngine() as spark:
            return on_spark(spark, values, project_key)
    nn11s, reasons = niss.check_column(values)
    valid = nn11s.filter(pa.array(reasons == 0))
    return nn11s, reasons, pseudonymise_column(valid, project_key)
