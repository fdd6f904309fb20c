"""`primex request`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Researchers: write, validate, pre-assess and submit request specs; follow their "
        "status."
    ),
    no_args_is_help=True,
)
