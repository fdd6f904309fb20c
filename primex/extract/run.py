"""Run a protocol: read a PRIMA snapshot, compute the indicator cells, write them and a manifest.

`run_protocol()` is what `primex extract run` calls; `verify_manifest()` reruns a manifest's
run in a temporary folder and compares every output byte for byte.

Outputs (under `<home>/spp/extracts/<protocol>/<period>/snapshot-<date>/`): `indicators.parquet`
(one row per indicator, period, breakdown and key: numerator, denominator, contributors,
value, revised flag), `protocol.yaml` (the exact protocol that ran) and `manifest.json`.
These cells are *not yet protected*: they stay on the SPP side; the dashboard protects them
with the chosen dissemination profile before anything is published.
"""

from __future__ import annotations

import calendar
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from primex import atomic
from primex.catalogue import geography
from primex.errors import ConfigError, IntegrityError, PrimexError
from primex.extract import outcomes as outcomes_mod
from primex.extract.engine import DuckDBEngine, Engine
from primex.extract.indicators import AGE_BANDS, CELL_COLUMNS, INDICATORS, SECTOR
from primex.extract.manifest import (
    KIND,
    MANIFEST,
    atomic_write,
    code_version,
    dumps,
    file_entries,
    read_manifest,
    sha256_file,
)
from primex.extract.postgres import PostgresEngine, redact_url
from primex.extract.protocol import Protocol, parse_protocol
from primex.home import Home

PRIMA_TABLES = ("person", "benefit_month", "employment_measure", "piis", "population", "snapshot")
OUTPUT = "indicators.parquet"
# Optional one-row table of a SAMPLE of PRIMA (the synthetic store writes it): the fraction of
# Belgium's beneficiaries it holds. Rates then divide by the population times that fraction,
# so a sample is compared with a population of its own scale. Absent (real PRIMA): 1.
SAMPLE_TABLE = "sample_design"
OUTCOME_LAGS = (4, 8)  # quarters after leaving RI (outcome_work_4q / _8q, position_4q / _8q)
# columns of bm a series breakdown may use in the person-period table `ppr`
PPR_DIMS = ("region", "province", "arrondissement", "commune", "category", "sex", "age_band",
            "nationality_group")
SCHEMA = pa.schema([
    ("indicator", pa.string()), ("period_type", pa.string()), ("period", pa.string()),
    ("breakdown", pa.string()), ("key", pa.string()), ("numerator", pa.float64()),
    ("denominator", pa.float64()), ("n", pa.int64()), ("n_den", pa.int64()),
    ("value", pa.float64()), ("revised", pa.bool_()), ("previous_value", pa.float64()),
])


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # first day of the first month
    end: date  # first day of the last month
    months: int

    @property
    def last_day(self) -> date:
        return date(self.end.year, self.end.month, calendar.monthrange(*_ym(self.end))[1])


