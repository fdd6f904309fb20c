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
    r = verify_log(h, full=full, extra_checkpoints=texts, require_witness=not no_witness)
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
