"""The committee's verification: replay the whole log and check everything.

``verify_log(home, full=False, extra_checkpoints=()) -> VerifyResult``; the result names
the first failing entry (or checkpoint) and why. Checks, in order, per entry:

1. ``entry``: canonical JSON, exact fields, ``seq`` = line number, same origin, time format;
2. ``time``: never earlier than the previous entry;
3. ``chain``: ``prev`` is the leaf hash of the previous entry of the same request;
4. ``registry``/``workflow``: the key exists and is active *at that point* of the log, its
   role may record this event in the request's current state, separation of duties, hash
   bindings (approval ↔ submission spec, output check/sign-off/release ↔ the passed
   disclosure result's manifest, a release cites a witness-cosigned checkpoint that
   includes the sign-off, an access names a released file);
5. ``signature``: the actor's Ed25519 signature over the entry.

Then over the tree (RFC 9162): every stored checkpoint (``checkpoint``: log signature,
origin, size not beyond the log (truncation), root equal to the log's root at that size
(rewrite)), the committee witness's stored checkpoint (``witness``: the same, so a rollback
or a rewritten history is caught even if the log's own checkpoint files were replaced), any
checkpoint handed in by researchers (``fork``: two roots for one size).

Speed: a full replay checks every Ed25519 signature (≈ 9 k/s per core on an idle machine
here, spread over every core for big logs: minutes for 1 M entries) and parses every entry
strictly. The committee rarely needs that: after every successful run the verifier records
what it verified (:mod:`primex.audit.resume`, under ``home.witness/verified/``). The next
run hashes the verified prefix of the log in one pass; if the bytes are unchanged it resumes
from the recorded state and checks only the new entries in full; checkpoints and the witness
are always checked in full. If any old byte changed, it says so and replays everything.
``full=True`` (``--full``) always replays everything.
"""

from __future__ import annotations

import base64
import json
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from primex.audit import merkle, resume
from primex.audit.checkpoint import Checkpoint, parse_checkpoint, verify_log_signature
from primex.audit.keys import verify_signature
from primex.audit.log import ENTRIES, SIG_DOMAIN, AuditLog, parse_entry
from primex.audit.witness import Witness
from primex.errors import IntegrityError, PrimexError
from primex.home import Home


@dataclass(frozen=True)
class Failure:
    check: str  # entry time chain registry workflow signature checkpoint witness fork tail
    message: str
    seq: int | None = None  # the failing entry, if the failure is about one entry

    def line(self) -> str:
        at = f"entry {self.seq}" if self.seq is not None else "log"
        return f"{at}: {self.check} check failed: {self.message}"


@dataclass
class VerifyResult:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signatures_verified: int = 0
    signatures_covered: int = 0  # skipped: covered by the committee's verified root
    checkpoints_checked: int = 0
    witnessed_size: int | None = None
    requests: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_failure(self) -> Failure | None:
        return self.failures[0] if self.failures else None


def _bad_signature(actor: str, seq: int) -> Failure:
    return Failure(
        "signature", f"the signature by {actor!r} does not verify (entry altered, or signed "
        "by another key)", seq,
    )


def _classify(exc: PrimexError) -> str:
    text = exc.what
    if "time goes backwards" in text:
        return "time"
    if "prev link" in text:
        return "chain"
    if (
        "unknown key" in text or "revoked" in text or "committee key" in text
        or "bootstrap" in text or "already registered" in text
    ):
        return "registry"
    return "workflow"


_PARALLEL_MIN = 20_000  # below this, forking workers costs more than it saves
_SHARED: tuple[list[bytes], list[bytes], int] = ([], [], 0)  # lines, keys, first seq


