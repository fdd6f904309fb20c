"""The package envelope: round trip, the documented format, and every kind of tampering."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import IntegrityError, PrimexError
from primex.exchange import envelope


def _key() -> tuple[X25519PrivateKey, str]:
    private = X25519PrivateKey.generate()
    return private, envelope.format_public_key(private.public_key())


def _seal(data: bytes, recipient: str, chunk: int = 64) -> bytes:
    out = io.BytesIO()
    envelope.seal(io.BytesIO(data), out, recipient, chunk=chunk)
    return out.getvalue()


def _open(blob: bytes, private: X25519PrivateKey) -> bytes:
    out = io.BytesIO()
    envelope.open_sealed(io.BytesIO(blob), out, private)
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([1, 16, 64, 100]))
def test_round_trip_any_size_and_chunking(data: bytes, chunk: int) -> None:
    private, public = _key()
    blob = _seal(data, public, chunk)
    assert _open(blob, private) == data
    # exact framing: full chunks of chunk+16, last one 1..chunk (+16), one empty chunk if empty
    body = len(blob) - len(envelope.MAGIC) - len(blob.split(b"\n")[1]) - 1
    chunks = max(1, -(-len(data) // chunk))
    assert body == len(data) + 16 * chunks


def test_documented_format_decrypts_by_hand() -> None:
    """Decrypt following only the module docstring, so the documentation stays true."""
    private, public = _key()
    data = bytes(range(256)) * 3  # 768 bytes = 3 chunks of 256
    blob = _seal(data, public, chunk=256)
    magic, header_line, rest = blob.split(b"\n", 2)
    assert magic + b"\n" == b"primex-release/v1\n"
    header = json.loads(header_line)
    assert header_line == json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert header["recipient"] == public and header["chunk"] == 256
    eph = base64.b64decode(header["ephemeral"])
    mine = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph))
    key = HKDF(hashes.SHA256(), 32, eph + mine, b"primex-release/v1 payload key").derive(shared)
    aad = magic + b"\n" + header_line + b"\n"
    out = b""
    for i in range(3):
        nonce = i.to_bytes(11, "big") + (b"\x01" if i == 2 else b"\x00")
        out += AESGCM(key).decrypt(nonce, rest[i * 272 : (i + 1) * 272], aad)
    assert out == data


def test_every_byte_flip_is_detected() -> None:
    private, public = _key()
    blob = _seal(b"secret table " * 20, public, chunk=64)
    start = len(envelope.MAGIC)
    for pos in range(start, len(blob), 7):
        bad = bytearray(blob)
        bad[pos] ^= 0x01
        with pytest.raises(PrimexError):
            _open(bytes(bad), private)


@pytest.mark.parametrize("cut", ["chunk_boundary", "mid_chunk", "all_chunks"])
def test_truncation_is_detected(cut: str) -> None:
    private, public = _key()
    data = b"x" * 200  # 64+64+64+8
    blob = _seal(data, public, chunk=64)
    head = len(blob) - (len(data) + 4 * 16)
    cut_at = {"chunk_boundary": head + 2 * 80, "mid_chunk": len(blob) - 3, "all_chunks": head}
    with pytest.raises(IntegrityError, match="does not decrypt"):
        _open(blob[: cut_at[cut]], private)


def test_appended_or_dropped_tail_is_detected() -> None:
    private, public = _key()
    blob = _seal(b"y" * 128, public, chunk=64)  # exactly 2 full chunks, the last flagged
    with pytest.raises(IntegrityError):
        _open(blob + b"\x00" * 80, private)
    with pytest.raises(IntegrityError):
        _open(blob + b"z", private)


def test_wrong_key_is_a_clear_error() -> None:
    _, public = _key()
    other, _ = _key()
    with pytest.raises(PrimexError, match="encrypted for another key"):
        _open(_seal(b"data", public), other)


def test_recipient_swapped_in_header_is_refused() -> None:
    _private, public = _key()
    blob = _seal(b"data", public)
    # an attacker rewrites the header to claim it's for the victim's key: AAD check fails
    victim, victim_pub = _key()
    forged = blob.replace(public.encode(), victim_pub.encode())
    with pytest.raises(IntegrityError):
        _open(forged, victim)


@pytest.mark.parametrize(
    "text",
    ["", "primex-x25519:", "primex-x25519:AAAA", "x25519:" + "A" * 44, "primex-x25519:!!notb64"],
)
def test_bad_public_keys(text: str) -> None:
    with pytest.raises(PrimexError, match=r"requester\.public_key"):
        envelope.parse_public_key(text)


def test_not_a_package() -> None:
    private, _ = _key()
    with pytest.raises(PrimexError, match="not a primex release package"):
        _open(b"PK\x03\x04 a zip file", private)
