"""Where the SPP reads PRIMA: the embedded DuckDB file, or a PostgreSQL server (`--prima`).

This is the first step of the flow that reads PRIMA (validation checks the data's coverage,
the pre-assessment measures risk on it), so the pieces every later SPP-side step shares live
here: recognising and redacting a server URL, connecting with ADBC, and turning the driver's
Arrow into plain Arrow (`primex.extract.postgres` builds its engine on them; the import
rules let later steps import earlier ones, not the reverse).

For the request checks, `open_prima(home)` gives a DuckDB connection either way: the file
read-only, or an in-memory database holding the PRIMA tables read from the server as Arrow
(their SQL is DuckDB's and small next to an extraction).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from primex import adbc
from primex.adbc import SCHEMES, is_postgres_url, redact_url
from primex.errors import PrimexError
from primex.home import Home

REQUEST_TABLES = ("person", "benefit_month", "employment_measure", "piis", "snapshot")
__all__ = ["SCHEMES", "connect", "is_postgres_url", "plain_arrow", "redact_url"]


def connect(url: str) -> Any:
    """An ADBC connection to PRIMA (binary COPY into Arrow; see primex.extract.postgres)."""
    if not is_postgres_url(url):
        raise PrimexError("not a PostgreSQL URL", where="--prima",
                          hint="postgresql://user@host:port/database")
    return adbc.connect(url, what="PRIMA")


def _decimal_of(field: pa.Field) -> pa.DataType | None:
    meta = field.metadata or {}
    if meta.get(b"POSTGRESQL:type") != b"numeric":
        return None
    typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
    if typmod < 4:  # NUMERIC without precision: the widest exact decimal
        return pa.decimal128(38, 10)
    return pa.decimal128((typmod - 4) >> 16, (typmod - 4) & 0xFFFF)


def plain_arrow(table: pa.Table) -> pa.Table:
    """The driver's Arrow → plain Arrow: NUMERIC (an opaque decimal string) becomes the
    DECIMAL of its typmod, the driver's field metadata goes."""
    arrays, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        decimal = _decimal_of(field)
        if decimal is not None:
            storage = pa.chunked_array(
                [c.storage if isinstance(c, pa.ExtensionArray) else c for c in column.chunks],
                type=pa.string())
            column = pc.cast(storage, decimal)
        arrays.append(column)
        fields.append(pa.field(field.name, column.type, field.nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def open_prima(home: Home) -> Any:
    """A DuckDB connection to PRIMA for the request checks; the caller closes it."""
    import duckdb

    if not home.prima_url:
        return duckdb.connect(str(home.prima_db), read_only=True)
    con = connect(home.prima_url)
    duck = duckdb.connect()
    try:
        cursor = con.cursor()
        for name in REQUEST_TABLES:
            cursor.execute(f"SELECT * FROM {name}")
            duck.register(f"_pg_{name}", plain_arrow(cursor.fetch_arrow_table()))
            duck.execute(f"CREATE TABLE {name} AS SELECT * FROM _pg_{name}")
            duck.unregister(f"_pg_{name}")
        cursor.close()
    except PrimexError:
        duck.close()
        raise
    except Exception as exc:
        duck.close()
        raise PrimexError(f"cannot read PRIMA ({type(exc).__name__})",
                          where=redact_url(home.prima_url),
                          hint="check the tables against docs/data-model.md") from None
    finally:
        con.rollback()
        con.close()
    return duck
