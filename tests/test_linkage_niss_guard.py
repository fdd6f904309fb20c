"""The guard "no NISS left" (issue 14 #10): every column of every type is scanned before
coded.parquet is written; NISS with separators and NISS stored as numbers are found.

The national numbers are built by the published rule (linkage_helpers.make_niss), never by
primex; `69.10.09-125.57` is the issue's own example (born 1969-10-09, serial 125)."""

from __future__ import annotations

import os
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from linkage_helpers import make_niss, make_warehouse, write_extract

from primex.cli import main
from primex.linkage import keystore
from primex.linkage.niss_scan import scan_table

REQ = "REQ-2026-0077"
MASTER = bytes(range(130, 162))
A = make_niss(date(1969, 10, 9), 125)   # 69100912557
B = make_niss(date(2003, 1, 5), 2)      # born 2003: the 2000 rule
D = make_niss(date(1990, 2, 12), 84, bis=40)  # a BIS number
SEPARATED = f"{A[:2]}.{A[2:4]}.{A[4:6]}-{A[6:9]}.{A[9:]}"


def test_the_issue_example_is_a_valid_number() -> None:
    assert SEPARATED == "69.10.09-125.57"


def _rows(extra: dict[str, object]) -> list[dict]:
    return [{"record_id": str(i + 1), "niss": n, "region": "04000",
             "spell_start": date(2023, 1, 1), "spell_end": date(2023, 6, 1), **extra}
            for i, n in enumerate([A, B, D])]


LEAKS: dict[str, object] = {
    "int64 NISS column": pa.scalar(int(A), pa.int64()),
    "separator-formatted strings": SEPARATED,
    "spaces": f"{A[:6]} {A[6:9]} {A[9:]}",
    "inside a sentence": f"see file 1 {SEPARATED} (old)",
    "a number with its leading zero lost": pa.scalar(int(B), pa.int64()),
    "a float": float(D),
    "a decimal": Decimal(A),
    "a list of numbers": [1, int(D)],
    "a struct": {"note": SEPARATED, "n": 1},
    "bytes": A.encode(),
}


@pytest.mark.parametrize("label", list(LEAKS))
def test_coding_refuses_an_extract_that_would_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    label: str,
) -> None:
    home = tmp_path / "home"
    make_warehouse(home / "bcss" / "warehouse.duckdb", {})
    value = LEAKS[label]
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    extract = tmp_path / "spp" / "extract.parquet"
    write_extract(extract, _rows({"contact": value}), request=REQ)
    monkeypatch.delenv(keystore.ENV_PASSPHRASE, raising=False)
    monkeypatch.setenv(keystore.ENV_MASTER_KEY, MASTER.hex())
    out = tmp_path / "bcss-out" / "coded.parquet"
    capsys.readouterr()
    code = main(["--home", str(home), "linkage", "code", "--request", REQ,
                 "--in", str(extract), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "contact" in err and "national numbers" in err
    assert len(err.strip().splitlines()) == 1
    for n in (A, B, D, SEPARATED):
        assert n not in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # nothing written


def test_the_guard_finds_every_type() -> None:
    table = pa.table({
        "int": pa.array([int(A)], pa.int64()),
        "uint": pa.array([int(D)], pa.uint64()),
        "text": [SEPARATED],
        "dictionary": pa.array([SEPARATED]).dictionary_encode(),
        "large": pa.array([f"{A[:6]}-{A[6:]}"], pa.large_string()),
        "view": pa.array([SEPARATED], pa.string_view()),
        "list": pa.array([[f"x {A}"]]),
        "map": pa.array([[("k", SEPARATED)]], pa.map_(pa.string(), pa.string())),
        "binary": pa.array([b"\xff\x00" + A.encode()], pa.binary()),
        "fixed": pa.array([b"ab" + A.encode() + b"cde"], pa.binary(16)),
        "float": pa.array([float(B)]),
        "decimal": pa.array([Decimal(A + ".00")], pa.decimal128(14, 2)),
        "clean": ["04000"],
        f"copy_{A}": [1],
    })
    found = {f.column: (f.kind, f.cells) for f in scan_table(table)}
    assert found == {
        "int": ("number", 1), "uint": ("number", 1), "text": ("text", 1),
        "dictionary": ("text", 1), "large": ("text", 1), "view": ("text", 1),
        "list[]": ("text", 1), "map{value}": ("text", 1), "binary": ("bytes", 1),
        "fixed": ("bytes", 1), "float": ("number", 1), "decimal": ("number", 1),
        "#13": ("column name", 1),
    }


def test_no_false_positive_on_ordinary_coded_columns() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    keys = rng.bytes(16 * n)
    table = pa.table({
        "spp_record_key": pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), n, [None, pa.py_buffer(keys)]),
        "age": pa.array(rng.integers(0, 120, n)),
        "count": pa.array(rng.integers(0, 10**7, n)),  # below 10^7 nothing can match
        "amount": pa.array(rng.integers(0, 10**9, n) / 100).cast(pa.decimal128(12, 2)),
        "spell_start": pa.array(rng.integers(15_000, 21_000, n).astype("int32")).cast(
            pa.date32()),
        "region": pa.array(rng.choice(["02000", "03000", "04000"], n)),
        "quarter": pa.array(rng.choice(["2023Q1", "2024Q4"], n)),
        "period": pa.array(rng.choice(["2023-02-01/2023-05-01", "1 234 567,89 EUR"], n)),
        "long_ids": pa.array(rng.integers(10**11, 10**15, n).astype(str)),
    })
    assert scan_table(table) == []


def test_invalid_numbers_are_not_findings() -> None:
    bad_check = A[:9] + f"{(int(A[9:]) + 1) % 100:02d}"
    bad_serial = make_niss(date(1969, 10, 9), 0)
    table = pa.table({"a": [bad_check, bad_serial, A + "1", "1" + A]})
    assert scan_table(table) == []


def test_the_guard_is_vectorised(tmp_path: Path) -> None:
    """2 M rows of text, numbers and record keys in a few seconds (bounded: 2 cores shared by
    several jobs; measured 0.05-2 s per column when idle)."""
    rng = np.random.default_rng(3)
    n = 2_000_000
    table = pa.table({
        "region": pa.array(rng.choice(["02000", "03000", "04000"], n)),
        "age": pa.array(rng.integers(18, 90, n)),
        "spp_record_key": pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(16), n, [None, pa.py_buffer(os.urandom(16 * n))]),
        "ids": pa.array(rng.integers(10**11, 10**13, n).astype(str)),
    })
    start = time.process_time()
    assert scan_table(table) == []
    assert time.process_time() - start < 30


def test_a_column_the_guard_cannot_check_is_refused(tmp_path: Path) -> None:
    from primex.errors import IntegrityError
    from primex.linkage.code import _refuse_leaks

    table = pa.table({"when": pa.array([pa.MonthDayNano([1, 2, 3])],
                                       pa.month_day_nano_interval())})
    with pytest.raises(IntegrityError, match="cannot check"):
        _refuse_leaks(table, where="t")
    # dates, times and durations are checked through their integers
    stamps = pa.array([int(A)], pa.int64()).cast(pa.duration("s"))
    with pytest.raises(IntegrityError, match="national numbers"):
        _refuse_leaks(pa.table({"d": stamps}), where="t")
