"""Helpers for the request tests: a tiny hand-made PRIMA whose risk figures are known by hand,
and valid request text to mutate. Nothing here is real data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "requests"

# The fake NISS values below are 11 digits with no valid check digits: never real.
_PERSON_COLUMNS = (
    "niss VARCHAR, birth_date DATE, sex VARCHAR, nationality VARCHAR, nationality_group VARCHAR,"
    " refugee BOOLEAN, household_id VARCHAR, household_type VARCHAR, household_size SMALLINT,"
    " commune VARCHAR, sector VARCHAR"
)
_BENEFIT_COLUMNS = (
    "niss VARCHAR, cpas VARCHAR, month DATE, benefit VARCHAR, category SMALLINT,"
    " amount DECIMAL(10,2), student BOOLEAN, spell_id BIGINT, recorded_on DATE"
)


def make_prima(path: Path, people: list[dict], *, start: dt.date = dt.date(2023, 1, 1),
               months: int = 24) -> Path:
    """A PRIMA with one RI spell per person: keys `sex`, `age` (at spell start), `commune`,
    `category`, `first` (first month), `length` (months)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE person ({_PERSON_COLUMNS})")
    con.execute(f"CREATE TABLE benefit_month ({_BENEFIT_COLUMNS})")
    con.execute("CREATE TABLE employment_measure (niss VARCHAR, cpas VARCHAR, measure VARCHAR,"
                " start_date DATE, end_date DATE, outcome VARCHAR)")
    con.execute("CREATE TABLE piis (niss VARCHAR, cpas VARCHAR, piis_type VARCHAR,"
                " start_date DATE, end_date DATE, outcome VARCHAR)")
    con.execute("CREATE TABLE snapshot (snapshot_date DATE, seed BIGINT, persons BIGINT,"
                " start_month DATE, months INTEGER, generator_version VARCHAR)")
    for i, p in enumerate(people):
        niss = f"{90000000000 + i:011d}"
        first: dt.date = p.get("first", start)
        birth = dt.date(first.year - p["age"], first.month, 1)
        commune = p.get("commune", "21004")
        con.execute(
            "INSERT INTO person VALUES (?, ?, ?, 'BE', 'BE', false, ?, 'single', 1, ?, ?)",
            [niss, birth, p["sex"], f"h{i}", commune, commune + "A00-"],
        )
        for m in range(p.get("length", 3)):
            index = first.year * 12 + first.month - 1 + m
            month = dt.date(index // 12, index % 12 + 1, 1)
            con.execute(
                "INSERT INTO benefit_month VALUES (?, ?, ?, 'RI', ?, 800.00, ?, ?, ?)",
                [niss, commune, month, p.get("category", 2), p.get("student", False), i + 1,
                 month],
            )
    con.execute("INSERT INTO snapshot VALUES (?, 42, ?, ?, ?, 'test')",
                [start, len(people), start, months])
    con.close()
    return path


def valid_request(**replace: str) -> str:
    """The text of a valid microdata request; `replace` swaps whole top-level lines."""
    text = (EXAMPLES / "young-adults-trajectories.yaml").read_text(encoding="utf-8")
    # a fixed period, inside the data of make_prima's default (2023-01 + 24 months)
    text = re.sub(r"period: \{start: [^,]+, end: [^}]+\}", "period: {start: 2023-01, end: 2024-06}",
                  text)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text
