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
* ``.lock``: the lock file writers hold (flock) while appending.

Entry 0 (genesis) registers the ``log`` key that signs checkpoints. Then, while no committee
key is registered, key_add entries are signed by the key they add (bootstrap); after that,
only committee keys change the registry.

API::

    log = open_log(home)
    entry = log.append("submission", None, {...}, signer)   # assigns the request id
    log.append("approval", entry.request, {...}, officer)   # PermissionDenied if not allowed
    with log.batch():                                        # group commit: one fsync
        ...
    log.entries(request=None) -> list[Entry]
    log.state(request) -> RequestState                       # .state .requester .spec_sha256
                                                             # .conditions .manifest_sha256
                                                             # .history
    log.register_key(identity, signer)                       # key_add
    log.revoke_key(name, reason, committee_signer)           # key_revoke
    log.checkpoint() -> Checkpoint                           # issue (or reuse) a signed one
    log.latest_checkpoint() / log.stored_checkpoints()
    log.inclusion_proof(seq, size) / log.consistency_proof(size1, size2) / log.root(size)
    log.witnessed_checkpoint(seq) -> Checkpoint | None       # cosigned, includes entry seq

Durability: an append holds the lock, re-reads what other writers added, checks the event
against the workflow, writes the line with one ``write`` to an O_APPEND descriptor and
fsyncs before returning (inside ``batch()`` the fsync happens once, when the block ends: the
entries are acknowledged then). A line without its final newline can only come from an
append that never returned; it is cut off (and saved under ``torn/``) the next time a
writer takes the lock. A complete line that does not parse is never repaired: the log is
refused with an IntegrityError naming the entry.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _q  # C; the canonical encoder's own
from pathlib import Path
from typing import Any

