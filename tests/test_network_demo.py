"""`primex demo --networked`, the second half of `make demo` (issue 19 #6): three homes and
three processes on localhost, the coding over the network, and where each key lives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from primex import cli
from primex.audit.log import open_log
from primex.home import Home

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_networked_demo_shows_three_parties(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    examples = tmp_path / "examples" / "requests"  # one request keeps it short
    examples.mkdir(parents=True)
    shutil.copy(REPO / "examples" / "networked" / "exit-outcomes-by-region.yaml", examples)
    root = tmp_path / "demo"
    code = cli.main(["--home", str(root), "demo", "--networked", "--persons", "2000",
                     "--examples", str(examples)])
    out, err = capsys.readouterr()
    assert code == 0, (out + err)[-3000:]
    spp, bcss = Home(root), Home(tmp_path / "demo-bcss")
    committee = Home(tmp_path / "demo-committee")
    text = " ".join(out.split())
    assert "where each key lives" in text
    for home, holds in ((spp, "PRIMA"), (bcss, "linkage master key"),
                        (committee, "committee key")):
        assert f"{home.root}: {holds}" in text
    # the keys are where the demo says
    assert (bcss.bcss_keystore / "master-key.json").exists() and bcss.warehouse_db.exists()
    assert not spp.bcss.exists() and not (spp.keys / "bcss").exists()
    assert (committee.keys / "committee").exists() and not (spp.keys / "committee").exists()
    assert not [p for p in bcss.root.rglob("*") if p.name.startswith("extract")]
    # the request was coded by the BCSS service and released
    log = open_log(spp, create=False)
    (rid,) = log.requests()
    types = [e.type for e in log.entries(rid)]
    assert types.count("coding") == 1 and types[-1] == "release"
    assert [e.actor for e in log.entries(rid) if e.type == "coding"] == ["bcss"]
    assert (spp.root / "researchers" / "researcher-1" / rid / "manifest.json").exists()
