"""The pinned pseudonym scheme: known answers from the definition, kernel equality, linkability."""

from __future__ import annotations

import hashlib
import hmac
import os

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from linkage_helpers import (
    ref_hkdf_sha256,
    ref_key_id,
    ref_project_key,
    ref_pseudonym,
)

from primex.errors import PrimexError
from primex.linkage import derive_project_key, key_id, pseudonymise, pseudonymise_column
from primex.linkage.hmac_kernel import HAVE_NUMBA, HAVE_SHA_NI, hmac_sha256_rows

MASTER = bytes(range(32))
NN11 = ["93051822361", "85073003229", "05031401709", "90421208491", "00000000097"]


def test_reference_hkdf_matches_rfc5869_case3() -> None:
    # RFC 5869 A.3: SHA-256, empty salt and info (the salt our scheme uses).
    okm = ref_hkdf_sha256(b"\x0b" * 22, b"", b"", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8"
    )


def test_project_key_known_answer() -> None:
    for project in ("REQ-2026-0001", "REQ-2026-0002", "projet-été"):
        assert derive_project_key(MASTER, project) == ref_project_key(MASTER, project)


def test_pseudonym_and_key_id_known_answers() -> None:
    kp = ref_project_key(MASTER, "REQ-2026-0001")
    want = [ref_pseudonym(kp, n) for n in NN11]
    got = pseudonymise(NN11, derive_project_key(MASTER, "REQ-2026-0001"))
    assert got == want
    assert all(len(p) == 32 and p == p.lower() for p in got)
    assert key_id(kp) == ref_key_id(kp)
    assert key_id(kp).startswith("v1:") and len(key_id(kp)) == 3 + 16


KERNELS = [
    pytest.param({"use_numba": False}, id="stdlib"),
    pytest.param({"use_numba": True, "sha_ni": False}, id="scalar",
                 marks=pytest.mark.skipif(not HAVE_NUMBA, reason="numba missing")),
    pytest.param({"use_numba": True, "sha_ni": True}, id="sha-ni",
                 marks=pytest.mark.skipif(not HAVE_SHA_NI, reason="no SHA extensions")),
]


