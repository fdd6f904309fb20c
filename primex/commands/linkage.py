"""`primex linkage`: see the help text below."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import check_output, console, home
from primex.errors import PrimexError
from primex.home import Home

app = typer.Typer(
    help=(
        "BCSS operator: manage the linkage master key, code NISS into per-project "
        "pseudonyms and join the warehouse."
    ),
    no_args_is_help=True,
)


def _passphrase(*, confirm: bool = False) -> str | None:
    """The keystore passphrase: environment first, else asked (hidden) on a terminal."""
    from primex.linkage.admin import ENV_MASTER_KEY, ENV_PASSPHRASE

    value = os.environ.get(ENV_PASSPHRASE)
    if value:
        return value
    if not confirm and os.environ.get(ENV_MASTER_KEY):
        return None  # the master key comes from the environment: no file to open
    if not sys.stdin.isatty():
        if confirm:
            raise PrimexError(
                "no keystore passphrase given", where=ENV_PASSPHRASE,
                hint=f"set {ENV_PASSPHRASE} or run the command on a terminal",
            )
        return None  # the keystore then says exactly what is missing
    return str(typer.prompt("Keystore passphrase", hide_input=True,
                            confirmation_prompt=confirm))


@app.command("keygen")
def keygen(
    force: Annotated[bool, typer.Option(
        "--force", help="Rotate: replace the existing master key (changes every pseudonym; "
                        "needs the current passphrase or key; the old key is kept as a "
                        "retired file).")] = False,
    signer: Annotated[str | None, typer.Option(
        "--as", help="BCSS operator key that signs the rotation event (with --force).")] = None,
) -> None:
    """Generate the linkage master key in the BCSS keystore, or rotate it (--force).

    32 random bytes, encrypted with a passphrase (PRIMEX_BCSS_PASSPHRASE, or asked), file mode
    0600. The key is never printed; only its fingerprint is. Rotation proves the current key
    (its passphrase, or the key itself in PRIMEX_LINKAGE_MASTER_KEY), keeps the passphrase
    unless PRIMEX_BCSS_NEW_PASSPHRASE gives a new one, and records a signed
    `linkage_key_rotation` event in the audit log.
    """
    from primex.linkage.admin import has_key_file, key_in_use
    from primex.linkage.admin import keygen as make_key

    h = home()
    if has_key_file(h) and not force:
        raise PrimexError(
            "a master key already exists", where=str(h.bcss_keystore),
            hint="rotating it changes every pseudonym; pass --force --as KEY to rotate on "
                 "purpose (needs the current passphrase)",
        )
    if force and has_key_file(h):
        _rotate(h, signer)
        return
    previous = key_in_use(h)
    if previous is not None:  # the file is gone, but the log shows a key was in use
        if not force:
            raise PrimexError(
                "the keystore has no master key, but the audit log shows that one was in use",
                where=str(h.bcss_keystore),
                hint="restore master-key.json from the BCSS backup; if the key is lost, "
                     "replace it with --force --as KEY (recorded in the audit log)",
            )
        _rotate(h, signer, previous=previous)
        return
    passphrase = _passphrase(confirm=True)
    assert passphrase is not None
    fingerprint, path = make_key(h, passphrase)
    console().print(f"master key {fingerprint} written to {path} (mode 0600)",
                    highlight=False, soft_wrap=True)


def _rotate(h: Home, signer: str | None, previous: str | None = None) -> None:
    from primex.commands.keys import prompt_signer
    from primex.linkage.admin import ENV_MASTER_KEY, ENV_NEW_PASSPHRASE, ENV_PASSPHRASE, rotate

    if signer is None:
        raise PrimexError(
            "a rotation is recorded in the audit log and must be signed", where="--as",
            hint="give the BCSS operator's key name: --force --as NAME",
        )
    current = None
    if previous is None and not os.environ.get(ENV_MASTER_KEY):
        current = os.environ.get(ENV_PASSPHRASE) or _ask("Current keystore passphrase",
                                                         ENV_PASSPHRASE, confirm=False)
    # the new file keeps the passphrase unless a new one is given
    new = (os.environ.get(ENV_NEW_PASSPHRASE) or current or os.environ.get(ENV_PASSPHRASE)
           or _ask("New keystore passphrase", ENV_NEW_PASSPHRASE, confirm=True))
    audit_signer = prompt_signer(h, signer)
    rotation, seq = rotate(h, audit_signer, new, current, previous=previous)
    out = console()
    kept = (f"the old key file is kept as {rotation.retired} (mode 0600)"
            if rotation.retired else "the old key file was missing")
    out.print(f"master key rotated: {rotation.old_master_id} -> {rotation.new_master_id}; "
              f"{kept}", highlight=False, soft_wrap=True)
    out.print(f"audit: linkage_key_rotation event #{seq}", highlight=False)
    if os.environ.get(ENV_MASTER_KEY):
        out.print(f"note: {ENV_MASTER_KEY} still holds the retired key and is now refused; "
                  "unset it to use the keystore file", highlight=False, soft_wrap=True)


def _ask(prompt: str, env: str, *, confirm: bool) -> str:
    if not sys.stdin.isatty():
        raise PrimexError(f"no {prompt.lower()} given", where=env,
                          hint=f"set {env} or run the command on a terminal")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


@app.command("key-id")
def key_id_command(
    request: Annotated[str, typer.Option("--request", help="Request id (= project id).")],
) -> None:
    """Print the key id of a request's project key (what its coded files carry)."""
    from primex.linkage.admin import request_key_id

    console().print(request_key_id(home(), request, _passphrase()), highlight=False)


