"""Accounts of the service: which registered key may use it, with which OIDC subject and
e-mail address (`primex serve account`). The key's role, person and organisation are not
stored here: they come from the signed log's registry (contract C5: a researcher's
organisation is in their key_add entry, `primex keys register --organisation`)."""

from __future__ import annotations

from sqlalchemy import select

from primex.audit.log import AuditLog
from primex.errors import PrimexError
from primex.service.db import Account
from primex.service.state import ServiceState


def add_account(state: ServiceState, log: AuditLog, key_name: str, *,
                subject: str | None = None, email: str | None = None) -> None:
    """Create or update the account of a registered key."""
    info = log.registry.active(key_name)
    if info is None:
        raise PrimexError(f"key {key_name!r} is not an active key of the audit log",
                          where=key_name, hint="register it first (`primex keys init`)")
    if info.role == "researcher" and not info.organisation:
        raise PrimexError(
            f"the signed log registers no organisation for the researcher {key_name!r}",
            where=key_name, hint="the committee registers the key with `primex keys "
            "register --organisation ORG` (or `keys init --organisation ORG`)")
    with state.db() as db:
        if subject is not None:
            other = db.scalar(select(Account).where(Account.oidc_subject == subject))
            if other is not None and other.key_name != key_name:
                # A person's new key (another browser, a lost laptop) takes over their login,
                # whether the old key is revoked or not; a login never moves to the key of
                # another person, revoked keys included (their registration says whose).
                held = log.registry.keys.get(other.key_name)
                if held is None or held.person != info.person:
                    whose = f"another person ({held.person})" if held else "an unknown key"
                    raise PrimexError(
                        f"the OIDC subject is already mapped to {other.key_name}, {whose}",
                        where="--subject", hint="one subject, one actor")
                other.oidc_subject = None
                db.flush()
                state.forget_account(other.key_name)
        account = db.get(Account, key_name) or Account(key_name=key_name)
        account.oidc_subject = subject
        account.email = email
        db.add(account)
    state.forget_account(key_name)