@pytest.mark.parametrize(
    ("key", "data", "digest"),
    [  # RFC 4231 test cases 1 and 2 (HMAC-SHA-256)
        (b"\x0b" * 20, b"Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ],
)
@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_rfc4231_vectors(key: bytes, data: bytes, digest: str, kernel: dict) -> None:
    rows = np.frombuffer(data * 3, np.uint8).reshape(3, len(data))
    out = hmac_sha256_rows(rows, key, **kernel)
    assert [r.tobytes().hex() for r in out] == [digest] * 3
    hexed = hmac_sha256_rows(rows, key, out_len=16, as_hex=True, **kernel)
    assert [r.tobytes().decode() for r in hexed] == [digest[:32]] * 3


@pytest.mark.parametrize("kernel", KERNELS[1:])
def test_kernels_equal_the_reference_on_every_row(kernel: dict) -> None:
    rng = np.random.default_rng(20261124)
    values = [f"{v:011d}" for v in rng.integers(0, 10**11, 120_000)]  # several threads
    kp = os.urandom(32)
    digits = np.frombuffer("".join(values).encode(), np.uint8).reshape(-1, 11)
    out = hmac_sha256_rows(digits, kp, prefix=b"BE-NN/v1:", out_len=16, as_hex=True, **kernel)
    assert [r.tobytes().decode() for r in out] == [ref_pseudonym(kp, v) for v in values]


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba missing")
def test_fast_column_equals_reference_on_every_row() -> None:
    rng = np.random.default_rng(20261125)
    values = [f"{v:011d}" for v in rng.integers(0, 10**11, 30_000)]
    kp = os.urandom(32)
    fast = pseudonymise_column(pa.array(values), kp, fast=True).to_pylist()
    assert fast == [ref_pseudonym(kp, v) for v in values]


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba missing")
@settings(max_examples=40, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    rows=st.lists(st.binary(min_size=0, max_size=55), min_size=1, max_size=8),
)
def test_kernel_equals_hmac_for_any_key_and_length(key: bytes, rows: list[bytes]) -> None:
    length = len(rows[0])
    same = [r[:length].ljust(length, b"x") for r in rows]
    matrix = np.frombuffer(b"".join(same), np.uint8).reshape(len(same), length) if length else \
        np.zeros((len(same), 0), np.uint8)
    want = [hmac.new(key, r, hashlib.sha256).digest() for r in same]
    assert [o.tobytes() for o in hmac_sha256_rows(matrix, key, sha_ni=False)] == want
    if HAVE_SHA_NI:
        assert [o.tobytes() for o in hmac_sha256_rows(matrix, key, sha_ni=True)] == want


def test_column_accepts_arrow_polars_pandas_numpy_and_lists() -> None:
    kp = derive_project_key(MASTER, "P")
    want = [ref_pseudonym(kp, n) for n in NN11]
    inputs = [
        pa.array(NN11), pa.chunked_array([NN11[:2], NN11[2:]]), pa.array(NN11, pa.large_string()),
        pl.Series(NN11), pd.Series(NN11), np.array(NN11, dtype="S11"), NN11,
        pa.array(["12345678901", *NN11, "10987654321"]).slice(1, len(NN11)),  # offset view
    ]
    for values in inputs:
        assert pseudonymise_column(values, kp).to_pylist() == want, type(values)
        assert pseudonymise_column(values, kp, fast=HAVE_NUMBA).to_pylist() == want


def test_unlinkable_across_projects_stable_within() -> None:
    values = [f"{i:011d}" for i in range(1000)]
    a1 = pseudonymise(values, derive_project_key(MASTER, "REQ-A"))
    a2 = pseudonymise(values, derive_project_key(MASTER, "REQ-A"))
    b = pseudonymise(values, derive_project_key(MASTER, "REQ-B"))
    assert a1 == a2
    assert not set(a1) & set(b)
    assert len(set(a1)) == len(values)
    other_master = pseudonymise(values, derive_project_key(bytes(32), "REQ-A"))
    assert not set(a1) & set(other_master)
    kid_a, kid_b = (key_id(derive_project_key(MASTER, p)) for p in ("REQ-A", "REQ-B"))
    assert kid_a != kid_b


@pytest.mark.parametrize(
    "bad", ["9305182236", "930518223611", "93.05.18-223.61", "9305182236a", ""]
)
def test_refuses_unnormalised_values_without_echoing_them(bad: str) -> None:
    kp = derive_project_key(MASTER, "P")
    for call in (lambda: pseudonymise(["93051822361", bad], kp),
                 lambda: pseudonymise_column(["93051822361", bad], kp)):
        with pytest.raises(PrimexError) as info:
            call()
        assert "row 1" in str(info.value)
        assert bad == "" or bad not in str(info.value)


def test_refuses_wrong_key_sizes() -> None:
    with pytest.raises(PrimexError):
        derive_project_key(b"short", "P")
    with pytest.raises(PrimexError):
        pseudonymise(NN11, b"x" * 16)
    with pytest.raises(PrimexError):
        derive_project_key(MASTER, "  ")


@pytest.mark.parametrize("rows", [7, 25_000], ids=["small", "kernel"])
def test_every_input_kind_gives_the_reference_pseudonyms(rows: int) -> None:
    """Arrow in → Arrow out, NumPy in → NumPy out (bytes stay bytes), list in → list out;
    the values are the reference definition's on every path (small lists take the per-row
    path, large inputs the compiled kernel)."""
    kp = derive_project_key(MASTER, "REQ-KINDS")
    rng = np.random.default_rng(11)
    values = [f"{v:011d}" for v in rng.integers(0, 10**11, rows)]
    want = [ref_pseudonym(ref_project_key(MASTER, "REQ-KINDS"), v) for v in values]
    got_arrow = pseudonymise(pa.array(values), kp)
    assert isinstance(got_arrow, pa.Array) and got_arrow.to_pylist() == want
    chunked = pa.chunked_array([values[: rows // 2], values[rows // 2:]])
    assert pseudonymise(chunked, kp).to_pylist() == want
    got_u = pseudonymise(np.array(values), kp)
    assert got_u.dtype == np.dtype("U32") and got_u.tolist() == want
    got_s = pseudonymise(np.array(values, dtype="S11"), kp)
    assert got_s.dtype == np.dtype("S32") and [b.decode() for b in got_s.tolist()] == want
    assert pseudonymise(values, kp) == want
    assert pseudonymise(tuple(values), kp) == want


@pytest.mark.parametrize("make", [
    lambda v: np.array(v), lambda v: np.array(v, dtype="S11"), lambda v: pa.array(v), list,
], ids=["numpy-U", "numpy-S", "arrow", "list"])
def test_every_input_kind_refuses_a_bad_value_by_position(make) -> None:  # type: ignore[no-untyped-def]
    kp = derive_project_key(MASTER, "REQ-KINDS")
    values = ["93051822361"] * 30_000
    values[20_001] = "9305182236x"
    with pytest.raises(PrimexError, match="row 20001") as caught:
        pseudonymise(make(values), kp)
    assert "9305182236" not in str(caught.value)


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_checks_digits_as_it_reads_and_names_the_first_bad_row(kernel: dict) -> None:
    """The digit check moved into the kernel's pass: every kernel refuses the FIRST bad row
    (also when the rows are split over threads and a later split finds one first), reads
    NumPy `U` code points in place, and writes code points identical to its ASCII output."""
    from primex.linkage.hmac_kernel import NotDigitsError

    rng = np.random.default_rng(3)
    digits = rng.integers(ord("0"), ord("9") + 1, (120_000, 11), dtype=np.uint8)
    ascii_out = hmac_sha256_rows(digits, MASTER, out_len=16, as_hex=True, digits_only=True,
                                 **kernel)
    points = digits.astype(np.uint32)
    wide = hmac_sha256_rows(points, MASTER, out_len=16, as_hex=True, digits_only=True,
                            out_dtype=np.uint32, **kernel)
    assert wide.dtype == np.uint32 and np.array_equal(wide, ascii_out.astype(np.uint32))
    for bad_rows, want in (([90_000, 70_001], 70_001), ([5, 110_000], 5)):
        spoiled = points.copy()
        for row in bad_rows:
            spoiled[row, 4] = 0x0663  # ARABIC-INDIC DIGIT THREE: str.isdigit() says yes
        with pytest.raises(NotDigitsError) as caught:
            hmac_sha256_rows(spoiled, MASTER, out_len=16, as_hex=True, digits_only=True,
                             **kernel)
        assert caught.value.row == want
    with pytest.raises(ValueError, match="digits_only"):
        hmac_sha256_rows(points, MASTER, **kernel)


def test_numpy_text_with_a_short_or_non_latin_value_is_refused_at_its_row() -> None:
    kp = derive_project_key(MASTER, "REQ-KINDS")
    for bad in ("9305182236", "930518223٦1"):  # NUL-padded in U11; a digit isdigit() accepts
        values = np.array(["93051822361"] * 30_000)
        values[29_999] = bad
        with pytest.raises(PrimexError, match="row 29999"):
            pseudonymise(values, kp)
