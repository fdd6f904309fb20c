"""`primex audit verify|report|checkpoint|log|witness` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_fixtures import MANIFEST, PASS, World, body, make_world, walk_to

from primex.cli import main
from primex.committee.report import build_report, render_html, render_markdown


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    w = make_world(tmp_path)
    rid = walk_to(w, "released")
    w.log.append("access", rid, body("access"), w.s("alice"))
    r2 = walk_to(w, "submitted")
    w.log.append("rejection", r2, body("rejection"), w.s("olga"))
    return w


def run(world: World, *args: str) -> int:
    return main(["--home", str(world.home.root), *args])


def test_verify_ok_and_tampered(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "audit", "verify") == 0
    out = capsys.readouterr().out
    assert "ok: " in out and "2 requests" in out
    assert run(world, "audit", "verify", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["size"] == world.log.size and data["failures"] == []
    lines = world.log.path.read_bytes().splitlines()
    k = next(i for i, x in enumerate(lines) if b'"type":"approval"' in x)
    lines[k] = lines[k].replace(b'"k":10', b'"k":11')
    world.log.path.write_bytes(b"".join(x + b"\n" for x in lines))
    assert run(world, "audit", "verify", "--full") == 2
    err = capsys.readouterr().err
    assert f"entry {k}: signature check failed" in err
    assert "Traceback" not in err


def test_verify_with_a_gossiped_checkpoint(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(world, "audit", "checkpoint") == 0
    note = capsys.readouterr().out
    assert note.startswith(world.log.origin + "\n")
    f = tmp_path / "held-by-researcher.checkpoint"
    f.write_text(note)
    assert run(world, "audit", "verify", "--checkpoint", str(f)) == 0
    f.write_text(note.replace(note.split("\n")[2], "A" * 43 + "="))
    assert run(world, "audit", "verify", "--checkpoint", str(f)) == 2
    assert "checkpoint check failed" in capsys.readouterr().err


def test_witness_commands(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "audit", "witness", "init") == 0
    assert "key ID" in capsys.readouterr().out
    world.log.append("closure", "REQ-2026-0001", body("closure"), world.s("olga"))
    assert run(world, "audit", "witness", "cosign", "--as", "comm") == 0
    assert f"cosigned checkpoint of size {world.log.size}" in capsys.readouterr().out
    assert run(world, "audit", "witness", "status") == 0
    assert f"cosigned up to size {world.log.size}" in capsys.readouterr().out
    assert run(world, "audit", "witness", "cosign", "--as", "pres") == 2
    assert "committee key" in capsys.readouterr().err


def test_report_markdown_tells_the_story(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "audit", "report", "--request", "REQ-2026-0001") == 0
    md = capsys.readouterr().out
    assert "**verified:" in md
    assert "## REQ-2026-0001: RI exits" in md
    assert "**Who asked what:** alice (researcher)" in md and "HIVA" in md
    assert "**Decision:** olga (privacy_officer)" in md
    assert "**Conditions:** k: 10; text: no region" in md
    assert "**What was suppressed:** k: 10; suppressed_cells: 3" in md
    assert "**Who signed:** pres (president)" in md
    assert "**What left:** on " in md and "witnessed checkpoint size" in md
    for f in MANIFEST["files"]:
        assert f"| {f['name']} | {f['bytes']} | `{f['sha256']}` |" in md
    assert "| opened | alice (researcher) | file extract.parquet" in md
    assert "REQ-2026-0002" not in md


def test_report_all_requests_html_and_file(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert run(world, "audit", "report", "--format", "html", "-o", str(out)) == 0
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "REQ-2026-0002" in html
    assert "rejected" in html and "no legal basis" in html
    assert "Key registry" in html
    rep = build_report(world.home)
    rep.requests[0].title = "<script>alert(1)</script>"
    assert "<script>alert" not in render_html(rep)  # autoescaped
    assert "&lt;script&gt;" in render_html(rep)
    assert render_markdown(rep).count("## REQ-") == 2


def test_report_period_and_bad_arguments(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "audit", "report", "--from", "2001-01-01", "--to", "2001-12-31") == 0
    assert "No request activity in this period." in capsys.readouterr().out
    assert run(world, "audit", "report", "--from", "yesterday") == 2
    assert "--from: --from is not a date" in capsys.readouterr().err
    assert run(world, "audit", "report", "--format", "pdf") == 2
    assert run(world, "audit", "report", "--request", "REQ-1999-0001") == 2
    assert "unknown request" in capsys.readouterr().err


def test_report_flags_a_failed_verification(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = world.log.path.read_bytes().splitlines()
    k = len(lines) - 1  # the last entry: it still replays, only its signature breaks
    lines[k] = lines[k].replace(b"no legal basis", b"no legal basiz")
    world.log.path.write_bytes(b"".join(x + b"\n" for x in lines))
    assert run(world, "audit", "report") == 0
    assert f"**VERIFICATION FAILED: entry {k}: signature check failed" in capsys.readouterr().out
    del lines[5]  # a log that does not even replay: no report, a clear error
    world.log.path.write_bytes(b"".join(x + b"\n" for x in lines))
    assert run(world, "audit", "report") == 2
    assert "entry 5: entry says seq 6 but is line 5" in capsys.readouterr().err


def test_log_listing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(world, "audit", "log", "--request", "REQ-2026-0002", "--limit", "0") == 0
    out = capsys.readouterr().out
    assert "submission" in out and "rejection" in out and "signoff" not in out
