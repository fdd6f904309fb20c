"""The committee's witness (C2SP tlog-witness semantics): the local command, the pull
client (primex.service.witness_client) and the service the SPP pushes to
(:mod:`primex.committee.witness_service`) all decide here.

The committee keeps, under ``home.witness/``, the last checkpoint it cosigned for each log
(``<origin slug>.checkpoint``) and the log key it trusts (``logs.json``, recorded at
``primex audit witness init`` from the log's genesis entry: compare its key ID with the one
the SPP announced out of band). To cosign a new checkpoint it needs the size it holds
(``old_size``) and a consistency proof from that size; it answers like the HTTP witness:

* 400 malformed checkpoint or proof;
* 403 the log's signature does not verify (or the note has no known signature);
* 404 the origin is unknown to the witness;
* 409 ``old_size`` is not the size it holds, or the checkpoint is smaller (rollback,
  truncation) or the same size with another root (fork);
* 422 the consistency proof fails (the log rewrote history);

and otherwise stores the checkpoint (atomically, before answering) and returns a
``cosignature/v1`` signature line. The check of the held size and the write are one step
under a file lock (``.lock``), so concurrent requests cannot move the record backwards.
The service answers with the spec's statuses where they differ (a rollback is 400, a fork
at the same size 422).

API::

    w = Witness(home)                       # state under home.witness
    w.trust_log(origin, log_public_key)
    w.add_checkpoint(note_text, old_size, proof, signer) -> NoteSignature
    w.latest(origin) -> Checkpoint | None
    cosign_latest(home, signer) -> Checkpoint   # log.checkpoint() + proof + cosign + store

``cosign_latest`` refuses a revoked (or unregistered) committee key, and verifies the
signature of every entry the witness has not cosigned yet (with its request's history)
before cosigning: the committee never vouches for a forged entry.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from primex.atomic import write_bytes
from primex.audit import merkle
from primex.audit.checkpoint import (
    Checkpoint,
    NoteSignature,
    cosign,
    parse_checkpoint,
    read_checkpoint,
    verify_log_signature,
)
from primex.audit.keys import Signer, note_key_id
from primex.audit.trust import check_cosigner
from primex.errors import ConfigError, IntegrityError, PermissionDenied
from primex.home import Home


class WitnessError(IntegrityError):
    """The witness refused a checkpoint; `status` is the tlog-witness HTTP status.

    `held_size` is set only when the client's old size is not the witness's (the 409 whose
    body tells the client the size to prove from)."""

    def __init__(self, status: int, what: str, *, hint: str | None = None,
                 held_size: int | None = None) -> None:
        self.status = status
        self.held_size = held_size
        self.reason = what  # without the status: the HTTP service answers with its own
        super().__init__(f"witness refuses ({status}): {what}", where="witness", hint=hint)


EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962 2.1: the hash of the empty tree


def _slug(origin: str) -> str:
    return hashlib.sha256(origin.encode()).hexdigest()[:16]


class Witness:
    """The committee's witness state: trusted logs and the last cosigned checkpoint of each."""

    def __init__(self, home: Home) -> None:
        self.dir = home.witness
        self.config_path = self.dir / "logs.json"

    def logs(self) -> dict[str, bytes]:
        """origin -> trusted log public key."""
        if not self.config_path.exists():
            return {}
        try:
            data = json.loads(self.config_path.read_text("utf-8"))
            return {o: base64.b64decode(k, validate=True) for o, k in data.items()}
        except (ValueError, TypeError, AttributeError) as exc:  # not JSON, not a mapping...
            raise IntegrityError(
                f"the witness's trusted-log file is damaged ({type(exc).__name__})",
                where=str(self.config_path),
                hint="restore it from a backup, or rerun `primex audit witness init` after "
                "moving it away (compare the key ID it prints with the published one)",
            ) from exc

    def trust_log(self, origin: str, log_public_key: bytes) -> None:
        """Record the log key the witness trusts for `origin` (once; never silently changed)."""
        logs = self.logs()
        if origin in logs and logs[origin] != log_public_key:
            raise PermissionDenied(
                f"the witness already trusts another key for {origin!r}", where="witness",
                hint="a log key change needs the committee's decision: edit logs.json by hand",
            )
        logs[origin] = log_public_key
        self.dir.mkdir(parents=True, exist_ok=True)
        write_bytes(
            self.config_path,
            (json.dumps({o: base64.b64encode(k).decode() for o, k in logs.items()},
                        indent=2, sort_keys=True) + "\n").encode(),
        )

    def _state_path(self, origin: str) -> Path:
        return self.dir / f"{_slug(origin)}.checkpoint"

    def latest(self, origin: str) -> Checkpoint | None:
        path = self._state_path(origin)
        if not path.exists():
            return None
        return read_checkpoint(path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Check-then-persist under one lock (tlog-witness: otherwise two concurrent
        requests can roll the stored size back); a file lock, so two processes too."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+b") as fh:  # each call its own open file: threads
            # of one process exclude each other too (flock locks the open file description)
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def add_checkpoint(
        self, note_text: str, old_size: int, proof: Sequence[bytes], signer: Signer,
        *, now: int | None = None,
    ) -> NoteSignature:
        """Check a new checkpoint against the stored one and cosign it (see module doc)."""
        with self._locked():
            return self._add_checkpoint(note_text, old_size, proof, signer, now)

    def _add_checkpoint(
        self, note_text: str, old_size: int, proof: Sequence[bytes], signer: Signer,
        now: int | None,
    ) -> NoteSignature:
        try:
            cp = parse_checkpoint(note_text)
        except IntegrityError as exc:
            raise WitnessError(400, f"malformed checkpoint ({exc.what})") from exc
        trusted = self.logs().get(cp.origin)
        if trusted is None:
            raise WitnessError(
                404, f"unknown log origin {cp.origin!r}",
                hint="the committee must first `primex audit witness init` for this log",
            )
        try:
            verify_log_signature(cp, cp.origin, trusted)
        except IntegrityError as exc:
            raise WitnessError(403, exc.what) from exc
        held = self.latest(cp.origin)
        held_size = held.size if held is not None else 0
        if old_size != held_size:
            raise WitnessError(
                409, f"old size {old_size} is not the size the witness holds ({held_size})",
                hint="ask the log for a consistency proof from the witness's size",
                held_size=held_size,
            )
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise WitnessError(422, "a checkpoint of size 0 must carry the empty tree's root")
        if held_size == 0 and proof:
            raise WitnessError(422, "a consistency proof from size 0 must be empty")
        if cp.size < held_size:
            raise WitnessError(
                409, f"rollback: checkpoint size {cp.size} is below the cosigned {held_size}"
            )
        if held is not None:
            if cp.size == held_size and cp.root != held.root:
                raise WitnessError(
                    409, f"fork: another root for size {cp.size} than the one cosigned"
                )
            if held_size > 0:
                try:
                    merkle.verify_consistency(held_size, cp.size, proof, held.root, cp.root)
                except IntegrityError as exc:
                    raise WitnessError(
                        422, f"consistency proof from {held_size} to {cp.size} fails: "
                        f"{exc.what}",
                    ) from exc
        sig = cosign(cp, signer, int(time.time()) if now is None else now)
        self.dir.mkdir(parents=True, exist_ok=True)
        log_sig = [s for s in cp.signatures if s.name == cp.origin
                   and s.key_id == note_key_id(cp.origin, trusted)]
        stored = Checkpoint(cp.origin, cp.size, cp.root, (*log_sig, sig))
        write_bytes(self._state_path(cp.origin), stored.text.encode())  # before answering
        return sig