def _ym(d: date) -> tuple[int, int]:
    return d.year, d.month


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def month_of(mi: int) -> date:
    return date(mi // 12, mi % 12 + 1, 1)


def parse_period(text: str, grain: str) -> Period:
    """`2025Q2` (quarter grain) or `2024` (year grain)."""
    t = text.strip().upper()
    try:
        if grain == "quarter":
            year, q = t.split("Q")
            y, qn = int(year), int(q)
            if len(year) != 4 or not 1 <= qn <= 4:
                raise ValueError
            start = date(y, 3 * qn - 2, 1)
            return Period(f"{y}Q{qn}", start, date(y, 3 * qn, 1), 3)
        y = int(t)
        if len(t) != 4:
            raise ValueError
        return Period(f"{y}", date(y, 1, 1), date(y, 12, 1), 12)
    except ValueError:
        example = "2025Q2" if grain == "quarter" else "2024"
        raise PrimexError(f"bad period {text!r}", where="--period",
                          hint=f"a {grain} like {example}") from None


@dataclass
class Context:
    """What indicator computations may use (see primex.extract.indicators)."""

    engine: Engine
    grain: str
    periods: list[Period]
    data_start_mi: int
    data_end_mi: int
    series_start: date
    outcomes_for: Callable[[int], pd.DataFrame | None] = field(repr=False)
    transitions_for: Callable[[], pd.DataFrame | None] = field(default=lambda: None,
                                                               repr=False)
    target: str = ""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    series_breakdowns: tuple[str, ...] = ("total", "region")
    ppr_columns: tuple[str, ...] = ("region",)

    @property
    def months_in(self) -> dict[str, int]:
        return {p.label: p.months for p in self.periods}

    def outcomes(self, offset: int) -> pd.DataFrame | None:
        return self.outcomes_for(offset)

    def transitions(self) -> pd.DataFrame | None:
        return self.transitions_for()


# --- labour-market transitions (BCSS data warehouse positions) ------------------------------

TRANSITION_LAG = 4  # quarters between the two positions of a transition


def _shift(label: str, quarters: int) -> str:
    index = int(label[:4]) * 4 + int(label[-1]) - 1 + quarters
    return f"{index // 4}Q{index % 4 + 1}"


def _transition_cohorts(engine: Engine, periods: list[str]) -> pa.Table:
    """SPP side: for each observed quarter q, the persons with RI or ERIS in the last month of
    q - 4 (cohort `from_cpas`: where do they stand a year later?) and in the last month of q
    (cohort `to_cpas`: where did they stand a year before?), with their region."""
    wanted: list[tuple[int, str, str]] = []  # (month index, period, cohort)
    for q in periods:
        for cohort, at in (("from_cpas", _shift(q, -TRANSITION_LAG)), ("to_cpas", q)):
            year, qn = int(at[:4]), int(at[-1])
            wanted.append((year * 12 + 3 * qn - 1, q, cohort))
    if not wanted:
        return pa.table({c: pa.array([], pa.string())
                         for c in ("niss", "region", "period", "cohort")})
    # one pass over the person-months, in SQL (bm has one row per person and month); the
    # cohort labels are validated period labels and fixed names
    marks = ", ".join(f"({mi}, '{q}', '{cohort}')" for mi, q, cohort in wanted)
    return engine.query(
        "SELECT LPAD(CAST(b.niss AS VARCHAR), 11, '0') AS niss, "
        "COALESCE(b.region, 'unknown') AS region, w.period, w.cohort FROM bm b "
        f"JOIN (VALUES {marks}) AS w(mi, period, cohort) ON w.mi = b.mi "
        "ORDER BY w.period, w.cohort, b.niss")


def bcss_transitions(warehouse: Path, people: pa.Table) -> pd.DataFrame:
    """BCSS side (modelled like primex.extract.outcomes.bcss_positions): each person's
    position group on the last day of q - 4 and of q. Never returns the NISS."""
    columns = ["period", "cohort", "region", "from_group", "to_group"]
    if people.num_rows == 0:
        return pd.DataFrame(columns=columns)
    with tempfile.TemporaryDirectory(prefix="primex-bcss-") as tmp:
        handover = Path(tmp) / "cohorts.parquet"
        pq.write_table(people, handover)
        with DuckDBEngine(warehouse) as wh:
            wh.connection.execute("SET enable_progress_bar = false")
            wh.register_parquet("cohorts", handover)
            periods = sorted(set(people.column("period").to_pylist()))
            pairs = ", ".join(f"('{p}', '{_shift(p, -TRANSITION_LAG)}')" for p in periods)
            result = wh.query(
                "SELECT c.period, c.cohort, c.region, a.position_group AS from_group, "
                "b.position_group AS to_group FROM cohorts c "
                f"JOIN (VALUES {pairs}) AS q(period, before) ON q.period = c.period "
                "JOIN dwh_position a ON a.niss = c.niss AND a.quarter = q.before "
                "JOIN dwh_position b ON b.niss = c.niss AND b.quarter = c.period").to_pandas()
    return result[columns]


@dataclass(frozen=True)
class RunResult:
    folder: Path
    manifest: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    @property
    def indicators_path(self) -> Path:
        return self.folder / OUTPUT


# --- sources -------------------------------------------------------------------------------


def _open_prima(protocol: Protocol, home: Home, snapshot: date | None = None
                ) -> tuple[DuckDBEngine, list[dict[str, Any]]]:
    """An in-memory engine with the PRIMA tables as views, and the source hashes."""
    path = protocol.prima.resolve(home.root)
    engine = DuckDBEngine(None)
    files: list[dict[str, Any]] = []
    if home.prima_url:  # `--prima postgresql://…` overrides the protocol's file source
        try:
            _load_postgres(engine, home.prima_url, snapshot)
        except BaseException:
            engine.close()
            raise
        engine.connection.execute("SET enable_progress_bar = false")
    elif protocol.prima.kind == "duckdb":
        if not path.exists():
            engine.close()
            raise PrimexError("PRIMA database not found", where=str(path),
                              hint="generate it with `primex synth generate` or check --home "
                                   "and source.prima.path in the protocol")
        engine.attach(path, "prima")
        engine.connection.execute("SET enable_progress_bar = false")  # no bar on stdout
        for t in PRIMA_TABLES:
            engine.execute(f"CREATE TEMP VIEW {t} AS SELECT * FROM prima.{t}")
        if engine.query("SELECT COUNT(*) AS k FROM information_schema.tables WHERE "
                        "table_catalog = 'prima' AND table_name = ?",
                        [SAMPLE_TABLE]).to_pylist()[0]["k"]:
            engine.execute(f"CREATE TEMP VIEW {SAMPLE_TABLE} AS SELECT * FROM prima.{SAMPLE_TABLE}")
        files.append({"name": path.name, "sha256": sha256_file(path)})
    else:  # parquet: one file per table in a folder (e.g. an export of a real PRIMA copy)
        engine.connection.execute("SET enable_progress_bar = false")
        for t in PRIMA_TABLES:
            f = path / f"{t}.parquet"
            if not f.exists():
                engine.close()
                raise PrimexError(f"PRIMA table {t} not found", where=str(f),
                                  hint="source.prima.kind parquet expects <table>.parquet files")
            engine.register_parquet(t, f)
            files.append({"name": f.name, "sha256": sha256_file(f)})
        f = path / f"{SAMPLE_TABLE}.parquet"
        if f.exists():
            engine.register_parquet(SAMPLE_TABLE, f)
            files.append({"name": f.name, "sha256": sha256_file(f)})
    return engine, files


# Rows recorded after the snapshot date are never read by a run at that date: the cut is
# pushed down into PostgreSQL when the snapshot is known (`--snapshot`).
_SNAPSHOT_CUT = {"benefit_month": "recorded_on", "employment_measure": "start_date",
                 "piis": "start_date"}


def _load_postgres(engine: DuckDBEngine, url: str, snapshot: date | None) -> None:
    """PRIMA's tables from PostgreSQL into the run's in-memory engine, as Arrow (binary
    COPY through ADBC), with the snapshot cut pushed down; the indicator SQL then runs as on
    the DuckDB file, on values of the same types, so the outputs are byte-identical."""
    with PostgresEngine(url) as pg:
        sampled = pg.query("SELECT COUNT(*) AS k FROM information_schema.tables "
                           "WHERE table_name = $p0", {"p0": SAMPLE_TABLE}).to_pylist()[0]["k"]
        for t in [*PRIMA_TABLES, *([SAMPLE_TABLE] if sampled else [])]:
            cut = _SNAPSHOT_CUT.get(t) if snapshot is not None else None
            table = pg.query(f"SELECT * FROM {t}" + (f" WHERE {cut} <= $p0" if cut else ""),
                             {"p0": snapshot} if cut else None)
            engine.connection.register(f"_pg_{t}", table)
            engine.execute(f"CREATE TEMP TABLE {t} AS SELECT * FROM _pg_{t}")
            engine.connection.unregister(f"_pg_{t}")


def _sample_fraction(engine: Engine) -> float:
    try:
        rows = engine.query(f"SELECT fraction FROM {SAMPLE_TABLE}").to_pylist()
    except Exception:  # the engine's own error type: no such table means a full PRIMA
        return 1.0
    if not rows:
        return 1.0
    fraction = rows[0]["fraction"]
    if fraction is None or not 0 < float(fraction) <= 1:
        raise PrimexError(f"{SAMPLE_TABLE}.fraction must be in (0, 1]", where=SAMPLE_TABLE,
                          hint="drop the table for a full PRIMA copy")
    return float(fraction)


def _snapshot_row(engine: Engine) -> dict[str, Any]:
    rows = engine.query("SELECT * FROM snapshot").to_pylist()
    row = rows[0] if rows else {}
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def _geo_values() -> str:
    frame = geography.communes()
    return ",".join(
        f"('{r.commune}','{r.arrondissement}','{r.province}','{r.region}')"
        for r in frame.itertuples()
    )


def _age(mi: str) -> str:
    """Completed years on the first day of month index `mi` (integer arithmetic on the
    person's birth month index `bmi` and birth day `bday`: cheap on millions of rows)."""
    return (f"CAST(FLOOR(({mi} - pr.bmi - CASE WHEN pr.bday > 1 THEN 1 ELSE 0 END) / 12.0) "
            "AS INTEGER)")


def _band(age: str) -> str:  # the bands of the population table
    parts = ["CASE WHEN {a} < 18 THEN '0-17'"]
    for band in AGE_BANDS[1:-1]:
        parts.append(f"WHEN {{a}} <= {band.split('-')[1]} THEN '{band}'")
    parts.append("ELSE '65+' END")
    return " ".join(parts).format(a=age)


def _prepare(engine: Engine, periods: list[Period], snapshot: date, first_mi: int,
             end_mi: int, ppr_columns: tuple[str, ...] = ("region",),
             sample_fraction: float = 1.0) -> bool:
    """The temporary tables the indicators read (standard SQL only). True when PRIMA's
    persons carry a statistical sector (`person.sector`), so sector breakdowns can exist."""
    engine.execute("CREATE TEMP TABLE geo (commune VARCHAR, arrondissement VARCHAR, "
                   "province VARCHAR, region VARCHAR)")
    engine.execute(f"INSERT INTO geo VALUES {_geo_values()}")
    years = [int(r["year"]) for r in
             engine.query("SELECT DISTINCT year FROM population ORDER BY year").to_pylist()]
    step = periods[0].months if periods else 3
    engine.execute("CREATE TEMP TABLE per (period VARCHAR, pid INTEGER, p_start DATE, "
                   "p_end DATE, p_last DATE, start_mi INTEGER, end_mi INTEGER, months INTEGER, "
                   "pop_year INTEGER)")
    for p in periods:
        earlier = [y for y in years if y <= p.start.year]
        pop_year = max(earlier) if earlier else (min(years) if years else p.start.year)
        engine.execute("INSERT INTO per VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [p.label, month_index(p.start) // step, p.start, p.end, p.last_day,
                        month_index(p.start), month_index(p.end), p.months, pop_year])
    has_sector = "sector" in engine.query("SELECT * FROM person LIMIT 0").column_names
    sector = "CAST(sector AS VARCHAR)" if has_sector else "CAST(NULL AS VARCHAR)"
    engine.execute(
        # NISS as a BIGINT inside the run (11 digits fit): joins and distinct counts on
        # integers are several times faster than on strings; outcomes.leavers() pads it back
        "CREATE TEMP TABLE pr AS SELECT CAST(niss AS BIGINT) AS niss, sex, nationality_group, "
        f"commune, {sector} AS sector, "
        "CAST(EXTRACT(YEAR FROM birth_date) * 12 + EXTRACT(MONTH FROM birth_date) - 1 "
        "AS INTEGER) AS bmi, CAST(EXTRACT(DAY FROM birth_date) AS INTEGER) AS bday FROM person")
    where = "WHERE recorded_on <= ? AND month >= ? AND month <= ?"
    bounds = [snapshot, month_of(first_mi), month_of(end_mi)]
    cols = "niss, cpas, month, benefit, category, student, spell_id"
    # the usual case first: no month recorded twice, no window needed; a month recorded twice
    # is found on bm's integer keys (cheaper than grouping PRIMA's text NISS) and bm rebuilt
    _person_months(engine, f"(SELECT {cols} FROM benefit_month {where})", step, bounds)
    # one integer key per person-month (NISS < 10^11, month index < 10^5): one distinct count
    if engine.query("SELECT COUNT(*) - COUNT(DISTINCT niss * 100000 + mi) AS k "
                    "FROM bm").to_pylist()[0]["k"]:
        # one row per person and month: RI wins over ERIS, then the latest correction
        engine.execute("DROP TABLE bm")
        _person_months(engine, f"(SELECT {cols} FROM (SELECT benefit_month.*, ROW_NUMBER() "
                               "OVER (PARTITION BY niss, month ORDER BY CASE WHEN benefit = "
                               "'RI' THEN 0 ELSE 1 END, recorded_on DESC, cpas, spell_id) AS "
                               f"rn FROM benefit_month {where}) r WHERE rn = 1)", step, bounds)
    # person-period table for the breakdowns computed over the whole series: a few times
    # smaller than bm, so the series of totals costs little
    cols = "".join(f", {c}" for c in ppr_columns)
    engine.execute(
        f"CREATE TEMP TABLE ppr AS SELECT period, niss, benefit{cols}, COUNT(*) AS pm, "
        "SUM(CASE WHEN student THEN 1 ELSE 0 END) AS spm, "
        "SUM(CASE WHEN age BETWEEN 18 AND 64 THEN 1 ELSE 0 END) AS am "
        f"FROM bm WHERE period IS NOT NULL GROUP BY period, niss, benefit{cols}")
    engine.execute(
        "CREATE TEMP VIEW bmv AS SELECT bm.*, 1 AS pm, CASE WHEN student THEN 1 ELSE 0 END "
        "AS spm, CASE WHEN age BETWEEN 18 AND 64 THEN 1 ELSE 0 END AS am FROM bm")
    # the published period's person-months, read by every breakdown outside the series; the
    # sector of residence where it lies in the paying CPAS's commune, else Statbel's
    # "not located" code of that commune (a sector always nests in its commune)
    engine.execute(
        "CREATE TEMP TABLE bmt AS SELECT b.*, CASE WHEN SUBSTRING(pr.sector, 1, 5) = b.commune "
        "THEN pr.sector ELSE b.commune || 'ZZZZ' END AS sector FROM bmv b JOIN pr "
        "ON pr.niss = b.niss WHERE b.period = ?", [periods[-1].label if periods else ""])
    engine.execute("CREATE TEMP TABLE sp AS SELECT spell_id, MIN(mi) AS first_mi, "
                   "MAX(mi) AS last_mi FROM bm GROUP BY spell_id")
    keep = ("b.niss, b.benefit, b.region, b.province, b.arrondissement, b.sex, b.age_band, "
            "b.nationality_group")
    engine.execute(f"CREATE TEMP TABLE sp_first AS SELECT {keep}, b.period AS period_first, "
                   "s.first_mi FROM bm b JOIN sp s ON s.spell_id = b.spell_id "
                   "AND b.mi = s.first_mi")
    engine.execute(
        f"CREATE TEMP TABLE sp_last AS SELECT {keep}, b.period AS period_last, s.first_mi, "
        "s.last_mi, (s.last_mi < ?) AS exit_known, CASE "
        "WHEN s.last_mi - s.first_mi + 1 <= 3 THEN '01-03' "
        "WHEN s.last_mi - s.first_mi + 1 <= 6 THEN '04-06' "
        "WHEN s.last_mi - s.first_mi + 1 <= 12 THEN '07-12' "
        "WHEN s.last_mi - s.first_mi + 1 <= 24 THEN '13-24' ELSE '25+' END AS duration_band "
        "FROM bm b JOIN sp s ON s.spell_id = b.spell_id AND b.mi = s.last_mi", [end_mi])
    age_q = _age("per.start_mi")
    engine.execute(f"""
        CREATE TEMP TABLE act_pop AS
        WITH ben AS (
          SELECT period, niss, MAX(CASE WHEN benefit = 'RI' THEN 1 ELSE 0 END) AS ri
          FROM ppr GROUP BY period, niss),
        em AS (
          SELECT per.period, CAST(e.niss AS BIGINT) AS niss, MAX(e.cpas) AS cpas,
            MAX(CASE WHEN e.measure = 'art60' THEN 1 ELSE 0 END) AS a60,
            MAX(CASE WHEN e.measure = 'art61' THEN 1 ELSE 0 END) AS a61
          FROM employment_measure e JOIN per ON e.start_date <= per.p_last
            AND (e.end_date IS NULL OR e.end_date >= per.p_start)
          WHERE e.start_date <= ? GROUP BY per.period, CAST(e.niss AS BIGINT)),
        pi AS (
          SELECT per.period, CAST(x.niss AS BIGINT) AS niss FROM piis x
            JOIN per ON x.start_date <= per.p_last
            AND (x.end_date IS NULL OR x.end_date >= per.p_start)
          WHERE x.start_date <= ? GROUP BY per.period, CAST(x.niss AS BIGINT)),
        u AS (
          SELECT COALESCE(b.period, m.period) AS period, COALESCE(b.niss, m.niss) AS niss,
            m.cpas, COALESCE(b.ri, 0) AS ri,
            COALESCE(m.a60, 0) AS a60, COALESCE(m.a61, 0) AS a61
          FROM ben b FULL OUTER JOIN em m ON m.period = b.period AND m.niss = b.niss)
        SELECT u.period, u.niss, u.ri, u.a60, u.a61,
          CASE WHEN pi.niss IS NULL THEN 0 ELSE 1 END AS piis,
          COALESCE(u.cpas, pr.commune) AS commune,
          COALESCE(g.arrondissement, SUBSTRING(COALESCE(u.cpas, pr.commune), 1, 2) || '000')
            AS arrondissement, g.province, g.region, pr.sex, pr.nationality_group,
          {_band(age_q)} AS age_band
        FROM u JOIN pr ON pr.niss = u.niss JOIN per ON per.period = u.period
        LEFT JOIN geo g ON g.commune = COALESCE(u.cpas, pr.commune)
        LEFT JOIN pi ON pi.period = u.period AND pi.niss = u.niss""", [snapshot, snapshot])
    engine.execute("""
        CREATE TEMP TABLE pop1864 AS
        SELECT per.period, x.commune, COALESCE(g.arrondissement,
          SUBSTRING(x.commune, 1, 2) || '000') AS arrondissement, g.province, g.region,
          x.sex, CAST(ROUND(x.population * CAST(? AS DOUBLE)) AS BIGINT) AS population
        FROM population x JOIN per ON x.year = per.pop_year
        LEFT JOIN geo g ON g.commune = x.commune
        WHERE x.age_band IN ('18-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54',
                             '55-59', '60-64')""", [sample_fraction])
    # contracts (PIIS, art. 60 §7, art. 61): the period each starts in, the period each ends
    # in (only when it ended with a known outcome by the last stable month) and its length
    start_mi = "CAST(EXTRACT(YEAR FROM c.start_date) * 12 + EXTRACT(MONTH FROM c.start_date) " \
               "- 1 AS INTEGER)"
    end_mi_sql = "CAST(EXTRACT(YEAR FROM c.end_date) * 12 + EXTRACT(MONTH FROM c.end_date) " \
                 "- 1 AS INTEGER)"
    engine.execute(f"""
        CREATE TEMP TABLE ct AS
        WITH c AS (
          SELECT 'piis' AS kind, CAST(niss AS BIGINT) AS niss, cpas,
            CAST(piis_type AS VARCHAR) AS piis_type, start_date, end_date,
            CAST(outcome AS VARCHAR) AS outcome FROM piis WHERE start_date <= ?
          UNION ALL
          SELECT CAST(measure AS VARCHAR), CAST(niss AS BIGINT), cpas, NULL, start_date,
            end_date, CAST(outcome AS VARCHAR) FROM employment_measure WHERE start_date <= ?)
        SELECT c.kind, c.niss, c.piis_type, c.outcome, s.period AS period_start,
          e.period AS period_end,
          CASE WHEN {end_mi_sql} - {start_mi} + 1 <= 3 THEN '01-03'
               WHEN {end_mi_sql} - {start_mi} + 1 <= 6 THEN '04-06'
               WHEN {end_mi_sql} - {start_mi} + 1 <= 12 THEN '07-12'
               WHEN {end_mi_sql} - {start_mi} + 1 <= 24 THEN '13-24' ELSE '25+' END
            AS duration_band,
          c.cpas AS commune,
          COALESCE(g.arrondissement, SUBSTRING(c.cpas, 1, 2) || '000') AS arrondissement,
          g.province, g.region, pr.sex, pr.nationality_group,
          {_band(_age(start_mi))} AS age_band
        FROM c JOIN pr ON pr.niss = c.niss
        LEFT JOIN geo g ON g.commune = c.cpas
        LEFT JOIN per s ON {start_mi} BETWEEN s.start_mi AND s.end_mi
        LEFT JOIN per e ON c.end_date IS NOT NULL AND c.outcome <> 'ongoing'
          AND {end_mi_sql} BETWEEN e.start_mi AND e.end_mi AND {end_mi_sql} <= ?""",
                   [snapshot, snapshot, end_mi])
    return has_sector


