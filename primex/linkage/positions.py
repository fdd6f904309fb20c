"""BCSS side: the labour-market positions of the basic application's leavers.

The SPP sends the leavers (NISS, observation quarter, a few coarse dimensions, lag); the BCSS
looks up each one's position group in its warehouse at that quarter and sends back the same
rows WITHOUT the NISS (the SPP's `primex.extract.outcomes.bcss_positions` did the same on the
demo's one home; `primex bcss serve` runs this one). A leaver the warehouse does not know for
that quarter gets a missing position group. Rows come back in a fixed order, so the same
leavers on the same warehouse give the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from primex.errors import PrimexError
from primex.extract.engine import DuckDBEngine

COLUMNS = ["period", "region", "sex", "age_band", "position_group", "lag_q"]
NEEDED = {"niss", "period", "region", "sex", "age_band", "lag_q"}
_QUARTER = re.compile(r"\d{4}Q[1-4]")


def positions(warehouse: Path, leavers_parquet: Path) -> pa.Table:
    """The leavers of `leavers_parquet` with their position group, no NISS."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(leavers_parquet)
    missing = NEEDED - set(schema.names)
    if missing:
        raise PrimexError(f"the leavers list has no column {', '.join(sorted(missing))}",
                          where="leavers.parquet")
    if not warehouse.exists():
        raise PrimexError("the BCSS warehouse is missing", where=str(warehouse))
    with DuckDBEngine(warehouse) as wh:
        wh.connection.execute("SET enable_progress_bar = false")
        wh.register_parquet("leavers", leavers_parquet)
        quarters = [r["period"] for r in wh.query(
            "SELECT DISTINCT period FROM leavers ORDER BY period").to_pylist()]
        if not all(isinstance(q, str) and _QUARTER.fullmatch(q) for q in quarters):
            raise PrimexError("observation quarters must be labels like 2024Q1",
                              where="leavers.parquet")
        if not quarters:
            return pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
        listed = ", ".join(f"'{q}'" for q in quarters)
        return wh.query(
            "SELECT l.period, l.region, l.sex, l.age_band, d.position_group, l.lag_q "
            "FROM leavers l LEFT JOIN (SELECT niss, quarter, position_group "
            f"FROM dwh_position WHERE quarter IN ({listed})) d "
            "ON d.niss = l.niss AND d.quarter = l.period "
            "ORDER BY l.niss, l.period, l.lag_q"
        )
