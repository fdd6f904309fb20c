"""Orchestration: draw every synthetic table and write PRIMA and the warehouse.

Each part draws from its own random stream spawned from the seed, so the same seed gives the
same content, and changing one part's model leaves the others' draws alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from primex.catalogue import load_catalogue
from primex.catalogue.censoring import CENSORING_CODES
from primex.errors import PrimexError
from primex.synthetic import niss as nisslib
from primex.synthetic import persons as P
from primex.synthetic import spells as S
from primex.synthetic import warehouse as W
from primex.synthetic.config import EPOCH_MONTH, GENERATOR_VERSION, SynthConfig, month_days
from primex.synthetic.population import BELGIUM_MONTHLY_RI_ERIS, synthetic_population
from primex.synthetic.store import (
    PRIMA_DDL,
    WAREHOUSE_DDL,
    atomic_database,
    create_tables,
    insert,
)

Progress = Callable[[str, float], None]
_STREAMS = ("persons", "comparison", "timeline", "niss", "benefit", "measures", "piis", "dwh")


@dataclass(frozen=True)
class Result:
    prima: Path
    warehouse: Path
    persons: int
    comparison: int
    benefit_rows: int
    position_rows: int


def _dict(indices: np.ndarray, labels: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(indices.astype(np.int32)), pa.array([str(x) for x in labels])
    )


def _birth_dates(rng: np.random.Generator, ref_month: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Birth dates giving exactly `age` completed years on the 1st of `ref_month`."""
    anniversary = month_days(ref_month - 12 * age.astype(np.int64))
    return anniversary - rng.integers(0, 365, len(age)).astype("timedelta64[D]")


def _check_catalogue() -> None:
    """The generator's codes must be the catalogue's (a drift here breaks every step)."""
    cat = load_catalogue()
    checks = {
        "nationality": set(P.COUNTRIES) <= set(cat.get("nationality").codes),
        "household_type": set(P.HOUSEHOLD_TYPES) == set(cat.get("household_type").codes),
        "position_group": set(W.GROUPS)
        == set(cat.get("position_group").codes) - set(CENSORING_CODES),
        "position": {str(c) for c in W.GROUP_OF_CODE}
        == set(cat.get("position").codes) - set(CENSORING_CODES),
        "piis_type": set(S.PIIS_TYPES) == set(cat.get("piis_type").codes),
    }
    drift = sorted(name for name, ok in checks.items() if not ok)
    if drift:
        raise PrimexError(
            f"the generator's codes differ from the catalogue for {drift}",
            where="primex/catalogue/variables.yaml",
            hint="keep the catalogue categories and primex.synthetic in step",
        )


