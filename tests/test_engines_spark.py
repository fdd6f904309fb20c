"""The BCSS coding on Spark gives the same coded file as DuckDB (same rows, same pseudonyms).

One Spark session (local[1]) for the whole module, small synthetic data: the module's Spark
part stays within a few tens of seconds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from linkage_helpers import ref_project_key, ref_pseudonym

from primex.cli import main
from primex.errors import PrimexError
from primex.extract.adhoc import build_extract
from primex.extract.manifest import sha256_file
from primex.home import Home
from primex.linkage.code import code_extract
from primex.synthetic.warehouse_files import export_warehouse

pyspark = pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime (run scripts/test-system-deps.sh)", allow_module_level=True)

MASTER = bytes(range(32))
SPEC = {
    "population": {"benefits": ["RI", "ERIS"], "period": {"start": "2024-01", "end": "2024-12"}},
    "variables": ["age", "sex", "region", "category", "spell_start", "spell_end"],
    "linkage": [
        {"variables": ["position_group", "wage_class"], "at": ["entry-4q", "entry-1q"]},
        {"variables": ["position_group"], "at": ["exit+1q", "exit+2q", "exit+4q"]},
    ],
}


@pytest.fixture(scope="module")
def spark_env() -> Iterator[None]:
    """One local[1] session for the module (later SparkEngines reuse the active session)."""
    from primex.linkage.spark import spark_session

    session = spark_session("local[1]")
    yield
    session.stop()


@pytest.fixture(scope="module")
def coded_home(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> Home:
    """A private copy of synth_home (extraction writes the SPP record key into the home)
    with the warehouse also exported as a Parquet folder."""
    home = Home.resolve(tmp_path_factory.mktemp("spark-home"))
    for src, dst in ((synth_home.prima_db, home.prima_db),
                     (synth_home.warehouse_db, home.warehouse_db)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    export_warehouse(home.warehouse_db, home.bcss / "warehouse")
    return home


def _extract(home: Home, folder: Path) -> Path:
    return build_extract(home, "REQ-SPARK", SPEC, out_dir=folder).extract


def test_spark_coded_file_is_byte_identical_to_duckdb(
    spark_env: None, coded_home: Home, tmp_path: Path,
) -> None:
    """Same rows, same pseudonyms, same linked values, same bytes; the custody column
    `spp_record_key` (unknown to coding) passes through unchanged on every engine."""
    extract = _extract(coded_home, tmp_path / "spp")
    key = ref_project_key(MASTER, "REQ-SPARK")
    outs = {}
    for engine, warehouse in (("duckdb", None), ("duckdb", coded_home.bcss / "warehouse"),
                              ("spark", None)):
        kind = "file" if warehouse is None else "parquet"
        name = "spark" if engine == "spark" else f"duckdb-{kind}"
        result = code_extract(coded_home, "REQ-SPARK", extract,
                              tmp_path / name / "coded.parquet", project_key=key,
                              engine=engine, warehouse=warehouse)
        outs[name] = result
    duck = outs["duckdb-file"]
    table = pq.read_table(duck.coded)
    # the comparison means something: rows, linked values and pseudonyms are there
    assert table.num_rows > 500
    assert table.column("position_group_exit_p4q").null_count < table.num_rows
    assert table.column("wage_class_entry_m1q").null_count < table.num_rows
    source = pq.read_table(extract)
    nn11 = {r: n for r, n in zip(source.column("record_id").to_pylist(),
                                 source.column("niss").to_pylist(), strict=True)}
    for row in table.slice(0, 50).to_pylist():  # pseudonyms from the reference definition
        assert row["pseudonym"] == ref_pseudonym(key, nn11[row["record_id"]])
    for name, result in outs.items():
        assert sha256_file(result.coded) == sha256_file(duck.coded), name
        assert result.report == duck.report, name
    # the custody column, an opaque fixed_size_binary(16), passes through unchanged
    assert source.column("spp_record_key").type == pa.binary(16)
    assert table.column("spp_record_key").type == pa.binary(16)
    want = dict(zip(source.column("record_id").to_pylist(),
                    source.column("spp_record_key").to_pylist(), strict=True))
    got = pq.read_table(outs["spark"].coded)
    assert all(want[r] == k for r, k in zip(got.column("record_id").to_pylist(),
                                             got.column("spp_record_key").to_pylist(),
                                             strict=True))


def test_spark_udf_refuses_nothing_the_local_path_accepts(spark_env: None) -> None:
    """Invalid NISS get the same reason codes in Spark as locally, valid ones the reference
    pseudonym; nothing identifying comes back for an invalid row."""
    from primex.linkage.engines import check_and_pseudonymise
    from primex.linkage.spark import SparkEngine
    from primex.linkage.spark import check_and_pseudonymise as on_spark

    key = ref_project_key(MASTER, "REQ-UDF")
    values = pa.array(["93051822361", "93051822362", None, "85073003229", "abc",
                       "930518 223 61", "00000000097"] * 300)
    local = check_and_pseudonymise("duckdb", values, key)
    with SparkEngine() as spark:
        remote = on_spark(spark, values, key, partitions=3)
    assert np.array_equal(local[1], remote[1])
    assert local[0].equals(remote[0])
    assert local[2].equals(remote[2])
    assert remote[2].to_pylist()[:2] == [ref_pseudonym(key, "93051822361"),
                                         ref_pseudonym(key, "85073003229")]
    assert int((remote[1] != 0).sum()) == 4 * 300


def test_cli_spark_engine_needs_a_parquet_warehouse(
    spark_env: None, coded_home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extract = _extract(coded_home, tmp_path / "spp")
    home = tmp_path / "home"
    monkeypatch.setenv("PRIMEX_LINKAGE_MASTER_KEY", MASTER.hex())
    code = main(["--home", str(home), "linkage", "code", "--request", "REQ-SPARK", "--in",
                 str(extract), "--engine", "spark", "--warehouse", str(coded_home.warehouse_db)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Parquet folder" in err and "Traceback" not in err
    code = main(["--home", str(home), "linkage", "code", "--request", "REQ-SPARK", "--in",
                 str(extract), "--engine", "hadoop"])
    assert code == 2 and "unknown engine" in capsys.readouterr().err


def test_unknown_engine_is_refused_before_any_work(coded_home: Home, tmp_path: Path) -> None:
    extract = _extract(coded_home, tmp_path / "spp")
    with pytest.raises(PrimexError, match="unknown engine"):
        code_extract(Home.resolve(tmp_path / "h"), "REQ-SPARK", extract,
                     tmp_path / "out" / "coded.parquet", project_key=bytes(32), engine="presto")
    assert not (tmp_path / "out").exists()


def test_quarterly_outcomes_on_spark_are_byte_identical(
    spark_env: None, coded_home: Home, synth_home: Home, tmp_path: Path,
) -> None:
    """The basic application's labour-market outcomes joined by Spark on the Parquet
    warehouse give the same indicators file as DuckDB on the warehouse file."""
    from primex.extract.outcomes import WarehouseSource
    from primex.extract.protocol import load_protocol
    from primex.extract.run import load_indicators, run_protocol
    from primex.linkage.engines import open_warehouse

    protocol = load_protocol("quarterly")
    folder = coded_home.bcss / "warehouse"
    spark = WarehouseSource(lambda: open_warehouse("spark", coded_home, folder), "spark",
                            str(folder))
    kwargs = {"snapshot": date(2025, 8, 15), "previous": None}
    duck = run_protocol(synth_home, protocol, out_dir=tmp_path / "duck", **kwargs)
    on_spark = run_protocol(synth_home, protocol, out_dir=tmp_path / "spark",
                            warehouse_source=spark, **kwargs)
    cells = load_indicators(duck.folder)
    outcome = cells[cells["indicator"].str.startswith("outcome")]
    assert len(outcome) > 0 and outcome["numerator"].sum() > 0
    assert sha256_file(on_spark.indicators_path) == sha256_file(duck.indicators_path)
    assert on_spark.manifest["sources"][1]["engine"] == "spark"
