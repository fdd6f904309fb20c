"""`primex disclosure` commands for micro."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this half's commands to the `disclosure` group."""
