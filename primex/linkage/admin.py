"""The BCSS operator's key chores, for the CLI: generate or rotate the master key, show a
key id.

The CLI reaches the keystore only through this module (and `code`), so that the rule
"nothing outside primex.linkage imports primex.linkage.keystore" holds for it too.
"""

from __future__ import annotations

from typing import Any

from primex.errors import PermissionDenied
from primex.home import Home
from primex.linkage import keystore
from primex.linkage.pseudonym import key_id

ENV_PASSPHRASE = keystore.ENV_PASSPHRASE
ENV_NEW_PASSPHRASE = keystore.ENV_NEW_PASSPHRASE
ENV_MASTER_KEY = keystore.ENV_MASTER_KEY
MIN_PASSPHRASE = keystore.MIN_PASSPHRASE


def keygen(home: Home, passphrase: str) -> tuple[str, str]:
    """Create the first master key; returns (its fingerprint, the key file path)."""
    fingerprint = keystore.generate_master_key(home, passphrase)
    return fingerprint, str(keystore.key_file(home))


def rotate(
    home: Home, signer: Any, new_passphrase: str, current_passphrase: str | None,
    *, previous: str | None = None,
) -> tuple[keystore.Rotation, int]:
    """Rotate the master key (proof of the current key: see keystore.rotate_master_key) and
    record the signed `linkage_key_rotation` event; returns the rotation and its log seq.
    With `previous` (the id the log knows, see `key_in_use`), the keystore file is gone:
    a new key replaces the lost one, recorded the same way."""
    from primex.audit.log import open_log

    if getattr(signer, "role", None) != "bcss_operator":
        raise PermissionDenied(
            f"key {getattr(signer, 'name', '?')!r} is not a bcss_operator key",
            where="--as", hint="a BCSS operator signs the rotation",
        )
    log = open_log(home, create=False)
    seqs: list[int] = []

    def record(old_id: str, new_id: str) -> None:
        entry = log.append(
            "linkage_key_rotation", None,
            {"old_master_key_id": old_id, "new_master_key_id": new_id}, signer,
        )
        seqs.append(entry.seq)

    if previous is not None:
        rotation = keystore.replace_lost_master_key(
            home, new_passphrase, old_master_id=previous, record=record
        )
    else:
        rotation = keystore.rotate_master_key(
            home, new_passphrase, current_passphrase=current_passphrase, record=record
        )
    return rotation, seqs[0]


def key_in_use(home: Home) -> str | None:
    """What the audit log says about a master key used before: the latest recorded master
    key id, "unknown" when only coding events show that one was used, None when the log
    shows none (or there is no log)."""
    from primex.audit.log import open_log

    if not (home.audit / "entries.jsonl").exists():
        return None
    entries = open_log(home, create=False).entries()
    rotations = [e for e in entries if e.type == "linkage_key_rotation"]
    if rotations:
        return str(rotations[-1].body["new_master_key_id"])
    return "unknown" if any(e.type == "coding" for e in entries) else None


def has_key_file(home: Home) -> bool:
    return keystore.key_file(home).exists()


def request_key_id(home: Home, request_id: str, passphrase: str | None = None) -> str:
    """The key id of a request's project key (what its coded files carry)."""
    return key_id(keystore.project_key(home, request_id, passphrase))
