"""`primex demo`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Run the whole ad hoc flow and the basic application on synthetic data.",
    no_args_is_help=True,
)
