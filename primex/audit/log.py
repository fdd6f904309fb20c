"""The audit log: append-only, signed, Merkle-tree, and the system of record of requests.

``open_log(home) -> AuditLog``. Files under ``home.audit/``:

* ``entries.jsonl``: one canonical JSON entry per line (format in docs/audit.md)::

      {"actor":..,"body":{..},"origin":..,"prev":<hex|null>,"request":<id|null>,
       "seq":<n>,"sig":<base64>,"time":"2026-11-24T10:00:00.000000Z","type":..,"v":1}

  ``sig`` is the actor's Ed25519 signature over ``b"primex-audit-entry/v1\\n"`` + the
  canonical entry without ``sig``; the Merkle leaf is RFC 9162 ``leaf_hash`` of the whole
  line (without its newline); ``prev`` is the leaf hash of the previous entry of the same
  request (or of the previous request-less entry, for key events); ``time`` is UTC,
  microseconds, never earlier than the previous entry's.
* ``checkpoints/<size>``: every checkpoint issued (C2SP signed notes, plus the committee
  witness's cosignatures once it has cosigned); ``checkpoint``: the latest.
* ``torn/``: bytes of a half-written tail cut off at open (a crash during an unacknowledged
  append), kept for inspection.
* ``.lock``: the lock file writers hold (flock, exclusive) while appending; readers hold
  it shared (on a read-only home without it they read unlocked, see primex.audit.store).

Entry 0 (genesis) registers the ``log`` key that signs checkpoints. Then, while no committee
key is registered, key_add entries are signed by the key they add (bootstrap); after that,
only committee keys change the registry.

API::

    log = open_log(home)
    entry = log.append("submission", None, {...}, signer)   # assigns the request id
    log.append("approval", entry.request, {...}, officer)   # PermissionDenied if not allowed
    with log.batch():                                        # group commit: one fsync
        ...
    log.entries(request=None) -> list[Entry]                 # signatures verified
    log.state(request) -> RequestState                       # .state .requester .spec_sha256
                                                             # .conditions .manifest_sha256
                                                             # .history (all verified)
    log.verified_history(request) -> trust.VerifiedHistory
    log.entry(seq) -> Entry                                  # verified
    log.register_key(identity, signer)                       # key_add
    log.revoke_key(name, reason, committee_signer)           # key_revoke
    log.checkpoint() -> Checkpoint                           # issue (or reuse) a signed one
    log.latest_checkpoint() / log.stored_checkpoints()
    log.inclusion_proof(seq, size) / log.consistency_proof(size1, size2) / log.root(size)
    log.witnessed_checkpoint(seq) -> Checkpoint | None       # cosigned, includes entry seq

Durability: an append holds the lock, re-reads what other writers added, checks the event
against the workflow, writes the line with one ``write`` to an O_APPEND descriptor and
fsyncs before returning (inside ``batch()`` the fsync happens once, when the block ends: the
entries are acknowledged then). A last line without its final newline is kept if it is a
complete entry (the next writer adds the newline); otherwise it can only come from an append
that never returned, and it is cut off (and saved under ``torn/``) the next time a writer
takes the lock. A complete line that does not parse is never repaired: the log is refused
with an IntegrityError naming the entry.

Trust: every state a caller can read is verified. Opening replays every entry with the rules
(time, chain, registry, workflow) and checks the signature of every key event at once (the
registry is what everything else relies on); ``state(request)``, ``entries(request)``,
``entry(seq)`` and ``append`` on a request first verify the signature of every entry of that
request's history (cached, so ~10 signatures once per request and open). A forged entry is
refused with an IntegrityError naming it; nothing is acted on. The decisions themselves are
in :mod:`primex.audit.trust`, the replay in :mod:`primex.audit.state`, the file in
:mod:`primex.audit.store`.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from json.encoder import encode_basestring as _q  # C; the canonical encoder's own
from pathlib import Path
from typing import Any

from primex.audit import merkle, trust
from primex.audit.canonical import dumps
from primex.audit.checkpoint import (
    Checkpoint,
    NoteSignature,
    sign_checkpoint,
)
from primex.audit.entry import (
    SIG_DOMAIN,
    TIME_RE,
    Entry,
    parse_entry,
    signed_bytes,
    utc_now,
)
from primex.audit.keys import (
    LOG_KEY_NAME,
    Identity,
    Signer,
    check_name,
    create_identity,
    load_identity,
    load_signer,
)
from primex.audit.reasons import Forbidden, Reason
from primex.audit.state import LogState
from primex.audit.store import ENTRIES, CheckpointFiles, LogFile
from primex.audit.workflow import (
    EVENT_TYPES,
    GLOBAL_EVENTS,
    KEY_EVENTS,
    KeyInfo,
    Registry,
    RequestState,
    WitnessCheck,
)
from primex.errors import IntegrityError, PrimexError, ValidationError
from primex.home import Home
from primex.redact import niss_like_spans

__all__ = [
    "ENTRIES", "SIG_DOMAIN", "AuditLog", "Entry", "open_log", "parse_entry", "signed_bytes",
    "utc_now",
]


class AuditLog:
    """The log of one home. Use :func:`open_log`; safe for several writers (processes)."""

    def __init__(self, home: Home, *, keep_entries: bool = True) -> None:
        self.home = home
        self._keep = keep_entries
        self.dir = home.audit
        self.file = LogFile(self.dir)
        self.path = self.file.path
        self.checkpoints = CheckpointFiles(self.dir)
        self._batch = False
        self._log_signer: Signer | None = None
        self._reset()

    # --- in-memory view -----------------------------------------------------------------
    def _reset(self) -> None:
        self._state = LogState(keep=self._keep)
        self._offset = 0
        self._unterminated = False  # the last entry read had no newline (yet)
        self._torn: bytes | None = None  # a half-written tail after the last entry
        self._verified: dict[str, int] = {}  # request -> entries of its history verified

    @property
    def origin(self) -> str:
        if self._state.origin is None:
            raise IntegrityError("the log has no genesis entry", where=str(self.path))
        return self._state.origin

    @property
    def registry(self) -> Registry:
        """The key registry; every key event in it was signature-checked at replay."""
        return self._state.registry

    @property
    def size(self) -> int:
        return self._state.size

    def __len__(self) -> int:
        return self._state.size

    def log_key(self) -> KeyInfo:
        """The registered key that signs checkpoints (the genesis `log` key)."""
        keys = self.registry.by_role("log")
        if not keys:
            raise IntegrityError("no active log key in the registry", where=str(self.path))
        return keys[0]

    # --- files and locking --------------------------------------------------------------
    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Read entries other writers appended since we last looked."""
        with self.file.locked(exclusive=False):
            self._refresh()

    def _refresh(self) -> None:
        data, tail = self.file.read_from(self._offset)
        if self._unterminated and data.startswith(b"\n"):
            data, self._offset = data[1:], self._offset + 1  # a writer added its newline
            self._unterminated = False
        start = 0
        while start < len(data):
            end = data.index(b"\n", start)
            self._apply_line(data[start:end])
            self._offset += end + 1 - start
            start = end + 1
        self._torn = None
        if tail and not self._unterminated:
            entry = self._complete_entry(tail)
            if entry is not None:  # complete and valid: only its newline is missing
                self._apply_checked(entry)
                self._offset += len(tail)
                self._unterminated = True
            else:
                self._torn = tail  # cut by the next write, never by a reader

    def _write(self, line: bytes, *, sync: bool) -> None:
        """Append under the exclusive lock; first finish or cut what the last writer left."""
        if self._unterminated:
            self.file.write(b"\n", sync=False)
            self._offset += 1
            self._unterminated = False
        elif self._torn is not None:
            self.file.cut_tail(self._torn, self._offset)
            self._torn = None
        self.file.write(line, sync=sync)

    def _complete_entry(self, tail: bytes) -> Entry | None:
        """`tail` as an entry if it is one complete, well-formed line (a prefix of a
        canonical line never parses: its closing brace comes last)."""
        try:
            return parse_entry(tail, self.size, self._state.origin)
        except PrimexError:
            return None

    def _apply_line(self, raw: bytes) -> None:
        self._apply_checked(parse_entry(raw, self.size, self._state.origin))

    def _apply_checked(self, entry: Entry, *, strict_witness: bool = False) -> KeyInfo:
        return self._state.apply(entry, self._witness_check(strict_witness))

    # --- applying entries ---------------------------------------------------------------
    def _witness_check(self, strict: bool) -> WitnessCheck:
        def check(size: int, root_b64: str, signoff_seq: int) -> None:
            where = f"checkpoint {size}"
            if size > self.size:
                raise Forbidden(
                    Reason.WORKFLOW,
                    f"the cited checkpoint (size {size}) is beyond the log ({self.size})",
                    where=where,
                )
            if base64.b64encode(self._state.tree.root(size)).decode() != root_b64:
                raise IntegrityError(
                    "the cited checkpoint's root is not this log's root at that size",
                    where=where,
                )
            if strict and self.witnessed_at(size) is None:
                raise Forbidden(
                    Reason.WORKFLOW,
                    f"the cited checkpoint (size {size}) has no valid cosignature from the "
                    "committee's witness",
                    where=where,
                    hint="run `primex audit witness cosign` (committee), then retry",
                )

        return check

    # --- verified reading ---------------------------------------------------------------
    def _verify(self, request: str, st: RequestState) -> None:
        done = self._verified.get(request, 0)
        if done < len(st.history):
            trust.check_history(st.history[done:], self.registry)
            self._verified[request] = len(st.history)

    def verified_history(self, request: str) -> trust.VerifiedHistory:
        """`request`'s state and entries, every signature verified (Untrusted if not)."""
        st = self.state(request)
        return trust.VerifiedHistory(request, st, tuple(st.history))

    def entries(self, request: str | None = None) -> list[Entry]:
        """All entries, or those of one request, oldest first; every signature verified."""
        self.refresh()
        if request is None:
            for rid, st in self._state.requests.items():
                self._verify(rid, st)
            return list(self._state.entries)
        st = self._state.requests.get(request)
        if st is None:
            return []
        self._verify(request, st)
        return list(st.history)

    def entry(self, seq: int) -> Entry:
        """Entry `seq`, its signature verified (with the rest of its request's history)."""
        entry = self._state.entries[seq]
        if entry.request is not None:
            self._verify(entry.request, self._state.requests[entry.request])
        return entry

    def latest(self, limit: int, request: str | None = None) -> list[Entry]:
        """The last `limit` entries (0: all), or of one request; only those (and their
        requests' histories) are signature-checked, so a listing of a huge log stays fast."""
        if request is not None:
            found = self.entries(request)
            return found[-limit:] if limit else found
        self.refresh()
        chosen = self._state.entries[-limit:] if limit else self._state.entries
        if chosen:
            self.verify_range(chosen[0].seq, chosen[-1].seq + 1)
        return list(chosen)

    def key_events(self) -> list[Entry]:
        """The key_add / key_revoke entries (signature-checked when they were replayed)."""
        self.refresh()
        return [e for e in self._state.entries if e.request is None]

    def verify_range(self, start: int, end: int) -> None:
        """Verify the signature of every entry in [start, end) (with their requests'
        histories): what a witness checks before it cosigns a checkpoint of size `end`."""
        self.refresh()
        touched = {e.request for e in self._state.entries[start:end] if e.request is not None}
        for rid in sorted(touched):
            self._verify(rid, self._state.requests[rid])

    def requests(self) -> list[str]:
        """The ids of all requests, in order of first submission."""
        self.refresh()
        return list(self._state.requests)

    def state(self, request: str) -> RequestState:
        """The state of `request`, derived from its entries, all signatures verified."""
        self.refresh()
        st = self._state.requests.get(request)
        if st is None:
            raise PrimexError(
                f"unknown request {request!r}", where="request",
                hint="see `primex request status` for the known requests",
            )
        self._verify(request, st)
        return st

    # --- appending ----------------------------------------------------------------------
    def _new_request_id(self) -> str:
        year = datetime.now(UTC).year
        n = len(self._state.requests) + 1
        while f"REQ-{year}-{n:04d}" in self._state.requests:
            n += 1
        return f"REQ-{year}-{n:04d}"

    def append(
        self, type: str, request: str | None, body: dict[str, Any], signer: Signer,
        *, time: str | None = None,
    ) -> Entry:
        """Sign and append one event; PermissionDenied/ValidationError if not allowed.

        A `submission` with request None gets a new request id (``REQ-<year>-<nnnn>``).
        `time` (UTC, microseconds, Z) is for an entry the actor signed elsewhere (the
        service's prepare/commit): the time they signed; never earlier than the last entry.
        Returns once the entry is on disk (fsync), or at the end of an enclosing batch().
        Appending to a request first verifies its whole history (nothing is added on top
        of a forged entry).
        """
        if time is not None and not TIME_RE.match(time):
            raise ValidationError("entry time is not UTC ISO-8601 with microseconds and Z",
                                  where="append", hint="e.g. 2026-11-24T10:00:00.000000Z")
        with self.file.locked(exclusive=True):
            if not self._batch:
                self._refresh()
            if self._state.origin is None:
                raise IntegrityError(
                    "the log has no genesis entry", where=str(self.path),
                    hint="open it with open_log(home)",
                )
            return self._append_locked(type, request, body, signer, time)

    def _append_locked(
        self, type: str, request: str | None, body: dict[str, Any], signer: Signer,
        time: str | None = None,
    ) -> Entry:
        if type not in EVENT_TYPES:
            raise ValidationError(
                f"unknown event type {type!r}", where="append",
                hint=f"one of: {', '.join(EVENT_TYPES)}",
            )
        if type == "submission" and request is None:
            request = self._new_request_id()
        if request is not None:
            check_name(request, "request id")
            if type in KEY_EVENTS or type in GLOBAL_EVENTS:
                raise ValidationError(f"{type} carries no request id", where=type)
        elif type not in KEY_EVENTS and type not in GLOBAL_EVENTS:
            raise ValidationError(f"{type} needs a request id", where=type)
        trust.check_signer_key(
            self.registry, signer.name, signer.public_key_bytes, type, body,
            f"request {request}" if request else type,
        )
        _refuse_national_numbers(type, request, body)
        if request is not None and request in self._state.requests:
            self._verify(request, self._state.requests[request])
        seq = self.size
        chain = self._state.chain_last(request)
        # Encode the body once (canonical rules checked); the envelope fields are ids, names
        # and times this method produced or checked, spliced around it in sorted key order.
        body_json = dumps(body).decode("utf-8")
        body = json.loads(body_json)  # a private copy the caller cannot mutate
        time = time or max(utc_now(), self._state.last_time)
        head = (
            f'{{"actor":{_q(signer.name)},"body":{body_json},"origin":{_q(self.origin)},'
            f'"prev":{"null" if chain is None else _q(chain)},'
            f'"request":{"null" if request is None else _q(request)},"seq":{seq}'
        )
        tail = f',"time":{_q(time)},"type":{_q(type)},"v":1}}'
        sig = base64.b64encode(signer.sign(SIG_DOMAIN + (head + tail).encode())).decode()
        raw = (head + f',"sig":{_q(sig)}' + tail).encode()
        entry = Entry(
            seq=seq, time=time, type=type, request=request, prev=chain, body=body,
            actor=signer.name, sig=sig, leaf_hash=merkle.leaf_hash(raw), origin=self.origin,
            raw=raw,
        )
        self._apply_checked(entry, strict_witness=True)  # raises before anything is written
        try:
            self._write(raw + b"\n", sync=not self._batch)
        except OSError as exc:
            self._reset()  # memory ran ahead of the disk: re-read everything next time
            raise PrimexError(
                f"could not write the audit log ({exc.strerror})", where=str(self.path),
                hint="check disk space and permissions; the entry was not recorded",
            ) from exc
        self._offset += len(raw) + 1
        if request is not None:  # our own signature: no need to check it again
            self._verified[request] = len(self._state.requests[request].history)
        return entry

    @contextmanager
    def batch(self) -> Iterator[AuditLog]:
        """Group commit: appends inside the block are fsynced once, when it ends."""
        with self.file.locked(exclusive=True):
            self._refresh()
            self._batch = True
            try:
                yield self
            finally:
                self._batch = False
                self.file.sync()

    def _genesis(self) -> None:
        """Create entry 0: the log key registering itself, with a fresh origin."""
        try:
            identity = load_identity(self.home, LOG_KEY_NAME)
        except PrimexError:
            identity = create_identity(self.home, "log", LOG_KEY_NAME, None)
        signer = load_signer(self.home, LOG_KEY_NAME)
        origin = f"audit.primex.local/{secrets.token_hex(8)}"
        body = {**_key_body(identity), "origin": origin}
        obj: dict[str, Any] = {
            "v": 1, "origin": origin, "seq": 0, "time": utc_now(), "type": "key_add",
            "request": None, "prev": None, "body": body, "actor": signer.name,
        }
        obj["sig"] = base64.b64encode(signer.sign(signed_bytes(obj))).decode()
        self._write(dumps(obj) + b"\n", sync=True)
        self.file.sync_dir()  # make the new file's directory entry durable too

    # --- keys ---------------------------------------------------------------------------
    def register_key(self, identity: Identity, signer: Signer) -> Entry:
        """key_add: register `identity` (signed by a committee key, or by itself at bootstrap)."""
        return self.append("key_add", None, _key_body(identity), signer)

    def revoke_key(self, name: str, reason: str, signer: Signer) -> Entry:
        """key_revoke, signed by a committee key."""
        return self.append("key_revoke", None, {"name": name, "reason": reason}, signer)

    # --- Merkle tree --------------------------------------------------------------------
    def root(self, size: int | None = None) -> bytes:
        return self._state.tree.root(size)

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        return merkle.inclusion_proof(seq, self.size if size is None else size, self._state.tree)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        n = self.size if size2 is None else size2
        return merkle.consistency_proof(size1, n, self._state.tree)

    # --- checkpoints --------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.checkpoints.dir

    def _log_signer_loaded(self) -> Signer:
        if self._log_signer is None:
            info = self.log_key()
            signer = load_signer(self.home, info.name)
            if signer.public_key_bytes != info.public_key:
                raise IntegrityError(
                    "the log key on disk is not the registered log key", where="keys/log"
                )
            self._log_signer = signer
        return self._log_signer

    def checkpoint(self) -> Checkpoint:
        """A log-signed checkpoint of the current size (stored; reused if it exists)."""
        with self.file.locked(exclusive=True):
            self._refresh()
            existing = self.stored_checkpoint(self.size)
            if existing is not None and existing.root == self.root():
                return existing
            if existing is not None:  # never sign a second root for one size (a fork)
                raise IntegrityError(
                    f"the stored checkpoint of size {self.size} has another root than the "
                    "log: entries were removed or rewritten and others appended since",
                    where=str(self.checkpoints.dir / str(self.size)),
                    hint="the committee runs `primex audit verify`; keep a copy of the log",
                )
            cp = sign_checkpoint(self.origin, self.size, self.root(), self._log_signer_loaded())
            self.checkpoints.store(cp)
            return cp

    def stored_checkpoint(self, size: int) -> Checkpoint | None:
        return self.checkpoints.get(size)

    def stored_checkpoints(self) -> list[Checkpoint]:
        return self.checkpoints.all()

    def latest_checkpoint(self) -> Checkpoint | None:
        return self.checkpoints.latest()

    def add_cosignature(self, size: int, sig: NoteSignature) -> Checkpoint:
        """Attach a witness cosignature to the stored checkpoint of `size`."""
        with self.file.locked(exclusive=True):
            cp = self.stored_checkpoint(size)
            if cp is None:
                raise PrimexError(f"no stored checkpoint of size {size}", where="checkpoints")
            cp = cp.with_signature(sig)
            self.checkpoints.store(cp)
            return cp

    def cosigners(self, cp: Checkpoint) -> dict[str, int]:
        """Active committee keys with a valid cosignature on `cp` -> their timestamps."""
        return trust.cosigners(cp, self.registry)

    def witnessed_at(self, size: int) -> Checkpoint | None:
        """The stored checkpoint of exactly `size` if it is this log's and witness-cosigned."""
        try:
            cp = self.stored_checkpoint(size)
        except IntegrityError:
            return None
        if cp is None or size > self.size:
            return None
        witnessed = trust.is_witnessed(
            cp, self.root(size), self.origin, self.log_key().public_key, self.registry
        )
        return cp if witnessed else None

    def witnessed_checkpoint(self, seq: int) -> Checkpoint | None:
        """The smallest witness-cosigned checkpoint that includes entry `seq`, or None."""
        for size in self.checkpoints.sizes(above=seq):
            cp = self.witnessed_at(size)
            if cp is not None:
                return cp
        return None


