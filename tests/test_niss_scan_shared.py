"""One NISS scanner for the BCSS guard (coded.parquet) and the SPP release gate (issue 15:
two scanners mended into one). The gate's readings are named rules of the shared scanner;
the release module keeps no NISS logic of its own."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pyarrow as pa
from linkage_helpers import make_niss

from primex.linkage.niss_scan import GATE, GUARD, scan_table
from primex.release.leak_scan import scan_bytes

A = make_niss(date(1969, 10, 9), 125)  # 69100912557, the example
YOUNG = [make_niss(date(2005, 1, 1), 123), make_niss(date(2006, 2, 3), 124)]
ROOT = Path(__file__).resolve().parents[1]


def test_a_decimal_fraction_is_no_number_for_the_guard_either() -> None:
    fraction = pa.table({"amount": [f"1059.{A}", f"-3.{A}"]})
    assert scan_table(fraction) == []
    assert scan_table(fraction, rules=GATE) == []
    # a dotted national number is still one: its groups follow a digit and a dot, but the
    # candidate starts at the first group
    dotted = pa.table({"note": [f"{A[:2]}.{A[2:4]}.{A[4:6]}.{A[6:9]}.{A[9:]}", f"x.{A}"]})
    [finding] = scan_table(dotted)
    assert (finding.column, finding.cells, finding.first_row) == ("note", 2, 0)


def test_digits_glued_to_letters_are_a_word_for_the_gate_a_number_for_the_guard() -> None:
    glued = pa.table({"digest": [f"ab{A}cd", "0" * 64]})
    assert [f.column for f in scan_table(glued, rules=GUARD)] == ["digest"]
    assert scan_table(glued, rules=GATE) == []
    assert scan_bytes("report.md", f"sha256 ab{A}cd\n".encode()) == []
    assert scan_bytes("report.md", f"id\nsee {A}.\n".encode())[0].where == "line 2"


def test_short_numbers_count_one_by_one_for_the_guard_by_column_for_the_gate() -> None:
    # a national number that lost its leading zero (born 2005), among large totals
    totals = pa.table({"total": pa.array([int(YOUNG[0]), 12_345_678, 23_456_789, 98_765_432],
                                         pa.int64())})
    assert [f.first_row for f in scan_table(totals, rules=GUARD)] == [0]
    assert scan_table(totals, rules=GATE) == []
    ids = pa.table({"id": pa.array([int(y) for y in YOUNG], pa.int64())})
    assert [f.cells for f in scan_table(ids, rules=GATE)] == [2]
    as_text = pa.table({"id": [f" {int(y)} " for y in YOUNG]})
    assert [f.kind for f in scan_table(as_text, rules=GATE)] == ["text"]
    assert scan_table(as_text, rules=GUARD) == []  # the guard reads 11-digit text only


def test_the_release_gate_keeps_no_niss_logic_of_its_own() -> None:
    tree = ast.parse((ROOT / "primex" / "release" / "leak_scan.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "re" not in imported and "primex.linkage.niss" not in imported
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert not defined & {"_ints_have_niss", "_strings_have_niss", "_mostly_valid"}
