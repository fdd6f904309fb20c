"""Chain of custody of the protection step (issue 14 #6, CONTRACTS C1), end to end through
the CLI: the input must be the file the BCSS's `coding` entry recorded, and the
`disclosure_result` records what it read."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from primex.audit.log import open_log
from primex.cli import main
from primex.demo import KEYSTORE_PASSPHRASE, PASSPHRASES, Demo, _env_name
from primex.home import Home

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "requests" / "young-adults-trajectories.yaml"
RESEARCHER = "researcher-1"


def _passphrases(mp: pytest.MonkeyPatch) -> None:
    for name, value in PASSPHRASES.items():
        mp.setenv(_env_name(name), value)
    mp.setenv(_env_name(RESEARCHER), f"demo-{RESEARCHER}-passphrase")
    mp.setenv("PRIMEX_BCSS_PASSPHRASE", KEYSTORE_PASSPHRASE)


@pytest.fixture(scope="module")
def coded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A microdata request approved, extracted and coded by the BCSS (the demo's steps)."""
    home = Home.resolve(tmp_path_factory.mktemp("custody") / "home")
    with pytest.MonkeyPatch.context() as mp:
        _passphrases(mp)
        mp.setattr("os.fsync", lambda fd: None)
        demo = Demo(home, EXAMPLE.parent, Console(file=io.StringIO()), main, persons=600)
        demo.data()
        demo.keys([RESEARCHER])
        rid = demo.submit(EXAMPLE, RESEARCHER)
        demo.cmd("review", "approve", rid, "--as", "officer")
        demo.cmd("extract", "request", rid, "--as", "spp")
        work = home.spp_work / rid
        demo.cmd("linkage", "code", "--request", rid, "--in", str(work / "extract.parquet"),
                 "--as", "bcss")
        shutil.copy2(home.bcss_work / rid / "coded.parquet", work / "coded.parquet")
    return home.root, rid


@pytest.fixture
def flow(tmp_path: Path, coded_template: tuple[Path, str],
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Home, str]]:
    _passphrases(monkeypatch)
    root = tmp_path / "home"
    shutil.copytree(coded_template[0], root)
    yield Home.resolve(root), coded_template[1]


def test_a_coded_file_edited_by_hand_is_refused(
    flow: tuple[Home, str], capsys: pytest.CaptureFixture[str]
) -> None:
    home, rid = flow
    coded = home.spp_work / rid / "coded.parquet"
    data = pd.read_parquet(coded)
    age = next(c for c in data.columns if c.startswith("age"))
    # The careless user re-bands ages by hand (coarser bands look "safer").
    data[age] = data[age].astype(str).str.replace(r"^(\d)\d.*", r"\g<1>0+", regex=True)
    data.to_parquet(coded, index=False)
    size = len(open_log(home, create=False))
    code = main(["--home", str(home.root), "disclosure", "protect", rid, "--as", "spp"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "coded.parquet is not the file the latest coding recorded" in err[0]
    assert len(open_log(home, create=False)) == size  # no disclosure_result
    assert not (home.spp_work / rid / "protected").exists()  # nothing written


def test_the_disclosure_result_records_its_input(
    flow: tuple[Home, str], capsys: pytest.CaptureFixture[str]
) -> None:
    home, rid = flow
    coded = home.spp_work / rid / "coded.parquet"
    assert main(["--home", str(home.root), "disclosure", "protect", rid, "--as", "spp"]) == 0
    entry = open_log(home, create=False).entries(rid)[-1]
    assert entry.type == "disclosure_result"
    assert entry.body["inputs"] == [
        {"name": "coded.parquet", "sha256": hashlib.sha256(coded.read_bytes()).hexdigest()}]
    released = pd.read_parquet(home.spp_work / rid / "protected" / "microdata.parquet")
    assert "spp_record_key" not in released.columns


def test_an_input_from_another_step_is_refused(
    flow: tuple[Home, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The raw extract (recorded by the extraction, not by the later coding) is refused."""
    home, rid = flow
    extract = home.spp_work / rid / "extract.parquet"
    code = main(["--home", str(home.root), "disclosure", "protect", rid, "--as", "spp",
                 "--in", str(extract)])
    err = capsys.readouterr().err
    assert code == 2 and "not the file the latest coding recorded" in err
