"""Build the encrypted release package of a signed-off request, and record the release.

The plaintext is a ZIP archive (sealed by :mod:`primex.release.envelope`):

    release.json              what this is: request, title, recipient, manifest hash, checkpoint
    manifest.json             the signed manifest, canonical JSON (its SHA-256 is signed)
    data/<name>               the released files, exactly as in the manifest
    datapackage.json          the codebook (Frictionless Data Package, see codebook.py)
    disclosure-report.json    the disclosure report the disclosure result hashed
    disclosure-report.md/.html  its readable forms (when the protection step wrote them)
    evidence/entries.jsonl    log entries, byte for byte: the request's history up to the
                              sign-off, the genesis entry (log origin and key) and the
                              registration of every key that signed them or the checkpoint
    evidence/checkpoint       the C2SP checkpoint with the committee witness's cosignature
    evidence/proofs.json      {"size", "root", "proofs": {"<seq>": [base64 hash, ...]}}:
                              RFC 9162 inclusion proof of every evidence entry

`build_release` runs the gate, writes the package (the data files are hashed again while
they are copied, so a file changed after the gate's check is caught), seals it for the
research centre's key, appends the `release` entry (signed by the spp_operator) and only
then moves the package to its final name. If the append is refused nothing is left behind.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from primex.atomic import fsync_dir
from primex.audit.keys import Signer
from primex.audit.log import AuditLog, open_log
from primex.errors import IntegrityError
from primex.home import Home
from primex.release.codebook import Describe, build_codebook
from primex.release.envelope import seal
from primex.release.gate import Evidence, check_release

FORMAT = "primex-release-package/v1"
SUFFIX = ".primex"
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
            _info(f"data/{entry.name}"), "w", force_zip64=True
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
        ev.protected, ev.manifest, request_id=ev.request, title=ev.title, describe=describe
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
        archive.writestr(_info("release.json"), json.dumps(meta, indent=2, sort_keys=True))
        archive.writestr(_info("manifest.json"), ev.manifest.canonical_bytes())
        _add_data(archive, ev)
        archive.writestr(
            _info("datapackage.json"), json.dumps(codebook, indent=2, ensure_ascii=False)
        )
        archive.writestr(_info("disclosure-report.json"), ev.report_json)
        for name, data in sorted(ev.report_extra.items()):
            archive.writestr(_info(name), data)
        archive.writestr(
            _info("evidence/entries.jsonl"), b"".join(e.raw + b"\n" for e in ev.entries)
        )
        archive.writestr(_info("evidence/checkpoint"), cp.text)
        archive.writestr(_info("evidence/proofs.json"), json.dumps(proofs, indent=1))


def default_path(home: Home, request_id: str) -> Path:
    return home.releases / f"{request_id}{SUFFIX}"


def build_release(
    home: Home,
    request_id: str,
    signer: Signer,
    *,
    out: Path | None = None,
    log: AuditLog | None = None,
    recipient: str | None = None,
    describe: Describe | None = None,
) -> Released:
    """Gate, package, seal, record the release entry; return where the package is."""
    log = log or open_log(home, create=False)
    ev = check_release(home, request_id, log=log, recipient=recipient)
    target = out or default_path(home, request_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, sealed_tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    sealed = Path(sealed_tmp)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pack-") as tmp:
            plain = Path(tmp) / "package.zip"
            write_archive(plain, ev, describe)
            with plain.open("rb") as src, sealed.open("wb") as dst:
                seal(src, dst, ev.recipient)
                dst.flush()
                os.fsync(dst.fileno())
        digest = hashlib.sha256()
        with sealed.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        entry = log.append(
            "release",
            request_id,
            {
                "manifest_sha256": ev.manifest.sha256,
                "package_sha256": digest.hexdigest(),
                "recipient": ev.recipient,
                "checkpoint": {"size": ev.checkpoint.size, "root": ev.checkpoint.root_b64},
            },
            signer,
        )
        os.replace(sealed, target)
        fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            sealed.unlink()
    return Released(
        request_id, target, digest.hexdigest(), ev.manifest.sha256, ev.recipient, entry.seq
    )
