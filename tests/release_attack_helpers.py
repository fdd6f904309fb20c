"""What a hostile insider with write access to the SPP home does, for the release attack tests:
append forged log lines (right position, right `prev` link, any signature), write files, and
run the `primex` command like the operators do. Only the on-disk formats are used here, so
the same attacks run against any version of the code."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from primex.audit.canonical import dumps
from primex.audit.merkle import leaf_hash
from primex.cli import main
from primex.home import Home

ZERO_SIG = base64.b64encode(bytes(64)).decode()


def log_lines(home: Home) -> list[bytes]:
    path = home.audit / "entries.jsonl"
    return [line for line in path.read_bytes().split(b"\n") if line]


def forge_append(
    home: Home, kind: str, request: str | None, body: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Append an entry that claims to be `actor`'s, with an all-zero signature: what an
    insider without the actor's private key can write."""
    lines = log_lines(home)
    entries = [json.loads(line) for line in lines]
    previous = [line for line, e in zip(lines, entries, strict=True) if e["request"] == request]
    forged = {
        "v": 1,
        "origin": entries[0]["origin"],
        "seq": len(lines),
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "type": kind,
        "request": request,
        "prev": leaf_hash(previous[-1]).hex() if previous else None,
        "body": body,
        "actor": actor,
        "sig": ZERO_SIG,
    }
    with (home.audit / "entries.jsonl").open("ab") as fh:
        fh.write(dumps(forged) + b"\n")
    return forged


def store_spec(home: Home, text: str) -> str:
    """Store spec bytes where the log's spec_sha256 points (any insider can)."""
    raw = text.encode()
    digest = hashlib.sha256(raw).hexdigest()
    home.ensure(home.requests)
    (home.requests / f"{digest}.yaml").write_bytes(raw)
    return digest


def run(
    capsys: pytest.CaptureFixture[str], home: Home, *args: str | Path
) -> tuple[int, str, str]:
    """`primex --home HOME ARGS`: (exit code, stdout, stderr)."""
    code = main(["--home", str(home.root), *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code: int, err: str, *words: str) -> None:
    """Exit 2 and exactly one clear `error:` line naming `words`, no traceback."""
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


def nothing_packaged(home: Home) -> bool:
    releases = home.releases
    return not releases.exists() or not any(releases.iterdir())


def release_entries(home: Home) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log_lines(home)) if e["type"] == "release"]


def niss(body: int) -> str:
    """A national number with valid check digits (1900 rule: 97 - body mod 97), from the
    definition of the check (reference/ niss facts), not from primex's validator."""
    return f"{body:09d}{97 - body % 97:02d}"
