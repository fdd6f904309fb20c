"""Small PRIMA / warehouse stores for the protocol and dashboard tests (data-model.md schema).

`tiny_home()` holds a handful of persons whose indicators are computed by hand in the tests;
`random_home()` a few thousand random persons (enough cells above the thresholds for the
dashboard). Both are synthetic and tiny; they do not depend on primex.synthetic.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import duckdb

from primex.home import Home
from primex.synthetic.store import PRIMA_DDL, WAREHOUSE_DDL, create_tables

BANDS = ["18-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64"]


def add_months(d: date, k: int) -> date:
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


def _niss(i: int) -> str:
    """A syntactically valid-looking fake national number (1900s rule, check digits)."""
    base = f"{80 + i % 20:02d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 997 + 1:03d}"
    return base + f"{97 - int(base) % 97:02d}"


def write_stores(root: Path, persons: list[tuple], months: list[tuple], measures: list[tuple],
                 piis: list[tuple], population: list[tuple], positions: list[tuple],
                 start: date, n_months: int) -> Home:
    home = Home(root)
    home.spp.mkdir(parents=True, exist_ok=True)
    home.bcss.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.prima_db))
    create_tables(con, PRIMA_DDL)  # the data-model schema the generator uses
    con.executemany("INSERT INTO person VALUES (?,?,?,?,?,?,?,?,?,?,?)", persons)
    con.executemany("INSERT INTO benefit_month VALUES (?,?,?,?,?,?,?,?,?)", months)
    if measures:
        con.executemany("INSERT INTO employment_measure VALUES (?,?,?,?,?,?)", measures)
    if piis:
        con.executemany("INSERT INTO piis VALUES (?,?,?,?,?,?)", piis)
    con.executemany("INSERT INTO population VALUES (?,?,?,?,?)", population)
    con.execute("INSERT INTO snapshot VALUES (?,?,?,?,?,?)",
                [max(m[8] for m in months), 1, len(persons), start, n_months, "tests"])
    con.close()
    wh = duckdb.connect(str(home.warehouse_db))
    create_tables(wh, WAREHOUSE_DDL)
    wh.executemany("INSERT INTO dwh_person VALUES (?,?,?,?)",
                   [(p[0], p[1], p[2], p[9]) for p in persons])
    if positions:
        wh.executemany("INSERT INTO dwh_position VALUES (?,?,?,?,?,?)", positions)
    wh.close()
    return home


def _person(i: int, born: date, sex: str, commune: str, group: str = "BE") -> tuple:
    return (_niss(i), born, sex, group if group != "NON_EU" else "MA", group, False,
            f"H{i}", "single", 1, commune, commune + "SYN1")


def _months(niss: str, cpas: str, first: date, count: int, spell: int, benefit: str = "RI",
            category: int = 2, student: bool = False, lag: int = 20) -> list[tuple]:
    return [(niss, cpas, add_months(first, k), benefit, category, 800.0, student, spell,
             add_months(first, k) + timedelta(days=lag + 31)) for k in range(count)]


def tiny_home(root: Path) -> Home:
    """18 months (2024-01 .. 2025-06) and five persons; see the hand computations in
    tests/test_extract_protocol.py."""
    start = date(2024, 1, 1)
    a = _person(1, date(1990, 5, 10), "M", "21004")
    b = _person(2, date(2000, 2, 1), "F", "62063")
    c = _person(3, date(1985, 1, 1), "F", "11002", "NON_EU")
    d = _person(4, date(1970, 7, 1), "M", "62063")
    e = _person(5, date(2001, 3, 1), "F", "21004")
    rows = (
        _months(a[0], "21004", start, 18, 1)  # all 18 months: left-censored, still running
        + _months(b[0], "62063", date(2025, 4, 1), 2, 2, student=True)  # enters and exits Q2
        + _months(c[0], "11002", date(2025, 1, 1), 6, 3, benefit="ERIS", category=3)
        + _months(d[0], "62063", date(2024, 2, 1), 3, 4)  # Feb-Apr 2024, exits 2024Q2
        + _months(e[0], "21004", date(2024, 4, 1), 3, 5, category=1)  # 2024Q2, exit 2024Q2
    )
    measures = [(d[0], "62063", "art60", date(2024, 5, 1), None, "ongoing")]
    piis = [(b[0], "62063", "student", date(2025, 4, 1), None, "ongoing")]
    population = []
    for commune, pop in (("21004", 1000), ("62063", 2000), ("11002", 3000)):
        for year in (2024, 2025):
            for band in BANDS:
                population.append((commune, year, "M", band, pop // 18))
                population.append((commune, year, "F", band, pop // 18))
    positions = [(d[0], "2025Q2", date(2025, 6, 30), "111", "employee", 4),
                 (e[0], "2025Q2", date(2025, 6, 30), "211", "job_seeker", None)]
    return write_stores(root, [a, b, c, d, e], rows, measures, piis, population, positions,
                        start, 18)


def random_home(root: Path, persons: int = 3000, seed: int = 7,
                start: date = date(2023, 1, 1), n_months: int = 30) -> Home:
    """A few thousand random beneficiaries in a dozen communes of the three regions."""
    rng = random.Random(seed)
    communes = ["21004", "21001", "21015", "62063", "52011", "53053", "92094", "11002",
                "44021", "24062", "71072", "35013"]
    weights = [6, 3, 3, 5, 5, 3, 2, 5, 3, 2, 2, 1]
    people, rows, measures, piis, positions = [], [], [], [], []
    spell = 0
    quarter_of = {}
    for i in range(persons):
        commune = rng.choices(communes, weights)[0]
        age = rng.choice([19, 21, 23, 27, 33, 38, 44, 51, 58, 63])
        born = date(2024 - age, rng.randint(1, 12), rng.randint(1, 28))
        group = rng.choices(["BE", "EU", "NON_EU"], [65, 12, 23])[0]
        sex = rng.choice("MF")
        p = _person(1000 + i, born, sex, commune, group)
        people.append(p)
        benefit = "ERIS" if rng.random() < 0.15 else "RI"
        first = rng.randrange(-6, n_months)
        length = max(1, int(rng.expovariate(1 / 11)))
        first_m = max(0, first)
        last_m = min(n_months - 1, first + length - 1)
        if last_m < first_m:
            continue
        spell += 1
        lag = 70 if rng.random() < 0.03 else 20  # a few late corrections
        rows += _months(p[0], commune, add_months(start, first_m), last_m - first_m + 1, spell,
                        benefit, rng.choice([1, 2, 2, 3]), age < 25 and rng.random() < 0.4, lag)
        if rng.random() < 0.08:
            s = add_months(start, min(n_months - 1, last_m + 1))
            measures.append((p[0], commune, "art60" if rng.random() < 0.8 else "art61", s,
                             None, "ongoing"))
        if benefit == "RI" and rng.random() < 0.5:
            piis.append((p[0], commune, "social", add_months(start, first_m), None, "ongoing"))
        exit_m = add_months(start, last_m)
        quarter_of[p[0]] = exit_m
        for k in (4, 8):
            q = add_months(exit_m, 3 * k)
            label = f"{q.year}Q{(q.month - 1) // 3 + 1}"
            group_pos = rng.choices(["employee", "job_seeker", "cpas", "inactive", "other",
                                     "self_employed"], [35, 25, 20, 10, 5, 5])[0]
            positions.append((p[0], label, q, "111", group_pos, None))
    population = []
    for commune in communes:
        for year in range(start.year, start.year + 4):
            for band in BANDS:
                for sex in "MF":
                    population.append((commune, year, sex, band, 2500))
    return write_stores(root, people, rows, measures, piis, population, positions, start,
                        n_months)


def test_tiny_home_has_the_data_model_tables(tmp_path: Path) -> None:
    home = tiny_home(tmp_path)
    con = duckdb.connect(str(home.prima_db), read_only=True)
    assert con.execute("SELECT COUNT(*) FROM benefit_month").fetchall() == [(32,)]
    assert con.execute("SELECT COUNT(DISTINCT niss) FROM person").fetchall() == [(5,)]
    con.close()
