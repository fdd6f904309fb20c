"""The SPP side of the committee's witness: push each new checkpoint to it (C2SP
tlog-witness ``add-checkpoint``) and keep the cosignature it returns.

``push_checkpoint(home, url)``:

1. the log signs a checkpoint of its current size (``AuditLog.checkpoint``);
2. POST ``old <n>`` + the RFC 9162 consistency proof from ``n`` + the note to
   ``<url>/add-checkpoint``; ``n`` starts at the largest size this SPP knows the witness
   cosigned (0 if none); on ``409`` the witness answers with the size it holds and the push
   is retried once from that size, if the log can prove it (a size above the log's own is a
   rolled-back log: refused here, and the witness would refuse it too);
3. the answer's cosignature lines are kept only if they verify for an active committee key
   of the log's registry (``AuditLog.cosigners``); they are stored on the log's checkpoint
   (``AuditLog.add_cosignature``), where the release gate looks for its witnessed checkpoint.

Nothing else crosses the network: no entry, no request, no file; the witness needs only the
checkpoint and the proof. :class:`WitnessPusher` runs the push in the background of
`primex serve` whenever the log grew (``PRIMEX_WITNESS_URL``).
"""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass

import httpx

from primex.audit.checkpoint import Checkpoint, parse_checkpoint
from primex.audit.log import AuditLog, open_log
from primex.errors import IntegrityError, PrimexError
from primex.home import Home
from primex.service.bcss_client import tls_context

log_ = logging.getLogger("primex.witness")


class WitnessRefused(PrimexError):
    """The committee's witness did not cosign; `status` is its HTTP status."""

    def __init__(self, status: int, what: str, *, where: str, hint: str | None = None) -> None:
        self.status = status
        super().__init__(f"the committee's witness refuses ({status}): {what}", where=where,
                         hint=hint)


@dataclass(frozen=True)
class PushResult:
    checkpoint: Checkpoint  # as stored by the SPP, with the verified cosignature(s)
    old_size: int  # the size the witness held before
    cosigners: tuple[str, ...]


def _body(old: int, proof: list[bytes], cp: Checkpoint) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + cp.text).encode()


def _post(http: httpx.Client, url: str, body: bytes) -> httpx.Response:
    try:
        return http.post(url, content=body, headers={"Content-Type": "text/plain"})
    except httpx.HTTPError as exc:
        raise PrimexError(f"cannot reach the committee's witness ({type(exc).__name__})",
                          where=url, hint="check PRIMEX_WITNESS_URL / --url and the "
                          "witness service; the release gate waits for a cosignature") from None


def push_checkpoint(log: AuditLog | Home, url: str, *, ca: str | None = None,
                    http: httpx.Client | None = None) -> PushResult:
    """See the module docstring; raises WitnessRefused or PrimexError (one line).

    `log` is the SPP's log (or its home, opened here)."""
    endpoint = url.rstrip("/") + "/add-checkpoint"
    own = http is None
    client = http or httpx.Client(timeout=30.0, verify=tls_context(ca))
    try:
        if isinstance(log, Home):
            log = open_log(log, create=False)
        else:
            log.refresh()
        cp = log.checkpoint()
        old = next((c.size for c in sorted(log.stored_checkpoints(), key=lambda c: -c.size)
                    if c.size <= cp.size and log.witnessed_at(c.size) is not None), 0)
        for attempt in range(2):
            proof = log.consistency_proof(old, cp.size) if 0 < old < cp.size else []
            reply = _post(client, endpoint, _body(old, proof, cp))
            if reply.status_code == 409 and attempt == 0 and reply.text.strip().isdigit():
                held = int(reply.text.strip())
                if held > cp.size:
                    raise WitnessRefused(
                        409, f"it cosigned size {held} and this log has only {cp.size} "
                        "entries: the log was rolled back or replaced", where=endpoint,
                        hint="restore the log that the committee witnessed; never cosigned "
                        "again otherwise")
                old = held
                continue
            break
        if reply.status_code != 200:
            raise WitnessRefused(reply.status_code, reply.text.strip()[:200] or "no reason",
                                 where=endpoint)
        try:
            answer = parse_checkpoint(cp.body + "\n" + reply.text, where=endpoint)
        except IntegrityError as exc:
            raise WitnessRefused(502, f"not a cosignature answer ({exc.what})",
                                 where=endpoint) from None
        valid = log.cosigners(answer)  # active committee keys whose cosignature verifies
        sigs = [s for s in answer.signatures if s.name in valid]
        if not sigs:
            raise WitnessRefused(502, "no cosignature by an active committee key of the log",
                                 where=endpoint, hint="register the witness's committee key "
                                 "in the log (`primex keys register`)")
        stored = cp
        for sig in sigs:
            stored = log.add_cosignature(cp.size, sig)
        return PushResult(stored, old, tuple(sorted(valid)))
    finally:
        if own:
            client.close()


class WitnessPusher:
    """Background pushes from `primex serve`: every `interval` seconds, if the log grew
    since the last cosigned push, push its new checkpoint. A refusal is logged (one line)
    and retried later; the release gate keeps refusing until a cosignature is stored."""

    def __init__(self, home: Home, url: str, *, ca: str | None = None,
                 interval: float = 5.0) -> None:
        self.home, self.url, self.ca, self.interval = home, url, ca, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="witness-push", daemon=True)
        self.last_size = 0
        self.last_error: str | None = None
        self._log: AuditLog | None = None

    def start(self) -> WitnessPusher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._log is not None and not self._thread.is_alive():
            self._log.close()

    def push_if_grown(self) -> None:
        if self._log is None:  # its own instance: refreshed incrementally, never replayed
            self._log = open_log(self.home, create=False)
        self._log.refresh()
        if len(self._log) == self.last_size:
            return
        try:
            self.last_size = push_checkpoint(self._log, self.url, ca=self.ca).checkpoint.size
            self.last_error = None
        except PrimexError as exc:
            if str(exc) != self.last_error:
                log_.warning("witness push: %s", exc)
            self.last_error = str(exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.push_if_grown()
            except Exception as exc:  # a background loop must not die
                log_.warning("witness push failed: %s", type(exc).__name__)
            self._stop.wait(self.interval)
