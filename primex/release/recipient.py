"""Whose encryption key a release would go to, and whether that recipient is allowed.

The package is encrypted for `requester.public_key` of the approved spec. That key is only
accepted when the audit log registers it (`key_add` body `x25519`, a researcher key added by
the committee) to the person who submitted the request, or to their organisation (a
`key_add` body `organisation` equal to the spec's `requester.organisation`), or when the
privacy officer approved exactly that recipient: the approval body's `recipient` is the key's
fingerprint (`primex review approve --recipient FINGERPRINT`). Everything else is refused at
submission (unless the researcher asks for the officer's approval) and at the gate.

This module only reads the registry; the gate verifies the registrations' signatures
(:func:`primex.release.gate.verified_owners`), so a `key_add` slipped into the log file
registers nothing; :mod:`primex.release.recipient_views` gives the verified view to the
submission, the officer's review and the president's sign-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from primex.audit.log import AuditLog, Entry
from primex.audit.workflow import KeyInfo
from primex.errors import PrimexError
from primex.exchange.envelope import fingerprint, format_public_key, parse_public_key


@dataclass(frozen=True)
class KeyOwner:
    """A registered researcher key whose encryption key is the recipient."""

    key_name: str
    person: str
    organisation: str | None
    info: KeyInfo

    def describe(self) -> str:
        org = f", {self.organisation}" if self.organisation else ""
        revoked = " (REVOKED)" if not self.info.active else ""
        return f"{self.key_name} ({self.person}{org}){revoked}"


@dataclass(frozen=True)
class RecipientView:
    """What every view shows about a request's recipient, and the gate's verdict."""

    key: str
    fingerprint: str
    owners: tuple[KeyOwner, ...]  # registered keys with this encryption key
    requester_person: str | None
    organisation: str | None
    approved_fingerprint: str | None  # the officer's `recipient` in the approval, if any

    @property
    def registered_to_requester(self) -> bool:
        return any(
            o.info.active
            and (
                o.person == self.requester_person
                or (o.organisation is not None and o.organisation == self.organisation)
            )
            for o in self.owners
        )

    @property
    def approved_by_officer(self) -> bool:
        return self.approved_fingerprint == self.fingerprint

    @property
    def allowed(self) -> bool:
        return self.registered_to_requester or self.approved_by_officer

    def describe(self) -> str:
        """One line: the fingerprint, whose key it is, and why it is (not) allowed."""
        if self.owners:
            whose = "registered to " + "; ".join(o.describe() for o in self.owners)
        else:
            whose = "NOT registered to anyone"
        if self.registered_to_requester:
            verdict = "the requester's own key"
        elif self.approved_by_officer:
            verdict = "third-party recipient approved by the privacy officer"
        elif self.approved_fingerprint is not None:
            verdict = "NOT allowed: the officer approved another recipient"
        else:
            verdict = "NOT allowed: not the requester's key and not approved by the officer"
        return f"recipient key {self.fingerprint} ({whose}): {verdict}"


def _organisation(entry: Entry) -> str | None:
    org = entry.body.get("organisation")
    return org if isinstance(org, str) and org.strip() else None


def key_owners(log: AuditLog, key: str) -> list[KeyOwner]:
    """Researcher keys of the registry whose encryption key is `key` (unverified)."""
    wanted = format_public_key(parse_public_key(key))
    everything = log.entries()
    owners = []
    for info in log.registry.keys.values():
        if info.role != "researcher" or info.added_seq >= len(everything):
            continue
        entry = everything[info.added_seq]
        if entry.type != "key_add" or entry.body.get("name") != info.name:
            continue
        registered = entry.body.get("x25519")
        if not isinstance(registered, str):
            continue
        try:
            same = format_public_key(parse_public_key(registered)) == wanted
        except PrimexError:  # a malformed registered key is simply not a match
            same = False
        if same:
            owners.append(KeyOwner(info.name, info.person, _organisation(entry), info))
    return owners


def approved_recipient(history: list[Entry]) -> str | None:
    """The `recipient` fingerprint of the latest approval of the request, if any."""
    approvals = [e for e in history if e.type == "approval"]
    value: Any = approvals[-1].body.get("recipient") if approvals else None
    return value if isinstance(value, str) else None


def recipient_view(
    log: AuditLog,
    key: str,
    *,
    requester_person: str | None,
    organisation: str | None,
    history: list[Entry],
    owners: list[KeyOwner] | None = None,
) -> RecipientView:
    """The recipient as the views show it; `owners` = verified owners when the caller
    checked them (the gate), else every owner the registry lists."""
    return RecipientView(
        key=key,
        fingerprint=fingerprint(key),
        owners=tuple(key_owners(log, key) if owners is None else owners),
        requester_person=requester_person,
        organisation=organisation,
        approved_fingerprint=approved_recipient(history),
    )
