"""The BCSS side's coding jobs on disk: one folder per job under `<home>/bcss/work/jobs/`.

A job is named by the SPP from the request and the extract's SHA-256, so a retried upload
or coding call lands on the same job and gets the same answer (idempotent). The upload is
appended to `extract.part` at the offset the client gives (a chunk the BCSS already holds is
checked byte for byte and acknowledged, a gap is refused); the coding runs once, under a per
job lock, writes `receipt.json` and destroys the extract before it answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.atomic import write_bytes
from primex.audit.canonical import loads
from primex.audit.keys import Signer
from primex.errors import IntegrityError, PrimexError, ValidationError
from primex.home import Home
from primex.service.linkage_receipt import KIND, sign_receipt

JOB_RE = re.compile(r"^[a-f0-9]{32}$")
REQUEST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SENT = ("coded.parquet", "linkage-report.json", "linkage-report.md", "manifest.json")
# what a job does: code a request's extract, or look up the basic application's leavers
KINDS: dict[str, tuple[str, ...]] = {"coding": SENT, "positions": ("positions.parquet",)}
MAX_EXTRACT = 8 << 30


def job_id(request: str, extract_sha256: str) -> str:
    """The job of one extract of one request (the same on both sides)."""
    return hashlib.sha256(f"{request}\0{extract_sha256}".encode()).hexdigest()[:32]


class JobConflict(PrimexError):
    """The call does not fit the job's state (HTTP 409); `received` says where to resume."""

    def __init__(self, what: str, received: int, **kw: str | None) -> None:
        self.received = received
        super().__init__(what, **kw)


@dataclass
class Job:
    folder: Path
    spec: dict[str, Any]

    @property
    def part(self) -> Path:
        return self.folder / "extract.part"

    @property
    def out(self) -> Path:
        return self.folder / "out"

    @property
    def receipt_path(self) -> Path:
        return self.folder / "receipt.json"

    def received(self) -> int:
        return self.part.stat().st_size if self.part.exists() else 0

    def receipt(self) -> dict[str, Any] | None:
        if not self.receipt_path.exists():
            return None
        value = loads(self.receipt_path.read_bytes(), where=str(self.receipt_path))
        assert isinstance(value, dict)
        return value

    def status(self) -> dict[str, Any]:
        signed = self.receipt()
        return {"job": self.folder.name, "request": self.spec["request"],
                "bytes": self.spec["bytes"], "received": self.received(),
                "state": "coded" if signed else "receiving", "receipt": signed}


