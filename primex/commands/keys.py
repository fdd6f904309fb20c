"""`primex keys`: see the help text below."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from primex.audit.keys import (
    ROLES,
    Signer,
    check_role,
    create_identity,
    env_passphrase,
    list_identities,
    load_signer,
    vkey,
)
from primex.audit.log import open_log
from primex.commands.common import console, home
from primex.errors import PermissionDenied
from primex.home import Home

app = typer.Typer(
    help=(
        "Actors' signing keys: create key pairs and manage the registry of who holds "
        "which role."
    ),
    no_args_is_help=True,
)


def prompt_signer(h: Home, name: str) -> Signer:
    """Open `name`'s signing key: passphrase from the environment, else asked for (hidden).

    The shared way for every command with `--as KEY` to get a Signer.
    """
    passphrase = env_passphrase(name)
    if passphrase is None:
        try:
            return load_signer(h, name)  # the unencrypted log service key needs none
        except PermissionDenied:
            passphrase = typer.prompt(f"Passphrase for {name}", hide_input=True)
    return load_signer(h, name, passphrase)


@app.command("init")
def init(
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="Key name, e.g. alice or dpo-1.")],
    person: Annotated[
        str | None,
        typer.Option("--person", help="The person behind the key (default: the name)."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Committee key that signs the registration (needed once a committee key "
            "is registered).",
        ),
    ] = None,
) -> None:
    """Create a key pair for an actor and register it in the audit log.

    The passphrase comes from PRIMEX_PASSPHRASE_<NAME> or PRIMEX_PASSPHRASE, else it is
    asked for. Before any committee key exists, a key registers itself (bootstrap).
    """
    h = home()
    check_role(role)
    log = open_log(h)
    if log.registry.has_committee and by is None:
        raise PermissionDenied(
            "a committee key must sign new registrations", where="--by",
            hint="add --by COMMITTEE_KEY",
        )
    committee = prompt_signer(h, by) if by is not None else None
    passphrase = env_passphrase(name)
    if passphrase is None:
        passphrase = typer.prompt(
            f"New passphrase for {name}", hide_input=True, confirmation_prompt=True
        )
    identity = create_identity(h, role, name, passphrase, person=person)
    signer = committee or load_signer(h, name, passphrase)
    entry = log.register_key(identity, signer)
    out = console()
    out.print(f"created and registered [bold]{name}[/] ({role}) at log entry {entry.seq}")
    out.print(f"verifier key: {identity.vkey}", soft_wrap=True, highlight=False)
    if identity.encryption_public_key:
        out.print("release encryption key (put it in the request's requester.public_key):")
        out.print(identity.encryption_public_key, soft_wrap=True, highlight=False)


@app.command("list")
def list_keys() -> None:
    """Show the key registry (from the audit log) and the keys held on this machine."""
    h = home()
    log = open_log(h)
    local = {i.name for i in list_identities(h)}
    table = Table(title="Key registry (audit log)")
    for col in ("name", "role", "person", "added at", "status", "key id", "private key here"):
        table.add_column(col)
    for k in log.registry.keys.values():
        status = "active" if k.active else f"revoked at {k.revoked_seq}"
        kid = vkey(k.name, k.public_key).split("+")[1]
        table.add_row(
            k.name, k.role, k.person, str(k.added_seq), status, kid,
            "yes" if k.name in local else "no",
        )
    console().print(table)
    unregistered = sorted(local - set(log.registry.keys))
    if unregistered:
        console().print(f"not registered: {', '.join(unregistered)}")


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The key to revoke.")],
    by: Annotated[str, typer.Option("--by", help="Committee key that signs the revocation.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the log).")],
) -> None:
    """Revoke a key: from the next log entry on, nothing it signs is accepted."""
    h = home()
    log = open_log(h)
    entry = log.revoke_key(name, reason, prompt_signer(h, by))
    console().print(f"revoked [bold]{name}[/] at log entry {entry.seq}")
