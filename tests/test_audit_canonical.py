"""Canonical JSON: one meaning, one byte string; anything else refused on read (attack 20)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.audit.canonical import dumps, loads, sha256_hex
from primex.errors import IntegrityError, ValidationError


def test_sorted_compact_utf8() -> None:
    assert dumps({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    # RFC 8785-style: keys sorted by code point, ASCII punctuation unescaped
    assert dumps({"é": 1, "z": 2, "A": 3}) == '{"A":3,"z":2,"é":1}'.encode()


def test_manifest_hash_is_sha256_of_canonical_bytes() -> None:
    # `printf '{"files":[]}' | sha256sum`
    assert sha256_hex({"files": []}) == (
        "602e35a92eec4bc0a2ec6ae113f07bfc6933322fb69fe8dee416e5a67217e2a2"
    )


@pytest.mark.parametrize(
    "value",
    [1.5, {"x": 0.1}, [float("nan")], {"t": unicodedata.normalize("NFD", "é")}, 2**60,
     {1: "int key"}, b"bytes", {"s": {1, 2}}],
)
def test_dumps_refuses_what_has_no_canonical_form(value: object) -> None:
    with pytest.raises(ValidationError):
        dumps(value)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"a":1,"a":2}', "duplicate key"),
        (b'{"a": 1}', "bytes differ"),
        (b'{"b":1,"a":2}', "bytes differ"),
        (b'{"a":1.0}', "float"),
        (b'{"a":1e3}', "float"),
        (b'{"a":NaN}', "constant"),
        ('{"a":"e\u0301"}'.encode(), "NFC"),
        (b'{"a":"\\u00e9"}', "bytes differ"),
        (b'{"a":1}\n', "bytes differ"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"a":', "not canonical"),
        (b'{"a":9007199254740993}', "2\\*\\*53"),
    ],
)
def test_loads_refuses_non_canonical_bytes(raw: bytes, why: str) -> None:
    with pytest.raises(IntegrityError, match=why):
        loads(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text().map(lambda s: unicodedata.normalize("NFC", s)),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5).map(lambda s: unicodedata.normalize("NFC", s)),
                      inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_round_trip(value: object) -> None:
    raw = dumps(value)
    assert loads(raw) == value
    assert dumps(loads(raw)) == raw


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    try:
        value = loads(raw)
    except IntegrityError:
        return
    assert dumps(value) == raw
