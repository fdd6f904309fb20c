"""The one small engine interface behind which extraction and linkage SQL runs.

DuckDB (embedded) is the default. Queries are written in standard SQL against named tables so
that the same protocol can later run on another engine (e.g. Spark SQL) by implementing this
interface; nothing outside an Engine may import duckdb-specific APIs for extraction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from primex.errors import PrimexError


class Engine(Protocol):
    """What extraction and linkage code may ask of a SQL engine."""

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        ...

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (CREATE TEMP VIEW, ...)."""
        ...

    def register_parquet(self, name: str, path: Path) -> None:
        """Expose a Parquet file as a read-only view called `name`."""
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB, embedded. Opens a database file read-only unless asked otherwise."""

    def __init__(self, database: Path | str | None = None, *, read_only: bool = True) -> None:
        self.database = str(database) if database is not None else ":memory:"
        if database is not None and read_only and not Path(database).exists():
            raise PrimexError(
                "database not found",
                where=str(database),
                hint="generate the synthetic data with `primex synth generate` or check --home",
            )
        try:
            self._con = duckdb.connect(self.database, read_only=read_only and database is not None)
        except duckdb.Error as exc:
            raise PrimexError(f"cannot open database ({exc})", where=self.database) from None

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        if params is None:
            return self._con.sql(sql).to_arrow_table()
        return self._con.sql(sql, params=params).to_arrow_table()

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        self._con.execute(sql, params)

    def register_parquet(self, name: str, path: Path) -> None:
        if not Path(path).exists():
            raise PrimexError("file not found", where=str(path))
        safe = str(path).replace("'", "''")
        self._con.execute(
            f"CREATE OR REPLACE TEMP VIEW \"{name}\" AS SELECT * FROM read_parquet('{safe}')"
        )

    def attach(self, path: Path, alias: str) -> None:
        """Attach another DuckDB file read-only under `alias` (e.g. a PRIMA snapshot)."""
        safe = str(path).replace("'", "''")
        try:
            self._con.execute(f"ATTACH '{safe}' AS \"{alias}\" (READ_ONLY)")
        except duckdb.Error as exc:  # truncated, not a DuckDB file, another version's file
            raise PrimexError(
                f"cannot open the database ({type(exc).__name__})", where=str(path),
                hint="restore it from a backup, or regenerate it with `primex synth generate`",
            ) from exc

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for engine-specific code (writers, tests) only."""
        return self._con

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
