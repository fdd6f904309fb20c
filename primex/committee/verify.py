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
5. ``custody`` (CONTRACTS.md C1): a coding's ``manifest.inputs`` are files of the latest
   extraction, a disclosure result's ``inputs`` files of the latest coding (or extraction);
6. ``signature``: the actor's Ed25519 signature over the entry;
7. ``workflow`` (four eyes, CONTRACTS.md C6): a sign-off follows approvals of its output by
   as many DIFFERENT privacy officers as the approval recorded (the replay's rule) and as
   ``output_checkers`` asks (`primex audit verify --output-checkers N`: a minimum the
   committee states for the period; this module reads no policy itself).

Each failure carries the typed :class:`~primex.audit.reasons.Reason` of the refusal (from
:mod:`primex.audit.trust`, the one place of trust decisions); the check name is the
reason's.

Then over the tree (RFC 9162): every stored checkpoint (``checkpoint``: log signature,
origin, size not beyond the log (truncation), root equal to the log's root at that size
(rewrite)), the committee witness's stored checkpoint (``witness``: the same, so a rollback
or a rewritten history is caught even if the log's own checkpoint files were replaced), any
checkpoint handed in by researchers (``fork``: two roots for one size).

Speed: a full replay checks every Ed25519 signature (≈ 9 k/s per core on an idle machine
here, spread over every core for big logs: minutes for 1 M entries) and parses every entry
strictly. The committee rarely needs that: after every successful run the verifier records
what it verified (:mod:`primex.committee.resume`, under ``home.witness/verified/``). The next
run checks the record's MAC (committee key), hashes the verified prefix of the log in one
pass; if the bytes are unchanged it resumes
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

from primex.audit import merkle, trust
from primex.audit.canonical import loads
from primex.audit.checkpoint import Checkpoint, parse_checkpoint, verify_log_signature
from primex.audit.entry import parse_entry, signed_message
from primex.audit.reasons import Forbidden, Reason, reason_of
from primex.audit.state import LogState
from primex.audit.store import ENTRIES, CheckpointFiles
from primex.audit.workflow import WitnessCheck
from primex.committee import resume
from primex.committee.witness import Witness
from primex.errors import IntegrityError, PrimexError
from primex.home import Home


@dataclass(frozen=True)
class Failure:
    check: str  # entry time chain registry workflow custody signature checkpoint witness fork
    message: str
    seq: int | None = None  # the failing entry, if the failure is about one entry
    reason: Reason | None = None  # the typed reason, for failures about one entry

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
        "by another key)", seq, Reason.BAD_SIGNATURE,
    )


def _refusal(exc: PrimexError, seq: int) -> Failure:
    reason = reason_of(exc)
    return Failure(reason.check, exc.what, seq, reason)


def _too_few_output_checks(
    state: LogState, event: str, request: str | None, checkers: int, seq: int
) -> Failure | None:
    """Four eyes against the policy given: the replay enforced the number the approval
    recorded; a sign-off with fewer different officers than `checkers` is flagged."""
    if event != "signoff" or request is None:
        return None
    done = len(state.requests[request].output_checkers)
    if done >= checkers:
        return None
    return Failure(
        Reason.FOUR_EYES.check,
        f"sign-off after {done} of {checkers} output checks by different privacy officers "
        "(policy.yaml output_check.checkers)", seq, Reason.FOUR_EYES,
    )


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
            key.verify(base64.b64decode(raw[i + 8 : j]), signed_message(raw))
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


def _check_checkpoint(
    state: LogState, log_key: bytes, cp: Checkpoint, label: str, result: VerifyResult,
    check: str,
) -> None:
    assert state.origin is not None
    try:
        verify_log_signature(cp, state.origin, log_key)
    except IntegrityError as exc:
        result.failures.append(Failure(check, f"{label}: {exc.what}"))
        return
    if cp.size > state.size:
        result.failures.append(Failure(
            check,
            f"{label} has size {cp.size} but the log has only {state.size} entries "
            "(truncated or rolled back)",
        ))
        return
    if state.tree.root(cp.size) != cp.root:
        result.failures.append(Failure(
            check,
            f"{label} (size {cp.size}) has another root than the log at that size "
            "(history rewritten, or a fork)",
        ))


