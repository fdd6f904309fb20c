"""Protocol runs: indicator values computed by hand on a tiny PRIMA, snapshots, revisions,
byte-identical reruns and `primex extract verify`."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_extract_protocol_fixture import tiny_home

from primex.cli import main
from primex.extract.protocol import load_protocol
from primex.extract.run import run_protocol, verify_manifest
from primex.home import Home

SNAP = date(2025, 7, 22)  # recorded_on of the tiny home's last month (June 2025 + 51 days)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return tiny_home(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def cells(tiny: Home, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("run")
    res = run_protocol(tiny, load_protocol("quarterly"), "2025Q2", out_dir=out, previous=None)
    return pq.read_table(res.indicators_path).to_pandas()


def value(cells: pd.DataFrame, ind: str, period: str, breakdown: str = "total",
          key: str = "", ptype: str = "quarter") -> float:
    sel = cells[(cells.indicator == ind) & (cells.period == period) & (cells.breakdown == breakdown)
                & (cells.key == key) & (cells.period_type == ptype)]
    assert len(sel) == 1, (ind, period, breakdown, key, len(sel))
    return float(sel["value"].iloc[0])


def test_stock_is_the_average_of_monthly_counts(cells: pd.DataFrame) -> None:
    # 2025Q2 RI: A paid Apr-Jun (3 months), B paid Apr-May (2 months) -> 5 / 3
    assert value(cells, "stock_ri", "2025Q2") == pytest.approx(5 / 3)
    # April 2024: A, D (Feb-Apr) and E (Apr-Jun) -> 3 persons
    assert value(cells, "stock_ri", "2024-04", ptype="month") == 3
    # breakdowns: Brussels region = A only (3 months / 3); Liège province = B (2/3)
    assert value(cells, "stock_ri", "2025Q2", "region", "04000") == pytest.approx(1.0)
    assert value(cells, "stock_ri", "2025Q2", "province", "60000") == pytest.approx(2 / 3)
    # A is 34 on 1 Apr and 1 May 2025, 35 on 1 Jun (born 10 May 1990)
    assert value(cells, "stock_ri", "2025Q2", "age_band", "30-34") == pytest.approx(2 / 3)
    assert value(cells, "stock_ri", "2025Q2", "age_band", "35-39") == pytest.approx(1 / 3)
    assert value(cells, "stock_eris", "2025Q2", "category", "3") == pytest.approx(1.0)


def test_rate_per_1000_aged_18_64(cells: pd.DataFrame) -> None:
    # numerator: A 3 + B 2 + C (ERIS) 3 person-months / 3; population: 9 bands x 2 sexes x
    # (1000//18 + 2000//18 + 3000//18) = 18 x 332 = 5976
    assert value(cells, "rate_18_64", "2025Q2") == pytest.approx((8 / 3) / 5976 * 1000)
    assert value(cells, "rate_18_64", "2025Q2", "commune", "21004") == pytest.approx(1 / 990 * 1000)


def test_shares(cells: pd.DataFrame) -> None:
    # students: B's 2 student months out of 5 RI person-months
    assert value(cells, "share_students", "2025Q2") == pytest.approx(40.0)
    # art. 60: D (contract from May 2024) among A, B, C (paid) and D -> 1 of 4
    assert value(cells, "art60_share", "2025Q2") == pytest.approx(25.0)
    assert value(cells, "art60_share", "2024Q1") == 0.0
    # PIIS: B among the RI beneficiaries A and B
    assert value(cells, "piis_coverage", "2025Q2") == pytest.approx(50.0)


def test_flows_respect_censoring_and_stable_months(cells: pd.DataFrame) -> None:
    # A starts in the first month of the data: not an entry; D enters in Feb 2024
    assert value(cells, "entries", "2024Q1") == 1
    assert value(cells, "entries", "2025Q2") == 1  # B
    # D (last paid Apr 2024) and E (Jun 2024) leave in 2024Q2
    assert value(cells, "exits", "2024Q2") == 2
    assert value(cells, "spell_duration", "2024Q2", "duration_band", "01-03") == 100.0
    # June 2025 is the last stable month: 2025Q2's exits are not known yet, so not computed
    assert cells[(cells.indicator == "exits") & (cells.period == "2025Q2")].empty
    # long rights need 24 months of history: the tiny data have 18
    assert cells[cells.indicator == "long_rights"].empty


def test_outcomes_four_quarters_after_leaving(cells: pd.DataFrame) -> None:
    # RI leavers of 2024Q2 (D, E) seen in the warehouse at 2025Q2: D employee, E job seeker
    assert value(cells, "outcome_work_4q", "2025Q2") == pytest.approx(50.0)
    assert value(cells, "position_4q", "2025Q2", "position_group", "employee") == 50.0
    assert "niss" not in cells.columns


def test_annual_persons_and_average(tiny: Home, tmp_path: Path) -> None:
    res = run_protocol(tiny, load_protocol("annual"), "2024", out_dir=tmp_path, previous=None)
    cells = pq.read_table(res.indicators_path).to_pandas()
    # RI in 2024: A (12 months), D (3), E (3) -> 3 persons; average 18 / 12
    assert value(cells, "persons_year_ri", "2024", ptype="year") == 3
    assert value(cells, "stock_ri", "2024", ptype="year") == pytest.approx(1.5)
    assert res.manifest["grain"] == "year"


def test_rerun_is_byte_identical_and_verifies(tiny: Home, tmp_path: Path) -> None:
    proto = load_protocol("quarterly")
    a = run_protocol(tiny, proto, "2025Q2", out_dir=tmp_path / "a", previous=None)
    b = run_protocol(tiny, proto, "2025Q2", out_dir=tmp_path / "b", previous=None)
    assert (a.folder / "indicators.parquet").read_bytes() == \
        (b.folder / "indicators.parquet").read_bytes()
    assert a.manifest["files"] == b.manifest["files"]
    m = a.manifest
    assert m["snapshot_date"] == SNAP.isoformat()
    assert m["protocol"]["sha256"] == proto.sha256
    assert len(m["sources"][0]["files"][0]["sha256"]) == 64
    assert m["code"]["extract_sha256"]
    check = verify_manifest(tiny, a.manifest_path)
    assert check.ok, check.differences


def _copy_home(src: Home, dst: Path) -> Home:
    shutil.copytree(src.root, dst, ignore=shutil.ignore_patterns("extracts"))
    return Home(dst)


def test_verify_names_what_differs(tiny: Home, tmp_path: Path) -> None:
    home = _copy_home(tiny, tmp_path / "home")
    res = run_protocol(home, load_protocol("quarterly"), "2025Q2", previous=None)
    # a record slipped into PRIMA with an old recorded_on: the same snapshot date now gives
    # other figures, and verify must say which
    con = duckdb.connect(str(home.prima_db))
    con.execute("INSERT INTO benefit_month SELECT niss, cpas, DATE '2025-03-01', benefit, "
                "category, amount, student, 99, DATE '2025-04-15' FROM benefit_month "
                "WHERE spell_id = 2 LIMIT 1")
    con.close()
    check = verify_manifest(home, res.manifest_path)
    assert not check.ok
    text = "\n".join(check.differences + check.notes)
    assert "indicators.parquet" in text
    assert re.search(r"cell \w+ 2025Q1 \w+=\S*: value", text)
    assert "source prima" in text
    assert main(["--home", str(home.root), "extract", "verify", str(res.manifest_path)]) == 1


def test_late_correction_is_flagged_as_revised(tiny: Home, tmp_path: Path) -> None:
    home = _copy_home(tiny, tmp_path / "home")
    proto = load_protocol("quarterly")
    first = run_protocol(home, proto, "2025Q2", SNAP)
    # the CPAS of E declares July 2024 late (recorded in October 2025)
    con = duckdb.connect(str(home.prima_db))
    con.execute("INSERT INTO benefit_month SELECT niss, cpas, DATE '2024-07-01', benefit, "
                "category, amount, student, spell_id, DATE '2025-10-01' FROM benefit_month "
                "WHERE spell_id = 5 LIMIT 1")
    con.close()
    # the old snapshot date still gives the old figures
    again = run_protocol(home, proto, "2025Q2", SNAP, out_dir=tmp_path / "again", previous=None)
    assert again.manifest["files"][0]["sha256"] != "" and \
        (again.folder / "indicators.parquet").read_bytes() == \
        (first.folder / "indicators.parquet").read_bytes()
    second = run_protocol(home, proto, "2025Q2")
    assert second.manifest["snapshot_date"] == "2025-10-01"
    assert second.manifest["previous_run"]["snapshot_date"] == SNAP.isoformat()
    cells = pq.read_table(second.indicators_path).to_pandas()
    row = cells[(cells.indicator == "stock_ri") & (cells.period == "2024Q3")
                & (cells.breakdown == "total")].iloc[0]
    assert row["value"] == pytest.approx(4 / 3) and row["revised"]
    assert row["previous_value"] == pytest.approx(1.0)
    exits = cells[(cells.indicator == "exits") & (cells.period == "2024Q2")
                  & (cells.breakdown == "total")].iloc[0]
    assert exits["value"] == 1 and exits["revised"]  # E now leaves in 2024Q3
    unchanged = cells[(cells.indicator == "stock_ri") & (cells.period == "2025Q2")
                      & (cells.breakdown == "total")].iloc[0]
    assert not unchanged["revised"]


def test_parquet_source_gives_the_same_figures(tiny: Home, tmp_path: Path,
                                              cells: pd.DataFrame) -> None:
    folder = tmp_path / "prima-parquet"
    folder.mkdir()
    con = duckdb.connect(str(tiny.prima_db), read_only=True)
    for t in ("person", "benefit_month", "employment_measure", "piis", "population", "snapshot"):
        con.execute(f"COPY {t} TO '{folder / (t + '.parquet')}' (FORMAT PARQUET)")
    con.close()
    text = load_protocol("quarterly").text.replace(
        "prima: {kind: duckdb, path: spp/prima.duckdb}",
        f"prima: {{kind: parquet, path: {folder}}}")
    proto_file = tmp_path / "pq.yaml"
    proto_file.write_text(text)
    res = run_protocol(tiny, load_protocol(proto_file), "2025Q2", out_dir=tmp_path / "o",
                       previous=None)
    other = pq.read_table(res.indicators_path).to_pandas()
    pd.testing.assert_frame_equal(other, cells)


def test_cli_run_and_errors(tiny: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = _copy_home(tiny, tmp_path / "home")
    assert main(["--home", str(home.root), "extract", "run", "--protocol", "quarterly"]) == 0
    out = capsys.readouterr().out
    assert "period 2025Q2" in out and "snapshot 2025-07-22" in out
    manifest = next(home.extracts.glob("quarterly/2025Q2/snapshot-*/manifest.json"))
    assert main(["--home", str(home.root), "extract", "verify", str(manifest)]) == 0
    assert "byte-identical" in capsys.readouterr().out
    assert main(["--home", str(home.root), "extract", "run", "--protocol", "quarterly",
                 "--period", "2025Q3"]) == 2
    err = capsys.readouterr().err
    assert "--period" in err and "2025Q3" in err and "2024Q1" in err
    assert main(["--home", str(home.root), "extract", "run", "--protocol", "monthly"]) == 2
    assert "known protocols" in capsys.readouterr().err
    assert main(["--home", str(home.root), "extract", "run", "--protocol", "quarterly",
                 "--snapshot", "yesterday"]) == 2
    assert main(["--home", str(tmp_path / "empty"), "extract", "run", "--protocol",
                 "quarterly"]) == 2
    assert "PRIMA database not found" in capsys.readouterr().err


def test_a_month_recorded_twice_counts_once(tiny: Home, tmp_path: Path) -> None:
    """Corrections that re-declare a month: the latest record wins, RI wins over ERIS."""
    home = _copy_home(tiny, tmp_path / "home")
    con = duckdb.connect(str(home.prima_db))
    # A's May 2025 re-declared as category 1 (cohabitant), recorded later
    con.execute("INSERT INTO benefit_month SELECT niss, cpas, month, benefit, 1, amount, student, "
                "spell_id, DATE '2025-07-10' FROM benefit_month "
                "WHERE spell_id = 1 AND month = DATE '2025-05-01'")
    # and an ERIS record for A in April 2025 (RI wins)
    con.execute("INSERT INTO benefit_month SELECT niss, cpas, month, 'ERIS', 3, amount, student, "
                "77, DATE '2025-07-01' FROM benefit_month "
                "WHERE spell_id = 1 AND month = DATE '2025-04-01'")
    con.close()
    res = run_protocol(home, load_protocol("quarterly"), "2025Q2", SNAP, out_dir=tmp_path / "o",
                       previous=None)
    cells = pq.read_table(res.indicators_path).to_pandas()
    assert value(cells, "stock_ri", "2025Q2") == pytest.approx(5 / 3)  # unchanged
    assert value(cells, "stock_eris", "2025Q2") == pytest.approx(1.0)  # C only
    assert value(cells, "stock_ri", "2025Q2", "category", "1") == pytest.approx(1 / 3)
    assert value(cells, "stock_ri", "2025Q2", "category", "2") == pytest.approx(4 / 3)
