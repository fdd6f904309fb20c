"""The home `make serve` runs on: synthetic data, a registered key for every demo actor,
their service accounts and the demo OIDC provider's accounts (loopback only)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from primex.audit.keys import create_identity, load_identity, load_signer
from primex.audit.log import open_log
from primex.home import Home
from primex.service.accounts import add_account
from primex.service.db import Account
from primex.service.state import ServiceState

# key -> (role, organisation, OIDC subject)
DEMO_ACTORS: dict[str, tuple[str, str | None, str]] = {
    "committee": ("committee", None, "demo-committee"),
    "officer": ("privacy_officer", None, "demo-officer"),
    "president": ("president", None, "demo-president"),
    "spp": ("spp_operator", None, "demo-spp"),
    "bcss": ("bcss_operator", None, "demo-bcss"),
    "alice": ("researcher", "HIVA – KU Leuven", "demo-alice"),
    "bruno": ("researcher", "ULB – DULBEA", "demo-bruno"),
}
MARKER = ".primex-serve-demo"


@dataclass(frozen=True)
class DemoHome:
    home: Home
    passphrases: dict[str, str]  # key -> passphrase (demo only; written to the home)
    passwords: dict[str, str]  # OIDC subject -> password of the demo provider


def prepare(home: Home, persons: int = 2000) -> DemoHome:
    """Create (once) or reuse the demo home; returns its passphrases and passwords."""
    secrets_file = home.root / MARKER
    if secrets_file.exists():
        values = dict(line.split("=", 1) for line in secrets_file.read_text().splitlines())
    else:
        if home.root.exists() and any(home.root.iterdir()):
            from primex.errors import PrimexError

            raise PrimexError("this folder holds state that `make serve` did not create",
                              where=str(home.root), hint="give another HOME_DIR")
        values = {f"key:{k}": secrets.token_urlsafe(12) for k in DEMO_ACTORS}
        values |= {f"oidc:{sub}": secrets.token_urlsafe(9) for _r, _o, sub in
                   DEMO_ACTORS.values()}
        home.root.mkdir(parents=True, exist_ok=True)
        _data(home, persons)
        log = open_log(home)
        for name, (role, org, _sub) in DEMO_ACTORS.items():
            create_identity(home, role, name, values[f"key:{name}"])
            by = load_signer(home, "committee", values["key:committee"])
            log.register_key(load_identity(home, name), by, organisation=org)
        log.close()
        secrets_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        os.chmod(secrets_file, 0o600)
    return DemoHome(
        home,
        {k[4:]: v for k, v in values.items() if k.startswith("key:")},
        {k[5:]: v for k, v in values.items() if k.startswith("oidc:")},
    )


def _data(home: Home, persons: int) -> None:
    from primex.synthetic import SynthConfig, generate

    generate(SynthConfig(persons=persons, start="2022-01", months=36, seed=2026),
             home.prima_db, home.warehouse_db)


def accounts(state: ServiceState) -> None:
    """The demo actors' accounts, on every start. A person who has since moved their login
    to a browser key (docs/portal.md: the committee registers it, the old key may be
    revoked) keeps it: the demo never takes the login back nor needs the old key."""
    with state.log() as log:
        for name, (_role, _org, sub) in DEMO_ACTORS.items():
            with state.db() as db:
                holder = db.scalar(select(Account.key_name).where(Account.oidc_subject == sub))
            if log.registry.active(name) is None or holder not in (None, name):
                continue
            add_account(state, log, name, subject=sub, email=f"{name}@demo.invalid")


def provider_config(path: Path, demo: DemoHome, issuer_port: int, service_url: str,
                    client_secret: str) -> None:
    import json

    path.write_text(json.dumps({
        "issuer": f"http://127.0.0.1:{issuer_port}", "port": issuer_port,
        "clients": [{"client_id": "primex-demo", "client_secret": client_secret,
                     "redirect_uris": [f"{service_url}/auth/callback"]}],
        "accounts": {sub: {"password": pw} for sub, pw in demo.passwords.items()},
    }))
    os.chmod(path, 0o600)
