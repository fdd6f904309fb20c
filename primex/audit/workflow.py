"""The request life cycle as data, and the one function that applies an event to a state.

Both the log (refusing an append) and the verifier (replaying the log) call
:func:`apply_event`, so there is exactly one definition of what is allowed. Who may sign
(the role column, the registry, revocation, signatures) is decided by
:mod:`primex.audit.trust`, which reads the role column from this table.

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
output_check       privacy_officer                     protected, output_checked    output_checked
                                                                                    once enough
                                                                                    officers
                                                                                    approved (*),
                                                                                    or back
                                                                                    (return)
signoff            president                           output_checked, with (*)     signed_off
release            spp_operator                        signed_off                   released
access             researcher (the requester)          released                     released
closure            privacy_officer, spp_operator       any but rejected/closed      closed
linkage_key_       bcss_operator                       (no request)
rotation
key_add            committee (or self, at bootstrap)   (no request)
key_revoke         committee                           (no request)
=================  ==================================  ===========================  ===========

"back" = ``coded`` if the request was coded, else ``extracted``.

(*) Four eyes (contract C6): the approval's conditions carry ``output_checks`` (N, from
policy.yaml ``output_check.checkers``; 1 when absent). The output is ``output_checked`` once
N DIFFERENT privacy officers (persons) approved it after its latest disclosure result; an
officer who already approved it may not check it again, and a sign-off with fewer approvals
is refused (Reason.FOUR_EYES). A check from ``output_checked`` is a further officer's
decision on the same manifest (e.g. when the policy was raised after the first check).

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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from primex.audit.canonical import sha256_hex
from primex.audit.reasons import Forbidden, Invalid, Reason

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
        ("privacy_officer",), ("protected", "output_checked"), None,
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
    # the organisation a researcher acts for (contract C5: the service's per-organisation
    # visibility reads it here, never from its own database); None on logs from before
    organisation: str | None = None
    # a researcher's release encryption key (primex-x25519:<base64>) as its key_add carries
    # it: `keys list` shows it for the committee's `keys register --x25519`
    x25519: str | None = None

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
    # C1 chain of custody: SHA-256 of the files the latest extraction / coding recorded
    # (None: no manifest recorded); the verifier checks each next step's inputs against them
    extraction_files: list[str] | None = None
    coding_files: list[str] | None = None
    # four eyes: persons who approved the current output since its disclosure result
    output_checkers: list[str] = field(default_factory=list)
    persons: dict[str, str] = field(default_factory=dict)  # person -> role in this request
    history: list[Any] = field(default_factory=list)  # Entry objects, oldest first
    last_leaf: str | None = None

    def _back(self) -> str:
        return "coded" if self.coded else "extracted"

    @property
    def output_checks_required(self) -> int:
        """How many different officers must approve the output (the conditions in force)."""
        return required_output_checks(self.conditions)


def required_output_checks(conditions: dict[str, Any] | None) -> int:
    """`output_checks` of an approval's (or amendment's) conditions; 1 when absent (logs
    from before four eyes)."""
    value = (conditions or {}).get("output_checks", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


WitnessCheck = Callable[[int, str, int], None]
"""(checkpoint size, base64 root, signoff seq) -> None; raises if not a witnessed checkpoint
of this log that includes the signoff."""


def _check_body(event: str, body: dict[str, Any], where: str) -> None:
    if not isinstance(body, dict):
        raise Invalid(Reason.WORKFLOW, f"{event} body must be an object", where=where)
    spec = TRANSITIONS[event].required if event in TRANSITIONS else ()
    for name, kind in spec:
        if name not in body:
            raise Invalid(
                Reason.WORKFLOW, f"{event} needs body field {name!r}", where=f"{where}.body",
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
            raise Invalid(
                Reason.WORKFLOW,
                f"{event} body field {name!r} is invalid", where=f"{where}.body.{name}",
                hint=f"expected {hint}",
            )


def _recorded_files(body: dict[str, Any]) -> list[str] | None:
    manifest = body.get("manifest")
    return sorted(_manifest_hashes(manifest)) if isinstance(manifest, dict) else None


def _manifest_hashes(manifest: dict[str, Any] | None) -> set[str]:
    files = (manifest or {}).get("files") or []
    return {f.get("sha256") for f in files if isinstance(f, dict)} - {None}


def check_global_event(event: str, body: dict[str, Any], where: str) -> None:
    """The body of an installation-wide event (GLOBAL_EVENTS: no request, chained like the
    key events); who may sign it is decided by primex.audit.trust from the roles above."""
    _check_body(event, body, where)


def apply_event(
    state: RequestState | None,
    request: str,
    event: str,
    body: dict[str, Any],
    actor: KeyInfo,
    seq: int,
    witness_check: WitnessCheck | None = None,
) -> RequestState:
    """Check that the request's state allows `event` now; return the new state.

    `actor` was already authorised by :func:`primex.audit.trust.authorize_actor` (registered,
    active, role of this table). Raises Forbidden (wrong state, separation of duties) or
    Invalid (missing/invalid body fields, hash bindings), each with its Reason. `state` is
    updated in place when given (callers replay entries in order).
    """
    where = f"request {request}"
    if event not in TRANSITIONS:
        raise Invalid(
            Reason.WORKFLOW, f"unknown event type {event!r}", where=where,
            hint=f"one of: {', '.join(EVENT_TYPES)}",
        )
    rule = TRANSITIONS[event]
    current = state.state if state is not None else None
    if event == "signoff" and state is not None and current == "protected" \
            and state.output_checkers:
        _too_few_checks(state, where)
    if current not in rule.sources:
        now = "does not exist" if current is None else f"is {current}"
        allowed = ", ".join(s or "new" for s in rule.sources)
        raise Forbidden(
            Reason.WORKFLOW, f"{event} is not allowed: the request {now}", where=where,
            hint=f"{event} is allowed when the request is: {allowed}",
        )
    _check_body(event, body, where)
    st = state if state is not None else RequestState(request)
    role_before = st.persons.get(actor.person)
    if role_before is not None and role_before != actor.role:
        raise Forbidden(
            Reason.SEPARATION,
            f"{actor.person!r} already acted as {role_before} on this request and may not "
            f"act as {actor.role}", where=where,
            hint="separation of duties: one person holds one role per request",
        )

    target = rule.target
    if event == "submission":
        if current == "returned" and actor.person != st.requester_person:
            raise Forbidden(
                Reason.SEPARATION, "only the original requester may resubmit", where=where,
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
            raise Invalid(
                Reason.WORKFLOW,
                "approval is for another version of the spec (spec_sha256 differs from the "
                "submitted one)", where=where, hint="review the latest submission",
            )
        _check_output_checks(body["conditions"], where)
        st.conditions = body["conditions"]
    elif event == "amendment":
        _check_output_checks(body["conditions"], where)
        if required_output_checks(body["conditions"]) < st.output_checks_required:
            raise Forbidden(
                Reason.FOUR_EYES, "an amendment may not lower the number of output checks",
                where=f"{where}.body.conditions.output_checks",
                hint="conditions only tighten",
            )
        st.conditions = body["conditions"]
    elif event == "extraction":
        st.manifest_sha256 = None
        st.coded = False
        st.extraction_files = _recorded_files(body)
        st.coding_files = None
    elif event == "coding":
        st.coded = True
        st.coding_files = _recorded_files(body)
    elif event == "disclosure_result":
        st.output_checkers = []
        if body["passed"]:
            st.manifest_sha256 = body["manifest_sha256"]
            target = "protected"
        else:
            st.manifest_sha256 = None
            target = st._back()
    elif event == "output_check":
        _same_manifest(body, st.manifest_sha256, "the passed disclosure result", where)
        if body["decision"] == "approve":
            if actor.person in st.output_checkers:
                raise Forbidden(
                    Reason.FOUR_EYES,
                    f"{actor.person!r} already approved this output; the next check must "
                    "come from another privacy officer", where=where,
                    hint="four eyes: two different officers check each output",
                )
            st.output_checkers = [*st.output_checkers, actor.person]
            enough = len(st.output_checkers) >= st.output_checks_required
            target = "output_checked" if enough else "protected"
        elif body["decision"] == "return":
            st.manifest_sha256 = None
            st.output_checkers = []
            target = st._back()
        else:
            raise Invalid(
                Reason.WORKFLOW,
                f"output_check decision {body['decision']!r} is not approve or return",
                where=f"{where}.body.decision",
            )
    elif event == "signoff":
        if len(st.output_checkers) < st.output_checks_required:
            _too_few_checks(st, where)
        _same_manifest(body, st.manifest_sha256, "the checked output", where)
        _check_manifest(body, where)
        st.signoff_seq = seq
        st.signoff_manifest = body["manifest"]
    elif event == "release":
        _same_manifest(body, st.manifest_sha256, "the signed-off manifest", where)
        cp = body["checkpoint"]
        size, root = cp.get("size"), cp.get("root")
        if not isinstance(size, int) or isinstance(size, bool) or not isinstance(root, str):
            raise Invalid(
                Reason.WORKFLOW, "release checkpoint must be {size: int, root: base64}",
                where=f"{where}.body.checkpoint",
            )
        assert st.signoff_seq is not None  # signed_off implies a signoff
        if size <= st.signoff_seq:
            raise Forbidden(
                Reason.WORKFLOW, f"the cited checkpoint (size {size}) does not include the signoff "
                f"(entry {st.signoff_seq})", where=where,
                hint="issue a checkpoint after the signoff and have the witness cosign it",
            )
        if witness_check is None:
            raise Forbidden(
                Reason.WORKFLOW, "no witness check available for a release", where=where
            )
        witness_check(size, root, st.signoff_seq)
        st.released_manifest_sha256 = body["manifest_sha256"]
    elif event == "access":
        if actor.person != st.requester_person:
            raise Forbidden(
                Reason.SEPARATION,
                f"access by {actor.name!r}: only the requester opens a release", where=where
            )
        if body["sha256"] not in _manifest_hashes(st.signoff_manifest):
            raise Forbidden(
                Reason.WORKFLOW,
                "access to a file that is not in the released manifest", where=where,
                hint="only files listed in the signed manifest leave the service",
            )
    st.persons[actor.person] = actor.role
    if target is not None:
        st.state = target
    return st


def _too_few_checks(st: RequestState, where: str) -> None:
    raise Forbidden(
        Reason.FOUR_EYES,
        f"sign-off refused: {len(st.output_checkers)} of {st.output_checks_required} "
        "output checks", where=where,
        hint="four eyes: another privacy officer must check the output first",
    )


def _check_output_checks(conditions: dict[str, Any], where: str) -> None:
    value = conditions.get("output_checks", 1)
    if isinstance(value, bool) or value not in (1, 2):
        raise Invalid(Reason.WORKFLOW, "conditions.output_checks must be 1 or 2",
                      where=f"{where}.body.conditions.output_checks")


def _same_manifest(body: dict[str, Any], expected: str | None, what: str, where: str) -> None:
    if body["manifest_sha256"] != expected:
        raise Invalid(
            Reason.WORKFLOW,
            f"manifest_sha256 does not match {what}", where=f"{where}.body.manifest_sha256",
            hint="the files must be exactly those the previous step approved",
        )


def _check_manifest(body: dict[str, Any], where: str) -> None:
    manifest = body.get("manifest")
    if not isinstance(manifest, dict) or sha256_hex(manifest) != body["manifest_sha256"]:
        raise Invalid(
            Reason.WORKFLOW,
            "manifest does not hash to manifest_sha256 (SHA-256 of its canonical JSON)",
            where=f"{where}.body.manifest",
            hint="compute it with primex.audit.canonical.sha256_hex(manifest)",
        )
