"""The president's sign-off: what is shown before signing, and what the signature binds.

The president signs a `signoff` log entry whose body is the manifest of the files that will
leave and its SHA-256 (`primex.release.manifest`). The entry's signature also covers the
request id, the log origin and the link to the request's previous entry, so it cannot be
reused for another request or another version of the output. The manifest shown is rebuilt
from the files on disk now and must equal the one the disclosure result passed and the
privacy officer checked; otherwise nothing is offered for signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from primex.audit.keys import Signer
from primex.audit.log import AuditLog, Entry
from primex.errors import IntegrityError, PermissionDenied
from primex.home import Home
from primex.release.gate import protected_dir
from primex.release.manifest import REPORT_JSON, Manifest, collect_protected


@dataclass(frozen=True)
class SignoffView:
    request: str
    title: str
    organisation: str | None
    manifest: Manifest
    report: dict[str, Any]
    conditions: dict[str, Any] | None
    disclosure_summary: Any


def prepare_signoff(home: Home, log: AuditLog, request_id: str) -> SignoffView:
    """What the president sees; refuses unless the request awaits exactly these files."""
    log.refresh()
    state = log.state(request_id)
    where = f"request {request_id}"
    if state.state != "output_checked":
        raise PermissionDenied(
            f"the request is {state.state}; only an output checked by the privacy officer "
            "can be signed off",
            where=where,
            hint="`primex review check-output ID --as OFFICER --approve` comes first",
        )
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
    results = [e for e in log.entries(request_id) if e.type == "disclosure_result"]
    return SignoffView(
        request=request_id,
        title=state.title or "",
        organisation=state.organisation,
        manifest=manifest,
        report=report if isinstance(report, dict) else {},
        conditions=state.conditions,
        disclosure_summary=results[-1].body.get("summary") if results else None,
    )


def sign_off(log: AuditLog, view: SignoffView, signer: Signer) -> Entry:
    """Append the president's `signoff` over the manifest shown in `view`."""
    return log.append(
        "signoff",
        view.request,
        {"manifest_sha256": view.manifest.sha256, "manifest": view.manifest.as_dict()},
        signer,
    )
