"""Several service processes on one home (`primex serve --workers 2`): concurrent
decisions through both lose or duplicate no log entry; a request never has two jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from release_chain import PASS, SPEC, no_fsync  # noqa: F401  (autouse fixture)
from service_fixtures import ServerThread, Stack, make_stack, sqlite_stack_fixture  # noqa: F401  (a fixture)

from primex.audit.log import open_log
from primex.errors import PrimexError
from primex.service.app import create_app
from primex.service.client import RemoteClient, RemoteError
from primex.service.httpsig import sign_request


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_two_worker_processes_lose_and_duplicate_nothing(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    state, chain, port = make_stack(tmp_path, request, "sqlite")
    state.close()
    env = {**os.environ, "PRIMEX_DB_URL": state.settings.database_url,
           "PRIMEX_OPERATOR_KEY": "spp", "PRIMEX_PASSPHRASE_SPP": PASS,
           "PRIMEX_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "primex.cli", "--home", str(chain.home.root), "serve",
         "--port", str(port), "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two workers start slowly on a busy machine
        while True:
            try:
                if httpx.get(url + "/api/health").status_code == 200 and \
                        len(_children(server.pid)) >= 2:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "no service"
            time.sleep(0.2)
        key = chain.ids["alice"].encryption_public_key

        def submit(n: int) -> tuple[str, int]:
            text = SPEC.format(key=key).replace("title: Labour", f"title: Run {n} Labour")
            # a fresh connection per call: the two processes share the listening socket
            with RemoteClient(url, chain.signers["alice"]) as alice:
                for _ in range(20):  # a real client prepares again when the log moved
                    try:
                        done = alice.submit(text)
                        return str(done["request"]), int(done["seq"])
                    except PrimexError as exc:  # 409/503 and "the log kept moving": retried
                        if isinstance(exc, RemoteError) and exc.status not in (409, 503):
                            raise
                raise AssertionError("never committed")

        with ThreadPoolExecutor(8) as pool:
            committed = list(pool.map(submit, range(10)))

        def approve(rid: str) -> int:
            with RemoteClient(url, chain.signers["olivia"]) as olivia:
                for _ in range(20):
                    try:
                        return int(olivia.decide(rid, "approval", {"conditions": []})["seq"])
                    except PrimexError as exc:
                        if isinstance(exc, RemoteError) and exc.status not in (409, 503):
                            raise
                raise AssertionError("never committed")

        with ThreadPoolExecutor(8) as pool:
            approvals = list(pool.map(approve, [rid for rid, _ in committed]))
        # a replayed signed request is refused whichever process receives it: the
        # nonces are in the database (new connections land on either worker)
        path = "/api/me"
        headers = dict(sign_request("GET", path, b"", "alice", chain.signers["alice"],
                                    time.time()).headers)
        replies = [httpx.get(url + path, headers=headers).status_code for _ in range(6)]
        assert replies == [200] + [401] * 5
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = open_log(chain.home, create=False)
    entries = log.entries()  # every signature verified
    assert [e.seq for e in entries] == list(range(len(entries)))
    subs = [e for e in entries if e.type == "submission"]
    assert sorted((e.request, e.seq) for e in subs) == sorted(committed)  # none lost
    assert len({e.request for e in subs}) == 10  # none duplicated
    assert sorted(e.seq for e in entries if e.type == "approval") == sorted(approvals)
    assert all(log.state(rid).state == "approved" for rid, _ in committed)


@pytest.fixture(name="stack")
def sqlite_stack(sqlite_stack: Stack) -> Stack:
    return sqlite_stack


def test_a_request_never_has_two_active_jobs(stack: Stack) -> None:
    with stack.client("alice") as alice:
        rid = alice.submit(SPEC.format(key=stack.chain.ids["alice"].encryption_public_key))[
            "request"]
    # another service process claimed a job on this request and is running it
    assert stack.state.jobs._claim("other-process-job", rid, "extract", "spp")
    with stack.client("spp") as spp, pytest.raises(RemoteError) as err:
        spp.start_job(rid, "extract")
    assert err.value.status == 409 and "already has a queued or running job" in str(err.value)


def test_a_request_signed_before_the_service_started_is_refused(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """One process keeps its nonces in memory: a request captured before a restart (its
    nonce forgotten) must not be accepted again."""
    state, chain, port = make_stack(tmp_path, request, "sqlite")
    path = "/api/me"
    captured = dict(sign_request("GET", path, b"", "alice", chain.signers["alice"],
                                 state.started - 10).headers)
    with ServerThread(create_app(state.settings, state), port) as server:
        reply = httpx.get(server.url + path, headers=captured)
        assert reply.status_code == 401 and "predates" in reply.json()["detail"]
        fresh = dict(sign_request("GET", path, b"", "alice", chain.signers["alice"],
                                  time.time()).headers)
        assert httpx.get(server.url + path, headers=fresh).status_code == 200
    state.close()
