"""`pg_url` (session scope): a throw-away PostgreSQL cluster on 127.0.0.1 for the tests.

Minimal version written for the service tests; the engines engineer owns the real one
(keep theirs at merge). Skips when the PostgreSQL server binaries are not installed
(scripts/test-system-deps.sh installs Debian's `postgresql`)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/test-system-deps.sh)")
    # initdb refuses root: as root (CI), run the cluster as the `postgres` system user
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="primex-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run initdb")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    port = _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "primex", "--auth=trust",
                    "-E", "UTF8", "--no-instructions"], check=True, capture_output=True)
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
         f"-h 127.0.0.1 -p {port} -k {root} -F", "start"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://primex@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
