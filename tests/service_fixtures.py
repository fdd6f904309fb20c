"""Fixtures of the service tests: a real `primex serve` (uvicorn, on 127.0.0.1) over a
home with a registered actor for every role, on SQLite or on a throw-away PostgreSQL.

    def test_x(stack: Stack): ...  # .url .chain .state .client("alice") .db_kind
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pg_server import pg_url  # noqa: F401  (a fixture)
from release_chain import PASS, Chain, make_chain

from primex.service.accounts import add_account
from primex.service.app import build_state, create_app
from primex.service.client import RemoteClient
from primex.service.settings import OidcSettings, ServiceSettings, SmtpSettings
from primex.service.state import ServiceState

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

    # pg_url (tests/pg_server.py) names a server; each test gets a database of its own
    base = request.getfixturevalue("pg_url")
    host, _, db = base.split("://", 1)[1].split("?", 1)[0].partition("/")
    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(f"postgresql://{host}/{db or 'postgres'}", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{host}/{name}"


def make_stack(tmp_path: Path, request: pytest.FixtureRequest, kind: str, *,
               oidc: OidcSettings | None = None, smtp: SmtpSettings | None = None,
               port: int | None = None, **overrides: Any) -> tuple[ServiceState, Chain, int]:
    # the organisations of the researchers are in their key_add entries (contract C5)
    chain = make_chain(tmp_path, extra={"eve": "researcher"},
                       organisations={k: org for k, (org, _s, _m) in ACCOUNTS.items() if org})
    port = port or free_port()
    settings = ServiceSettings(
        home=chain.home.root, database_url=database_url(kind, tmp_path, request),
        public_url=f"http://127.0.0.1:{port}", operator_key="spp", oidc=oidc, smtp=smtp,
        **overrides,
    )
    state = build_state(settings)
    with state.log() as log:
        for key, (_org, sub, email) in ACCOUNTS.items():
            add_account(state, log, key, subject=sub, email=email)
    return state, chain, port


def running_stack(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch, kind: str) -> Iterator[Stack]:
    """The service on a thread over a fresh chain, for a fixture to yield from."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    state, chain, port = make_stack(tmp_path, request, kind)
    with ServerThread(create_app(state.settings, state), port) as server:
        yield Stack(server.url, chain, state, kind)
    state.close()


@pytest.fixture(name="stack", params=["sqlite", "postgresql"])
def service_stack_fixture(request: pytest.FixtureRequest, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    yield from running_stack(request, tmp_path, monkeypatch, request.param)


@pytest.fixture(name="sqlite_stack")
def sqlite_stack_fixture(request: pytest.FixtureRequest, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The service on SQLite only (tests whose subject is not the database)."""
    yield from running_stack(request, tmp_path, monkeypatch, "sqlite")


# --- a real OpenID Provider (tests/oidc: node-oidc-provider, pinned) ----------------------
OIDC_DIR = Path(__file__).parent / "oidc"
OIDC_CLIENT = ("primex-service", "test-client-secret-0123456789")
OIDC_PASSWORDS = {sub: f"pw-{sub}" for _org, sub, _mail in ACCOUNTS.values()}
OIDC_PASSWORDS["sub-mallory"] = "pw-sub-mallory"  # known to the provider, not the service


class OidcProvider:
    """`node tests/oidc/provider.js` on a loopback port, for one service port."""

    def __init__(self, workdir: Path, service_port: int) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = f"http://127.0.0.1:{service_port}/auth/callback"
        self.config = workdir / "oidc.json"
        self.config.write_text(json.dumps({
            "issuer": self.issuer, "port": self.port,
            "clients": [{"client_id": OIDC_CLIENT[0], "client_secret": OIDC_CLIENT[1],
                         "redirect_uris": [self.redirect_uri]}],
            "accounts": {sub: {"password": pw} for sub, pw in OIDC_PASSWORDS.items()},
        }))
        self.process: subprocess.Popen[str] | None = None

    @property
    def settings(self) -> OidcSettings:
        return OidcSettings(issuer=self.issuer, client_id=OIDC_CLIENT[0],
                            client_secret=OIDC_CLIENT[1], redirect_uri=self.redirect_uri)

    def __enter__(self) -> OidcProvider:
        node = shutil.which("node")
        if node is None:
            pytest.skip("Node.js is not installed (scripts/test-system-deps.sh)")
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR,
                           check=True, capture_output=True, timeout=300)
        self.process = subprocess.Popen([node, str(OIDC_DIR / "provider.js"),
                                         str(self.config)], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            self.process.kill()
            raise RuntimeError(f"the OpenID Provider did not start: {line!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(name="provider", scope="module")
def oidc_provider_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    service_port = free_port()
    with OidcProvider(tmp_path_factory.mktemp("oidc"), service_port) as provider:
        provider.service_port = service_port  # type: ignore[attr-defined]
        yield provider


def browser_login(service_url: str, provider: OidcProvider, subject: str,
                  password: str | None = None) -> httpx.Response:
    """Drive the authorization code flow as a browser would; returns the service's answer
    to the callback. Cookies are carried by hand: the service's are Secure (an http
    cookie jar would rightly not send them over plain http)."""
    with httpx.Client(timeout=10) as browser:
        start = browser.get(service_url + "/auth/login")
        assert start.status_code == 302, start.text
        login_cookie = start.cookies.get("primex-login")
        at_provider = browser.get(start.headers["location"], follow_redirects=True)
        assert at_provider.status_code == 200 and "Sign in" in at_provider.text
        action = at_provider.url.path + "/login"
        answer = browser.post(provider.issuer + action, data={
            "login": subject, "password": password or OIDC_PASSWORDS[subject]})
        while answer.status_code in (302, 303) and not answer.headers["location"].startswith(
                provider.redirect_uri):
            answer = browser.get(answer.headers["location"])
        if answer.status_code not in (302, 303):
            return answer
        back = answer.headers["location"]
        assert back.startswith(provider.redirect_uri)
        return httpx.get(service_url + "/auth/callback?" + back.split("?", 1)[1],
                         headers={"Cookie": f"primex-login={login_cookie}"})


def session_cookie(reply: httpx.Response) -> str:
    for header in reply.headers.get_list("set-cookie"):
        if header.startswith("__Host-primex-session="):
            return header.split(";", 1)[0]
    raise AssertionError(f"no session cookie in {reply.headers.get_list('set-cookie')}")
