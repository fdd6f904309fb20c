"""`primex release`: see the help text below."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from rich.table import Table

from primex.audit.keys import env_passphrase, load_encryption_private_key
from primex.audit.log import open_log
from primex.commands.common import check_output, console, home
from primex.commands.keys import ask_passphrase, prompt_signer
from primex.commands.remote import ServerOption
from primex.errors import IntegrityError, PermissionDenied, PrimexError
from primex.exchange.envelope import fingerprint, format_public_key, recipient_of
from primex.exchange.manifest import hash_file
from primex.release.gate import check_release
from primex.release.package import build_release
from primex.researcher.access import read_opened_folder
from primex.researcher.open import Opened, open_package, verify_package

app = typer.Typer(
    help=(
        "Release gate: build the encrypted package of a signed-off request; researchers "
        "open and verify it."
    ),
    no_args_is_help=True,
)

AsKey = Annotated[str, typer.Option("--as", help="Your key name (an spp_operator key).")]
RequestId = Annotated[str, typer.Argument(help="The request id, e.g. REQ-2026-0001.")]
KeyName = Annotated[
    str, typer.Option("--key", help="Your researcher key name (holds the decryption key).")
]
LogKey = Annotated[
    str | None,
    typer.Option("--log-key", help="The log's verifier key as the SPP publishes it (optional)."),
]
WitnessKey = Annotated[
    list[str] | None,
    typer.Option(
        "--witness-key", help="A committee witness verifier key you trust (optional, repeatable)."
    ),
]


def _private_key(name: str) -> X25519PrivateKey:
    h = home()
    passphrase = env_passphrase(name)
    if passphrase is None:
        try:
            return load_encryption_private_key(h, name)
        except PermissionDenied:
            passphrase = ask_passphrase(name, f"Passphrase for {name}")
    return load_encryption_private_key(h, name, passphrase)


@app.command("check")
def check(request_id: RequestId) -> None:
    """Run every check of the gate without building anything (exit 2 with the reason)."""
    ev = check_release(home(), request_id)
    console().print(
        f"[green]release of {request_id} would pass the gate[/]: manifest "
        f"{ev.manifest.sha256[:16]}… ({len(ev.manifest.files)} files), signed off by "
        f"{ev.signoff.actor} at entry {ev.signoff.seq}, witnessed in checkpoint "
        f"{ev.checkpoint.size}\n  {ev.recipient_view.describe()}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("build")
def build(
    request_id: RequestId,
    as_key: AsKey,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the package (default: releases/ID.primex)."),
    ] = None,
    server: ServerOption = None,
) -> None:
    """Check the gate, write the encrypted package and record the release in the log (with
    --server: as a job of the service; the researcher then downloads the package)."""
    if server:
        from primex.commands import remote

        if out is not None:
            raise PrimexError("--out cannot be given with --server", where="--out",
                              hint="the researcher downloads the package from the service")
        return remote.job(server, as_key, request_id, "build")
    h = home()
    if out is not None:
        check_output(out, "--out")
    released = build_release(h, request_id, prompt_signer(h, as_key), out=out)
    if released.resumed is not None:  # a rerun: the entry existed; nothing new was logged
        console().print(
            f"[green]released[/] {request_id} → {released.path} ({released.resumed}: "
            f"the package is the one log entry {released.seq} records, sha256 "
            f"{released.package_sha256})",
            highlight=False, soft_wrap=True,
        )
        return
    console().print(
        f"[green]released[/] {request_id} → {released.path}\n"
        f"  package sha256 {released.package_sha256}\n"
        f"  manifest sha256 {released.manifest_sha256}\n"
        f"  for {released.recipient}\n  recorded at log entry {released.seq}",
        highlight=False,
        soft_wrap=True,
    )


def _show(opened: Opened, folder: Path | None, key: X25519PrivateKey) -> None:
    out = console()
    table = Table(title=f"{opened.request}: {opened.title}")
    for col in ("file", "bytes", "sha256"):
        table.add_column(col)
    for f in opened.manifest.files:
        table.add_row(f.name, str(f.bytes), f.sha256)
    out.print(table)
    out.print(
        f"signed off by [bold]{opened.president}[/] (president) at {opened.signed_at}; "
        f"sign-off in checkpoint {opened.checkpoint_size}",
        highlight=False,
    )
    mine = fingerprint(format_public_key(key.public_key()))
    out.print(f"encrypted for: your key {mine}", highlight=False, soft_wrap=True)
    out.print(f"log key:     {opened.log_vkey}", highlight=False, soft_wrap=True)
    for wkey, ts in opened.witnesses.items():
        when = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        out.print(f"witness key: {wkey} (cosigned {when})", highlight=False, soft_wrap=True)
    out.print(
        "compare these keys with the ones the SPP and the committee publish "
        "(or pass them as --log-key / --witness-key)",
        highlight=False,
    )
    if folder is not None:
        out.print(f"[green]verified[/] and written to {folder}", highlight=False)
    else:
        out.print("[green]verified[/] (nothing written)", highlight=False)


@app.command("open")
def open_command(
    package: Annotated[Path, typer.Argument(help="The .primex package you received.")],
    key: KeyName,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write the files to (default: ./<request id>)."),
    ] = None,
    log_key: LogKey = None,
    witness_key: WitnessKey = None,
) -> None:
    """Decrypt a release package and verify everything in it, offline; nothing is logged."""
    target = out or Path.cwd() / package.name.removesuffix(".primex")
    check_output(target, "--out", folder=True)
    private = _private_key(key)
    opened = open_package(
        package, private, target, expected_log=log_key, expected_witnesses=witness_key or ()
    )
    _show(opened, opened.folder, private)


@app.command("verify")
def verify(
    package: Annotated[Path, typer.Argument(help="A .primex package.")],
    key: Annotated[
        str | None,
        typer.Option("--key", help="Researcher key: also decrypt and check the contents."),
    ] = None,
    log_key: LogKey = None,
    witness_key: WitnessKey = None,
) -> None:
    """Verify a package: against the audit log's release entry (when this home has the log)
    and, with --key, everything inside it (offline, nothing written or logged)."""
    if not package.is_file():
        raise PrimexError("no such package", where=str(package))
    if key is None and (log_key or witness_key):  # they would be silently ignored
        raise PrimexError(
            "--log-key and --witness-key check the package's contents", where="--key",
            hint="give --key YOUR_KEY too, to decrypt and check them",
        )
    digest = hash_file(package).sha256
    h = home()
    if h.audit.exists():
        log = open_log(h, create=False)
        matches = [
            e for e in log.entries()
            if e.type == "release" and e.body.get("package_sha256") == digest
        ]
        if not matches:
            raise IntegrityError(
                "this package is not recorded by any release entry of the audit log",
                where=str(package),
                hint="it was altered or never released through the gate",
            )
        entry = matches[-1]
        if entry.body.get("recipient") != recipient_of(package):
            raise IntegrityError("the package's recipient differs from the release entry",
                                 where=str(package))
        console().print(
            f"[green]recorded[/]: release of {entry.request} at log entry {entry.seq} "
            f"(package sha256 {digest[:16]}…)",
            highlight=False,
        )
    elif key is None:
        raise PrimexError(
            "nothing to verify against", where=str(package),
            hint="give --key YOUR_KEY to check the contents, or run it where the audit log is",
        )
    if key is not None:
        private = _private_key(key)
        opened = verify_package(
            package, private, expected_log=log_key, expected_witnesses=witness_key or (),
        )
        _show(opened, None, private)


@app.command("access")
def access(
    folder: Annotated[Path, typer.Argument(help="A folder written by `primex release open`.")],
    as_key: Annotated[str, typer.Option("--as", help="Your researcher key (the requester).")],
) -> None:
    """Record in the audit log that you accessed the files of an opened release (online)."""
    h = home()
    opened = read_opened_folder(folder)
    signer = prompt_signer(h, as_key)
    log = open_log(h, create=False)
    with log.batch():  # the log is written here, never by the researcher-side modules
        entries = [
            log.append("access", opened.request, {"name": f.name, "sha256": f.sha256}, signer)
            for f in opened.manifest.files
        ]
    console().print(
        f"recorded access to {len(entries)} file(s) at log entries "
        f"{', '.join(str(e.seq) for e in entries)}",
        highlight=False,
    )
