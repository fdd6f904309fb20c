"""Typed reasons for every trust refusal of the log, so callers branch on a value, never on
a message.

Every refusal raised while checking an entry (by :mod:`primex.audit.trust`, the replay in
:mod:`primex.audit.state` and the rules of :mod:`primex.audit.workflow`) carries a
:class:`Reason`. Its :attr:`Reason.check` is the verifier's check name (``entry``, ``time``,
``chain``, ``registry``, ``workflow``, ``signature``, ``custody``). The exception classes
keep the user-facing families of :mod:`primex.errors` (an altered entry is an
IntegrityError, a forbidden one a PermissionDenied, a malformed body a ValidationError).
"""

from __future__ import annotations

from enum import Enum

from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError


class Reason(Enum):
    """Why an entry (or an action on the log) is not trusted."""

    MALFORMED = ("entry", "the entry is not a well-formed log line")
    TIME_BACKWARDS = ("time", "the entry is dated before the previous one")
    CHAIN_BROKEN = ("chain", "the prev link does not point at the previous entry")
    UNKNOWN_KEY = ("registry", "the signer is not a registered key")
    WRONG_ROLE = ("workflow", "the signer's role may not record this event")
    REVOKED_KEY = ("registry", "the signer's key is revoked")
    BAD_REGISTRATION = ("registry", "the key was not registered by a valid committee key")
    NO_SUCCESSOR = ("registry", "the last key of a role cannot be revoked")
    KEY_MISMATCH = ("registry", "the key does not match the registered public key")
    WORKFLOW = ("workflow", "the event is not allowed in the request's state")
    SEPARATION = ("workflow", "one person holds one role per request")
    FOUR_EYES = ("workflow", "the output needs checks by more different privacy officers")
    BAD_SIGNATURE = ("signature", "the signature does not verify")
    CUSTODY = ("custody", "an input is not the previous step's recorded output")

    @property
    def check(self) -> str:
        return self.value[0]

    @property
    def summary(self) -> str:
        return self.value[1]


class _Reasoned:
    """The typed reason (and the entry it concerns) that every refusal below carries; it
    comes first among the bases so that its constructor serves all three."""

    reason: Reason
    seq: int | None

    def __init__(
        self, reason: Reason, what: str, *, where: str | None = None,
        hint: str | None = None, seq: int | None = None,
    ) -> None:
        self.reason, self.seq = reason, seq
        super().__init__(what, where=where, hint=hint)  # type: ignore[call-arg]


class Untrusted(_Reasoned, IntegrityError):
    """Something that must verify does not (a signature, a link, a registration)."""


class Forbidden(_Reasoned, PermissionDenied):
    """A well-formed action that the registry or the workflow does not allow."""


class Invalid(_Reasoned, ValidationError):
    """A body field is missing, malformed, or not bound to what the previous step recorded."""


def reason_of(exc: PrimexError) -> Reason:
    """The typed reason of a refusal; a structural parse error (no reason) is MALFORMED."""
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, Reason) else Reason.MALFORMED
