"""`primex signoff ID --as KEY`: the president's sign-off (a single command, not a group)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from primex.audit.log import open_log
from primex.commands.common import console, home
from primex.commands.keys import prompt_signer
from primex.commands.remote import ServerOption
from primex.errors import PrimexError
from primex.release.signoff import SignoffView, prepare_signoff, sign_off

HELP = (
    "President: review the manifest and disclosure summary of a request and sign off "
    "its release."
)


def _show(view: SignoffView) -> None:
    out = console()
    out.print(f"[bold]{view.request}[/]: {view.title}", highlight=False)
    if view.organisation:
        out.print(f"for {view.organisation}", highlight=False)
    table = Table(title="Files that will leave (the manifest you sign)")
    for col in ("file", "bytes", "sha256"):
        table.add_column(col)
    for f in view.manifest.files:
        table.add_row(f.name, f"{f.bytes:,}", f.sha256)
    out.print(table)
    out.print(f"manifest sha256: [bold]{view.manifest.sha256}[/]", highlight=False)
    for f in view.reports.files if view.reports else ():
        out.print(f"readable report that leaves too: {f.name} ({f.bytes:,} bytes, sha256 "
                  f"{f.sha256})", highlight=False, soft_wrap=True)
    out.print(f"encrypted for: {view.recipient.describe()}", highlight=False, soft_wrap=True)
    verdict = "PASSED" if view.report.get("passed") is True else "NOT PASSED"
    out.print(
        f"disclosure report: {verdict} ({view.report.get('kind', 'unknown kind')})",
        highlight=False,
    )
    summary = view.report.get("summary", view.disclosure_summary)
    if summary is not None:
        text = summary if isinstance(summary, str) else json.dumps(summary, indent=2)
        out.print(text, highlight=False, soft_wrap=True)
    if view.conditions:
        out.print(
            "approval conditions: " + json.dumps(view.conditions, ensure_ascii=False),
            highlight=False, soft_wrap=True,
        )


def signoff(
    request_id: Annotated[str, typer.Argument(help="The request id, e.g. REQ-2026-0001.")],
    as_key: Annotated[str, typer.Option("--as", help="Your key name (a president key).")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Sign without asking for confirmation.")
    ] = False,
    server: ServerOption = None,
) -> None:
    """Show the manifest, the readable reports, the recipient key and the disclosure
    summary, then sign exactly those (data files, reports and recipient)."""
    if server:
        from primex.commands import remote

        return remote.signoff(server, as_key, request_id, yes)
    h = home()
    log = open_log(h, create=False)
    view = prepare_signoff(h, log, request_id)
    _show(view)
    if not yes:
        try:
            agreed = typer.confirm(
                f"Sign off the release of exactly these {len(view.manifest.files)} file(s)?"
            )
        except typer.Abort:  # end of input: no terminal and nothing piped in to answer
            raise PrimexError(
                "the sign-off needs a confirmation and nobody answered it", where="--yes",
                hint="review the manifest shown above, then rerun with --yes",
            ) from None
        if not agreed:
            raise typer.Abort()
    entry = sign_off(log, view, prompt_signer(h, as_key))
    console().print(
        f"[green]signed off[/] {request_id} at log entry {entry.seq} (manifest "
        f"{view.manifest.sha256[:16]}…). Next: the committee's witness cosigns a checkpoint "
        "(`primex audit witness cosign`), then `primex release build`.",
        highlight=False,
    )
