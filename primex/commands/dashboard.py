"""`primex dashboard`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="SPP statistician: build the published dashboard of quarterly and annual indicators.",
    no_args_is_help=True,
)