@app.command("code")
def code(
    request: Annotated[str, typer.Option("--request", help="Request id (= project id).")],
    in_path: Annotated[Path, typer.Option("--in", help="extract.parquet from the SPP side.")],
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="coded.parquet to write (default: <home>/bcss/work/<request>/"
                      "coded.parquet); the report and manifest go beside it.")] = None,
    signer: Annotated[str | None, typer.Option(
        "--as", help="BCSS operator key that signs the coding event in the audit log.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="duckdb (embedded, default) or spark (PySpark; local mode unless "
                         "PRIMEX_SPARK_MASTER names a cluster).")] = "duckdb",
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", help="The warehouse: a DuckDB file or a Parquet folder (default "
                            "<home>/bcss/warehouse.duckdb; <home>/bcss/warehouse/ for spark).")
    ] = None,
) -> None:
    """Code an SPP extract: validate NISS, pseudonymise, join the warehouse.

    Writes the coded file (no NISS), the linkage report (JSON + Markdown) and a manifest, and
    records a signed `coding` event when the request is in the audit log.
    """
    from primex.linkage.code import code_extract

    h = home()
    if out_path is None and (Path(request).name != request or request in ("", ".", "..")):
        # the default output folder is named after the request: keep it inside bcss/work
        raise PrimexError(
            f"request id {request!r} cannot name a folder", where="--request",
            hint="give a request id like REQ-2026-0001, or an explicit --out",
        )
    out = out_path or h.bcss_work / request / "coded.parquet"
    check_output(out, "--out")
    audit_signer = None
    if signer is not None:
        from primex.commands.keys import prompt_signer

        audit_signer = prompt_signer(h, signer)
    result = code_extract(h, request, in_path, out, signer=audit_signer,
                          passphrase=_passphrase(), engine=engine, warehouse=warehouse)
    r = result.report
    out_console = console()
    out_console.print(
        f"{request}: {r['rows_in']} rows in, {r['valid']} valid, {r['invalid']} invalid "
        f"dropped, {r['matched_in_warehouse']} matched in the warehouse "
        f"({r['matched_pct']} %); key id {result.key_id}",
        highlight=False, soft_wrap=True,
    )
    reasons = ", ".join(f"{k} {v}" for k, v in r["invalid_by_reason"].items() if v)
    if reasons:
        out_console.print(f"invalid by reason: {reasons}", highlight=False)
    for path in (result.coded, result.report_md, result.report_json, result.manifest):
        out_console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if result.audit_seq is not None:
        out_console.print(f"audit: coding event #{result.audit_seq}", highlight=False)
    for note in result.notes:
        out_console.print(f"note: {note}", highlight=False, soft_wrap=True)


@app.command("send")
def send(
    request: Annotated[str, typer.Argument(help="Request id.")],
    bcss: Annotated[str, typer.Option("--bcss", envvar="PRIMEX_BCSS_URL",
                                      help="URL of the BCSS linkage service.")],
    bcss_key: Annotated[str, typer.Option(
        "--bcss-key", envvar="PRIMEX_BCSS_KEY",
        help="The BCSS operator key (as registered in the log) that signs the receipt.")],
    signer: Annotated[str, typer.Option("--as", help="The SPP operator key that signs the "
                                        "calls (the BCSS lists it as a peer).")],
    ca: Annotated[Path | None, typer.Option(
        "--ca", envvar="PRIMEX_BCSS_CA", help="CA of the BCSS's TLS certificate.")] = None,
    client_cert: Annotated[Path | None, typer.Option(
        "--client-cert", envvar="PRIMEX_BCSS_CLIENT_CERT",
        help="Mutual TLS: the SPP's client certificate (PEM).")] = None,
    client_key: Annotated[Path | None, typer.Option(
        "--client-key", envvar="PRIMEX_BCSS_CLIENT_KEY",
        help="Mutual TLS: its private key (PEM).")] = None,
) -> None:
    """SPP side: send the request's extract to the BCSS service and record its coding.

    Resumable: run it again after a cut connection; nothing is coded twice. The coded file,
    the linkage report and the BCSS manifest land in <home>/spp/work/<request>/, and the
    `coding` entry (the BCSS's signed receipt) is appended to the log.
    """
    from primex.commands.keys import prompt_signer
    from primex.service.bcss_client import BcssEndpoint, send_for_coding

    h = home()
    cert = (str(client_cert), str(client_key)) if client_cert and client_key else None
    endpoint = BcssEndpoint(bcss, bcss_key, ca=str(ca) if ca else None, client_cert=cert)
    out = send_for_coding(h, request, endpoint, prompt_signer(h, signer))
    r = out.receipt
    console().print(
        f"{request}: coded by the BCSS (key id {r['key_id']}); {r['summary']['rows_in']} rows "
        f"in, {r['summary']['valid']} valid; receipt signed by {r['signer']}; extract "
        "destroyed at the BCSS", highlight=False, soft_wrap=True)
    for path in out.files.values():
        console().print(f"wrote {path}", highlight=False, soft_wrap=True)
    if out.audit_seq is not None:
        console().print(f"audit: coding event #{out.audit_seq}", highlight=False)
