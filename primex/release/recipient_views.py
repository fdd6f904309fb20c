"""The recipient as the submission, the officer's review and the president's view see it:
the owners of the key are the registrations whose signatures verify (the gate's check), so a
`key_add` slipped into the log file shows as NOT registered everywhere.

* `request submit`: :func:`check_researcher_can_submit_recipient` refuses a key that is not
  the submitter's (or their organisation's) unless `--third-party-recipient`;
* `review approve`: :func:`check_officer_can_approve_recipient` refuses such a key unless the
  officer names it by fingerprint (`--recipient`), which the approval body then records;
* `review show`: :func:`describe_recipient`, one line.

Each permission is a named check, as in OpenSAFELY Airlock's `permissions.py`:
`check_<who>_can_<do what>` raises the one-line refusal, `RecipientView.allowed` answers
yes or no.
"""

from __future__ import annotations

from pathlib import Path

from primex.audit.keys import load_identity
from primex.audit.log import AuditLog, open_log
from primex.errors import PermissionDenied, PrimexError
from primex.exchange.envelope import normalise_fingerprint
from primex.home import Home
from primex.release.gate import verified_owners
from primex.release.recipient import recipient_view
from primex.requests.validate import load_valid


def check_researcher_can_submit_recipient(
    home: Home, path: Path, key_name: str, *, third_party: bool
) -> str | None:
    """At `request submit`: refuse a `requester.public_key` that is not registered to the
    submitter or their organisation, unless `third_party` (then the officer must approve it
    by fingerprint). Returns a notice to print, or None. An invalid file is left to the
    submission's own validation."""
    try:
        spec, _raw = load_valid(path, home=home)
    except PrimexError:
        return None
    log = open_log(home, create=False)
    info = log.registry.keys.get(key_name)
    person = info.person if info is not None else load_identity(home, key_name).person
    key = spec.requester.public_key
    view = recipient_view(
        log, key, requester_person=person,
        organisation=spec.requester.organisation, history=[],
        owners=verified_owners(log, key),
    )
    if view.registered_to_requester:
        return None
    if not third_party:
        raise PermissionDenied(
            view.describe(), where=f"{path}: requester.public_key",
            hint="put your own registered key there (`primex keys show`), or add "
            "--third-party-recipient so that the privacy officer must approve this recipient",
        )
    return (
        f"{view.describe()}; the privacy officer must approve it "
        f"(`primex review approve ID --recipient {view.fingerprint}`)"
    )


def check_officer_can_approve_recipient(
    log: AuditLog, request_id: str, key: str, given: str | None
) -> str | None:
    """At `review approve`: the `recipient` to put in the approval body, or a refusal when
    the recipient is not the requester's and the officer did not approve it explicitly."""
    state = log.state(request_id)
    view = recipient_view(
        log, key, requester_person=state.requester_person,
        organisation=state.organisation, history=[], owners=verified_owners(log, key),
    )
    where = f"request {request_id}"
    if given is None:
        if view.registered_to_requester:
            return None
        raise PermissionDenied(
            view.describe(), where=where,
            hint=f"approve this recipient explicitly with --recipient {view.fingerprint}, "
            "or return the request",
        )
    if normalise_fingerprint(given) != view.fingerprint:
        raise PermissionDenied(
            f"--recipient {given!r} is not the fingerprint of the spec's "
            f"requester.public_key ({view.fingerprint})", where="--recipient",
            hint="copy the full fingerprint shown by `primex review show ID`",
        )
    return view.fingerprint


def describe_recipient(log: AuditLog, request_id: str, key: str) -> str:
    """The recipient line of the officer's review view."""
    state = log.state(request_id)
    return recipient_view(
        log, key, requester_person=state.requester_person, organisation=state.organisation,
        history=log.entries(request_id), owners=verified_owners(log, key),
    ).describe()
