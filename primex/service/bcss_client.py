"""The SPP side of the linkage over the network: send an extract to `primex bcss serve`.

`send_for_coding(home, request, endpoint, spp_signer)`:

1. the extract must be the file the latest `extraction` entry recorded (contract C1);
2. it goes up in chunks to the job named after (request, SHA-256): a cut connection resumes
   at the offset the BCSS holds, a resent chunk is acknowledged, nothing is coded twice;
3. the BCSS codes it once and answers with a receipt signed by its operator's key; the
   receipt must verify with the `bcss_operator` key the SPP's log registers, name this
   request and the very extract sent, and say the extract was destroyed;
4. the coded file, reports and the BCSS manifest come down in chunks and must have the sizes
   and SHA-256 the receipt lists; they land in `<spp work>/<request>/` (the BCSS manifest as
   `coding-manifest.json`: the extraction's own manifest.json lives there);
5. the `coding` entry (body = the receipt and the manifest) is prepared by the SPP's log,
   signed by the BCSS key at the BCSS (it checks the draft records its receipt) and appended.

Every call is signed by the SPP operator (RFC 9421, the service's profile); the TLS
certificate of the BCSS is checked against `endpoint.ca` (and, for mutual TLS, the SPP shows
`endpoint.client_cert`). Timeouts and retries are bounded (`Retry`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from primex.atomic import write_bytes
from primex.audit.canonical import sha256_hex
from primex.audit.keys import Signer
from primex.audit.log import AuditLog, open_log, signed_bytes
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.home import Home
from primex.service.decisions import _PresignedSigner, prepare  # the same two-step append
from primex.service.httpsig import sign_request
from primex.service.linkage_receipt import coding_body, verify_receipt

SENT_AS = {"coded.parquet": "coded.parquet", "linkage-report.json": "linkage-report.json",
           "linkage-report.md": "linkage-report.md", "manifest.json": "coding-manifest.json"}


@dataclass(frozen=True)
class Retry:
    """Bounded retries: `attempts` tries per call, exponential backoff capped at `cap`."""

    attempts: int = 8
    base: float = 0.1
    cap: float = 3.0
    timeout: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.base * (2 ** attempt)))


@dataclass(frozen=True)
class BcssEndpoint:
    url: str
    key_name: str  # the BCSS operator's key, as registered in the SPP's log
    ca: str | None = None  # CA bundle that signed the BCSS's TLS certificate
    client_cert: tuple[str, str] | None = None  # (cert, key) for mutual TLS
    chunk_size: int = 1 << 20
    retry: Retry = field(default_factory=Retry)
    public_key: bytes | None = None  # the BCSS key's public bytes, when no log says it


@dataclass
class CodingOutcome:
    job: str
    receipt: dict[str, Any]
    files: dict[str, Path]
    audit_seq: int | None
    uploaded_bytes: int = 0  # bytes this run put on the wire (a resumed run sends less)


def tls_context(ca: str | None, client_cert: tuple[str, str] | None = None
                ) -> ssl.SSLContext:
    """Verify the server against `ca` (else the system's CAs); show `client_cert` (mTLS)."""
    context = ssl.create_default_context(cafile=ca)
    if client_cert is not None:
        context.load_cert_chain(*client_cert)
    return context


class BcssClient:
    def __init__(self, endpoint: BcssEndpoint, signer: Signer,
                 http: httpx.Client | None = None) -> None:
        self.ep = endpoint
        self.signer = signer
        self.http = http or httpx.Client(timeout=endpoint.retry.timeout,
                                         verify=tls_context(endpoint.ca, endpoint.client_cert))

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: bytes = b"",
             ok: Callable[[httpx.Response], bool] = lambda r: r.status_code < 400
             ) -> httpx.Response:
        """One call, retried on network errors and 5xx/429 with bounded backoff."""
        last = ""
        for attempt in range(self.ep.retry.attempts):
            request = self.http.build_request(method, self.ep.url.rstrip("/") + path,
                                              content=body)
            signed = sign_request(method, request.url.raw_path.decode("ascii"), body,
                                  self.signer.name, self.signer, time.time())
            request.headers.update(signed.headers)
            try:
                reply = self.http.send(request)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if ok(reply):
                    return reply
                if reply.status_code < 500 and reply.status_code != 429:
                    raise PrimexError(f"the BCSS refused: {_detail(reply)}",
                                      where=f"{method} {path} (HTTP {reply.status_code})")
                last = f"HTTP {reply.status_code}"
            time.sleep(self.ep.retry.delay(attempt))
        raise PrimexError(f"the BCSS service does not answer ({last})", where=self.ep.url,
                          hint="check the network and the BCSS; the transfer resumes where "
                               "it stopped when you run the step again")


