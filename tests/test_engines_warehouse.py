"""The warehouse as Parquet partitioned by quarter: streamed, valid, readable by the engines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from linkage_helpers import mod97_ok

from primex.errors import PrimexError
from primex.home import Home
from primex.linkage.engines import check_engine, open_warehouse
from primex.synthetic.warehouse_files import export_warehouse, write_scale_warehouse

QUARTERS = [2024 * 4 + q for q in range(6)]  # 2024Q1 .. 2025Q2


def test_scale_warehouse_is_streamed_quarter_by_quarter(tmp_path: Path) -> None:
    include = np.array([93051822361, 85073003229], dtype=np.int64)
    seen: list[list[str]] = []
    tmp_folder = tmp_path / ".wh.tmp"

    def progress(_fraction: float) -> None:  # what is on disk after each quarter
        seen.append(sorted(p.name for p in (tmp_folder / "dwh_position").iterdir()))

    result = write_scale_warehouse(tmp_path / "wh", 3000, QUARTERS, seed=4, include=include,
                                   progress=progress)
    assert result.rows == 3000 * 6
    # each quarter's file is written before the next quarter is drawn: nothing accumulates
    assert [len(s) for s in seen] == [1, 2, 3, 4, 5, 6]
    assert seen[0] == ["quarter=2024Q1"]
    assert not tmp_folder.exists()  # renamed into place at the end
    parts = sorted((tmp_path / "wh" / "dwh_position").iterdir())
    assert [p.name for p in parts] == [f"quarter={y}Q{q}" for y, q in
                                       [(2024, 1), (2024, 2), (2024, 3), (2024, 4), (2025, 1),
                                        (2025, 2)]]
    first = pq.read_table(parts[0] / "part-0.parquet")
    niss = first.column("niss").to_pylist()
    assert niss == sorted(niss) and len(set(niss)) == 3000
    assert {"93051822361", "85073003229"} <= set(niss)
    assert all(len(n) == 11 and mod97_ok(n) for n in niss)
    groups = set(first.column("position_group").to_pylist())
    assert {"employee", "job_seeker", "inactive"} <= groups
    wages = first.column("wage_class").to_numpy(zero_copy_only=False)
    employee = np.array(first.column("position_group").to_pylist()) == "employee"
    assert np.isnan(wages[~employee]).all() and (wages[employee] >= 1).all()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_scale_warehouse(tmp_path / "a", 500, QUARTERS[:2], seed=9)
    b = write_scale_warehouse(tmp_path / "b", 500, QUARTERS[:2], seed=9)
    for rel in ("dwh_person/part-0.parquet", "dwh_position/quarter=2024Q2/part-0.parquet"):
        assert (a.folder / rel).read_bytes() == (b.folder / rel).read_bytes()


def test_export_holds_the_same_rows_and_duckdb_reads_it(synth_home: Home,
                                                        tmp_path: Path) -> None:
    folder = export_warehouse(synth_home.warehouse_db, tmp_path / "warehouse")
    cols = "niss, quarter, quarter_end, position, position_group, wage_class"
    with duckdb.connect(str(synth_home.warehouse_db), read_only=True) as con:
        want = con.execute(f"SELECT {cols} FROM dwh_position ORDER BY niss, quarter").fetchall()
        persons = con.execute("SELECT COUNT(*) FROM dwh_person").fetchone()[0]
    with open_warehouse("duckdb", synth_home, folder) as engine:
        got = engine.query(f"SELECT {cols} FROM dwh_position ORDER BY niss, quarter")
        assert got.num_rows == len(want) > 10_000
        assert [tuple(r.values()) for r in got.to_pylist()] == want
        n = engine.query("SELECT COUNT(*) AS n FROM dwh_person").column("n")[0].as_py()
        assert n == persons


def test_engines_refuse_what_they_cannot_read(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    with pytest.raises(PrimexError, match="unknown engine"):
        check_engine("hive", home)
    with pytest.raises(PrimexError, match="Parquet folder"):
        check_engine("spark", home, tmp_path / "warehouse.duckdb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PrimexError, match="no dwh_person, dwh_position folder"):
        check_engine("duckdb", home, tmp_path / "empty")
    with pytest.raises(PrimexError, match="warehouse not found"):
        check_engine("duckdb", home)
    (tmp_path / "file").write_text("x")
    with pytest.raises(PrimexError, match="not a folder"):
        write_scale_warehouse(tmp_path / "file", 10, QUARTERS[:1])


def test_join_scans_only_the_quarters_a_point_can_reach() -> None:
    """The warehouse range of a join: from the earliest entry − 4q to the latest exit + 8q,
    whole quarters (first day .. last day); running spells do not widen it."""
    import datetime as dt

    import pyarrow as pa

    from primex.extract.engine import DuckDBEngine
    from primex.linkage.join import LinkPoint, _quarter_span

    persons = pa.table({
        "spell_start": pa.array([dt.date(2023, 2, 1), dt.date(2024, 7, 1)]),
        "spell_end": pa.array([dt.date(2023, 11, 1), None], pa.date32()),
    })
    points = [LinkPoint("position_group", "entry", -4), LinkPoint("position_group", "exit", 8)]
    with DuckDBEngine(None) as engine:
        engine.connection.register("persons", persons)
        # entry 2023Q1 − 4q = 2022Q1; exit 2023Q4 + 8q = 2025Q4 (entry 2024Q3 − 4q is inside)
        assert _quarter_span(engine, "persons", points) == (dt.date(2022, 1, 1),
                                                            dt.date(2025, 12, 31))
        assert _quarter_span(engine, "persons", points[1:]) == (dt.date(2025, 10, 1),
                                                                dt.date(2025, 12, 31))
        engine.connection.register("running", persons.slice(1))
        assert _quarter_span(engine, "running", points[1:]) is None
