"""The request life cycle as data, and the one function that applies an event to a state.

Both the log (refusing an append) and the verifier (replaying the log) call
:func:`apply_event`, so there is exactly one definition of what is allowed.

States: submitted, returned, rejected, approved, extracted, coded, protected,
output_checked, signed_off, released, closed (``rejected`` and ``closed`` are final).

=================  ==================================  ===========================  ===========
event              signer role                         from                         to
=================  ==================================  ===========================  ===========
submission         researcher                          (new request), returned      submitted
return             privacy_officer                     submitted                    returned
rejection          privacy_officer                     submitted                    rejected
approval           privacy_officer                     submitted                    approved
amendment          privacy_officer                     approved, extracted, coded,  (unchanged)
                                                       protected
extraction         spp_operator                        approved, extracted, coded,  extracted
                                                       protected
coding             bcss_operator                       extracted, coded             coded
disclosure_result  spp_operator                        extracted, coded, protected  protected if
                                                                                    passed, else
                                                                                    back
output_check       privacy_officer                     protected                    output_checked
                                                                                    (approve) or
                                                                                    back (return)
signoff            president                           output_checked               signed_off
release            spp_operator                        signed_off                   released
access             researcher (the requester)          released                     released
closure            privacy_officer, spp_operator       any but rejected/closed      closed
linkage_key_       bcss_operator                       (no request)
rotation
key_add            committee (or self, at bootstrap)   (no request)
key_revoke         committee                           (no request)
=================  ==================================  ===========================  ===========

"back" = ``coded`` if the request was coded, else ``extracted``.

Hash bindings: approval.spec_sha256 = the latest submission's; output_check, signoff and
release carry the manifest_sha256 of the passed disclosure result; a signoff's `manifest`
hashes to its manifest_sha256 with ``primex.audit.canonical.sha256_hex(manifest)`` (so every
step must compute the manifest hash that way); a release cites a checkpoint that
includes the signoff and was cosigned by the committee's witness (checked by a callback the
caller supplies); an access names a file (sha256) of the released manifest.

Separation of duties: one person holds one role per request (so the requester never
approves and the officer never signs off, even with a second key); a resubmission and an
access come from the requester.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from primex.audit.canonical import sha256_hex
from primex.audit.keys import ROLES, check_name
from primex.errors import PermissionDenied, ValidationError

STATES = (
    "submitted", "returned", "rejected", "approved", "extracted", "coded", "protected",
    "output_checked", "signed_off", "released", "closed",
)
FINAL_STATES = ("rejected", "closed")
KEY_EVENTS = ("key_add", "key_revoke")

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Transition:
    roles: tuple[str, ...]
    sources: tuple[str | None, ...]  # None: the request does not exist yet
    target: str | None  # None: decided by apply_event (see the table above)
    required: tuple[tuple[str, str], ...]  # (field, kind) kinds: sha256 str dict bool int any


_WORK = ("approved", "extracted", "coded", "protected", "output_checked", "signed_off",
         "released", "submitted", "returned")

TRANSITIONS: dict[str, Transition] = {
    "submission": Transition(
        ("researcher",), (None, "returned"), "submitted",
        (("spec_sha256", "sha256"), ("title", "str")),
    ),
    "return": Transition(("privacy_officer",), ("submitted",), "returned", (("reasons", "any"),)),
    "rejection": Transition(
        ("privacy_officer",), ("submitted",), "rejected", (("reasons", "any"),)
    ),
    "approval": Transition(
        ("privacy_officer",), ("submitted",), "approved",
        (("spec_sha256", "sha256"), ("conditions", "dict")),
    ),
    # A new version of the approval's conditions; later steps use the latest one.
    "amendment": Transition(
        ("privacy_officer",), ("approved", "extracted", "coded", "protected"), None,
        (("conditions", "dict"), ("reason", "str")),
    ),
    "extraction": Transition(
        ("spp_operator",), ("approved", "extracted", "coded", "protected"), "extracted",
        (("manifest_sha256", "sha256"),),
    ),
    "coding": Transition(
        ("bcss_operator",), ("extracted", "coded"), "coded",
        (("manifest_sha256", "sha256"), ("key_id", "str")),
    ),
    "disclosure_result": Transition(
        ("spp_operator",), ("extracted", "coded", "protected"), None,
        (("manifest_sha256", "sha256"), ("passed", "bool"), ("report_sha256", "sha256")),
    ),
    "output_check": Transition(
        ("privacy_officer",), ("protected",), None,
        (("manifest_sha256", "sha256"), ("decision", "str")),
    ),
    "signoff": Transition(
        ("president",), ("output_checked",), "signed_off",
        (("manifest_sha256", "sha256"), ("manifest", "dict")),
    ),
    "release": Transition(
        ("spp_operator",), ("signed_off",), "released",
        (("manifest_sha256", "sha256"), ("package_sha256", "sha256"), ("recipient", "any"),
         ("checkpoint", "dict")),
    ),
    "access": Transition(("researcher",), ("released",), "released", (("sha256", "sha256"),)),
    "closure": Transition(("privacy_officer", "spp_operator"), _WORK, "closed", ()),
    # No request (sources empty): an installation-wide event, chained like the key events.
    "linkage_key_rotation": Transition(
        ("bcss_operator",), (), None,
        (("old_master_key_id", "str"), ("new_master_key_id", "str")),
    ),
}
EVENT_TYPES = tuple(TRANSITIONS) + KEY_EVENTS
GLOBAL_EVENTS = tuple(event for event, rule in TRANSITIONS.items() if not rule.sources)


@dataclass
class KeyInfo:
    """One key of the registry, as the log's key_add / key_revoke entries define it."""

    name: str
    role: str
    person: str
    public_key: bytes
    added_seq: int
    revoked_seq: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_seq is None


