"""Labour-market outcomes of RI leavers, as the BCSS would deliver them.

In production the SPP sends the BCSS the list of leavers (NISS, exit quarter, the few coarse
dimensions a table needs); the BCSS links them to its data warehouse and sends back rows that
carry no NISS: one row per leaver with the socio-economic position at the observation quarter
("pseudonymised, aggregated-ready outcomes"). The basic application models exactly that
exchange with two functions and a file-free hand-over:

* `leavers()` runs on the SPP side (PRIMA);
* `bcss_positions()` stands in for the BCSS side. It opens the warehouse itself, which only
  the BCSS may do in production; the linkage engineer's code (`primex.linkage`) can replace
  this one function without touching the indicators. It never returns a NISS.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from primex.errors import PrimexError
from primex.extract.engine import DuckDBEngine, Engine

OUTCOME_COLUMNS = ["period", "region", "sex", "age_band", "position_group"]


def _quarter_index(label: str) -> int:
    return int(label[:4]) * 4 + int(label[-1]) - 1


def _empty() -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in
                     ["niss", *OUTCOME_COLUMNS[:-1], "lag_q"]})


def leavers(engine: Engine, offsets: tuple[int, ...], periods: list[str],
            data_end_mi: int) -> pa.Table:
    """SPP side: persons whose RI spell ended (exit known) `lag_q` quarters (one of `offsets`)
    before one of the `periods`; one row per person, observation quarter and lag (their latest
    exit in the cohort quarter). One hand-over serves every lag."""
    parts = []
    for lag in offsets:
        wanted = {_quarter_index(p) - lag: p for p in periods}  # cohort quarter -> observed
        if not wanted:
            continue
        table = engine.query(
            "SELECT LPAD(CAST(niss AS VARCHAR), 11, '0') AS niss, last_mi, "
            "CAST(FLOOR(last_mi / 3.0) AS INTEGER) AS cq, region, sex, "
            "age_band FROM sp_last WHERE benefit = 'RI' AND last_mi < ? AND "
            f"CAST(FLOOR(last_mi / 3.0) AS INTEGER) IN ({', '.join(map(str, sorted(wanted)))})",
            [data_end_mi],
        ).to_pandas()
        if table.empty:
            continue
        table["period"] = table["cq"].map(wanted)
        table = table.sort_values(["niss", "period", "last_mi"]).drop_duplicates(
            ["niss", "period"], keep="last"
        )
        table["lag_q"] = str(lag)
        parts.append(table[["niss", "period", "region", "sex", "age_band", "lag_q"]])
    if not parts:
        return _empty()
    frame = pd.concat(parts, ignore_index=True).astype("string").fillna("unknown")
    return pa.Table.from_pandas(frame, preserve_index=False)


_QUARTER = re.compile(r"\d{4}Q[1-4]")


@dataclass(frozen=True)
class WarehouseSource:
    """The BCSS side's engine for the outcomes (e.g. `primex.linkage.engines.open_warehouse`
    on Spark) and what the run's manifest records of it. Default: DuckDB on the protocol's
    warehouse file."""

    open: Callable[[], AbstractContextManager[Engine]]
    engine: str
    path: str


@contextmanager
def _duckdb_warehouse(path: Path) -> Iterator[Engine]:
    with DuckDBEngine(path) as wh:
        wh.connection.execute("SET enable_progress_bar = false")
        yield wh


def bcss_positions(warehouse: Path, people: pa.Table,
                   source: WarehouseSource | None = None) -> pd.DataFrame:
    """BCSS side (modelled): each leaver's position group at the observation quarter.

    Returns the columns of OUTCOME_COLUMNS plus `lag_q`, never the NISS. A leaver the
    warehouse does not know for that quarter gets a missing position group.
    """
    if people.num_rows == 0:
        return pd.DataFrame(columns=[*OUTCOME_COLUMNS, "lag_q"])
    opener = source.open if source is not None else (lambda: _duckdb_warehouse(warehouse))
    quarters = sorted(set(people.column("period").to_pylist()))
    if not all(isinstance(q, str) and _QUARTER.fullmatch(q) for q in quarters):
        raise PrimexError("observation quarters must be labels like 2024Q1",
                          where="outcomes", hint="report this bug")
    # literals, not parameters: every engine reads them the same way (and they prune the
    # warehouse's quarter partitions on Parquet)
    listed = ", ".join(f"'{q}'" for q in quarters)
    with tempfile.TemporaryDirectory(prefix="primex-bcss-") as tmp:
        handover = Path(tmp) / "leavers.parquet"
        pq.write_table(people, handover)
        with opener() as wh:
            wh.register_parquet("leavers", handover)
            # only the observed quarters of the warehouse (it holds every quarter since 1998)
            result = wh.query(
                "SELECT l.period, l.region, l.sex, l.age_band, d.position_group, l.lag_q "
                "FROM leavers l LEFT JOIN (SELECT niss, quarter, position_group "
                f"FROM dwh_position WHERE quarter IN ({listed})) d "
                "ON d.niss = l.niss AND d.quarter = l.period"
            ).to_pandas()
    return result[[*OUTCOME_COLUMNS, "lag_q"]]
