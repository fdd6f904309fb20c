"""Canonical JSON: the one byte form of every log entry, checkpoint body field and manifest.

The rules (a strict subset of RFC 8785 JCS, so that one meaning has exactly one byte string):

* objects with keys sorted by code point, no insignificant whitespace (`,` and `:` only);
* UTF-8, strings in Unicode NFC, no escapes other than the ones JSON requires
  (`\\"`, `\\\\` and control characters);
* integers only (no floats, no NaN/Infinity), within ±(2**53 - 1) so every JSON reader
  agrees on the value; booleans and null;
* no duplicate keys.

`dumps` refuses anything else; `loads` refuses any byte string that is not exactly the
canonical form of what it decodes to (that is how duplicate keys, whitespace, floats,
non-NFC text and re-ordered keys are caught on read: attack case 20).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import Any

from primex.errors import IntegrityError, ValidationError

MAX_SAFE_INT = 2**53 - 1

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class _Bad(Exception):
    """Internal: what is wrong and where (the path is built while unwinding)."""

    def __init__(self, what: str, hint: str) -> None:
        self.what, self.hint, self.path = what, hint, ""


_is_nfc = unicodedata.is_normalized


def _walk(value: Any) -> None:
    # dispatch on the exact type: this runs for every appended entry, so it is kept lean
    t = type(value)
    if t is str:
        if not _is_nfc("NFC", value):
            raise _Bad("text is not in Unicode NFC form",
                       "normalise with unicodedata.normalize('NFC', s)")
    elif t is int:
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise _Bad(f"integer {value} is outside ±(2**53-1)",
                       "store large numbers as decimal strings")
    elif t is dict:
        for key, item in value.items():
            try:
                if type(key) is not str:
                    raise _Bad(f"object key {key!r} is not a string", "use string keys")
                if not _is_nfc("NFC", key):
                    raise _Bad("key is not in Unicode NFC form", "normalise the key")
                _walk(item)
            except _Bad as bad:
                bad.path = f".{key}{bad.path}"
                raise
    elif t is list or t is tuple:
        for i, item in enumerate(value):
            try:
                _walk(item)
            except _Bad as bad:
                bad.path = f"[{i}]{bad.path}"
                raise
    elif value is None or t is bool:
        return
    elif t is float or isinstance(value, float):
        raise _Bad("floats are not allowed in canonical JSON",
                   "use an integer (e.g. per-mille) or a decimal string")
    else:
        raise _Bad(f"{t.__name__} values cannot be stored in canonical JSON",
                   "convert to str, int, bool, None, list or dict")


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of `value` (raises ValidationError if it has no canonical form)."""
    try:
        _walk(value)
    except _Bad as bad:
        raise ValidationError(bad.what, where="$" + bad.path, hint=bad.hint) from None
    return _ENCODER.encode(value).encode("utf-8")


def encode_trusted(value: Any) -> bytes:
    """Canonical bytes of a value whose parts were already checked (no walk: faster)."""
    return _ENCODER.encode(value).encode("utf-8")


def sha256_hex(value: Any) -> str:
    """SHA-256 (lowercase hex) of the canonical bytes of `value`: how manifests are hashed."""
    return hashlib.sha256(dumps(value)).hexdigest()


def _no_float(text: str) -> Any:
    raise ValueError(f"float {text}")


def _no_constant(text: str) -> Any:
    raise ValueError(f"constant {text}")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _int(text: str) -> int:
    value = int(text)
    if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        raise ValueError(f"integer {text} is outside ±(2**53-1)")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=_no_float, parse_constant=_no_constant,
    parse_int=_int,
)


def loads(data: bytes, *, where: str = "$") -> Any:
    """Decode canonical JSON bytes; IntegrityError unless `data` is exactly canonical."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntegrityError(f"not UTF-8 ({exc.reason} at byte {exc.start})", where=where) from exc
    try:
        value = _DECODER.decode(text)
    except ValueError as exc:  # JSONDecodeError is a ValueError, so are our hooks' refusals
        raise IntegrityError(f"not canonical JSON: {exc}", where=where) from exc
    # Equal to the encoder's output means: sorted keys, no whitespace, no optional escapes;
    # then one NFC check of the whole text covers every key and string in it.
    if _ENCODER.encode(value) != text:
        raise IntegrityError(
            "not canonical JSON: bytes differ from the canonical form "
            "(key order, whitespace or escapes)",
            where=where,
        )
    if not _is_nfc("NFC", text):
        raise IntegrityError("not canonical JSON: text is not in Unicode NFC form", where=where)
    return value
