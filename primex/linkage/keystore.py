"""The BCSS keystore: the only place the linkage master key lives.

BOUNDARY: only modules inside `primex.linkage` may import this module (a test walks the AST
of every other module and fails if one does). The SPP side never holds a linkage key.

The master key (32 random bytes from `primex linkage keygen`) is stored in
`<home>/bcss/keystore/master-key.json`, encrypted at rest: scrypt (n=2^15, r=8, p=1) turns the
operator's passphrase into an AES-256-GCM key; the file format string is authenticated data.
The file is created with mode 0600 and the folder with 0700; a key file that the group or
others may read or write is refused (fix: `chmod 600 FILE`).

For automation the master key can come from the environment instead:
`PRIMEX_LINKAGE_MASTER_KEY` = the 32 bytes in base64 (or 64 hex characters). The passphrase
of the file comes from the caller, else `PRIMEX_BCSS_PASSPHRASE`.

Nothing here prints, logs or returns the key in text; only its fingerprint (`master_id`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from primex import atomic
from primex.errors import PermissionDenied, PrimexError
from primex.home import Home
from primex.linkage.pseudonym import KEY_BYTES, derive_project_key

FORMAT = "primex-bcss-keystore/v1"
KEY_FILE = "master-key.json"
ENV_MASTER_KEY = "PRIMEX_LINKAGE_MASTER_KEY"
ENV_PASSPHRASE = "PRIMEX_BCSS_PASSPHRASE"
ENV_NEW_PASSPHRASE = "PRIMEX_BCSS_NEW_PASSPHRASE"  # rotation: the new key's passphrase
MIN_PASSPHRASE = 12
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def key_file(home: Home) -> Path:
    return home.bcss_keystore / KEY_FILE


def master_id(master_key: bytes) -> str:
    """Public fingerprint of the master key (to tell keys apart; reveals nothing of it)."""
    return "m1:" + hashlib.sha256(b"primex-master-id" + master_key).digest()[:8].hex()


def generate_master_key(home: Home, passphrase: str) -> str:
    """Create the first master key, store it encrypted, return its fingerprint.

    An existing key is never replaced here: rotation (`rotate_master_key`) needs proof of
    the current key and records a signed event.
    """
    _check_passphrase(passphrase)
    path = key_file(home)
    if path.exists():
        raise PrimexError(
            "a master key already exists",
            where=str(path.parent),
            hint="rotating it changes every pseudonym: `primex linkage keygen --force --as "
            "KEY` with the current passphrase",
        )
    _private_folder(path.parent)
    master = secrets.token_bytes(KEY_BYTES)
    document = _encrypt(master, passphrase)
    _write_private(path, json.dumps(document, indent=2, sort_keys=True).encode() + b"\n")
    return str(document["master_id"])


@dataclass(frozen=True)
class Rotation:
    old_master_id: str
    new_master_id: str
    retired: Path | None  # the old key file kept; None when it was lost


def replace_lost_master_key(
    home: Home, passphrase: str, *, old_master_id: str, record: Callable[[str, str], object]
) -> Rotation:
    """A new master key where the keystore file is gone but the log shows a key was in use
    (`old_master_id`). Like a rotation, `record` appends the signed event before the new
    key takes its place; there is no old key to prove or to keep."""
    path = key_file(home)
    if path.exists():
        raise PrimexError("a master key already exists", where=str(path.parent),
                          hint="rotate it with `primex linkage keygen --force --as KEY`")
    _check_passphrase(passphrase)
    _private_folder(path.parent)
    document = _encrypt(secrets.token_bytes(KEY_BYTES), passphrase)
    new_id = str(document["master_id"])
    # the new file is on disk before the event is recorded; only a rename remains after it
    with atomic.pending(path, json.dumps(document, indent=2, sort_keys=True).encode() + b"\n",
                        mode=0o600):
        record(old_master_id, new_id)
    return Rotation(old_master_id, new_id, None)


def rotate_master_key(
    home: Home,
    new_passphrase: str,
    *,
    current_passphrase: str | None,
    record: Callable[[str, str], object],
) -> Rotation:
    """Replace the master key by a new one; the caller proves it holds the current key.

    Proof: the current key from `PRIMEX_LINKAGE_MASTER_KEY` (the BCSS secret store) whose
    fingerprint is the keystore's, else `current_passphrase` decrypting the keystore file.
    `record(old_master_id, new_master_id)` appends the signed rotation event; it runs after
    every check and before the new key replaces the old one, so a refused event changes
    nothing and the log never misses a rotation. The old file is kept as
    `master-key.retired-<master_id>.json` (0600).
    """
    path = key_file(home)
    if not path.exists():
        raise PrimexError(
            "there is no master key to rotate", where=str(path),
            hint="create the first one with `primex linkage keygen`",
        )
    check_permissions(path)
    current_raw = path.read_bytes()
    document = _read_file(path)
    env = os.environ.get(ENV_MASTER_KEY)
    if env:
        old = _decode_env_key(env)
        if master_id(old) != document.get("master_id"):
            raise PermissionDenied(
                f"{ENV_MASTER_KEY} is not the keystore's current master key; rotation refused",
                where=ENV_MASTER_KEY,
                hint="give the current key from the BCSS secret store, or unset it and give "
                "the current passphrase",
            )
    else:
        if not current_passphrase:
            raise PermissionDenied(
                "rotating the master key needs the current keystore passphrase",
                where=str(path),
                hint=f"type it when asked, or set {ENV_PASSPHRASE}",
            )
        old = _decrypt(document, current_passphrase, path)
    _check_passphrase(new_passphrase)
    master = secrets.token_bytes(KEY_BYTES)
    new_document = _encrypt(master, new_passphrase)
    old_id, new_id = master_id(old), str(new_document["master_id"])
    retired = path.with_name(f"master-key.retired-{old_id.replace(':', '-')}.json")
    _write_private(retired, current_raw)  # a copy: the current file stays until recorded
    # the new file is on disk before the event is recorded; only a rename remains after it
    try:
        with atomic.pending(path, json.dumps(new_document, indent=2, sort_keys=True).encode()
                            + b"\n", mode=0o600):
            record(old_id, new_id)
    except BaseException:
        retired.unlink(missing_ok=True)
        raise
    return Rotation(old_id, new_id, retired)


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise PrimexError(
            f"the keystore passphrase must have at least {MIN_PASSPHRASE} characters",
            where="keystore passphrase",
            hint="use a long passphrase kept by the BCSS operators (dual control)",
        )


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def load_master_key(home: Home, passphrase: str | None = None) -> bytes:
    """The master key: from `PRIMEX_LINKAGE_MASTER_KEY` if set, else the keystore file."""
    env = os.environ.get(ENV_MASTER_KEY)
    path = key_file(home)
    if env:
        key = _decode_env_key(env)
        if path.exists() and _read_file(path).get("master_id") != master_id(key):
            # after a rotation the secret store may still hold the retired key
            raise PermissionDenied(
                f"{ENV_MASTER_KEY} is not the keystore's current master key (rotated?)",
                where=ENV_MASTER_KEY,
                hint="put the current key in the secret store, or unset it to use the "
                "keystore file",
            )
        return key
    if not path.exists():
        raise PrimexError(
            "no linkage master key in the BCSS keystore",
            where=str(path),
            hint=f"run `primex linkage keygen` on the BCSS side, or set {ENV_MASTER_KEY}",
        )
    check_permissions(path)
    document = _read_file(path)
    if passphrase is None:
        passphrase = os.environ.get(ENV_PASSPHRASE)
    if not passphrase:
        raise PrimexError(
            "the keystore passphrase is needed",
            where=str(path),
            hint=f"type it when asked, or set {ENV_PASSPHRASE} for automation",
        )
    return _decrypt(document, passphrase, path)


def project_key(home: Home, project_id: str, passphrase: str | None = None) -> bytes:
    """K_P of one project (request), derived from the master key; never stored."""
    return derive_project_key(load_master_key(home, passphrase), project_id)


def check_permissions(path: Path) -> None:
    """Refuse a key file the group or others may read or write."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionDenied(
            f"the key file is accessible to group or others (mode {mode:04o}); refusing to use it",
            where=str(path),
            hint=f"chmod 600 {path} (and consider the key exposed: rotate it if in doubt)",
        )