def cosign_latest(home: Home, signer: Signer) -> Checkpoint:
    """Committee convenience on one machine: checkpoint the log, prove consistency from
    the witness's size, cosign, and attach the cosignature to the log's stored checkpoint.

    The first time, the witness trusts the log key of the log's genesis entry (recorded in
    home.witness/logs.json; its key ID is printed by `primex audit witness init`).
    """
    from primex.audit.log import open_log  # the witness module must not need the log to load

    if signer.role != "committee":
        raise PermissionDenied(
            f"the witness cosigns with a committee key, not {signer.name!r} ({signer.role})",
            where="witness",
        )
    log = open_log(home)
    check_cosigner(log.registry, signer.name, signer.public_key_bytes)  # not revoked
    witness = Witness(home)
    held = witness.latest(log.origin)
    # never cosign over a forged entry the witness has not seen: checked before any write
    log.verify_range(held.size if held is not None else 0, len(log))
    if log.origin not in witness.logs():
        witness.trust_log(log.origin, log.log_key().public_key)
    try:
        cp = log.checkpoint()
    except (ConfigError, PermissionDenied):  # no log key on the committee's machine
        latest = log.latest_checkpoint()  # take the published one
        if latest is None:
            raise
        cp = latest
    if cp.size > len(log) or log.root(cp.size) != cp.root:
        raise WitnessError(
            409, f"the log's checkpoint of size {cp.size} is not the log's root at that size "
            "(rollback or rewritten history)",
        )
    held = witness.latest(log.origin)
    old = held.size if held is not None else 0
    if held is not None and 0 < old <= cp.size <= len(log):
        proof = log.consistency_proof(old, cp.size)
    else:
        proof = []
    if old <= cp.size <= len(log):  # entries appended meanwhile
        log.verify_range(old, cp.size)
    sig = witness.add_checkpoint(cp.text, old, proof, signer)
    return log.add_cosignature(cp.size, sig)