from primex.audit import files, merkle
from primex.audit.canonical import dumps, loads
from primex.audit.checkpoint import (
    Checkpoint,
    NoteSignature,
    read_checkpoint,
    sign_checkpoint,
    verify_cosignature,
    verify_log_signature,
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
from primex.audit.tree import MerkleTree
from primex.audit.workflow import (
    EVENT_TYPES,
    GLOBAL_EVENTS,
    KEY_EVENTS,
    KeyInfo,
    Registry,
    RequestState,
    apply_event,
    apply_global_event,
    apply_key_event,
)
from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError
from primex.home import Home

SIG_DOMAIN = b"primex-audit-entry/v1\n"
FIELDS = frozenset(
    {"v", "origin", "seq", "time", "type", "request", "prev", "body", "actor", "sig"}
)
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENTRIES = "entries.jsonl"


@dataclass(frozen=True)
class Entry:
    """One log entry. `leaf_hash` is its RFC 9162 leaf hash (bytes); `raw` its line."""

    seq: int
    time: str
    type: str
    request: str | None
    prev: str | None
    body: dict[str, Any]
    actor: str
    sig: str
    leaf_hash: bytes
    origin: str
    raw: bytes

    @property
    def leaf_hex(self) -> str:
        return self.leaf_hash.hex()

    def signed_bytes(self) -> bytes:
        return signed_bytes(loads(self.raw))


def signed_bytes(obj: dict[str, Any]) -> bytes:
    """What the actor signs: the domain prefix and the canonical entry without `sig`."""
    return SIG_DOMAIN + dumps({k: v for k, v in obj.items() if k != "sig"})


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_entry(raw: bytes, seq: int, origin: str | None) -> Entry:
    """Parse and structurally check line number `seq` (IntegrityError naming it)."""
    where = f"entry {seq}"
    obj = loads(raw, where=where)
    if not isinstance(obj, dict) or set(obj) != FIELDS:
        extra = sorted(set(obj) - FIELDS) if isinstance(obj, dict) else []
        missing = sorted(FIELDS - set(obj)) if isinstance(obj, dict) else sorted(FIELDS)
        raise IntegrityError(
            f"entry fields are wrong (missing {missing}, unexpected {extra})", where=where
        )
    if obj["v"] != 1:
        raise IntegrityError(f"unknown entry version {obj['v']!r}", where=where)
    if obj["seq"] != seq:
        raise IntegrityError(
            f"entry says seq {obj['seq']!r} but is line {seq} (deleted or reordered entries?)",
            where=where,
        )
    if origin is not None and obj["origin"] != origin:
        raise IntegrityError(
            f"entry belongs to another log (origin {obj['origin']!r})", where=where
        )
    if not isinstance(obj["origin"], str) or not obj["origin"]:
        raise IntegrityError("entry origin is missing", where=where)
    if not isinstance(obj["time"], str) or not TIME_RE.match(obj["time"]):
        raise IntegrityError(
            "entry time is not UTC ISO-8601 with microseconds and Z", where=where
        )
    if obj["type"] not in EVENT_TYPES:
        raise IntegrityError(f"unknown entry type {obj['type']!r}", where=where)
    req = obj["request"]
    if req is not None and (not isinstance(req, str) or not _ID.match(req)):
        raise IntegrityError("entry request id is malformed", where=where)
    prev = obj["prev"]
    if prev is not None and (not isinstance(prev, str) or not _HEX64.match(prev)):
        raise IntegrityError("entry prev is not a hex leaf hash", where=where)
    if not isinstance(obj["body"], dict) or not isinstance(obj["actor"], str):
        raise IntegrityError("entry body or actor is malformed", where=where)
    try:
        sig = base64.b64decode(obj["sig"], validate=True)
    except (binascii.Error, TypeError) as exc:
        raise IntegrityError("entry signature is not base64", where=where) from exc
    if len(sig) != 64:
        raise IntegrityError("entry signature is not 64 bytes", where=where)
    return Entry(
        seq=seq, time=obj["time"], type=obj["type"], request=req, prev=prev,
        body=obj["body"], actor=obj["actor"], sig=obj["sig"],
        leaf_hash=merkle.leaf_hash(raw), origin=obj["origin"], raw=raw,
    )


class AuditLog:
    """The log of one home. Use :func:`open_log`; safe for several writers (processes)."""

    def __init__(self, home: Home, *, keep_entries: bool = True) -> None:
        self.home = home
        self._keep = keep_entries  # the verifier replays huge logs without keeping entries
        self.dir = home.audit
        self.path = self.dir / ENTRIES
        self._lock_fd: int | None = None
        self._lock_depth = 0
        self._batch = False
        self._fd: int | None = None
        self._log_signer: Signer | None = None
        self._reset()

    # --- in-memory view -----------------------------------------------------------------
    def _reset(self) -> None:
        self._entries: list[Entry] = []
        self._tree = MerkleTree()
        self._registry = Registry()
        self._requests: dict[str, RequestState] = {}
        self._global_last: str | None = None
        self._last_time = ""
        self._offset = 0
        self._origin: str | None = None

    @property
    def origin(self) -> str:
        if self._origin is None:
            raise IntegrityError("the log has no genesis entry", where=str(self.path))
        return self._origin

    @property
    def registry(self) -> Registry:
        return self._registry

    @property
    def size(self) -> int:
        return len(self._tree)

    def __len__(self) -> int:
        return len(self._tree)

    def log_key(self) -> KeyInfo:
        """The registered key that signs checkpoints (the genesis `log` key)."""
        keys = self._registry.by_role("log")
        if not keys:
            raise IntegrityError("no active log key in the registry", where=str(self.path))
        return keys[0]

    # --- files and locking --------------------------------------------------------------
    def _open_fd(self) -> int:
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd

    def close(self) -> None:
        for attr in ("_fd", "_lock_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        if self._lock_fd is None:
            self._lock_fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._lock_depth = 1
        try:
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def refresh(self) -> None:
        """Read entries other writers appended since we last looked."""
        with self._locked():
            self._refresh()

    def _refresh(self) -> None:
        fd = self._open_fd()
        size = os.fstat(fd).st_size
        if size < self._offset:
            raise IntegrityError(
                f"the log shrank from {self._offset} to {size} bytes while open "
                "(truncation or rollback)", where=str(self.path),
            )
        if size == self._offset:
            return
        data = os.pread(fd, size - self._offset, self._offset)
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            self._repair_torn_tail(data[cut:], self._offset + cut)
            data = data[:cut]
        start = 0
        while start < len(data):
            end = data.index(b"\n", start)
            raw = data[start:end]
            entry = parse_entry(raw, len(self._tree), self._origin)
            self._apply(entry, strict_witness=False)
            self._offset += end + 1 - start
            start = end + 1

    def _repair_torn_tail(self, tail: bytes, keep: int) -> None:
        """Cut a half-written last line (an append that crashed before it returned)."""
        torn = self.dir / "torn"
        torn.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        (torn / f"at-byte-{keep}-{stamp}.bin").write_bytes(tail)
        os.ftruncate(self._open_fd(), keep)
        files.fsync(self._open_fd())

    # --- applying entries ---------------------------------------------------------------
    def _witness_check(self, strict: bool) -> Any:
        def check(size: int, root_b64: str, signoff_seq: int) -> None:
            where = f"checkpoint {size}"
            if size > len(self._tree):
                raise PermissionDenied(
                    f"the cited checkpoint (size {size}) is beyond the log ({len(self._tree)})",
                    where=where,
                )
            if base64.b64encode(self._tree.root(size)).decode() != root_b64:
                raise IntegrityError(
                    "the cited checkpoint's root is not this log's root at that size",
                    where=where,
                )
            if strict and self.witnessed_at(size) is None:
                raise PermissionDenied(
                    f"the cited checkpoint (size {size}) has no valid cosignature from the "
                    "committee's witness", where=where,
                    hint="run `primex audit witness cosign` (committee) first",
                )

        return check

    def _apply(self, entry: Entry, *, strict_witness: bool) -> KeyInfo:
        """Check `entry` against the log so far and add it; raise without changing anything."""
        where = f"entry {entry.seq}"
        if self._origin is None and (
            entry.seq != 0 or entry.type != "key_add" or entry.body.get("role") != "log"
        ):
            raise IntegrityError(
                    "the first entry must register the log key (genesis)", where=where
                )
        if entry.time < self._last_time:
            raise IntegrityError(
                f"time goes backwards ({entry.time} after {self._last_time})", where=where
            )
        chain_last = (
            self._global_last if entry.request is None
            else (self._requests[entry.request].last_leaf
                  if entry.request in self._requests else None)
        )
        if entry.prev != chain_last:
            raise IntegrityError(
                f"prev link broken for {entry.request or 'key events'} (reordered, deleted "
                "or inserted entry)", where=where,
            )
        if entry.type in KEY_EVENTS:
            if entry.request is not None:
                raise IntegrityError("key events carry no request id", where=where)
            signer = apply_key_event(
                self._registry, entry.type, entry.body, entry.actor, entry.seq, where
            )
            self._global_last = entry.leaf_hex
        elif entry.type in GLOBAL_EVENTS:
            if entry.request is not None:
                raise IntegrityError(f"{entry.type} carries no request id", where=where)
            signer = apply_global_event(
                self._registry, entry.type, entry.body, entry.actor, where
            )
            self._global_last = entry.leaf_hex
        else:
            if entry.request is None:
                raise IntegrityError(f"{entry.type} needs a request id", where=where)
            info = self._registry.keys.get(entry.actor)
            if info is None:
                raise PermissionDenied(
                    f"unknown key {entry.actor!r} (not in the registry)", where=where,
                    hint="register it with `primex keys init` (signed by the committee)",
                )
            st = self._requests.get(entry.request)
            st = apply_event(
                st, entry.request, entry.type, entry.body, info, entry.seq,
                self._witness_check(strict_witness),
            )
            self._requests[entry.request] = st
            if self._keep:
                st.history.append(entry)
            st.last_leaf = entry.leaf_hex
            signer = info
        if self._origin is None:
            self._origin = entry.origin
        if self._keep:
            self._entries.append(entry)
        self._tree.append(entry.leaf_hash)
        self._last_time = entry.time
        return signer

    # --- appending ----------------------------------------------------------------------
    def _new_request_id(self) -> str:
        year = datetime.now(UTC).year
        n = len(self._requests) + 1
        while f"REQ-{year}-{n:04d}" in self._requests:
            n += 1
        return f"REQ-{year}-{n:04d}"

    def append(
        self, type: str, request: str | None, body: dict[str, Any], signer: Signer
    ) -> Entry:
        """Sign and append one event; PermissionDenied/ValidationError if not allowed.

        A `submission` with request None gets a new request id (``REQ-<year>-<nnnn>``).
        Returns once the entry is on disk (fsync), or at the end of an enclosing batch().
        """
        with self._locked():
            if not self._batch:
                self._refresh()
            if self._origin is None:
                raise IntegrityError(
                    "the log has no genesis entry", where=str(self.path),
                    hint="open it with open_log(home)",
                )
            return self._append_locked(type, request, body, signer)

    def _append_locked(
        self, type: str, request: str | None, body: dict[str, Any], signer: Signer
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
        registered = self._registry.keys.get(signer.name)
        bootstrap = type == "key_add" and body.get("name") == signer.name
        if registered is None and not bootstrap:
            raise PermissionDenied(
                f"key {signer.name!r} is not registered in the audit log",
                where=f"request {request}" if request else type,
                hint="register it with `primex keys init` (signed by the committee)",
            )
        if registered is not None and registered.public_key != signer.public_key_bytes:
            raise PermissionDenied(
                f"key {signer.name!r} does not match the registered public key",
                where=signer.name, hint="use the key that was registered under this name",
            )
        seq = len(self._tree)
        chain = (
            self._global_last if request is None
            else (self._requests[request].last_leaf if request in self._requests else None)
        )
        # Encode the body once (canonical rules checked); the envelope fields are ids, names
        # and times this method produced or checked, spliced around it in sorted key order.
        body_json = dumps(body).decode("utf-8")
        body = json.loads(body_json)  # a private copy the caller cannot mutate
        time = max(utc_now(), self._last_time)
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
        self._apply(entry, strict_witness=True)  # raises before anything is written
        try:
            self._write(raw + b"\n")
        except OSError as exc:
            self._reset()  # memory ran ahead of the disk: re-read everything next time
            raise PrimexError(
                f"could not write the audit log ({exc.strerror})", where=str(self.path),
                hint="check disk space and permissions; the entry was not recorded",
            ) from exc
        self._offset += len(raw) + 1
        return entry

    def _write(self, line: bytes) -> None:
        fd = self._open_fd()
        view = memoryview(line)
        while view:
            n = os.write(fd, view)
            if n <= 0:
                raise OSError(errno.EIO, "short write")
            view = view[n:]
        if not self._batch:
            files.fsync(fd)

    @contextmanager
    def batch(self) -> Iterator[AuditLog]:
        """Group commit: appends inside the block are fsynced once, when it ends."""
        with self._locked():
            self._refresh()
            self._batch = True
            try:
                yield self
            finally:
                self._batch = False
                files.fsync(self._open_fd())

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
        raw = dumps(obj)
        self._write(raw + b"\n")
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            files.fsync(dir_fd)  # make the new file's directory entry durable too
        finally:
            os.close(dir_fd)

    # --- keys ---------------------------------------------------------------------------
    def register_key(self, identity: Identity, signer: Signer) -> Entry:
        """key_add: register `identity` (signed by a committee key, or by itself at bootstrap)."""
        return self.append("key_add", None, _key_body(identity), signer)

    def revoke_key(self, name: str, reason: str, signer: Signer) -> Entry:
        """key_revoke, signed by a committee key."""
        return self.append("key_revoke", None, {"name": name, "reason": reason}, signer)

    # --- reading ------------------------------------------------------------------------
    def entries(self, request: str | None = None) -> list[Entry]:
        """All entries, or those of one request, oldest first."""
        self.refresh()
        if request is None:
            return list(self._entries)
        st = self._requests.get(request)
        return list(st.history) if st else []

    def requests(self) -> list[str]:
        """The ids of all requests, in order of first submission."""
        self.refresh()
        return list(self._requests)

    def state(self, request: str) -> RequestState:
        """The state of `request`, derived from its entries."""
        self.refresh()
        st = self._requests.get(request)
        if st is None:
            raise PrimexError(
                f"unknown request {request!r}", where="request",
                hint="see `primex request status` for the known requests",
            )
        return st

    # --- Merkle tree --------------------------------------------------------------------
    def root(self, size: int | None = None) -> bytes:
        return self._tree.root(size)

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        return merkle.inclusion_proof(seq, len(self._tree) if size is None else size, self._tree)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        n = len(self._tree) if size2 is None else size2
        return merkle.consistency_proof(size1, n, self._tree)

    # --- checkpoints --------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.dir / "checkpoints"

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
        with self._locked():
            self._refresh()
            size = len(self._tree)
            existing = self.stored_checkpoint(size)
            if existing is not None:
                return existing
            cp = sign_checkpoint(self.origin, size, self._tree.root(), self._log_signer_loaded())
            self._store_checkpoint(cp)
            return cp

    def _store_checkpoint(self, cp: Checkpoint) -> None:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        files.atomic_write(self.checkpoint_dir / str(cp.size), cp.text.encode())
        latest = self.latest_checkpoint()
        if latest is None or latest.size <= cp.size:
            files.atomic_write(self.dir / "checkpoint", cp.text.encode())

    def stored_checkpoint(self, size: int) -> Checkpoint | None:
        path = self.checkpoint_dir / str(size)
        if not path.exists():
            return None
        return read_checkpoint(path)

    def stored_checkpoints(self) -> list[Checkpoint]:
        if not self.checkpoint_dir.is_dir():
            return []
        sizes = sorted(int(p.name) for p in self.checkpoint_dir.iterdir() if p.name.isdigit())
        return [cp for s in sizes if (cp := self.stored_checkpoint(s)) is not None]

    def latest_checkpoint(self) -> Checkpoint | None:
        path = self.dir / "checkpoint"
        if not path.exists():
            return None
        return read_checkpoint(path)

    def add_cosignature(self, size: int, sig: NoteSignature) -> Checkpoint:
        """Attach a witness cosignature to the stored checkpoint of `size`."""
        with self._locked():
            cp = self.stored_checkpoint(size)
            if cp is None:
                raise PrimexError(f"no stored checkpoint of size {size}", where="checkpoints")
            cp = cp.with_signature(sig)
            self._store_checkpoint(cp)
            return cp

    def cosigners(self, cp: Checkpoint) -> dict[str, int]:
        """Active committee keys with a valid cosignature on `cp` -> their timestamps."""
        out: dict[str, int] = {}
        for key in self._registry.by_role("committee"):
            ts = verify_cosignature(cp, key.name, key.public_key)
            if ts is not None:
                out[key.name] = ts
        return out

    def witnessed_at(self, size: int) -> Checkpoint | None:
        """The stored checkpoint of exactly `size` if it is this log's and witness-cosigned."""
        try:
            cp = self.stored_checkpoint(size)
        except IntegrityError:
            return None
        if cp is None or size > len(self._tree) or cp.root != self._tree.root(size):
            return None
        try:
            verify_log_signature(cp, self.origin, self.log_key().public_key)
        except IntegrityError:
            return None
        return cp if self.cosigners(cp) else None

    def witnessed_checkpoint(self, seq: int) -> Checkpoint | None:
        """The smallest witness-cosigned checkpoint that includes entry `seq`, or None."""
        if not self.checkpoint_dir.is_dir():
            return None
        sizes = sorted(
            int(p.name) for p in self.checkpoint_dir.iterdir()
            if p.name.isdigit() and int(p.name) > seq
        )
        for size in sizes:
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


def open_log(home: Home, *, create: bool = True) -> AuditLog:
    """Open (and, the first time, create) the audit log of `home`.

    Creating writes the genesis entry, which registers the `log` key (created under
    home.keys/log if missing). Reading replays every entry, checking its canonical form,
    position, prev link, time order and workflow rules (not signatures: that is
    `primex audit verify`); a damaged log raises IntegrityError naming the first bad entry.
    """
    log = AuditLog(home)
    if not log.path.exists() and not create:
        raise PrimexError(
            "no audit log yet", where=str(log.path),
            hint="it is created by the first `primex keys init`",
        )
    with log._locked():
        log._refresh()
        if not len(log._tree):
            log._genesis()
            log._refresh()
    return log
