"""The BCSS warehouse as Parquet partitioned by quarter, written as a stream.

Layout (what `primex.linkage.engines` reads with DuckDB or Spark):

    <folder>/dwh_person/part-0.parquet
    <folder>/dwh_position/quarter=2024Q1/part-0.parquet   (one folder per quarter)

Two writers:

* `export_warehouse(duckdb_file, folder)`: the synthetic warehouse of `primex synth
  generate` (same rows) as Parquet; DuckDB's COPY streams it, nothing is held in memory.
* `write_scale_warehouse(...)`: a warehouse of any size for benchmarks: `persons` people
  (optionally including given NISS, e.g. those of an extract) × the given quarters. Each
  quarter is drawn from the previous one (a sticky chain over the comparison population's
  positions of `primex.synthetic.warehouse`) and written at once, so memory holds one quarter
  of one column set (O(persons)), never the warehouse: 200 M person-quarters stream in a few
  hundred MB.

Both write into a temporary folder beside the target and rename it at the end (nothing
half-written is left under the final name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from primex import atomic
from primex.errors import PrimexError
from primex.synthetic import niss as nisslib
from primex.synthetic import warehouse as W

ROW_GROUP = 1_000_000
_STAY = 0.9
_WAGE = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], dtype=np.int16)


@contextlib.contextmanager
def _atomic_folder(target: Path) -> Iterator[Path]:
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise PrimexError("exists and is not a folder", where=str(target),
                          hint="give a folder for the Parquet warehouse")
    # a fixed staging name: a killed run's leftover is removed by the next one
    with atomic.publish_folder(target, fixed_staging=True, mode=0o755) as tmp:
        yield tmp


def export_warehouse(source: Path, folder: Path) -> Path:
    """Copy `dwh_person` and `dwh_position` of a DuckDB warehouse into a Parquet folder."""
    with _atomic_folder(folder) as tmp:
        con = duckdb.connect(str(source), read_only=True)
        try:
            con.execute("SET preserve_insertion_order = true")
            (tmp / "dwh_person").mkdir()
            person = str(tmp / "dwh_person" / "part-0.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM dwh_person ORDER BY niss) TO '{person}' "
                        "(FORMAT parquet, COMPRESSION zstd)")
            position = str(tmp / "dwh_position").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM dwh_position ORDER BY quarter, niss) TO "
                        f"'{position}' (FORMAT parquet, COMPRESSION zstd, "
                        "PARTITION_BY (quarter), FILENAME_PATTERN 'part-{i}')")
        finally:
            con.close()
    return folder


@dataclass(frozen=True)
class ScaleWarehouse:
    folder: Path
    persons: int
    quarters: int

    @property
    def rows(self) -> int:
        return self.persons * self.quarters


def niss_strings(numbers: np.ndarray) -> pa.Array:
    """int64 numbers → an Arrow string array of 11 digits (vectorised, no Python strings)."""
    n = len(numbers)
    powers = 10 ** np.arange(10, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + ord("0")).astype(np.uint8)
    offsets = np.arange(0, 11 * (n + 1), 11, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(digits.tobytes())])


def _quarter_end(q: int) -> date:
    year, quarter = divmod(q, 4)
    month = 3 * quarter + 3
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def _people(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` valid, distinct synthetic NISS (int64) born 1940-2007."""
    birth = (np.datetime64("1940-01-01") + rng.integers(0, 68 * 365, n)).astype("datetime64[D]")
    male = rng.random(n) < 0.5
    bis = np.zeros(n, dtype=bool)
    return nisslib.build_numbers(birth, nisslib.assign_serials(rng, birth, male, bis), bis)


def write_scale_warehouse(
    folder: Path,
    persons: int,
    quarters: list[int],
    *,
    seed: int = 1,
    include: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
) -> ScaleWarehouse:
    """Write `persons` × `quarters` person-quarters (quarter indices year*4 + q-1), streamed.

    `include`: NISS (int64) that must be among the persons (e.g. an extract's), the others
    are drawn. Rows are sorted by NISS within each quarter's file."""
    rng = np.random.default_rng(seed)
    extra = np.unique(include.astype(np.int64)) if include is not None else np.zeros(0, np.int64)
    if len(extra) > persons:
        raise PrimexError("more NISS to include than persons", where="persons")
    numbers = np.unique(np.concatenate([extra, _people(rng, persons - len(extra))]))
    while len(numbers) < persons:  # a drawn number equal to an included one: draw again
        more = _people(rng, persons - len(numbers))
        numbers = np.unique(np.concatenate([numbers, more]))
    n = len(numbers)
    niss = niss_strings(numbers)
    groups = pa.array(W.GROUPS.tolist(), pa.string())
    codes = pa.array([str(c) for c in range(1000)], pa.string())
    u_leaf = rng.random(n)
    base_wage = (1 + rng.binomial(9, 0.5, n)).astype(np.int16)
    state = W._draw(rng, W._COMPARISON, n)
    with _atomic_folder(folder) as tmp:
        (tmp / "dwh_person").mkdir()
        birth = pa.array(np.full(n, np.datetime64("1980-01-01", "D")), pa.date32())
        sex = pa.DictionaryArray.from_arrays(
            pa.array((numbers // 100 % 10 % 2).astype(np.int8)), pa.array(["F", "M"])
        ).cast(pa.string())
        commune = pa.array(np.full(n, "21004", dtype=object), pa.string())
        pq.write_table(pa.table({"niss": niss, "birth_date": birth, "sex": sex,
                                 "commune": commune}),
                       tmp / "dwh_person" / "part-0.parquet", compression="zstd",
                       row_group_size=ROW_GROUP)
        schema = pa.schema([("niss", pa.string()), ("quarter_end", pa.date32()),
                            ("position", pa.string()), ("position_group", pa.string()),
                            ("wage_class", pa.int16())])
        for i, q in enumerate(quarters):
            move = rng.random(n) >= _STAY
            state = np.where(move, W._draw(rng, W._COMPARISON, n), state)
            g = state.astype(np.int8)
            code = W._leaf_codes(g, u_leaf, np.zeros(n, dtype=bool), np.full(n, 40))
            noise = np.where(rng.random(n) < 0.1, rng.choice(np.array([-1, 1]), n), 0)
            wage = np.where(g == W.EMPLOYEE, np.clip(base_wage + noise, 1, 10), 0)
            label = f"{q // 4}Q{q % 4 + 1}"
            part = tmp / "dwh_position" / f"quarter={label}"
            part.mkdir(parents=True)
            table = pa.table({
                "niss": niss,
                "quarter_end": pa.array(np.full(n, np.datetime64(_quarter_end(q), "D")),
                                        pa.date32()),
                "position": codes.take(pa.array(code.astype(np.int32))),
                "position_group": groups.take(pa.array(g.astype(np.int32))),
                "wage_class": pa.array(wage.astype(np.int16), mask=wage == 0),
            }, schema=schema)
            pq.write_table(table, part / "part-0.parquet", compression="zstd",
                           row_group_size=ROW_GROUP)
            del table
            if progress is not None:
                progress((i + 1) / len(quarters))
    return ScaleWarehouse(Path(folder), n, len(quarters))