def _encrypt(master: bytes, passphrase: str) -> dict[str, object]:
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = Scrypt(salt=salt, length=32, **_SCRYPT).derive(passphrase.encode("utf-8"))
    ciphertext = AESGCM(kek).encrypt(nonce, master, FORMAT.encode())
    return {
        "format": FORMAT,
        "kdf": {"name": "scrypt", **_SCRYPT, "salt": base64.b64encode(salt).decode()},
        "cipher": "AES-256-GCM",
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "master_id": master_id(master),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _decrypt(document: dict[str, object], passphrase: str, path: Path) -> bytes:
    try:
        kdf = document["kdf"]
        assert isinstance(kdf, dict)
        salt = base64.b64decode(str(kdf["salt"]))
        kek = Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"]))
        key = kek.derive(passphrase.encode("utf-8"))
        nonce = base64.b64decode(str(document["nonce"]))
        ciphertext = base64.b64decode(str(document["ciphertext"]))
    except (KeyError, ValueError, AssertionError, TypeError, binascii.Error):
        raise PrimexError(
            "the keystore file is damaged", where=str(path), hint="restore it from the backup"
        ) from None
    try:
        master = AESGCM(key).decrypt(nonce, ciphertext, FORMAT.encode())
    except InvalidTag:
        raise PrimexError(
            "wrong keystore passphrase (or a damaged key file)",
            where=str(path),
            hint=f"check the passphrase or {ENV_PASSPHRASE}",
        ) from None
    if len(master) != KEY_BYTES or master_id(master) != document.get("master_id"):
        raise PrimexError("the keystore file is damaged", where=str(path))
    return master


def _read_file(path: Path) -> dict[str, object]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PrimexError(
            f"cannot read the keystore ({type(exc).__name__})", where=str(path)
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PrimexError(
            f"not a primex keystore file (expected format {FORMAT})", where=str(path)
        )
    return document


def _decode_env_key(value: str) -> bytes:
    text = value.strip()
    raw: bytes | None = None
    if len(text) == 2 * KEY_BYTES:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            raw = None
    if raw is None or len(raw) != KEY_BYTES:
        raise PrimexError(
            f"{ENV_MASTER_KEY} is not a {KEY_BYTES}-byte key in base64 or hex",
            where=ENV_MASTER_KEY,
            hint="export the key with the BCSS secret store tooling; never paste it in a log",
        )
    if degenerate_key(raw):
        raise PrimexError(
            "not a random key (too few distinct bytes, or only text characters)",
            where=ENV_MASTER_KEY,
            hint="use 32 random bytes from the BCSS secret store (e.g. `openssl rand -hex 32`)",
        )
    return raw


MIN_DISTINCT_BYTES = 12


def degenerate_key(raw: bytes) -> bool:
    """True for a key nobody drew at random: all zeros, one repeated byte, a short pattern
    repeated (fewer than 12 distinct values; 32 random bytes have about 30, and fewer than
    12 happens with probability below 1e-24), or printable ASCII only (a password, not a
    key: (95/256)^32 ≈ 2e-14 for random bytes)."""
    return len(set(raw)) < MIN_DISTINCT_BYTES or all(0x20 <= b < 0x7F for b in raw)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` with mode 0600 from the start (no window where it is readable), atomically."""
    atomic.write_bytes(path, data, mode=0o600)
