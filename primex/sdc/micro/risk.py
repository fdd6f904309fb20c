"""Re-identification risk of microdata, numerically identical to sdcMicro 5.8.1.

* `fk` / `Fk`: sample frequency and weighted (population) frequency of each record's key,
  with sdcMicro's missing-value semantics (`freqCalc`): a missing value in a key variable
  matches every category of that variable.  For a record whose key has missing values,
  `fk` = its own pattern's count + every complete record agreeing on its non-missing values
  + `alpha` x every other missing-containing pattern compatible with it (equal wherever both
  are non-missing).  A complete key gains `alpha` x the count of every compatible
  missing-containing pattern except the all-missing one (sdcMicro leaves that out); an
  all-missing key gets fk = n, Fk = sum of weights.  With one key variable the missing
  pattern is added (times alpha) to every category.
* `individual`: Benedetti-Franconi risk (`indivRisk`, method "approx") with weights, 1/fk
  without.  Global risk = sum / n; hierarchical risk 1 - prod(1 - r) over a household.

Algorithm: complete keys are a pure group-by on integer codes (bincount).  Missing values
are handled per *missingness mask*: for every pair of masks (a, b) the patterns of mask b
are summed by their projection on the variables observed in both and looked up for the
patterns of mask a.  The cost is O(#masks^2 x #distinct patterns), never O(n^2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.micro._encode import (
    combine,
    combine_columns,
    encode_frame,
    group_ids,
    sum_lookup,
)


@dataclass(frozen=True)
class Patterns:
    """Distinct key patterns (missing = -1) with their counts and weight sums."""

    codes: np.ndarray  # g x p int32
    f: np.ndarray  # g float64
    F: np.ndarray  # g float64
    inverse: np.ndarray  # n -> pattern id

    @property
    def mask(self) -> np.ndarray:
        """Bit j set when variable j is missing in the pattern."""
        bits = np.zeros(self.codes.shape[0], dtype=np.int64)
        for j in range(self.codes.shape[1]):
            bits |= (self.codes[:, j] < 0).astype(np.int64) << j
        return bits


def patterns(codes: np.ndarray, cards: np.ndarray, w: np.ndarray | None) -> Patterns:
    """Group records by their full key, missing being a value of its own."""
    n = codes.shape[0]
    key, rng = combine(codes + 1, cards + 1)
    pid, g = group_ids(key, rng)
    f = np.bincount(pid, minlength=g).astype(np.float64)
    F = f.copy() if w is None else np.bincount(pid, weights=w, minlength=g)
    first = np.empty(g, dtype=np.int64)
    first[pid[::-1]] = np.arange(n - 1, -1, -1)
    return Patterns(codes[first], f, F, pid)


def _proj_key(codes: np.ndarray, cols: np.ndarray, cards: np.ndarray) -> np.ndarray:
    return combine(codes[:, cols], cards[cols])[0]


def pattern_frequencies(
    pat: Patterns, cards: np.ndarray, alpha: float, n: int, wsum: float
) -> tuple[np.ndarray, np.ndarray]:
    """fk, Fk of every pattern under sdcMicro's wildcard semantics (see module doc)."""
    p = pat.codes.shape[1]
    full = (1 << p) - 1
    if not (pat.codes < 0).any():
        return pat.f.copy(), pat.F.copy()
    mask = pat.mask
    fk = pat.f.copy()
    Fk = pat.F.copy()
    comp = np.flatnonzero(mask == 0)
    nas = np.flatnonzero(mask != 0)
    if len(nas) == 0:
        return fk, Fk
    allna = nas[mask[nas] == full]
    if p == 1:
        # sdcMicro's one-variable branch: the missing pattern counts for every category.
        fk[comp] += pat.f[nas].sum() * alpha
        Fk[comp] += pat.F[nas].sum() * alpha
        fk[nas] = n
        Fk[nas] = wsum
        return fk, Fk
    allcols = np.arange(p)
    observed = {int(m): allcols[((int(m) >> allcols) & 1) == 0] for m in np.unique(mask)}
    add_f = np.zeros(len(fk))
    add_F = np.zeros(len(fk))
    na_masks = [int(m) for m in np.unique(mask[nas])]
    groups = {m: nas[mask[nas] == m] for m in na_masks}
    for a in na_masks:
        rows_a = groups[a]
        cols_a = observed[a]
        if a != full:
            # Complete records matching the observed values of pattern a (not scaled by alpha),
            # and pattern a added (times alpha) to each of those complete keys.
            kc = _proj_key(pat.codes[comp], cols_a, cards)
            ka = _proj_key(pat.codes[rows_a], cols_a, cards)
            sf, sF = sum_lookup(kc, [pat.f[comp], pat.F[comp]], ka)
            add_f[rows_a] += sf
            add_F[rows_a] += sF
            tf, tF = sum_lookup(ka, [pat.f[rows_a], pat.F[rows_a]], kc)
            add_f[comp] += tf * alpha
            add_F[comp] += tF * alpha
        for b in na_masks:
            rows_b = groups[b]
            cols = np.intersect1d(cols_a, observed[b])
            kb = _proj_key(pat.codes[rows_b], cols, cards)
            ka = _proj_key(pat.codes[rows_a], cols, cards)
            sf, sF = sum_lookup(kb, [pat.f[rows_b], pat.F[rows_b]], ka)
            if a == b:  # a pattern is not its own wildcard match
                sf -= pat.f[rows_a]
                sF -= pat.F[rows_a]
            add_f[rows_a] += sf * alpha
            add_F[rows_a] += sF * alpha
    fk += add_f
    Fk += add_F
    fk[allna] = n
    Fk[allna] = wsum
    return fk, Fk


