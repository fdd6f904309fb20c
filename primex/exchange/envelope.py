"""Encryption of a release package for one research centre (format `primex-release/v1`).

Built only from `cryptography` primitives (X25519, HKDF-SHA256, AES-256-GCM); the framing is
ours because a package can be far larger than what one AES-GCM call should hold in memory,
so the payload is sealed in chunks (the STREAM construction, as in `age`).

Envelope, byte for byte:

    line 1   b"primex-release/v1\\n"
    line 2   header: canonical JSON (sorted keys, no spaces, UTF-8) + b"\\n"
             {"aead":"AES-256-GCM","chunk":1048576,"ephemeral":"<b64 32 B>",
              "kdf":"HKDF-SHA256","kem":"X25519","recipient":"primex-x25519:<b64 32 B>"}
    rest     the sealed chunks, back to back

    shared   = X25519(ephemeral private, recipient public)      (a fresh ephemeral per package)
    key      = HKDF-SHA256(ikm=shared, salt=ephemeral_pub ‖ recipient_pub,
                           info=b"primex-release/v1 payload key", length=32)
    chunk i  = AES-256-GCM(key).encrypt(nonce_i, plaintext_i, aad=line1 ‖ line2)
    nonce_i  = i as 11-byte big-endian ‖ (0x01 if i is the last chunk else 0x00)

Every plaintext chunk holds exactly `chunk` bytes except the last, which holds 1..`chunk`
bytes (0 only when the whole payload is empty), so every sealed chunk but the last is
`chunk` + 16 bytes. The last-chunk flag in the nonce makes truncation at a chunk boundary
fail to decrypt; the header as AAD makes any header change fail; data after the last chunk
is refused. `base64` is standard base64 with padding. The plaintext is a ZIP archive (see
primex.release.package).

A recipient key is shown and approved by its fingerprint: the SHA-256 of its 32 raw bytes,
64 lowercase hex digits in 16 groups of 4 joined by `:` (`fingerprint`), never a prefix
(short prefixes can be ground out). The groups keep digit runs short, so no fingerprint ever
looks like a national number to a redacting filter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from primex.errors import IntegrityError, PrimexError

MAGIC = b"primex-release/v1\n"
KEY_PREFIX = "primex-x25519:"
CHUNK = 1 << 20
TAG = 16
_INFO = b"primex-release/v1 payload key"
_MAX_HEADER = 4096


def parse_public_key(text: str, where: str = "requester.public_key") -> X25519PublicKey:
    """`primex-x25519:<base64 of 32 bytes>` → an X25519 public key."""
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise PrimexError(
            "not a primex encryption key",
            where=where,
            hint=f"expected '{KEY_PREFIX}<base64>' as printed by `primex keys init --role "
            "researcher`",
        )
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise PrimexError(
            "the encryption key is not 32 bytes of base64",
            where=where,
            hint="copy the whole key printed by `primex keys init --role researcher`",
        )
    return X25519PublicKey.from_public_bytes(raw)


def format_public_key(key: X25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def fingerprint(text: str, where: str = "requester.public_key") -> str:
    """SHA-256 of the raw 32 bytes of a `primex-x25519:` key, as `abcd:ef01:…` (16 groups)."""
    return _grouped(hashlib.sha256(_raw(parse_public_key(text, where))).hexdigest())


def normalise_fingerprint(text: str) -> str | None:
    """A fingerprint as typed (groups or not, any case) in the form `fingerprint` gives, or
    None when it is not 64 hex digits."""
    plain = text.replace(":", "").replace(" ", "").lower()
    if len(plain) != 64 or any(c not in "0123456789abcdef" for c in plain):
        return None
    return _grouped(plain)


def _grouped(hex64: str) -> str:
    return ":".join(hex64[i : i + 4] for i in range(0, 64, 4))


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO
    ).derive(shared)
    return AESGCM(key)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _header(ephemeral: bytes, recipient: str, chunk: int) -> bytes:
    fields = {
        "aead": "AES-256-GCM",
        "chunk": chunk,
        "ephemeral": base64.b64encode(ephemeral).decode("ascii"),
        "kdf": "HKDF-SHA256",
        "kem": "X25519",
        "recipient": recipient,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def seal(source: BinaryIO, out: BinaryIO, recipient: str, chunk: int = CHUNK) -> None:
    """Encrypt the stream `source` into `out` for the `primex-x25519:` key `recipient`."""
    public = parse_public_key(recipient)
    ephemeral = X25519PrivateKey.generate()
    eph_raw = _raw(ephemeral.public_key())
    aead = _derive(ephemeral.exchange(public), eph_raw, _raw(public))
    aad = MAGIC + _header(eph_raw, format_public_key(public), chunk)
    out.write(aad)
    index = 0
    current = source.read(chunk)
    while True:
        following = source.read(chunk) if len(current) == chunk else b""
        last = not following
        out.write(aead.encrypt(_nonce(index, last), current, aad))
        if last:
            return
        current = following
        index += 1


def read_header(fh: BinaryIO, where: str) -> tuple[bytes, dict[str, object]]:
    magic = fh.read(len(MAGIC))
    if magic != MAGIC:
        raise PrimexError(
            "not a primex release package",
            where=where,
            hint="open the .primex file the service sent you",
        )
    line = fh.readline(_MAX_HEADER)
    try:
        header = json.loads(line)
        ok = (
            line.endswith(b"\n")
            and isinstance(header, dict)
            and header.get("aead") == "AES-256-GCM"
            and header.get("kdf") == "HKDF-SHA256"
            and header.get("kem") == "X25519"
            and type(header.get("chunk")) is int
            and 0 < header["chunk"] <= 1 << 26
            and isinstance(header.get("ephemeral"), str)
            and isinstance(header.get("recipient"), str)
        )
    except ValueError:
        ok = False
    if not ok:
        raise IntegrityError("the package header is damaged or of an unknown version", where=where)
    return MAGIC + line, header


def open_sealed(
    fh: BinaryIO, out: BinaryIO, private: X25519PrivateKey, where: str = "package"
) -> None:
    """Decrypt a sealed stream into `out`; IntegrityError on any change, truncation or tail."""
    aad, header = read_header(fh, where)
    recipient = parse_public_key(str(header["recipient"]), where=f"{where}: header.recipient")
    mine = _raw(private.public_key())
    if _raw(recipient) != mine:
        raise PrimexError(
            "this package is encrypted for another key",
            where=where,
            hint=f"it is for {header['recipient']}; yours is "
            f"{format_public_key(private.public_key())}",
        )
    try:
        eph_raw = base64.b64decode(str(header["ephemeral"]), validate=True)
        eph = X25519PublicKey.from_public_bytes(eph_raw)
        aead = _derive(private.exchange(eph), eph_raw, mine)
    except (binascii.Error, ValueError) as exc:
        raise IntegrityError("the package's ephemeral key is invalid", where=where) from exc
    size = int(header["chunk"]) + TAG  # type: ignore[call-overload]
    index = 0
    current = fh.read(size)
    while True:
        following = fh.read(size) if len(current) == size else b""
        last = not following
        try:
            out.write(aead.decrypt(_nonce(index, last), current, aad))
        except InvalidTag as exc:
            raise IntegrityError(
                f"the package does not decrypt (chunk {index} altered, truncated or extended)",
                where=where,
                hint="ask the service to send the package again",
            ) from exc
        if last:
            return
        current = following
        index += 1


def seal_file(source: Path, target: Path, recipient: str) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        seal(src, dst, recipient)


def recipient_of(path: Path) -> str:
    with path.open("rb") as fh:
        return str(read_header(fh, str(path))[1]["recipient"])
