"""Actors' identities: Ed25519 signing keys (and X25519 encryption keys for researchers).

Layout under ``home.keys/<name>/``:

* ``identity.json``: public part: name, role, person, Ed25519 public key, X25519 public key
  (researchers), the C2SP verifier key (``vkey``). Readable by anyone.
* ``signing.pem``: the Ed25519 private key, PKCS#8 encrypted with the passphrase, mode 0600.
* ``encryption.pem`` (researchers only): the X25519 private key, encrypted the same way.

Passphrases: an explicit argument, else ``PRIMEX_PASSPHRASE_<NAME>`` (name upper-cased,
every non-alphanumeric character turned into ``_``), else ``PRIMEX_PASSPHRASE``. The one
exception is the ``log`` service key, which signs checkpoints unattended: without a
passphrase in the environment it is stored unencrypted (mode 0600), like a host key.

Roles: people ``researcher``, ``privacy_officer``, ``president``, ``bcss_operator``,
``committee``; services ``spp_operator`` (extraction, disclosure results, releases) and
``log`` (checkpoints). Who holds which role is *not* decided here: the registry is the audit
log (``key_add`` / ``key_revoke`` entries, see :mod:`primex.audit.log`). ``person`` names
the human behind a key (default: the key name) so separation of duties can be enforced
even if one person holds two keys.

Public API::

    create_identity(home, role, name, passphrase, *, person=None) -> Identity
    load_identity(home, name) -> Identity
    list_identities(home) -> list[Identity]
    load_signer(home, name, passphrase=None) -> Signer
    load_encryption_private_key(home, name, passphrase=None) -> X25519PrivateKey
    verify_signature(public_key_bytes, signature, data) -> bool
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from primex.audit import files
from primex.errors import ConfigError, PermissionDenied, PrimexError, ValidationError
from primex.home import Home

PEOPLE_ROLES = ("researcher", "privacy_officer", "president", "bcss_operator", "committee")
SERVICE_ROLES = ("spp_operator", "log")
ROLES = PEOPLE_ROLES + SERVICE_ROLES

X25519_PREFIX = "primex-x25519:"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOG_KEY_NAME = "log"


def check_name(name: str, what: str = "key name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(
            f"invalid {what} {name!r}",
            where=what,
            hint="1-64 characters: letters, digits, '.', '_' or '-', starting with a letter/digit",
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(
            f"unknown role {role!r}", where="role", hint=f"one of: {', '.join(ROLES)}"
        )
    return role


def note_key_id(name: str, public_key: bytes, sig_type: int = 0x01) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || '\\n' || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def vkey(name: str, public_key: bytes) -> str:
    """C2SP verifier key text: <name>+<hex key id>+<base64(0x01 || public key)>."""
    material = base64.b64encode(bytes([0x01]) + public_key).decode()
    return f"{name}+{note_key_id(name, public_key).hex()}+{material}"


@dataclass(frozen=True)
class Identity:
    """The public half of an actor's keys."""

    name: str
    role: str
    person: str
    public_key_bytes: bytes
    encryption_public_key_bytes: bytes | None = None

    @property
    def vkey(self) -> str:
        return vkey(self.name, self.public_key_bytes)

    @property
    def encryption_public_key(self) -> str | None:
        """`primex-x25519:<base64>` for the request's requester.public_key, researchers only."""
        if self.encryption_public_key_bytes is None:
            return None
        return X25519_PREFIX + base64.b64encode(self.encryption_public_key_bytes).decode()

    def to_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "role": self.role,
            "person": self.person,
            "ed25519": base64.b64encode(self.public_key_bytes).decode(),
            "x25519": (
                base64.b64encode(self.encryption_public_key_bytes).decode()
                if self.encryption_public_key_bytes
                else None
            ),
            "vkey": self.vkey,
        }


@dataclass
class Signer:
    """A loaded private signing key. `.sign(data)` returns a 64-byte Ed25519 signature."""

    name: str
    role: str
    person: str
    public_key_bytes: bytes
    _key: Ed25519PrivateKey = field(repr=False)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def __repr__(self) -> str:  # never show key material
        return f"Signer(name={self.name!r}, role={self.role!r})"


def parse_x25519_public_key(text: str) -> bytes:
    """Decode `primex-x25519:<base64 of 32 bytes>`; ValidationError otherwise."""
    if not isinstance(text, str) or not text.startswith(X25519_PREFIX):
        raise ValidationError(
            "not a primex X25519 public key", where="public_key",
            hint=f"expected {X25519_PREFIX}<base64>, as printed by `primex keys init`",
        )
    try:
        raw = base64.b64decode(text[len(X25519_PREFIX):], validate=True)
    except ValueError as exc:
        raise ValidationError(
            "public key is not valid base64", where="public_key",
            hint="copy it again from `primex keys list`",
        ) from exc
    if len(raw) != 32:
        raise ValidationError(
            f"X25519 public key has {len(raw)} bytes, expected 32", where="public_key",
            hint="copy it again from `primex keys list`",
        )
    return raw


def verify_signature(public_key_bytes: bytes, signature: bytes, data: bytes) -> bool:
    """True if `signature` is a valid Ed25519 signature of `data` under the public key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key_bytes).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _key_dir(home: Home, name: str) -> Path:
    return home.keys / check_name(name)


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key file atomically, readable by its owner only."""
    files.atomic_write(path, data, mode=0o600)


def _write_public(path: Path, data: bytes) -> None:
    files.atomic_write(path, data)


def env_passphrase(name: str) -> str | None:
    specific = "PRIMEX_PASSPHRASE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    return os.environ.get(specific) or os.environ.get("PRIMEX_PASSPHRASE")


