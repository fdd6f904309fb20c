"""Shared builders for the audit, keys and workflow tests: a home with one actor per role
and a request walked through its whole life cycle."""

from __future__ import annotations

import base64
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primex.audit import keys
from primex.audit.canonical import dumps, sha256_hex
from primex.audit.log import AuditLog, Entry, open_log, parse_entry, utc_now
from primex.committee.witness import cosign_latest
from primex.home import Home

REPO = Path(__file__).resolve().parents[1]
PASS = "correct horse battery"
ACTORS = {
    "committee": "comm",
    "researcher": "alice",
    "privacy_officer": "olga",
    "president": "pres",
    "spp_operator": "spp",
    "bcss_operator": "bcss",
}
SPEC = "a" * 64
MANIFEST = {
    "files": [
        {"name": "codebook.json", "bytes": 812, "sha256": "1" * 64},
        {"name": "extract.parquet", "bytes": 20480, "sha256": "2" * 64},
    ]
}
MANIFEST_SHA = sha256_hex(MANIFEST)
# The chain of custody (CONTRACTS.md C1): extraction -> coding -> disclosure result.
EXTRACT_FILE = {"name": "extract.parquet", "bytes": 30720, "sha256": "7" * 64}
CODED_FILE = {"name": "coded.parquet", "bytes": 28672, "sha256": "c" * 64}
EXTRACT_MANIFEST = {"files": [EXTRACT_FILE]}
CODING_MANIFEST = {"inputs": [EXTRACT_FILE], "files": [CODED_FILE]}


@dataclass
class World:
    home: Home
    log: AuditLog
    signers: dict[str, keys.Signer] = field(default_factory=dict)

    def s(self, name: str) -> keys.Signer:
        return self.signers[name]

    def add_actor(self, role: str, name: str, person: str | None = None) -> keys.Signer:
        ident = keys.create_identity(self.home, role, name, PASS, person=person)
        signer = keys.load_signer(self.home, name, PASS)
        by = signer if not self.log.registry.has_committee else self.signers["comm"]
        self.log.register_key(ident, by)
        self.signers[name] = signer
        return signer


def make_world(root: Path, extra: list[tuple[str, str]] | None = None) -> World:
    """A home with one key per role (ACTORS) plus `extra` (role, name) keys."""
    home = Home(root)
    world = World(home, open_log(home))
    with world.log.batch():  # one fsync for the set-up (the durability tests use plain appends)
        for role, name in [*ACTORS.items(), *(extra or [])]:
            world.add_actor(role, name)
    return world


def body(event: str, **over: Any) -> dict[str, Any]:
    """A valid body for each event type (override fields with keyword arguments)."""
    base: dict[str, dict[str, Any]] = {
        "submission": {"spec_sha256": SPEC, "title": "RI exits", "organisation": "HIVA"},
        "return": {"reasons": ["purpose too vague"]},
        "rejection": {"reasons": ["no legal basis"]},
        "approval": {"spec_sha256": SPEC, "conditions": {"k": 10, "text": "no region"}},
        "extraction": {"manifest_sha256": sha256_hex(EXTRACT_MANIFEST),
                       "manifest": EXTRACT_MANIFEST, "snapshot": "2026Q3"},
        "coding": {"manifest_sha256": sha256_hex(CODING_MANIFEST), "manifest": CODING_MANIFEST,
                   "key_id": "v1:0011223344556677"},
        "disclosure_result": {
            "manifest_sha256": MANIFEST_SHA, "passed": True, "report_sha256": "5" * 64,
            "summary": {"suppressed_cells": 3, "k": 10},
            "inputs": [{"name": CODED_FILE["name"], "sha256": CODED_FILE["sha256"]}],
        },
        "output_check": {"manifest_sha256": MANIFEST_SHA, "decision": "approve"},
        "signoff": {"manifest_sha256": MANIFEST_SHA, "manifest": MANIFEST},
        "release": {
            "manifest_sha256": MANIFEST_SHA, "package_sha256": "6" * 64, "recipient": "alice",
            "checkpoint": {"size": 1, "root": "AAAA"},
        },
        "access": {"sha256": "2" * 64, "name": "extract.parquet"},
        "closure": {"reason": "retention reached"},
    }
    return {**base[event], **over}


