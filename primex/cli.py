"""The `primex` command. It only wires the command groups of primex.commands together and
turns errors into one clear line (exit code 2); a traceback only with --debug."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from primex import __version__
from primex.commands import (
    audit,
    bcss,
    dashboard,
    demo,
    disclosure,
    extract,
    keys,
    linkage,
    release,
    request,
    review,
    serve,
    signoff,
    synth,
)
from primex.commands.common import STATE
from primex.errors import PrimexError
from primex.home import Home
from primex.redact import redact

app = typer.Typer(
    name="primex",
    help=(
        "primex: research extracts and statistics from PRIMA for the SPP Intégration sociale. "
        "Requests are validated, approved, extracted, pseudonymised on the BCSS side, "
        "protected, signed off by the president and released, every step in a signed audit log."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(request.app, name="request")
app.add_typer(review.app, name="review")
app.command("signoff", help=signoff.HELP)(signoff.signoff)
app.add_typer(linkage.app, name="linkage")
app.add_typer(extract.app, name="extract")
app.add_typer(disclosure.app, name="disclosure")
app.add_typer(release.app, name="release")
app.add_typer(audit.app, name="audit")
app.add_typer(dashboard.app, name="dashboard")
app.add_typer(synth.app, name="synth")
app.add_typer(keys.app, name="keys")
app.command("demo", help=demo.HELP)(demo.demo)
app.add_typer(serve.app, name="serve")
app.add_typer(bcss.app, name="bcss")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"primex {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="PRIMEX_HOME",
            help="Folder holding all state of this installation (default ./primex-home).",
        ),
    ] = None,
    prima: Annotated[
        str | None,
        typer.Option(
            "--prima",
            envvar="PRIMEX_PRIMA",
            help="PRIMA on PostgreSQL (postgresql://user@host:port/db; password from "
            "PGPASSWORD or ~/.pgpass) instead of <home>/spp/prima.duckdb.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    STATE.home = Home.resolve(home, prima)
    STATE.debug = debug


def _fail(message: str) -> int:
    # One line, whatever a library put in its message; escaped, because a path like
    # `data[/x]` is text, not rich markup (it would crash the print or vanish).
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    STATE.err.print(f"[bold red]error:[/] {escape(redact(line))}", highlight=False,
                    soft_wrap=True)
    return 2


def _debug_traceback() -> int:
    """--debug shows the traceback, redacted like every other line: a NISS in a file name or
    a value must not reach the terminal even when debugging."""
    STATE.err.print(escape(redact(traceback.format_exc())), highlight=False, soft_wrap=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        # standalone_mode=False: a command's `raise typer.Exit(n)` comes back as the return value
        result = app(args=args, prog_name="primex", standalone_mode=False)
    except PrimexError as exc:
        code = _debug_traceback() if debug else _fail(exc.one_line())
    except NoArgsIsHelpError:  # the help was already printed; nothing went wrong
        code = 0
    except typer.Abort:
        code = _fail("aborted")
    except TyperException as exc:  # usage errors: unknown option, missing argument, ...
        code = _debug_traceback() if debug else _fail(exc.format_message() + " (see --help)")
    except typer.Exit as exc:
        code = exc.exit_code
    except KeyboardInterrupt:
        code = _fail("interrupted")
    except Exception as exc:  # the last line of defence: never a traceback for users
        if debug:
            return _finish(_debug_traceback(), argv)
        code = _fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with --debug for details "
            "and report it"
        )
    else:
        code = result if isinstance(result, int) else 0
    return _finish(code, argv)


def _finish(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code


STATE.run_cli = main

if __name__ == "__main__":
    main()
