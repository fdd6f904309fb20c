"""The gate's content scan (C2) on its own: what it finds, in which column and row, and the
data it must let through (decimal fractions, large totals)."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from release_attack_helpers import niss

from primex.release.leak_scan import scan_bytes

# 1985-07-31, serial 123: check digits from the definition (97 - body mod 97)
NISS = niss(850731123)
# born 2005-01-01, serial 123: the 2000 rule (97 - (2 000 000 000 + body) mod 97)
YOUNG_BODY = 50101123
YOUNG = f"{YOUNG_BODY:09d}{97 - (2_000_000_000 + YOUNG_BODY) % 97:02d}"


def _parquet(**columns: pa.Array) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("a.csv", f"x,note\n1,{NISS}\n".encode(), "column 'note', row 1"),
        ("a.csv", f"x,note\n1,{NISS[:2]} {NISS[2:4]} {NISS[4:6]} {NISS[6:9]} {NISS[9:]}\n"
         .encode(), "column 'note', row 1"),
        ("a.md", f"# report\nsee {NISS[:6]}-{NISS[6:9]}.{NISS[9:]}\n".encode(), "line 2"),
        ("a.parquet", _parquet(v=pa.array([1.5, float(NISS)])), "column 'v', row 2"),
        ("a.parquet", _parquet(v=pa.array([None, int(YOUNG)], pa.int64())), "column 'v', row 2"),
        ("a.parquet", _parquet(v=pa.array([b"ab", NISS.encode()], pa.binary())),
         "column 'v' (1 value(s), bytes)"),
        ("a.parquet", _parquet(v=pa.array(["x", NISS]).dictionary_encode()), "column 'v', row 2"),
        ("a.parquet", _parquet(v=pa.array([[1], [int(NISS)]])),
         "column 'v[]' (1 value(s), number)"),
        ("a.parquet", _parquet(**{f"id {NISS}": pa.array([1])}), "a column name"),
    ],
)
def test_finds_national_numbers_of_any_type(name: str, data: bytes, where: str) -> None:
    [finding] = scan_bytes(name, data)[:1]
    assert finding.reason == "niss_found"
    assert finding.where == where
    assert NISS not in finding.describe() and YOUNG not in finding.describe()


def test_lets_fractions_and_large_totals_through() -> None:
    rng = np.random.default_rng(7)
    amounts = rng.normal(1000, 300, 20_000)  # CSV prints ~11 fraction digits
    totals = rng.integers(10**7, 10**10, 2_000)  # sums in euros: 8-10 digits
    csv = "amount\n" + "".join(f"{a!r}\n" for a in amounts)
    assert scan_bytes("a.csv", csv.encode()) == []
    assert scan_bytes("t.parquet", _parquet(total=pa.array(totals))) == []
    assert scan_bytes("t.csv", ("total\n" + "".join(f"{t}\n" for t in totals)).encode()) == []


def test_a_column_of_young_peoples_numbers_is_caught() -> None:
    young = [int(f"{b:09d}{97 - (2_000_000_000 + b) % 97:02d}") for b in
             (50101123, 60203124, 31112125)]  # born 2005, 2006, 2003: leading zero lost
    [finding] = scan_bytes("y.csv", ("id\n" + "".join(f"{y}\n" for y in young)).encode())
    assert (finding.reason, finding.where) == ("niss_found", "column 'id', row 1")


@pytest.mark.parametrize("column", ["niss", " NN11 ", "spp_record_key"])
def test_identifying_columns(column: str) -> None:
    found = scan_bytes("a.parquet", _parquet(**{column: pa.array(["x"])}))
    assert [f.reason for f in found] == ["identifying_column"]