def _person_months(engine: Engine, source: str, step: int, bounds: list[Any]) -> None:
    """`bm`: one row per person and month paid, with every dimension the indicators use."""
    mi = "CAST(EXTRACT(YEAR FROM s.month) * 12 + EXTRACT(MONTH FROM s.month) - 1 AS INTEGER)"
    age = _age(mi)
    engine.execute(f"""
        CREATE TEMP TABLE bm AS
        SELECT pr.niss, s.month, {mi} AS mi, s.benefit,
          CAST(s.category AS VARCHAR) AS category, s.student, s.spell_id, s.cpas AS commune,
          COALESCE(g.arrondissement, SUBSTRING(s.cpas, 1, 2) || '000') AS arrondissement,
          g.province, g.region, pr.sex, pr.nationality_group,
          {age} AS age, {_band(age)} AS age_band, per.period
        FROM {source} s JOIN pr ON pr.niss = CAST(s.niss AS BIGINT)
        LEFT JOIN geo g ON g.commune = s.cpas
        LEFT JOIN per ON per.pid = CAST(FLOOR({mi} / {float(step)}) AS INTEGER)""", bounds)


# --- periods -------------------------------------------------------------------------------


def _snapshot_months(engine: Engine, protocol: Protocol,
                     snapshot: date | None) -> tuple[date, int, int]:
    """The snapshot date (the latest recorded month unless given) and the first and last
    month of the data it holds."""
    max_rec = engine.query(
        "SELECT MAX(recorded_on) AS d FROM benefit_month").to_pylist()[0]["d"]
    snapshot_date = snapshot or max_rec
    if snapshot_date is None:
        raise PrimexError("PRIMA holds no benefit month", where=str(protocol.prima.path))
    lo, hi = _data_months(engine, snapshot_date, protocol.stable_after_days)
    return snapshot_date, lo, hi


