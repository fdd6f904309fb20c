"""`primex linkage`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "BCSS operator: manage the linkage master key, code NISS into per-project "
        "pseudonyms and join the warehouse."
    ),
    no_args_is_help=True,
)
