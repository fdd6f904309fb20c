"""Build the encrypted release package of a signed-off request, and record the release.

The plaintext is a ZIP archive (sealed by :mod:`primex.exchange.envelope`):

    release.json              what this is: request, title, recipient, manifest hash, checkpoint
    manifest.json             the signed manifest, canonical JSON (its SHA-256 is signed)
    data/<name>               the released files, exactly as in the manifest
    datapackage.json          the codebook (Frictionless Data Package, see codebook.py)
    disclosure-report.json    the disclosure report the disclosure result hashed
    disclosure-report.md/.html  its readable forms, exactly those the sign-off lists
    evidence/entries.jsonl    log entries, byte for byte: the request's history up to the
                              sign-off, the genesis entry (log origin and key) and the
                              registration of every key that signed them or the checkpoint
    evidence/checkpoint       the C2SP checkpoint with the committee witness's cosignature
    evidence/proofs.json      {"size", "root", "proofs": {"<seq>": [base64 hash, ...]}}:
                              RFC 9162 inclusion proof of every evidence entry

`build_release` runs the gate, writes the package (the data files are hashed again while
they are copied, so a file changed after the gate's check is caught), seals it for the
research centre's key into `.<name>.pending` next to the target (fsync, atomic rename,
fsync of the folder: complete on disk), appends the `release` entry (signed by the
spp_operator, it records the package's SHA-256) and only then renames the pending package to
its final name. Crash-safe and idempotent: a crash before the entry leaves no release (a
rerun builds again); a crash after it leaves a pending package whose SHA-256 the entry
records, and a rerun finishes the rename instead of refusing; a rerun after a complete
build is refused (`already_released`, naming the package the entry records). If the
append is refused nothing is left behind.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from primex import atomic
from primex.audit.keys import Signer
from primex.audit.log import AuditLog, open_log
from primex.catalogue import load_catalogue
from primex.errors import IntegrityError, PrimexError
from primex.exchange.envelope import seal
from primex.exchange.layout import (
    CHECKPOINT,
    CODEBOOK,
    DATA_PREFIX,
    ENTRIES,
    FORMAT,
    MANIFEST,
    META,
    PROOFS,
    REPORT_JSON,
)
from primex.exchange.manifest import hash_file
from primex.home import Home
from primex.release.codebook import Describe, build_codebook
from primex.release.gate import Evidence, ReleaseRefused, check_release

SUFFIX = ".primex"
PENDING = ".pending"
# ZIP timestamps are fixed: the archive depends only on its contents.
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Released:
    request: str
    path: Path
    package_sha256: str
    manifest_sha256: str
    recipient: str
    seq: int  # the release entry
    resumed: str | None = None  # "finished": a rerun completed a build that crashed


# Parquet compresses its own columns: deflating it again costs time and saves nothing.
_STORED = (".parquet",)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    stored = name.lower().endswith(_STORED)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _add_data(archive: zipfile.ZipFile, ev: Evidence) -> None:
    """Copy each data file into the archive, hashing what is actually read."""
    for entry in ev.manifest.files:
        digest = hashlib.sha256()
        size = 0
        with (ev.protected / entry.name).open("rb") as src, archive.open(
            _info(f"{DATA_PREFIX}{entry.name}"), "w", force_zip64=True
        ) as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        if (size, digest.hexdigest()) != (entry.bytes, entry.sha256):
            raise IntegrityError(
                f"{entry.name} changed while it was being packaged",
                where=str(ev.protected),
                hint="nothing was released; find out who writes to the protected folder",
            )


def _released_levels(report_json: bytes) -> dict[str, str]:
    """Column -> the catalogue hierarchy level it was released at, for the generalised
    microdata columns (the disclosure report's `details.levels`: level indexes > 0)."""
    try:
        levels = (json.loads(report_json).get("details") or {}).get("levels") or {}
        items = list(levels.items())
    except (ValueError, AttributeError, TypeError):
        return {}
    cat, out = load_catalogue(), {}
    for q, lv in items:
        hierarchy = cat.get(q).hierarchy if q in cat else None
        if hierarchy is not None and isinstance(lv, int) and 0 < lv < len(hierarchy.levels):
            out[str(q)] = str(hierarchy.levels[lv])
    return out


def write_archive(target: Path, ev: Evidence, describe: Describe | None = None) -> None:
    cp = ev.checkpoint
    meta = {
        "format": FORMAT,
        "request": ev.request,
        "title": ev.title,
        "recipient": ev.recipient,
        "manifest_sha256": ev.manifest.sha256,
        "signoff_seq": ev.signoff.seq,
        "checkpoint": {"size": cp.size, "root": cp.root_b64},
    }
    codebook = build_codebook(
        ev.protected, ev.manifest, request_id=ev.request, title=ev.title, describe=describe,
        levels=_released_levels(ev.report_json),
    )
    proofs = {
        "size": cp.size,
        "root": cp.root_b64,
        "proofs": {
            str(seq): [base64.b64encode(h).decode("ascii") for h in proof]
            for seq, proof in ev.proofs.items()
        },
    }
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(_info(META), json.dumps(meta, indent=2, sort_keys=True))
        archive.writestr(_info(MANIFEST), ev.manifest.canonical_bytes())
        _add_data(archive, ev)
        archive.writestr(
            _info(CODEBOOK), json.dumps(codebook, indent=2, ensure_ascii=False)
        )
        archive.writestr(_info(REPORT_JSON), ev.report_json)
        for name, data in sorted(ev.report_extra.items()):
            archive.writestr(_info(name), data)
        archive.writestr(
            _info(ENTRIES), b"".join(e.raw + b"\n" for e in ev.entries)
        )
        archive.writestr(_info(CHECKPOINT), cp.text)
        archive.writestr(_info(PROOFS), json.dumps(proofs, indent=1))


def default_path(home: Home, request_id: str) -> Path:
    return home.releases / f"{request_id}{SUFFIX}"


def pending_path(target: Path) -> Path:
    """Where the sealed package waits, complete, until its release entry is written."""
    return target.parent / f".{target.name}{PENDING}"


def _sha256(path: Path) -> str | None:
    return hash_file(path).sha256 if path.is_file() and not path.is_symlink() else None


def _finish_recorded(log: AuditLog, request_id: str, target: Path) -> Released | None:
    """A rerun after the release entry: confirm the package, or finish a crashed rename.
    Anything it cannot read is left to the gate, which refuses with its typed reason."""
    try:
        if log.state(request_id).state != "released":
            return None
    except PrimexError:
        return None
    entry = [e for e in log.entries(request_id) if e.type == "release"][-1]
    wanted = entry.body.get("package_sha256")
    pending = pending_path(target)
    if _sha256(target) == wanted:  # nothing to do; say so (exit 2) as for any refusal
        raise ReleaseRefused(
            "already_released",
            f"this request was already released: {target} is the package log entry "
            f"{entry.seq} records",
            where=f"request {request_id}",
            hint="send that file; a request is released once",
        )
    if _sha256(pending) != wanted:
        return None  # the gate refuses: already released, this package is not here
    atomic.move(pending, target)
    return Released(
        request_id, target, str(wanted), str(entry.body.get("manifest_sha256")),
        str(entry.body.get("recipient")), entry.seq, "finished",
    )


_STAGING = ".pack-"


def _remove_leftovers(work: Path, pending: Path) -> None:
    """What a killed build left behind: its plaintext staging folder (in the request's SPP
    work folder, never next to the packages) and its half-sealed temporary file."""
    for stale in work.glob(f"{_STAGING}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    for stale in atomic.leftovers(pending):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _write_pending(ev: Evidence, pending: Path, describe: Describe | None) -> str:
    """Seal the package into `pending` (temp file, fsync, rename, fsync dir); its SHA-256.

    The plaintext archive is staged in the request's SPP work folder, which holds the same
    files already, so no unencrypted package ever sits where packages are sent from."""
    work = ev.protected.parent
    _remove_leftovers(work, pending)
    with tempfile.TemporaryDirectory(dir=work, prefix=_STAGING) as tmp:
        plain = Path(tmp) / "package.zip"
        write_archive(plain, ev, describe)
        digest = hashlib.sha256()
        with plain.open("rb") as src, atomic.writing(pending) as dst:
            seal(src, cast(BinaryIO, _Hashing(dst, digest)), ev.recipient)
    return digest.hexdigest()


class _Hashing:
    """A write-only stream that hashes what it forwards (the package is hashed once)."""

    def __init__(self, out: BinaryIO, digest: Any) -> None:
        self.out, self.digest = out, digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)


def build_release(
    home: Home,
    request_id: str,
    signer: Signer,
    *,
    out: Path | None = None,
    log: AuditLog | None = None,
    describe: Describe | None = None,
) -> Released:
    """Gate, package, seal, record the release entry; return where the package is."""
    log = log or open_log(home, create=False)
    target = out or default_path(home, request_id)
    log.refresh()
    done = _finish_recorded(log, request_id, target)
    if done is not None:
        return done
    ev = check_release(home, request_id, log=log)
    target.parent.mkdir(parents=True, exist_ok=True)
    pending = pending_path(target)
    digest = _write_pending(ev, pending, describe)
    body = {
        "manifest_sha256": ev.manifest.sha256,
        "package_sha256": digest,
        "recipient": ev.recipient,
        "checkpoint": {"size": ev.checkpoint.size, "root": ev.checkpoint.root_b64},
    }
    try:
        entry = log.append("release", request_id, body, signer)
    except BaseException:
        # refused (or interrupted): unless the entry made it into the log after all, the
        # pending package must not stay behind; when in doubt it stays (a rerun decides)
        with contextlib.suppress(PrimexError, OSError):
            log.refresh()
            recorded = any(
                e.type == "release" and e.body.get("package_sha256") == digest
                for e in log.entries(request_id)
            )
            if not recorded:
                pending.unlink(missing_ok=True)
        raise
    atomic.move(pending, target)
    return Released(request_id, target, digest, ev.manifest.sha256, ev.recipient, entry.seq)
