"""`primex review`: see the help text below."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Privacy officer: list, inspect, approve (with conditions), reject or return "
        "requests, and check protected outputs."
    ),
    no_args_is_help=True,
)
