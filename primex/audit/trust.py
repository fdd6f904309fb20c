"""Every trust decision about the log, in one module (as python-tuf keeps all of them in
its ``TrustedMetadataSet``): signatures, the signer's registration, role and revocation, the
chain of entries, the witness's cosignature, and the chain of custody between steps.

The log writer (:mod:`primex.audit.log`), the replay (:mod:`primex.audit.state`), the
committee's verifier (:mod:`primex.committee.verify`) and the release gate call these functions
and nothing else to decide whom to trust. Each refusal is an exception of
:mod:`primex.audit.reasons` carrying a typed :class:`~primex.audit.reasons.Reason`.

API::

    check_time(last_time, entry) / check_chain(expected_prev, entry)
    apply_key_event(registry, entry) -> KeyInfo          # authorise and apply key_add/revoke
    authorize_actor(registry, entry) -> KeyInfo          # request events: key, role, revoked
    check_signer_key(registry, name, public_key, event, body)   # before an append is signed
    check_signature(key, entry)                          # Ed25519 over the signed message
    check_history(entries, registry)                     # every signature of a history
    check_registration(key, registration, registrar)     # the key_add of a key
    check_cosigner(registry, name, public_key)           # an active committee key
    cosigners(checkpoint, registry) -> {name: timestamp}
    is_witnessed(checkpoint, root_at_size, origin, log_key, registry) -> bool
    check_custody(state, entry)                          # C1: inputs = previous outputs
    verify_request_history(log, request) -> VerifiedHistory
    verify_signer(log, entry, roles) -> KeyInfo          # the release gate's per-entry check
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Protocol

from primex.audit.checkpoint import Checkpoint, verify_cosignature, verify_log_signature
from primex.audit.entry import Entry, signed_message
from primex.audit.keys import ROLES, check_name, verify_signature
from primex.audit.reasons import Forbidden, Invalid, Reason, Untrusted
from primex.audit.workflow import TRANSITIONS, KeyInfo, Registry, RequestState
from primex.errors import IntegrityError

# Roles whose last active key may not be revoked without a successor: without a committee
# key nobody can change the registry again; without a log key nobody can sign checkpoints.
SUCCESSION_REQUIRED = ("committee", "log")
_ALTERED = "the committee runs `primex audit verify`; keep a copy of the log"


def _where(entry: Entry) -> str:
    what = f"request {entry.request}, " if entry.request else ""
    return f"{what}entry {entry.seq} ({entry.type})"


# --- the chain ---------------------------------------------------------------------------
def check_time(last_time: str, entry: Entry) -> None:
    if entry.time < last_time:
        raise Untrusted(
            Reason.TIME_BACKWARDS, f"time goes backwards ({entry.time} < {last_time})",
            where=f"entry {entry.seq}", seq=entry.seq,
        )


def check_chain(expected_prev: str | None, entry: Entry) -> None:
    if entry.prev != expected_prev:
        raise Untrusted(
            Reason.CHAIN_BROKEN,
            f"prev link broken for {entry.request or 'key events'} (reordered, deleted "
            "or inserted entry)", where=f"entry {entry.seq}", seq=entry.seq,
        )


# --- signatures --------------------------------------------------------------------------
def check_signature(key: KeyInfo, entry: Entry) -> None:
    """The entry's Ed25519 signature verifies under `key` (the registered key of its actor)."""
    if key.name != entry.actor or not verify_signature(
        key.public_key, entry.signature, signed_message(entry.raw)
    ):
        raise Untrusted(
            Reason.BAD_SIGNATURE,
            f"the signature by {entry.actor!r} does not verify (entry altered, forged, "
            "replayed from another entry, or signed by another key)", where=_where(entry),
            hint=_ALTERED, seq=entry.seq,
        )


def check_history(entries: list[Entry], registry: Registry) -> None:
    """Every entry's signature verifies under its actor's registered key (key names are
    never reused, so the registry's key for a name is the key of every entry by it)."""
    for entry in entries:
        key = registry.keys.get(entry.actor)
        if key is None:
            raise Untrusted(
                Reason.UNKNOWN_KEY, f"{entry.actor!r} is not in the registry",
                where=_where(entry), hint=_ALTERED, seq=entry.seq,
            )
        check_signature(key, entry)


