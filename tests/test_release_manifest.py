"""The release manifest: canonical form, hash, and the protected-folder contract."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import IntegrityError, PrimexError
from primex.exchange.manifest import FileEntry, make_manifest, manifest_from_dict
from primex.release.manifest import collect_protected


def _protected(tmp_path: Path, files: dict[str, bytes]) -> Path:
    work = tmp_path / "R1"
    (work / "protected").mkdir(parents=True)
    for name, data in files.items():
        (work / "protected" / name).write_bytes(data)
    return work


def test_canonical_bytes_and_hash_by_hand(tmp_path: Path) -> None:
    work = _protected(
        tmp_path,
        {"b.csv": b"x\n1\n", "a.parquet": b"PAR1", "disclosure-report.json": b"{}"},
    )
    m = collect_protected(work)
    # sorted by name, report excluded; sha256 of "abc"-style literals computed independently
    expected = (
        '{"files":[{"bytes":4,"name":"a.parquet","sha256":"'
        + hashlib.sha256(b"PAR1").hexdigest()
        + '"},{"bytes":4,"name":"b.csv","sha256":"'
        + hashlib.sha256(b"x\n1\n").hexdigest()
        + '"}]}'
    ).encode()
    assert m.canonical_bytes() == expected
    assert m.sha256 == hashlib.sha256(expected).hexdigest()
    assert hashlib.sha256(b"").hexdigest().startswith("e3b0c442")  # sanity of the oracle


def test_report_and_step_manifest_are_not_data(tmp_path: Path) -> None:
    work = _protected(
        tmp_path,
        {
            "t.csv": b"1",
            "disclosure-report.json": b"{}",
            "disclosure-report.md": b"#",
            "manifest.json": b"{}",
        },
    )
    assert collect_protected(work).names == ["t.csv"]


@pytest.mark.parametrize("bad", [".hidden", "folder", "link"])
def test_refuses_anything_but_plain_files(tmp_path: Path, bad: str) -> None:
    work = _protected(tmp_path, {"t.csv": b"1"})
    target = work / "protected" / bad
    if bad == "folder":
        target.mkdir()
    elif bad == "link":
        os.symlink(work / "protected" / "t.csv", target)
    else:
        target.write_bytes(b"tmp")
    with pytest.raises(PrimexError, match=r"unexpected entry|not allowed"):
        collect_protected(work)


def test_empty_or_missing_protected_folder(tmp_path: Path) -> None:
    with pytest.raises(PrimexError, match="no protected output"):
        collect_protected(tmp_path / "nothing")
    work = _protected(tmp_path, {"disclosure-report.json": b"{}"})
    with pytest.raises(PrimexError, match="at least one file"):
        collect_protected(work)


def test_any_change_changes_the_hash(tmp_path: Path) -> None:
    work = _protected(tmp_path, {"a.csv": b"1,2\n", "b.csv": b"3\n"})
    base = collect_protected(work).sha256
    (work / "protected" / "a.csv").write_bytes(b"1,3\n")  # same size, other bytes
    assert collect_protected(work).sha256 != base
    (work / "protected" / "a.csv").write_bytes(b"1,2\n")
    assert collect_protected(work).sha256 == base
    (work / "protected" / "c.csv").write_bytes(b"")
    assert collect_protected(work).sha256 != base


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}\.(csv|parquet)", fullmatch=True)
_entries = st.lists(
    st.builds(
        FileEntry,
        _names,
        st.integers(0, 2**40),
        st.binary(min_size=32, max_size=32).map(bytes.hex),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda e: e.name,
)


@settings(max_examples=60, deadline=None)
@given(_entries, st.randoms())
def test_parse_round_trip_and_order_independence(entries: list[FileEntry], rnd) -> None:
    m = make_manifest(entries)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert make_manifest(shuffled).sha256 == m.sha256
    assert manifest_from_dict(m.as_dict()) == m


@pytest.mark.parametrize(
    "data",
    [
        {"files": [], "extra": 1},
        {"files": [{"name": "a.csv", "bytes": 1, "sha256": "0" * 64, "x": 1}]},
        {"files": [{"name": "a.csv", "bytes": 1.0, "sha256": "0" * 64}]},
        {"files": [{"name": "a.csv", "bytes": True, "sha256": "0" * 64}]},
        {"files": [{"name": "a.csv", "bytes": 1, "sha256": "0" * 63}]},
        {"files": [{"name": "a.csv", "bytes": 1, "sha256": "A" * 64}]},
        {
            "files": [
                {"name": "b.csv", "bytes": 1, "sha256": "0" * 64},
                {"name": "a.csv", "bytes": 1, "sha256": "0" * 64},
            ]
        },
        {
            "files": [
                {"name": "a.csv", "bytes": 1, "sha256": "0" * 64},
                {"name": "a.csv", "bytes": 1, "sha256": "0" * 64},
            ]
        },
        {"files": [{"name": "../etc/passwd", "bytes": 1, "sha256": "0" * 64}]},
    ],
)
def test_strict_parse_refuses(data: dict) -> None:
    with pytest.raises(PrimexError):
        manifest_from_dict(data)


def test_strict_parse_error_type() -> None:
    with pytest.raises(IntegrityError, match="malformed manifest"):
        manifest_from_dict({"files": "nope"})
