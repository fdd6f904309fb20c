"""The SPP's audit log served as C2SP tlog-tiles (c2sp.org/tlog-tiles), for the committee.

    GET  /tlog/checkpoint                     the log-signed checkpoint of the current size
    GET  /tlog/tile/<L>/<N>[.p/<W>]           hash tile: W (<= 256) node hashes of level 8L
    GET  /tlog/tile/entries/<N>[.p/<W>]       entry bundle: W entries, each u16-BE length||raw
    POST /tlog/cosignature                    the checkpoint with the committee's cosignature

<N> is written in 3-digit groups, all but the last prefixed with "x" (x001/x234/067); a
partial tile (.p/W) exists only at the right edge of the tree. An entry's Merkle leaf is
SHA-256(0x00 || raw entry line), so a client that reads the bundles recomputes every hash
itself. Unlike a public transparency log, the entries name requests and organisations: every
route needs a request signed by a committee key (the service's RFC 9421 profile). A
cosignature is stored only if it verifies with an active committee key of the log on a
checkpoint the log signed (it authenticates itself).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from primex.audit import merkle
from primex.audit.checkpoint import parse_checkpoint
from primex.errors import IntegrityError
from primex.service.identity import Actor, current_actor

TILE_WIDTH = 256
_INDEX = r"(?:x\d{3}/)*\d{3}"
_TILE = re.compile(rf"^(?P<level>\d|entries)/(?P<index>{_INDEX})(?:\.p/(?P<width>\d{{1,3}}))?$")

router = APIRouter(prefix="/tlog", tags=["committee"])


def encode_index(n: int) -> str:
    """tlog-tiles path form of a tile index: 1234067 -> x001/x234/067."""
    digits = f"{n:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    tail = "" if width == TILE_WIDTH else f".p/{width}"
    return f"{level}/{encode_index(index)}{tail}"


def parse_tile_path(path: str) -> tuple[str, int, int]:
    m = _TILE.match(path)
    if m is None:
        raise ValueError("not a tile path")
    index = int(m["index"].replace("x", "").replace("/", ""))
    width = int(m["width"]) if m["width"] else TILE_WIDTH
    if not 1 <= width <= TILE_WIDTH or (m["width"] and width == TILE_WIDTH):
        raise ValueError("partial width must be 1..255")
    return m["level"], index, width


def hash_tile(leaves: Sequence[bytes], level: int, index: int, width: int) -> bytes:
    """Node hashes of tree level 8*`level`, positions index*256 .. index*256+width-1."""
    span = TILE_WIDTH ** level
    first = index * TILE_WIDTH
    if (first + width) * span > len(leaves):
        raise LookupError("the tile is beyond the tree")
    if width != TILE_WIDTH and (first + width + 1) * span <= len(leaves):
        raise LookupError("a partial tile only at the right edge")
    return b"".join(merkle.root(leaves[(first + i) * span:(first + i + 1) * span])
                    for i in range(width))


def entry_bundle(raws: Sequence[bytes], index: int, width: int) -> bytes:
    first = index * TILE_WIDTH
    if first + width > len(raws):
        raise LookupError("the bundle is beyond the log")
    if width != TILE_WIDTH and first + width + 1 <= len(raws) and width != len(raws) - first:
        raise LookupError("a partial bundle only at the right edge")
    out = bytearray()
    for raw in raws[first:first + width]:
        if len(raw) > 0xFFFF:
            raise IntegrityError("an entry is longer than a tlog-tiles bundle allows",
                                 where=f"entry {raws.index(raw)}")
        out += struct.pack(">H", len(raw)) + raw
    return bytes(out)


def parse_bundle(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise IntegrityError("truncated entry bundle", where="tlog")
        (n,) = struct.unpack(">H", data[i:i + 2])
        if i + 2 + n > len(data):
            raise IntegrityError("truncated entry bundle", where="tlog")
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


def _committee(actor: Actor = Depends(current_actor)) -> Actor:
    if actor.role != "committee":
        raise HTTPException(403, detail="the log's tiles are served to the committee")
    return actor


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, actor: Actor = Depends(_committee)) -> PlainTextResponse:
    """The log-signed checkpoint of the log's current size."""
    with request.app.state.service.log() as log:
        cp = log.checkpoint()
    return PlainTextResponse(cp.text, headers={"Cache-Control": "no-store"})


@router.get("/tile/{path:path}")
def tile(path: str, request: Request, actor: Actor = Depends(_committee)) -> Response:
    try:
        level, index, width = parse_tile_path(path)
    except ValueError:
        raise HTTPException(404, detail="not a tile path") from None
    with request.app.state.service.log() as log:  # the same size as the checkpoint served
        entries = log.entries()
    try:
        if level == "entries":
            data = entry_bundle([e.raw for e in entries], index, width)
        else:
            data = hash_tile([e.leaf_hash for e in entries], int(level), index, width)
    except LookupError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return Response(data, media_type="application/octet-stream")


@router.post("/cosignature")
async def cosignature(request: Request, actor: Actor = Depends(_committee)) -> dict[str, int]:
    """Store the committee's cosignature on a checkpoint the log signed."""
    text = (await request.body()).decode("utf-8", "replace")
    cp = parse_checkpoint(text, where="cosignature")
    service = request.app.state.service
    with service.log() as log:
        stored = log.stored_checkpoint(cp.size)
        if stored is None or stored.root != cp.root:
            raise HTTPException(409, detail="not a checkpoint this log signed")
        info = log.registry.active(actor.key_name)
        theirs = [s for s in cp.signatures if s.name == actor.key_name]
        if info is None or not theirs:
            raise HTTPException(422, detail="no cosignature by your key on the checkpoint")
        merged = stored.with_signature(theirs[-1])
        if actor.key_name not in log.cosigners(merged):
            raise HTTPException(422, detail="the cosignature does not verify")
        log.add_cosignature(cp.size, theirs[-1])
    return {"size": cp.size}
