"""The one file manifest of primex: which files, how many bytes, which SHA-256.

Every step that hands files to the next (extraction, coding, protection, release) and the
researcher's verifier describe files the same way, so one definition serves them all:

    {"files":[{"bytes":<int>,"name":"<name>","sha256":"<64 lowercase hex>"}, ...]}

- files sorted by `name` (byte order of the UTF-8 name), names unique;
- serialised by `primex.audit.canonical.dumps` (sorted keys, no whitespace, UTF-8,
  integers only: the same canonical form as the audit log);
- `manifest_sha256` = SHA-256 of exactly those bytes, lowercase hex.

The release manifest (what the president signs) is this manifest of the data files of
`protected/` (see :mod:`primex.release.manifest`); it crosses from the SPP to the research
centre inside the package, which is why it lives here, with neither side.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.audit import canonical
from primex.errors import IntegrityError, PrimexError

# Conservative names only: they become paths in the package and on the researcher's disk, so
# no separators, no leading dot (hidden or temp files), nothing a shell or a zip tool mangles.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class FileEntry:
    name: str
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "name": self.name, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    files: tuple[FileEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"files": [f.as_dict() for f in self.files]}

    def canonical_bytes(self) -> bytes:
        return canonical.dumps(self.as_dict())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]

    def get(self, name: str) -> FileEntry | None:
        return next((f for f in self.files if f.name == name), None)

    def differences(self, other: Manifest) -> list[str]:
        """Human-readable differences `self` (expected) → `other` (found), for error messages."""
        mine = {f.name: f for f in self.files}
        theirs = {f.name: f for f in other.files}
        out = [f"{n} missing" for n in sorted(mine.keys() - theirs.keys())]
        out += [f"{n} added" for n in sorted(theirs.keys() - mine.keys())]
        for n in sorted(mine.keys() & theirs.keys()):
            if mine[n] != theirs[n]:
                out.append(f"{n} changed ({mine[n].bytes} → {theirs[n].bytes} bytes)")
        return out


def check_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PrimexError(
            f"file name {name!r} is not allowed in a release",
            where=where,
            hint="use letters, digits, '.', '_' or '-', not starting with a dot, no folders",
        )
    return name


def make_manifest(entries: Iterable[FileEntry], where: str = "manifest") -> Manifest:
    files = tuple(sorted(entries, key=lambda f: f.name.encode("utf-8")))
    seen: set[str] = set()
    for f in files:
        check_name(f.name, where)
        if f.name in seen:
            raise PrimexError(f"file {f.name!r} listed twice", where=where)
        seen.add(f.name)
    if not files:
        raise PrimexError("a release manifest needs at least one file", where=where)
    return Manifest(files)


def hash_file(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(path.name, size, digest.hexdigest())


def manifest_of_files(folder: Path, names: Iterable[str]) -> Manifest:
    """Hash the named files of `folder` as they are now (the gate's rebuild)."""
    entries = []
    for name in names:
        check_name(name, str(folder))
        path = folder / name
        if path.is_symlink() or not path.is_file():
            raise IntegrityError(
                f"file {name!r} of the manifest is missing or not a regular file",
                where=str(folder),
                hint="the protected output changed after the sign-off; rerun protection and "
                "ask for a new sign-off",
            )
        entries.append(hash_file(path))
    return make_manifest(entries, where=str(folder))


def manifest_from_dict(data: Mapping[str, Any], where: str = "manifest") -> Manifest:
    """Parse a manifest read from a log entry or a package, strictly (nothing extra)."""
    if not isinstance(data, Mapping) or set(data) != {"files"} or not isinstance(
        data["files"], list
    ):
        raise IntegrityError("malformed manifest: expected exactly {'files': [...]}", where=where)
    entries = []
    for i, item in enumerate(data["files"]):
        ok = (
            isinstance(item, Mapping)
            and set(item) == {"name", "bytes", "sha256"}
            and isinstance(item["name"], str)
            and type(item["bytes"]) is int
            and item["bytes"] >= 0
            and isinstance(item["sha256"], str)
            and _HEX64.fullmatch(item["sha256"]) is not None
        )
        if not ok:
            raise IntegrityError(f"malformed manifest entry #{i}", where=where)
        entries.append(FileEntry(item["name"], item["bytes"], item["sha256"]))
    manifest = make_manifest(entries, where=where)
    if [f.as_dict() for f in manifest.files] != list(data["files"]):
        raise IntegrityError("manifest files are not sorted by name", where=where)
    return manifest
