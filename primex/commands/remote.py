"""`--server URL`: the commands a person runs on their own machine against `primex serve`.

Each command with `--server` (or PRIMEX_SERVER) calls the service instead of the local
home: the request is signed with the person's key from their local home (`--as`), and a
decision is signed here, never on the server (primex.service.client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from primex.commands.common import STATE, console, home
from primex.commands.keys import prompt_signer
from primex.errors import PrimexError
from primex.redact import redact

ServerOption = Annotated[
    str | None,
    typer.Option("--server", envvar="PRIMEX_SERVER",
                 help="Act on the SPP's service at this URL (signed with your key) instead "
                 "of a local home."),
]


def client(server: str, as_key: str | None) -> Any:
    from primex.service.client import RemoteClient

    if not as_key:
        raise PrimexError("--server needs your key to sign with", where="--as",
                          hint="give --as KEY (a key of your local home)")
    return RemoteClient(server, prompt_signer(home(), as_key))


def submit(server: str, file: Path, as_key: str) -> None:
    from primex.requests.yaml_loader import read_bytes

    text = read_bytes(file).decode("utf-8", errors="replace")
    with client(server, as_key) as remote:
        try:
            done = remote.submit(text)
        except PrimexError as exc:
            for line in getattr(exc, "problems", []):
                typer.echo(redact(line.replace("request.yaml", str(file), 1)))
            raise
    console().print(f"[green]submitted[/] {done['request']} on {server} (log entry "
                    f"{done['seq']}, state {done['state']})", highlight=False)


def status(server: str, as_key: str | None, request_id: str | None, as_json: bool) -> None:
    from primex.requests.lifecycle import render_status

    with client(server, as_key) as remote:
        report = remote.status(request_id)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        render_status(report, console())


def decide(server: str, as_key: str, request_id: str, event: str,
           payload: dict[str, Any]) -> None:
    with client(server, as_key) as remote:
        done = remote.decide(request_id, event, payload)
    console().print(f"[green]{event}[/] of {request_id} recorded on {server} at log entry "
                    f"{done['seq']} (state {done['state']})", highlight=False)


def signoff(server: str, as_key: str, request_id: str, yes: bool) -> None:
    """Show the manifest the service prepared, confirm, then sign it here."""

    def show(draft: dict[str, Any]) -> None:
        manifest = draft["body"]["manifest"]
        out = console()
        out.print(f"[bold]{request_id}[/]: the files that will leave (what you sign)",
                  highlight=False)
        reports = draft["body"].get("reports") or {}
        for f in [*manifest.get("files", []), *reports.get("files", [])]:
            out.print(f"  {f['name']}  {f['bytes']:,} bytes  sha256 {f['sha256']}",
                      highlight=False)
        out.print(f"manifest sha256: {draft['body']['manifest_sha256']}", highlight=False)
        out.print(f"encrypted for the key with fingerprint {draft['body'].get('recipient')}",
                  highlight=False)
        if not yes and not typer.confirm("Sign off the release of exactly these files?"):
            raise typer.Abort()

    with client(server, as_key) as remote:
        done = remote.decide(request_id, "signoff", {}, confirm=show)
    STATE.console.print(f"[green]signed off[/] {request_id} on {server} at log entry "
                        f"{done['seq']}", highlight=False)


def job(server: str, as_key: str, request_id: str, step: str,
        timeout_s: float = 3600.0) -> None:
    """The SPP operator's steps on the service (`extract`, `protect`, `build`): start the
    job, wait for it, and end like the local command (exit 0 done, one line otherwise)."""
    with client(server, as_key) as remote:
        started = remote.start_job(request_id, step)
        console().print(f"{step} of {request_id} started on {server} (job {started['id']})",
                        highlight=False)
        done = remote.wait_job(started["id"], timeout=timeout_s)
    if done["state"] == "done":
        console().print(f"[green]{step} done[/] {request_id}: {done['message']}",
                        highlight=False, soft_wrap=True)
        return
    if done["state"] == "failed":
        raise PrimexError(f"the {step} job of {request_id} failed: {done['message']}",
                          where=request_id, hint="fix the cause, then run the step again")
    raise PrimexError(f"the {step} job of {request_id} is still {done['state']} after "
                      f"{timeout_s:g} s", where=request_id,
                      hint=f"follow it with `primex request status {request_id} --server "
                      f"{server}`")
