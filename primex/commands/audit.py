"""`primex audit`: see the help text below."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from primex.audit.checkpoint import parse_checkpoint
from primex.audit.files import atomic_write
from primex.audit.keys import note_key_id
from primex.audit.log import ENTRIES, open_log
from primex.commands.common import console, home
from primex.commands.keys import prompt_signer
from primex.committee.report import build_report, render_html, render_markdown
from primex.committee.verify import verify_log
from primex.committee.witness import Witness, cosign_latest
from primex.errors import IntegrityError, PrimexError, ValidationError

app = typer.Typer(
    help="Committee: verify the signed audit log, run the witness, and read request histories.",
    no_args_is_help=True,
)
witness_app = typer.Typer(
    help="The committee's witness: cosigns checkpoints, refuses rollbacks and forks.",
    no_args_is_help=True,
)
app.add_typer(witness_app, name="witness")


@app.command("verify")
def verify(
    full: Annotated[
        bool, typer.Option("--full", help="Re-verify every signature, even those already "
                           "covered by a root the committee verified earlier.")
    ] = False,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint someone else holds (gossip); "
                     "repeatable. Two roots for one size prove a fork."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    no_witness: Annotated[
        bool, typer.Option("--no-witness", help="Check everything but rollback and forks, "
                           "without the committee's witness state (the result then proves "
                           "less; without this flag a missing witness state fails).")
    ] = False,
    output_checkers: Annotated[
        int | None,
        typer.Option("--output-checkers", min=1, max=9,
                     help="Also flag any sign-off with fewer output checks by different "
                     "privacy officers than this (four eyes: the minimum the committee "
                     "demands for the period). Without it, the number each approval "
                     "recorded is enforced."),
    ] = None,
) -> None:
    """Replay the whole log and check everything; names the first failing entry (exit 2).

    Without the committee's witness state for this log the result is "not proven" (exit 2)
    unless --no-witness is given."""
    h = home()
    texts = []
    for p in checkpoint or []:
        try:
            texts.append(p.read_text("utf-8"))
        except OSError as exc:
            raise PrimexError(f"cannot read checkpoint ({exc.strerror})", where=str(p)) from exc
        except UnicodeDecodeError as exc:
            raise PrimexError(
                "not a checkpoint (not UTF-8 text)", where=str(p),
                hint="give a checkpoint file written by `primex audit checkpoint`",
            ) from exc
        parse_checkpoint(texts[-1], where=str(p))  # a malformed file is named, not the log
    if not (h.audit / ENTRIES).exists():  # a missing log is not a tampered entry
        raise PrimexError(
            "no audit log yet", where=str(h.audit / ENTRIES),
            hint="it is created by the first `primex keys init`; check --home",
        )
    # Four eyes (C6): the replay enforces what each approval recorded; a stricter minimum is
    # the committee's own choice, stated here, never read from the SPP's policy file.
    r = verify_log(h, full=full, extra_checkpoints=texts, require_witness=not no_witness,
                   output_checkers=output_checkers or 1)
    if as_json:
        typer.echo(json.dumps({
            "ok": r.ok, "size": r.size, "root": r.root.hex(), "requests": r.requests,
            "signatures_verified": r.signatures_verified,
            "signatures_covered": r.signatures_covered,
            "checkpoints_checked": r.checkpoints_checked, "witnessed_size": r.witnessed_size,
            "failures": [{"seq": f.seq, "check": f.check, "message": f.message,
                          "reason": f.reason.name if f.reason else None}
                         for f in r.failures],
            "warnings": r.warnings, "seconds": round(r.seconds, 3),
        }, indent=2))
    else:
        out = console()
        for w in r.warnings:
            out.print(f"[yellow]warning:[/] {w}", highlight=False)
        if r.ok:
            out.print(
                f"[green]ok[/]: {r.size} entries, {r.requests} requests, "
                f"{r.signatures_verified} signatures verified "
                f"({r.signatures_covered} covered by the root verified earlier), "
                f"{r.checkpoints_checked} checkpoints, witness at size {r.witnessed_size}; "
                f"{r.seconds:.2f} s", highlight=False,
            )
    if not r.ok:
        first = r.failures[0]
        raise IntegrityError(
            f"{first.check} check failed: {first.message}",
            where=f"entry {first.seq}" if first.seq is not None else "audit log",
            hint="the log was altered or a rule was broken here; keep a copy and tell the "
            "committee",
        )


@app.command("report")
def report(
    request: Annotated[str | None, typer.Option("--request", help="One request only.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="From day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="To day (YYYY-MM-DD).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead.")
    ] = None,
) -> None:
    """Readable history: who asked what, who approved with which conditions, what was
    suppressed, who signed, what left, when."""
    if fmt not in ("md", "html"):
        raise ValidationError(f"unknown format {fmt!r}", where="--format", hint="md or html")
    rep = build_report(home(), request=request, since=since, until=until)
    text = render_markdown(rep) if fmt == "md" else render_html(rep)
    if output is None:
        typer.echo(text)
    else:
        _write_report(output, text)
        console().print(f"wrote {output}")


def _write_report(path: Path, text: str) -> None:
    if path.is_dir():
        raise PrimexError("is a folder", where=str(path), hint="give a file name, e.g. report.md")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        raise PrimexError(
            f"cannot write the report ({exc.strerror})", where=str(path),
            hint="choose a writable --output path",
        ) from exc


@app.command("checkpoint")
def checkpoint() -> None:
    """Issue (or show) the log-signed checkpoint of the current log size."""
    cp = open_log(home(), create=False).checkpoint()
    typer.echo(cp.text, nl=False)


@app.command("log")
def show_log(
    request: Annotated[str | None, typer.Option("--request", help="One request only.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Last N entries (0: all).")] = 50,
) -> None:
    """List the latest log entries (number, time, type, request, signer)."""
    if limit < 0:
        raise ValidationError(f"--limit {limit} is negative", where="--limit",
                              hint="the number of latest entries to show, or 0 for all")
    log = open_log(home(), create=False)
    entries = log.latest(limit, request)  # every entry shown is signature-checked
    table = Table(title=f"audit log ({len(log)} entries)")
    for col in ("#", "time (UTC)", "type", "request", "by"):
        table.add_column(col)
    for e in entries:
        table.add_row(str(e.seq), e.time[:19].replace("T", " "), e.type, e.request or "—",
                      e.actor)
    console().print(table)


@witness_app.command("init")
def witness_init() -> None:
    """Trust this log's key (from its genesis entry). Compare the key ID it prints with
    the one the SPP announced before relying on the witness."""
    h = home()
    log = open_log(h, create=False)
    key = log.log_key()
    Witness(h).trust_log(log.origin, key.public_key)
    console().print(
        f"witness trusts log [bold]{log.origin}[/] key ID "
        f"{note_key_id(log.origin, key.public_key).hex()}", highlight=False,
    )


@witness_app.command("cosign")
def witness_cosign(
    as_key: Annotated[str, typer.Option("--as", help="The committee key that cosigns.")],
    server: Annotated[str | None, typer.Option(
        "--server", help="The SPP service: fetch its checkpoint and tiles over HTTPS "
        "(the committee's own home holds the witness state).")] = None,
    trust_key: Annotated[str | None, typer.Option(
        "--trust-key", help="With --server, the first time: the log's public key (base64), "
        "as the SPP published it.")] = None,
    ca: Annotated[Path | None, typer.Option(
        "--ca", help="With --server: the CA of the SPP's TLS certificate.")] = None,
) -> None:
    """Checkpoint the log, check it is consistent with what the witness cosigned before,
    and cosign it (refuses rollbacks, truncation and forks)."""
    h = home()
    if server is not None:
        import base64

        from primex.service.witness_client import witness_remote

        try:
            key = base64.b64decode(trust_key, validate=True) if trust_key else None
        except ValueError:
            key = b""
        if key is not None and len(key) != 32:
            raise PrimexError("--trust-key is not a base64 Ed25519 public key (32 bytes)",
                              where="--trust-key", hint="copy the log key the SPP published")
        run = witness_remote(h, server, prompt_signer(h, as_key), trust_key=key,
                             ca=str(ca) if ca else None)
        console().print(f"cosigned checkpoint of size {run.checkpoint.size} (held "
                        f"{run.previous_size}, fetched {run.fetched_entries} entries)")
        typer.echo(run.checkpoint.text, nl=False)
        return
    cp = cosign_latest(h, prompt_signer(h, as_key))
    console().print(f"cosigned checkpoint of size {cp.size}")
    typer.echo(cp.text, nl=False)


@witness_app.command("trust")
def witness_trust(
    origin: Annotated[str, typer.Option("--origin", help="The log's origin line, as the SPP "
                                        "published it (first line of its checkpoints).")],
    log_key: Annotated[str, typer.Option("--log-key", help="The log's Ed25519 public key "
                                         "(base64), compared out of band.")],
) -> None:
    """Witness a remote log: record the log key this witness trusts for ORIGIN (once).

    Compare the key ID it prints with the one the SPP announced."""
    import base64

    try:
        key = base64.b64decode(log_key, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise PrimexError("--log-key is not a base64 Ed25519 public key (32 bytes)",
                          where="--log-key", hint="copy the log key the SPP published")
    Witness(home()).trust_log(origin, key)
    console().print(f"witness trusts log [bold]{origin}[/] key ID "
                    f"{note_key_id(origin, key).hex()}", highlight=False)


@witness_app.command("serve")
def witness_serve(
    as_key: Annotated[str, typer.Option("--as", help="The committee key that cosigns.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8200,
    certfile: Annotated[Path | None, typer.Option(
        "--ssl-certfile", help="Serve HTTPS with this certificate (PEM).")] = None,
    keyfile: Annotated[Path | None, typer.Option(
        "--ssl-keyfile", help="The certificate's private key (PEM).")] = None,
) -> None:
    """Run the committee's witness service (C2SP tlog-witness add-checkpoint): the SPP
    pushes each checkpoint with a consistency proof; the witness cosigns it or refuses a
    rollback or fork. Its state stays in this (the committee's) home."""
    import uvicorn

    from primex.committee.witness_service import create_witness_app

    h = home()
    if (certfile is None) != (keyfile is None):
        raise PrimexError("give --ssl-certfile and --ssl-keyfile together",
                          where="--ssl-certfile")
    signer = prompt_signer(h, as_key)
    if signer.role != "committee":
        raise PrimexError(f"the witness cosigns with a committee key, not {as_key!r} "
                          f"({signer.role})", where="--as")
    if not Witness(h).logs():
        raise PrimexError("the witness trusts no log yet", where=str(h.witness),
                          hint="run `primex audit witness trust --origin ... --log-key ...`")
    console().print(f"committee witness {signer.name} for home {h.root} on "
                    f"{'https' if certfile else 'http'}://{host}:{port}", highlight=False)
    uvicorn.run(create_witness_app(h, signer), host=host, port=port, log_level="warning",
                access_log=False, ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None)


@witness_app.command("push")
def witness_push(
    url: Annotated[str, typer.Option("--url", help="The committee's witness service.")],
    ca: Annotated[Path | None, typer.Option(
        "--ca", help="The CA of the witness's TLS certificate.")] = None,
) -> None:
    """SPP side: push the log's current checkpoint (with a consistency proof) to the
    committee's witness and store its cosignature (what the release gate needs)."""
    from primex.service.witness_push import push_checkpoint

    run = push_checkpoint(home(), url, ca=str(ca) if ca else None)
    console().print(f"checkpoint of size {run.checkpoint.size} cosigned by "
                    f"{', '.join(run.cosigners)} (the witness held {run.old_size})",
                    highlight=False)


@witness_app.command("status")
def witness_status() -> None:
    """Show the last checkpoint the witness cosigned for each log it trusts."""
    w = Witness(home())
    logs = w.logs()
    if not logs:
        console().print("the witness trusts no log yet (`primex audit witness init`)")
        return
    for origin in logs:
        held = w.latest(origin)
        size = held.size if held else 0
        console().print(f"{origin}: cosigned up to size {size}", highlight=False)