@dataclass
class Registry:
    """Who holds which role, at the current point of the log replay."""

    keys: dict[str, KeyInfo] = field(default_factory=dict)

    @property
    def has_committee(self) -> bool:
        return any(k.role == "committee" for k in self.keys.values())

    def active(self, name: str) -> KeyInfo | None:
        info = self.keys.get(name)
        return info if info is not None and info.active else None

    def by_role(self, role: str) -> list[KeyInfo]:
        return [k for k in self.keys.values() if k.role == role and k.active]


@dataclass
class RequestState:
    """A request's state, derived only from its log entries (see AuditLog.state)."""

    request: str
    state: str | None = None
    requester: str | None = None  # key name of the submitting researcher
    requester_person: str | None = None
    title: str | None = None
    organisation: str | None = None
    spec_sha256: str | None = None
    conditions: dict[str, Any] | None = None
    manifest_sha256: str | None = None  # the files meant to leave (passed disclosure result)
    signoff_seq: int | None = None
    signoff_manifest: dict[str, Any] | None = None
    released_manifest_sha256: str | None = None
    coded: bool = False
    persons: dict[str, str] = field(default_factory=dict)  # person -> role in this request
    history: list[Any] = field(default_factory=list)  # Entry objects, oldest first
    last_leaf: str | None = None

    def _back(self) -> str:
        return "coded" if self.coded else "extracted"


WitnessCheck = Callable[[int, str, int], None]
"""(checkpoint size, base64 root, signoff seq) -> None; raises if not a witnessed checkpoint
of this log that includes the signoff."""


def _check_body(event: str, body: dict[str, Any], where: str) -> None:
    if not isinstance(body, dict):
        raise ValidationError(f"{event} body must be an object", where=where)
    spec = TRANSITIONS[event].required if event in TRANSITIONS else ()
    for name, kind in spec:
        if name not in body:
            raise ValidationError(
                f"{event} needs body field {name!r}", where=f"{where}.body",
                hint=f"required fields: {', '.join(n for n, _ in spec)}",
            )
        value = body[name]
        ok = {
            "sha256": isinstance(value, str) and bool(_HEX64.match(value)),
            "str": isinstance(value, str) and bool(value.strip()),
            "dict": isinstance(value, dict),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "any": value is not None,
        }[kind]
        if not ok:
            hint = "64 lowercase hex digits" if kind == "sha256" else f"a {kind}"
            raise ValidationError(
                f"{event} body field {name!r} is invalid", where=f"{where}.body.{name}",
                hint=f"expected {hint}",
            )


def _manifest_hashes(manifest: dict[str, Any] | None) -> set[str]:
    files = (manifest or {}).get("files") or []
    return {f.get("sha256") for f in files if isinstance(f, dict)} - {None}


