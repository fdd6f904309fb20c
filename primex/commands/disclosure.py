"""`primex disclosure`: see the help text below."""

from __future__ import annotations

import typer

from primex.commands import disclosure_micro, disclosure_request, disclosure_tables

app = typer.Typer(
    help="Statistical disclosure control: measure risk, k-anonymise microdata, protect tables, "
    "write reports.",
    no_args_is_help=True,
)
disclosure_micro.register(app)
disclosure_tables.register(app)
disclosure_request.register(app)
