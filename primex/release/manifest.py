"""The release manifest: exactly which files leave, as canonical JSON, and its hash.

The manifest is the thing the president signs (its SHA-256), the disclosure step vouches for
and the gate rebuilds from the files on disk just before anything leaves. One definition
serves all three, so it lives here and nowhere else:

    {"files":[{"bytes":<int>,"name":"<name>","sha256":"<64 lowercase hex>"}, ...]}

- files sorted by `name` (byte order of the UTF-8 name), names unique;
- serialised by `primex.audit.canonical.dumps` (sorted keys, no whitespace, UTF-8,
  integers only: the same canonical form as the audit log);
- `manifest_sha256` = SHA-256 of exactly those bytes, lowercase hex.

`collect_protected(work_dir)` is the contract with the protection step: it manifests every
data file in `<work_dir>/protected/` except the disclosure report itself (`.json`, `.md`,
`.html`: it binds to the manifest hash, so it cannot be inside it) and a step's own
`manifest.json`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.atomic import write_bytes as atomic_write_bytes
from primex.audit import canonical
from primex.errors import IntegrityError, PrimexError
from primex.report_names import REPORT_HTML, REPORT_JSON, REPORT_MD

PROTECTED_DIR = "protected"
STEP_MANIFEST = "manifest.json"
# Files that sit in protected/ but are not data: the report is bound to the manifest hash
# (it cannot hash itself) and travels in the package next to it.
NOT_DATA = frozenset({REPORT_JSON, REPORT_MD, REPORT_HTML, STEP_MANIFEST})

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


def data_file_names(protected: Path) -> list[str]:
    """Every data file of a protected folder; refuses anything that is not a plain file."""
    if not protected.is_dir():
        raise PrimexError(
            "no protected output",
            where=str(protected),
            hint="run the disclosure protection step for this request first",
        )
    names = []
    for path in sorted(protected.iterdir()):
        if path.name in NOT_DATA:
            continue
        if path.is_symlink() or not path.is_file():
            raise PrimexError(
                f"unexpected entry {path.name!r} (only plain files may leave)",
                where=str(protected),
                hint="remove folders, links and temporary files from the protected output",
            )
        check_name(path.name, str(protected))
        names.append(path.name)
    return names


def collect_protected(work_dir: Path) -> Manifest:
    """The manifest of the files that may leave: `<work_dir>/protected/` minus the report."""
    protected = work_dir / PROTECTED_DIR
    return manifest_of_files(protected, data_file_names(protected))


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


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write `manifest.json` next to the files (atomic: temp file, fsync, rename)."""
    return atomic_write_bytes(folder / STEP_MANIFEST, manifest.canonical_bytes() + b"\n")