def _witness_check(state: LogState, cps: CheckpointFiles) -> WitnessCheck:
    """The release rule during the replay: the cited checkpoint is this log's at that size,
    stored, log-signed and cosigned by a committee key active at that point."""
    def check(size: int, root_b64: str, signoff_seq: int) -> None:
        where = f"checkpoint {size}"
        if size > state.size:
            raise Forbidden(Reason.WORKFLOW, f"the cited checkpoint (size {size}) is "
                                  f"beyond the log ({state.size})", where=where)
        if base64.b64encode(state.tree.root(size)).decode() != root_b64:
            raise IntegrityError(
                "the cited checkpoint's root is not this log's root at that size", where=where
            )
        try:
            cp = cps.get(size)
        except IntegrityError:
            cp = None
        keys = state.registry.by_role("log")
        assert state.origin is not None
        if not keys or not trust.is_witnessed(
            cp, state.tree.root(size), state.origin, keys[0].public_key, state.registry
        ):
            raise Forbidden(
                Reason.WORKFLOW, f"the cited checkpoint (size {size}) has no valid "
                "cosignature from the committee's witness", where=where,
            )

    return check


def _read_entries(path: os.PathLike[str], result: VerifyResult) -> tuple[bytes, bool]:
    """The log's bytes as complete lines; True if the last entry lacked only its newline."""
    with open(path, "rb") as fh:
        data = fh.read()
    if not data or data.endswith(b"\n"):
        return data, False
    cut = data.rfind(b"\n") + 1
    try:
        loads(data[cut:])  # a prefix of a canonical line never parses: this one is complete
    except IntegrityError:
        complete = data.count(b"\n", 0, cut)
        result.warnings.append(
            f"half-written tail of {len(data) - cut} bytes after entry "
            f"{complete - 1}: an append that never completed (never "
            "acknowledged); it is ignored here and cut off by the next writer"
        )
        return data[:cut], False
    result.warnings.append(
        "the last entry lacks its final newline; it is verified like every other entry "
        "(the next writer adds the newline)"
    )
    return data + b"\n", True


def verify_log(
    home: Home,
    *,
    full: bool = False,
    extra_checkpoints: Sequence[str] = (),
    record: bool = True,
    require_witness: bool = True,
    output_checkers: int = 1,
) -> VerifyResult:
    """Replay and check the log of `home` (see the module docstring)."""
    started = time.perf_counter()
    result = VerifyResult()
    path = home.audit / ENTRIES
    if not path.exists():
        result.failures.append(Failure("entry", f"no audit log at {path}"))
        return result
    data, unterminated = _read_entries(path, result)
    state = LogState(keep=False)  # in-memory replay, the rules of append
    cps = CheckpointFiles(home.audit)
    rec, why = (None, None) if full else resume.load(home, data)
    if why:
        result.warnings.append(why)
    start = 0
    untouched: dict[str, bytes] = {}
    if rec is not None:  # resume after the prefix the committee verified before
        state.tree, state.registry, state.origin = rec.tree, rec.registry, rec.origin
        state.global_last, state.last_time = rec.global_last, rec.last_time
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
                    state.requests[rid] = st
    else:
        lines = data.split(b"\n")[:-1] if data else []
    cores = os.cpu_count() or 1
    deferred = len(lines) >= _PARALLEL_MIN and cores > 1 and hasattr(os, "fork")
    pubs: list[bytes] = []  # deferred: the key each entry must verify under
    check = _witness_check(state, cps)
    for seq in range(start, start + len(lines)):
        raw = lines[seq - start]
        try:
            entry = parse_entry(raw, seq, state.origin)
        except PrimexError as exc:
            result.failures.append(Failure("entry", exc.what, seq, Reason.MALFORMED))
            break
        try:
            key = state.apply(entry, check, custody=True)
        except PrimexError as exc:
            result.failures.append(_refusal(exc, seq))
            break
        few = _too_few_output_checks(state, entry.type, entry.request, output_checkers, seq)
        if few is not None:
            result.failures.append(few)
            break
        if deferred:
            pubs.append(key.public_key)
            continue
        try:
            trust.check_signature(key, entry)
        except PrimexError:
            result.failures.append(_bad_signature(entry.actor, seq))
            break
        result.signatures_verified += 1
    if deferred and pubs:
        bad = _parallel_signatures(lines, pubs, start)
        if bad is None:
            result.signatures_verified += len(pubs)
        else:  # the earliest problem comes first, whatever check found it
            actor = parse_entry(lines[bad - start], bad, state.origin).actor
            result.failures.insert(0, _bad_signature(actor, bad))
            result.signatures_verified += bad - start
    result.size = state.size
    result.root = state.tree.root()
    result.requests = len(state.requests) + len(untouched)
    if state.size == 0 or result.failures:  # a broken entry: the tree checks would repeat it
        result.seconds = time.perf_counter() - started
        return result
    _check_tree(home, state, cps, result, extra_checkpoints, require_witness)
    if result.ok and record and not unterminated and (rec is None or start != state.size):
        try:
            resume.record(
                home, size=state.size, root=state.tree.root(), prefix=memoryview(data),
                tree=state.tree, registry=state.registry, origin=state.origin or "",
                global_last=state.global_last, last_time=state.last_time,
                states=state.requests, untouched=untouched,
            )
        except OSError as exc:  # a read-only evidence copy: verified, just not recorded
            result.warnings.append(
                f"could not record what was verified ({exc.strerror}); the next run "
                "replays everything"
            )
    result.seconds = time.perf_counter() - started
    return result


