"""The CLI skeleton: command map, one-line errors with exit code 2, home resolution."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from primex import cli
from primex.commands.common import STATE
from primex.errors import PrimexError
from primex.home import Home
from primex.redact import redact

GROUPS = [
    "request",
    "review",
    "signoff",
    "linkage",
    "extract",
    "disclosure",
    "release",
    "audit",
    "dashboard",
    "synth",
    "demo",
]


def test_help_lists_every_command_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for group in GROUPS:
        assert group in out, f"`primex --help` does not list {group}"


@pytest.mark.parametrize("group", [g for g in GROUPS if g != "signoff"])
def test_every_group_has_help(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([group, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_unknown_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["no-such-command"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:")
    assert "no-such-command" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


def _boom_app() -> typer.Typer:
    boom = typer.Typer()

    @boom.callback()
    def root(debug: bool = typer.Option(False, "--debug")) -> None:
        del debug

    @boom.command()
    def user() -> None:
        raise PrimexError("bad thing", where="x.yaml:3:5", hint="do it right")

    @boom.command()
    def internal() -> None:
        raise KeyError("85.07.30-032.29")

    return boom


def test_primex_error_is_one_line_with_where_and_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "app", _boom_app())
    assert cli.main(["user"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: x.yaml:3:5: bad thing (hint: do it right)"


def test_unexpected_exception_has_no_traceback_and_no_niss(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "app", _boom_app())
    assert cli.main(["internal"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "85.07.30-032.29" not in err and "85073003229" not in err
    assert "--debug" in err


def test_debug_shows_the_real_exception_without_the_niss(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "app", _boom_app())
    assert cli.main(["--debug", "internal"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err
    assert "85.07.30-032.29" not in err and "85073003229" not in err


def test_debug_never_prints_a_niss_from_a_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--debug once printed `85.07.30-033.28.yaml` in the traceback of a missing file."""
    missing = tmp_path / "85.07.30-033.28.yaml"
    assert cli.main(["--debug", "request", "validate", str(missing)]) == 2
    out = capsys.readouterr()
    assert "Traceback" in out.err
    assert "033.28" not in out.out + out.err and "03328" not in out.out + out.err


def test_home_option_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIMEX_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Home.resolve().root == tmp_path / "primex-home"
    monkeypatch.setenv("PRIMEX_HOME", str(tmp_path / "env-home"))
    assert Home.resolve().root == tmp_path / "env-home"
    assert Home.resolve(tmp_path / "explicit").root == tmp_path / "explicit"
    cli.main(["--home", str(tmp_path / "opt-home"), "synth", "--help"])
    assert STATE.home is not None and STATE.home.root == tmp_path / "opt-home"


def test_home_layout_separates_the_sides(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    assert home.prima_db.is_relative_to(home.spp)
    assert home.warehouse_db.is_relative_to(home.bcss)
    assert home.bcss_keystore.is_relative_to(home.bcss)
    assert not home.bcss_keystore.is_relative_to(home.spp)


@pytest.mark.parametrize(
    "text",
    ["93051822361", "93.05.18-223.61", "see 93 05 18 223 61 here", "x85073003229y"],
)
def test_redact_scrubs_national_numbers(text: str) -> None:
    out = redact(text)
    assert "[redacted-number]" in out
    assert not any(ch.isdigit() for ch in out.replace("[redacted-number]", ""))


def test_redact_keeps_ordinary_numbers() -> None:
    assert redact("2025Q2: 1234 rows, 12345678901234 bytes") == (
        "2025Q2: 1234 rows, 12345678901234 bytes"
    )


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("primex")
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, env={**os.environ}, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("primex ")