def _data_months(engine: Engine, snapshot: date, stable_after_days: int) -> tuple[int, int]:
    row = engine.query("SELECT MIN(month) AS lo, MAX(month) AS hi FROM benefit_month "
                       "WHERE recorded_on <= ?", [snapshot]).to_pylist()[0]
    if row["lo"] is None:
        raise PrimexError("PRIMA has no benefit month recorded on or before the snapshot date",
                          where=f"--snapshot {snapshot.isoformat()}")
    lo, hi = month_index(row["lo"]), month_index(row["hi"])
    # a month is stable once `stable_after_days` have passed after its end (late corrections)
    while hi >= lo:
        m = month_of(hi)
        end = date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])
        if end + timedelta(days=stable_after_days) <= snapshot:
            break
        hi -= 1
    if hi < lo:
        raise PrimexError("no stable month in PRIMA at this snapshot date",
                          where=f"snapshot {snapshot.isoformat()}",
                          hint="lower stable_after_days in the protocol or use a later snapshot")
    return lo, hi


def complete_periods(grain: str, lo: int, hi: int) -> list[Period]:
    """Every quarter (year) whose months all lie in the stable data [lo, hi]."""
    out = []
    step = 3 if grain == "quarter" else 12
    first = (lo + step - 1) // step * step
    for start in range(first, hi + 1, step):
        if start + step - 1 <= hi:
            d = month_of(start)
            out.append(parse_period(f"{d.year}Q{(d.month - 1) // 3 + 1}" if grain == "quarter"
                                    else str(d.year), grain))
    return out