# --- the registry ------------------------------------------------------------------------
def _key_add(registry: Registry, entry: Entry) -> tuple[KeyInfo, KeyInfo]:
    """The new key and the key that must have signed its registration."""
    body, where, seq = entry.body, f"entry {entry.seq}", entry.seq
    for name in ("name", "role", "person", "ed25519"):
        if not isinstance(body.get(name), str):
            raise Invalid(Reason.MALFORMED, f"key_add needs body field {name!r} (str)",
                          where=f"{where}.body", seq=seq)
    name = check_name(body["name"])
    if body["role"] not in ROLES:
        raise Invalid(Reason.MALFORMED, f"unknown role {body['role']!r}",
                      where=f"{where}.body.role", hint=f"one of {', '.join(ROLES)}", seq=seq)
    if name in registry.keys:
        raise Forbidden(Reason.BAD_REGISTRATION, f"key name {name!r} is already registered",
                        where=where, hint="key names are never reused; pick another name",
                        seq=seq)
    try:
        pub = base64.b64decode(body["ed25519"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(Reason.MALFORMED, "ed25519 is not base64", where=f"{where}.body",
                      seq=seq) from exc
    if len(pub) != 32:
        raise Invalid(Reason.MALFORMED, "ed25519 key must be 32 bytes", where=f"{where}.body",
                      seq=seq)
    organisation = body.get("organisation")
    if organisation is not None and (not isinstance(organisation, str)
                                     or not 0 < len(organisation.strip()) <= 200):
        raise Invalid(Reason.MALFORMED, "key_add organisation must be a non-empty string "
                      "(at most 200 characters)", where=f"{where}.body.organisation", seq=seq)
    x25519 = body.get("x25519")
    new = KeyInfo(name, body["role"], body["person"], pub, seq, organisation=organisation,
                  x25519=x25519 if isinstance(x25519, str) else None)
    if not registry.has_committee:  # bootstrap: proof of possession, the key signs itself
        if entry.actor != name:
            raise Forbidden(
                Reason.BAD_REGISTRATION,
                f"bootstrap key_add of {name!r} must be signed by that key, not "
                f"{entry.actor!r}", where=where, seq=seq,
            )
        return new, new
    registrar = registry.active(entry.actor)
    if registrar is None or registrar.role != "committee":
        raise Forbidden(
            Reason.BAD_REGISTRATION,
            f"only a committee key may add keys once the committee is registered "
            f"({entry.actor!r} is not an active committee key)",
            where=where, hint="sign the key_add with `--by COMMITTEE_KEY`", seq=seq,
        )
    return new, registrar


def check_revocation(registry: Registry, actor: str, target: Any, where: str,
                     seq: int | None = None) -> KeyInfo:
    """May `actor` revoke `target` now? Returns the revoking committee key."""
    signer = registry.active(actor)
    if signer is None or signer.role != "committee":
        raise Forbidden(Reason.REVOKED_KEY if actor in registry.keys else Reason.UNKNOWN_KEY,
                        f"only an active committee key may revoke keys ({actor!r} may not)",
                        where=where, seq=seq)
    if not isinstance(target, str) or target not in registry.keys:
        raise Invalid(Reason.MALFORMED, f"key_revoke names an unknown key {target!r}",
                      where=where, seq=seq)
    info = registry.keys[target]
    if not info.active:
        raise Forbidden(Reason.REVOKED_KEY, f"key {target!r} is already revoked", where=where,
                        seq=seq)
    if info.role in SUCCESSION_REQUIRED and len(registry.by_role(info.role)) == 1:
        raise Forbidden(
            Reason.NO_SUCCESSOR,
            f"{target!r} is the last active {info.role} key: revoking it would lock the "
            "installation out for good", where=where,
            hint=f"register its successor first (`primex keys init --role {info.role} "
            "--name NEW --by COMMITTEE_KEY`), then revoke", seq=seq,
        )
    return signer


def apply_key_event(registry: Registry, entry: Entry) -> KeyInfo:
    """Authorise and apply a key_add / key_revoke; returns the key that must have signed it.

    Bootstrap: while no committee key is registered, a key_add is signed by the key it adds
    (proof of possession). Afterwards every change is signed by an active committee key.
    """
    if entry.type == "key_add":
        new, signer = _key_add(registry, entry)
        check_signature(signer, entry)  # before the key counts: no forged registration
        registry.keys[new.name] = new
        return signer
    signer = check_revocation(registry, entry.actor, entry.body.get("name"),
                              f"entry {entry.seq}", entry.seq)
    check_signature(signer, entry)
    registry.keys[entry.body["name"]].revoked_seq = entry.seq
    return signer


def authorize_actor(registry: Registry, entry: Entry) -> KeyInfo:
    """The actor of a request event (or of an installation-wide event) is registered,
    active now, and holds a role the workflow table allows for this event."""
    info = registry.keys.get(entry.actor)
    where = f"request {entry.request}" if entry.request else f"entry {entry.seq}"
    if info is None:
        raise Forbidden(
            Reason.UNKNOWN_KEY, f"unknown key {entry.actor!r} (not in the registry)",
            where=where, hint="register it with `primex keys init` (signed by the committee)",
            seq=entry.seq,
        )
    if not info.active:
        raise Forbidden(Reason.REVOKED_KEY, f"key {info.name!r} is revoked", where=where,
                        seq=entry.seq)
    roles = TRANSITIONS[entry.type].roles
    if info.role not in roles:
        raise Forbidden(
            Reason.WRONG_ROLE,
            f"{entry.type} must be signed by {' or '.join(roles)}, not by {info.name!r} "
            f"({info.role})", where=where, seq=entry.seq,
        )
    return info


def check_signer_key(
    registry: Registry, name: str, public_key: bytes, event: str, body: dict[str, Any],
    where: str,
) -> None:
    """Before signing an append: the signer is the registered holder of its name (or a key
    registering itself at bootstrap)."""
    registered = registry.keys.get(name)
    bootstrap = event == "key_add" and body.get("name") == name
    if registered is None and not bootstrap:
        raise Forbidden(
            Reason.UNKNOWN_KEY, f"key {name!r} is not registered in the audit log",
            where=where, hint="register it with `primex keys init` (signed by the committee)",
        )
    if registered is not None and registered.public_key != public_key:
        raise Forbidden(
            Reason.KEY_MISMATCH, f"key {name!r} does not match the registered public key",
            where=name, hint="use the key that was registered under this name",
        )


# --- the witness -------------------------------------------------------------------------
def check_cosigner(registry: Registry, name: str, public_key: bytes) -> KeyInfo:
    """Only an active committee key, exactly as registered, cosigns checkpoints."""
    info = registry.keys.get(name)
    if info is None or info.role != "committee":
        raise Forbidden(Reason.WRONG_ROLE,
                        f"the witness cosigns with a registered committee key, not {name!r}",
                        where="witness")
    if not info.active:
        raise Forbidden(Reason.REVOKED_KEY,
                        f"the committee key {name!r} was revoked at entry {info.revoked_seq}",
                        where="witness", hint="cosign with an active committee key")
    if info.public_key != public_key:
        raise Forbidden(Reason.KEY_MISMATCH,
                        f"key {name!r} does not match the registered public key",
                        where="witness")
    return info


def cosigners(cp: Checkpoint, registry: Registry) -> dict[str, int]:
    """Active committee keys with a valid cosignature on `cp` -> their timestamps."""
    out: dict[str, int] = {}
    for key in registry.by_role("committee"):
        ts = verify_cosignature(cp, key.name, key.public_key)
        if ts is not None:
            out[key.name] = ts
    return out


def is_witnessed(
    cp: Checkpoint | None, root_at_size: bytes, origin: str, log_key: bytes,
    registry: Registry,
) -> bool:
    """`cp` is this log's checkpoint (its root at that size, signed by the log key) and an
    active committee key cosigned it."""
    if cp is None or cp.root != root_at_size:
        return False
    try:
        verify_log_signature(cp, origin, log_key)
    except IntegrityError:
        return False
    return bool(cosigners(cp, registry))


# --- the chain of custody (C1) ------------------------------------------------------------
def _inputs(body: dict[str, Any], field: str) -> list[str] | None:
    items = body.get(field)
    if not isinstance(items, list) or not items:
        return None
    hashes = [i.get("sha256") for i in items if isinstance(i, dict)]
    return hashes if len(hashes) == len(items) and all(isinstance(h, str) for h in hashes) \
        else None


def check_custody(state: RequestState | None, entry: Entry) -> None:
    """Each step's inputs are the previous step's recorded outputs (CONTRACTS.md C1): a
    coding's `manifest.inputs` are files of the latest extraction; a disclosure result's
    `inputs` are files of the latest coding (or, never coded, of the latest extraction)."""
    if entry.type not in ("coding", "disclosure_result"):
        return
    where = f"request {entry.request}, entry {entry.seq} ({entry.type})"
    if entry.type == "coding":
        manifest = entry.body.get("manifest")
        inputs = _inputs(manifest, "inputs") if isinstance(manifest, dict) else None
        recorded, source, field = (state.extraction_files if state else None), "extraction", \
            "manifest.inputs"
    else:
        inputs = _inputs(entry.body, "inputs")
        coded = state is not None and state.coded
        recorded = (state.coding_files if coded else state.extraction_files) if state else None
        source, field = ("coding" if coded else "extraction"), "inputs"
    if inputs is None:
        raise Invalid(Reason.CUSTODY, f"the {entry.type} does not record the hashes of its "
                      f"inputs ({field})", where=where, seq=entry.seq,
                      hint="every step records what it read (CONTRACTS.md C1)")
    if recorded is None:
        raise Invalid(Reason.CUSTODY, f"no {source} manifest before this {entry.type} to "
                      "check its inputs against", where=where, seq=entry.seq)
    unknown = [h for h in inputs if h not in recorded]
    if unknown:
        raise Invalid(
            Reason.CUSTODY,
            f"input {unknown[0][:12]}… is not a file the latest {source} recorded (a file "
            "edited or swapped between steps)", where=where, seq=entry.seq,
        )


# --- what the steps and the gate call ----------------------------------------------------
class HistoryLog(Protocol):
    """What :func:`verify_request_history` needs of a log (primex.audit.log.AuditLog)."""

    @property
    def registry(self) -> Registry: ...

    def verified_history(self, request: str) -> VerifiedHistory: ...

    def entry(self, seq: int) -> Entry: ...


@dataclass(frozen=True)
class VerifiedHistory:
    """A request's state and entries, every signature of which verified under a key the
    (verified) registry held at that point, with the right role and not revoked then."""

    request: str
    state: RequestState
    entries: tuple[Entry, ...]


def verify_request_history(log: HistoryLog, request: str) -> VerifiedHistory:
    """The whole history of `request`, verified (raises Untrusted on a forged entry)."""
    return log.verified_history(request)


def check_registration(key: KeyInfo, registration: Entry, registry: Registry) -> None:
    """The key_add that registered `key` is itself validly signed (by a committee key
    registered before it, or by the key itself at bootstrap)."""
    where = f"entry {registration.seq} (key_add {key.name})"
    if registration.type != "key_add" or registration.body.get("name") != key.name:
        raise Untrusted(Reason.BAD_REGISTRATION, "the registry points at the wrong entry",
                        where=where, seq=registration.seq)
    if registration.actor == key.name:
        registrar = key
    else:
        found = registry.keys.get(registration.actor)
        if found is None or found.role != "committee" or found.added_seq >= registration.seq:
            raise Untrusted(
                Reason.BAD_REGISTRATION,
                f"{key.name!r} was registered by {registration.actor!r}, not a committee key",
                where=where, seq=registration.seq,
            )
        registrar = found
    try:
        check_signature(registrar, registration)
    except Untrusted:
        raise Untrusted(Reason.BAD_REGISTRATION,
                        f"the registration of {key.name!r} is not validly signed",
                        where=where, seq=registration.seq) from None


def verify_signer(log: HistoryLog, entry: Entry, roles: tuple[str, ...]) -> KeyInfo:
    """The release gate's check of one entry: signed by a key registered before it (by a
    valid registration), holding one of `roles`, not revoked now, and the signature
    verifies."""
    where = _where(entry)
    info = log.registry.keys.get(entry.actor)
    if info is None or info.added_seq >= entry.seq:
        raise Forbidden(Reason.UNKNOWN_KEY,
                        f"signed by {entry.actor!r}, which was not registered before it",
                        where=where, seq=entry.seq)
    if info.role not in roles:
        raise Forbidden(Reason.WRONG_ROLE,
                        f"signed by {entry.actor!r} ({info.role}), not by a "
                        f"{' or '.join(roles)} key", where=where, seq=entry.seq)
    if info.revoked_seq is not None:
        raise Forbidden(Reason.REVOKED_KEY,
                        f"the key {entry.actor!r} was revoked at entry {info.revoked_seq}",
                        where=where, seq=entry.seq)
    check_signature(info, entry)
    check_registration(info, log.entry(info.added_seq), log.registry)
    return info
