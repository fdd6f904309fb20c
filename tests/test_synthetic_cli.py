"""`primex synth ...` through the CLI entry point: exit codes, files, population loading."""

from __future__ import annotations

import duckdb
import pytest

from primex import cli
from primex.errors import PrimexError
from primex.synthetic import content_hash
from primex.synthetic.population import load_statbel


def test_generate_hash_and_errors(tmp_path, capsys):
    home = tmp_path / "home"
    args = ["--home", str(home), "synth", "generate", "--persons", "400", "--months", "6"]
    assert cli.main([*args, "--start", "2024-01", "--seed", "5"]) == 0
    assert (home / "spp" / "prima.duckdb").is_file()
    assert (home / "bcss" / "warehouse.duckdb").is_file()
    assert cli.main(["--home", str(home), "synth", "hash"]) == 0
    out = capsys.readouterr().out
    assert content_hash(home / "spp" / "prima.duckdb") in out.replace("\n", "")

    for bad in (["--persons", "0"], ["--start", "2024-13"], ["--months", "0"], ["--start", "x"]):
        assert cli.main(["--home", str(home), "synth", "generate", *bad]) == 2
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and "Traceback" not in err


def test_db_and_warehouse_overrides(tmp_path):
    prima, dwh = tmp_path / "x" / "p.duckdb", tmp_path / "y" / "w.duckdb"
    code = cli.main(
        ["--home", str(tmp_path / "h"), "synth", "generate", "--persons", "200", "--months",
         "3", "--db", str(prima), "--warehouse", str(dwh), "--comparison", "0"]
    )  # fmt: skip
    assert code == 0 and prima.is_file() and dwh.is_file()
    assert not (tmp_path / "h" / "spp" / "prima.duckdb").exists()
    with duckdb.connect(str(dwh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dwh_person").fetchone()[0] == 200


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = cli.main(
        ["synth", "generate", "--persons", "50", "--months", "2", "--db",
         str(blocker / "p.duckdb"), "--warehouse", str(tmp_path / "w.duckdb")]
    )  # fmt: skip
    assert code == 2
    assert "cannot create the folder" in capsys.readouterr().err


def test_load_population_replaces_the_year(tmp_path, capsys):
    home = tmp_path / "home"
    assert cli.main(["--home", str(home), "synth", "generate", "--persons", "100",
                     "--start", "2024-01", "--months", "12"]) == 0  # fmt: skip
    statbel = tmp_path / "TF_SOC_POP_STRUCT_2024.txt"
    statbel.write_text(
        "CD_REFNIS|TX_DESCR_FR|CD_SEX|CD_AGE|MS_POPULATION\n"
        "21004|Bruxelles|M|20|100\n21004|Bruxelles|M|23|50\n21004|Bruxelles|F|70|30\n"
        "62063|Liège|F|3|7\n",
        encoding="utf-8",
    )
    assert cli.main(["--home", str(home), "synth", "load-population", str(statbel)]) == 0
    with duckdb.connect(str(home / "spp" / "prima.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT commune, sex, age_band, population FROM population WHERE year = 2024 "
            "ORDER BY ALL"
        ).fetchall()
    assert rows == [
        ("21004", "F", "65+", 30),
        ("21004", "M", "18-24", 150),
        ("62063", "F", "0-17", 7),
    ]
    assert "(replaced 12,430 rows)" in capsys.readouterr().out  # 565 communes x 2 x 11 bands


def test_population_files_are_validated_with_line_numbers(tmp_path):
    bad = tmp_path / "pop.csv"
    bad.write_text(
        "commune,year,sex,age_band,population\n21004,2024,M,18-24,10\n11007,2024,F,18-24,3\n"
    )
    with pytest.raises(PrimexError) as err:  # Borsbeek merged into Antwerpen in 2025
        load_statbel(bad)
    assert f"{bad}:3" in err.value.one_line()
    bad.write_text("commune,sex,age_band,population\n21004,X,18-24,10\n")
    with pytest.raises(PrimexError, match="M/F"):
        load_statbel(bad, year=2024)
    bad.write_text("commune,sex,age_band,population\n21004,M,18-24,10\n")
    with pytest.raises(PrimexError, match="--year"):
        load_statbel(bad)
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(PrimexError, match="unrecognised population file layout"):
        load_statbel(bad)
    with pytest.raises(PrimexError, match="not found"):
        load_statbel(tmp_path / "missing.csv")


def test_synth_home_copy_is_private(synth_home, synth_home_copy, tmp_path):
    before = content_hash(synth_home.prima_db)
    assert content_hash(synth_home_copy.prima_db) == before
    pop = tmp_path / "pop.csv"
    pop.write_text("commune,year,sex,age_band,population\n21004,2024,M,18-24,1\n")
    db = str(synth_home_copy.prima_db)
    assert cli.main(["synth", "load-population", str(pop), "--db", db]) == 0
    assert content_hash(synth_home_copy.prima_db) != before
    assert content_hash(synth_home.prima_db) == before
