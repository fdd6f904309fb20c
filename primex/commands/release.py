"""`primex release`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Release gate: build the encrypted package of a signed-off request; researchers "
        "open and verify it."
    ),
    no_args_is_help=True,
)