def grouped_frequencies(
    codes: np.ndarray, cards: np.ndarray, w: np.ndarray | None, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fk per group, Fk per group, group of each record): risk is then computed per group."""
    n = codes.shape[0]
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    if not (codes < 0).any():
        key, rng = combine(codes, cards)
        gid, g = group_ids(key, rng)
        f = np.bincount(gid, minlength=g).astype(np.float64)
        F = f.copy() if w is None else np.bincount(gid, weights=w, minlength=g)
        return f, F, gid
    pat = patterns(codes, cards, w)
    wsum = float(n) if w is None else float(w.sum())
    pf, pF = pattern_frequencies(pat, cards, alpha, n, wsum)
    return pf, pF, pat.inverse


def frequencies(
    codes: np.ndarray, cards: np.ndarray, w: np.ndarray | None, alpha: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-record fk and Fk (sdcMicro `freqCalc`)."""
    f, F, gid = grouped_frequencies(codes, cards, w, alpha)
    return f[gid], F[gid]


def individual_risk(fk: np.ndarray, Fk: np.ndarray, survey: bool) -> np.ndarray:
    """Benedetti-Franconi individual risk, sdcMicro `indivRisk(method="approx")`."""
    if not survey:
        with np.errstate(divide="ignore"):
            return 1.0 / fk
    r = np.zeros(len(fk))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pk = fk / Fk
        q = pk / (1.0 - pk)
        lg = np.log(1.0 / pk)
        m = fk > 2
        r[m] = pk[m] / (fk[m] - (1.0 - pk[m]))
        m = fk == 2
        r[m] = q[m] - q[m] ** 2 * lg[m]
        m = fk == 1
        r[m] = q[m] * lg[m]
        same = fk == Fk
        r[same] = 1.0 / fk[same]
    return r


def household_risk(r: np.ndarray, hid: np.ndarray) -> np.ndarray:
    """1 - prod(1 - r) over each household, given to every member (sdcMicro fast_hier)."""
    codes, _ = pd.factorize(pd.Series(hid), use_na_sentinel=True)
    out = np.full(len(r), np.nan)
    ok = codes >= 0
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    order = idx[np.argsort(codes[idx], kind="stable")]
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    prod = np.multiply.reduceat(1.0 - r[order], starts)
    flag = np.zeros(len(order), dtype=np.int64)
    flag[starts] = 1
    hh = np.cumsum(flag) - 1
    out[order] = 1.0 - prod[hh]
    return out


