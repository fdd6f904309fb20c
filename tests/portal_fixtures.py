"""Fixtures of the portal tests: a real `primex serve` with the web pages, a real OpenID
Provider (node-oidc-provider, tests/oidc) and, for the browser test, Playwright driving
Debian's chromium (/usr/bin/chromium: nothing downloaded).

People who sign in the browser (rosa, researcher; olga, privacy officer; pia, president)
are registered by the committee once their browser has created its key
(`Portal.register_browser_key`); the SPP operator and the committee keep their CLI keys."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from release_chain import PASS, Chain
from service_fixtures import ACCOUNTS, OidcProvider, ServerThread, free_port, make_stack

from primex.audit.keys import Identity, create_identity, load_identity
from primex.home import Home
from primex.service.accounts import add_account
from primex.service.app import create_app
from primex.service.client import RemoteClient
from primex.service.state import ServiceState

ORG = "HIVA - KU Leuven"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "portal"
DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "portal"
# browser people: key -> (role, organisation, OIDC subject)
BROWSER_PEOPLE: dict[str, tuple[str, str | None, str]] = {
    "rosa": ("researcher", ORG, "sub-rosa"),
    "olga": ("privacy_officer", None, "sub-olga"),
    "pia": ("president", None, "sub-pia"),
}
# every subject the provider knows: the browser people and the service tests' accounts
# (alice, eve, olivia, paul, spp, committee: CLI keys)
SUBJECTS = [s for *_x, s in BROWSER_PEOPLE.values()] + [s for _o, s, _m in ACCOUNTS.values()]


def password(subject: str) -> str:
    return f"pw-{subject}"


@dataclass
class Portal:
    url: str
    chain: Chain
    state: ServiceState
    provider: OidcProvider
    researcher_home: Home  # rosa's own machine: her X25519 decryption key
    registered: dict[str, bytes] = field(default_factory=dict)

    def client(self, name: str) -> RemoteClient:
        return RemoteClient(self.url, self.chain.signers[name])

    def register_browser_key(self, name: str, public_key_b64: str) -> None:
        """What the committee does with the public key a person's browser showed them."""
        role, org, subject = BROWSER_PEOPLE[name]
        raw = base64.b64decode(public_key_b64, validate=True)
        assert len(raw) == 32
        x25519 = (load_identity(self.researcher_home, name).encryption_public_key_bytes
                  if role == "researcher" else None)
        identity = Identity(name, role, name, raw, x25519)
        with self.state.log() as log:
            log.register_key(identity, self.chain.signers["committee"], organisation=org)
            add_account(self.state, log, name, subject=subject, email=f"{name}@example.org")
        self.state.appended()
        self.registered[name] = raw


def _provider_config(provider: OidcProvider) -> None:
    data = json.loads(provider.config.read_text())
    data["accounts"] = {s: {"password": password(s)} for s in SUBJECTS}
    provider.config.write_text(json.dumps(data))


@pytest.fixture(name="portal")
def portal_fixture(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    service_port = free_port()
    provider = OidcProvider(_workdir(tmp_path), service_port)
    _provider_config(provider)
    with provider:
        state, chain, port = make_stack(tmp_path, request, "sqlite", oidc=provider.settings,
                                        port=service_port, cookie_secure=False,
                                        login_attempts_per_minute=100)
        researcher_home = Home(tmp_path / "rosa-home")
        create_identity(researcher_home, "researcher", "rosa", PASS)
        with ServerThread(create_app(state.settings, state), port) as server:
            yield Portal(server.url, chain, state, provider, researcher_home)
        state.close()


def _workdir(tmp_path: Path) -> Path:
    path = tmp_path / "oidc"
    path.mkdir(exist_ok=True)
    return path


def chromium_args() -> dict[str, Any]:
    return {"executable_path": str(CHROMIUM), "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync"]}


def screenshots_to_docs() -> bool:
    return os.environ.get("PORTAL_SCREENSHOTS") == "1"  # (conftest clears PRIMEX_*)