def _detail(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("detail"))[:300]
    except ValueError:
        return reply.text[:200]


def job_id(request: str, sha256: str) -> str:
    return hashlib.sha256(f"{request}\0{sha256}".encode()).hexdigest()[:32]


def _check_recorded(log: AuditLog, request: str, sha: str) -> None:
    extractions = [e for e in log.entries(request) if e.type == "extraction"]
    manifest = extractions[-1].body.get("manifest") if extractions else None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list) or sha not in {f.get("sha256") for f in files
                                                   if isinstance(f, dict)}:
        raise IntegrityError("the extract is not the file the latest extraction recorded",
                             where=f"request {request}",
                             hint="run `primex extract request` again; never edit the extract")


def _bcss_key(log: AuditLog, name: str) -> bytes:
    info = log.registry.active(name)
    if info is None or info.role != "bcss_operator":
        raise PermissionDenied(f"{name!r} is not an active bcss_operator key of the log",
                               where="--bcss-key", hint="the committee registers the BCSS key")
    return bytes(info.public_key)


def send_for_coding(home: Home, request: str, endpoint: BcssEndpoint, signer: Signer,
                    *, extract: Path | None = None) -> CodingOutcome:
    """See the module docstring."""
    work = home.spp_work / request
    path = extract or work / "extract.parquet"
    if not path.is_file():
        raise PrimexError("no extract to send", where=str(path),
                          hint=f"run `primex extract request {request}` first")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    log = open_log(home, create=False)
    in_log = request in log.requests()
    if in_log:
        _check_recorded(log, request, sha)
    bcss_key = _bcss_key(log, endpoint.key_name)
    job = job_id(request, sha)
    client = BcssClient(endpoint, signer)
    try:
        spec = {"request": request, "sha256": sha, "bytes": len(data)}
        signed, sent = _upload_and_code(client, job, spec, data)
        receipt = verify_receipt(signed, bcss_key)
        if receipt.get("request") != request or receipt.get("job") != job \
                or receipt.get("received", {}).get("sha256") != sha:
            raise IntegrityError("the receipt is for another request or another extract",
                                 where="receipt")
        files = _download(client, job, receipt, work)
        manifest = json.loads(files["manifest.json"].read_bytes())
        if sha256_hex(manifest) != receipt["manifest_sha256"]:
            raise IntegrityError("the BCSS manifest does not hash to the receipt's",
                                 where=str(files["manifest.json"]))
        seq = _record(client, log, request, job, receipt, manifest, signed,
                      endpoint.key_name) if in_log else None
        return CodingOutcome(job, receipt, files, seq, sent)
    finally:
        client.close()


