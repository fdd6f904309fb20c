"""`primex request`: see the help text below."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import STATE, console, home
from primex.commands.remote import ServerOption
from primex.errors import ValidationError
from primex.redact import redact

app = typer.Typer(
    help=(
        "Researchers: write, validate, pre-assess and submit request specs; follow their "
        "status."
    ),
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="The request YAML file.", show_default=False)]


def _print_problems(exc: ValidationError) -> None:
    """All problems, one per line, on stdout (editors and CI parse them). The CLI then
    prints the summary line of the re-raised error on stderr and exits with code 2."""
    for line in exc.problems:
        typer.echo(redact(line))


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a request (`primex request schema > request.schema.json`)."""
    from primex.requests.spec import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command("validate")
def validate_command(file: FileArg) -> None:
    """Check a request: every problem as file:line:column: field: what (hint). Exit 2 on errors."""
    from primex.requests.validate import validate_file

    checked = validate_file(file, home=home())
    if not checked.ok:
        try:
            checked.raise_for_problems()
        except ValidationError as exc:
            _print_problems(exc)
            raise
    assert checked.spec is not None
    console().print(
        f"[green]ok[/]: {file} is a valid request ({checked.spec.output.kind}, "
        f"{len(checked.spec.variables)} variables)",
        highlight=False,
    )


@app.command("assess")
def assess_command(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the assessment as JSON.")] = False,
) -> None:
    """Pre-assess the disclosure risk of a request on the current data, and the cheapest
    generalisations that would bring it under the targets."""
    from primex.requests.assess import assess, render
    from primex.requests.validate import load_valid

    try:
        spec, _raw = load_valid(file, home=home())
    except ValidationError as exc:
        _print_problems(exc)
        raise
    result = assess(spec, home())
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        render(result, console())


@app.command("submit")
def submit_command(
    file: FileArg,
    as_key: Annotated[
        str, typer.Option("--as", help="Your key name (from `primex keys init`).")
    ],
    third_party: Annotated[
        bool,
        typer.Option(
            "--third-party-recipient",
            help="requester.public_key is not registered to you or your organisation: the "
            "privacy officer must then approve that recipient explicitly.",
        ),
    ] = False,
    server: ServerOption = None,
) -> None:
    """Validate, store and submit a request; prints the request id."""
    from primex.release.recipient_views import check_researcher_can_submit_recipient
    from primex.requests.lifecycle import submit

    if server:
        # The recipient is checked where the registry is: by the gate before anything leaves.
        from primex.commands import remote

        return remote.submit(server, file, as_key)

    notice = check_researcher_can_submit_recipient(home(), file, as_key, third_party=third_party)
    if notice is not None:
        STATE.err.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    try:
        receipt = submit(home(), file, as_key)
    except ValidationError as exc:
        _print_problems(exc)
        raise
    for warning in receipt.warnings:
        STATE.err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    verb = "resubmitted" if receipt.resubmission else "submitted"
    console().print(
        f"[green]{verb}[/] {receipt.request_id}  sha256 {receipt.sha256[:16]}…  "
        f"(follow it with `primex request status {receipt.request_id}`)",
        highlight=False,
    )


@app.command("status")
def status_command(
    request_id: Annotated[
        str | None, typer.Argument(help="A request id; without it, every request.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    server: ServerOption = None,
    as_key: Annotated[str | None, typer.Option(
        "--as", help="Your key name (signs the call, with --server).")] = None,
) -> None:
    """Show the state of one request (with its history) or of every request."""
    from primex.requests.lifecycle import render_status, status

    if server:
        from primex.commands import remote

        return remote.status(server, as_key, request_id, as_json)

    report = status(home(), request_id)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        render_status(report, console())