def _key_body(identity: Identity) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": identity.name,
        "role": identity.role,
        "person": identity.person,
        "ed25519": base64.b64encode(identity.public_key_bytes).decode(),
    }
    if identity.encryption_public_key is not None:
        body["x25519"] = identity.encryption_public_key
    return body


# Fields people type (reasons, notes, comments, titles): the log is immutable, so a national
# number typed into one would stay there for good. Hashes, ids and counts are not free text.
FREE_TEXT_FIELDS = frozenset({"title", "reasons", "reason", "notes", "comment", "text"})


def _free_texts(value: Any, field: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _free_texts(item, key if key in FREE_TEXT_FIELDS else field)
    elif isinstance(value, list):
        for item in value:
            yield from _free_texts(item, field)
    elif isinstance(value, str) and field is not None:
        yield field, value


def _refuse_national_numbers(type: str, request: str | None, body: dict[str, Any]) -> None:
    for field, text in _free_texts(body):
        if niss_like_spans(text):
            raise ValidationError(
                f"the {field} of this {type} looks like it holds a national number (NISS)",
                where=f"request {request}" if request else type,
                hint="never write a person's number into the log; describe the case instead",
            )


def open_log(home: Home, *, create: bool = True) -> AuditLog:
    """Open (and, the first time, create) the audit log of `home`.

    Creating writes the genesis entry, which registers the `log` key (created under
    home.keys/log if missing). Reading replays every entry, checking its canonical form,
    position, prev link, time order, workflow rules and the signature of every key event;
    request entries are signature-checked when their request is read (see the module
    docstring). A damaged log raises IntegrityError naming the first bad entry. Opening an
    existing log writes nothing (a read-only home works).
    """
    log = AuditLog(home)
    exists = log.path.exists()
    if not exists and not create:
        raise PrimexError(
            "no audit log yet", where=str(log.path),
            hint="it is created by the first `primex keys init`",
        )
    if exists:
        log.refresh()
    if create and (not exists or not log.size):
        with log.file.locked(exclusive=True):
            log._refresh()
            if not log.size:
                log._genesis()
                log._refresh()
    return log