def apply_key_event(
    registry: Registry, event: str, body: dict[str, Any], actor: str, seq: int,
    where: str,
) -> KeyInfo:
    """Check and apply a key_add / key_revoke; returns the key that must verify the entry.

    Bootstrap: while no committee key is registered, a key_add may be signed by the key it
    adds (proof of possession). Afterwards every key change is signed by a committee key.
    """
    if event == "key_add":
        for name, kind in (("name", "str"), ("role", "str"), ("person", "str"),
                           ("ed25519", "str")):
            if not isinstance(body.get(name), str):
                raise ValidationError(
                    f"key_add needs body field {name!r} ({kind})", where=f"{where}.body"
                )
        name = check_name(body["name"])
        if body["role"] not in ROLES:
            raise ValidationError(
                f"unknown role {body['role']!r}", where=f"{where}.body.role",
                hint=f"one of {', '.join(ROLES)}",
            )
        if name in registry.keys:
            raise PermissionDenied(
                f"key name {name!r} is already registered", where=where,
                hint="key names are never reused; pick another name",
            )
        try:
            pub = base64.b64decode(body["ed25519"], validate=True)
        except ValueError as exc:
            raise ValidationError("ed25519 is not base64", where=f"{where}.body") from exc
        if len(pub) != 32:
            raise ValidationError("ed25519 key must be 32 bytes", where=f"{where}.body")
        new = KeyInfo(name, body["role"], body["person"], pub, seq)
        if not registry.has_committee:
            if actor != name:
                raise PermissionDenied(
                    f"bootstrap key_add of {name!r} must be signed by that key, not {actor!r}",
                    where=where,
                )
            signer = new
        else:
            signer_info = registry.active(actor)
            if signer_info is None or signer_info.role != "committee":
                raise PermissionDenied(
                    f"only a committee key may add keys once the committee is registered "
                    f"({actor!r} is not an active committee key)",
                    where=where, hint="sign the key_add with `--by COMMITTEE_KEY`",
                )
            signer = signer_info
        registry.keys[name] = new
        return signer
    # key_revoke
    target = body.get("name")
    signer_info = registry.active(actor)
    if signer_info is None or signer_info.role != "committee":
        raise PermissionDenied(
            f"only an active committee key may revoke keys ({actor!r} may not)", where=where
        )
    if not isinstance(target, str) or target not in registry.keys:
        raise ValidationError(f"key_revoke names an unknown key {target!r}", where=where)
    if not registry.keys[target].active:
        raise PermissionDenied(f"key {target!r} is already revoked", where=where)
    registry.keys[target].revoked_seq = seq
    return signer_info


def apply_global_event(
    registry: Registry, event: str, body: dict[str, Any], actor: str, where: str
) -> KeyInfo:
    """Check an installation-wide event (GLOBAL_EVENTS); returns the key that signs it."""
    info = registry.keys.get(actor)
    if info is None:
        raise PermissionDenied(f"unknown key {actor!r} (not in the registry)", where=where)
    if not info.active:
        raise PermissionDenied(f"key {actor!r} is revoked", where=where)
    rule = TRANSITIONS[event]
    if info.role not in rule.roles:
        raise PermissionDenied(
            f"{event} must be signed by {' or '.join(rule.roles)}, not by {actor!r} "
            f"({info.role})", where=where,
        )
    _check_body(event, body, where)
    return info


