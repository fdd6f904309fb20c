"""Ad hoc extraction (SPP side): values by hand on a tiny PRIMA, filters, determinism, and the
whole request → extraction → coding chain with signed audit events."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from linkage_helpers import (
    P1,
    P2,
    P3,
    make_prima,
    make_warehouse,
    niss_leaks,
    ref_project_key,
    ref_pseudonym,
    ref_record_key,
)

from primex.catalogue.censoring import CENSORING_CODES
from primex.errors import PrimexError
from primex.extract.adhoc import build_extract
from primex.extract.manifest import sha256_file
from primex.home import Home

VARIABLES = ["age", "sex", "region", "arrondissement", "category", "spell_duration", "student",
             "amount", "entry_quarter", "exit_quarter", "art60", "piis_type", "benefit"]


def spec(**population: object) -> dict:
    pop = {"benefits": ["RI", "ERIS"], "period": {"start": "2023-01", "end": "2024-06"}}
    pop.update(population)
    return {
        "population": pop,
        "variables": VARIABLES,
        "linkage": [{"variables": ["position_group"], "at": ["exit+4q"]}],
    }


@pytest.fixture
def home(tmp_path: Path) -> Home:
    h = Home.resolve(tmp_path / "home")
    make_prima(h.prima_db)
    return h


def _by_spell(path: Path) -> list[dict]:
    rows = pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: r["spell_start"])


def test_values_by_hand(home: Home) -> None:
    result = build_extract(home, "REQ-X", spec())
    table = pq.read_table(result.extract)
    assert table.column_names == [
        "record_id", "niss", "spp_record_key", *VARIABLES, "spell_start", "spell_end"]
    assert sorted(table.column("record_id").to_pylist()) == ["1", "2", "3"]
    s1, s3, s2 = _by_spell(result.extract)  # P3's spell ended before the period
    key = (home.spp / "record.key").read_bytes()
    for row in (s1, s2, s3):
        assert row.pop("spp_record_key") == ref_record_key(key, row["niss"])
    assert (s1["niss"], s2["niss"], s3["niss"]) == (P1, P1, P2)
    assert s1 | {"record_id": None} == {
        "record_id": None, "niss": P1, "age": 32, "sex": "F", "region": "04000",
        "arrondissement": "21000", "category": 2, "spell_duration": 4, "student": False,
        "amount": Decimal("1150.00"), "entry_quarter": "2023Q1", "exit_quarter": "2023Q2",
        "art60": True, "piis_type": None, "benefit": "RI",
        "spell_start": date(2023, 2, 1), "spell_end": date(2023, 5, 1),
    }
    # running at the end of the data: no exit
    assert (s2["age"], s2["spell_duration"], s2["spell_end"], s2["exit_quarter"]) == (
        33, 6, None, None)
    assert (s3["age"], s3["benefit"], s3["student"], s3["piis_type"], s3["region"],
            s3["arrondissement"], s3["category"], s3["exit_quarter"], s3["art60"]) == (
        20, "ERIS", True, "student", "02000", "44000", 1, "2024Q1", False)
    meta = table.schema.metadata
    assert json.loads(meta[b"primex.linkage"]) == [
        {"at": ["exit+4q"], "variables": ["position_group"]}]
    assert json.loads(meta[b"primex.variables"]) == VARIABLES
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["files"] == [{"name": "extract.parquet", "bytes": result.extract.stat().st_size,
                                  "sha256": sha256_file(result.extract)}]
    assert manifest["snapshot"]["snapshot_date"] == "2024-07-15"
    assert manifest["rows"] == 3


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        ({"filters": {"age": {"min": 21}}}, [P1, P1]),
        ({"filters": {"region": ["02000"]}}, [P2]),
        ({"filters": {"age": {"min": 18, "max": 24}, "student": [True]}}, [P2]),
        ({"benefits": ["RI", "art60"]}, [P1, P1]),
        ({"benefits": ["ERIS", "art60"]}, []),
        ({"benefits": ["PIIS"]}, [P2]),
        ({"period": {"start": "2022Q1", "end": "2022Q2"}}, [P3]),  # P3's RI spell 2022-01..06
    ],
)
def test_population_and_filters(home: Home, population: dict, expected: list[str]) -> None:
    result = build_extract(home, "REQ-F", spec(**population))
    assert sorted(r["niss"] for r in _by_spell(result.extract)) == sorted(expected)


def test_period_bound_cuts_duration_and_exit(home: Home) -> None:
    result = build_extract(home, "REQ-P", spec(period={"start": "2023-03", "end": "2023-04"}))
    (row,) = _by_spell(result.extract)
    # spell 2023-02..2023-05: 2 months inside the period; still paid after it -> running
    assert (row["spell_start"], row["spell_duration"], row["spell_end"]) == (
        date(2023, 2, 1), 2, None)


def test_byte_identical_reruns(home: Home, tmp_path: Path) -> None:
    a = build_extract(home, "REQ-D", spec(), out_dir=tmp_path / "a")
    b = build_extract(home, "REQ-D", spec(), out_dir=tmp_path / "b")
    assert a.extract.read_bytes() == b.extract.read_bytes()
    assert a.manifest_path.read_bytes() == b.manifest_path.read_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"variables": ["birth_date"]}, "direct identifier"),
        ({"variables": ["position_group"]}, "not a PRIMA variable"),
        ({"variables": ["agee"]}, "unknown variable"),
        ({"linkage": [{"variables": ["sex"], "at": ["exit+4q"]}]}, "not a warehouse variable"),
        ({"linkage": [{"variables": ["wage_class"], "at": ["exit+4m"]}]}, "not a linkage point"),
    ],
)
def test_bad_specs_are_refused(home: Home, change: dict, message: str) -> None:
    with pytest.raises(PrimexError, match=message):
        build_extract(home, "REQ-B", {**spec(), **change})


def test_missing_prima_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PrimexError, match="PRIMA database not found"):
        build_extract(Home.resolve(tmp_path / "empty"), "REQ-1", spec())


def test_request_extraction_coding_chain_with_audit(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from release_chain import PASS, approve_coded, register_actors, submit_coded

    from primex.audit.log import open_log
    from primex.cli import main

    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    master = bytes(range(7, 39))
    monkeypatch.setenv("PRIMEX_LINKAGE_MASTER_KEY", master.hex())
    log = open_log(home)
    signers: dict = {}
    register_actors(home, log, [("researcher", "rita"), ("privacy_officer", "otto"),
                                ("spp_operator", "spp"), ("bcss_operator", "bea")],
                    signers, by=None)
    request, sha = submit_coded(home, log, signers["rita"], "test request")
    # not approved yet: extraction refused, one clear line
    assert main(["--home", str(home.root), "extract", "request", request, "--as", "spp"]) == 2
    approve_coded(log, request, sha, signers["otto"])
    # the wrong role cannot sign an extraction
    assert main(["--home", str(home.root), "extract", "request", request, "--as", "bea"]) == 2
    assert main(["--home", str(home.root), "extract", "request", request, "--as", "spp"]) == 0
    assert open_log(home).state(request).state == "extracted"
    extract = home.spp_work / request / "extract.parquet"
    assert pq.read_table(extract).num_rows == 3

    make_warehouse(home.warehouse_db, {P1: {"2024Q2": ("111", "employee", 4)}})
    out = home.bcss_work / request / "coded.parquet"
    args = ["--home", str(home.root), "linkage", "code", "--request", request,
            "--in", str(extract), "--out", str(out)]
    assert main(args) == 2  # in the log: the coding must be signed (--as)
    tampered = tmp_path / "tampered" / "extract.parquet"
    tampered.parent.mkdir()
    table = pq.read_table(extract)
    pq.write_table(table.slice(1), tampered)  # one row removed on the way
    capsys.readouterr()
    assert main([*args[:-4], "--in", str(tampered), "--out", str(out), "--as", "bea"]) == 2
    assert "not the one the SPP recorded" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--as", "spp"]) == 2  # not a BCSS operator
    assert main([*args, "--as", "bea"]) == 0
    state = open_log(home).state(request)
    assert state.state == "coded"
    coding = [e for e in open_log(home).entries(request) if e.type == "coding"][-1]
    coded = pq.read_table(out)
    assert coding.body["key_id"] == coded.schema.metadata[b"primex.key_id"].decode()
    kp = ref_project_key(master, request)
    by_pseudonym = {r["pseudonym"]: r for r in coded.to_pylist()}
    p1_rows = [r for r in coded.to_pylist() if r["pseudonym"] == ref_pseudonym(kp, P1)]
    # an unobserved outcome is a censoring code with its reason (issue 16), not NULL
    assert sorted("-" if r["position_group_exit_p4q"] in CENSORING_CODES
                  else r["position_group_exit_p4q"] for r in p1_rows) == ["-", "employee"]
    assert ref_pseudonym(kp, P2) in by_pseudonym
    assert niss_leaks(out.parent) == []
    assert "niss" not in coded.column_names
