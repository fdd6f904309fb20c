"""Fixtures of the service tests: a real `primex serve` (uvicorn, on 127.0.0.1) over a
home with a registered actor for every role, on SQLite or on a throw-away PostgreSQL.

    def test_x(stack: Stack): ...  # .url .chain .state .client("alice") .db_kind
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from primex.service.accounts import add_account
from primex.service.app import build_state, create_app
from primex.service.client import RemoteClient
from primex.service.settings import OidcSettings, ServiceSettings, SmtpSettings
from primex.service.state import ServiceState
from tests.pg_server import pg_url  # noqa: F401  (a fixture)
from tests.release_chain import PASS, Chain, make_chain

ORG = "HIVA - KU Leuven"
OTHER_ORG = "ULB - Institut de sociologie"
# key -> (organisation, OIDC subject, e-mail)
ACCOUNTS: dict[str, tuple[str | None, str, str]] = {
    "alice": (ORG, "sub-alice", "alice@example.org"),
    "eve": (OTHER_ORG, "sub-eve", "eve@example.org"),
    "olivia": (None, "sub-olivia", "olivia@example.org"),
    "paul": (None, "sub-paul", "paul@example.org"),
    "spp": (None, "sub-spp", "spp@example.org"),
    "committee": (None, "sub-committee", "committee@example.org"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """uvicorn in a thread of the test process, on a loopback port."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@dataclass
class Stack:
    url: str
    chain: Chain
    state: ServiceState
    db_kind: str

    def client(self, name: str) -> RemoteClient:
        return RemoteClient(self.url, self.chain.signers[name])


def database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite'}"
    import psycopg

    base = request.getfixturevalue("pg_url")
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}"


def make_stack(tmp_path: Path, request: pytest.FixtureRequest, kind: str, *,
               oidc: OidcSettings | None = None, smtp: SmtpSettings | None = None,
               port: int | None = None, **overrides: Any) -> tuple[ServiceState, Chain, int]:
    chain = make_chain(tmp_path, extra={"eve": "researcher"})
    port = port or free_port()
    settings = ServiceSettings(
        home=chain.home.root, database_url=database_url(kind, tmp_path, request),
        public_url=f"http://127.0.0.1:{port}", operator_key="spp", oidc=oidc, smtp=smtp,
        **overrides,
    )
    state = build_state(settings)
    with state.log() as log:
        for key, (org, sub, email) in ACCOUNTS.items():
            add_account(state, log, key, organisation=org, subject=sub, email=email)
    return state, chain, port


@pytest.fixture(name="stack", params=["sqlite", "postgresql"])
def service_stack_fixture(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    state, chain, port = make_stack(tmp_path, request, request.param)
    with ServerThread(create_app(state.settings, state), port) as server:
        yield Stack(server.url, chain, state, request.param)
    state.close()