def _check_range(bounds: tuple[int, int]) -> int | None:
    """Worker: verify the signatures of _SHARED entries [a, b); first bad seq or None."""
    lines, pubs, first = _SHARED
    cache: dict[bytes, Ed25519PublicKey] = {}
    for k in range(*bounds):
        raw, pub = lines[k], pubs[k]
        key = cache.get(pub) or cache.setdefault(pub, Ed25519PublicKey.from_public_bytes(pub))
        i = raw.rfind(b',"sig":"')
        j = raw.index(b'"', i + 8)
        try:
            key.verify(base64.b64decode(raw[i + 8 : j]), _signed_bytes(raw))
        except InvalidSignature:
            return first + k
    return None


def _parallel_signatures(lines: list[bytes], pubs: list[bytes], first: int) -> int | None:
    """Check many signatures on every core (fork: the workers share the lines)."""
    global _SHARED
    workers = max(1, min(os.cpu_count() or 1, 8))
    n = len(pubs)
    chunks = [(n * i // (workers * 4), n * (i + 1) // (workers * 4))
              for i in range(workers * 4)]
    _SHARED = (lines, pubs, first)
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            bad = [b for b in pool.map(_check_range, chunks) if b is not None]
    finally:
        _SHARED = ([], [], 0)
    return min(bad) if bad else None


def _signed_bytes(raw: bytes) -> bytes:
    """The signed message, cut out of the canonical line (`sig` sits between `seq` and
    `time` in sorted key order, and nothing after it can contain `,"sig":"`)."""
    i = raw.rfind(b',"sig":"')
    j = raw.index(b'"', i + 8) + 1
    return SIG_DOMAIN + raw[:i] + raw[j:]


def _check_checkpoint(
    log: AuditLog, cp: Checkpoint, label: str, result: VerifyResult, check: str
) -> None:
    try:
        verify_log_signature(cp, log.origin, log.log_key().public_key)
    except IntegrityError as exc:
        result.failures.append(Failure(check, f"{label}: {exc.what}"))
        return
    if cp.size > log.size:
        result.failures.append(Failure(
            check,
            f"{label} has size {cp.size} but the log has only {log.size} entries "
            "(truncated or rolled back)",
        ))
        return
    if log.root(cp.size) != cp.root:
        result.failures.append(Failure(
            check,
            f"{label} (size {cp.size}) has another root than the log at that size "
            "(history rewritten, or a fork)",
        ))


def verify_log(
    home: Home,
    *,
    full: bool = False,
    extra_checkpoints: Sequence[str] = (),
    record: bool = True,
) -> VerifyResult:
    """Replay and check the log of `home` (see the module docstring)."""
    started = time.perf_counter()
    result = VerifyResult()
    path = home.audit / ENTRIES
    if not path.exists():
        result.failures.append(Failure("entry", f"no audit log at {path}"))
        return result
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        complete = data.count(b"\n", 0, cut)
        result.warnings.append(
            f"half-written tail of {len(data) - cut} bytes after entry "
            f"{complete - 1}: an append that never completed (never "
            "acknowledged); it is ignored here and cut off by the next writer"
        )
        data = data[:cut]
    log = AuditLog(home, keep_entries=False)  # in-memory replay, the rules of append
    rec, why = (None, None) if full else resume.load(home, data)
    if why:
        result.warnings.append(why)
    start = 0
    untouched: dict[str, bytes] = {}
    if rec is not None:  # resume after the prefix the committee verified before
        log._tree, log._registry, log._origin = rec.tree, rec.registry, rec.origin
        log._global_last, log._last_time = rec.global_last, rec.last_time
        start = rec.size
        result.signatures_covered = start
        lines = data[rec.prefix_bytes :].split(b"\n")[:-1]
        untouched = rec.rows
        for raw in lines:  # decode only the requests the new entries touch
            try:
                rid = json.loads(raw).get("request")
            except (ValueError, AttributeError):
                continue  # the replay below reports it
            if isinstance(rid, str) and rid in untouched:
                st = rec.materialise(rid)
                del untouched[rid]
                if st is not None:
                    log._requests[rid] = st
    else:
        lines = data.split(b"\n")[:-1] if data else []
    cores = os.cpu_count() or 1
    deferred = len(lines) >= _PARALLEL_MIN and cores > 1 and hasattr(os, "fork")
    pubs: list[bytes] = []  # deferred: the key each entry must verify under
    for seq in range(start, start + len(lines)):
        raw = lines[seq - start]
        try:
            entry = parse_entry(raw, seq, log._origin)
        except PrimexError as exc:
            result.failures.append(Failure("entry", exc.what, seq))
            break
        try:
            key = log._apply(entry, strict_witness=True)
        except PrimexError as exc:
            result.failures.append(Failure(_classify(exc), exc.what, seq))
            break
        if deferred:
            pubs.append(key.public_key)
        elif not verify_signature(
            key.public_key, base64.b64decode(entry.sig), _signed_bytes(raw)
        ):
            result.failures.append(_bad_signature(entry.actor, seq))
            break
        else:
            result.signatures_verified += 1
    if deferred and pubs:
        bad = _parallel_signatures(lines, pubs, start)
        if bad is None:
            result.signatures_verified += len(pubs)
        else:  # the earliest problem comes first, whatever check found it
            actor = parse_entry(lines[bad - start], bad, log._origin).actor
            result.failures.insert(0, _bad_signature(actor, bad))
            result.signatures_verified += bad - start
    result.size = log.size
    result.root = log.root()
    result.requests = len(log._requests) + len(untouched)
    if log.size == 0:
        result.seconds = time.perf_counter() - started
        return result
    if result.failures:  # a broken entry: the tree checks below would only repeat it
        result.seconds = time.perf_counter() - started
        return result
    for cp in log.stored_checkpoints():
        _check_checkpoint(log, cp, f"stored checkpoint {cp.size}", result, "checkpoint")
        result.checkpoints_checked += 1
    try:
        latest = log.latest_checkpoint()
    except IntegrityError as exc:
        result.failures.append(Failure("checkpoint", f"latest checkpoint: {exc.what}"))
        latest = None
    if latest is not None:
        _check_checkpoint(log, latest, "latest checkpoint", result, "checkpoint")
        if latest.size < log.size:
            result.warnings.append(
                f"{log.size - latest.size} entries are not yet covered by a checkpoint"
            )
    witness = Witness(home)
    try:
        held = witness.latest(log.origin)
    except IntegrityError as exc:
        result.failures.append(Failure("witness", f"witness state: {exc.what}"))
        held = None
    if held is not None:
        _check_checkpoint(log, held, "the checkpoint the witness cosigned", result, "witness")
        result.witnessed_size = held.size
    else:
        result.warnings.append("no witness state for this log on this machine")
    seen: dict[int, bytes] = {}
    for cp in [*log.stored_checkpoints(), *([held] if held else [])]:
        seen.setdefault(cp.size, cp.root)
    for i, text in enumerate(extra_checkpoints):
        try:
            cp = parse_checkpoint(text, where=f"checkpoint #{i + 1}")
        except IntegrityError as exc:
            result.failures.append(Failure("checkpoint", exc.one_line()))
            continue
        if cp.size in seen and seen[cp.size] != cp.root:
            try:
                verify_log_signature(cp, log.origin, log.log_key().public_key)
                result.failures.append(Failure(
                    "fork", f"two log-signed checkpoints for size {cp.size} with different "
                    "roots: the log showed different histories (split view)",
                ))
            except IntegrityError as exc:
                result.failures.append(Failure("checkpoint", f"checkpoint #{i + 1}: {exc.what}"))
            continue
        _check_checkpoint(log, cp, f"checkpoint #{i + 1}", result, "checkpoint")
        seen.setdefault(cp.size, cp.root)
    if result.ok and record and (rec is None or start != log.size):
        resume.record(
            home, size=log.size, root=log.root(), prefix=memoryview(data), tree=log._tree,
            registry=log._registry, origin=log.origin, global_last=log._global_last,
            last_time=log._last_time, states=log._requests, untouched=untouched,
        )
    result.seconds = time.perf_counter() - started
    return result
