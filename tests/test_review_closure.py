"""Closing and expiring requests destroys their work files on both sides and records what
was destroyed (issue 14 #15, contract C3); `review expire` previews unless --yes; a blank
reason is refused (#17). End to end through the CLI."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from custody_fixtures import Site, make_site
from linkage_helpers import niss_leaks

from primex.committee.verify import verify_log


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    return make_site(tmp_path, monkeypatch)


def coded_request(site: Site) -> str:
    """Extracted and coded; the coded file copied back to the SPP and one protected file,
    as the docs' flow leaves them."""
    request = site.approved()
    site.extract(request)
    assert site.code(request) == 0
    spp = site.home.spp_work / request
    shutil.copy(site.coded_path(request), spp / "coded.parquet")
    (spp / "protected").mkdir()
    (spp / "protected" / "spells.csv").write_text("age,sex\n18-24,F\n")
    return request


def expected_files(site: Site, request: str) -> list[dict[str, str]]:
    """What must be listed: every file under both work folders, hashed here with hashlib."""
    out = []
    for side, root in (("spp", site.home.spp_work / request),
                       ("bcss", site.home.bcss_work / request)):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            out.append({"side": side, "name": path.relative_to(root).as_posix(),
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    return out


def untouched(site: Site, request: str) -> dict[str, bytes]:
    files = [site.home.audit / "entries.jsonl", *(site.home.spp_work / request).rglob("*"),
             *(site.home.bcss_work / request).rglob("*")]
    return {str(p): p.read_bytes() for p in files if p.is_file()}


def closures(site: Site, request: str) -> list:  # type: ignore[type-arg]
    return [e for e in site.log.entries(request) if e.type == "closure"]


def test_close_destroys_the_work_files_of_both_sides_and_lists_them(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    request = coded_request(site)
    expected = expected_files(site, request)
    names = {(f["side"], f["name"]) for f in expected}
    assert {("spp", "extract.parquet"), ("spp", "manifest.json"), ("spp", "coded.parquet"),
            ("spp", "protected/spells.csv"), ("bcss", "coded.parquet"),
            ("bcss", "linkage-report.json"), ("bcss", "manifest.json")} <= names
    assert niss_leaks(site.home.spp_work / request) == ["extract.parquet"]  # the NISS
    capsys.readouterr()
    assert site.cli("review", "close", request, "--as", "otto", "--reason", "withdrawn") == 0
    assert f"destroyed {len(expected)} work file(s)" in capsys.readouterr().out
    assert not (site.home.spp_work / request).exists()
    assert not (site.home.bcss_work / request).exists()
    (entry,) = closures(site, request)
    assert entry.actor == "otto" and entry.body["reasons"] == ["withdrawn"]
    assert entry.body["destroyed"] == sorted(
        expected, key=lambda f: (f["side"] != "spp", f["name"]))
    assert site.log.state(request).state == "closed"
    result = verify_log(site.home, full=True, record=False, require_witness=False)
    assert result.ok, result.failures
    capsys.readouterr()
    assert site.cli("audit", "report", "--request", request) == 0
    assert f"withdrawn; {len(expected)} work file(s) destroyed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "otto", "--reason", ""], "give at least one reason"),
        (["--as", "otto", "--reason", "   "], "give at least one reason"),
        (["--as", "rita", "--reason", "done"], "researcher"),  # not allowed to close
    ],
)
def test_a_refused_close_destroys_nothing(
    site: Site, capsys: pytest.CaptureFixture[str], args: list[str], message: str,
) -> None:
    request = coded_request(site)
    before = untouched(site, request)
    capsys.readouterr()
    assert site.cli("review", "close", request, *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert untouched(site, request) == before
    assert closures(site, request) == []


def test_expire_previews_by_default_and_acts_only_with_yes(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    request = coded_request(site)  # retention_until 2028-12-31
    before = untouched(site, request)
    n = len(expected_files(site, request))
    capsys.readouterr()
    assert site.cli("review", "expire", "--as", "otto", "--today", "2029-01-01") == 0
    out = capsys.readouterr().out
    assert f"would close {request}" in out and f"{n} work file(s) to destroy" in out
    assert untouched(site, request) == before  # nothing closed, nothing destroyed
    assert site.log.state(request).state == "coded"
    assert site.cli("review", "expire", "--yes", "--today", "2029-01-01") == 2  # needs --as
    assert untouched(site, request) == before
    assert site.cli("review", "expire", "--yes", "--as", "otto", "--today", "2028-12-31") == 0
    assert untouched(site, request) == before  # not due yet
    assert site.cli("review", "expire", "--yes", "--as", "otto", "--today", "2029-01-01") == 0
    (entry,) = closures(site, request)
    assert len(entry.body["destroyed"]) == n
    assert entry.body["reasons"] == ["retention date 2028-12-31 reached"]
    assert not (site.home.spp_work / request).exists()
    assert not (site.home.bcss_work / request).exists()


def test_an_interrupted_destruction_is_finished_by_a_second_close(
    site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = coded_request(site)

    def fail(path: object, *a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("primex.requests.closure.shutil.rmtree", fail)
    capsys.readouterr()
    assert site.cli("review", "close", request, "--as", "otto", "--reason", "withdrawn") == 2
    err = capsys.readouterr().err
    assert "is closed" in err and "again to finish" in err
    assert len(err.strip().splitlines()) == 1
    assert (site.home.spp_work / request / "extract.parquet").exists()
    monkeypatch.undo()
    monkeypatch.setenv("PRIMEX_PASSPHRASE", "test-passphrase")
    # only a key that may close requests finishes the job
    assert site.cli("review", "close", request, "--as", "rita", "--reason", "finish") == 2
    assert (site.home.spp_work / request / "extract.parquet").exists()
    assert site.cli("review", "close", request, "--as", "otto", "--reason", "finish") == 0
    assert not (site.home.spp_work / request).exists()
    assert not (site.home.bcss_work / request).exists()
    assert len(closures(site, request)) == 1  # one closure, recorded before the deletion


def test_a_planted_link_is_removed_not_followed(site: Site, tmp_path: Path) -> None:
    request = coded_request(site)
    precious = tmp_path / "precious.txt"
    precious.write_text("not the request's")
    (site.home.spp_work / request / "link").symlink_to(precious)
    assert site.cli("review", "close", request, "--as", "otto", "--reason", "withdrawn") == 0
    assert precious.read_text() == "not the request's"
    (entry,) = closures(site, request)
    assert {"side": "spp", "name": "link",
            "sha256": hashlib.sha256(b"symlink:" + str(precious).encode()).hexdigest()
            } in entry.body["destroyed"]
