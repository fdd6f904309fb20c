"""`primex keys`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Actors' signing keys: create key pairs and manage the registry of who holds "
        "which role."
    ),
    no_args_is_help=True,
)
