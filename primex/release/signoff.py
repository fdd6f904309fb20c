"""The president's sign-off: what is shown before signing, and what the signature binds.

The president signs a `signoff` log entry whose body binds every byte that will leave and
who it is for:

    {"manifest_sha256": ..., "manifest": {"files": [...]},      the data files
     "reports": {"files": [...]},                               the readable disclosure
                                                                reports (.md/.html), if any
     "recipient": "<fingerprint of requester.public_key>"}      who the package is for

(the JSON disclosure report is bound by the disclosure result's `report_sha256`). The
entry's signature also covers the request id, the log origin and the link to the request's
previous entry, so it cannot be reused for another request or another version of the
output. Before anything is offered for signature the request's whole history is verified
(every signature), the manifest is rebuilt from the files on disk and must equal the one the
disclosure result passed and the privacy officer checked, and the recipient must be allowed
(:mod:`primex.release.recipient`); the view shows the recipient and whose key it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from primex.audit.keys import Signer
from primex.audit.log import AuditLog, Entry
from primex.errors import IntegrityError, PermissionDenied
from primex.exchange.manifest import Manifest, hash_file, make_manifest
from primex.home import Home
from primex.release.gate import (
    check_output_checks,
    check_recipient,
    protected_dir,
    verify_history,
)
from primex.release.manifest import READABLE_REPORTS, REPORT_JSON, collect_protected
from primex.release.recipient import RecipientView


@dataclass(frozen=True)
class SignoffView:
    request: str
    title: str
    organisation: str | None
    manifest: Manifest
    reports: Manifest | None  # the readable reports that leave with the data
    recipient: RecipientView
    report: dict[str, Any]
    conditions: dict[str, Any] | None
    disclosure_summary: Any


def readable_reports(home: Home, request_id: str) -> Manifest | None:
    """The readable disclosure reports now in `protected/` (None when there are none)."""
    protected = protected_dir(home, request_id)
    found = [
        hash_file(protected / name)
        for name in READABLE_REPORTS
        if (protected / name).is_file() and not (protected / name).is_symlink()
    ]
    return make_manifest(found, where=str(protected)) if found else None


def signoff_body(manifest: Manifest, reports: Manifest | None, recipient: str) -> dict[str, Any]:
    """The body the president signs (see the module docstring); `recipient` = fingerprint."""
    body: dict[str, Any] = {
        "manifest_sha256": manifest.sha256,
        "manifest": manifest.as_dict(),
        "recipient": recipient,
    }
    if reports is not None:
        body["reports"] = reports.as_dict()
    return body


def prepare_signoff(home: Home, log: AuditLog, request_id: str) -> SignoffView:
    """What the president sees; refuses unless the request awaits exactly these files."""
    log.refresh()
    state = log.state(request_id)
    where = f"request {request_id}"
    if state.state == "protected" and state.output_checkers:
        raise PermissionDenied(
            f"{len(state.output_checkers)} of {state.output_checks_required} output checks: "
            "the output cannot be signed off yet", where=where,
            hint="four eyes: another privacy officer runs `primex review output-check ID "
            "--as OFFICER --approve` first",
        )
    if state.state != "output_checked":
        raise PermissionDenied(
            f"the request is {state.state}; only an output checked by the privacy officer "
            "can be signed off",
            where=where,
            hint="`primex review output-check ID --as OFFICER --approve` comes first",
        )
    history = log.entries(request_id)
    verify_history(log, history)
    results = [e for e in history if e.type == "disclosure_result"]
    if results:  # four eyes (C6): as many different officers as the policy asks now
        check_output_checks(log, history, results[-1].seq, log.size + 1,
                            state.manifest_sha256 or "", state.conditions, where)
    _recipient, recipient = check_recipient(home, log, request_id, history)
    protected = protected_dir(home, request_id)
    manifest = collect_protected(protected.parent)
    if manifest.sha256 != state.manifest_sha256:
        raise IntegrityError(
            "the protected files are not the ones the disclosure result passed and the "
            "officer checked",
            where=str(protected),
            hint="the output changed after its check: protect and check it again",
        )
    try:
        report = json.loads((protected / REPORT_JSON).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IntegrityError(
            f"the disclosure report cannot be read ({exc})", where=str(protected / REPORT_JSON)
        ) from None
    return SignoffView(
        request=request_id,
        title=state.title or "",
        organisation=state.organisation,
        manifest=manifest,
        reports=readable_reports(home, request_id),
        recipient=recipient,
        report=report if isinstance(report, dict) else {},
        conditions=state.conditions,
        disclosure_summary=results[-1].body.get("summary") if results else None,
    )


def sign_off(log: AuditLog, view: SignoffView, signer: Signer) -> Entry:
    """Append the president's `signoff` over exactly what `view` showed."""
    return log.append(
        "signoff",
        view.request,
        signoff_body(view.manifest, view.reports, view.recipient.fingerprint),
        signer,
    )
