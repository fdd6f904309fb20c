"""`distinct_rows` (the fast path of anonymize) returns exactly what the plain group-by and
first-record gather returned before: same rows, same order, same counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.sdc.micro._encode import combine, distinct_rows, group_ids


def _reference(codes: np.ndarray, cards: np.ndarray) -> tuple[np.ndarray, ...]:
    key, rng = combine(codes + 1, cards + 1)
    rid, D = group_ids(key, rng)
    first = np.empty(D, dtype=np.int64)
    first[rid[::-1]] = np.arange(len(rid) - 1, -1, -1)
    return rid, codes[first], np.bincount(rid, minlength=D).astype(np.float64)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 400), cards=st.lists(st.integers(1, 7), min_size=1, max_size=5),
       seed=st.integers(0, 2**32 - 1), wide=st.booleans())
def test_distinct_rows_equals_group_by_and_gather(n: int, cards: list[int], seed: int,
                                                  wide: bool) -> None:
    rng = np.random.default_rng(seed)
    card = np.array(cards, dtype=np.int64)
    if wide:  # a radix too large for bincount: the hashing fallback
        card = card * 10_000
    codes = np.column_stack([rng.integers(-1, c, n) for c in card]).astype(np.int32)
    got = distinct_rows([codes[:, j] for j in range(codes.shape[1])], card)
    want = _reference(codes, card)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
