"""Closing a request destroys its work files on both sides, and the signed `closure` entry
lists what was destroyed (issue 14 #15, contract C3).

The work files are everything under `<home>/spp/work/<id>/` (the extract, which holds every
NISS of the request, its manifest, the coded file, the protected outputs) and under
`<home>/bcss/work/<id>/` (the BCSS's coded file, linkage report and manifest). The closure
body carries `destroyed`: one `{"side", "name", "sha256"}` per file (`name` relative to the
request's work folder), so the committee can see afterwards exactly which bytes were
destroyed. Released packages are the researcher's and are not touched.

Order: the files are listed and hashed, the closure entry is appended (the log refuses it if
the request may not be closed, and then nothing is deleted), then the files are deleted.
If the deletion is interrupted, the request is already `closed` and
`finish_destruction` (run by `review close` and `review expire --yes`) deletes what is
left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.audit.workflow import TRANSITIONS
from primex.errors import PermissionDenied, PrimexError
from primex.home import Home

SIDES = ("spp", "bcss")


@dataclass(frozen=True)
class WorkFile:
    side: str
    name: str
    sha256: str

    def record(self) -> dict[str, str]:
        return {"side": self.side, "name": self.name, "sha256": self.sha256}


def work_folders(home: Home, request_id: str) -> dict[str, Path]:
    """The request's work folder on each side (`request_id` must come from the log)."""
    return {"spp": home.spp_work / request_id, "bcss": home.bcss_work / request_id}


def inventory(home: Home, request_id: str) -> list[WorkFile]:
    """Every file (and symbolic link, never followed) of the request's work folders."""
    files: list[WorkFile] = []
    for side, folder in work_folders(home, request_id).items():
        if folder.is_symlink():
            files.append(WorkFile(side, ".", _link_hash(folder)))
            continue
        if not folder.is_dir():
            continue
        for root, dirs, names in os.walk(folder):
            base = Path(root)
            for name in sorted(names) + sorted(d for d in dirs if (base / d).is_symlink()):
                path = base / name
                rel = path.relative_to(folder).as_posix()
                if path.is_symlink():
                    digest = _link_hash(path)
                elif path.is_file():
                    digest = _file_hash(path)
                else:  # a pipe or device planted there: never opened (it could block)
                    digest = hashlib.sha256(b"special:" + os.fsencode(rel)).hexdigest()
                files.append(WorkFile(side, rel, digest))
    return sorted(files, key=lambda f: (SIDES.index(f.side), f.name))


def count(home: Home, request_id: str) -> int:
    """How many work files a closure would destroy (for a preview: nothing is hashed)."""
    n = 0
    for folder in work_folders(home, request_id).values():
        if folder.is_symlink():
            n += 1
        elif folder.is_dir():
            n += sum(1 for p in folder.rglob("*") if p.is_symlink() or not p.is_dir())
    return n


def leftovers(home: Home, request_id: str) -> bool:
    return any(p.exists() or p.is_symlink() for p in work_folders(home, request_id).values())


def close_request(
    home: Home, log: Any, request_id: str, reasons: list[str], signer: Any
) -> tuple[Any, list[WorkFile]]:
    """Append the signed closure (with `destroyed`), then destroy the work files."""
    log.state(request_id)  # an unknown id is refused before any path is built from it
    files = inventory(home, request_id)
    entry = log.append(
        "closure", request_id,
        {"reasons": reasons, "destroyed": [f.record() for f in files]}, signer,
    )
    destroy(home, request_id, entry.seq)
    return entry, files


def finish_destruction(home: Home, log: Any, request_id: str, signer: Any) -> list[WorkFile]:
    """Delete what an interrupted closure left of a closed request's work files (by a key
    that may close requests: no new entry is written, so the log cannot check the role)."""
    if log.state(request_id).state != "closed":
        raise PrimexError(f"request {request_id} is not closed", where=request_id)
    roles = TRANSITIONS["closure"].roles
    if getattr(signer, "role", None) not in roles:
        raise PermissionDenied(
            f"key {getattr(signer, 'name', '?')!r} may not destroy work files",
            where="--as", hint=f"a {' or '.join(roles)} key finishes a closure",
        )
    files = inventory(home, request_id)
    closures = [e for e in log.entries(request_id) if e.type == "closure"]
    destroy(home, request_id, closures[-1].seq if closures else None)
    return files


def destroy(home: Home, request_id: str, seq: int | None) -> None:
    for folder in work_folders(home, request_id).values():
        try:
            if folder.is_symlink() or folder.is_file():
                folder.unlink()
            elif folder.is_dir():
                shutil.rmtree(folder)
        except OSError as exc:
            raise PrimexError(
                f"request {request_id} is closed (log entry {seq}) but its work files could "
                f"not all be destroyed ({exc.strerror})", where=str(folder),
                hint=f"fix the permissions, then run `primex review close {request_id}` "
                "again to finish",
            ) from None


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise PrimexError(
            f"cannot read a work file to record its hash ({exc.strerror})", where=str(path),
            hint="fix its permissions; nothing was closed or destroyed",
        ) from None
    return h.hexdigest()


def _link_hash(path: Path) -> str:
    """A symbolic link is destroyed, not what it points to: its hash is its target's text."""
    return hashlib.sha256(b"symlink:" + os.fsencode(os.readlink(path))).hexdigest()
