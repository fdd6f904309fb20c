"""Helpers for the linkage and ad hoc extraction tests: NISS built by the published rule,
the reference pseudonym scheme written from the spec with hmac/hashlib only, tiny stores."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from primex.synthetic.store import PRIMA_DDL, WAREHOUSE_DDL, create_tables


def make_niss(birth: date, serial: int, *, bis: int = 0) -> str:
    """YYMMDD + serial + check (97 - N mod 97, N prefixed by 2 for births from 2000);
    `bis` adds 20 or 40 to the month (BIS numbers)."""
    body = f"{birth.year % 100:02d}{birth.month + bis:02d}{birth.day:02d}{serial:03d}"
    n = int(("2" if birth.year >= 2000 else "") + body)
    return body + f"{97 - n % 97:02d}"


def mod97_ok(digits: str) -> bool:
    body, check = digits[:9], int(digits[9:])
    return 97 - int(body) % 97 == check or 97 - int("2" + body) % 97 == check


def ref_hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with the standard library only."""
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def ref_project_key(master: bytes, project_id: str) -> bytes:
    return ref_hkdf_sha256(master, b"", b"primex/pseudonym/v1/" + project_id.encode(), 32)


def ref_pseudonym(project_key: bytes, nn11: str) -> str:
    return hmac.new(project_key, b"BE-NN/v1:" + nn11.encode(), hashlib.sha256).digest()[
        :16
    ].hex()


def ref_record_key(record_key: bytes, person_id: str) -> bytes:
    """Contract C2, from its text: HMAC-SHA-256(key, b"primex-record-v1\\0" + id)[:16]."""
    return hmac.new(record_key, b"primex-record-v1\0" + person_id.encode(), hashlib.sha256
                    ).digest()[:16]


def ref_key_id(project_key: bytes) -> str:
    return "v1:" + hashlib.sha256(b"kid" + project_key).digest()[:8].hex()


# 11 digits not inside a longer hex token (pseudonyms are 32 hex characters and often
# hold digit runs; a NISS in data or text stands on its own).
_RUN = re.compile(rb"(?<![0-9a-fA-F])\d{11}(?![0-9a-fA-F])")


def niss_leaks(folder: Path) -> list[str]:
    """Files under `folder` holding an 11-digit run that passes the NISS mod-97 check
    (scans raw bytes and the decoded text of Parquet files)."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        blobs = [path.read_bytes()]
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            blobs.append(json.dumps(table.to_pylist(), default=str).encode())
            blobs.append(repr(table.schema.metadata).encode())
        if any(mod97_ok(m.decode()) for blob in blobs for m in _RUN.findall(blob)):
            found.append(path.name)
    return found


def quarter_end(year: int, q: int) -> date:
    return {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30),
            4: date(year, 12, 31)}[q]


def make_warehouse(path: Path, positions: dict[str, dict[str, tuple[str, str, int | None]]],
                   persons: list[str] | None = None) -> None:
    """positions: niss -> {"2024Q3": (position, group, wage_class)}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    create_tables(con, WAREHOUSE_DDL)  # the data-model schema the generator uses
    for n in sorted(set(persons or []) | set(positions)):
        con.execute("INSERT INTO dwh_person VALUES (?, DATE '1990-01-01', 'F', '21004')", [n])
    for n, quarters in positions.items():
        for label, (pos, group, wage) in quarters.items():
            year, q = int(label[:4]), int(label[5])
            con.execute("INSERT INTO dwh_position VALUES (?, ?, ?, ?, ?, ?)",
                        [n, label, quarter_end(year, q), pos, group, wage])
    con.close()


def write_extract(path: Path, rows: list[dict], *, request: str,
                  linkage: list[dict] | None = None, variables: list[str] | None = None) -> None:
    table = pa.Table.from_pylist(rows)
    meta = {b"primex.request": request.encode()}
    if linkage is not None:
        meta[b"primex.linkage"] = json.dumps(linkage).encode()
    if variables is not None:
        meta[b"primex.variables"] = json.dumps(variables).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), path)


