"""`primex disclosure protect ID --as KEY`: the protection step of one request (SPP side).

Reads `<home>/spp/work/<ID>/coded.parquet` — refused unless its SHA-256 is among the files
the latest coding (or extraction) entry recorded —, applies the parameters in force (service
minimums, the researcher's proposal, the officer's conditions), writes
`<home>/spp/work/<ID>/protected/` and the disclosure report, and appends the signed
`disclosure_result` entry binding the report to the manifest of the files that may leave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import console, home
from primex.commands.keys import prompt_signer
from primex.commands.remote import ServerOption
from primex.errors import PrimexError
from primex.exchange.layout import REPORT_MD
from primex.release.manifest import collect_protected


def register(app: typer.Typer) -> None:
    """Add `protect` to the `disclosure` group."""

    @app.command("protect")
    def protect(
        request_id: Annotated[str, typer.Argument(help="Request id, e.g. REQ-2026-0001.")],
        as_key: Annotated[str, typer.Option("--as", help="The SPP operator's key name.")],
        coded: Annotated[
            Path | None,
            typer.Option("--in", help="Coded extract (default <home>/spp/work/ID/coded.parquet)."),
        ] = None,
        server: ServerOption = None,
    ) -> None:
        """Protect a coded request extract and record the disclosure result in the audit log
        (with --server: as a job of the service)."""
        if server:
            from primex.commands import remote

            if coded is not None:
                raise PrimexError("--in cannot be given with --server", where="--in",
                                  hint="the service protects the coded extract it holds")
            return remote.job(server, as_key, request_id, "protect")
        # Imported here: pandas and the disclosure package cost every other `primex` command
        # about a second of start-up.
        from primex.protection.record import protect_and_record

        h = home()
        recorded = protect_and_record(h, request_id, lambda: prompt_signer(h, as_key),
                                      collect_protected, coded=coded)
        outcome, work = recorded.outcome, recorded.work
        out = console()
        if outcome.passed:
            out.print(f"[green]protected[/] {request_id}: {outcome.report['summary']}")
            for f in outcome.files:
                out.print(f"  {f.name}")
        else:
            out.print(f"[red]protection failed[/] {request_id}: {outcome.report['summary']}")
            out.print(f"  report: {work / 'protected' / REPORT_MD}")
            raise typer.Exit(1)
