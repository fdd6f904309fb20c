"""Every HMAC-SHA256 kernel (16-lane AVX-512, SHA-NI, portable, per-row `hmac`) against the
standard library and RFC 4231, row for row, at every batch boundary; the first bad row."""

from __future__ import annotations

import hmac

import numpy as np
import pytest

from primex.linkage import hmac_avx512, hmac_kernel
from primex.linkage.hmac_kernel import (
    VARIANTS,
    NotDigitsError,
    available_variants,
    default_variant,
    hmac_sha256_rows,
)

PREFIX = b"BE-NN/v1:"
KEY = bytes(range(7, 39))

EVERY = [
    pytest.param(v, id=v, marks=pytest.mark.skipif(
        v not in available_variants(),
        reason={"avx512": "the CPU lacks AVX-512F", "sha-ni": "the CPU lacks SHA-NI"}.get(
            v, "numba missing")))
    for v in VARIANTS
]


def _digits(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(ord("0"), ord("9") + 1, (n, 11), dtype=np.uint8)


def _want_hex(rows: np.ndarray, key: bytes = KEY) -> list[str]:
    return [hmac.digest(key, PREFIX + r.tobytes(), "sha256")[:16].hex() for r in rows]


@pytest.mark.parametrize("variant", EVERY)
@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 33, 1007, 50_000])
def test_every_variant_equals_hmac_on_every_row(variant: str, n: int) -> None:
    rows = _digits(np.random.default_rng(n), n)
    want = _want_hex(rows)
    out = hmac_sha256_rows(rows, KEY, prefix=PREFIX, out_len=16, as_hex=True,
                           digits_only=True, variant=variant)
    assert out.shape == (n, 32) and [r.tobytes().decode() for r in out] == want
    # NumPy `U` code points in and out (the `pseudonymise(np.array(list))` path)
    wide = hmac_sha256_rows(rows.astype(np.uint32), KEY, prefix=PREFIX, out_len=16,
                            as_hex=True, digits_only=True, out_dtype=np.uint32,
                            variant=variant)
    assert ["".join(map(chr, r)) for r in wide] == want
    raw = hmac_sha256_rows(rows, KEY, prefix=PREFIX, variant=variant)
    assert [r.tobytes() for r in raw] == [hmac.digest(KEY, PREFIX + r.tobytes(), "sha256")
                                          for r in rows]


@pytest.mark.parametrize("variant", EVERY)
def test_every_variant_takes_any_bytes_prefix_and_length(variant: str) -> None:
    """Message lengths 0..55 (all of one block), any byte value, keys short and long."""
    rng = np.random.default_rng(55)
    for length, prefix, key in [(0, b"", b"k"), (1, b"p", KEY), (4, b"", KEY * 3),
                                (11, b"BE-NN/v1:", KEY), (23, b"abcdefg", b"\xff" * 70),
                                (52, b"xyz", KEY), (55, b"", KEY)]:
        rows = rng.integers(0, 256, (37, length), dtype=np.uint8)
        want = [hmac.digest(key, prefix + r.tobytes(), "sha256") for r in rows]
        out = hmac_sha256_rows(rows, key, prefix=prefix, variant=variant)
        assert [r.tobytes() for r in out] == want, (length, prefix)
        hexed = hmac_sha256_rows(rows, key, prefix=prefix, out_len=8, as_hex=True,
                                 variant=variant)
        assert [r.tobytes().decode() for r in hexed] == [w[:8].hex() for w in want]


@pytest.mark.parametrize("variant", EVERY)
def test_every_variant_gives_every_output_length(variant: str) -> None:
    """out_len 4..32 as bytes and as hex, over full 16-row batches and a partial one."""
    rows = _digits(np.random.default_rng(4), 16 * 3 + 5)
    want = [hmac.digest(KEY, PREFIX + r.tobytes(), "sha256") for r in rows]
    for out_len in range(4, 33, 4):
        raw = hmac_sha256_rows(rows, KEY, prefix=PREFIX, out_len=out_len, variant=variant)
        assert [r.tobytes() for r in raw] == [d[:out_len] for d in want]
        for dtype in (np.uint8, np.uint32):
            hexed = hmac_sha256_rows(rows, KEY, prefix=PREFIX, out_len=out_len, as_hex=True,
                                     out_dtype=dtype, variant=variant)
            assert ["".join(map(chr, r)) for r in hexed] == [d[:out_len].hex() for d in want]


@pytest.mark.parametrize("variant", EVERY)
@pytest.mark.parametrize("prefix", [b"", b"ABCD", PREFIX, b"x" * 43])
@pytest.mark.parametrize("width", [11, 12])
def test_every_variant_checks_digits_whatever_the_prefix(variant: str, prefix: bytes,
                                                         width: int) -> None:
    """Batches that start with unused lanes (n < 16) or end with a partial batch are judged on
    their own rows only; one bad byte anywhere in a row is found (widths 11 and 12 take both
    the AVX-512 kernel's word-wise and byte-wise reads)."""
    rng = np.random.default_rng(len(prefix))
    for n in (5, 16, 21, 40):
        rows = rng.integers(ord("0"), ord("9") + 1, (n, width), dtype=np.uint8)
        out = hmac_sha256_rows(rows, KEY, prefix=prefix, out_len=16, as_hex=True,
                               digits_only=True, variant=variant)
        assert [r.tobytes().decode() for r in out] == [
            hmac.digest(KEY, prefix + r.tobytes(), "sha256")[:16].hex() for r in rows]
        for column in range(width):
            spoiled = rows.copy()
            spoiled[n - 1, column] = ord("9") + 1 + column  # ':' .. 'E'
            spoiled[n - 2, width - 1 - column] = ord("0") - 1 - column  # '/' .. '$'
            with pytest.raises(NotDigitsError) as caught:
                hmac_sha256_rows(spoiled, KEY, prefix=prefix, digits_only=True, variant=variant)
            assert caught.value.row == n - 2