def fetch_positions(endpoint: BcssEndpoint, signer: Signer, leavers: Any,
                    label: str) -> Any:
    """The basic application's outcomes through the BCSS service: the leavers (with NISS)
    go out, their positions (no NISS) come back, with a receipt signed by the BCSS key
    (checked against `bcss_key`, the key's public bytes). `label` names the run (e.g.
    quarterly-2025Q2). Returns a pyarrow Table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(leavers, sink)
    data = bytes(sink.getvalue().to_pybytes())
    sha = hashlib.sha256(data).hexdigest()
    job = job_id(label, sha)
    client = BcssClient(endpoint, signer)
    try:
        spec = {"request": label, "sha256": sha, "bytes": len(data), "kind": "positions"}
        signed, _sent = _upload_and_code(client, job, spec, data)
        receipt = verify_receipt(signed, endpoint.public_key or b"")
        if receipt.get("work") != "positions" or receipt.get("job") != job \
                or receipt.get("received", {}).get("sha256") != sha:
            raise IntegrityError("the receipt is not for these leavers", where="receipt")
        (want,) = receipt["sent"]
        buf = bytearray()
        while len(buf) < want["bytes"]:
            reply = client.call("GET", f"/bcss/v1/jobs/{job}/files/positions.parquet"
                                f"?offset={len(buf)}&length={endpoint.chunk_size}")
            if not reply.content:
                break
            buf += reply.content
        if hashlib.sha256(buf).hexdigest() != want["sha256"]:
            raise IntegrityError("the positions do not match the BCSS receipt", where=job)
        table = pq.read_table(pa.BufferReader(bytes(buf)))
        if "niss" in table.column_names:
            raise IntegrityError("the BCSS sent positions with a NISS column", where=job)
        return table
    finally:
        client.close()


def _upload_and_code(client: BcssClient, job: str, spec: dict[str, Any], data: bytes
                     ) -> tuple[dict[str, Any], int]:
    """Create (or find) the job, send what the BCSS lacks, have it coded: the signed receipt
    and the bytes put on the wire. A BCSS that lost part of the upload (it was killed, or it
    refused a corrupted one) answers 409 with what it holds: send the rest and ask again."""
    sent = 0
    for _ in range(3):
        status = client.call("PUT", f"/bcss/v1/jobs/{job}", json.dumps(spec).encode()).json()
        sent += _upload(client, job, data, int(status["received"]),
                        coded=status["state"] == "coded")
        reply = client.call("POST", f"/bcss/v1/jobs/{job}/code",
                            ok=lambda r: r.status_code < 400 or r.status_code == 409)
        if reply.status_code != 409:
            return dict(reply.json()), sent
        if "received" not in reply.json():  # a refusal of the extract itself: no retry
            raise PrimexError(f"the BCSS refused: {_detail(reply)}",
                              where=f"POST /bcss/v1/jobs/{job}/code (HTTP 409)")
    raise PrimexError(f"the BCSS did not code the extract ({_detail(reply)})",
                      where=f"job {job}", hint="run the step again; it resumes")


def _upload(client: BcssClient, job: str, data: bytes, held: int, *, coded: bool) -> int:
    """Send what the BCSS does not hold yet; returns the bytes put on the wire."""
    if coded:
        return 0
    sent, size, step = 0, len(data), client.ep.chunk_size
    stalls = 0
    while held < size:
        chunk = data[held:held + step]
        # a 409 carries the offset the BCSS holds: resume there
        reply = client.call("PUT", f"/bcss/v1/jobs/{job}/extract?offset={held}", chunk,
                            ok=lambda r: r.status_code < 400 or r.status_code == 409)
        body = reply.json()
        sent += len(chunk)
        new = int(body["received"])
        stalls = stalls + 1 if new <= held else 0
        if stalls > client.ep.retry.attempts:
            raise PrimexError("the upload makes no progress", where=f"job {job}")
        held = new
    return sent


def _download(client: BcssClient, job: str, receipt: dict[str, Any],
              work: Path) -> dict[str, Path]:
    listed = {f["name"]: f for f in receipt["sent"]}
    if set(listed) != set(SENT_AS):
        raise IntegrityError("the receipt does not list the expected files", where="receipt")
    out: dict[str, Path] = {}
    for name, local in SENT_AS.items():
        want = listed[name]
        buf = bytearray()
        while len(buf) < want["bytes"]:
            reply = client.call(
                "GET", f"/bcss/v1/jobs/{job}/files/{name}?offset={len(buf)}"
                f"&length={client.ep.chunk_size}")
            if not reply.content:
                break
            buf += reply.content
        if len(buf) != want["bytes"] or hashlib.sha256(buf).hexdigest() != want["sha256"]:
            raise IntegrityError(f"{name} does not match the BCSS receipt (size or SHA-256)",
                                 where=f"job {job}", hint="run the step again")
        out[name] = write_bytes(work / local, bytes(buf))
    return out


def _record(client: BcssClient, log: AuditLog, request: str, job: str,
            receipt: dict[str, Any], manifest: dict[str, Any], signed: dict[str, Any],
            key_name: str) -> int:
    """Append the `coding` entry, signed by the BCSS key at the BCSS (prepare, sign, commit)."""
    body = coding_body(receipt, manifest, signed)
    for _ in range(3):
        draft = prepare(log, "coding", request, body, key_name)
        reply = client.call("POST", f"/bcss/v1/jobs/{job}/sign-coding",
                            json.dumps({"draft": draft}).encode())
        signature = base64.b64decode(reply.json()["signature"], validate=True)
        info = log.registry.active(key_name)
        assert info is not None
        presigned = _PresignedSigner(info.name, info.role, info.person, info.public_key,
                                     signed_bytes(draft), signature)
        try:
            entry = log.append("coding", request, body, presigned,  # type: ignore[arg-type]
                               time=draft["time"])
        except PrimexError as exc:
            if "changed since" in exc.what:
                continue  # the log moved: prepare again
            raise
        return entry.seq
    raise PrimexError("the audit log kept moving; try again", where=f"request {request}")
