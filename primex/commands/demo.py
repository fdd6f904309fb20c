"""`primex demo`: the whole ad hoc flow and the basic application on synthetic data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import STATE, console, home
from primex.errors import PrimexError

HELP = "Run the whole ad hoc flow and the basic application on synthetic data."


def demo(
    persons: Annotated[
        int, typer.Option("--persons", min=500, help="Synthetic persons to generate.")
    ] = 20_000,
    months: Annotated[int, typer.Option("--months", min=12, help="Months of PRIMA data.")] = 24,
    examples: Annotated[
        Path | None,
        typer.Option("--examples", help="Folder of example requests (default examples/requests)."),
    ] = None,
    networked: Annotated[bool, typer.Option(
        "--networked", help="The BCSS and the committee as their own homes and processes "
        "on localhost (BCSS linkage service, SPP service, remote witness).")] = False,
) -> None:
    """Run the whole ad hoc flow and the basic application on synthetic data.

    Starts from an empty home folder (a previous demo home is wiped; any other non-empty
    folder is refused). Passphrases are set by the demo itself: DEMO ONLY.
    """
    from primex.demo import REPO, Demo

    if STATE.run_cli is None:
        raise PrimexError("the demo runs through the `primex` command", where="demo",
                          hint="run `primex demo`")
    folder = examples or REPO / "examples" / "requests"
    run = Demo(home(), folder, console(), STATE.run_cli, persons=persons, months=months)
    if networked:
        from primex.demo_network import Networked

        run.net = Networked(run)
    run.run()
