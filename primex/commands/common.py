"""State shared by every command group: the home folder and the --debug flag."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console

from primex.home import Home


@dataclass
class _State:
    home: Home | None = None
    debug: bool = False
    console: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))


STATE = _State()


def home() -> Home:
    """The home folder chosen by --home / PRIMEX_HOME for this invocation."""
    if STATE.home is None:
        STATE.home = Home.resolve()
    return STATE.home


def console() -> Console:
    return STATE.console