@pytest.mark.parametrize("variant", EVERY)
@pytest.mark.parametrize(
    ("key", "data", "out_len", "digest"),
    [  # RFC 4231 §4.2-4.7 (test cases 1-6: the messages that fit one block)
        (b"\x0b" * 20, b"Hi There", 32,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?", 32,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (b"\xaa" * 20, b"\xdd" * 50, 32,
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (bytes(range(1, 26)), b"\xcd" * 50, 32,
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (b"\x0c" * 20, b"Test With Truncation", 16, "a3b6167473100ee06e0c796c2955552b"),
        (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First", 32,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ],
)
def test_every_variant_gives_the_rfc4231_vectors(variant: str, key: bytes, data: bytes,
                                                 out_len: int, digest: str) -> None:
    rows = np.frombuffer(data * 19, np.uint8).reshape(19, len(data))  # one batch + a tail
    out = hmac_sha256_rows(rows, key, out_len=out_len, as_hex=True, variant=variant)
    assert [r.tobytes().decode() for r in out] == [digest] * 19


@pytest.mark.parametrize("variant", EVERY)
@pytest.mark.parametrize(
    ("bad_rows", "first"),
    [
        ([4005], 4005),  # in the second range's tail (fewer than 16 rows)
        ([16 * 5 + 7, 16 * 5 + 9], 87),  # mid-batch, a later bad row in the same batch
        ([16 * 9 + 15, 16 * 9], 144),  # first and last lane of one batch
        ([3000], 3000),  # only in the second thread's range
        ([3000, 2001], 2001),  # the first range's tail, the second range also bad
        ([2500, 1000], 1000),  # both ranges find one; the earlier wins
        ([0, 4006], 0),
        ([4006], 4006),
    ],
)
@pytest.mark.parametrize("wide", [False, True], ids=["ascii", "code-points"])
def test_every_variant_names_the_first_bad_row(
    variant: str, bad_rows: list[int], first: int, wide: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # two threads over 4007 rows: ranges 0..2003 and 2003..4007, each with a partial batch
    monkeypatch.setattr(hmac_kernel, "MIN_ROWS_PER_THREAD", 1000)
    monkeypatch.setattr(hmac_kernel, "_cores", lambda: 2)
    rows = _digits(np.random.default_rng(first), 4007).astype(np.uint32 if wide else np.uint8)
    spoil = [ord("/"), ord(":"), 0, 0x0663 if wide else 0xFF]  # 0x0663: isdigit() says yes
    for k, row in enumerate(bad_rows):
        rows[row, (3 * k) % 11] = spoil[k % len(spoil)]
    with pytest.raises(NotDigitsError) as caught:
        hmac_sha256_rows(rows, KEY, prefix=PREFIX, out_len=16, as_hex=True, digits_only=True,
                         out_dtype=np.uint32 if wide else np.uint8, variant=variant)
    assert caught.value.row == first


def test_the_fastest_kernel_is_the_default_and_each_switch_turns_one_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PRIMEX_NO_NUMBA", "PRIMEX_NO_AVX512", "PRIMEX_NO_SHA_NI"):
        monkeypatch.delenv(name, raising=False)
    have = available_variants()
    assert default_variant() == have[0]
    monkeypatch.setenv("PRIMEX_NO_AVX512", "1")
    assert default_variant() == next(v for v in have if v != "avx512")
    monkeypatch.setenv("PRIMEX_NO_SHA_NI", "1")
    assert default_variant() == next(v for v in have if v not in ("avx512", "sha-ni"))
    monkeypatch.setenv("PRIMEX_NO_NUMBA", "1")
    assert default_variant() == "python"
    monkeypatch.setattr(hmac_kernel, "HAVE_AVX512", False)
    with pytest.raises(ValueError, match="'avx512' HMAC kernel cannot run"):
        hmac_sha256_rows(np.zeros((3, 11), np.uint8), KEY, variant="avx512")


def test_avx512_is_detected_from_numbas_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """A portable target (NUMBA_CPU_NAME=generic) must never get the AVX-512 kernel."""
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    monkeypatch.delenv("NUMBA_CPU_FEATURES", raising=False)
    assert not hmac_avx512.host_has_avx512()
    monkeypatch.setenv("NUMBA_CPU_FEATURES", "+avx2,+avx512f,+avx512bw")
    assert hmac_avx512.host_has_avx512()
    for features in ("+avx2,+sha", "+avx2,+avx512fp16,-avx512f", "-avx512f"):
        monkeypatch.setenv("NUMBA_CPU_FEATURES", features)
        assert not hmac_avx512.host_has_avx512()


def test_sha_ni_is_detected_from_numbas_target_by_exact_feature(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`+sha512` is another extension: only `+sha` itself lets the SHA-NI kernel compile."""
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    monkeypatch.setenv("NUMBA_CPU_FEATURES", "+avx2,+sha512")
    assert not hmac_kernel._host_has_sha_ni()
    monkeypatch.setenv("NUMBA_CPU_FEATURES", "+avx2,+sha")
    assert hmac_kernel._host_has_sha_ni()
