"""Integer encoding of key variables: the base of every group-by in the microdata half.

Each key column becomes int32 codes (-1 = missing) so that frequency counts are pure
numpy work (bincount on a mixed-radix combined code). Two different values never share a
code (like sdcMicro's `as.numeric` on factors), and the order of codes does not matter for
any count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from primex.errors import PrimexError

# bincount on the combined code is used while its range stays below this (else hashing).
_DIRECT_RANGE = 1 << 26


def encode_column(col: pd.Series) -> tuple[np.ndarray, int]:
    """Codes 0..card-1 for the values of `col`, -1 for missing; returns (codes, card)."""
    dtype = col.dtype
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = col.to_numpy()
        if values.dtype.kind in "iu" and len(values):
            lo, hi = int(values.min()), int(values.max())
            if hi - lo < max(4 * len(values), 1 << 16):
                # Small integer range: the value itself is the code (no hashing needed).
                return (values - lo).astype(np.int32), hi - lo + 1
    if isinstance(dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int32)
        return codes, max(len(col.cat.categories), 1)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes.astype(np.int32), max(len(uniques), 1)


def encode_frame(df: pd.DataFrame, cols: Sequence[str], *, where: str = "data") -> tuple[
    np.ndarray, np.ndarray
]:
    """(codes n×p int32 with -1 for missing, cardinalities p) for the columns `cols`."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise PrimexError(
            f"key variable(s) {', '.join(map(repr, missing))} not in the data",
            where=where,
            hint=f"available columns: {', '.join(map(str, df.columns[:30]))}",
        )
    if len(set(cols)) != len(cols):
        raise PrimexError("a key variable is listed twice", where=where, hint="list each once")
    n = len(df)
    codes = np.empty((n, len(cols)), dtype=np.int32, order="F")  # columns contiguous
    cards = np.empty(len(cols), dtype=np.int64)
    for j, c in enumerate(cols):
        codes[:, j], cards[j] = encode_column(df[c])
    return codes, cards


def combine(codes: np.ndarray, cards: np.ndarray) -> tuple[np.ndarray, int]:
    """One int64 code per row for the (complete) codes of its columns; returns (code, range).

    Mixed radix while the product of cardinalities fits; beyond that the partial code is
    re-factorised (hashing) so the radix never overflows int64.
    """
    n, p = codes.shape
    if p == 0:
        return np.zeros(n, dtype=np.int64), 1
    key = codes[:, 0].astype(np.int64)
    rng = int(cards[0])
    for j in range(1, p):
        card = int(cards[j])
        if rng * card >= (1 << 62):
            key, uniq = pd.factorize(key)
            key = key.astype(np.int64)
            rng = max(len(uniq), 1)
        key = key * card + codes[:, j]
        rng *= card
    return key, rng


def group_ids(key: np.ndarray, rng: int) -> tuple[np.ndarray, int]:
    """Dense group ids 0..g-1 for an int64 key (order irrelevant); returns (ids, g)."""
    if rng <= _DIRECT_RANGE and rng <= 8 * len(key) + 1024:
        present = np.bincount(key, minlength=rng) > 0
        remap = np.cumsum(present) - 1
        return remap[key].astype(np.int64), int(present.sum())
    ids, uniq = pd.factorize(key)
    return ids.astype(np.int64), len(uniq)


def sum_lookup(
    src_key: np.ndarray, src_vals: Sequence[np.ndarray], query_key: np.ndarray
) -> list[np.ndarray]:
    """For each query key, the sums of `src_vals` over source rows with the same key (0 if none)."""
    out = [np.zeros(len(query_key), dtype=np.float64) for _ in src_vals]
    if len(src_key) == 0 or len(query_key) == 0:
        return out
    uniq, inv = np.unique(src_key, return_inverse=True)
    pos = np.searchsorted(uniq, query_key)
    pos_c = np.minimum(pos, len(uniq) - 1)
    hit = uniq[pos_c] == query_key
    for o, v in zip(out, src_vals, strict=True):
        sums = np.bincount(inv, weights=v, minlength=len(uniq))
        o[hit] = sums[pos_c[hit]]
    return out


def combine_columns(
    cols: Sequence[np.ndarray], cards: Sequence[int], n: int | None = None
) -> tuple[np.ndarray, int]:
    """Like `combine` for a list of 1-D code arrays (no matrix copy); `n` rows if no column."""
    n = len(cols[0]) if cols else (n or 0)
    key = np.zeros(n, dtype=np.int64)
    rng = 1
    for col, card in zip(cols, cards, strict=True):
        if rng * int(card) >= (1 << 62):
            key, uniq = pd.factorize(key)
            key = key.astype(np.int64)
            rng = max(len(uniq), 1)
        key *= int(card)
        key += col
        rng *= int(card)
    return key, rng


def class_sizes(key: np.ndarray, rng: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weighted size of each row's class, a class id per row usable for further grouping)."""
    if rng <= max(4 * len(key), 1 << 22):
        size = np.bincount(key, weights=weights, minlength=rng)
        return size[key], key
    ids, uniq = pd.factorize(key)
    size = np.bincount(ids, weights=weights, minlength=len(uniq))
    return size[ids], ids.astype(np.int64)


def distinct_rows(
    cols: Sequence[np.ndarray], cards: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row id per record, distinct rows D x p int32, records per row) of codes -1..card-1.

    Same rows in the same order as `group_ids(combine(codes + 1, cards + 1))` followed by a
    gather of each group's first record, but cheaper on millions of records: the key is
    built in place (no n x p copy) and, in the dense case, the distinct rows are decoded from
    the present keys instead of gathered from the records.
    """
    n = len(cols[0]) if cols else 0
    radix = [int(c) + 1 for c in cards]
    rng = int(np.prod(np.array(radix, dtype=object))) if radix else 1
    if rng >= (1 << 62) or not (rng <= _DIRECT_RANGE and rng <= 8 * n + 1024):
        codes = np.column_stack(cols).astype(np.int32)
        key, krng = combine(codes + 1, np.asarray(radix, dtype=np.int64))
        rid, D = group_ids(key, krng)
        first = np.empty(D, dtype=np.int64)
        first[rid[::-1]] = np.arange(n - 1, -1, -1)
        return rid, codes[first], np.bincount(rid, minlength=D).astype(np.float64)
    key = np.zeros(n, dtype=np.int64)
    offset = 0
    for col, r in zip(cols, radix, strict=True):
        key *= r
        key += col  # the +1 of every digit is added once, as `offset`
        offset = offset * r + 1
    key += offset
    full = np.bincount(key, minlength=rng)
    present = full > 0
    uniq = np.flatnonzero(present)
    remap = np.cumsum(present) - 1
    rid = remap[key]
    rows = np.empty((len(uniq), len(cols)), dtype=np.int32)
    rest = uniq.astype(np.int64)
    for j in range(len(cols) - 1, -1, -1):
        rest, d = np.divmod(rest, radix[j])
        rows[:, j] = d - 1
    return rid, rows, full[uniq].astype(np.float64)