def generate(
    cfg: SynthConfig,
    prima_path: Path,
    warehouse_path: Path,
    progress: Progress | None = None,
) -> Result:
    """Generate both stores. Deterministic in `cfg` (see `content_hash`)."""
    _check_catalogue()
    step = progress or (lambda _label, _fraction: None)
    streams = dict(
        zip(_STREAMS, np.random.SeedSequence(cfg.seed).spawn(len(_STREAMS)), strict=True)
    )
    rng = {name: np.random.default_rng(s) for name, s in streams.items()}

    step("persons", 0.0)
    ben = P.beneficiaries(rng["persons"], cfg.persons)
    n_comp = round(cfg.persons * cfg.comparison)
    comp = P.comparison(rng["comparison"], n_comp)
    step("spells", 0.05)
    tl = S.timeline(rng["timeline"], ben, cfg)

    # birth dates: beneficiaries' ages hold at their first month paid in the period;
    # the comparison population's at the start of the period
    birth = np.concatenate(
        [
            _birth_dates(rng["persons"], tl.reference_month, ben.age),
            _birth_dates(
                rng["comparison"], np.full(n_comp, cfg.first_month, dtype=np.int64), comp.age
            ),
        ]
    )
    male = np.concatenate([~ben.female, ~comp.female])
    bis = np.concatenate([ben.bis, comp.bis])
    serial = nisslib.assign_serials(rng["niss"], birth, male, bis)
    numbers = nisslib.build_numbers(birth, serial, bis)
    n_all = len(numbers)
    birth_month = birth.astype("datetime64[M]").astype(np.int64) + EPOCH_MONTH

    step("monthly payments", 0.15)
    rows = S.benefit_rows(rng["benefit"], ben, tl.spells, cfg)
    measure = S.measure_rows(rng["measures"], tl.measures, cfg)
    piis = S.piis_rows(rng["piis"], ben, tl.spells, cfg)

    step("writing PRIMA", 0.25)
    with atomic_database(prima_path) as con:
        create_tables(con, PRIMA_DDL)
        _write_prima(con, cfg, ben, birth[: cfg.persons], numbers[: cfg.persons], rows)
        niss_b = numbers[: cfg.persons]
        insert(
            con,
            "employment_measure",
            pa.table(
                {
                    "niss": niss_b[measure.person],
                    "cpas": ben.commune[measure.person],
                    "measure": _dict(measure.kind, S.MEASURES),
                    "start_date": measure.start_date,
                    "end_date": measure.end_date,
                    "outcome": _dict(measure.outcome, S.MEASURE_OUTCOMES),
                }
            ),
            "lpad(niss::VARCHAR, 11, '0'), lpad(cpas::VARCHAR, 5, '0'), measure::VARCHAR, "
            "start_date, end_date, outcome::VARCHAR",
        )
        insert(
            con,
            "piis",
            pa.table(
                {
                    "niss": niss_b[piis.person],
                    "cpas": ben.commune[piis.person],
                    "piis_type": _dict(piis.piis_type, S.PIIS_TYPES),
                    "start_date": piis.start_date,
                    "end_date": piis.end_date,
                    "outcome": _dict(piis.outcome, S.PIIS_OUTCOMES),
                }
            ),
            "lpad(niss::VARCHAR, 11, '0'), lpad(cpas::VARCHAR, 5, '0'), piis_type::VARCHAR, "
            "start_date, end_date, outcome::VARCHAR",
        )
        years = sorted({y for y in range(cfg.first_month // 12, cfg.last_month // 12 + 1)})
        pop = synthetic_population(years)
        insert(
            con,
            "population",
            pa.Table.from_pandas(pop, preserve_index=False),
            "commune, year, sex, age_band, population",
        )
        con.execute(
            "INSERT INTO snapshot VALUES (?, ?, ?, ?, ?, ?)",
            [
                cfg.snapshot_date,
                cfg.seed,
                cfg.persons,
                cfg.start_date,
                cfg.months,
                GENERATOR_VERSION,
            ],
        )
        # the full-scale population above faces a sample of beneficiaries: say how big
        con.execute(
            "CREATE TABLE sample_design (fraction DOUBLE NOT NULL, basis VARCHAR NOT NULL)"
        )
        con.execute(
            "INSERT INTO sample_design SELECT LEAST(1.0, COUNT(*) / COUNT(DISTINCT month) / ?), "
            "? FROM benefit_month",
            [BELGIUM_MONTHLY_RI_ERIS, f"mean monthly RI+ERIS count / {BELGIUM_MONTHLY_RI_ERIS}"],
        )

    step("warehouse positions", 0.55)
    quarters = W.quarter_range(cfg.first_month, cfg.last_month)
    pos = W.positions(
        rng["dwh"],
        cfg.persons,
        n_comp,
        tl.spells,
        tl.measures,
        ben.student,
        birth_month,
        quarters,
        progress=lambda f: step("warehouse positions", 0.55 + 0.2 * f),
    )
    step("writing the warehouse", 0.75)
    commune_all = np.concatenate([ben.commune, comp.commune])
    by_niss = np.argsort(numbers, kind="stable")
    with atomic_database(warehouse_path) as con:
        create_tables(con, WAREHOUSE_DDL)
        insert(
            con,
            "dwh_person",
            pa.table(
                {
                    "niss": numbers[by_niss],
                    "birth_date": birth[by_niss],
                    "female": ~male[by_niss],
                    "commune": commune_all[by_niss],
                }
            ),
            "lpad(niss::VARCHAR, 11, '0'), birth_date, CASE WHEN female THEN 'F' ELSE 'M' END, "
            "lpad(commune::VARCHAR, 5, '0')",
        )
        _write_positions(con, pos, numbers, by_niss, step)
    return Result(
        prima_path,
        warehouse_path,
        cfg.persons,
        n_comp,
        len(rows.month),
        len(quarters) * n_all,
    )


def _write_prima(
    con: duckdb.DuckDBPyConnection,
    cfg: SynthConfig,
    ben: P.People,
    birth: np.ndarray,
    numbers: np.ndarray,
    rows: S.BenefitRows,
) -> None:
    # PRIMA person rows sorted by commune then NISS (the warehouse is sorted by NISS only)
    order = np.lexsort((numbers, ben.commune))
    insert(
        con,
        "person",
        pa.table(
            {
                "niss": numbers[order],
                "birth_date": birth[order],
                "female": ben.female[order],
                "nationality": _dict(ben.country[order], P.COUNTRIES),
                "nationality_group": _dict(ben.nat_group[order], P.NATIONALITY_GROUPS),
                "refugee": ben.refugee[order],
                "household_num": ben.household_num[order],
                "household_type": _dict(ben.household_type[order], P.HOUSEHOLD_TYPES),
                "household_size": ben.household_size[order],
                "commune": ben.commune[order],
                "sector": ben.sector[order],
            }
        ),
        "lpad(niss::VARCHAR, 11, '0'), birth_date, CASE WHEN female THEN 'F' ELSE 'M' END, "
        "nationality::VARCHAR, nationality_group::VARCHAR, refugee, "
        "'H' || lpad(household_num::VARCHAR, 10, '0'), household_type::VARCHAR, "
        "household_size, lpad(commune::VARCHAR, 5, '0'), "
        "lpad(commune::VARCHAR, 5, '0') || chr(65 + sector // 100) "
        "|| lpad((sector % 100)::VARCHAR, 2, '0') || '-'",
    )
    # payments sorted by month, CPAS, NISS: the order PRIMA receives them in
    p = rows.person
    order = np.lexsort((numbers[p], ben.commune[p], rows.month))
    p = p[order]
    insert(
        con,
        "benefit_month",
        pa.table(
            {
                "niss": numbers[p],
                "cpas": ben.commune[p],
                "month": month_days(rows.month[order]),
                "eris": ben.eris[p],
                "category": ben.category[p],
                "cents": rows.cents[order],
                "student": ben.student[p],
                "spell_id": rows.spell_id[order],
                "recorded_on": rows.recorded_on[order],
            }
        ),
        "lpad(niss::VARCHAR, 11, '0'), lpad(cpas::VARCHAR, 5, '0'), month, "
        "CASE WHEN eris THEN 'ERIS' ELSE 'RI' END, category, "
        "(cents::DECIMAL(18,0) / 100)::DECIMAL(10,2), student, spell_id, recorded_on",
    )


def _write_positions(
    con: duckdb.DuckDBPyConnection,
    pos: W.Positions,
    numbers: np.ndarray,
    by_niss: np.ndarray,
    step: Progress,
) -> None:
    q_count = len(pos.quarters)
    labels = [f"{q // 4}Q{q % 4 + 1}" for q in pos.quarters]
    ends = month_days(pos.quarters * 3 + 3) - np.timedelta64(1, "D")
    quarter_dict = pa.array(labels)
    # person-major rows (all quarters of one person together), persons in NISS order;
    # written in chunks of persons to bound memory
    chunk = max(1, 2_000_000 // q_count)
    total = len(by_niss)
    for lo in range(0, total, chunk):
        persons = by_niss[lo : lo + chunk]
        k = len(persons)
        q_idx = np.tile(np.arange(q_count, dtype=np.int32), k)
        group = pos.group[:, persons].T.ravel()
        wage = pos.wage_class[:, persons].T.ravel()
        insert(
            con,
            "dwh_position",
            pa.table(
                {
                    "niss": np.repeat(numbers[persons], q_count),
                    "quarter": pa.DictionaryArray.from_arrays(pa.array(q_idx), quarter_dict),
                    "quarter_end": np.tile(ends, k),
                    "position": pos.code[:, persons].T.ravel(),
                    "group": _dict(group, W.GROUPS),
                    "wage": pa.array(wage, mask=wage == 0),
                }
            ),
            "lpad(niss::VARCHAR, 11, '0'), quarter::VARCHAR, quarter_end, position::VARCHAR, "
            '"group"::VARCHAR, wage',
        )
        step("writing the warehouse", 0.75 + 0.25 * min(1.0, (lo + k) / total))
