"""`primex keys`: see the help text below."""

from __future__ import annotations

import base64
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.measure import Measurement
from rich.table import Table

from primex.audit.keys import (
    LOG_KEY_NAME,
    ROLES,
    X25519_PREFIX,
    Identity,
    Signer,
    check_name,
    check_role,
    create_identity,
    env_passphrase,
    list_identities,
    load_signer,
    parse_x25519_public_key,
    vkey,
)
from primex.audit.log import ENTRIES, open_log
from primex.commands.common import console, home
from primex.committee.witness import cosign_latest
from primex.errors import PermissionDenied, PrimexError
from primex.home import Home

# Shared by `keys init` and `keys register`: where a researcher's organisation is recorded.
OrganisationOption = Annotated[
    str | None,
    typer.Option("--organisation", help="The organisation a researcher acts for, exactly as "
                 "in requester.organisation (kept in the signed log; the service shows a "
                 "researcher only their organisation's requests and refuses a researcher "
                 "registered without one)."),
]

app = typer.Typer(
    help=(
        "Actors' signing keys: create key pairs and manage the registry of who holds "
        "which role."
    ),
    no_args_is_help=True,
)


def ask_passphrase(name: str, prompt: str, *, confirm: bool = False) -> str:
    """Ask for `name`'s passphrase (hidden) on a terminal. Without one (a script, a pipe, CI)
    a prompt would hang or read garbage: say which environment variable to set instead."""
    if not sys.stdin.isatty():
        env = "PRIMEX_PASSPHRASE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        raise PrimexError(
            f"no passphrase for the key {name!r} and no terminal to ask it on",
            where=env,
            hint=f"set {env} (or PRIMEX_PASSPHRASE), or run the command on a terminal",
        )
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def prompt_signer(h: Home, name: str) -> Signer:
    """Open `name`'s signing key: passphrase from the environment, else asked for (hidden).

    The shared way for every command with `--as KEY` to get a Signer.
    """
    passphrase = env_passphrase(name)
    if passphrase is None:
        try:
            return load_signer(h, name)  # the unencrypted log service key needs none
        except PermissionDenied:
            passphrase = ask_passphrase(name, f"Passphrase for {name}")
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
    organisation: OrganisationOption = None,
) -> None:
    """Create a key pair for an actor and register it in the audit log.

    The passphrase comes from PRIMEX_PASSPHRASE_<NAME> or PRIMEX_PASSPHRASE, else it is
    asked for. Before any committee key exists, a key registers itself (bootstrap).
    """
    h = home()
    check_role(role)
    check_name(name, "--name")  # before any prompt or log write
    organisation = _organisation(organisation)
    # Everything that can fail (names, the committee's key, the new passphrase) is settled
    # before the first write: a refused `keys init` on a new home leaves no log behind.
    log = open_log(h) if (h.audit / ENTRIES).exists() else None
    if log is not None and log.registry.has_committee and by is None:
        raise PermissionDenied(
            "a committee key must sign new registrations", where="--by",
            hint="add --by COMMITTEE_KEY",
        )
    committee = prompt_signer(h, by) if by is not None else None
    passphrase = env_passphrase(name)
    if passphrase is None:
        passphrase = ask_passphrase(name, f"New passphrase for {name}", confirm=True)
    with _all_or_nothing(h, name):
        log = log or open_log(h)
        identity = create_identity(h, role, name, passphrase, person=person)
        signer = committee or load_signer(h, name, passphrase)
        entry = log.register_key(identity, signer, organisation=organisation)
    out = console()
    out.print(f"created and registered [bold]{name}[/] ({role}) at log entry {entry.seq}")
    out.print(f"verifier key: {identity.vkey}", soft_wrap=True, highlight=False)
    if identity.encryption_public_key:
        out.print("release encryption key (put it in the request's requester.public_key):")
        out.print(identity.encryption_public_key, soft_wrap=True, highlight=False)


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Key name, e.g. rosa-browser.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    ed25519: Annotated[
        str,
        typer.Option("--ed25519", help="The person's Ed25519 public key, base64 of 32 bytes "
                     "(as the portal's key page shows it)."),
    ],
    by: Annotated[str, typer.Option("--by", help="Committee key that signs the registration.")],
    person: Annotated[
        str | None, typer.Option("--person", help="The person behind the key (default: the name).")
    ] = None,
    x25519: Annotated[
        str | None,
        typer.Option("--x25519", help="A researcher's release encryption key, "
                     "primex-x25519:<base64>."),
    ] = None,
    organisation: OrganisationOption = None,
) -> None:
    """Register a public key made elsewhere (a person's browser or own machine): the private
    key never comes here. The committee checks the key with its owner before signing."""
    check_role(role)
    check_name(name, "name")
    organisation = _organisation(organisation)
    try:
        raw = base64.b64decode(ed25519, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise PrimexError("not an Ed25519 public key (base64 of 32 bytes)", where="--ed25519",
                          hint="copy the key exactly as the person's key page shows it")
    encryption = parse_x25519_public_key(x25519) if x25519 is not None else None
    h = home()
    if not (h.audit / ENTRIES).exists():
        raise PrimexError("no audit log in this home", where=str(h.root),
                          hint="register keys where the SPP's log is (`primex keys init` first)")
    log = open_log(h)
    if name in log.registry.keys:
        raise PrimexError(f"a key named {name!r} is already registered", where="name",
                          hint="choose another name; revoke the old key if it is lost")
    committee = prompt_signer(h, by)
    entry = log.register_key(Identity(name, role, person or name, raw, encryption), committee,
                             organisation=organisation)
    console().print(f"registered [bold]{name}[/] ({role}) at log entry {entry.seq}; "
                    f"verifier key: {vkey(name, raw)}", soft_wrap=True, highlight=False)


def _organisation(value: str | None) -> str | None:
    """The organisation as the log keeps it (contract C5), checked before anything is made."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > 200:
        raise PrimexError("the organisation must be 1 to 200 characters",
                          where="--organisation",
                          hint="as in the request's requester.organisation, "
                          'e.g. "HIVA – KU Leuven"')
    return text


@contextmanager
def _all_or_nothing(h: Home, name: str) -> Iterator[None]:
    """`keys init` leaves nothing half-made: on any failure (a full or read-only disk, a
    refused registration) the new key folder, and on a new home the new log and log key,
    are removed again; an OSError becomes one line."""
    made = [p for p in (h.root, h.keys, h.keys / name, h.audit, h.keys / LOG_KEY_NAME)
            if not p.exists()]
    try:
        yield
    except (OSError, PrimexError) as exc:
        for path in reversed(made):  # innermost first; never anything that existed before
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        if isinstance(exc, PrimexError):
            raise
        raise PrimexError(
            f"could not create the key ({exc.strerror or exc})", where=str(h.root),
            hint="free disk space or get write access to the home; nothing was kept",
        ) from exc


@app.command("list")
def list_keys() -> None:
    """Show the key registry (from the audit log) and the keys held on this machine."""
    h = home()
    local = {i.name for i in list_identities(h)}
    if not (h.audit / ENTRIES).exists():  # listing creates nothing: no log, no registry
        console().print(f"no audit log yet in {h.root}: no registered keys")
        if local:
            console().print(f"not registered: {', '.join(sorted(local))}")
        return
    log = open_log(h)
    table = Table(title="Key registry (audit log)")
    # ids are compared character by character: never cut (other cells wrap on a narrow
    # terminal)
    for col in ("name", "role", "person", "organisation", "added at", "status", "key id",
                "encryption", "private key here"):
        table.add_column(col, overflow="fold",
                         min_width={"key id": 8, "encryption": 10}.get(col))
    keys = list(log.registry.keys.values())
    for k in keys:
        status = "active" if k.active else f"revoked at {k.revoked_seq}"
        kid = vkey(k.name, k.public_key).split("+")[1]
        table.add_row(
            k.name, k.role, k.person, k.organisation or "—", str(k.added_seq), status, kid,
            encryption_fingerprint(k.x25519), "yes" if k.name in local else "no",
        )
    out = console()
    # into a pipe or a file (no terminal to fit), every cell whole on one line: a registry
    # read by a script or pasted into a ticket is never squeezed to 80 columns
    natural = Measurement.get(out, out.options.update_width(1000), table).maximum
    width = out.width
    if not out.is_terminal:
        out.width = max(natural, width)  # print(width=…) never exceeds the console's
    try:
        out.print(table)
    finally:
        out.width = width
    # the whole key, for `keys register NAME --x25519 …` when a researcher moves to a new
    # (browser) signing key and keeps the key that decrypts their releases
    encryption = [k for k in keys if k.active and _release_key(k.x25519) is not None]
    if encryption:
        out.print("release encryption keys (for `primex keys register … --x25519`):")
        for k in encryption:
            out.print(f"  {k.name}: {k.x25519}", soft_wrap=True, highlight=False)
    unregistered = sorted(local - set(log.registry.keys))
    if unregistered:
        out.print(f"not registered: {', '.join(unregistered)}")


def encryption_fingerprint(x25519: str | None) -> str:
    """A release encryption key as the table shows it: the first 8 characters of its base64
    (what the researcher reads at the start of their requester.public_key), "—" for none."""
    if x25519 is None:
        return "—"
    if _release_key(x25519) is None:
        return "invalid"  # the log's key_add carries it unchecked: never show it as a key
    return x25519.removeprefix(X25519_PREFIX)[:8] + "…"


def _release_key(x25519: str | None) -> str | None:
    """The key as its key_add entry carries it, None when absent or not a valid key."""
    if x25519 is None:
        return None
    try:
        parse_x25519_public_key(x25519)
    except PrimexError:
        return None
    return x25519


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The key to revoke.")],
    by: Annotated[str, typer.Option("--by", help="Committee key that signs the revocation.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the log).")],
) -> None:
    """Revoke a key: from the next log entry on, nothing it signs is accepted."""
    if not reason.strip():  # the log must say why a key stopped counting
        raise PrimexError("give a reason", where="--reason",
                          hint='e.g. --reason "laptop lost on 2026-03-02"')
    h = home()
    log = open_log(h)
    committee = prompt_signer(h, by)
    entry = log.revoke_key(name, reason, committee)
    # Checkpoint and cosign at once: once the witness holds a checkpoint that includes the
    # revocation, cutting it off the log (a truncated tail, a restored backup) makes the
    # witness refuse every later checkpoint, so no release can cite one (issue 14 #5).
    try:
        cp = cosign_latest(h, committee)
    except PrimexError as exc:
        raise PrimexError(
            f"revoked {name} at log entry {entry.seq}, but the witness did not cosign a "
            f"checkpoint including it: {exc.what}", where=exc.where,
            hint="run `primex audit witness cosign` before any release relies on the registry",
        ) from exc
    console().print(
        f"revoked [bold]{name}[/] at log entry {entry.seq}; checkpoint of size {cp.size} "
        "cosigned by the committee's witness", highlight=False,
    )