def apply_event(
    state: RequestState | None,
    request: str,
    event: str,
    body: dict[str, Any],
    actor: KeyInfo,
    seq: int,
    witness_check: WitnessCheck | None = None,
) -> RequestState:
    """Check that `actor` may record `event` on `request` now; return the new state.

    Raises PermissionDenied (wrong role, wrong state, separation of duties) or
    ValidationError (missing/invalid body fields, hash bindings). `state` is updated in
    place when given (callers replay entries in order).
    """
    where = f"request {request}"
    if event not in TRANSITIONS:
        raise ValidationError(
            f"unknown event type {event!r}", where=where,
            hint=f"one of: {', '.join(EVENT_TYPES)}",
        )
    rule = TRANSITIONS[event]
    current = state.state if state is not None else None
    if not actor.active:
        raise PermissionDenied(f"key {actor.name!r} is revoked", where=where)
    if actor.role not in rule.roles:
        raise PermissionDenied(
            f"{event} must be signed by {' or '.join(rule.roles)}, not by {actor.name!r} "
            f"({actor.role})",
            where=where,
        )
    if current not in rule.sources:
        now = "does not exist" if current is None else f"is {current}"
        allowed = ", ".join(s or "new" for s in rule.sources)
        raise PermissionDenied(
            f"{event} is not allowed: the request {now}", where=where,
            hint=f"{event} is allowed when the request is: {allowed}",
        )
    _check_body(event, body, where)
    st = state if state is not None else RequestState(request)
    role_before = st.persons.get(actor.person)
    if role_before is not None and role_before != actor.role:
        raise PermissionDenied(
            f"{actor.person!r} already acted as {role_before} on this request and may not "
            f"act as {actor.role}", where=where,
            hint="separation of duties: one person holds one role per request",
        )

    target = rule.target
    if event == "submission":
        if current == "returned" and actor.person != st.requester_person:
            raise PermissionDenied(
                "only the original requester may resubmit", where=where,
            )
        st.requester, st.requester_person = actor.name, actor.person
        st.spec_sha256 = body["spec_sha256"]
        st.title = body["title"]
        org = body.get("organisation")
        if org is None and isinstance(body.get("requester"), dict):
            org = body["requester"].get("organisation")
        st.organisation = org if isinstance(org, str) else st.organisation
    elif event == "approval":
        if body["spec_sha256"] != st.spec_sha256:
            raise ValidationError(
                "approval is for another version of the spec (spec_sha256 differs from the "
                "submitted one)", where=where, hint="review the latest submission",
            )
        st.conditions = body["conditions"]
    elif event == "amendment":
        st.conditions = body["conditions"]
    elif event == "extraction":
        st.manifest_sha256 = None
        st.coded = False
    elif event == "coding":
        st.coded = True
    elif event == "disclosure_result":
        if body["passed"]:
            st.manifest_sha256 = body["manifest_sha256"]
            target = "protected"
        else:
            st.manifest_sha256 = None
            target = st._back()
    elif event == "output_check":
        _same_manifest(body, st.manifest_sha256, "the passed disclosure result", where)
        if body["decision"] == "approve":
            target = "output_checked"
        elif body["decision"] == "return":
            st.manifest_sha256 = None
            target = st._back()
        else:
            raise ValidationError(
                f"output_check decision {body['decision']!r} is not approve or return",
                where=f"{where}.body.decision",
            )
    elif event == "signoff":
        _same_manifest(body, st.manifest_sha256, "the checked output", where)
        _check_manifest(body, where)
        st.signoff_seq = seq
        st.signoff_manifest = body["manifest"]
    elif event == "release":
        _same_manifest(body, st.manifest_sha256, "the signed-off manifest", where)
        cp = body["checkpoint"]
        size, root = cp.get("size"), cp.get("root")
        if not isinstance(size, int) or isinstance(size, bool) or not isinstance(root, str):
            raise ValidationError(
                "release checkpoint must be {size: int, root: base64}",
                where=f"{where}.body.checkpoint",
            )
        assert st.signoff_seq is not None  # signed_off implies a signoff
        if size <= st.signoff_seq:
            raise PermissionDenied(
                f"the cited checkpoint (size {size}) does not include the signoff "
                f"(entry {st.signoff_seq})", where=where,
                hint="issue a checkpoint after the signoff and have the witness cosign it",
            )
        if witness_check is None:
            raise PermissionDenied("no witness check available for a release", where=where)
        witness_check(size, root, st.signoff_seq)
        st.released_manifest_sha256 = body["manifest_sha256"]
    elif event == "access":
        if actor.person != st.requester_person:
            raise PermissionDenied(
                f"access by {actor.name!r}: only the requester opens a release", where=where
            )
        if body["sha256"] not in _manifest_hashes(st.signoff_manifest):
            raise PermissionDenied(
                "access to a file that is not in the released manifest", where=where,
                hint="only files listed in the signed manifest leave the service",
            )
    st.persons[actor.person] = actor.role
    if target is not None:
        st.state = target
    return st


def _same_manifest(body: dict[str, Any], expected: str | None, what: str, where: str) -> None:
    if body["manifest_sha256"] != expected:
        raise ValidationError(
            f"manifest_sha256 does not match {what}", where=f"{where}.body.manifest_sha256",
            hint="the files must be exactly those the previous step approved",
        )


def _check_manifest(body: dict[str, Any], where: str) -> None:
    manifest = body.get("manifest")
    if not isinstance(manifest, dict) or sha256_hex(manifest) != body["manifest_sha256"]:
        raise ValidationError(
            "manifest does not hash to manifest_sha256 (SHA-256 of its canonical JSON)",
            where=f"{where}.body.manifest",
            hint="compute it with primex.audit.canonical.sha256_hex(manifest)",
        )
