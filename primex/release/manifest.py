"""Which files of a request's `protected/` folder form the release manifest.

The manifest format itself is :mod:`primex.exchange.manifest`. This is the contract with the
protection step: `collect_protected(work_dir)` manifests every data file in
`<work_dir>/protected/` except the disclosure report (`.json`, `.md`, `.html`: the JSON binds
to the manifest hash, so it cannot be inside it; the readable forms are bound by the
president's sign-off, see :mod:`primex.release.signoff`) and a step's own `manifest.json`.
"""

from __future__ import annotations

from pathlib import Path

from primex.atomic import write_bytes as atomic_write_bytes
from primex.errors import PrimexError
from primex.exchange.layout import REPORT_HTML, REPORT_JSON, REPORT_MD, STEP_MANIFEST
from primex.exchange.manifest import Manifest, check_name, hash_file, manifest_of_files

PROTECTED_DIR = "protected"
READABLE_REPORTS = (REPORT_MD, REPORT_HTML)
# Files that sit in protected/ but are not data: the report is bound to the manifest hash
# (it cannot hash itself) and travels in the package next to it.
NOT_DATA = frozenset({REPORT_JSON, *READABLE_REPORTS, STEP_MANIFEST})

# `Manifest` and `hash_file` are defined in primex.exchange.manifest; the steps that hash
# protected files may keep importing them from here.
__all__ = [
    "NOT_DATA", "PROTECTED_DIR", "READABLE_REPORTS", "REPORT_HTML", "REPORT_JSON", "REPORT_MD",
    "STEP_MANIFEST", "Manifest", "collect_protected", "data_file_names", "hash_file",
    "write_manifest",
]


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


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write `manifest.json` next to the files (atomic: temp file, fsync, rename)."""
    return atomic_write_bytes(folder / STEP_MANIFEST, manifest.canonical_bytes() + b"\n")
