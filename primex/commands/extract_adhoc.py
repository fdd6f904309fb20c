"""`primex extract request`: the ad hoc extraction of one approved request (SPP side)."""

from __future__ import annotations

from typing import Annotated

import typer

from primex.commands.common import console, home
from primex.commands.remote import ServerOption


def register(app: typer.Typer) -> None:
    """Add `request` to the `primex extract` group."""
    app.command("request")(request)


def request(
    request_id: Annotated[str, typer.Argument(help="Request id, e.g. REQ-2026-0001.")],
    signer: Annotated[str, typer.Option(
        "--as", help="SPP operator key that signs the extraction event.")],
    server: ServerOption = None,
) -> None:
    """Extract an approved ad hoc request from PRIMA (for the BCSS).

    One row per person and spell, with the NISS for the BCSS, into
    <home>/spp/work/ID/extract.parquet + manifest.json; records a signed `extraction` event
    in the audit log. With --server, the service runs it as a job (its own operator key
    signs) after checking that --as is the SPP operator.
    """
    if server:
        from primex.commands import remote

        return remote.job(server, signer, request_id, "extract")
    from primex.commands.keys import prompt_signer
    from primex.extract.adhoc import extract_request

    h = home()
    result, seq = extract_request(h, request_id, prompt_signer(h, signer))
    out = console()
    out.print(f"{request_id}: {result.rows} rows (person × spell) extracted", highlight=False)
    out.print(f"wrote {result.extract}", highlight=False, soft_wrap=True)
    out.print(f"manifest {result.manifest_path}", highlight=False, soft_wrap=True)
    out.print(f"audit: extraction event #{seq}; send extract.parquet to the BCSS for "
              "`primex linkage code`", highlight=False, soft_wrap=True)
