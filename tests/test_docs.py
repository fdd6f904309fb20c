"""Every `primex` command shown in the documentation runs (doc-test style), so docs cannot rot.

The convention (also in docs/architecture.md#documentation-conventions):

* commands are shown in fenced ```console blocks, one per line, prefixed by `$ `; a line
  ending in a backslash continues on the next line; lines without `$ ` are sample output
  and are not checked;
* the commands of one page run in order, in one fresh home folder and a fresh working
  folder in which `examples/` and `protocols/` of the repository are visible, so a page is
  a tutorial that works from scratch;
* a command expected to fail ends with a comment `# exits N`; other `# …` comments (outside
  quotes) are ignored;
* passphrases come from the environment, as the pages say: the test sets
  `PRIMEX_PASSPHRASE` (the fallback for every key) and `PRIMEX_BCSS_PASSPHRASE`;
* request ids are written `REQ-<year>-NNNN`; the year is the current one when the test runs;
* a release encryption key written `primex-x25519:…` in a command stands for the last one
  that `primex keys init` printed earlier on the page (keys are random, like request ids are
  dated);
* `$NAME` in an argument is expanded from the environment; the test sets `PRIMEX_HOME`, so
  a page may name a file in the home folder as `$PRIMEX_HOME/...`;
* a `primex` command may end with `> FILE`: its standard output is written to FILE.

Only `primex …` commands are run; shell commands around them are interpreted for the few
forms the pages use (`export NAME=VALUE`, `cp SRC DST`, `sed -i "s|REGEX|TEXT|" FILE` with a
Python regular expression, applied like sed to the first match of every line, or to every
match with `g`), others (`ls`, `cat`, `python -m http.server`, …) are shown for
the reader only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from primex import cli

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w*)\s*$")
EXPECT = re.compile(r"\s+#\s*exits?\s+(\d+)\s*$")
X25519 = re.compile(r"primex-x25519:[A-Za-z0-9+/=]+")
SED = re.compile(r"^s\|(.*)\|(.*)\|(g?)$")


@dataclass
class Command:
    page: Path
    line: int
    text: str
    expect: int


def commands_of(page: Path) -> list[Command]:
    out: list[Command] = []
    lang: str | None = None
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(raw.strip())
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang != "console":
            continue
        line = raw.rstrip()
        if pending is not None:
            start, text = pending
            text += " " + line.strip().rstrip("\\").strip()
            pending = (start, text) if line.endswith("\\") else None
            if pending is None:
                out.append(_command(page, start, text))
            continue
        if line.lstrip().startswith("$ "):
            text = line.lstrip()[2:].rstrip("\\").strip()
            if line.endswith("\\"):
                pending = (number, text)
            else:
                out.append(_command(page, number, text))
    return out


def _without_comment(text: str) -> str:
    """The command without a trailing `# …` comment; a `#` inside quotes is kept (as in sh)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].strip()
    return text.strip()


def _command(page: Path, line: int, text: str) -> Command:
    expect = 0
    m = EXPECT.search(text)
    if m:
        expect = int(m.group(1))
        text = text[: m.start()]
    text = _without_comment(text)
    year = dt.datetime.now(dt.UTC).year
    text = re.sub(r"REQ-\d{4}-", f"REQ-{year}-", text)
    return Command(page, line, text, expect)


DOC_PAGES = [p for p in PAGES if any(c.text.startswith("primex") for c in commands_of(p))]