# --- the run -------------------------------------------------------------------------------


def _stable_periods(engine: Engine, protocol: Protocol, snapshot: date | None,
                    ) -> tuple[date, int, int, list[Period]]:
    """`_snapshot_months` and the complete periods in those months; refuses when there is
    none."""
    snapshot_date, lo, hi = _snapshot_months(engine, protocol, snapshot)
    available = complete_periods(protocol.grain, lo, hi)
    if not available:
        raise PrimexError(f"no complete {protocol.grain} in the stable data",
                          where=f"{month_of(lo):%Y-%m}..{month_of(hi):%Y-%m}")
    return snapshot_date, lo, hi, available


@dataclass(frozen=True)
class Plan:
    period: str
    snapshot_date: date
    folder: Path


def plan(home: Home, protocol: Protocol, period: str | None = None,
         snapshot: date | None = None) -> Plan:
    """Which period and snapshot a run would use, and where it writes (without running)."""
    engine, _ = _open_prima(protocol, home, snapshot)
    try:
        snapshot_date, _lo, _hi, available = _stable_periods(engine, protocol, snapshot)
    finally:
        engine.close()
    label = parse_period(period, protocol.grain).label if period else available[-1].label
    return Plan(label, snapshot_date, home.extracts / protocol.name / label
                / f"snapshot-{snapshot_date.isoformat()}")