@dataclass
class MicroRisk:
    """Risk of one microdata set; arrays are aligned with the input rows."""

    key_vars: list[str]
    fk: np.ndarray
    Fk: np.ndarray
    individual: np.ndarray
    global_risk_ER: float
    global_risk: float
    weighted: bool
    alpha: float
    hier: np.ndarray | None = None
    hier_risk_ER: float | None = None
    hier_risk: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.fk)

    @property
    def global_risk_pct(self) -> float:
        return 100.0 * self.global_risk

    @property
    def hier_risk_pct(self) -> float | None:
        return None if self.hier_risk is None else 100.0 * self.hier_risk

    def kanon_violations(self, k: int, weighted: bool = False) -> int:
        """Records whose key occurs fewer than k times (Fk < k when weighted), as sdcMicro."""
        return int(np.sum((self.Fk if weighted else self.fk) < k))

    def high_risk_count(self, mad_factor: float = 3.0) -> int:
        """sdcMicro's 'obs. with higher risk than the main part' (r > median + c*MAD and > 0.1)."""
        r = self.individual[~np.isnan(self.individual)]
        if len(r) == 0:
            return 0
        med = float(np.median(r))
        mad = 1.4826 * float(np.median(np.abs(r - med)))
        return int(np.sum((r > med + mad_factor * mad) & (r > 0.1)))

    def summary(self) -> dict[str, Any]:
        """Scalars for reports (JSON-ready)."""
        out: dict[str, Any] = {
            "n": self.n,
            "key_vars": list(self.key_vars),
            "weighted": self.weighted,
            "alpha": self.alpha,
            "global_risk": self.global_risk,
            "global_risk_ER": self.global_risk_ER,
            "global_risk_pct": self.global_risk_pct,
            "kanon_violations": {str(k): self.kanon_violations(k) for k in (2, 3, 5)},
            "max_individual_risk": float(np.nanmax(self.individual)) if self.n else 0.0,
            "sample_uniques": int(np.sum(self.fk == 1)),
            "high_risk_records": self.high_risk_count(),
        }
        if self.weighted:
            out["kanon_violations_weighted"] = {
                str(k): self.kanon_violations(k, weighted=True) for k in (2, 3, 5)
            }
        if self.hier_risk_ER is not None:
            out["hier_risk"] = self.hier_risk
            out["hier_risk_ER"] = self.hier_risk_ER
            out["hier_risk_pct"] = self.hier_risk_pct
        return out

    def frame(self) -> pd.DataFrame:
        """Per-record table: fk, Fk, risk (and hier_risk)."""
        d = {"fk": self.fk, "Fk": self.Fk, "risk": self.individual}
        if self.hier is not None:
            d["hier_risk"] = self.hier
        return pd.DataFrame(d)


