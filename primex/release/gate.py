"""The release gate: nothing leaves unless the log holds the president's valid sign-off over
exactly the files about to leave, witnessed by the committee.

`check_release(home, request_id)` rebuilds the manifest from the files in
`<spp_work>/<request_id>/protected/` and re-verifies, from the raw log entries rather than
from the log's own bookkeeping (the log replay does not check signatures), that:

1. the request is `signed_off` (not yet released) and its last `signoff` entry is the one
   that follows the passed disclosure result and the officer's output check;
2. the signed manifest hashes to the signed `manifest_sha256` and equals the rebuilt one;
   nothing else lies in `protected/` but the disclosure report and the readable reports the
   sign-off lists by SHA-256 (`reports`);
3. the sign-off signature verifies under a key registered for the `president` role, added
   before the sign-off by a valid registration, and not revoked;
4. the latest `disclosure_result` before the sign-off passed, is for that same manifest and
   is signed by a valid `spp_operator` key; the output check approved that manifest; the
   disclosure report on disk says `passed` for that manifest and hashes to the
   `report_sha256` of the entry;
5. the sign-off entry is included (RFC 9162 inclusion proof, verified here) in a checkpoint
   that the log signed and an active committee key cosigned;
6. every entry of the request's history up to the sign-off is signed by a valid,
   unrevoked key of the role the workflow requires (so a forged submission or approval
   stops the release, whatever the log's replay says);
7. the recipient (`requester.public_key` of the approved spec) is a researcher key the
   committee registered to the requester or their organisation, or the recipient the
   privacy officer approved by fingerprint (:mod:`primex.release.recipient`);
8. no file that leaves has an identifying column or a national-number-like value
   (:mod:`primex.release.leak_scan`);
9. four eyes (CONTRACTS.md C6): the output was approved, after its disclosure result and
   for the signed manifest, by as many DIFFERENT privacy officers (persons, each entry's
   signature verified) as the approval recorded and as policy.yaml `output_check.checkers`
   asks now (`too_few_output_checks`).

Each refusal raises :class:`ReleaseRefused` (a PermissionDenied: the workflow does not allow
it yet) or :class:`ReleaseTampered` (an IntegrityError: something does not verify), with
`.reason` one of :data:`REASONS`. On success it returns the :class:`Evidence` the package is
built from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.audit import merkle, trust
from primex.audit.checkpoint import Checkpoint
from primex.audit.log import AuditLog, Entry, open_log
from primex.audit.reasons import Forbidden, Reason, Untrusted
from primex.audit.workflow import TRANSITIONS, KeyInfo, required_output_checks
from primex.catalogue import load_policy
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.exchange import envelope
from primex.exchange.manifest import Manifest, manifest_from_dict
from primex.home import Home
from primex.release.leak_scan import Finding, scan_bytes, scan_file
from primex.release.manifest import (
    PROTECTED_DIR,
    READABLE_REPORTS,
    REPORT_JSON,
    STEP_MANIFEST,
    collect_protected,
)
from primex.release.recipient import KeyOwner, RecipientView, key_owners, recipient_view
from primex.requests.store import read_stored
from primex.requests.yaml_loader import load_yaml


class ReleaseRefused(PermissionDenied):
    """The gate refuses: the workflow does not (yet) allow this release."""

    def __init__(self, reason: str, what: str, *, where: str, hint: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"release refused ({reason}): {what}", where=where, hint=hint)


class ReleaseTampered(IntegrityError):
    """The gate refuses: a file, a signature, a hash or a proof does not verify."""

    def __init__(self, reason: str, what: str, *, where: str, hint: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"release refused ({reason}): {what}", where=where, hint=hint)


# reason -> exception class; every refusal of the gate is one of these.
REASONS: dict[str, type[ReleaseRefused] | type[ReleaseTampered]] = {
    "already_released": ReleaseRefused,
    "no_signoff": ReleaseRefused,
    "no_disclosure_result": ReleaseRefused,
    "disclosure_not_passed": ReleaseRefused,
    "no_output_check": ReleaseRefused,
    "too_few_output_checks": ReleaseRefused,
    "unknown_key": ReleaseRefused,
    "wrong_role": ReleaseRefused,
    "revoked_key": ReleaseRefused,
    "not_witnessed": ReleaseRefused,
    "no_recipient": ReleaseRefused,
    "unregistered_recipient": ReleaseRefused,
    "identifying_column": ReleaseRefused,
    "niss_found": ReleaseRefused,
    "unsigned_file": ReleaseTampered,
    "recipient_not_signed": ReleaseTampered,
    "manifest_mismatch": ReleaseTampered,
    "malformed_signoff": ReleaseTampered,
    "bad_signature": ReleaseTampered,
    "bad_key_registration": ReleaseTampered,
    "disclosure_other_manifest": ReleaseTampered,
    "report_mismatch": ReleaseTampered,
    "inclusion_failed": ReleaseTampered,
}


def _refuse(reason: str, what: str, where: str, hint: str | None = None) -> PrimexError:
    return REASONS[reason](reason, what, where=where, hint=hint)


@dataclass(frozen=True)
class Evidence:
    """Everything the gate verified, which the package carries so it verifies offline."""

    request: str
    title: str
    manifest: Manifest
    protected: Path
    signoff: Entry
    disclosure: Entry
    output_check: Entry
    checkpoint: Checkpoint
    entries: tuple[Entry, ...]  # request history up to the sign-off, and the key entries
    proofs: dict[int, list[bytes]]  # seq -> inclusion proof in `checkpoint`
    report_json: bytes
    report_extra: dict[str, bytes]  # the readable reports (.md, .html) the sign-off binds
    recipient: str
    recipient_view: RecipientView


def protected_dir(home: Home, request_id: str) -> Path:
    return home.spp_work / request_id / PROTECTED_DIR


def verify_entry(log: AuditLog, entry: Entry, roles: tuple[str, ...], what: str) -> KeyInfo:
    """Check `entry`'s signature, its signer's role, registration and revocation (the
    decisions are primex.audit.trust's; here they become the gate's refusal reasons)."""
    try:
        return trust.verify_signer(log, entry, roles)
    except (Forbidden, Untrusted) as exc:
        raise _refuse(
            _TRUST_REASONS.get(exc.reason, "bad_signature"), f"the {what}: {exc.what}",
            f"request {entry.request}, entry {entry.seq} ({entry.type})",
            hint="the committee should run `primex audit verify`",
        ) from None


_TRUST_REASONS = {
    Reason.UNKNOWN_KEY: "unknown_key", Reason.WRONG_ROLE: "wrong_role",
    Reason.REVOKED_KEY: "revoked_key", Reason.BAD_SIGNATURE: "bad_signature",
    Reason.BAD_REGISTRATION: "bad_key_registration",
    Reason.FOUR_EYES: "too_few_output_checks",
}


def _last(history: list[Entry], kind: str, before: int | None = None) -> Entry | None:
    found = [e for e in history if e.type == kind and (before is None or e.seq < before)]
    return found[-1] if found else None


def read_recipient(home: Home, spec_sha256: str | None, request_id: str) -> str:
    """`requester.public_key` of the approved spec (stored by hash, see primex.requests.store)."""
    where = f"request {request_id}"
    if spec_sha256 is None:
        raise _refuse("no_recipient", "the request has no submitted spec", where)
    raw = read_stored(home, spec_sha256, request_id=request_id)
    try:
        key = load_yaml(raw, f"{request_id}.yaml").data["requester"]["public_key"]
    except (PrimexError, KeyError, TypeError):
        raise _refuse(
            "no_recipient", "the approved spec has no requester.public_key", where,
            hint="the research centre must submit a spec with its encryption key",
        ) from None
    envelope.parse_public_key(key, where=f"{where}: requester.public_key")
    return str(key)


def check_release(home: Home, request_id: str, *, log: AuditLog | None = None) -> Evidence:
    """Run every check of the gate; return the verified evidence or raise the refusal."""
    log = log or open_log(home, create=False)
    where = f"request {request_id}"
    try:  # 0. every entry of the request's history is validly signed (primex.audit.trust)
        log.refresh()
        verified = trust.verify_request_history(log, request_id)
    except (Forbidden, Untrusted) as exc:
        raise _refuse(_TRUST_REASONS.get(exc.reason, "bad_signature"), exc.what,
                      exc.where or where, hint=exc.hint) from None
    state, history = verified.state, list(verified.entries)
    if state.state == "released":
        raise _refuse("already_released", "this request was already released", where)
    signoff = _last(history, "signoff")
    if state.state != "signed_off" or signoff is None:
        raise _refuse(
            "no_signoff",
            f"the request is {state.state}, not signed off by the president",
            where,
            hint="the president signs the manifest with `primex signoff ID --as KEY`",
        )
    # A sign-off is only valid for the last protected output: nothing may follow it.
    if history[-1].seq != signoff.seq:
        raise _refuse("no_signoff", "entries follow the sign-off; it no longer applies", where)

    # 2. the manifest: signed == hashed == rebuilt from the files
    signed = _signed_manifest(signoff, where)
    protected = protected_dir(home, request_id)
    _check_files_on_disk(protected, signed, where)

    # 3. the president's signature
    verify_entry(log, signoff, ("president",), "sign-off")

    # 4. the disclosure result and the output check for this manifest
    disclosure = _last(history, "disclosure_result", before=signoff.seq)
    if disclosure is None:
        raise _refuse("no_disclosure_result", "no disclosure result before the sign-off", where)
    if disclosure.body.get("passed") is not True:
        raise _refuse(
            "disclosure_not_passed", "the last disclosure result before the sign-off failed",
            where, hint="protect the output again until it passes",
        )
    if disclosure.body.get("manifest_sha256") != signed.sha256:
        raise _refuse(
            "disclosure_other_manifest",
            "the passed disclosure result is for another manifest than the signed one",
            where=f"entry {disclosure.seq}",
        )
    verify_entry(log, disclosure, ("spp_operator",), "disclosure result")
    check = _last(history, "output_check", before=signoff.seq)
    if (
        check is None
        or check.seq < disclosure.seq
        or check.body.get("decision") != "approve"
        or check.body.get("manifest_sha256") != signed.sha256
    ):
        raise _refuse(
            "no_output_check",
            "the privacy officer did not approve this output after its disclosure result",
            where,
            hint="`primex review output-check ID --as OFFICER --approve`",
        )
    verify_entry(log, check, ("privacy_officer",), "output check")
    # 9. four eyes: enough different officers approved exactly this output
    check_output_checks(log, history, disclosure.seq, signoff.seq, signed.sha256,
                        state.conditions, where)
    report_json = _check_report(protected, disclosure, signed)
    report_extra = _check_readable_reports(protected, signoff, where)

    # 6. every signature of the request's history, then 7. the recipient it approved
    verify_history(log, [e for e in history if e.seq <= signoff.seq])
    recipient, view = check_recipient(home, log, request_id, history)
    if signoff.body.get("recipient") != view.fingerprint:
        raise _refuse(
            "recipient_not_signed",
            f"the president's sign-off is not for the recipient key {view.fingerprint}",
            f"entry {signoff.seq}",
            hint="the sign-off binds the recipient's fingerprint; a new sign-off is needed",
        )

    # 8. what leaves holds no identifying column and no national number
    _scan_release(protected, signed, {REPORT_JSON: report_json, **report_extra})

    # 5. witnessed checkpoint and inclusion proof of the sign-off
    checkpoint = log.witnessed_checkpoint(signoff.seq)
    if checkpoint is None:
        raise _refuse(
            "not_witnessed",
            f"no checkpoint cosigned by the committee's witness includes the sign-off "
            f"(entry {signoff.seq})",
            where,
            hint="push the checkpoint to the committee's witness (`primex audit witness push`, "
            "or PRIMEX_WITNESS_URL) or have it cosign (`primex audit witness cosign`); "
            "then release again",
        )
    evidence_entries = _evidence_entries(log, history, signoff, checkpoint)
    proofs: dict[int, list[bytes]] = {}
    for entry in evidence_entries:
        proof = log.inclusion_proof(entry.seq, checkpoint.size)
        try:
            merkle.verify_inclusion(
                entry.leaf_hash, entry.seq, checkpoint.size, proof, checkpoint.root
            )
        except IntegrityError as exc:
            raise _refuse(
                "inclusion_failed",
                f"entry {entry.seq} is not in the witnessed checkpoint: {exc.what}",
                where,
            ) from None
        proofs[entry.seq] = proof

    return Evidence(
        request=request_id,
        title=state.title or request_id,
        manifest=signed,
        protected=protected,
        signoff=signoff,
        disclosure=disclosure,
        output_check=check,
        checkpoint=checkpoint,
        entries=tuple(evidence_entries),
        proofs=proofs,
        report_json=report_json,
        report_extra=report_extra,
        recipient=recipient,
        recipient_view=view,
    )


def output_checkers(log: AuditLog, history: list[Entry], after: int, before: int,
                    manifest_sha256: str) -> list[str]:
    """The persons who approved `manifest_sha256` between entries `after` and `before`
    (each check's signature verified, a key counted by the person it was registered to)."""
    persons: list[str] = []
    for entry in history:
        if entry.type != "output_check" or not after < entry.seq < before:
            continue
        if entry.body.get("decision") != "approve" or \
                entry.body.get("manifest_sha256") != manifest_sha256:
            continue
        info = verify_entry(log, entry, ("privacy_officer",), "output check")
        if info.person not in persons:
            persons.append(info.person)
    return persons


def required_checks(conditions: dict[str, Any] | None) -> int:
    """The number of different officers an output needs: the approval's recorded number or
    the policy's now, whichever is larger (raising the policy applies at once)."""
    return max(required_output_checks(conditions), load_policy().output_check.checkers)


def check_output_checks(log: AuditLog, history: list[Entry], after: int, before: int,
                        manifest_sha256: str, conditions: dict[str, Any] | None,
                        where: str) -> list[str]:
    """Refuse (`too_few_output_checks`) unless enough different officers approved."""
    persons = output_checkers(log, history, after, before, manifest_sha256)
    needed = required_checks(conditions)
    if len(persons) < needed:
        raise _refuse(
            "too_few_output_checks",
            f"{len(persons)} of {needed} output checks by different privacy officers",
            where,
            hint="four eyes: another privacy officer runs `primex review output-check ID "
            "--as OFFICER --approve` (policy.yaml output_check.checkers)",
        )
    return persons


def _signed_manifest(signoff: Entry, where: str) -> Manifest:
    body = signoff.body
    try:
        signed = manifest_from_dict(body.get("manifest"), where=f"{where}: signoff.manifest")
    except PrimexError as exc:
        raise _refuse("malformed_signoff", exc.what, where) from None
    if signed.sha256 != body.get("manifest_sha256"):
        raise _refuse(
            "malformed_signoff", "the signed manifest does not hash to manifest_sha256", where
        )
    return signed


def _check_files_on_disk(protected: Path, signed: Manifest, where: str) -> None:
    """The data files are exactly the signed ones (names, bytes, SHA-256)."""
    try:
        rebuilt = collect_protected(protected.parent)
    except PrimexError as exc:
        raise _refuse(
            "manifest_mismatch", f"the protected files cannot be manifested: {exc.what}", where
        ) from None
    if rebuilt.sha256 != signed.sha256:
        raise _refuse(
            "manifest_mismatch",
            "the files to release are not the signed ones: "
            + "; ".join(signed.differences(rebuilt)),
            where=str(protected),
            hint="release exactly what was signed off, or protect again and get a new sign-off",
        )


def verify_history(log: AuditLog, history: list[Entry]) -> None:
    """Every entry of a request's history is signed by a valid key of the role its event
    requires (the log's replay checks links and workflow rules, not signatures)."""
    for entry in history:
        rule = TRANSITIONS.get(entry.type)
        if rule is None:
            raise _refuse(
                "bad_signature", f"unknown event type {entry.type!r} in the history",
                f"request {entry.request}, entry {entry.seq}",
            )
        verify_entry(log, entry, rule.roles, entry.type)


def verified_owners(log: AuditLog, key: str) -> list[KeyOwner]:
    """Owners of `key` whose registration is validly signed (a forged key_add is none)."""
    owners = []
    for owner in key_owners(log, key):
        try:
            trust.check_registration(owner.info, log.entry(owner.info.added_seq), log.registry)
        except PrimexError:
            continue
        owners.append(owner)
    return owners


def check_recipient(
    home: Home, log: AuditLog, request_id: str, history: list[Entry]
) -> tuple[str, RecipientView]:
    """The recipient of the spec the (verified) approval approved, and that it is allowed."""
    where = f"request {request_id}"
    approval = _last(history, "approval")
    spec_sha256 = approval.body.get("spec_sha256") if approval is not None else None
    recipient = read_recipient(home, spec_sha256, request_id)
    state = log.state(request_id)
    view = recipient_view(
        log, recipient, requester_person=state.requester_person,
        organisation=state.organisation, history=history,
        owners=verified_owners(log, recipient),
    )
    if not view.allowed:
        raise _refuse(
            "unregistered_recipient", view.describe(), where,
            hint="the researcher registers their key (`primex keys init --role researcher`, "
            "added by the committee) and resubmits, or the officer approves this recipient "
            "(`primex review approve ID --recipient FINGERPRINT`)",
        )
    return recipient, view


def _scan_release(protected: Path, signed: Manifest, reports: dict[str, bytes]) -> None:
    """Every file that leaves: the data files (re-hashed as read) and the reports."""
    for entry in signed.files:
        findings, same = scan_file(protected, entry)
        if not same:
            raise _refuse(
                "manifest_mismatch", f"{entry.name} changed while it was being checked",
                str(protected), hint="nothing was released; find out who writes to it",
            )
        _refuse_findings(findings, protected / entry.name)
    for name, data in sorted(reports.items()):
        _refuse_findings(scan_bytes(name, data), protected / name)


def _refuse_findings(findings: list[Finding], path: Path) -> None:
    if findings:
        first = findings[0]
        raise _refuse(
            first.reason, first.describe(), str(path),
            hint="identifying data never leaves: fix the protection step's output and "
            "protect again (nothing was released)",
        )


def _check_report(protected: Path, disclosure: Entry, signed: Manifest) -> bytes:
    where = str(protected / REPORT_JSON)
    try:
        raw = (protected / REPORT_JSON).read_bytes()
        report: Any = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise _refuse("report_mismatch", f"no readable disclosure report ({exc})", where) from None
    if hashlib.sha256(raw).hexdigest() != disclosure.body.get("report_sha256"):
        raise _refuse(
            "report_mismatch",
            "the disclosure report on disk is not the one the disclosure result recorded",
            where,
        )
    if not isinstance(report, dict) or report.get("passed") is not True:
        raise _refuse("report_mismatch", "the disclosure report does not say passed", where)
    if report.get("manifest_sha256") != signed.sha256:
        raise _refuse(
            "disclosure_other_manifest",
            "the disclosure report is for another manifest than the signed one",
            where,
        )
    return raw


def signed_reports(signoff: Entry, where: str) -> Manifest | None:
    """The readable reports the sign-off binds (`reports`: a manifest), or None."""
    raw = signoff.body.get("reports")
    if raw is None:
        return None
    try:
        reports = manifest_from_dict(raw, where=f"{where}: signoff.reports")
    except PrimexError as exc:
        raise _refuse("malformed_signoff", exc.what, where) from None
    unknown = set(reports.names) - set(READABLE_REPORTS)
    if unknown:
        raise _refuse(
            "malformed_signoff", f"the sign-off lists unknown reports {sorted(unknown)}", where
        )
    return reports


def _check_readable_reports(protected: Path, signoff: Entry, where: str) -> dict[str, bytes]:
    """The readable reports that leave: exactly those the sign-off lists, byte for byte.

    Anything else in `protected/` besides the data files (checked against the manifest), the
    JSON report (bound by the disclosure result) and a step's `manifest.json` (never
    packaged) is refused: a report written or changed after the sign-off never leaves."""
    reports = signed_reports(signoff, where)
    bound = {f.name: f for f in reports.files} if reports else {}
    extra: dict[str, bytes] = {}
    for name in READABLE_REPORTS:
        path = protected / name
        if name not in bound:
            if path.exists() or path.is_symlink():
                raise _refuse(
                    "unsigned_file",
                    f"{name} is not covered by the president's sign-off",
                    str(path),
                    hint="remove it, or protect again and get a new sign-off; only signed "
                    "bytes leave",
                )
            continue
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        if data is None or (len(data), hashlib.sha256(data).hexdigest()) != (
            bound[name].bytes, bound[name].sha256
        ):
            raise _refuse(
                "unsigned_file",
                f"{name} is not the report the president signed off (missing or changed)",
                str(path),
                hint="restore the signed report, or protect again and get a new sign-off",
            )
        extra[name] = data
    assert STEP_MANIFEST not in extra  # never packaged from disk: the package writes its own
    return extra


def _evidence_entries(
    log: AuditLog, history: list[Entry], signoff: Entry, checkpoint: Checkpoint
) -> list[Entry]:
    """The request's history up to the sign-off, the genesis entry (log key and origin), and
    the registration of every key that signed one of them or cosigned the checkpoint."""
    everything = _EntryAt(log)  # verified one at a time, not the whole log
    chosen = {e.seq: e for e in history if e.seq <= signoff.seq}
    chosen[0] = everything[0]
    cosigners = set(log.cosigners(checkpoint))
    for name in {e.actor for e in chosen.values()} | cosigners:
        info = log.registry.keys.get(name)
        if info is not None and info.added_seq < checkpoint.size:
            chosen[info.added_seq] = everything[info.added_seq]
            registrar = log.registry.keys.get(everything[info.added_seq].actor)
            if registrar is not None and registrar.added_seq < checkpoint.size:
                chosen[registrar.added_seq] = everything[registrar.added_seq]
    if not any(e.type == "key_add" and e.body.get("name") in cosigners for e in chosen.values()):
        raise _refuse(
            "not_witnessed",
            "the witness key that cosigned the checkpoint was registered after it",
            f"checkpoint {checkpoint.size}",
        )
    return [chosen[s] for s in sorted(chosen)]


class _EntryAt:
    """`log.entry(seq)` by index (each entry verified on demand by primex.audit.log)."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    def __getitem__(self, seq: int) -> Entry:
        return self._log.entry(seq)