@pytest.mark.slow
@pytest.mark.parametrize("page", DOC_PAGES, ids=[p.name for p in DOC_PAGES])
def test_every_command_of_the_page_runs(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("examples", "protocols"):
        if (REPO / name).exists():
            (work / name).symlink_to(REPO / name)
    monkeypatch.chdir(work)
    monkeypatch.setenv("PRIMEX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRIMEX_PASSPHRASE", "doc-test-passphrase")
    monkeypatch.setenv("PRIMEX_BCSS_PASSPHRASE", "doc-test-keystore-passphrase")
    for key in [k for k in os.environ if k.startswith("PRIMEX_PASSPHRASE_")]:
        monkeypatch.delenv(key)
    last_key: str | None = None
    for cmd in commands_of(page):
        text = cmd.text
        if last_key is not None:
            text = X25519.sub(last_key, text)
        words = shlex.split(text)
        if not words:
            continue
        if words[0] == "export" and len(words) == 2 and "=" in words[1]:
            name, value = words[1].split("=", 1)
            monkeypatch.setenv(name, value)
            continue
        if words[0] == "cp" and len(words) == 3:
            shutil.copy(os.path.expandvars(words[1]), os.path.expandvars(words[2]))
            continue
        if words[0] == "sed" and len(words) == 4 and words[1] == "-i":
            m = SED.match(words[2])
            assert m, f'{page.relative_to(REPO)}:{cmd.line}: only sed -i "s|A|B|" is run'
            target = Path(os.path.expandvars(words[3]))
            count = 0 if m.group(3) else 1
            lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
            # as sed does: the first match on every line, or every match with g
            new = "".join(
                re.sub(m.group(1), os.path.expandvars(m.group(2)), line, count=count)
                for line in lines
            )
            target.write_text(new, encoding="utf-8")
            continue
        if words[0] != "primex":
            continue
        args = [os.path.expandvars(w) for w in words[1:]]
        target = None
        if len(args) >= 2 and args[-2] == ">":
            target, args = Path(args[-1]), args[:-2]
        capsys.readouterr()
        code = cli.main(args)
        captured = capsys.readouterr()
        if target is not None:
            target.write_text(captured.out, encoding="utf-8")
        assert code == cmd.expect, (
            f"{page.relative_to(REPO)}:{cmd.line}: `{cmd.text}` exited {code}, "
            f"expected {cmd.expect}\n{captured.err[-2000:]}\n{captured.out[-1000:]}"
        )
        if words[1:3] == ["keys", "init"]:
            keys = X25519.findall(captured.out)
            last_key = keys[-1] if keys else last_key


def test_the_readme_command_map_matches_the_cli() -> None:
    """README's table of command groups lists exactly the groups and commands of `primex`."""
    import typer

    root = typer.main.get_command(cli.app)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `primex (\S+)` \| [^|]+ \| ([^\n]*) \|$", text, flags=re.M)
    documented = {group: cells for group, cells in rows}
    assert set(documented) == set(root.commands), "README's command map lists other groups"
    for group, command in root.commands.items():
        subs = set(getattr(command, "commands", {}) or {})
        named = set(re.findall(r"`([a-z-]+)`", documented[group]))
        assert subs <= named, f"README: `primex {group}` does not list {sorted(subs - named)}"


def test_every_page_is_in_the_index() -> None:
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    missing = [
        p.name
        for p in (REPO / "docs").glob("*.md")
        if p.name != "index.md" and f"({p.name})" not in index
    ]
    assert not missing, f"docs/index.md does not list {missing}"


def test_the_convention_is_parsed_as_documented(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text `$ primex not-run` and a plain block:\n"
        "```\n$ primex shown-only\n```\n"
        "```console\n"
        "$ primex request validate my.yaml   # instant feedback\n"
        "ok: my.yaml is a valid request\n"
        "$ primex linkage code --request REQ-2024-0001 \\\n"
        "    --in x.parquet --as bcss\n"
        "$ primex request validate broken.yaml     # exits 2\n"
        '$ sed -i "s|a # b|c|" f.yaml\n'
        "```\n",
        encoding="utf-8",
    )
    year = dt.datetime.now(dt.UTC).year
    got = [(c.line, c.text, c.expect) for c in commands_of(page)]
    assert got == [
        (6, "primex request validate my.yaml", 0),
        (8, f"primex linkage code --request REQ-{year}-0001 --in x.parquet --as bcss", 0),
        (10, "primex request validate broken.yaml", 2),
        (11, 'sed -i "s|a # b|c|" f.yaml', 0),
    ]
