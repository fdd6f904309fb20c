"""Join the BCSS warehouse (`dwh_position`) at quarters relative to each spell's events.

A linkage point is `<event><sign><N>q`: `entry` is the quarter of `spell_start`, `exit` the
quarter of `spell_end`, and `exit+4q` the fourth quarter after the exit quarter. The linked
column is `<variable>_<event>_<p|m><N>q` (e.g. `position_group_exit_p4q`). A value is NULL
when the spell has no exit (still running), when the target quarter lies outside the
warehouse's quarters, or when the warehouse has no row for the person in that quarter; a
linked variable whose catalogue categories list the censoring codes
(`primex.catalogue.censoring`: position_group, position, wage_class) gets the code of that
reason instead of NULL (censoring is data, not an error), as text; a NULL in a warehouse row
that exists (a wage class outside employment) gets `not_applicable` when the catalogue lists
it.

Quarters are compared as integers `year * 4 + quarter - 1` computed with EXTRACT on dates,
on both sides, so the SQL stays standard (DuckDB now, Spark SQL later) and no engine-specific
date arithmetic is needed. Everything runs through the `Engine` interface.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from primex.catalogue import load_catalogue
from primex.catalogue.censoring import (
    CENSORING_CODES,
    NO_WAREHOUSE_RECORD,
    NOT_APPLICABLE,
    NOT_OBSERVED_OUTSIDE_DATA,
    NOT_OBSERVED_RUNNING,
)
from primex.errors import IntegrityError, PrimexError
from primex.extract.engine import Engine

_POINT = re.compile(r"(entry|exit)([+-])(\d{1,2})q")
POSITION_TABLE = "dwh_position"


@dataclass(frozen=True)
class LinkPoint:
    """One linked column: a warehouse variable at one quarter relative to an event."""

    variable: str
    event: str  # entry | exit
    offset: int  # quarters, may be negative
    written_minus: bool = False  # `-0q` as written in the request (names it `_m0q`)

    @property
    def suffix(self) -> str:
        sign = "m" if self.offset < 0 or self.written_minus else "p"
        return f"{self.event}_{sign}{abs(self.offset)}q"

    @property
    def column(self) -> str:
        return f"{self.variable}_{self.suffix}"


def censored_variables() -> set[str]:
    """Linkable categories whose catalogue codes include every censoring code."""
    return {
        v.name for v in load_catalogue()
        if v.source == "bcss" and v.categories and set(CENSORING_CODES) <= set(v.codes)
    }


def not_applicable_variables() -> set[str]:
    """Linkable categories that list `not_applicable` (a NULL in an existing row)."""
    return {v.name for v in load_catalogue() if v.source == "bcss" and NOT_APPLICABLE in v.codes}


def warehouse_columns() -> dict[str, str]:
    """Linkable variables (catalogue, source bcss, table dwh_position) → their column."""
    out: dict[str, str] = {}
    for var in load_catalogue():
        if var.source == "bcss" and var.table == POSITION_TABLE and var.column:
            out[var.name] = var.column
    return out


def parse_points(linkage: Iterable[Any]) -> list[LinkPoint]:
    """The linkage blocks of a request (pydantic `Linkage` or dicts) as link points, in the
    order of the spec, duplicates removed."""
    available = warehouse_columns()
    points: list[LinkPoint] = []
    for i, block in enumerate(linkage):
        data: Mapping[str, Any] = block if isinstance(block, Mapping) else block.model_dump()
        variables = list(data.get("variables") or [])
        ats = list(data.get("at") or [])
        if not variables or not ats:
            raise PrimexError("a linkage block needs variables and at", where=f"linkage[{i}]")
        for variable in variables:
            if variable not in available:
                raise PrimexError(
                    f"{variable!r} is not a warehouse variable that can be linked",
                    where=f"linkage[{i}].variables",
                    hint=f"one of {', '.join(sorted(available))}",
                )
            for at in ats:
                match = _POINT.fullmatch(str(at))
                if match is None:
                    raise PrimexError(
                        f"{at!r} is not a linkage point",
                        where=f"linkage[{i}].at",
                        hint="write event and offset in quarters: exit+4q, entry-4q",
                    )
                event, sign, n = match.groups()
                point = LinkPoint(variable, event, int(n) if sign == "+" else -int(n),
                                  written_minus=sign == "-" and int(n) == 0)
                if point not in points:
                    points.append(point)
    return points


def quarter_index(date_sql: str) -> str:
    """SQL for the integer quarter index of a DATE expression (NULL stays NULL)."""
    return f"(EXTRACT(YEAR FROM {date_sql}) * 4 + EXTRACT(QUARTER FROM {date_sql}) - 1)"


def warehouse_quarters(engine: Engine) -> tuple[int | None, int | None]:
    """First and last quarter index present in dwh_position.

    MIN/MAX of the bare date column (the quarter index grows with the date): engines answer
    it from Parquet statistics or a one-column scan instead of computing every row's index."""
    row = engine.query(
        f"SELECT MIN(quarter_end) AS lo, MAX(quarter_end) AS hi FROM {POSITION_TABLE}"
    ).to_pylist()[0]
    lo, hi = row["lo"], row["hi"]
    return (lo.year * 4 + (lo.month - 1) // 3 if lo is not None else None,
            hi.year * 4 + (hi.month - 1) // 3 if hi is not None else None)


def join_positions(engine: Engine, persons: str, points: list[LinkPoint]) -> pa.Table:
    """Linked columns for every row of the view `persons` (row_pos = 0..n-1, niss,
    spell_start, spell_end), plus `in_warehouse` (the person is in dwh_person), in row_pos
    order.

    The engine joins each person to their warehouse quarters on the NISS alone and keeps the
    quarters within the requested offsets of an event; the rows are then put in place per
    link point with Arrow `take`. Measured 3x faster than a cross join with the link points
    followed by a GROUP BY pivot (the SQL stays standard either way).
    """
    columns = warehouse_columns()
    n = int(engine.query(f"SELECT COUNT(*) AS n FROM {persons}").to_pylist()[0]["n"])
    present = np.zeros(n, dtype=bool)
    found = engine.query(
        f"SELECT row_pos FROM {persons} WHERE niss IN (SELECT niss FROM dwh_person)"
    ).column("row_pos").to_numpy()
    present[found] = True
    out: dict[str, pa.Array] = {
        "row_pos": pa.array(np.arange(n, dtype=np.int64)),
        "in_warehouse": pa.array(present),
    }
    if not points:
        return pa.table(out)
    matched: dict[str, np.ndarray] = {}
    needed = sorted({columns[p.variable] for p in points})
    windows = []
    for event in ("entry", "exit"):
        offsets = [p.offset for p in points if p.event == event]
        if offsets:
            windows.append(f"(d.q - p.{event}_q BETWEEN {min(offsets)} AND {max(offsets)})")
    span = _quarter_span(engine, persons, points)
    if span is None:  # no event to link at: nothing can match
        span = (date(1, 1, 1), date(1, 1, 1))
    sql = f"""
WITH p AS (
  SELECT row_pos, niss,
         {quarter_index('spell_start')} AS entry_q,
         {quarter_index('spell_end')} AS exit_q
  FROM {persons}
)
SELECT p.row_pos, d.q - p.entry_q AS rel_entry, d.q - p.exit_q AS rel_exit,
       {', '.join(f'd.{c}' for c in needed)}
FROM p
JOIN (SELECT niss, {quarter_index('quarter_end')} AS q, {', '.join(needed)}
      FROM {POSITION_TABLE}
      WHERE quarter_end >= DATE '{span[0].isoformat()}'
        AND quarter_end <= DATE '{span[1].isoformat()}') d
  ON d.niss = p.niss
WHERE {' OR '.join(windows)}
"""
    matches = engine.query(sql)
    row_pos = matches.column("row_pos").to_numpy()
    rel = {
        "entry": matches.column("rel_entry").to_numpy(zero_copy_only=False),
        "exit": matches.column("rel_exit").to_numpy(zero_copy_only=False),
    }
    value_columns = {c: matches.column(c).combine_chunks() for c in needed}
    for point in points:
        # rel_exit is NULL (NaN) when the spell has no exit: it never equals an offset
        mask = rel[point.event] == point.offset
        rows = row_pos[mask]
        index = np.full(n, -1, dtype=np.int64)
        index[rows] = np.arange(len(rows), dtype=np.int64)
        if not np.array_equal(index[rows], np.arange(len(rows))):  # a row was overwritten
            raise IntegrityError(
                f"the warehouse has several {POSITION_TABLE} rows for one person and quarter",
                where=f"warehouse {POSITION_TABLE}", hint="deduplicate the warehouse table",
            )
        values = value_columns[columns[point.variable]].filter(pa.array(mask))
        out[point.column] = values.take(pa.array(index, mask=index < 0))
        matched[point.column] = index >= 0
    censored = censored_variables()
    if any(p.variable in censored for p in points):
        reasons = _censoring_reasons(engine, persons, points, n)
        applies = not_applicable_variables()
        for point in points:
            if point.variable in censored:
                col = out[point.column]
                why = reasons[point.suffix]
                if point.variable in applies:  # a row that exists, with no value for it
                    why = np.where(matched[point.column], NOT_APPLICABLE, why).astype(object)
                out[point.column] = pc.if_else(
                    pc.is_null(col), pa.array(why, pa.string()), col.cast(pa.string()))
    return pa.table(out)


def _censoring_reasons(
    engine: Engine, persons: str, points: list[LinkPoint], n: int
) -> dict[str, np.ndarray]:
    """Per link point and row: the censoring code a NULL linked value stands for."""
    lo, hi = warehouse_quarters(engine)
    rows = engine.query(
        f"SELECT row_pos, {quarter_index('spell_start')} AS entry_q, "
        f"{quarter_index('spell_end')} AS exit_q FROM {persons}"
    )
    pos = rows.column("row_pos").to_numpy()
    event_q = {}
    for event in ("entry", "exit"):
        q = np.full(n, np.nan)
        q[pos] = rows.column(f"{event}_q").to_numpy(zero_copy_only=False).astype(np.float64)
        event_q[event] = q
    out: dict[str, np.ndarray] = {}
    for point in points:
        target = event_q[point.event] + point.offset
        inside = (np.isfinite(target) & (lo is not None) & (hi is not None)
                  & (target >= (lo if lo is not None else 0))
                  & (target <= (hi if hi is not None else -1)))
        out[point.suffix] = np.where(
            ~np.isfinite(target), NOT_OBSERVED_RUNNING,
            np.where(inside, NO_WAREHOUSE_RECORD, NOT_OBSERVED_OUTSIDE_DATA)).astype(object)
    return out


def _quarter_span(
    engine: Engine, persons: str, points: list[LinkPoint]
) -> tuple[date, date] | None:
    """First and last day of the quarters any link point can reach. The warehouse scan is
    bounded by them (a plain range on the date column: engines skip whole Parquet files and
    row groups by their statistics, e.g. the quarters of a 100-quarter warehouse a request
    never looks at); the per-person windows then pick the exact quarters."""
    row = engine.query(
        f"SELECT MIN({quarter_index('spell_start')}) AS entry_lo, "
        f"MAX({quarter_index('spell_start')}) AS entry_hi, "
        f"MIN({quarter_index('spell_end')}) AS exit_lo, "
        f"MAX({quarter_index('spell_end')}) AS exit_hi FROM {persons}"
    ).to_pylist()[0]
    lows, highs = [], []
    for event in ("entry", "exit"):
        offsets = [p.offset for p in points if p.event == event]
        if offsets and row[f"{event}_lo"] is not None:
            lows.append(int(row[f"{event}_lo"]) + min(offsets))
            highs.append(int(row[f"{event}_hi"]) + max(offsets))
    if not lows:
        return None
    lo, hi = max(min(lows), 4), max(max(highs), 4)  # not before year 1
    first = date(lo // 4, 3 * (lo % 4) + 1, 1)
    after = hi + 1
    last = date.fromordinal(date(after // 4, 3 * (after % 4) + 1, 1).toordinal() - 1)
    return first, last


def target_quarters(
    engine: Engine, persons: str, points: list[LinkPoint]
) -> dict[str, dict[str, int]]:
    """Per link point: rows whose target quarter is undefined (no exit), outside the
    warehouse's quarters, or inside them (where a NULL means no warehouse row)."""
    lo, hi = warehouse_quarters(engine)
    out: dict[str, dict[str, int]] = {}
    for event, offset in sorted({(p.event, p.offset) for p in points}):
        source = "spell_start" if event == "entry" else "spell_end"
        q = f"({quarter_index(source)} + {offset})"
        inside = "FALSE" if lo is None or hi is None else f"{q} BETWEEN {lo} AND {hi}"
        row = engine.query(
            f"SELECT SUM(CASE WHEN {source} IS NULL THEN 1 ELSE 0 END) AS no_event, "
            f"SUM(CASE WHEN {source} IS NOT NULL AND NOT ({inside}) THEN 1 ELSE 0 END) "
            f"AS beyond_data, SUM(CASE WHEN {inside} THEN 1 ELSE 0 END) AS in_range "
            f"FROM {persons}"
        ).to_pylist()[0]
        for suffix in {p.suffix for p in points if (p.event, p.offset) == (event, offset)}:
            out[suffix] = {k: int(v or 0) for k, v in row.items()}
    return out
