"""`primex extract`: see the help text below."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from primex.commands.common import console, home
from primex.errors import PrimexError

app = typer.Typer(
    help=(
        "SPP side: run extraction protocols (quarterly, annual, ad hoc) and verify their "
        "manifests."
    ),
    no_args_is_help=True,
)

from primex.commands import extract_adhoc  # noqa: E402  (the ad hoc `request` command)

extract_adhoc.register(app)


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PrimexError(f"bad date {value!r}", where="--snapshot",
                          hint="give the snapshot date as YYYY-MM-DD") from None


@app.command("run")
def run(
    protocol: Annotated[str, typer.Option(
        "--protocol", help="Protocol name (quarterly, annual) or path to a protocol YAML.")],
    period: Annotated[str | None, typer.Option(
        "--period", help="2025Q2 (quarterly) or 2024 (annual); default: latest complete.")] = None,
    snapshot: Annotated[str | None, typer.Option(
        "--snapshot", help="Use PRIMA as recorded on this date (YYYY-MM-DD; default: all "
                           "records, i.e. the latest recorded_on).")] = None,
    signer: Annotated[str | None, typer.Option(
        "--as", help="SPP operator key that signs the calls to the BCSS service (protocols "
                     "whose outcomes are of kind bcss_service).")] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="BCSS engine for the labour-market outcomes: duckdb or spark "
                         "(default: DuckDB on the protocol's warehouse file).")] = None,
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", help="The BCSS warehouse for --engine: a DuckDB file or a Parquet "
                            "folder (default <home>/bcss/warehouse/ for spark).")] = None,
) -> None:
    """Run a protocol: compute its indicators and write them with a manifest."""
    from primex.extract.protocol import load_protocol
    from primex.extract.run import run_protocol

    proto = load_protocol(protocol)
    positions = None
    if proto.outcomes.kind == "bcss_service":
        positions = _bcss_positions(proto.outcomes.path, signer,
                                    f"{proto.name}-{period or 'latest'}")
    source = None
    if engine is not None or warehouse is not None:
        from primex.extract.outcomes import WarehouseSource
        from primex.linkage.engines import check_engine, open_warehouse

        name = engine or "duckdb"
        path = check_engine(name, home(), warehouse)
        source = WarehouseSource(lambda: open_warehouse(name, home(), path), name, str(path))
    result = run_protocol(home(), proto, period, _date(snapshot), warehouse_source=source,
                          positions=positions)
    m = result.manifest
    revised = m.get("previous_run")
    console().print(
        f"protocol {m['protocol']['name']} v{m['protocol']['version']}: period {m['period']}, "
        f"snapshot {m['snapshot_date']}, {len(m['periods'])} period(s) in the series"
        + (f", compared with the run of {revised['snapshot_date']}" if revised else ""),
        highlight=False,
    )
    console().print(f"wrote {result.indicators_path}", highlight=False, soft_wrap=True)
    console().print(f"manifest {result.manifest_path}", highlight=False, soft_wrap=True)


@app.command("verify")
def verify(
    manifest: Annotated[Path, typer.Argument(help="manifest.json of a protocol run.")],
) -> None:
    """Rerun the run a manifest describes and prove the outputs byte-identical."""
    from primex.extract.run import verify_manifest

    result = verify_manifest(home(), manifest)
    for note in result.notes:
        console().print(f"note: {note}", highlight=False, soft_wrap=True)
    if result.ok:
        console().print("verified: every output is byte-identical on rerun", highlight=False)
        return
    for diff in result.differences:
        console().print(f"differs: {diff}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _bcss_positions(url: str, signer: str | None, label: str) -> Any:
    """The BCSS service's lookup of the leavers' positions (see primex.service.bcss_client)."""
    import os

    from primex.audit.log import open_log
    from primex.commands.keys import prompt_signer
    from primex.service.bcss_client import BcssEndpoint, fetch_positions

    key = os.environ.get("PRIMEX_BCSS_KEY")
    if signer is None or not key:
        raise PrimexError("the outcomes come from the BCSS service: give --as KEY (the SPP "
                          "operator) and set PRIMEX_BCSS_KEY", where="--as")
    h = home()
    info = open_log(h, create=False).registry.active(key)
    if info is None or info.role != "bcss_operator":
        raise PrimexError(f"{key!r} is not an active bcss_operator key of the log",
                          where="PRIMEX_BCSS_KEY")
    cert, cert_key = (os.environ.get("PRIMEX_BCSS_CLIENT_CERT"),
                      os.environ.get("PRIMEX_BCSS_CLIENT_KEY"))
    endpoint = BcssEndpoint(url, key, ca=os.environ.get("PRIMEX_BCSS_CA"),
                            client_cert=(cert, cert_key) if cert and cert_key else None,
                            public_key=bytes(info.public_key))
    operator = prompt_signer(h, signer)
    return lambda leavers: fetch_positions(endpoint, operator, leavers, label)
