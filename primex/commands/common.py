"""State shared by every command group: the home folder and the --debug flag."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.errors import MarkupError

from primex.errors import PrimexError
from primex.home import Home


class _TextSafeConsole(Console):
    """Commands print paths and names inside rich markup; a path like `out[/b]` would raise
    MarkupError after the work is done (a release recorded, a file written). Print such a
    line as plain text instead of failing."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        try:
            super().print(*objects, **kwargs)
        except MarkupError:
            super().print(*objects, **{**kwargs, "markup": False})


@dataclass
class _State:
    home: Home | None = None
    debug: bool = False
    # soft_wrap: messages are never broken mid-path or mid-id (the terminal wraps them)
    console: Console = field(default_factory=lambda: _TextSafeConsole(soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True))
    # `primex.cli.main`, set by the CLI itself: the demo drives the real commands through it
    # without importing the CLI that imports the demo (no import cycle).
    run_cli: Callable[[list[str]], int] | None = None


STATE = _State()


def home() -> Home:
    """The home folder chosen by --home / PRIMEX_HOME for this invocation."""
    if STATE.home is None:
        STATE.home = Home.resolve()
    return STATE.home


def console() -> Console:
    return STATE.console


def check_output(path: Path, option: str, *, folder: bool = False) -> None:
    """Refuse an output path that cannot be written, before any work is done or anything is
    logged: a folder where a file goes (or the reverse), a file where a parent folder must
    be, or a folder this user may not write into."""
    if folder and path.exists() and not path.is_dir():
        raise PrimexError("is a file, not a folder", where=str(path),
                          hint=f"give a folder to {option}")
    if not folder and path.is_dir():
        raise PrimexError("is a folder, not a file", where=str(path),
                          hint=f"give a file name to {option}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the folders in between are created by the command
    if not parent.is_dir():
        raise PrimexError("is a file, not a folder", where=str(parent),
                          hint=f"choose another {option} path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PrimexError("the folder is not writable", where=str(parent),
                          hint=f"choose another {option} path, or ask for write access")
