"""Distinct and entropy l-diversity of a sensitive variable per record.

Equivalence class of a record with a complete key: the records with the identical key (as
sdcMicro's `ldiversity`).  A record whose key has missing values belongs, like in `fk`, to
every record it is compatible with (equal wherever both are observed); an all-missing key
belongs to the whole data set.  A missing sensitive value counts as one more category only
when the class has other values (sdcMicro's rule); entropy l-diversity = exp(entropy).
Note: sdcMicro 5.8.1 miscounts distinct l-diversity for keys with missing values (fixed in
5.8.2); we follow the corrected definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.micro._encode import combine, encode_column, encode_frame, group_ids


@dataclass
class LDiversity:
    """Per-record distinct and entropy l-diversity (aligned with the input rows)."""

    sensitive: str
    distinct: np.ndarray
    entropy: np.ndarray

    def violations(self, l: int) -> int:  # noqa: E741 - l is the standard name
        """Records whose class has fewer than l distinct sensitive values."""
        return int(np.sum(self.distinct < l))

    def summary(self) -> dict[str, float | int | str]:
        return {
            "sensitive": self.sensitive,
            "min_distinct_l": int(self.distinct.min()) if len(self.distinct) else 0,
            "mean_distinct_l": float(self.distinct.mean()) if len(self.distinct) else 0.0,
            "min_entropy_l": float(self.entropy.min()) if len(self.entropy) else 0.0,
            "records_distinct_l_below_2": self.violations(2),
        }


def _pairs_for_na_rows(
    codes: np.ndarray, cards: np.ndarray, s: np.ndarray, w: np.ndarray, na_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, s, count) over all records compatible with each partially missing row."""
    p = codes.shape[1]
    cols_all = np.arange(p)
    bits = ((codes < 0).astype(np.int64) << cols_all).sum(axis=1)
    out_r, out_s, out_c = [], [], []
    masks_a = np.unique(bits[na_rows])
    for a in masks_a:
        rows_a = na_rows[bits[na_rows] == a]
        obs_a = cols_all[((int(a) >> cols_all) & 1) == 0]
        for b in np.unique(bits):
            rows_b = np.flatnonzero(bits == b)
            obs = np.intersect1d(obs_a, cols_all[((int(b) >> cols_all) & 1) == 0])
            kb = combine(codes[rows_b][:, obs], cards[obs])[0]
            ka = combine(codes[rows_a][:, obs], cards[obs])[0]
            # distinct (projection, s) of the source rows with their counts, sorted by projection
            pk = kb * (s.max() + 1) + s[rows_b]
            upk, inv = np.unique(pk, return_inverse=True)
            cnt = np.bincount(inv, weights=w[rows_b])
            proj = upk // (s.max() + 1)
            sval = upk % (s.max() + 1)
            lo = np.searchsorted(proj, ka, "left")
            hi = np.searchsorted(proj, ka, "right")
            length = hi - lo
            if length.sum() == 0:
                continue
            rep_rows = np.repeat(rows_a, length)
            idx = np.repeat(lo - np.cumsum(length) + length, length) + np.arange(length.sum())
            out_r.append(rep_rows)
            out_s.append(sval[idx])
            out_c.append(cnt[idx])
    if not out_r:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_r), np.concatenate(out_s), np.concatenate(out_c)


def _stats(group: np.ndarray, s: np.ndarray, c: np.ndarray, s_missing: int, g: int) -> tuple[
    np.ndarray, np.ndarray
]:
    """Distinct and entropy l per group from (group, s, count) triples."""
    key = group.astype(np.int64) * (s_missing + 1) + s
    uk, inv = np.unique(key, return_inverse=True)
    cnt = np.bincount(inv, weights=c)
    grp = uk // (s_missing + 1)
    sv = uk % (s_missing + 1)
    keep = cnt > 0
    grp, sv, cnt = grp[keep], sv[keep], cnt[keep]
    total = np.bincount(grp, weights=cnt, minlength=g)
    nonmiss = np.bincount(grp, weights=(sv != s_missing), minlength=g)
    hasmiss = np.bincount(grp, weights=(sv == s_missing), minlength=g) > 0
    distinct = nonmiss + ((nonmiss > 0) & hasmiss)
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = cnt / total[grp]
        ent = np.bincount(grp, weights=prob * np.log(prob), minlength=g)
    return distinct.astype(np.int64), np.exp(-ent)