def _check_tree(
    home: Home, state: LogState, cps: CheckpointFiles, result: VerifyResult,
    extra_checkpoints: Sequence[str], require_witness: bool,
) -> None:
    """Checkpoints, the witness and gossiped checkpoints against the replayed tree."""
    assert state.origin is not None
    keys = state.registry.by_role("log")
    if not keys:
        result.failures.append(Failure("registry", "no active log key in the registry"))
        return
    log_key = keys[0].public_key
    stored: list[Checkpoint] = []
    for size in cps.sizes():
        try:
            cp = cps.get(size)
        except IntegrityError as exc:
            result.failures.append(Failure("checkpoint", f"stored checkpoint {size}: {exc.what}"))
            continue
        if cp is None:
            continue
        _check_checkpoint(state, log_key, cp, f"stored checkpoint {cp.size}", result,
                          "checkpoint")
        stored.append(cp)
        result.checkpoints_checked += 1
    try:
        latest = cps.latest()
    except IntegrityError as exc:
        result.failures.append(Failure("checkpoint", f"latest checkpoint: {exc.what}"))
        latest = None
    if latest is not None:
        _check_checkpoint(state, log_key, latest, "latest checkpoint", result, "checkpoint")
        if latest.size < state.size:
            result.warnings.append(
                f"{state.size - latest.size} entries are not yet covered by a checkpoint"
            )
    try:
        held = Witness(home).latest(state.origin)
    except IntegrityError as exc:
        result.failures.append(Failure("witness", f"witness state: {exc.what}"))
        held = None
    if held is not None:
        _check_checkpoint(state, log_key, held, "the checkpoint the witness cosigned",
                          result, "witness")
        result.witnessed_size = held.size
        if held.size not in {cp.size for cp in stored}:
            result.failures.append(Failure(
                "checkpoint",
                f"the log no longer holds the checkpoint of size {held.size} that the witness "
                "cosigned (checkpoint files deleted or replaced)",
            ))
    elif require_witness:
        result.failures.append(Failure(
            "witness",
            "not proven: no witness state for this log on this machine, so a rolled-back or "
            "forked log cannot be told from the real one (run the verification where the "
            "committee's witness state lives, or pass --no-witness to check the rest only)",
        ))
    else:
        result.warnings.append("no witness state for this log on this machine (--no-witness)")
        if not stored:
            result.warnings.append(
                "the log holds no checkpoint: nothing proves what it published"
            )
    seen: dict[int, bytes] = {}
    for cp in [*stored, *([held] if held else [])]:
        seen.setdefault(cp.size, cp.root)
    for i, text in enumerate(extra_checkpoints):
        try:
            cp = parse_checkpoint(text, where=f"checkpoint #{i + 1}")
        except IntegrityError as exc:
            result.failures.append(Failure("checkpoint", exc.one_line()))
            continue
        if cp.size in seen and seen[cp.size] != cp.root:
            try:
                verify_log_signature(cp, state.origin, log_key)
                result.failures.append(Failure(
                    "fork", f"two log-signed checkpoints for size {cp.size} with different "
                    "roots: the log showed different histories (split view)",
                ))
            except IntegrityError as exc:
                result.failures.append(Failure("checkpoint", f"checkpoint #{i + 1}: {exc.what}"))
            continue
        _check_checkpoint(state, log_key, cp, f"checkpoint #{i + 1}", result, "checkpoint")
        seen.setdefault(cp.size, cp.root)