PRIMA_SCHEMA = """
CREATE TABLE person (niss VARCHAR(11), birth_date DATE, sex VARCHAR, nationality VARCHAR,
  nationality_group VARCHAR, refugee BOOLEAN, household_id VARCHAR, household_type VARCHAR,
  household_size SMALLINT, commune VARCHAR(5), sector VARCHAR(9));
CREATE TABLE benefit_month (niss VARCHAR(11), cpas VARCHAR(5), month DATE, benefit VARCHAR,
  category SMALLINT, amount DECIMAL(10,2), student BOOLEAN, spell_id BIGINT, recorded_on DATE);
CREATE TABLE employment_measure (niss VARCHAR(11), cpas VARCHAR(5), measure VARCHAR,
  start_date DATE, end_date DATE, outcome VARCHAR);
CREATE TABLE piis (niss VARCHAR(11), cpas VARCHAR(5), piis_type VARCHAR, start_date DATE,
  end_date DATE, outcome VARCHAR);
CREATE TABLE snapshot (snapshot_date DATE, seed BIGINT, persons BIGINT, start_month DATE,
  months INTEGER, generator_version VARCHAR);
"""

# Three synthetic persons (valid check digits, invented dates; nobody real).
P1 = make_niss(date(1990, 4, 12), 101)
P2 = make_niss(date(2003, 1, 5), 2)
P3 = make_niss(date(1985, 7, 30), 32)


def _months(first: date, n: int) -> list[date]:
    out = []
    for i in range(n):
        k = first.year * 12 + first.month - 1 + i
        out.append(date(k // 12, k % 12 + 1, 1))
    return out


def make_prima(path: Path) -> None:
    """PRIMA with data 2022-01..2024-06:
    P1 (born 1990-04-12, Brussels 21004): RI spell 1 2023-02..2023-05 (category 2, amounts
      1000/1100/1200/1300), RI spell 2 2024-01..2024-06 (running), art60 2023-06..2023-12;
    P2 (born 2003-01-05, Gent 44021): ERIS spell 3 2023-11..2024-02 (category 1, student in
      2024-01), PIIS student from 2023-11 (ongoing);
    P3 (born 1985-07-30, Liège 62063): RI spell 4 2022-01..2022-06 (before the period)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    create_tables(con, PRIMA_DDL)
    people = [(P1, date(1990, 4, 12), "F", "21004"), (P2, date(2003, 1, 5), "F", "44021"),
              (P3, date(1985, 7, 30), "F", "62063")]
    for n, birth, sex, commune in people:
        con.execute("INSERT INTO person VALUES (?, ?, ?, 'BE', 'BE', false, ?, 'single', 1, ?, ?)",
                    [n, birth, sex, "h-" + commune, commune, commune + "A00-"])

    def spell(n: str, cpas: str, first: date, k: int, benefit: str, category: int,
              spell_id: int, amounts: list[float] | None = None,
              student_months: tuple[date, ...] = ()) -> None:
        for i, m in enumerate(_months(first, k)):
            amount = amounts[i] if amounts else 900.0
            con.execute("INSERT INTO benefit_month VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [n, cpas, m, benefit, category, amount, m in student_months, spell_id, m])

    spell(P1, "21004", date(2023, 2, 1), 4, "RI", 2, 1, [1000, 1100, 1200, 1300])
    spell(P1, "21004", date(2024, 1, 1), 6, "RI", 2, 2)
    spell(P2, "44021", date(2023, 11, 1), 4, "ERIS", 1, 3, student_months=(date(2024, 1, 1),))
    spell(P3, "62063", date(2022, 1, 1), 6, "RI", 3, 4)
    con.execute("INSERT INTO employment_measure VALUES (?, '21004', 'art60', DATE '2023-06-01',"
                " DATE '2023-12-31', 'completed')", [P1])
    con.execute("INSERT INTO piis VALUES (?, '44021', 'student', DATE '2023-11-01', NULL,"
                " 'ongoing')", [P2])
    con.execute("INSERT INTO snapshot VALUES (DATE '2024-07-15', 7, 3, DATE '2022-01-01', 30,"
                " 'test')")
    con.close()
