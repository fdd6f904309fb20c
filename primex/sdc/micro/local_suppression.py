"""Local suppression: blank as few key values as possible so every record reaches k (and l).

Works on the distinct rows of the generalised keys.  Each violating row gets the smallest
set M of variables to suppress such that the records agreeing with it on the other
variables number at least k (and hold at least l distinct sensitive values).  Under
sdcMicro's missing-value semantics with alpha = 1 that count is a lower bound of the row's
final fk, because suppressing values elsewhere only adds wildcard matches; so the result is
k-anonymous by construction (and is verified again afterwards).  Among sets of one size,
the least important variables go first (`importance`: lower = more important, kept
longer, as in sdcMicro's localSuppression).  Cost: one group-by over the distinct rows per
candidate set, and only while violators remain.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from primex.sdc.micro._encode import class_sizes, combine, combine_columns
from primex.sdc.micro.risk import Patterns, pattern_frequencies


def candidate_sets(importance: list[int]) -> list[tuple[int, ...]]:
    """Variable sets by size, then least important first (deterministic)."""
    p = len(importance)
    out: list[tuple[int, ...]] = []
    for size in range(1, p + 1):
        sets = list(combinations(range(p), size))
        sets.sort(key=lambda s: (sorted(-importance[j] for j in s), s))
        out.extend(sets)
    return out


def choose_suppressions(
    codes: np.ndarray,
    cards: np.ndarray,
    count: np.ndarray,
    violating: np.ndarray,
    k: int,
    importance: list[int],
    sens: np.ndarray | None = None,
    l: int | None = None,  # noqa: E741
) -> np.ndarray:
    """Bitmask of variables to suppress per distinct row (codes -1 = already missing)."""
    D, p = codes.shape
    cols = [np.ascontiguousarray(codes[:, j]) for j in range(p)]
    bits_own = np.zeros(D, dtype=np.int64)
    for j in range(p):
        bits_own |= (cols[j] < 0).astype(np.int64) << j
    todo = violating.copy()
    chosen = np.zeros(D, dtype=np.int64)
    full = (1 << p) - 1
    for s in candidate_sets(importance):
        if not todo.any():
            break
        m = sum(1 << j for j in s)
        q = np.flatnonzero(todo & ((bits_own & ~m) == 0))
        if len(q) == 0:
            continue
        keep = [j for j in range(p) if not (m >> j) & 1]
        # Source: rows observed on every kept variable (a lower bound of wildcard matches).
        valid = (bits_own & (full & ~m)) == 0
        key, rng = combine_columns([np.where(valid, cols[j], 0) for j in keep],
                                   [int(cards[j]) for j in keep], n=D)
        size, gid = class_sizes(key, rng, np.where(valid, count, 0.0))
        ok = size[q] >= k
        if l is not None and sens is not None:
            smax = int(sens.max()) + 1
            pairs = np.unique(gid[valid] * smax + sens[valid])
            cls, distinct = np.unique(pairs // smax, return_counts=True)
            pos = np.minimum(np.searchsorted(cls, gid[q]), len(cls) - 1)
            ok &= (cls[pos] == gid[q]) & (distinct[pos] >= l)
        hit = q[ok]
        chosen[hit] = m & ~bits_own[hit]
        todo[hit] = False
    chosen[todo] = full & ~bits_own[todo]  # nothing smaller works: the whole key
    return chosen


def apply_bits(codes: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Codes with the chosen variables set to -1."""
    out = codes.copy()
    for j in range(codes.shape[1]):
        out[((bits >> j) & 1) == 1, j] = -1
    return out


def fk_of_rows(codes: np.ndarray, cards: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Exact sdcMicro fk (alpha = 1) of distinct rows carrying multiplicities `count`."""
    from primex.sdc.micro._encode import group_ids

    key, rng = combine(codes + 1, cards + 1)
    pid, g = group_ids(key, rng)
    f = np.bincount(pid, weights=count, minlength=g)
    first = np.empty(g, dtype=np.int64)
    first[pid[::-1]] = np.arange(len(pid) - 1, -1, -1)
    pat = Patterns(codes[first], f, f.copy(), pid)
    n = float(count.sum())
    fk, _ = pattern_frequencies(pat, cards, 1.0, int(n), n)
    return fk[pid]


def restore_pass(
    final: np.ndarray,
    gen: np.ndarray,
    cards: np.ndarray,
    count: np.ndarray,
    k: int,
    importance: list[int],
    max_work: float = 3e6,
) -> np.ndarray:
    """Give back blanked values that are no longer needed (small extracts only).

    A blanked record is a wildcard for its neighbours, so after the first pass some rows
    reach k with their original key.  Each candidate row (most important blanked variable
    first) is restored tentatively and kept only if every row still has fk >= k, recomputed
    exactly (sdcMicro semantics, alpha = 1).  That costs one fk computation per candidate,
    so it runs only while candidates x rows <= `max_work`.
    """
    D, p = final.shape
    cand = np.flatnonzero(((final < 0) & (gen >= 0)).any(axis=1))
    if len(cand) == 0 or len(cand) * D > max_work:
        return final
    cur = final.copy()
    rank = np.asarray(importance)

    def prio(i: int) -> tuple[int, float, int]:
        lost = [j for j in range(p) if cur[i, j] < 0 <= gen[i, j]]
        return (min(int(rank[j]) for j in lost), -float(count[i]), i)

    for r in sorted(cand.tolist(), key=prio):
        old = cur[r].copy()
        cur[r] = gen[r]
        if (fk_of_rows(cur, cards, count) < k).any():
            cur[r] = old
    return cur
