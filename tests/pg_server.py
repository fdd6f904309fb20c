"""A throw-away PostgreSQL server for the tests (one per test session, per xdist worker).

`pg_url` is a session-scoped fixture giving `postgresql://USER@127.0.0.1:PORT/DB`: a cluster
created with `initdb` from /usr/lib/postgresql/*/bin (installed by scripts/test-system-deps.sh)
in a temporary folder, listening on 127.0.0.1 on a free port, trust authentication for local
connections only, one fresh database; stopped and deleted when the session ends. PostgreSQL
refuses to run as root: when the tests run as root (CI), the cluster belongs to the `postgres`
system user (or `nobody`) and its commands run through `runuser`.

Import it where needed (tests/ is on the path, like the other helpers):
`from pg_server import pg_url  # noqa: F401`
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DATABASE = "primex_test"
SUPERUSER = "primex"


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The unprivileged user that owns the cluster when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no postgres/nobody user to run PostgreSQL as")


def _cmd(user: str | None, *args: str) -> list[str]:
    return ["runuser", "-u", user, "--", *args] if user else list(args)


@contextlib.contextmanager
def running_cluster() -> Iterator[str]:
    """Start a fresh cluster and database; yield its URL; stop and delete it afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server in /usr/lib/postgresql")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="primex-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        root.chmod(0o755)
        for path in (root, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    try:
        subprocess.run(_cmd(user, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER,
                            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
                       **quiet)  # type: ignore[call-overload]
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=30")
        subprocess.run(_cmd(user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                            "-l", str(root / "server.log"), "-w", "-t", "60", "start"),
                       **quiet)  # type: ignore[call-overload]
        subprocess.run(_cmd(user, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                            "-U", SUPERUSER, DATABASE), **quiet)  # type: ignore[call-overload]
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_cmd(user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                "-w", "stop"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            for _ in range(50):  # the postmaster removes its pid file on the way out
                if not (data / "postmaster.pid").exists():
                    break
                time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh database on a throw-away PostgreSQL server (session-scoped)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server not installed (run scripts/test-system-deps.sh)")
    with running_cluster() as url:
        yield url
