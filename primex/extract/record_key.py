"""The SPP record key (contract C2): one stable, secret-keyed value per PRIMA person.

    record key       = 32 random bytes in <home>/spp/record.key (mode 0600), made on first use
    spp_record_key   = HMAC-SHA-256(record key, b"primex-record-v1\\0" + person id)[:16]
    record_key_id    = "r1:" + hex(SHA-256(b"primex-record-key-id" + record key)[:8])

The person id is PRIMA's key of the person, its national number as stored (`person.niss`).
Unlike the BCSS pseudonyms, which differ per project, `spp_record_key` is the same for a
person in every request, so the protection step can recognise nested populations across
requests (differencing ledger) and give a cell the same noise in every request (cell key).
It travels through the BCSS coding as an opaque 16-byte binary column (binary, so that NISS
scans of text never mistake it for a number) and is dropped by the protection step: it
never leaves the SPP in a release.

The key itself is never logged, printed, released or sent to the BCSS; only its
fingerprint (`record_key_id`) appears in manifests, to show that two extracts used the same
key. Nothing outside the SPP can recompute a record key from a national number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from primex import atomic
from primex.errors import IntegrityError, PermissionDenied
from primex.home import Home

KEY_FILE = "record.key"
KEY_BYTES = 32
COLUMN = "spp_record_key"
RECORD_BYTES = 16
ARROW_TYPE = pa.binary(RECORD_BYTES)
DOMAIN = b"primex-record-v1\0"
DESCRIPTION = (
    "SPP record key: HMAC-SHA-256 of the PRIMA person id under the SPP's secret record key, "
    "first 16 bytes. The same for a person in every request; not a NISS and not computable "
    "without the SPP's key; used by the protection step only and never released."
)


def key_path(home: Home) -> Path:
    return home.spp / KEY_FILE


def load_or_create(home: Home) -> bytes:
    """The record key; created (32 random bytes, mode 0600, atomically) on first use."""
    path = key_path(home)
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionDenied(
            f"the SPP record key is accessible to group or others (mode {mode:04o})",
            where=str(path), hint=f"chmod 600 {path}",
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES or len(set(key)) < 12:
        raise IntegrityError(
            f"the SPP record key is not {KEY_BYTES} random bytes", where=str(path),
            hint="restore it from the SPP backup; a new key breaks the ledger's memory",
        )
    return key


def _create(path: Path) -> None:
    """Write a new key under a temporary name with mode 0600 and link it into place: the
    link fails if another process made the key meanwhile, and then theirs is used."""
    atomic.create_once(path, secrets.token_bytes(KEY_BYTES), mode=0o600)


def key_id(key: bytes) -> str:
    """The public fingerprint of the record key (reveals nothing of it)."""
    return "r1:" + hashlib.sha256(b"primex-record-key-id" + key).digest()[:8].hex()


def record_keys(person_ids: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """`spp_record_key` per row (fixed_size_binary(16); null where the id is null).

    Each distinct person is hashed once (people recur across spells) with a pre-keyed HMAC
    copied per value: the standard library, because the extract side may not import the
    BCSS's compiled kernel (one-way imports) and ~1 M persons/s is fast enough here."""
    if isinstance(person_ids, pa.ChunkedArray):
        person_ids = person_ids.combine_chunks()
    encoded = pc.dictionary_encode(person_ids.cast(pa.string()))
    base = hmac.new(key, DOMAIN, "sha256")
    digests = bytearray()
    for value in encoded.dictionary.to_pylist():
        h = base.copy()
        h.update(value.encode("utf-8"))
        digests += h.digest()[:RECORD_BYTES]
    unique = pa.FixedSizeBinaryArray.from_buffers(
        ARROW_TYPE, len(encoded.dictionary), [None, pa.py_buffer(bytes(digests))]
    )
    if len(unique) == 0:
        return pa.nulls(len(encoded), ARROW_TYPE)
    return unique.take(encoded.indices)  # a null id has a null index: a null key