class JobStore:
    """All jobs of this BCSS home; thread-safe (FastAPI runs handlers in a thread pool)."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.root = home.bcss_work / "jobs"
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.recover()

    def recover(self) -> None:
        """At start: what a killed process left behind. A coding's working copy of the
        extract is never needed again (it is remade from the upload); a coded job's upload
        is destroyed as its receipt says."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if JOB_RE.match(folder.name) and (folder / "job.json").exists():
                _sweep(self.open(folder.name), coding_copy=True)

    def lock(self, job: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(job, threading.Lock())

    def open(self, job: str) -> Job:
        if not JOB_RE.match(job):
            raise ValidationError("malformed job id", where="job")
        folder = self.root / job
        spec_path = folder / "job.json"
        if not spec_path.exists():
            raise PrimexError(f"unknown job {job}", where="job",
                              hint="create it with PUT /bcss/v1/jobs/{job}")
        try:
            spec = json.loads(spec_path.read_text("utf-8"))
            if not isinstance(spec, dict) or not isinstance(spec.get("request"), str):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            raise IntegrityError("a job's parameters are damaged", where=str(spec_path),
                                 hint="remove the job folder (the SPP uploads it again)"
                                 ) from None
        return Job(folder, spec)

    def create(self, job: str, request: str, sha256: str, size: int,
               kind: str = "coding") -> Job:
        if not REQUEST_RE.match(request):
            raise ValidationError("malformed request id", where="request")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValidationError("sha256 must be 64 lowercase hex digits", where="sha256")
        if not 0 < size <= MAX_EXTRACT:
            raise ValidationError(f"bytes must be between 1 and {MAX_EXTRACT}", where="bytes")
        if job != job_id(request, sha256):
            raise ValidationError("the job id is not the one of this request and extract",
                                  where="job", hint="job = sha256(request NUL sha256)[:32]")
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}", where="kind")
        spec = {"request": request, "sha256": sha256, "bytes": size, "kind": kind}
        with self.lock(job):
            folder = self.root / job
            if (folder / "job.json").exists():
                existing = self.open(job)
                if existing.spec != spec:
                    raise JobConflict("the job exists with other parameters", 0, where="job")
                return existing
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)
            write_bytes(folder / "job.json", json.dumps(spec, sort_keys=True).encode())
            return Job(folder, spec)

    def put_chunk(self, job: str, offset: int, data: bytes) -> int:
        """Append `data` at `offset`; returns how many bytes the BCSS now holds."""
        with self.lock(job):
            j = self.open(job)
            if j.receipt() is not None:
                _sweep(j)
                return int(j.spec["bytes"])  # already coded: the upload is complete
            held = j.received()
            if offset < 0 or offset > held:
                raise JobConflict(f"offset {offset} leaves a gap (the BCSS holds {held} bytes)",
                                  held, where="offset", hint=f"resume at offset {held}")
            if offset + len(data) > j.spec["bytes"]:
                raise ValidationError("the chunk goes past the announced size", where="offset")
            overlap = min(held - offset, len(data))
            if overlap > 0:  # a retried chunk: it must be the same bytes
                with j.part.open("rb") as f:
                    f.seek(offset)
                    if f.read(overlap) != data[:overlap]:
                        raise IntegrityError("a resent chunk differs from the bytes received",
                                             where=f"offset {offset}")
            tail = data[overlap:] if overlap >= 0 else data
            if tail:
                fd = os.open(j.part, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    view = memoryview(tail)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
            return j.received()

    def code(self, job: str, signer: Signer, passphrase: str | None) -> dict[str, Any]:
        """Code the complete extract once; the signed receipt (the same on every retry)."""
        from primex.linkage.code import code_extract

        with self.lock(job):
            j = self.open(job)
            done = j.receipt()
            if done is not None:
                _sweep(j)
                return done
            held = j.received()
            if held != j.spec["bytes"]:
                raise JobConflict(f"the upload is incomplete ({held} of {j.spec['bytes']} "
                                  "bytes)", held, where="extract", hint=f"resume at {held}")
            data = j.part.read_bytes()
            if hashlib.sha256(data).hexdigest() != j.spec["sha256"]:
                j.part.unlink()  # a corrupted upload is useless: start again
                raise JobConflict("the extract received does not have the announced SHA-256",
                                  0, where="extract", hint="upload it again from offset 0")
            extract = j.folder / "in" / "extract.parquet"
            write_bytes(extract, data, mode=0o600)
            del data
            kind = j.spec.get("kind", "coding")
            try:
                if kind == "positions":
                    found = self._positions(extract, j.out / "positions.parquet")
                    key_id, manifest_sha, summary = None, None, found
                else:
                    result = code_extract(self.home, j.spec["request"], extract,
                                          j.out / "coded.parquet", passphrase=passphrase)
                    key_id, manifest_sha = result.key_id, result.manifest_sha256
                    summary = _summary(result.report)
            except BaseException:  # not coded: the BCSS keeps no extract either
                _destroy(extract)
                _destroy(j.part)
                raise
            receipt = {
                "v": 1, "kind": KIND, "job": job, "request": j.spec["request"],
                "work": kind, "key_id": key_id,
                "received": {"name": "extract.parquet", "bytes": j.spec["bytes"],
                             "sha256": j.spec["sha256"]},
                "sent": [_file(j.out / name) for name in KINDS[kind]],
                "manifest_sha256": manifest_sha,
                "summary": summary,
                "extract_destroyed": True,
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "signer": signer.name,
            }
            signed = sign_receipt(receipt, signer)
            from primex.audit.canonical import dumps

            write_bytes(j.receipt_path, dumps(signed))
            # destroyed only once the receipt is on disk: a BCSS killed before this point
            # still holds the upload and codes it again on the retry (the same bytes out);
            # killed after it, the next call or start sweeps the leftovers (_sweep)
            _sweep(j)
            return signed

    def _positions(self, leavers: Path, out: Path) -> dict[str, Any]:
        """The leavers' positions, written without NISS (checked like a coded file)."""
        import pyarrow.parquet as pq

        from primex.linkage.niss_scan import scan_table
        from primex.linkage.positions import positions

        table = positions(self.home.warehouse_db, leavers)
        if scan_table(table):
            raise IntegrityError("the positions would carry a NISS", where="positions")
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(out, _parquet_bytes(table, pq))
        found = sum(1 for v in table.column("position_group").to_pylist() if v is not None)
        return {"rows": table.num_rows, "found_in_warehouse": found}

    def file(self, job: str, name: str) -> Path:
        j = self.open(job)
        allowed = KINDS[j.spec.get("kind", "coding")]
        if name not in allowed:
            raise ValidationError(f"no file {name!r} to fetch", where="name",
                                  hint=", ".join(allowed))
        if j.receipt() is None:
            raise JobConflict("the job is not coded yet", j.received(), where="job")
        return j.out / name


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows_in": report["rows_in"], "valid": report["valid"],
        "invalid_by_reason": report["invalid_by_reason"],
        "matched_in_warehouse": report["matched_in_warehouse"],
        "linked_columns": [x["column"] for x in report["linked"]],
    }


def _parquet_bytes(table: Any, pq: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _file(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"name": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _sweep(job: Job, *, coding_copy: bool = False) -> None:
    if coding_copy or job.receipt_path.exists():
        _destroy(job.folder / "in" / "extract.parquet")
    if job.receipt_path.exists():
        _destroy(job.part)


def _destroy(path: Path) -> None:
    """Overwrite then unlink (best effort against a casual undelete; the disk is the BCSS's)."""
    if not path.exists():
        return
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
    path.unlink()
