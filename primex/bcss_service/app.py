"""The ASGI application of `primex bcss serve` (FastAPI; run by uvicorn, TLS in front or own).

Every route but /bcss/v1/health needs a request signed (RFC 9421, primex.service.httpsig:
the same profile as `primex serve`) by a key the BCSS operator listed in
`<home>/bcss/peers.json` (the SPP operator's public key, compared out of band). Nonces are
refused twice within the time window, also after a restart (primex.bcss_service.nonces keeps
them in the BCSS home). The BCSS answers with its own signatures: the coding receipt and the
`coding` log entry are signed by the BCSS operator's key.

    PUT  /bcss/v1/jobs/{job}     {request, sha256, bytes, kind?} -> status (idempotent)
    PUT  /bcss/v1/jobs/{job}/extract?offset=N   one chunk            -> {received}
    GET  /bcss/v1/jobs/{job}                                         -> status (+ receipt)
    POST /bcss/v1/jobs/{job}/code                                    -> signed receipt
    GET  /bcss/v1/jobs/{job}/files/{name}?offset=N&length=M          -> bytes
    POST /bcss/v1/jobs/{job}/sign-coding    {draft}                  -> {signature}
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from primex import __version__
from primex.audit.keys import Signer
from primex.audit.log import signed_bytes
from primex.bcss_service.jobs import JobConflict, JobStore
from primex.bcss_service.nonces import NonceCache
from primex.errors import ConfigError, IntegrityError, PermissionDenied, PrimexError
from primex.home import Home
from primex.redact import redact
from primex.service import httpsig
from primex.service.linkage_receipt import coding_body

MAX_CHUNK = 8 << 20
WINDOW = 300.0


def peers_path(home: Home) -> Path:
    return home.bcss / "peers.json"


def nonces_path(home: Home) -> Path:
    return home.bcss / "nonces.sqlite"


def load_peers(home: Home) -> dict[str, bytes]:
    """key name -> Ed25519 public key of the callers the BCSS accepts (the SPP operator)."""
    path = peers_path(home)
    try:
        data = json.loads(path.read_text("utf-8"))
        return {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
    except FileNotFoundError:
        raise ConfigError("the BCSS service has no peers file", where=str(path),
                          hint="`primex bcss peer add NAME KEY` with the SPP operator's "
                               "public key") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError("the peers file is damaged", where=str(path)) from None


@dataclass
class BcssState:
    home: Home
    signer: Signer
    passphrase: str | None
    peers: dict[str, bytes]
    jobs: JobStore
    nonces: NonceCache  # on disk: a restart must not make a captured request valid again


def _state(request: Request) -> BcssState:
    state: BcssState = request.app.state.bcss
    return state


async def caller(request: Request) -> str:
    """The peer key name of a correctly signed, fresh, unreplayed request; 401 otherwise."""
    state = _state(request)
    body = await request.body()
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    try:
        parsed = httpsig.parse_signed_request(request.method, url, body, request.headers)
        date = parsedate_to_datetime(request.headers.get("date", "")).timestamp()
    except (httpsig.SignatureProblem, TypeError, ValueError) as exc:
        raise HTTPException(401, detail=f"unsigned or malformed request: {exc}") from None
    now = time.time()
    if abs(now - parsed.created) > WINDOW or abs(now - date) > WINDOW:
        raise HTTPException(401, detail="the signature is too old or too new (check the clock)")
    key = state.peers.get(parsed.keyid)
    if key is None or not httpsig.verify(parsed, key):
        raise HTTPException(401, detail="the signature does not verify with a peer key")
    try:
        replayed = state.nonces.seen(parsed.keyid, parsed.nonce, now)
    except sqlite3.Error:  # fail closed: a nonce not recorded could be replayed
        raise HTTPException(503, detail="the replay cache cannot be written") from None
    if replayed:
        raise HTTPException(401, detail="replayed request (this nonce was already used)")
    return parsed.keyid


def create_app(home: Home, signer: Signer, passphrase: str | None = None) -> FastAPI:
    if signer.role != "bcss_operator":
        raise PermissionDenied(f"the BCSS service signs with a bcss_operator key, not "
                               f"{signer.name!r} ({signer.role})", where="--as")
    if home.prima_db.exists():
        raise ConfigError("this home holds PRIMA: the BCSS service runs in the BCSS's own "
                          "home", where=str(home.prima_db), hint="give --home of the BCSS")
    state = BcssState(home, signer, passphrase, load_peers(home), JobStore(home),
                      NonceCache(nonces_path(home), WINDOW))
    app = FastAPI(title="primex BCSS linkage service", version=__version__,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.bcss = state

    @app.exception_handler(PrimexError)
    async def primex_error(_request: Request, exc: PrimexError) -> JSONResponse:
        status = 400
        body: dict[str, Any] = {"detail": redact(exc.one_line())}
        if isinstance(exc, JobConflict):
            status, body["received"] = 409, exc.received
        elif isinstance(exc, IntegrityError):
            status = 409
        elif isinstance(exc, PermissionDenied):
            status = 403
        elif exc.what.startswith("unknown job"):
            status = 404
        return JSONResponse(body, status_code=status)

    @app.get("/bcss/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.put("/bcss/v1/jobs/{job}")
    async def create(job: str, request: Request, peer: str = Depends(caller)) -> Any:
        try:
            spec = json.loads(await request.body())
            created = state.jobs.create(job, str(spec["request"]), str(spec["sha256"]),
                                        int(spec["bytes"]), str(spec.get("kind", "coding")))
        except (ValueError, KeyError, TypeError):
            raise HTTPException(422, detail="body must be {request, sha256, bytes}") from None
        return created.status()

    @app.put("/bcss/v1/jobs/{job}/extract")
    async def upload(job: str, offset: int, request: Request,
                     peer: str = Depends(caller)) -> dict[str, int]:
        data = await request.body()
        if len(data) > MAX_CHUNK:
            raise HTTPException(413, detail=f"a chunk is at most {MAX_CHUNK} bytes")
        import anyio.to_thread

        held = await anyio.to_thread.run_sync(state.jobs.put_chunk, job, offset, data)
        return {"received": held}

    @app.get("/bcss/v1/jobs/{job}")
    def status(job: str, peer: str = Depends(caller)) -> Any:
        return state.jobs.open(job).status()

    @app.post("/bcss/v1/jobs/{job}/code")
    def code(job: str, peer: str = Depends(caller)) -> Any:
        return state.jobs.code(job, state.signer, state.passphrase)

    @app.get("/bcss/v1/jobs/{job}/files/{name}")
    def fetch(job: str, name: str, offset: int = 0, length: int = MAX_CHUNK,
              peer: str = Depends(caller)) -> Response:
        path = state.jobs.file(job, name)
        if offset < 0 or not 0 < length <= MAX_CHUNK:
            raise HTTPException(422, detail=f"0 <= offset, 0 < length <= {MAX_CHUNK}")
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read(length)
        return Response(data, media_type="application/octet-stream",
                        headers={"X-Total-Bytes": str(path.stat().st_size)})

    @app.post("/bcss/v1/jobs/{job}/sign-coding")
    async def sign_coding(job: str, request: Request, peer: str = Depends(caller)) -> Any:
        """Sign the SPP log's `coding` entry, if it records exactly this job's receipt."""
        try:
            draft = json.loads(await request.body())["draft"]
        except (ValueError, KeyError, TypeError):
            raise HTTPException(422, detail="body must be {draft}") from None
        j = state.jobs.open(job)
        signed = j.receipt()
        if j.spec.get("kind", "coding") != "coding":
            raise PermissionDenied("only a coding job has a log entry to sign", where="job")
        if signed is None:
            raise JobConflict("the job is not coded yet", j.received(), where="job")
        manifest = json.loads((j.out / "manifest.json").read_bytes())
        expected = coding_body(signed["receipt"], manifest, signed)
        if not isinstance(draft, dict) or draft.get("type") != "coding" \
                or draft.get("actor") != state.signer.name \
                or draft.get("request") != j.spec["request"] or draft.get("body") != expected:
            raise PermissionDenied("the draft is not the coding entry of this job's receipt",
                                   where="draft", hint="prepare it from the receipt")
        _check_time(draft.get("time"))
        signature = state.signer.sign(signed_bytes(draft))
        return {"signature": base64.b64encode(signature).decode()}

    return app


def _check_time(text: Any) -> None:
    try:
        when = datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise PermissionDenied("the draft's time is malformed", where="draft.time") from None
    now = datetime.now(UTC)
    if not now - timedelta(minutes=2) <= when <= now + timedelta(seconds=5):
        raise PermissionDenied("the draft's time is not now", where="draft.time",
                               hint="prepare it again")
