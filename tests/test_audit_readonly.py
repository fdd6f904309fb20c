"""Issue 14 #16: read-only commands work on a read-only home (a committee's write-protected
evidence copy) and create nothing; `keys init` on a full disk leaves nothing half-made.

Both run the real `primex` in a subprocess. Root ignores file modes, so as root the
read-only run drops the capabilities that bypass them (`setpriv --bounding-set`): the test
really runs in CI as root instead of being skipped. The full disk is a file-size limit
(RLIMIT_FSIZE) on the child process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from audit_fixtures import run_primex
from release_chain import PASS, make_chain
from test_audit_insider import custody


def primex(home: Path, *args: str, read_only: bool = False,
           max_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    return run_primex("--home", str(home), *args, modes_apply=read_only,
                      max_file_bytes=max_file_bytes, env={"PRIMEX_PASSPHRASE": PASS})


def _freeze(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod((mode & ~0o222) | (0o555 if p.is_dir() else 0))


def _thaw(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_read_only_commands_work_on_a_read_only_home(tmp_path: Path) -> None:
    chain = custody(make_chain(tmp_path))
    chain.up_to_signoff()
    chain.log.close()
    home = tmp_path / "evidence"
    shutil.copytree(chain.home.root, home)
    (home / "audit" / ".lock").unlink()  # a copy need not carry the writers' lock file
    _freeze(home)
    try:
        before = _files(home)
        probe = primex(home, "keys", "init", "--role", "researcher", "--name", "eve",
                       "--by", "committee", read_only=True)
        assert probe.returncode == 2, "the home is not read-only for this test"
        assert len(probe.stderr.strip().splitlines()) == 1 and "Traceback" not in probe.stderr
        for args in (["audit", "verify"], ["audit", "verify", "--full"],
                     ["audit", "report", "--format", "md"], ["request", "status"],
                     ["request", "status", chain.request], ["keys", "list"],
                     ["audit", "log"]):
            run = primex(home, *args, read_only=True)
            assert run.returncode == 0, (args, run.stderr)
            assert "Traceback" not in run.stderr
        assert _files(home) == before  # nothing created, not even a lock file
    finally:
        _thaw(home)


def test_keys_init_on_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "new-home"
    run = primex(home, "keys", "init", "--role", "committee", "--name", "comm",
                 max_file_bytes=150)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert "could not create the key" in run.stderr
    assert not home.exists() or not any(home.rglob("*")), sorted(home.rglob("*"))
    # an existing home: the identity files fit, the log append does not
    assert primex(home, "keys", "init", "--role", "committee", "--name", "comm").returncode == 0
    log = home / "audit" / "entries.jsonl"
    data = log.read_bytes()
    run = primex(home, "keys", "init", "--role", "president", "--name", "pres", "--by", "comm",
                 max_file_bytes=len(data) + 20)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert log.read_bytes() == data, "a half-written entry was left in the log"
    assert not (home / "keys" / "pres").exists()
    assert primex(home, "keys", "list").returncode == 0

