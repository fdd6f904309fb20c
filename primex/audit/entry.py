"""One log entry: its fields, its strict parse, and the bytes its actor signs.

Shared by the SPP's log writer, the committee's verifier and the researcher's package check;
no files, no state. The line format is specified in docs/audit.md and in
:mod:`primex.audit.log`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from primex.audit import merkle
from primex.audit.canonical import dumps, loads
from primex.audit.workflow import EVENT_TYPES
from primex.errors import IntegrityError

SIG_DOMAIN = b"primex-audit-entry/v1\n"
FIELDS = frozenset(
    {"v", "origin", "seq", "time", "type", "request", "prev", "body", "actor", "sig"}
)
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Entry:
    """One log entry. `leaf_hash` is its RFC 9162 leaf hash (bytes); `raw` its line."""

    seq: int
    time: str
    type: str
    request: str | None
    prev: str | None
    body: dict[str, Any]
    actor: str
    sig: str
    leaf_hash: bytes
    origin: str
    raw: bytes

    @property
    def leaf_hex(self) -> str:
        return self.leaf_hash.hex()

    def signed_bytes(self) -> bytes:
        return signed_message(self.raw)

    @property
    def signature(self) -> bytes:
        return base64.b64decode(self.sig)


def signed_bytes(obj: dict[str, Any]) -> bytes:
    """What the actor signs: the domain prefix and the canonical entry without `sig`."""
    return SIG_DOMAIN + dumps({k: v for k, v in obj.items() if k != "sig"})


def signed_message(raw: bytes) -> bytes:
    """The signed message, cut out of a canonical line without decoding it (`sig` sits
    between `seq` and `time` in sorted key order, and nothing after it can contain
    `,"sig":"`): the same bytes as :func:`signed_bytes` of the decoded line."""
    i = raw.rfind(b',"sig":"')
    j = raw.index(b'"', i + 8) + 1
    return SIG_DOMAIN + raw[:i] + raw[j:]


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_entry(raw: bytes, seq: int, origin: str | None) -> Entry:
    """Parse and structurally check line number `seq` (IntegrityError naming it)."""
    where = f"entry {seq}"
    obj = loads(raw, where=where)
    if not isinstance(obj, dict) or set(obj) != FIELDS:
        extra = sorted(set(obj) - FIELDS) if isinstance(obj, dict) else []
        missing = sorted(FIELDS - set(obj)) if isinstance(obj, dict) else sorted(FIELDS)
        raise IntegrityError(
            f"entry fields are wrong (missing {missing}, unexpected {extra})", where=where
        )
    if obj["v"] != 1:
        raise IntegrityError(f"unknown entry version {obj['v']!r}", where=where)
    if obj["seq"] != seq:
        raise IntegrityError(
            f"entry says seq {obj['seq']!r} but is line {seq} (deleted or reordered entries?)",
            where=where,
        )
    if origin is not None and obj["origin"] != origin:
        raise IntegrityError(
            f"entry belongs to another log (origin {obj['origin']!r})", where=where
        )
    if not isinstance(obj["origin"], str) or not obj["origin"]:
        raise IntegrityError("entry origin is missing", where=where)
    if not isinstance(obj["time"], str) or not TIME_RE.match(obj["time"]):
        raise IntegrityError(
            "entry time is not UTC ISO-8601 with microseconds and Z", where=where
        )
    if obj["type"] not in EVENT_TYPES:
        raise IntegrityError(f"unknown entry type {obj['type']!r}", where=where)
    req = obj["request"]
    if req is not None and (not isinstance(req, str) or not _ID.match(req)):
        raise IntegrityError("entry request id is malformed", where=where)
    prev = obj["prev"]
    if prev is not None and (not isinstance(prev, str) or not _HEX64.match(prev)):
        raise IntegrityError("entry prev is not a hex leaf hash", where=where)
    if not isinstance(obj["body"], dict) or not isinstance(obj["actor"], str):
        raise IntegrityError("entry body or actor is malformed", where=where)
    try:
        sig = base64.b64decode(obj["sig"], validate=True)
    except (binascii.Error, TypeError) as exc:
        raise IntegrityError("entry signature is not base64", where=where) from exc
    if len(sig) != 64:
        raise IntegrityError("entry signature is not 64 bytes", where=where)
    return Entry(
        seq=seq, time=obj["time"], type=obj["type"], request=req, prev=prev,
        body=obj["body"], actor=obj["actor"], sig=obj["sig"],
        leaf_hash=merkle.leaf_hash(raw), origin=obj["origin"], raw=raw,
    )
