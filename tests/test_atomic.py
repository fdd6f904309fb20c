"""primex.atomic, the one atomic-write path (issue 15 #5, contract C7): every variant leaves
either the old file or the whole new one, and never a temporary file behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from primex import atomic


class Crash(BaseException):
    """Stands for the process dying in the middle of a write."""


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_crash_while_streaming_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "package.primex"
    atomic.write_bytes(target, b"old")
    with pytest.raises(Crash), atomic.writing(target) as out:
        out.write(b"half of the new")
        raise Crash
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["package.primex"]
    with atomic.writing(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new" and _names(tmp_path) == ["package.primex"]


def test_an_explicit_mode_is_exact_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)  # would turn 0600 into 0400 and 0644 into 0400
    try:
        key = atomic.write_bytes(tmp_path / "master.key", b"k" * 32, mode=0o600)
        spec = atomic.write_bytes(tmp_path / "spec.yaml", b"x", mode=0o444)
        plain = atomic.write_bytes(tmp_path / "report.md", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(spec.stat().st_mode) == 0o444
    assert stat.S_IMODE(plain.stat().st_mode) == 0o400  # no explicit mode: the umask decides


def test_pending_renames_only_when_the_block_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "master-key.json"
    atomic.write_bytes(target, b"old", mode=0o600)
    with pytest.raises(Crash), atomic.pending(target, b"new", mode=0o600) as staged:
        assert staged.read_bytes() == b"new"  # on disk before the block (the log entry)
        assert stat.S_IMODE(staged.stat().st_mode) == 0o600
        raise Crash  # the log refused the rotation
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["master-key.json"]
    with atomic.pending(target, b"new", mode=0o600):
        pass
    assert target.read_bytes() == b"new" and _names(tmp_path) == ["master-key.json"]


def test_replacing_for_a_library_that_writes_the_file_itself(tmp_path: Path) -> None:
    target = tmp_path / "extract.parquet"
    with pytest.raises(Crash), atomic.replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise Crash
    assert _names(tmp_path) == []
    atomic.write_via(target, lambda tmp: tmp.write_bytes(b"whole"))
    assert target.read_bytes() == b"whole" and _names(tmp_path) == ["extract.parquet"]


def test_create_once_never_overwrites(tmp_path: Path) -> None:
    key = tmp_path / "record.key"
    assert atomic.create_once(key, b"first", mode=0o600)
    assert not atomic.create_once(key, b"second", mode=0o600)
    assert key.read_bytes() == b"first" and _names(tmp_path) == ["record.key"]


def test_publish_folder_swaps_a_whole_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    with atomic.publish_folder(site) as staging:
        (staging / "index.html").write_text("v1")
        assert not site.exists()  # nothing visible until the folder is complete
    assert stat.S_IMODE(site.stat().st_mode) == 0o700
    with pytest.raises(Crash), atomic.publish_folder(site) as staging:
        (staging / "index.html").write_text("half of v2")
        raise Crash
    assert (site / "index.html").read_text() == "v1" and _names(tmp_path) == ["site"]
    with atomic.publish_folder(site, fixed_staging=True, mode=0o755) as staging:
        assert staging.name == ".site.tmp"
        (staging / "index.html").write_text("v2")
    assert (site / "index.html").read_text() == "v2" and _names(tmp_path) == ["site"]


def test_leftovers_of_a_killed_writer_are_found(tmp_path: Path) -> None:
    target = tmp_path / ".R1.primex.pending"
    stale = tmp_path / f".{target.name}.4242-deadbeef.tmp"
    stale.write_bytes(b"half")
    (tmp_path / "other.tmp").write_bytes(b"")
    assert atomic.leftovers(target) == [stale]
