"""PRIMA read where it lives: a PostgreSQL database, behind the same `Engine` interface.

`--prima postgresql://user@host:port/db` (or PRIMEX_PRIMA) points every SPP-side step at it.
The password never goes on the command line: libpq's usual PGPASSWORD / ~/.pgpass apply.

Driver: ADBC's PostgreSQL driver (`adbc-driver-postgresql`). It reads results with
PostgreSQL's binary COPY protocol straight into Arrow columns in C++, and binds parameters
from Arrow, so a query's result reaches DuckDB/Arrow without a Python object per value.
psycopg 3 can also COPY in binary, but its COPY rows arrive in Python (or need a hand-written
binary parser to reach Arrow); ADBC is the well-kept library that already does that.

The session is READ ONLY (the extraction must never write to the operational database);
temporary lookup tables are inlined as `WITH … AS (VALUES …)` instead.

Result types are normalised to what DuckDB gives for the same SQL: NUMERIC (which ADBC
returns as an opaque decimal string) becomes the DECIMAL of the column's typmod, and the
driver's field metadata is dropped (`primex.requests.prima_source.plain_arrow`); callers
that need exact byte-identity with the DuckDB path cast to the DuckDB schema of the same
query (`primex.extract.adhoc`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from primex.errors import PrimexError
from primex.redact import redact
from primex.requests.prima_source import connect, is_postgres_url, plain_arrow, redact_url

_NAMED = re.compile(r"\$(p\d+)\b")


def positional(sql: str, params: Mapping[str, Any] | Sequence[Any] | None
               ) -> tuple[str, list[Any]]:
    """`$p0`-style named parameters (what the extraction SQL uses) → PostgreSQL's `$1`."""
    if params is None:
        return sql, []
    if not isinstance(params, Mapping):
        values = list(params)
        count = iter(range(1, len(values) + 1))
        return re.sub(r"\?", lambda _m: f"${next(count)}", sql), values
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _NAMED.sub(number, sql), [params[name] for name in order]


class PostgresEngine:
    """A read-only PostgreSQL session (ADBC) behind the `Engine` interface."""

    def __init__(self, url: str) -> None:
        if not is_postgres_url(url):
            raise PrimexError("not a PostgreSQL URL", where="--prima",
                              hint="postgresql://user@host:port/database")
        self.url = url
        self.name = redact_url(url)
        self._con = connect(url)
        try:
            cursor = self._con.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            self._con.commit()  # the driver's open transaction ends: the next ones are read-only
        except Exception as exc:
            self._con.close()
            raise PrimexError(f"cannot open a read-only session ({type(exc).__name__})",
                              where=self.name) from None

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        text, values = positional(sql, params)
        cursor = self._con.cursor()
        try:
            cursor.execute(text, parameters=values or None)
            return plain_arrow(cursor.fetch_arrow_table())
        except Exception as exc:
            raise PrimexError(
                f"PRIMA query failed ({type(exc).__name__}: {_first_line(exc)})",
                where=self.name, hint="check PRIMA's tables against docs/data-model.md",
            ) from None
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        self.query(sql, params)

    def register_parquet(self, name: str, path: object) -> None:
        raise PrimexError("a PostgreSQL source reads no Parquet files", where=self.name)

    def schema_of(self, table: str) -> pa.Schema:
        """Arrow schema of a PRIMA table (normalised), from an empty result."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
            raise PrimexError(f"bad table name {table!r}")
        return self.query(f"SELECT * FROM {table} LIMIT 0").schema

    def close(self) -> None:
        try:
            self._con.rollback()
        finally:
            self._con.close()

    def __enter__(self) -> PostgresEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    # PostgreSQL's messages name objects and types, not values; keep the first line only
    text = str(exc).strip().splitlines()
    return redact(text[0][:200]) if text else ""


__all__ = ["PostgresEngine", "is_postgres_url", "positional", "redact_url"]
