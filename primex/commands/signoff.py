"""`primex signoff`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "President: review the manifest and disclosure summary of a request and sign off "
        "its release."
    ),
    no_args_is_help=True,
)