def existing_run(home: Home, protocol: Protocol, p: Plan) -> RunResult | None:
    """The run of this plan if it exists with the same protocol and the same PRIMA files."""
    path = p.folder / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = read_manifest(path)
    except PrimexError:
        return None
    if manifest["protocol"]["sha256"] != protocol.sha256:
        return None
    if home.prima_url or manifest["sources"][0].get("kind") == "postgresql":
        return None  # a server database has no file hash to prove it unchanged: rerun
    prima = protocol.prima.resolve(home.root)
    for f in manifest["sources"][0]["files"]:
        src = prima if prima.is_file() else prima / f["name"]
        if not src.exists() or sha256_file(src) != f["sha256"]:
            return None
    for f in manifest["files"]:
        if not (p.folder / f["name"]).exists():
            return None
    return RunResult(p.folder, manifest)




def run_protocol(home: Home, protocol: Protocol, period: str | None = None,
                 snapshot: date | None = None, *, out_dir: Path | None = None,
                 previous: Path | bool | None = True,
                 warehouse_source: outcomes_mod.WarehouseSource | None = None,
                 positions: Callable[[pa.Table], pa.Table] | None = None) -> RunResult:
    """Compute the protocol's indicators for `period` (default: latest complete) and the
    series before it; write the outputs and the manifest. `previous=True` finds the previous
    publication to flag revisions; a Path names it; None/False: no comparison.
    `warehouse_source`: the BCSS side's engine for the outcomes (default: DuckDB on the
    protocol's warehouse file), e.g. Spark on a Parquet warehouse.
    `positions` is the BCSS service's lookup for outcomes of kind bcss_service (leavers with
    NISS in, positions without NISS out; wired by the command, see bcss_client)."""
    engine, source_files = _open_prima(protocol, home, snapshot)
    try:
        snap_row = _snapshot_row(engine)
        sample_fraction = _sample_fraction(engine)
        snapshot_date, lo, hi, available = _stable_periods(engine, protocol, snapshot)
        target = parse_period(period, protocol.grain) if period else available[-1]
        labels = [p.label for p in available]
        if target.label not in labels:
            raise PrimexError(
                f"period {target.label} is not complete in the stable data "
                f"({month_of(lo):%Y-%m} to {month_of(hi):%Y-%m} at snapshot {snapshot_date})",
                where="--period", hint=f"choose one of {labels[0]} .. {labels[-1]}")
        series = available[: labels.index(target.label) + 1]
        if protocol.series is not None:
            series = series[-protocol.series:]
        ppr_columns = tuple(b for b in protocol.series_breakdowns if b in PPR_DIMS)
        try:
            has_sector = _prepare(engine, series, snapshot_date, lo, hi, ppr_columns,
                                  sample_fraction)
        except Exception as exc:  # the engine's own error type: PRIMA content it cannot read
            # the engine's message may quote a value (a NISS): name only the kind of error
            raise PrimexError(
                f"PRIMA could not be prepared ({type(exc).__name__})",
                where=str(protocol.prima.resolve(home.root)),
                hint="check the tables against docs/data-model.md (e.g. an 11-digit niss)",
            ) from None
        remote = protocol.outcomes.kind == "bcss_service"
        if remote and positions is None:
            raise PrimexError("the protocol's outcomes come from the BCSS service, but no "
                              "service is configured", where="source.outcomes",
                              hint="run it with --as KEY and PRIMEX_BCSS_KEY set")
        warehouse = protocol.outcomes.resolve(home.root)
        outcome_files: list[dict[str, Any]] = []
        if protocol.outcomes.kind == "bcss_model":
            if warehouse_source is None and not warehouse.exists():
                raise PrimexError("BCSS warehouse not found", where=str(warehouse),
                                  hint="set source.outcomes.kind: none in the protocol, or "
                                       "generate the data with `primex synth generate`")
            if warehouse_source is None:
                outcome_files.append({"name": warehouse.name,
                                      "sha256": sha256_file(warehouse)})
        cache: dict[str, pd.DataFrame] = {}

        def outcomes_for(offset: int) -> pd.DataFrame | None:
            if protocol.outcomes.kind == "none" or protocol.grain != "quarter":
                return None
            if "all" not in cache:  # one hand-over to the BCSS for every lag
                people = outcomes_mod.leavers(engine, OUTCOME_LAGS,
                                              [p.label for p in series], hi)
                if remote and positions is not None:
                    cache["all"] = (positions(people).to_pandas() if people.num_rows else
                                    pd.DataFrame(columns=[*outcomes_mod.OUTCOME_COLUMNS,
                                                          "lag_q"]))
                else:
                    cache["all"] = outcomes_mod.bcss_positions(warehouse, people,
                                                               warehouse_source)
            frame = cache["all"]
            return frame[frame["lag_q"] == str(offset)].drop(columns="lag_q")

        def transitions_for() -> pd.DataFrame | None:
            if protocol.outcomes.kind != "bcss_model" or protocol.grain != "quarter":
                return None
            if "transitions" not in cache:
                # the matrices are published for the target quarter only
                people = _transition_cohorts(engine, [target.label])
                cache["transitions"] = bcss_transitions(warehouse, people)
            return cache["transitions"]

        ctx = Context(engine=engine, grain=protocol.grain, periods=series, data_start_mi=lo,
                      data_end_mi=hi, series_start=series[0].start, outcomes_for=outcomes_for,
                      transitions_for=transitions_for,
                      target=target.label,
                      # small distributions stay whole: their latest complete period may be
                      # an earlier one (exits are known a month late)
                      series_breakdowns=("total", "duration_band", "position_group",
                                         *protocol.series_breakdowns),
                      ppr_columns=ppr_columns)
        frames = []
        for req in protocol.indicators:
            ind = INDICATORS[req.id]
            # a PRIMA without sectors (the real one today) publishes no sector cell
            cells = ind.compute(ctx, tuple(b for b in req.breakdowns
                                           if has_sector or b != SECTOR))
            if cells.empty:
                continue
            cells = cells.copy()
            cells["indicator"] = ind.id
            if cells["period_type"].eq("month").any():  # monthly rows only up to the period
                last = f"{target.end.year:04d}-{target.end.month:02d}"
                cells = cells[(cells["period_type"] != "month") | (cells["period"] <= last)]
            frames.append(_finish(cells, ind.scale, ind.is_ratio))
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=[f.name for f in SCHEMA])
    finally:
        engine.close()

    folder = out_dir or (home.extracts / protocol.name / target.label
                         / f"snapshot-{snapshot_date.isoformat()}")
    prev_path = _find_previous(home, protocol.name, snapshot_date, folder) \
        if previous is True else (previous or None)
    prev_manifest = None
    if prev_path is not None:
        table, prev_manifest = _flag_revisions(table, Path(prev_path))
    else:
        table["revised"] = False
        table["previous_value"] = None
    table = _sort(table)
    manifest = {
        "kind": KIND,
        "protocol": {"name": protocol.name, "version": protocol.version, "file": "protocol.yaml",
                     "origin": str(protocol.file), "sha256": protocol.sha256},
        "grain": protocol.grain,
        "period": target.label,
        "periods": [p.label for p in series],
        "snapshot_date": snapshot_date.isoformat(),
        "snapshot_requested": snapshot is not None,
        "data_months": {"first": f"{month_of(lo):%Y-%m}", "last_stable": f"{month_of(hi):%Y-%m}"},
        "parameters": {"stable_after_days": protocol.stable_after_days,
                       "series_breakdowns": list(protocol.series_breakdowns),
                       "series": protocol.series or "all", "protection_method": protocol.method,
                       "indicators": {r.id: list(r.breakdowns) for r in protocol.indicators}},
        "sources": [
            {"name": "prima", "kind": "postgresql", "path": redact_url(home.prima_url),
             "files": [], "snapshot": snap_row, "sample_fraction": sample_fraction}
            if home.prima_url else
            {"name": "prima", "kind": protocol.prima.kind,
             "path": str(protocol.prima.resolve(home.root)), "files": source_files,
             "snapshot": snap_row, "sample_fraction": sample_fraction},
            {"name": "outcomes", "kind": protocol.outcomes.kind, "engine":
             warehouse_source.engine, "path": warehouse_source.path, "files": []}
            if warehouse_source is not None and protocol.outcomes.kind != "none" else
            {"name": "outcomes", "kind": protocol.outcomes.kind,
             "path": (protocol.outcomes.path if remote else str(warehouse))
             if protocol.outcomes.kind != "none" else None,
             "files": outcome_files},
        ],
        "code": code_version(),
        "previous_run": prev_manifest,
    }
    _write(folder, table, protocol, manifest)
    return RunResult(folder, read_manifest(folder / MANIFEST))