def weights_of(df: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    if weight not in df.columns:
        raise PrimexError(f"weight variable {weight!r} not in the data", where="weight",
                          hint="give the name of a numeric column")
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(w).any():
        bad = int(np.flatnonzero(np.isnan(w))[0])
        raise PrimexError(f"weight {weight!r} is missing or not numeric in row {bad + 1}",
                          where=f"{weight}:row {bad + 1}", hint="every record needs a weight")
    return w


def measure_risk(
    df: pd.DataFrame,
    key_vars: Sequence[str],
    weight: str | None = None,
    hid: str | None = None,
    alpha: float = 1.0,
) -> MicroRisk:
    """fk, Fk, individual and global (and household) risk exactly as sdcMicro 5.8.1."""
    key_vars = list(key_vars)
    if not key_vars:
        raise PrimexError("no key variables given", where="key_vars",
                          hint="name the quasi-identifiers, e.g. --keys age,sex,region")
    if not 0.0 <= alpha <= 1.0:
        raise PrimexError(f"alpha must be in [0, 1], got {alpha}", where="alpha",
                          hint="1 counts every wildcard match (sdcMicro default)")
    codes, cards = encode_frame(df, key_vars, where="key_vars")
    w = weights_of(df, weight)
    if hid is not None and hid not in df.columns:
        raise PrimexError(f"household id {hid!r} not in the data", where="hid",
                          hint="give the column that identifies households")
    hh = None if hid is None else df[hid].to_numpy()
    return risk_from_codes(codes, cards, w, key_vars, alpha, hh)


def risk_from_codes(
    codes: np.ndarray,
    cards: np.ndarray,
    w: np.ndarray | None,
    key_vars: list[str],
    alpha: float = 1.0,
    hid: np.ndarray | None = None,
) -> MicroRisk:
    """`measure_risk` on already encoded keys (-1 = missing)."""
    f, F, gid = grouped_frequencies(codes, cards, w, alpha)
    fk, Fk = f[gid], F[gid]
    r = individual_risk(f, F, survey=w is not None)[gid]
    n = len(fk)
    er = float(np.nansum(r))
    res = MicroRisk(key_vars, fk, Fk, r, er, er / n if n else 0.0, w is not None, alpha)
    if hid is not None:
        h = household_risk(r, hid)
        res.hier = h
        res.hier_risk_ER = float(np.nansum(h))
        res.hier_risk = res.hier_risk_ER / n if n else 0.0
    return res


def risk_from_rows(
    codes: np.ndarray,
    cards: np.ndarray,
    counts: np.ndarray,
    wsums: np.ndarray | None,
    row_of_record: np.ndarray,
    key_vars: list[str],
    alpha: float = 1.0,
    distinct: bool = False,
) -> MicroRisk:
    """`measure_risk` from rows carrying record counts (and weight sums): the same numbers
    without another pass over the records' keys (used by anonymize on its distinct rows).
    `distinct`: the rows are already distinct keys (each row is its own pattern)."""
    n = len(row_of_record)
    wsum = float(n) if wsums is None else float(wsums.sum())
    if distinct:
        f = np.asarray(counts, dtype=np.float64)
        F = f.copy() if wsums is None else np.asarray(wsums, dtype=np.float64)
        pat = Patterns(codes, f, F, np.arange(len(f)))
        rec = row_of_record
    else:
        key, rng = combine(codes + 1, cards + 1)
        pid, g = group_ids(key, rng)
        f = np.bincount(pid, weights=counts, minlength=g)
        F = f.copy() if wsums is None else np.bincount(pid, weights=wsums, minlength=g)
        first = np.empty(g, dtype=np.int64)
        first[pid[::-1]] = np.arange(len(pid) - 1, -1, -1)
        pat = Patterns(codes[first], f, F, pid)
        rec = pid[row_of_record]
    pf, pF = pattern_frequencies(pat, cards, alpha, n, wsum)
    fk, Fk = pf[rec], pF[rec]
    r_pat = individual_risk(pf, pF, survey=wsums is not None)
    r = r_pat[rec]
    er = float(np.nansum(r))
    return MicroRisk(key_vars, fk, Fk, r, er, er / n if n else 0.0, wsums is not None, alpha)



# -- a quick screen of a key (the pre-assessment of a request) ---------------------------------


@dataclass(frozen=True)
class KeyRisk:
    """Unweighted risk of one key where every value, missing included, is a category of its
    own (a screen before extraction: sdcMicro's wildcard treatment of missing values needs
    the real extract). `expected_reidentifications` is sdcMicro's global_risk_ER without
    weights (Σ 1/fk)."""

    records: int
    sample_uniques: int
    violating_k: int
    expected_reidentifications: float

    @property
    def share_uniques(self) -> float:
        return self.sample_uniques / self.records if self.records else 0.0

    @property
    def share_violating(self) -> float:
        return self.violating_k / self.records if self.records else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "sample_uniques": self.sample_uniques,
            "share_sample_uniques": round(self.share_uniques, 6),
            "records_violating_k": self.violating_k,
            "share_violating_k": round(self.share_violating, 6),
            "expected_reidentifications": round(self.expected_reidentifications, 4),
            "global_risk_pct": round(
                100 * self.expected_reidentifications / self.records if self.records else 0.0, 4
            ),
        }


def combination_ids(columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Dense id (0..cells-1) of each record's combination of non-negative integer codes."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cards = [int(c.max()) + 1 if len(c) else 1 for c in columns]
    key, rng = combine_columns([c.astype(np.int64, copy=False) for c in columns], cards, n)
    ids, _ = group_ids(key, rng)
    return ids


def key_frequencies(columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """fk of every record: how many of the n records share its combination of codes."""
    ids = combination_ids(columns, n)
    return np.bincount(ids)[ids] if n else np.zeros(0, dtype=np.int64)


def key_risk(fk: np.ndarray, k: int) -> KeyRisk:
    """Sample uniques, records violating k and Σ 1/fk of a key's frequencies."""
    return KeyRisk(
        records=len(fk),
        sample_uniques=int(np.count_nonzero(fk == 1)),
        violating_k=int(np.count_nonzero(fk < k)),
        expected_reidentifications=float(np.sum(1.0 / fk)) if len(fk) else 0.0,
    )
