"""The committee's remote witness: `primex audit witness cosign --server URL`, on the
committee's machine with its own home (C2SP tlog-tiles + tlog-witness semantics).

1. fetch the SPP's checkpoint and check the log's signature with the key the committee
   trusts (recorded once in its own home, from `--trust-key`, compared out of band);
2. fetch the entry bundles the witness has not seen (tlog-tiles) and recompute every leaf
   hash; the ones it had cached must be byte-identical, the whole list must hash to the
   checkpoint's root, and the cached prefix to the root it cosigned last;
3. hand the checkpoint, the size it holds and a consistency proof from that size to the
   witness (primex.committee.witness.Witness.add_checkpoint: 409 on a rollback or a fork, 422
   on an inconsistent history), which cosigns and stores it in the committee's home;
4. send the cosigned checkpoint back; the SPP stores the cosignature (the release gate
   needs a fresh one).

The witness state (last cosigned checkpoint, leaf hashes seen) lives only at the committee,
so replacing the SPP's whole home cannot roll the log back unseen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from primex.atomic import write_bytes
from primex.audit import merkle
from primex.audit.checkpoint import Checkpoint, parse_checkpoint
from primex.audit.keys import Signer
from primex.committee.witness import Witness, WitnessError
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.home import Home
from primex.service.bcss_client import tls_context
from primex.service.client import RemoteClient
from primex.service.tlog_tiles import TILE_WIDTH, parse_bundle, tile_path


@dataclass(frozen=True)
class WitnessRun:
    checkpoint: Checkpoint
    previous_size: int
    fetched_entries: int


def _cache_path(witness: Witness, origin: str) -> Path:
    return witness.dir / f"{hashlib.sha256(origin.encode()).hexdigest()[:16]}.leaves"


def _cached(witness: Witness, origin: str, held: Checkpoint | None) -> list[bytes]:
    path = _cache_path(witness, origin)
    data = path.read_bytes() if path.exists() else b""
    leaves = [data[i:i + 32] for i in range(0, len(data), 32)]
    size = held.size if held is not None else 0
    if len(leaves) < size or (held is not None and merkle.root(leaves[:size]) != held.root):
        raise IntegrityError("the witness's cache of leaf hashes does not match the "
                             "checkpoint it cosigned", where=str(path),
                             hint="restore the committee's witness folder from its backup")
    return leaves[:size]


def witness_remote(home: Home, server: str, signer: Signer, *, trust_key: bytes | None = None,
                   ca: str | None = None) -> WitnessRun:
    """See the module docstring; raises WitnessError (with the tlog-witness status)."""
    if signer.role != "committee":
        raise PermissionDenied(f"the witness cosigns with a committee key, not {signer.name!r}",
                               where="--as")
    http = httpx.Client(timeout=30.0, verify=tls_context(ca))
    with RemoteClient(server, signer, http=http) as client:
        text = client.call("GET", "/tlog/checkpoint", raw=True).text
        try:
            cp = parse_checkpoint(text, where="the SPP's checkpoint")
        except IntegrityError as exc:
            raise WitnessError(400, f"malformed checkpoint ({exc.what})") from exc
        witness = Witness(home)
        if cp.origin not in witness.logs():
            if trust_key is None:
                raise WitnessError(404, f"the witness does not trust log {cp.origin!r} yet",
                                   hint="give --trust-key (the log key the SPP published, "
                                        "checked out of band) the first time")
            witness.trust_log(cp.origin, trust_key)
        held = witness.latest(cp.origin)
        leaves = _cached(witness, cp.origin, held)
        old = len(leaves)
        fetched = 0
        if cp.size > old:
            first = (old // TILE_WIDTH) * TILE_WIDTH
            new = leaves[:first]
            for index in range(first // TILE_WIDTH, (cp.size - 1) // TILE_WIDTH + 1):
                width = min(TILE_WIDTH, cp.size - index * TILE_WIDTH)
                data = client.call("GET", f"/tlog/tile/{tile_path('entries', index, width)}",
                                   raw=True).content
                raws = parse_bundle(data)
                if len(raws) != width:
                    raise WitnessError(400, f"entry bundle {index} holds {len(raws)} entries, "
                                            f"expected {width}")
                new += [merkle.leaf_hash(raw) for raw in raws]
                fetched += len(raws)
            if new[:old] != leaves:
                raise WitnessError(409, "fork: the log now serves other entries than the ones "
                                        "the witness cosigned")
            if merkle.root(new) != cp.root:
                raise WitnessError(422, "the entries served do not hash to the checkpoint's "
                                        "root")
            leaves = new
        proof = (merkle.consistency_proof(old, cp.size, leaves)
                 if 0 < old <= cp.size <= len(leaves) else [])
        sig = witness.add_checkpoint(cp.text, old, proof, signer)
        write_bytes(_cache_path(witness, cp.origin), b"".join(leaves[:cp.size]))
        cosigned = cp.with_signature(sig)
        try:
            _post_text(client, cosigned.text)
        except PrimexError as exc:
            raise PrimexError(f"cosigned, but the SPP did not store it: {exc.what}",
                              where=server, hint="run the witness again") from None
        return WitnessRun(cosigned, old, fetched)


def _post_text(client: RemoteClient, text: str) -> None:
    """POST the note as text (RemoteClient.call sends JSON payloads)."""
    import time

    from primex.service.httpsig import sign_request

    body = text.encode()
    request = client.http.build_request("POST", client.base + "/tlog/cosignature",
                                        content=body)
    signed = sign_request("POST", request.url.raw_path.decode("ascii"), body,
                          client.signer.name, client.signer, time.time())
    request.headers.update(signed.headers)
    request.headers["Content-Type"] = "text/plain; charset=utf-8"
    try:
        reply = client.http.send(request)
    except httpx.HTTPError as exc:
        raise PrimexError(f"cannot reach the service ({type(exc).__name__})") from None
    if reply.status_code >= 400:
        raise PrimexError(f"HTTP {reply.status_code}: {reply.text[:200]}")