def _encryption(passphrase: str | None) -> serialization.KeySerializationEncryption:
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(passphrase.encode("utf-8"))


def create_identity(
    home: Home, role: str, name: str, passphrase: str | None, *, person: str | None = None
) -> Identity:
    """Create the key pair(s) of a new actor under home.keys/<name>/ and return its Identity.

    `passphrase` may be None only for the `log` service key (see the module docstring).
    Registering the identity in the audit log is a separate step (AuditLog.register_key).
    """
    check_role(role)
    folder = _key_dir(home, name)
    person = check_name(person or name, "person")
    if passphrase is None:
        passphrase = env_passphrase(name)
    if passphrase is None and role != "log":
        raise PermissionDenied(
            f"no passphrase for the new key {name!r}",
            where=f"keys/{name}",
            hint=f"give --passphrase or set PRIMEX_PASSPHRASE_{name.upper()} / PRIMEX_PASSPHRASE",
        )
    if passphrase is not None and len(passphrase) < 4:
        raise ValidationError(
            "passphrase is too short", where=f"keys/{name}", hint="use at least 4 characters"
        )
    if (folder / "identity.json").exists():
        raise ConfigError(
            f"a key named {name!r} already exists", where=str(folder),
            hint="pick another name; key names are never reused",
        )
    existed = folder.exists()
    try:
        return _create_files(folder, role, name, person, passphrase)
    except BaseException:  # a full disk half-way: no key folder without its identity
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _create_files(
    folder: Path, role: str, name: str, person: str, passphrase: str | None
) -> Identity:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    enc = _encryption(passphrase)
    signing = Ed25519PrivateKey.generate()
    _write_private(
        folder / "signing.pem",
        signing.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc),
    )
    pub = signing.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    x_pub: bytes | None = None
    if role == "researcher":
        x_priv = X25519PrivateKey.generate()
        _write_private(
            folder / "encryption.pem",
            x_priv.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
            ),
        )
        x_pub = x_priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    identity = Identity(name, role, person, pub, x_pub)
    _write_public(
        folder / "identity.json", (json.dumps(identity.to_json(), indent=2) + "\n").encode()
    )
    return identity


def load_identity(home: Home, name: str) -> Identity:
    path = _key_dir(home, name) / "identity.json"
    if not path.exists():
        raise ConfigError(
            f"no key named {name!r}", where=str(path.parent),
            hint="create it with `primex keys init --role ROLE --name NAME`; "
            "see `primex keys list`",
        )
    try:
        data = json.loads(path.read_text("utf-8"))
        return Identity(
            name=data["name"],
            role=data["role"],
            person=data.get("person") or data["name"],
            public_key_bytes=base64.b64decode(data["ed25519"]),
            encryption_public_key_bytes=(
                base64.b64decode(data["x25519"]) if data.get("x25519") else None
            ),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"identity file is damaged ({exc})", where=str(path),
            hint="restore it from a backup; the public key is also in the audit log",
        ) from exc


def list_identities(home: Home) -> list[Identity]:
    if not home.keys.is_dir():
        return []
    return [
        load_identity(home, p.name)
        for p in sorted(home.keys.iterdir())
        if (p / "identity.json").exists()
    ]


def _load_private(path: Path, name: str, passphrase: str | None) -> object:
    if not path.exists():
        raise ConfigError(
            f"no private key for {name!r}", where=str(path),
            hint="this key's private part lives on its holder's machine",
        )
    data = path.read_bytes()
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if passphrase is None:
        passphrase = env_passphrase(name)
    if encrypted and passphrase is None:
        raise PermissionDenied(
            f"the key {name!r} needs its passphrase",
            where=f"keys/{name}",
            hint="pass it interactively or set "
            f"PRIMEX_PASSPHRASE_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}",
        )
    try:
        return serialization.load_pem_private_key(
            data, password=passphrase.encode("utf-8") if encrypted and passphrase else None
        )
    except (ValueError, TypeError) as exc:
        raise PermissionDenied(
            f"cannot open the key {name!r}: wrong passphrase or damaged key file",
            where=f"keys/{name}",
            hint="check the passphrase (PRIMEX_PASSPHRASE_<NAME> or PRIMEX_PASSPHRASE)",
        ) from exc


def load_signer(home: Home, name: str, passphrase: str | None = None) -> Signer:
    """Open `name`'s signing key (passphrase from the argument or the environment)."""
    identity = load_identity(home, name)
    key = _load_private(_key_dir(home, name) / "signing.pem", name, passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise PrimexError(f"the key {name!r} is not an Ed25519 key", where=f"keys/{name}")
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if pub != identity.public_key_bytes:
        raise PermissionDenied(
            f"the private key of {name!r} does not match its identity file",
            where=f"keys/{name}", hint="restore both files from the same backup",
        )
    return Signer(identity.name, identity.role, identity.person, pub, key)


def load_encryption_private_key(
    home: Home, name: str, passphrase: str | None = None
) -> X25519PrivateKey:
    """Open a researcher's X25519 private key (to decrypt a release package)."""
    identity = load_identity(home, name)
    if identity.encryption_public_key_bytes is None:
        raise ConfigError(
            f"the key {name!r} has no encryption key (role {identity.role})",
            where=f"keys/{name}", hint="only researcher identities receive releases",
        )
    key = _load_private(_key_dir(home, name) / "encryption.pem", name, passphrase)
    if not isinstance(key, X25519PrivateKey):
        raise PrimexError(f"the key {name!r} is not an X25519 key", where=f"keys/{name}")
    return key
