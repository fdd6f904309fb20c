"""`primex linkage code`: validation by reason, pseudonyms, warehouse join by hand, no NISS out."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from linkage_helpers import (
    make_niss,
    make_warehouse,
    niss_leaks,
    ref_key_id,
    ref_project_key,
    ref_pseudonym,
    write_extract,
)

from primex.cli import main
from primex.errors import IntegrityError, PrimexError
from primex.extract.manifest import sha256_file
from primex.home import Home
from primex.linkage import keystore
from primex.linkage.code import code_extract

MASTER = bytes(range(100, 132))
REQ = "REQ-2026-0042"
A = make_niss(date(1990, 4, 12), 101)
B = make_niss(date(2003, 1, 5), 2)  # born 2003: the 2 prefix
C = make_niss(date(1985, 7, 30), 32)
D = make_niss(date(1990, 2, 12), 84, bis=40)  # BIS number
BAD_CHECK = A[:9] + f"{(int(A[9:]) % 97) + 1:02d}"
BAD_SERIAL = "85073000061"
LINKAGE = [{"variables": ["position_group", "wage_class"], "at": ["exit+4q", "entry-1q"]}]


def _rows() -> list[dict]:
    def row(rid: str, n: str | None, start: date, end: date | None, region: str,
            benefit: str = "RI") -> dict:
        return {"record_id": rid, "niss": n, "birth_date": date(1990, 1, 1), "region": region,
                "benefit": benefit, "spell_start": start, "spell_end": end}

    return [
        row("1", A[:2] + "." + A[2:4] + "." + A[4:6] + "-" + A[6:9] + "." + A[9:],
            date(2023, 2, 1), date(2023, 5, 1), "02000"),
        row("2", B, date(2024, 1, 1), None, "02000", "ERIS"),
        row("3", C, date(2023, 1, 1), date(2023, 3, 1), "04000"),
        row("4", D, date(2024, 4, 1), date(2024, 10, 1), "03000"),
        row("5", A, date(2024, 1, 1), None, "02000"),
        row("6", BAD_CHECK, date(2023, 1, 1), None, "04000"),
        row("7", "1234567", date(2023, 1, 1), None, "04000"),
        row("8", BAD_SERIAL, date(2023, 1, 1), None, "03000"),
        row("9", None, date(2023, 1, 1), None, "03000"),
    ]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Home, Path]:
    home = Home.resolve(tmp_path / "home")
    positions = {
        A: {"2022Q4": ("311", "inactive", None), "2024Q2": ("111", "employee", 5),
            "2023Q4": ("111", "employee", 3)},
        B: {"2023Q4": ("211", "job_seeker", None), "2022Q1": ("211", "job_seeker", None)},
        D: {"2024Q1": ("111", "employee", 7), "2024Q4": ("111", "employee", 8)},
    }
    make_warehouse(home.warehouse_db, positions)
    extract = tmp_path / "spp" / "extract.parquet"
    write_extract(extract, _rows(), request=REQ, linkage=LINKAGE,
                  variables=["region", "benefit"])
    return home, extract


def test_coding_end_to_end(setup: tuple[Home, Path], tmp_path: Path) -> None:
    home, extract = setup
    out = tmp_path / "bcss-out" / "coded.parquet"
    result = code_extract(home, REQ, extract, out, project_key=ref_project_key(MASTER, REQ))
    kp = ref_project_key(MASTER, REQ)

    coded = pq.read_table(out)
    assert coded.column_names == [
        "pseudonym", "record_id", "region", "benefit",
        "position_group_exit_p4q", "position_group_entry_m1q",
        "wage_class_exit_p4q", "wage_class_entry_m1q",
    ]
    rows = {r["record_id"]: r for r in coded.to_pylist()}
    assert sorted(rows) == ["1", "2", "3", "4", "5"]  # invalid rows dropped, not merged
    assert rows["1"]["pseudonym"] == ref_pseudonym(kp, A) == rows["5"]["pseudonym"]
    assert rows["4"]["pseudonym"] == ref_pseudonym(kp, D)
    # A: entry 2023Q1, exit 2023Q2 -> exit+4q = 2024Q2, entry-1q = 2022Q4
    assert (rows["1"]["position_group_exit_p4q"], rows["1"]["wage_class_exit_p4q"]) == (
        "employee", "5")
    # a warehouse row without a wage class: not an employee that quarter (issue 16)
    assert (rows["1"]["position_group_entry_m1q"], rows["1"]["wage_class_entry_m1q"]) == (
        "inactive", "not_applicable")
    # B: running -> no exit; entry 2024Q1 - 1 = 2023Q4
    # censoring is an explicit code with its reason (issue 16), for categories
    assert rows["2"]["position_group_exit_p4q"] == "not_observed_running"
    assert rows["2"]["position_group_entry_m1q"] == "job_seeker"
    # C: not in the warehouse at all: every linked column says why (issue 16)
    assert {rows["3"][c] for c in coded.column_names[4:8]} <= {
        "not_observed_running", "not_observed_outside_data", "no_warehouse_record"}
    # D: exit 2024Q4 + 4 = 2025Q4, beyond the warehouse; entry 2024Q2 - 1 = 2024Q1
    assert rows["4"]["position_group_exit_p4q"] == "not_observed_outside_data"
    assert (rows["4"]["position_group_entry_m1q"], rows["4"]["wage_class_entry_m1q"]) == (
        "employee", "7")
    assert rows["4"]["wage_class_exit_p4q"] == "not_observed_outside_data"
    # A's second spell: entry 2024Q1 - 1 = 2023Q4
    assert rows["5"]["wage_class_entry_m1q"] == "3"

    meta = coded.schema.metadata
    assert meta[b"primex.key_id"].decode() == ref_key_id(kp) == result.key_id

    report = json.loads(result.report_json.read_text())
    assert report["rows_in"] == 9 and report["valid"] == 5 and report["invalid"] == 4
    assert report["invalid_by_reason"] == {
        "missing": 1, "wrong_length": 1, "bad_check_digits": 1, "bad_date": 0, "bad_serial": 1}
    assert report["persons"] == 4 and report["matched_in_warehouse"] == 4
    assert report["unmatched_in_warehouse"] == 1
    region = {r["value"]: (r["rows"], r["unmatched"]) for r in
              report["unmatched_by_stratum"]["region"]}
    assert region == {"02000": (3, 0), "03000": (1, 0), "04000": (1, 1)}
    assert report["duplicates"]["rows_sharing_a_person"] == 1
    assert report["duplicates"]["record_ids"] == 0
    exit4 = next(x for x in report["linked"] if x["column"] == "position_group_exit_p4q")
    assert exit4 == {"column": "position_group_exit_p4q", "with_value": 1, "no_event": 2,
                     "beyond_data": 1, "in_range": 2}

    manifest = json.loads(result.manifest.read_text())
    assert manifest["key_id"] == result.key_id
    assert manifest["inputs"][0]["sha256"] == sha256_file(extract)
    for f in manifest["files"]:
        assert sha256_file(out.parent / f["name"]) == f["sha256"]

    # No NISS anywhere in what the BCSS sends back; the scanner does find them in the input.
    assert niss_leaks(out.parent) == []
    assert niss_leaks(extract.parent) == ["extract.parquet"]
    assert "birth_date" not in coded.column_names


def test_same_project_is_stable_and_reruns_are_identical(
    setup: tuple[Home, Path], tmp_path: Path
) -> None:
    home, extract = setup
    kp = ref_project_key(MASTER, REQ)
    a = code_extract(home, REQ, extract, tmp_path / "a" / "coded.parquet", project_key=kp)
    b = code_extract(home, REQ, extract, tmp_path / "b" / "coded.parquet", project_key=kp)
    assert sha256_file(a.coded) == sha256_file(b.coded)
    assert a.report_json.read_bytes() == b.report_json.read_bytes()


def test_refuses_out_next_to_extract_and_foreign_request(setup: tuple[Home, Path]) -> None:
    home, extract = setup
    kp = ref_project_key(MASTER, REQ)
    with pytest.raises(PrimexError, match="another folder"):
        code_extract(home, REQ, extract, extract.parent / "coded.parquet", project_key=kp)
    with pytest.raises(PrimexError, match="not REQ-OTHER"):
        code_extract(home, "REQ-OTHER", extract, extract.parent.parent / "x" / "c.parquet",
                     project_key=kp)


def test_refuses_to_write_a_column_full_of_niss(tmp_path: Path, setup: tuple[Home, Path]) -> None:
    home, _ = setup
    rows = [dict(r, note=f"copy {A}") for r in _rows()[:2]]
    extract = tmp_path / "spp2" / "extract.parquet"
    write_extract(extract, rows, request=REQ, linkage=LINKAGE)
    out = tmp_path / "out2" / "coded.parquet"
    with pytest.raises(IntegrityError, match="note"):
        code_extract(home, REQ, extract, out, project_key=ref_project_key(MASTER, REQ))
    assert not out.exists()


def test_cli_code_with_keystore(
    setup: tuple[Home, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home, extract = setup
    monkeypatch.delenv(keystore.ENV_PASSPHRASE, raising=False)
    monkeypatch.setenv(keystore.ENV_MASTER_KEY, MASTER.hex())
    out = tmp_path / "cli" / "coded.parquet"
    code = main(["--home", str(home.root), "linkage", "code", "--request", REQ,
                 "--in", str(extract), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "9 rows in, 5 valid, 4 invalid" in printed.out
    assert ref_key_id(ref_project_key(MASTER, REQ)) in printed.out
    for n in (A, B, C, D, BAD_CHECK, BAD_SERIAL):
        assert n not in printed.out + printed.err
    assert (out.parent / "linkage-report.md").exists()
    md = (out.parent / "linkage-report.md").read_text()
    assert "bad serial (000 or 999) | 1 |" in md
    # a missing extract is one clear line, exit code 2
    assert main(["--home", str(home.root), "linkage", "code", "--request", REQ,
                 "--in", str(tmp_path / "nope.parquet"), "--out", str(out)]) == 2


def test_duplicate_warehouse_rows_are_refused(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    make_warehouse(home.warehouse_db, {A: {"2024Q2": ("111", "employee", 5)}})
    import duckdb

    con = duckdb.connect(str(home.warehouse_db))
    con.execute("INSERT INTO dwh_position SELECT * FROM dwh_position")
    con.close()
    extract = tmp_path / "spp" / "extract.parquet"
    write_extract(extract, _rows()[:1], request=REQ, linkage=LINKAGE)
    with pytest.raises(IntegrityError, match="several dwh_position rows"):
        code_extract(home, REQ, extract, tmp_path / "o" / "coded.parquet",
                     project_key=ref_project_key(MASTER, REQ))


def test_no_linkage_points_still_codes(setup: tuple[Home, Path], tmp_path: Path) -> None:
    home, _ = setup
    extract = tmp_path / "spp3" / "extract.parquet"
    rows = [{k: v for k, v in r.items() if k not in ("spell_start", "spell_end")}
            for r in _rows()]
    write_extract(extract, rows, request=REQ)
    result = code_extract(home, REQ, extract, tmp_path / "o3" / "coded.parquet",
                          project_key=ref_project_key(MASTER, REQ))
    coded = pq.read_table(result.coded)
    assert coded.column_names == ["pseudonym", "record_id", "region", "benefit"]
    assert result.report["matched_in_warehouse"] == 4 and result.report["linked"] == []


def test_leak_guard_ignores_pseudonyms_but_not_other_columns() -> None:
    import pyarrow as pa

    from primex.linkage.code import _refuse_leaks

    hexy = "ab" + A + "0123456789abcdef1ab"  # a pseudonym-like value with a NISS-like run
    assert len(hexy) == 32
    _refuse_leaks(pa.table({"pseudonym": [hexy], "region": ["04000"]}), where="t")
    with pytest.raises(IntegrityError, match="comment"):
        _refuse_leaks(pa.table({"pseudonym": [hexy], "comment": [f"see {A}"]}), where="t")


def test_coding_many_persons_uses_the_fast_path_and_leaks_nothing(tmp_path: Path) -> None:
    from datetime import timedelta

    home = Home.resolve(tmp_path / "home")
    people = [make_niss(date(1950, 1, 1) + timedelta(days=i // 9), 1 + 2 * (i % 9))
              for i in range(25_000)]
    make_warehouse(home.warehouse_db, {people[0]: {"2024Q2": ("111", "employee", 5)}},
                   persons=people[:10])
    rows = [{"record_id": str(i), "niss": n, "region": "04000", "benefit": "RI",
             "spell_start": date(2023, 1, 1), "spell_end": date(2023, 4, 1)}
            for i, n in enumerate(people)]
    extract = tmp_path / "spp" / "extract.parquet"
    write_extract(extract, rows, request=REQ, linkage=LINKAGE)
    kp = ref_project_key(MASTER, REQ)
    result = code_extract(home, REQ, extract, tmp_path / "out" / "coded.parquet", project_key=kp)
    coded = pq.read_table(result.coded)
    assert coded.num_rows == 25_000 and result.report["matched_in_warehouse"] == 10
    pseudonyms = coded.column("pseudonym").to_pylist()
    assert [pseudonyms[i] for i in (0, 12_345, 24_999)] == [
        ref_pseudonym(kp, people[i]) for i in (0, 12_345, 24_999)]
    assert len(set(pseudonyms)) == 25_000
    assert niss_leaks(result.coded.parent) == []
