"""Writing the two DuckDB stores atomically, and their content hash.

A DuckDB file's bytes are not reproducible (page layout, free lists), so determinism is
proven on content: `content_hash` hashes every table's schema and its rows exported as CSV in
a canonical order (ORDER BY ALL). Same seed -> same hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from primex import atomic
from primex.errors import PrimexError

# DDL of every table (docs/data-model.md); inserts cast into these types
PRIMA_DDL = {
    "person": """niss VARCHAR(11) NOT NULL, birth_date DATE NOT NULL, sex VARCHAR NOT NULL,
        nationality VARCHAR NOT NULL, nationality_group VARCHAR NOT NULL,
        refugee BOOLEAN NOT NULL, household_id VARCHAR NOT NULL,
        household_type VARCHAR NOT NULL, household_size SMALLINT NOT NULL,
        commune VARCHAR(5) NOT NULL, sector VARCHAR(9) NOT NULL""",
    "benefit_month": """niss VARCHAR(11) NOT NULL, cpas VARCHAR(5) NOT NULL, month DATE NOT NULL,
        benefit VARCHAR NOT NULL, category SMALLINT NOT NULL, amount DECIMAL(10,2) NOT NULL,
        student BOOLEAN NOT NULL, spell_id BIGINT NOT NULL, recorded_on DATE NOT NULL""",
    "employment_measure": """niss VARCHAR(11) NOT NULL, cpas VARCHAR(5) NOT NULL,
        measure VARCHAR NOT NULL, start_date DATE NOT NULL, end_date DATE,
        outcome VARCHAR NOT NULL""",
    "piis": """niss VARCHAR(11) NOT NULL, cpas VARCHAR(5) NOT NULL, piis_type VARCHAR NOT NULL,
        start_date DATE NOT NULL, end_date DATE, outcome VARCHAR NOT NULL""",
    "population": """commune VARCHAR(5) NOT NULL, year SMALLINT NOT NULL, sex VARCHAR NOT NULL,
        age_band VARCHAR NOT NULL, population INTEGER NOT NULL""",
    "snapshot": """snapshot_date DATE NOT NULL, seed BIGINT NOT NULL, persons BIGINT NOT NULL,
        start_month DATE NOT NULL, months INTEGER NOT NULL, generator_version VARCHAR NOT NULL""",
}
WAREHOUSE_DDL = {
    "dwh_person": """niss VARCHAR(11) NOT NULL, birth_date DATE NOT NULL, sex VARCHAR NOT NULL,
        commune VARCHAR(5) NOT NULL""",
    "dwh_position": """niss VARCHAR(11) NOT NULL, quarter VARCHAR(6) NOT NULL,
        quarter_end DATE NOT NULL, position VARCHAR(3) NOT NULL,
        position_group VARCHAR NOT NULL, wage_class SMALLINT""",
}


@contextlib.contextmanager
def atomic_database(target: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a temporary file beside `target`, moved over it only on success."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PrimexError(
            f"cannot create the folder for the database ({exc.strerror})",
            where=str(target.parent),
            hint="choose another --home, --db or --warehouse",
        ) from None
    with atomic.replacing(target) as tmp:
        wal = tmp.with_name(tmp.name + ".wal")
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET threads = 2")
            con.execute("SET memory_limit = '3GB'")
            con.execute("SET preserve_insertion_order = true")
            yield con
            con.execute("CHECKPOINT")
            con.close()
        except BaseException:
            with contextlib.suppress(Exception):
                con.close()
            wal.unlink(missing_ok=True)
            raise
        wal.unlink(missing_ok=True)  # empty after CHECKPOINT
    target.with_name(target.name + ".wal").unlink(missing_ok=True)


def create_tables(con: duckdb.DuckDBPyConnection, ddl: dict[str, str]) -> None:
    for name, columns in ddl.items():
        con.execute(f"CREATE TABLE {name} ({columns})")


def insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, select: str) -> None:
    """INSERT INTO table SELECT <select> FROM the Arrow table (zero-copy scan)."""
    con.register("_src", data)
    try:
        con.execute(f"INSERT INTO {table} SELECT {select} FROM _src")
    finally:
        con.unregister("_src")


def content_hash(db_path: str | os.PathLike[str]) -> str:
    """SHA-256 over every table (sorted by name): its schema, then its rows as CSV in
    ORDER BY ALL order. Independent of the file's physical layout."""
    path = Path(db_path)
    if not path.is_file():
        raise PrimexError(
            "database not found", where=str(path), hint="run `primex synth generate` first"
        )
    digest = hashlib.sha256()
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:  # a CSV, a truncated file, a file of another program
        raise _not_duckdb(path, exc) from exc
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = 'main' "
                "ORDER BY table_name"
            ).fetchall()
        ]
        for table in tables:
            cols = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = 'main' "
                "AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            digest.update(f"table {table}\n".encode())
            digest.update("".join(f"{c} {t}\n" for c, t in cols).encode())
            reader = con.sql(f'SELECT * FROM "{table}" ORDER BY ALL').to_arrow_reader(
                batch_size=1 << 16
            )
            options = pacsv.WriteOptions(include_header=False)
            for batch in reader:
                sink = pa.BufferOutputStream()
                pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
                digest.update(sink.getvalue().to_pybytes())
    finally:
        con.close()
    return digest.hexdigest()


def is_duckdb_file(path: Path) -> bool:
    """True for an empty file or one with DuckDB's header magic (bytes 8-12 `DUCK`)."""
    with Path(path).open("rb") as fh:
        head = fh.read(12)
    return not head or head[8:12] == b"DUCK"


def _not_duckdb(path: Path, exc: Exception | None = None) -> PrimexError:
    what = f" ({type(exc).__name__})" if exc is not None else ""
    return PrimexError(f"not a readable DuckDB database{what}", where=str(path),
                       hint="give the .duckdb file written by `primex synth generate`")


def replace_population(db_path: Path, frame: pd.DataFrame) -> int:
    """Replace the `population` rows of the frame's years, in one transaction.

    Returns how many rows were replaced. The rest of PRIMA is untouched."""
    if not Path(db_path).is_file():
        raise PrimexError(
            "PRIMA database not found",
            where=str(db_path),
            hint="run `primex synth generate` first (or pass --db)",
        )
    if not is_duckdb_file(db_path):  # never open (for writing) a file of another program
        raise _not_duckdb(db_path)
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.Error as exc:
        raise _not_duckdb(db_path, exc) from exc
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "population" not in tables:
            raise PrimexError("no population table: not a PRIMA database", where=str(db_path),
                              hint="give the PRIMA written by `primex synth generate`")
        years = sorted(int(y) for y in frame["year"].unique())
        con.execute("BEGIN TRANSACTION")
        try:
            placeholders = ", ".join("?" for _ in years)
            replaced = con.execute(
                f"SELECT count(*) FROM population WHERE year IN ({placeholders})", years
            ).fetchone()[0]
            con.execute(f"DELETE FROM population WHERE year IN ({placeholders})", years)
            con.register("_pop", pa.Table.from_pandas(frame, preserve_index=False))
            con.execute(
                "INSERT INTO population SELECT commune, year, sex, age_band, population "
                "FROM _pop ORDER BY commune, year, sex, age_band"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return int(replaced)
