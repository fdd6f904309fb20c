"""PRIMA on PostgreSQL: the extract and the quarterly indicators are byte-identical to the
DuckDB path on the same data, through a real server (tests/pg_server.py)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pg_server import pg_url  # noqa: F401  (the session fixture)

from primex.cli import main
from primex.errors import PrimexError
from primex.extract.adhoc import build_extract
from primex.extract.manifest import sha256_file
from primex.extract.postgres import PostgresEngine, positional, redact_url
from primex.extract.protocol import load_protocol
from primex.extract.run import run_protocol, verify_manifest
from primex.home import Home
from primex.synthetic.postgres import load_prima

SPEC = {
    "population": {"benefits": ["RI", "ERIS", "art60"],
                   "period": {"start": "2024-01", "end": "2024-12"},
                   "filters": {"age": {"min": 18, "max": 64}, "region": ["03000", "04000"]}},
    "variables": ["age", "sex", "nationality_group", "household_size", "region", "province",
                  "category", "student", "amount", "entry_quarter", "exit_quarter",
                  "spell_duration", "art60", "art61", "piis", "piis_type", "piis_outcome",
                  "spell_start", "spell_end"],
    "linkage": [{"variables": ["position_group"], "at": ["exit+4q"]}],
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> Home:
    """A private copy of synth_home: extraction writes the SPP record key into the home."""
    home = Home.resolve(tmp_path_factory.mktemp("pg-home"))
    for src, dst in ((synth_home.prima_db, home.prima_db),
                     (synth_home.warehouse_db, home.warehouse_db)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return home


@pytest.fixture(scope="module")
def loaded(pg_url: str, home: Home) -> str:  # noqa: F811
    counts = load_prima(home.prima_db, pg_url)
    assert counts["benefit_month"] > 10_000 and counts["person"] == 3000
    return pg_url


def test_adhoc_extract_is_byte_identical(loaded: str, home: Home, tmp_path: Path) -> None:
    duck = build_extract(home, "REQ-PG", SPEC, out_dir=tmp_path / "duck")
    pg_home = replace(home, prima_url=loaded)
    pg = build_extract(pg_home, "REQ-PG", SPEC, out_dir=tmp_path / "pg")
    assert duck.rows > 100  # filters, the art60 population and the joins kept real rows
    assert pg.rows == duck.rows
    assert sha256_file(pg.extract) == sha256_file(duck.extract)
    assert pg.manifest["snapshot"] == duck.manifest["snapshot"]
    assert pg.manifest["sources"] == [{"name": redact_url(loaded), "kind": "postgresql"}]


def test_quarterly_indicators_are_byte_identical(loaded: str, home: Home,
                                                 tmp_path: Path) -> None:
    protocol = load_protocol("quarterly")
    kwargs = {"period": None, "snapshot": date(2025, 8, 15), "previous": None}
    duck = run_protocol(home, protocol, out_dir=tmp_path / "duck", **kwargs)
    pg_home = replace(home, prima_url=loaded)
    pg = run_protocol(pg_home, protocol, out_dir=tmp_path / "pg", **kwargs)
    assert pg.manifest["period"] == duck.manifest["period"]
    assert sha256_file(pg.indicators_path) == sha256_file(duck.indicators_path)
    assert pg.manifest["sources"][0]["kind"] == "postgresql"
    # the verification reruns against the server; without it, it refuses (nothing to rerun)
    assert verify_manifest(pg_home, pg.manifest_path).ok
    with pytest.raises(PrimexError, match="read PRIMA from PostgreSQL"):
        verify_manifest(home, pg.manifest_path)


def _fresh_database(url: str, name: str) -> str:
    """Another database on the same throw-away server (the module's one holds home)."""
    import adbc_driver_postgresql.dbapi as adbc

    with adbc.connect(url, autocommit=True) as con, con.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_cli_generate_loads_postgres_and_extracts(pg_url: str, tmp_path: Path,  # noqa: F811
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    pg_url = _fresh_database(pg_url, "cli_prima")
    home = tmp_path / "home"
    assert main(["--home", str(home), "--prima", pg_url, "synth", "generate", "--persons",
                 "400", "--months", "12", "--start", "2024-01"]) == 0
    out = capsys.readouterr().out
    assert "PRIMA on PostgreSQL" in out
    with PostgresEngine(pg_url) as pg:
        n = pg.query("SELECT COUNT(DISTINCT niss) AS n FROM person").column("n")[0].as_py()
        assert n == 400
        # the session is read-only: an extraction cannot change PRIMA
        with pytest.raises(PrimexError, match="query failed"):
            pg.execute("DELETE FROM person")
    assert main(["--home", str(home), "--prima", pg_url, "extract", "run", "--protocol",
                 "quarterly"]) == 0


def test_unreachable_server_is_one_line(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/prima"
    code = main(["--home", str(tmp_path), "--prima", url, "extract", "run", "--protocol",
                 "quarterly"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot connect to PRIMA" in err and "secret" not in err
    assert len(err.strip().splitlines()) == 1


def test_named_parameters_become_positional() -> None:
    sql, values = positional("a = $p1 AND b IN ($p0, $p1) AND c = $p10", {"p0": 1, "p1": 2,
                                                                         "p10": 3})
    assert sql == "a = $1 AND b IN ($2, $1) AND c = $3"
    assert values == [2, 1, 3]
    assert positional("x = ? AND y = ?", [5, 6]) == ("x = $1 AND y = $2", [5, 6])


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_request_checks_read_prima_from_postgres(loaded: str, home: Home, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """validate (coverage of the data) and assess (risk on the data) give the same answers
    from the server as from the DuckDB file."""
    text = (Path(__file__).parents[1] / "examples" / "requests" / "ri-by-arrondissement.yaml"
            ).read_text(encoding="utf-8")
    inside = tmp_path / "inside.yaml"
    inside.write_text(text.replace("start: 2022Q1, end: 2023Q2", "start: 2024Q1, end: 2024Q4"),
                      encoding="utf-8")
    outside = tmp_path / "outside.yaml"
    outside.write_text(text.replace("start: 2022Q1, end: 2023Q2", "start: 2019Q1, end: 2019Q4"),
                       encoding="utf-8")
    base = ["--home", str(home.root)]
    with_pg = [*base, "--prima", loaded]
    for args in (["request", "validate", str(outside)],
                 ["request", "assess", "--json", str(inside)]):
        duck = _cli([*base, *args], capsys)
        pg = _cli([*with_pg, *args], capsys)
        assert pg == duck, args
    code, out = _cli([*base, "request", "validate", str(outside)], capsys)
    assert code == 2
    assert "2019" in out  # the coverage check did fire on the period outside the data