def _finish(cells: pd.DataFrame, scale: float, is_ratio: bool) -> pd.DataFrame:
    cells = cells[["indicator", *CELL_COLUMNS]].copy()
    cells["numerator"] = cells["numerator"].astype("float64")
    cells["denominator"] = pd.to_numeric(cells["denominator"], errors="coerce").astype("float64")
    if is_ratio:
        den = cells["denominator"]
        cells["value"] = (cells["numerator"] / den.where(den > 0)) * scale
    else:
        cells["value"] = cells["numerator"]
    return cells


def _sort(table: pd.DataFrame) -> pd.DataFrame:
    order = {k: i for i, k in enumerate(INDICATORS)}
    table = table.assign(_o=table["indicator"].map(order))
    table = table.sort_values(["_o", "period_type", "period", "breakdown", "key"], kind="stable")
    return table.drop(columns="_o").reset_index(drop=True)


def _write(folder: Path, table: pd.DataFrame, protocol: Protocol, manifest: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame = table[[f.name for f in SCHEMA]].copy()
    for col in ("n", "n_den"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int64")
    for col in ("numerator", "denominator", "value", "previous_value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["revised"] = frame["revised"].fillna(False).astype(bool)
    arrow = pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False)
    arrow = arrow.replace_schema_metadata(None)
    atomic.write_via(folder / OUTPUT, lambda tmp: pq.write_table(arrow, tmp, compression="zstd"))
    atomic_write(folder / "protocol.yaml", protocol.text.encode("utf-8"))
    manifest["files"] = file_entries(folder, [OUTPUT, "protocol.yaml"])
    atomic_write(folder / MANIFEST, dumps(manifest))


# --- revisions -----------------------------------------------------------------------------


def list_runs(home: Home, protocol: str) -> list[tuple[str, str, Path]]:
    """(snapshot date, period, folder) of every run of a protocol under the home."""
    runs = []
    for m in sorted((home.extracts / protocol).glob(f"*/snapshot-*/{MANIFEST}")):
        try:
            data = read_manifest(m)
        except PrimexError:
            continue
        runs.append((data["snapshot_date"], data["period"], m.parent))
    return sorted(runs)


def _find_previous(home: Home, protocol: str, snapshot: date, folder: Path) -> Path | None:
    """The latest run of the same protocol on an earlier snapshot (the previous publication)."""
    earlier = [r for r in list_runs(home, protocol)
               if r[0] < snapshot.isoformat() and r[2].resolve() != folder.resolve()]
    return earlier[-1][2] if earlier else None


def _flag_revisions(table: pd.DataFrame, prev_folder: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    manifest_path = prev_folder / MANIFEST
    prev_manifest = read_manifest(manifest_path)
    prev = load_indicators(prev_folder)  # a damaged earlier run is named, not a traceback
    keys = ["indicator", "period_type", "period", "breakdown", "key"]
    prev = prev[[*keys, "value"]].rename(columns={"value": "previous_value"})
    merged = table.merge(prev, on=keys, how="left")
    old, new = merged["previous_value"], merged["value"]
    same = (old.isna() & new.isna()) | ((old - new).abs() <= 1e-9)
    merged["revised"] = old.notna() & ~same
    merged.loc[~merged["revised"], "previous_value"] = None
    info = {"path": str(prev_folder), "snapshot_date": prev_manifest["snapshot_date"],
            "period": prev_manifest["period"], "manifest_sha256": sha256_file(manifest_path)}
    return merged, info


# --- verification --------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    differences: list[str]
    notes: list[str]


def verify_manifest(home: Home, manifest_path: Path) -> Verification:
    """Rerun the run a manifest describes and compare every output byte for byte."""
    manifest_path = Path(manifest_path)
    manifest = read_manifest(manifest_path)
    folder = manifest_path.parent
    if manifest["sources"][0].get("kind") == "postgresql" and not home.prima_url:
        raise PrimexError("this run read PRIMA from PostgreSQL", where=str(manifest_path),
                          hint=f"verify it against the same server: --prima "
                               f"{manifest['sources'][0].get('path')}")
    notes: list[str] = []
    differences: list[str] = []
    proto_file = folder / manifest["protocol"]["file"]
    if not proto_file.exists():
        raise PrimexError("the protocol copy named in the manifest is missing",
                          where=str(proto_file))
    protocol = parse_protocol(proto_file.read_text(encoding="utf-8"), proto_file)
    if protocol.sha256 != manifest["protocol"]["sha256"]:
        differences.append(f"protocol.yaml changed since the run (sha256 "
                           f"{manifest['protocol']['sha256'][:12]}… → {protocol.sha256[:12]}…)")
    # sources: the rerun reads what is there now; name any change of snapshot
    for src in manifest["sources"]:
        base = Path(src["path"]) if src.get("path") else None
        for f in src.get("files", []):
            current = (base if base and base.is_file() else (base / f["name"] if base else None))
            if current is None or not current.exists():
                differences.append(f"source {src['name']} file {f['name']} is missing")
            elif (h := sha256_file(current)) != f["sha256"]:
                notes.append(f"source {src['name']} file {f['name']} changed "
                             f"(sha256 {f['sha256'][:12]}… → {h[:12]}…)")
    now = code_version()
    for k, v in manifest["code"].items():
        if now.get(k) != v:
            notes.append(f"code {k} differs ({v} → {now.get(k)})")
    prev = manifest.get("previous_run")
    prev_path = Path(prev["path"]) if prev else None
    if prev_path is not None and (not (prev_path / MANIFEST).exists()
                                  or sha256_file(prev_path / MANIFEST) != prev["manifest_sha256"]):
        differences.append(f"previous run {prev_path} (used to flag revisions) is missing or "
                           "changed")
    with tempfile.TemporaryDirectory(prefix="primex-verify-") as tmp:
        try:
            rerun = run_protocol(
                home, protocol, manifest["period"], date.fromisoformat(manifest["snapshot_date"]),
                out_dir=Path(tmp) / "rerun", previous=prev_path if prev_path else None,
            )
        except PrimexError as exc:
            return Verification(False, [*differences, f"rerun failed: {exc.one_line()}"], notes)
        if rerun.manifest["protocol"]["origin"] != manifest["protocol"]["origin"]:
            pass  # the copy ran, not the original file: expected
        want = {f["name"]: f for f in manifest["files"]}
        got = {f["name"]: f for f in rerun.manifest["files"]}
        for name in sorted(set(want) | set(got)):
            if name not in got:
                differences.append(f"{name}: not produced by the rerun")
            elif name not in want:
                differences.append(f"{name}: produced by the rerun but not in the manifest")
            elif want[name]["sha256"] != got[name]["sha256"]:
                differences.append(f"{name}: sha256 {want[name]['sha256'][:12]}… in the manifest, "
                                   f"{got[name]['sha256'][:12]}… on rerun")
                if name == OUTPUT and (folder / OUTPUT).exists():
                    differences += _cell_differences(folder / OUTPUT, rerun.indicators_path)
            elif (folder / name).exists() and sha256_file(folder / name) != want[name]["sha256"]:
                differences.append(f"{name}: the file on disk no longer matches the manifest")
        shutil.rmtree(Path(tmp) / "rerun", ignore_errors=True)
    return Verification(not differences, differences, notes)


def _cell_differences(old: Path, new: Path, limit: int = 10) -> list[str]:
    keys = ["indicator", "period_type", "period", "breakdown", "key"]
    a = pq.read_table(old).to_pandas()
    b = pq.read_table(new).to_pandas()
    m = a.merge(b, on=keys, how="outer", suffixes=("_old", "_new"), indicator="side")
    out = []
    for row in m.to_dict("records"):
        where = f"  cell {row['indicator']} {row['period']} {row['breakdown']}={row['key']}"
        if row["side"] != "both":
            out.append(where + (": manifest only" if row["side"] == "left_only" else
                                ": rerun only"))
        elif not _same(row["value_old"], row["value_new"]) or \
                row["revised_old"] != row["revised_new"]:
            out.append(f"{where}: value {row['value_old']} → {row['value_new']}")
        if len(out) >= limit:
            out.append("  …")
            break
    return out


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return a == b


def load_indicators(folder: Path) -> pd.DataFrame:
    path = folder / OUTPUT
    if not path.exists():
        raise ConfigError("indicator dataset not found", where=str(path),
                          hint="run `primex extract run` first")
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:  # truncated or overwritten by hand
        raise IntegrityError(
            f"indicator dataset is damaged ({type(exc).__name__})", where=str(path),
            hint=f"check it with `primex extract verify {folder / 'manifest.json'}`; "
            "remove the folder to run the protocol again",
        ) from exc
