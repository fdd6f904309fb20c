"""End to end: the demo runs every example through every step; a release never leaves
without a sign-off; a failed synthetic evaluation blocks the release; no NISS leaks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from stdnum.be import ssn

from primex import cli
from primex.audit.log import open_log
from primex.demo import MARKER, Demo
from primex.home import Home
from primex.sdc.synthetic import evaluate as synthetic_eval
from primex.sdc.synthetic.evaluate import SyntheticEvaluation

REPO = Path(__file__).resolve().parents[1]
# Not inside a hex run: a SHA-256 in a manifest or a log entry holds 11-digit runs that pass
# the check digits by chance (about once in four demo runs), which is not a leak.
ELEVEN_DIGITS = re.compile(rb"(?<![0-9a-fA-F])\d{11}(?![0-9a-fA-F])")


def _niss_like_files(root: Path) -> list[str]:
    """Files under `root` holding an 11-digit string that is a valid NISS or BIS number."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix in {".duckdb", ".wal"}:
            continue
        for match in ELEVEN_DIGITS.finditer(path.read_bytes()):
            if ssn.is_valid(match.group().decode()):
                hits.append(str(path.relative_to(root)))
                break
    return hits


@pytest.mark.slow
def test_demo_runs_the_whole_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "demo-home"
    code = cli.main(["--home", str(home), "demo", "--persons", "4000"])
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert code == 0, (out + err)[-3000:]
    h = Home.resolve(home)
    examples = sorted((REPO / "examples" / "requests").glob("*.yaml"))
    log = open_log(h, create=False)
    states = {rid: log.state(rid).state for rid in log.requests()}
    assert sorted(states.values()).count("released") == len(examples)
    assert "rejected" in states.values()
    # the refused attempt is visible, and names the missing sign-off
    assert "release refused (no_signoff)" in err
    for rid, state in states.items():
        if state == "released":
            assert (h.releases / f"{rid}.primex").exists()
            opened = list((h.root / "researchers").glob(f"*/{rid}"))
            assert opened and (opened[0] / "manifest.json").exists()
    assert cli.main(["--home", str(home), "audit", "verify"]) == 0
    assert (h.site / "index.html").exists()
    assert (home / "audit-report.html").read_text(encoding="utf-8").count("REQ-") >= len(states)
    # Nothing that leaves the SPP side, and nothing published, carries a national number.
    for folder in [h.releases, h.root / "researchers", h.site, h.audit, h.spp_work]:
        leaked = [
            f
            for f in _niss_like_files(folder)
            if not f.endswith("extract.parquet")  # the SPP-side extract holds NISS by design
        ]
        assert not leaked, f"national numbers found in {folder}: {leaked}"
    # A second run starts from scratch in the same (demo-made) home.
    assert (home / MARKER).exists()


def test_demo_refuses_a_foreign_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "mine"
    home.mkdir()
    (home / "precious.txt").write_text("not the demo's")
    assert cli.main(["--home", str(home), "demo"]) == 2
    assert "did not create" in capsys.readouterr().err
    assert (home / "precious.txt").exists()


def test_failed_synthetic_evaluation_blocks_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = Demo(
        Home.resolve(tmp_path / "h"),
        REPO / "examples" / "requests",
        console=__import__("rich.console").console.Console(file=None),
        run=cli.main,
        persons=3000,
    )
    demo.prepare()
    demo.data()
    demo.keys(["researcher-1"])

    def failing(*args: object, **kwargs: object) -> SyntheticEvaluation:
        return SyntheticEvaluation(
            passed=False,
            checks=[
                {
                    "check": "identical on all variables",
                    "value": 0.9,
                    "limit": 0.05,
                    "passed": False,
                    "meaning": "forced failure for the test",
                }
            ],
            disclosure={},
            utility={"quality_score": None, "analyses": []},
        )

    import primex.sdc.synthetic.synthesize as sr

    monkeypatch.setattr(sr, "evaluate", failing)
    assert synthetic_eval.evaluate is not failing  # only the release path is patched
    rid = demo.submit(
        REPO / "examples" / "requests" / "synthetic-training-data.yaml", "researcher-1"
    )
    demo.cmd("review", "approve", rid, "--as", "officer")
    demo.cmd("extract", "request", rid, "--as", "spp")
    work = demo.home.spp_work / rid
    demo.cmd(
        "linkage", "code", "--request", rid, "--in", str(work / "extract.parquet"), "--as", "bcss"
    )
    shutil.copy2(demo.home.bcss_work / rid / "coded.parquet", work / "coded.parquet")
    demo.cmd("disclosure", "protect", rid, "--as", "spp", expect=1)
    assert not any((work / "protected").glob("*.parquet"))
    state = open_log(demo.home, create=False).state(rid)
    assert state.state != "protected"
    demo.cmd("review", "check-output", rid, "--as", "officer", "--approve", expect=2)
    demo.cmd("signoff", rid, "--as", "president", "--yes", expect=2)
    demo.cmd("release", "build", rid, "--as", "spp", expect=2)
    assert not (demo.home.releases / f"{rid}.primex").exists()
