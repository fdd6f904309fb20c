"""`primex audit`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Committee: verify the signed audit log, run the witness, and read request histories.",
    no_args_is_help=True,
)
