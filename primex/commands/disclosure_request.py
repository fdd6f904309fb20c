"""`primex disclosure protect ID --as KEY`: the protection step of one request (SPP side).

Reads `<home>/spp/work/<ID>/coded.parquet` — refused unless its SHA-256 is among the files
the latest coding (or extraction) entry recorded —, applies the parameters in force (service
minimums, the researcher's proposal, the officer's conditions), writes
`<home>/spp/work/<ID>/protected/` and the disclosure report, and appends the signed
`disclosure_result` entry binding the report to the manifest of the files that may leave.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from primex.audit import canonical
from primex.audit.log import open_log
from primex.commands.common import console, home
from primex.commands.keys import prompt_signer
from primex.errors import PermissionDenied, PrimexError
from primex.exchange.layout import REPORT_JSON, REPORT_MD
from primex.release.manifest import collect_protected
from primex.requests.store import load_submitted

EMPTY_MANIFEST_SHA256 = hashlib.sha256(canonical.dumps({"files": []})).hexdigest()


def _check_parquet(path: Path) -> None:
    """Refuse a missing file, a folder or a non-Parquet file (a CSV, a truncated copy) with
    one line, before anything is written: reading only its footer is cheap."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        return  # the protection step names the missing coded extract itself
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise PrimexError(
            f"not a readable Parquet file ({type(exc).__name__})", where=str(path),
            hint="give the coded.parquet the BCSS returned (`primex linkage code`)",
        ) from exc


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
    ) -> None:
        """Protect a coded request extract and record the disclosure result in the audit log."""
        # Imported here: pandas and the disclosure package cost every other `primex` command
        # about a second of start-up.
        from primex.protection.custody import check_input
        from primex.protection.step import protect_request

        h = home()
        log = open_log(h, create=False)
        state = log.state(request_id)
        if state.state not in ("coded", "protected", "extracted"):
            raise PrimexError(
                f"request is {state.state}; protection needs the coded extract",
                where=request_id,
                hint="the BCSS operator codes the extract first (`primex linkage code`)",
            )
        signer = prompt_signer(h, as_key)
        if signer.role != "spp_operator":  # checked before any work, not at the append
            raise PermissionDenied(
                f"key {signer.name!r} has role {signer.role}, not spp_operator", where="--as",
                hint="the protection step is signed by an SPP operator")
        spec, _raw, _sha = load_submitted(h, request_id)
        work = h.spp_work / request_id
        coded = coded or work / "coded.parquet"
        _check_parquet(coded)
        entries = log.entries(request_id)
        outcome = protect_request(
            h,
            request_id,
            spec,
            state.conditions,
            coded,
            work,
            manifest_fn=collect_protected,
            check_input=lambda name, sha: check_input(entries, request_id, name, sha),
        )
        report_sha = hashlib.sha256((work / "protected" / REPORT_JSON).read_bytes()).hexdigest()
        log.append(
            "disclosure_result",
            request_id,
            {
                "manifest_sha256": outcome.manifest_sha256 or EMPTY_MANIFEST_SHA256,
                "passed": outcome.passed,
                "report_sha256": report_sha,
                "summary": outcome.report["summary"],
                "kind": outcome.kind,
                # C1: the bytes this step read and protected, checked link by link by
                # `audit verify`
                "inputs": outcome.inputs,
            },
            signer,
        )
        out = console()
        if outcome.passed:
            out.print(f"[green]protected[/] {request_id}: {outcome.report['summary']}")
            for f in outcome.files:
                out.print(f"  {f.name}")
        else:
            out.print(f"[red]protection failed[/] {request_id}: {outcome.report['summary']}")
            out.print(f"  report: {work / 'protected' / REPORT_MD}")
            raise typer.Exit(1)
