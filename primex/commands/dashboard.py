"""`primex dashboard`: see the help text below."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from primex.commands.common import console, home
from primex.errors import PrimexError

app = typer.Typer(
    help="SPP statistician: build the published dashboard of quarterly and annual indicators.",
    no_args_is_help=True,
)


@app.command("build")
def build(
    period: Annotated[str | None, typer.Option(
        "--period", help="Quarter to publish, e.g. 2025Q2 (default: latest complete).")] = None,
    profile: Annotated[str, typer.Option(
        "--profile", help="Dissemination profile from protocols/profiles.yaml.")] = "public",
    year: Annotated[int | None, typer.Option(
        "--year", help="Also build the annual report page of this calendar year.")] = None,
    snapshot: Annotated[str | None, typer.Option(
        "--snapshot", help="PRIMA as recorded on this date (YYYY-MM-DD).")] = None,
    opendata_base_url: Annotated[str | None, typer.Option(
        "--opendata-base-url", help="https:// address where the SPP serves the open-data "
        "packages (default: $PRIMEX_OPENDATA_BASE_URL, else the demo's .invalid address).",
    )] = None,
) -> None:
    """Run the protocols if needed, protect every figure and write the static site."""
    from primex.dashboard.build import build_site

    snap = None
    if snapshot is not None:
        try:
            snap = date.fromisoformat(snapshot)
        except ValueError:
            raise PrimexError(f"bad date {snapshot!r}", where="--snapshot",
                              hint="YYYY-MM-DD") from None
    result = build_site(home(), period, profile, year, snap, base_url=opendata_base_url)
    m = result.manifest
    pages = sum(1 for f in m["files"] if f["name"].endswith(".html"))
    console().print(
        f"dashboard {m['period']} (profile {m['profile']['name']}): {pages} pages, "
        f"{len(m['files'])} files", highlight=False)
    console().print(f"open {result.site / 'index.html'}", highlight=False, soft_wrap=True)
