"""Load the synthetic PRIMA into a PostgreSQL database (`primex --prima URL synth generate`).

The tables are created with the same DDL as the DuckDB file (standard SQL types), filled by
ADBC's bulk ingestion (PostgreSQL's binary COPY, streamed from DuckDB as Arrow record
batches: the tables are never held whole in memory), indexed on the columns the extraction
joins and groups on, and analysed. Everything runs in one transaction: a failed load leaves
the previous tables in place.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from primex.adbc import connect, redact_url
from primex.errors import PrimexError
from primex.synthetic.store import PRIMA_DDL

BATCH_ROWS = 500_000
INDEXES = {
    "person": ["niss"],
    "benefit_month": ["spell_id", "niss", "recorded_on"],
    "employment_measure": ["niss"],
    "piis": ["niss"],
}


def load_prima(source: Path, url: str) -> dict[str, int]:
    """Copy every PRIMA table of the DuckDB file `source` into the database at `url`
    (replacing the tables of the same names). Returns the row count per table."""
    where = redact_url(url)
    con = connect(url, what="PostgreSQL")
    counts: dict[str, int] = {}
    src = duckdb.connect(str(source), read_only=True)
    try:
        cursor = con.cursor()
        for table, columns in PRIMA_DDL.items():
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            reader = src.sql(f"SELECT * FROM {table}").to_arrow_reader(BATCH_ROWS)
            counts[table] = int(cursor.adbc_ingest(table, reader, mode="append"))
            for column in INDEXES.get(table, []):
                cursor.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
            cursor.execute(f"ANALYZE {table}")
        # any other table of the file (e.g. `sample_design`, the sampling fraction the
        # protocols scale by) goes along with the types Arrow gives it
        names = [r[0] for r in src.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name").fetchall()]
        for table in names:
            if table in PRIMA_DDL:
                continue
            cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
            reader = src.sql(f'SELECT * FROM "{table}"').to_arrow_reader(BATCH_ROWS)
            counts[table] = int(cursor.adbc_ingest(table, reader, mode="create"))
        cursor.close()
        con.commit()
    except PrimexError:
        con.rollback()
        raise
    except Exception as exc:
        con.rollback()
        raise PrimexError(f"loading PRIMA into PostgreSQL failed ({type(exc).__name__})",
                          where=where, hint="the database was left as it was") from None
    finally:
        src.close()
        con.close()
    return counts

