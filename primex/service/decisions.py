"""Decisions signed by the person who takes them, on their own machine.

A decision (submission, return, rejection, approval, output check, sign-off) is one entry
of the audit log, and the entry's signature covers its place in the log (seq, prev, time,
origin). So it is made in two calls:

1. **prepare**: the service builds the body from the caller's input and its own checks,
   and asks the log for the exact entry it would append (a dry run: the log calls the
   signer with the bytes to sign, and the capturing signer stops it there; nothing is
   written). It returns that entry without `sig` (the *draft*).
2. **commit**: the caller signs `primex.audit.log.signed_bytes(draft)` with their key
   (the CLI, or WebCrypto in a browser) and sends the same input, the draft and the
   signature. The service rebuilds the body, checks it equals the draft's, verifies the
   signature with the key the log registers, and appends with a signer that only hands
   back that signature when the log asks for exactly those bytes. If the log moved in
   between (another entry), the bytes differ and the caller prepares again (HTTP 409).

The service never holds the person's private key.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from primex.audit.canonical import loads
from primex.audit.keys import verify_signature
from primex.audit.log import SIG_DOMAIN, AuditLog, Entry, signed_bytes
from primex.audit.workflow import apply_event
from primex.errors import PrimexError

# decision -> the role that signs it
DECISIONS: dict[str, str] = {
    "submission": "researcher",
    "return": "privacy_officer",
    "rejection": "privacy_officer",
    "approval": "privacy_officer",
    "output_check": "privacy_officer",
    "signoff": "president",
}


class StaleDraft(PrimexError):
    """The log moved since the draft was prepared: prepare and sign again."""


class _Captured(Exception):
    def __init__(self, data: bytes) -> None:
        self.data = data


@dataclass
class _CapturingSigner:
    """Looks like primex.audit.keys.Signer; stops the append at signing time."""

    name: str
    role: str
    person: str
    public_key_bytes: bytes

    def sign(self, data: bytes) -> bytes:
        raise _Captured(data)


@dataclass
class _PresignedSigner:
    """Hands the log the caller's signature, only for exactly the bytes they signed."""

    name: str
    role: str
    person: str
    public_key_bytes: bytes
    expected: bytes
    signature: bytes

    def sign(self, data: bytes) -> bytes:
        if data != self.expected:
            raise StaleDraft(
                "the audit log changed since this decision was prepared",
                where=self.name, hint="prepare it again and sign the new draft",
            )
        return self.signature


def prepare(log: AuditLog, event: str, request: str | None, body: dict[str, Any],
            key_name: str) -> dict[str, Any]:
    """The draft entry `key_name` would sign now (workflow checked, nothing written)."""
    info = log.registry.active(key_name)
    if info is None:
        raise PrimexError(f"key {key_name!r} is not an active registered key", where=key_name)
    if request is not None and request in log.requests():
        # the workflow's verdict now, on a copy (the log checks it again at commit)
        apply_event(copy.deepcopy(log.state(request)), request, event, body, info, log.size,
                    witness_check=None)
    else:
        apply_event(None, request or "new", event, body, info, log.size, witness_check=None)
    signer = _CapturingSigner(info.name, info.role, info.person, info.public_key)
    try:
        log.append(event, request if request in log.requests() else None, body,
                   signer)  # type: ignore[arg-type]
    except _Captured as captured:
        if not captured.data.startswith(SIG_DOMAIN):
            raise PrimexError("unexpected signing input from the log", where="prepare") from None
        draft = loads(captured.data[len(SIG_DOMAIN):], where="draft")
        assert isinstance(draft, dict)
        return draft
    raise PrimexError("the log appended without a signature", where="prepare")


DRAFT_MAX_AGE = timedelta(minutes=2)
CLOCK_SKEW = timedelta(seconds=5)


def _check_time(text: str) -> None:
    """The draft's time is the only envelope field the log takes from the caller: it must be
    the time the service prepared it (a future time would drag every later entry along)."""
    from primex.errors import ValidationError

    try:
        when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError("the draft's time is malformed", where="draft.time") from None
    now = datetime.now(UTC)
    if when > now + CLOCK_SKEW or when < now - DRAFT_MAX_AGE:
        raise StaleDraft("the draft's time is not the time it was prepared", where="draft.time",
                         hint="prepare it again and sign the new draft")


def commit(log: AuditLog, draft: dict[str, Any], signature_b64: str, key_name: str,
           body: dict[str, Any]) -> Entry:
    """Append the signed draft (see the module docstring); raises PrimexError subclasses."""
    from primex.errors import IntegrityError, PermissionDenied, ValidationError

    if not isinstance(draft, dict) or draft.get("actor") != key_name:
        raise PermissionDenied("the draft is not yours to sign", where="draft.actor")
    if draft.get("body") != body:
        raise ValidationError(
            "the draft's body is not what this input gives", where="draft.body",
            hint="send the same input to prepare and commit",
        )
    event, request = draft.get("type"), draft.get("request")
    if event not in DECISIONS or not isinstance(draft.get("time"), str):
        raise ValidationError("the draft is not a decision entry", where="draft.type")
    _check_time(str(draft["time"]))
    info = log.registry.active(key_name)
    if info is None:
        raise PermissionDenied(f"key {key_name!r} is not active", where=key_name)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        raise ValidationError("the signature is not base64", where="signature") from None
    try:
        expected = signed_bytes(draft)
    except PrimexError as exc:
        raise ValidationError(f"the draft is not canonical JSON ({exc.what})",
                              where="draft") from None
    if len(signature) != 64 or not verify_signature(info.public_key, signature, expected):
        raise IntegrityError("the signature does not verify with your registered key",
                             where="signature", hint="sign signed_bytes(draft) with your key")
    signer = _PresignedSigner(info.name, info.role, info.person, info.public_key, expected,
                              signature)
    known = isinstance(request, str) and request in log.requests()
    try:
        return log.append(str(event), request if known else None, body,
                          signer, time=draft["time"])  # type: ignore[arg-type]
    except IntegrityError as exc:  # e.g. a draft time before the log's last entry
        raise StaleDraft(exc.what, where="draft", hint="prepare it again") from None
