"""`primex extract`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "SPP side: run extraction protocols (quarterly, annual, ad hoc) and verify their "
        "manifests."
    ),
    no_args_is_help=True,
)