def walk_to(world: World, target: str, request: str | None = None) -> str:
    """Append the events that bring a new request to `target`; returns the request id."""
    log, s = world.log, world.s
    steps = [
        ("submission", "alice"), ("approval", "olga"), ("extraction", "spp"),
        ("coding", "bcss"), ("disclosure_result", "spp"), ("output_check", "olga"),
        ("signoff", "pres"),
    ]
    names = {"submitted": 1, "approved": 2, "extracted": 3, "coded": 4, "protected": 5,
             "output_checked": 6, "signed_off": 7, "released": 7}
    rid = request
    with log.batch():
        for event, actor in steps[: names[target]]:
            entry = log.append(event, rid, body(event), s(actor))
            rid = entry.request
    assert rid is not None
    if target == "released":
        release(world, rid)
    return rid


def release(world: World, rid: str) -> Entry:
    cp = cosign_latest(world.home, world.s("comm"))
    return world.log.append(
        "release", rid,
        {"manifest_sha256": MANIFEST_SHA, "package_sha256": "6" * 64, "recipient": "alice",
         "checkpoint": {"size": cp.size, "root": cp.root_b64}},
        world.s("spp"),
    )


# --- insider attacks through the CLI (issue 14) -----------------------------------------------
ZERO_SIG = base64.b64encode(bytes(64)).decode()


def forge_line(home: Home, type_: str, request: str | None, b: dict[str, Any], actor: str,
               *, sig: str = ZERO_SIG) -> int:
    """Append an entry that is well-formed and correctly chained (seq, prev, origin, time)
    but carries a signature the actor never made (all zeros by default); returns its seq."""
    path = home.audit / "entries.jsonl"
    lines = path.read_bytes().splitlines()
    entries = [parse_entry(raw, i, None) for i, raw in enumerate(lines)]
    prev = None
    for e in entries:
        if e.request == request:
            prev = e.leaf_hex
    obj: dict[str, Any] = {
        "v": 1, "origin": entries[0].origin, "seq": len(lines), "time": utc_now(),
        "type": type_, "request": request, "prev": prev, "body": b, "actor": actor,
        "sig": sig,
    }
    with path.open("ab") as fh:
        fh.write(dumps(obj) + b"\n")
    return len(lines)


def cli(home: Home, *args: str, capsys: Any) -> tuple[int, str, str]:
    """Run `primex --home HOME ARGS...` in-process; (exit code, stdout, stderr)."""
    from primex.cli import main

    capsys.readouterr()
    rc = main(["--home", str(home.root), *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line_error(err: str) -> str:
    """The refusal the CLI printed: exactly one line, no traceback."""
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def tree_state(root: Path) -> dict[str, bytes | None]:
    """Every file under `root` (path -> bytes; folders -> None), to prove nothing changed."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*")) if ".lock" not in p.name
    }



_MAIN = "import sys; from primex.cli import main; sys.exit(main(sys.argv[1:]))"
# the capabilities with which root reads and writes regardless of file modes
_BYPASS = "-dac_override,-dac_read_search,-fowner,-linux_immutable"


def run_primex(
    *args: str, modes_apply: bool = False, max_file_bytes: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real `primex ARGS` in a child process.

    `modes_apply`: file modes bind the child even as root (it runs under `setpriv` without
    the capabilities that bypass them), so read-only tests really run in CI as root.
    `max_file_bytes`: a full disk (RLIMIT_FSIZE; writes beyond it fail with EFBIG)."""
    cmd = [sys.executable, "-c", _MAIN, *map(str, args)]
    if modes_apply and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test read-only files as root"
        cmd = [setpriv, f"--bounding-set={_BYPASS}", "--", *cmd]

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1",
             **(env or {})},
        preexec_fn=limit if max_file_bytes is not None else None,
    )
