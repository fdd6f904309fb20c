"""`python -m primex.service.demo_flow`: one request end to end THROUGH `primex serve` on
loopback, every person acting through the remote CLI (issue 17, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from primex.service import demo_flow


def test_one_request_from_submission_to_the_opened_release_through_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    opened = demo_flow.run(tmp_path / "home", persons=1500)
    out = capsys.readouterr().out
    assert "primex serve on http://127.0.0.1:" in out
    assert "alice downloaded" in out
    # the researcher's machine verified the package and holds the signed-off files
    package = json.loads((opened / "datapackage.json").read_text("utf-8"))
    assert package["resources"], "the opened release lists its files"
    assert all((opened / r["path"]).is_file() for r in package["resources"])
    # the service's home never held a NISS in the released files (the gate's scan passed)
    assert not list(opened.rglob("extract.parquet"))
