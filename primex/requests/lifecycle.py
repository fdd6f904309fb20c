"""The researcher's side of the life cycle: submit a request, follow its status.

The audit log is the system of record (`primex.audit`): a submission is a signed
`submission` event, and a request's state is whatever its events say. This module only
validates, stores the exact bytes (`primex.requests.store`) and reads the state back.

    submit(home, path, key_name, passphrase=None) -> Receipt
    status(home, request_id=None) -> dict   (JSON-ready; render_status prints it)

A new request gets its id from the log at submission (REQ-<year>-<nnnn>). A returned request
is submitted again with the same file edited and `id: <its id>` added at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.errors import PrimexError, ValidationError
from primex.home import Home
from primex.requests import store
from primex.requests.history_text import summary
from primex.requests.validate import validate_file

NEXT_STEP = {
    "submitted": "waiting for the privacy officer's review",
    "returned": "edit the request as asked, add `id: {id}` at the top, and submit it again",
    "rejected": "final: the request was rejected",
    "approved": "approved; waiting for the extraction",
    "extracted": "extracted; waiting for the BCSS linkage or the disclosure control",
    "coded": "linked by the BCSS; waiting for the disclosure control",
    "protected": "protected; waiting for the privacy officer's output check",
    "output_checked": "output checked; waiting for the president's sign-off",
    "signed_off": "signed off; waiting for the release",
    "released": "released: open the package (see docs/release.md)",
    "closed": "final: closed (retention reached or withdrawn)",
}


@dataclass(frozen=True)
class Receipt:
    request_id: str
    sha256: str
    seq: int
    resubmission: bool
    warnings: tuple[str, ...] = ()


def submit(home: Home, path: Path, key_name: str, passphrase: str | None = None) -> Receipt:
    """Validate `path`, store its bytes and append a signed `submission` to the audit log."""
    from primex.audit.keys import load_identity, load_signer
    from primex.audit.log import open_log

    checked = validate_file(path, home=home)
    spec = checked.raise_for_problems()
    assert checked.loaded is not None
    raw = checked.loaded.raw
    signer = load_signer(home, key_name, passphrase)
    if signer.role != "researcher":
        raise PrimexError(
            f"the key {key_name!r} has role {signer.role}; only a researcher submits requests",
            where=f"keys/{key_name}", hint="submit with your researcher key (--as NAME)",
        )
    warnings = []
    identity = load_identity(home, key_name)
    own_key = identity.encryption_public_key
    if own_key is not None and own_key != spec.requester.public_key:
        warnings.append(
            "requester.public_key is not the encryption key of "
            f"{key_name!r}: the release will be encrypted for the key in the file"
        )
    log = open_log(home, create=False)
    body = submission_body(log, spec, raw, str(path))
    digest, created = store.store_bytes(home, raw)
    try:
        entry = log.append("submission", spec.id, body, signer)
    except BaseException:
        if created:  # nothing in the log points at it: do not leave it behind
            store.discard(home, digest)
        raise
    assert entry.request is not None
    return Receipt(entry.request, digest, entry.seq, spec.id is not None, tuple(warnings))


def submission_body(log: Any, spec: Any, raw: bytes, source: str) -> dict[str, Any]:
    """The body of the `submission` entry for a valid spec, after the checks the log cannot
    make (a known id for a resubmission, not the same bytes as a live request). Shared by
    `submit` and the service, where the researcher signs the entry on their own machine."""
    if spec.id is not None and spec.id not in log.requests():
        raise ValidationError(
            f"unknown request id {spec.id}", where=f"{source}: id",
            hint="leave `id` out for a new request; it is assigned at submission",
        )
    digest = store.sha256_hex(raw)
    for rid in log.requests():
        st = log.state(rid)
        if st.spec_sha256 == digest and st.state not in ("rejected", "closed"):
            raise PrimexError(
                f"this exact request was already submitted as {rid} (state: {st.state})",
                where=source,
                hint=f"follow it with `primex request status {rid}`; to resubmit a returned "
                f"request, edit it and add `id: {rid}`",
            )
    return {
        "spec_sha256": digest,
        "title": spec.title,
        "organisation": spec.requester.organisation,
        "kind": spec.output.kind,
    }


def status(
    home: Home, request_id: str | None = None, *, log: Any = None
) -> dict[str, Any]:
    """The state of one request with its history, or a one-line summary of every request.
    `log`: an AuditLog already open (the service keeps one instead of replaying per call)."""
    from primex.audit.log import AuditLog, open_log

    # reading must not create a log as a side effect
    if log is None and not AuditLog(home).path.exists():
        if request_id is None:
            return {"requests": []}
        raise PrimexError(f"unknown request {request_id!r}", where=str(home.audit),
                          hint="no audit log here yet: check --home")
    log = log if log is not None else open_log(home, create=False)
    if request_id is None:
        rows = []
        for rid in log.requests():
            st = log.state(rid)
            last = st.history[-1] if st.history else None
            rows.append({
                "request": rid, "state": st.state, "title": st.title,
                "organisation": st.organisation, "requester": st.requester,
                "updated": last.time if last else None,
            })
        return {"requests": rows}
    st = log.state(request_id)
    return {
        "request": request_id,
        "state": st.state,
        "title": st.title,
        "organisation": st.organisation,
        "requester": st.requester,
        "spec_sha256": st.spec_sha256,
        "conditions": st.conditions,
        "manifest_sha256": st.manifest_sha256,
        "next": NEXT_STEP.get(st.state or "", "").format(id=request_id),
        "history": [
            {"seq": e.seq, "time": e.time, "event": e.type, "actor": e.actor,
             "summary": summary(e)}
            for e in st.history
        ],
    }


def render_status(report: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    if "requests" in report:
        if not report["requests"]:
            console.print("no requests yet (submit one with `primex request submit FILE --as "
                          "KEY`)")
            return
        table = Table(title="Requests")
        for column in ("request", "state", "title", "organisation", "updated"):
            table.add_column(column)
        for row in report["requests"]:
            table.add_row(row["request"], row["state"] or "", row["title"] or "",
                          row["organisation"] or "", row["updated"] or "")
        console.print(table)
        return
    console.print(f"[bold]{report['request']}[/]  {report['title']}  "
                  f"([bold]{report['state']}[/])", highlight=False)
    console.print(f"organisation: {report['organisation']}   requester: {report['requester']}",
                  highlight=False)
    if report.get("next"):
        console.print(f"next: {report['next']}", highlight=False)
    table = Table(title="History (from the audit log)")
    for column in ("seq", "time", "event", "actor", "details"):
        table.add_column(column)
    for row in report["history"]:
        table.add_row(str(row["seq"]), row["time"], row["event"], row["actor"], row["summary"])
    console.print(table)