def ldiversity_codes(codes: np.ndarray, cards: np.ndarray, s: np.ndarray, s_card: int,
                     w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct and entropy l per row; `s` codes with -1 = missing; `w` row multiplicities."""
    n = codes.shape[0]
    w = np.ones(n) if w is None else w
    s = np.where(s < 0, s_card, s).astype(np.int64)
    distinct = np.zeros(n, dtype=np.int64)
    entropy = np.ones(n)
    nas = (codes < 0).any(axis=1)
    comp = np.flatnonzero(~nas)
    if len(comp):
        key, rng = combine(codes[comp], cards)
        gid, g = group_ids(key, rng)
        d, e = _stats(gid, s[comp], w[comp], s_card, g)
        distinct[comp], entropy[comp] = d[gid], e[gid]
    allna = np.flatnonzero((codes < 0).all(axis=1))
    if len(allna):
        d, e = _stats(np.zeros(n, np.int64), s, w, s_card, 1)
        distinct[allna], entropy[allna] = d[0], e[0]
    part = np.flatnonzero(nas & ~(codes < 0).all(axis=1))
    if len(part):
        rows, sv, cnt = _pairs_for_na_rows(codes, cards, s, w, part)
        local = np.searchsorted(part, rows)
        d, e = _stats(local, sv, cnt, s_card, len(part))
        distinct[part], entropy[part] = d, e
    return distinct, entropy


def ldiversity(df: pd.DataFrame, key_vars: Sequence[str], sensitive: str) -> LDiversity:
    """Distinct and entropy l-diversity of `sensitive` for every record."""
    return ldiversity_many(df, key_vars, [sensitive])[sensitive]


def ldiversity_many(df: pd.DataFrame, key_vars: Sequence[str],
                    sensitives: Sequence[str]) -> dict[str, LDiversity]:
    """`ldiversity` for several sensitive variables, encoding the key variables once."""
    key_vars = list(key_vars)
    for sensitive in sensitives:
        if sensitive not in df.columns:
            raise PrimexError(f"sensitive variable {sensitive!r} not in the data",
                              where="sensitive",
                              hint="give the column whose values must stay diverse")
        if sensitive in key_vars:
            raise PrimexError(f"{sensitive!r} is both a key and the sensitive variable",
                              where="sensitive", hint="a sensitive variable is not a key variable")
    codes, cards = encode_frame(df, key_vars, where="key_vars")
    key, key_rng = combine(codes.astype(np.int64) + 1, cards + 1)
    out: dict[str, LDiversity] = {}
    for sensitive in sensitives:
        s, s_card = encode_column(df[sensitive])
        # A record's l depends only on its key, and the counts only on how many records
        # share a (key, sensitive value) pair: work on those distinct pairs with their
        # multiplicities (a 1 M-record extract has a few thousand), then give each record
        # its pair's result.
        s_full = np.where(s < 0, s_card, s).astype(np.int64)
        pair, rng = combine(np.column_stack([key, s_full]),
                            np.array([key_rng, s_card + 1], dtype=np.int64))
        rid, n_pairs = group_ids(pair, rng)
        first = np.empty(n_pairs, dtype=np.int64)
        first[rid[::-1]] = np.arange(len(rid) - 1, -1, -1)
        mult = np.bincount(rid, minlength=n_pairs).astype(np.float64)
        d, e = ldiversity_codes(codes[first], cards, s[first], int(s_card), w=mult)
        out[sensitive] = LDiversity(sensitive, d[rid], e[rid])
    return out
