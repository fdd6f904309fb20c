"""The committee's witness as a service: C2SP tlog-witness ``add-checkpoint``
(c2sp.org/tlog-witness), run by `primex audit witness serve` on the committee's machine.

    POST /add-checkpoint             the log pushes a checkpoint with a consistency proof
    GET  /<sha256(origin) hex>/checkpoint   the last checkpoint cosigned for that log
    GET  /health

Request body of ``add-checkpoint`` (every line ends in a newline)::

    old <size the client believes the witness holds>
    <base64 consistency-proof hash>      (0 to 63 lines)
    <empty line>
    <the log-signed checkpoint note>

Answers, as the spec says:

* 200 ``text/plain``: the witness's cosignature line(s) (``— <name> <base64>``), after the
  new checkpoint was persisted (atomically) in the committee's home;
* 400 a malformed body, or an old size above the checkpoint's size (a rollback);
* 403 no valid signature by the log key the committee trusts for the origin;
* 404 an origin the committee does not witness;
* 409 ``text/x.tlog.size``: the old size is not the size the witness holds; the body is that
  size (the client proves from it and retries);
* 422 the consistency proof fails, a proof from size 0 is not empty, or the same size comes
  with another root (a fork).

There is no other authentication of the client (as in the spec): the witness trusts only
the log's signature on the checkpoint and its own record of what it cosigned. The record
(``home.witness/<origin slug>.checkpoint``) lives only here, so an SPP that replaced its
whole home cannot make the witness forget what it cosigned.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from primex.audit.checkpoint import parse_checkpoint
from primex.audit.keys import Signer
from primex.committee.witness import Witness, WitnessError
from primex.errors import IntegrityError
from primex.home import Home

MAX_PROOF_LINES = 63  # the spec's bound
MAX_BODY = 64 * 1024  # a checkpoint with a few signatures and 63 hashes is ~ 4 KiB
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body; WitnessError(400) naming the bad line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessError(400, "the body is not UTF-8 text") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessError(400, "no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    size_s = first[4:] if first.startswith("old ") else ""
    if not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise WitnessError(400, f"line 1 must be `old <size>`, not {first[:40]!r}")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(400, f"{len(lines) - 1} proof lines (at most {MAX_PROOF_LINES})")
    proof = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            h = base64.b64decode(line, validate=True)
        except binascii.Error:
            h = b""
        if len(h) != 32:
            raise WitnessError(400, f"line {n} is not a base64 SHA-256 hash")
        proof.append(h)
    return AddCheckpoint(int(size_s), tuple(proof), note)


def create_witness_app(home: Home, signer: Signer) -> FastAPI:
    """The witness service of the committee's `home`, cosigning with `signer`."""
    witness = Witness(home)
    app = FastAPI(title="primex committee witness", docs_url=None, redoc_url=None,
                  openapi_url=None)

    def add(body: bytes) -> str:
        req = parse_add_checkpoint(body)
        try:
            size = parse_checkpoint(req.note, where="checkpoint").size
        except IntegrityError as exc:
            raise WitnessError(400, f"malformed checkpoint ({exc.what})") from exc
        if req.old_size > size:
            raise WitnessError(400, f"old size {req.old_size} is above the checkpoint's size "
                                    f"{size} (a rollback)")
        sig = witness.add_checkpoint(req.note, req.old_size, req.proof, signer)
        return sig.line()

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():  # read at most MAX_BODY, whatever it declares
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request body too large\n", status_code=413)
        try:
            line = await run_in_threadpool(add, body)
        except WitnessError as exc:
            if exc.held_size is not None:
                return Response(f"{exc.held_size}\n", status_code=409, media_type=SIZE_TYPE)
            # the library's 409 for the same size with another root is the spec's 422
            status = 422 if exc.status == 409 else exc.status
            return PlainTextResponse(exc.reason + "\n", status_code=status)
        return PlainTextResponse(line)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "witness": signer.name}

    @app.get("/{origin_hash}/checkpoint")
    def checkpoint(origin_hash: str) -> Response:
        for origin in witness.logs():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                held = witness.latest(origin)
                if held is not None:
                    return PlainTextResponse(held.text)
        return PlainTextResponse("no checkpoint cosigned for that log\n", status_code=404)

    return app
