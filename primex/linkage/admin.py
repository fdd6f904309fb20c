"""The BCSS operator's key chores, for the CLI: generate the master key, show a key id.

The CLI reaches the keystore only through this module (and `code`), so that the rule
"nothing outside primex.linkage imports primex.linkage.keystore" holds for it too.
"""

from __future__ import annotations

from primex.home import Home
from primex.linkage import keystore
from primex.linkage.pseudonym import key_id

ENV_PASSPHRASE = keystore.ENV_PASSPHRASE
ENV_MASTER_KEY = keystore.ENV_MASTER_KEY
MIN_PASSPHRASE = keystore.MIN_PASSPHRASE


def keygen(home: Home, passphrase: str, *, force: bool = False) -> tuple[str, str]:
    """Create the master key; returns (its fingerprint, the key file path)."""
    fingerprint = keystore.generate_master_key(home, passphrase, force=force)
    return fingerprint, str(keystore.key_file(home))


def has_key_file(home: Home) -> bool:
    return keystore.key_file(home).exists()


def request_key_id(home: Home, request_id: str, passphrase: str | None = None) -> str:
    """The key id of a request's project key (what its coded files carry)."""
    return key_id(keystore.project_key(home, request_id, passphrase))
