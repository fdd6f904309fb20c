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


def _check(value: Any, path: str) -> None:
    """Walk `value` and refuse what canonical JSON cannot carry."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise ValidationError(
                f"integer {value} is outside ±(2**53-1)", where=path or "$",
                hint="store large numbers as decimal strings",
            )
        return
    if isinstance(value, float):
        raise ValidationError(
            "floats are not allowed in canonical JSON", where=path or "$",
            hint="use an integer (e.g. per-mille) or a decimal string",
        )
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            raise ValidationError(
                "text is not in Unicode NFC form", where=path or "$",
                hint="normalise with unicodedata.normalize('NFC', s)",
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    f"object key {key!r} is not a string", where=path or "$",
                    hint="use string keys",
                )
            _check(key, f"{path}.{key}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    raise ValidationError(
        f"{type(value).__name__} values cannot be stored in canonical JSON",
        where=path or "$", hint="convert to str, int, bool, None, list or dict",
    )


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of `value` (raises ValidationError if it has no canonical form)."""
    _check(value, "")
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


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=_no_float, parse_constant=_no_constant
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
    try:
        again = dumps(value)
    except ValidationError as exc:
        raise IntegrityError(f"not canonical JSON: {exc.what}", where=where) from exc
    if again != data:
        raise IntegrityError(
            "not canonical JSON: bytes differ from the canonical form "
            "(key order, whitespace or escapes)",
            where=where,
        )
    return value
