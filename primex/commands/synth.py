"""`primex synth`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Generate the synthetic PRIMA and BCSS warehouse used by the demo, tests and "
        "benchmarks."
    ),
    no_args_is_help=True,
)
