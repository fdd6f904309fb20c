"""The cell-key method for frequency tables (ABS / tau-Argus / sdcTools cellKey).

* Record key: HMAC-SHA-256(key, the person's key column), the first 52 bits as a fraction in
  [0, 1). The protection step passes the SPP record key (stable across requests, unlike
  per-project pseudonyms), so the same person has the same record key in every request and
  every quarter (as long as the key is the same), unlike cellKey's random uniforms.
* Cell key: the fractional part of the sum of the record keys of the cell's records. The sum
  runs over exact integers (52-bit numerators mod 2^52), so the cell key does not depend on
  the order of the records or on float rounding.
* Perturbation table (ptable): for an original count i, a distribution over noise v in
  [-D, D] with mean 0, variance V, i + v >= 0 and i + v not in 1..js. Among all such
  distributions we take the one of maximum entropy, p(v) ∝ exp(a v + b v^2) (the form
  sdcTools' `ptable` solves for), fitted by nested bisection. Rows with i > D + js are all
  the same (i is capped there). Where the support makes V impossible (small i), we keep the
  mean at 0 and come as close to V as the support allows; the ptable reports each row's
  actual variance.
* Lookup: the cell's row, cumulative probabilities in increasing v; the noise is the v whose
  interval holds the cell key. The same cell (same records) always gets the same noise.
* Margins: every cell, totals included, is perturbed independently from its own cell key
  (the tau-Argus and cellKey convention), so published margins need not add up exactly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.params import CellKeyPolicy, build
from primex.sdc.tables.build import DimensionHierarchy, build_table, record_cells
from primex.sdc.tables.result import ProtectedTable

_BITS = 52
_MOD = 1 << _BITS


@dataclass(frozen=True)
class CellKeyParams:
    """The secret record-key key and the perturbation table's parameters (no defaults)."""

    key: bytes
    policy: CellKeyPolicy

    def __post_init__(self) -> None:
        if not isinstance(self.key, bytes) or len(self.key) < 16:
            raise PrimexError("key must be at least 16 bytes", where="cellkey.key")

    @property
    def D(self) -> int:
        return self.policy.D

    @property
    def V(self) -> float:
        return self.policy.V

    @property
    def js(self) -> int:
        return self.policy.js

    @classmethod
    def parse(cls, params: dict[str, Any] | CellKeyParams | None) -> CellKeyParams:
        if isinstance(params, CellKeyParams):
            return params
        if not params or "key" not in params:
            raise PrimexError("the cell-key method needs a secret key", where="cellkey.key",
                              hint="pass cellkey={'key': <32 random bytes>, 'D': 2, 'V': 1, "
                              "'js': 2}")
        unknown = set(params) - {"key", "D", "V", "js"}
        if unknown:
            raise PrimexError(f"unknown parameter(s) {sorted(unknown)}", where="cellkey",
                              hint="known: key, D, V, js")
        key = params["key"]
        if not isinstance(key, bytes) or len(key) < 16:
            raise PrimexError("key must be at least 16 bytes", where="cellkey.key")
        policy = build(CellKeyPolicy, {k: v for k, v in params.items() if k != "key"},
                       where="cellkey")
        return cls(key=key, policy=policy)


def record_keys(pseudonyms: Sequence[str] | pd.Series, key: bytes) -> np.ndarray:
    """52-bit integer record keys (divide by 2^52 for the fraction in [0, 1))."""
    out = np.empty(len(pseudonyms), dtype=np.int64)
    for i, p in enumerate(pseudonyms):
        digest = hmac.new(key, str(p).encode("utf-8"), hashlib.sha256).digest()
        out[i] = int.from_bytes(digest[:8], "big") >> (64 - _BITS)
    return out


def _fit_row(support: np.ndarray, V: float) -> np.ndarray:
    """Maximum-entropy p on `support` with mean 0 and variance as close to V as possible."""
    if support.size == 1 or not ((support < 0).any() and (support > 0).any()):
        p = np.zeros(support.size)
        p[np.argmin(np.abs(support))] = 1.0
        return p
    s = support.astype(np.float64)

    def dist(a: float, b: float) -> np.ndarray:
        e = a * s + b * s * s
        e -= e.max()
        w = np.exp(e)
        return w / w.sum()

    span = float(np.abs(s).max())

    def zero_mean(b: float) -> np.ndarray:
        # |a| must be able to outweigh b*v^2 across the support.
        lo, hi = -50.0 - 2 * abs(b) * span, 50.0 + 2 * abs(b) * span
        for _ in range(60):  # mean is increasing in a
            mid = (lo + hi) / 2
            if dist(mid, b) @ s > 0:
                hi = mid
            else:
                lo = mid
        return dist((lo + hi) / 2, b)

    lo, hi = -50.0, 50.0
    for _ in range(60):  # variance (at mean 0) is increasing in b
        mid = (lo + hi) / 2
        p = zero_mean(mid)
        if p @ (s * s) > V:
            hi = mid
        else:
            lo = mid
    return zero_mean((lo + hi) / 2)


def cellkey_ptable(D: int, V: float, js: int) -> pd.DataFrame:
    """Rows (i, v, p, p_lb, p_ub) for i = 0 .. D + js + 1; i is capped at the last row."""
    rows = []
    for i in range(D + js + 2):
        v = np.arange(-D, D + 1)
        t = i + v
        ok = (t >= 0) & ~((t >= 1) & (t <= js))
        if i == 0:
            ok = v == 0  # an empty cell stays empty
        sup = v[ok]
        p = _fit_row(sup, V)
        p = np.where(p < 1e-12, 0.0, p)
        p = p / p.sum()
        cum = np.cumsum(p)
        lb = np.r_[0.0, cum[:-1]]
        for vv, pp, a, b in zip(sup, p, lb, cum, strict=True):
            if pp > 0:
                rows.append((i, int(vv), float(pp), float(a), float(b)))
    return pd.DataFrame(rows, columns=["i", "v", "p", "p_lb", "p_ub"])


def perturb(counts: np.ndarray, ckeys: np.ndarray, ptable: pd.DataFrame) -> np.ndarray:
    """Noise for each cell from its count and cell key (a fraction in [0, 1))."""
    imax = int(ptable["i"].max())
    i = np.minimum(counts.astype(np.int64), imax)
    noise = np.zeros(counts.size, dtype=np.int64)
    for row_i, g in ptable.groupby("i"):
        m = i == row_i
        if not m.any():
            continue
        ub = g["p_ub"].to_numpy()
        ub[-1] = 1.0 + 1e-12  # the last interval closes the unit interval
        k = np.searchsorted(ub, ckeys[m], side="right")
        noise[m] = g["v"].to_numpy()[np.minimum(k, ub.size - 1)]
    return noise


def protect_cellkey(
    microdata: pd.DataFrame,
    dimensions: Sequence[str],
    hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None,
    pseudonym: str | None,
    params: dict[str, Any] | CellKeyParams | None,
    weight: str | None = None,
    measure: str | None = None,
) -> ProtectedTable:
    if measure is not None or weight is not None:
        raise PrimexError("the cell-key method here protects frequency tables only",
                          where="method=cellkey",
                          hint="drop measure/weight, or use method='suppression'")
    if pseudonym is None or pseudonym not in microdata.columns:
        raise PrimexError("the cell-key method needs the pseudonym column", where="pseudonym",
                          hint="pass pseudonym='<column with the keyed pseudonym>'")
    p = CellKeyParams.parse(params)
    if microdata[pseudonym].isna().any():
        raise PrimexError("some records have no pseudonym", where=f"microdata[{pseudonym!r}]")
    table = build_table(microdata, dimensions, hierarchies=hierarchies)
    keys = record_keys(microdata[pseudonym].astype(str).tolist(), p.key)
    # Sum record keys per cell modulo 2^52, exactly: leaf sums, then every total from its
    # leaves with the same aggregation as the counts (it only adds).
    leaf = record_cells(table, microdata)
    hi_, lo_ = keys >> 26, keys & ((1 << 26) - 1)  # split so float64 sums stay exact
    sums = []
    for part in (hi_, lo_):
        s = np.bincount(leaf, weights=part.astype(np.float64), minlength=table.n_cells)
        sums.append(_aggregate_sum(table, s))
    total = (np.round(sums[0]).astype(np.int64) % (1 << 26) * (1 << 26)
             + np.round(sums[1]).astype(np.int64)) % _MOD
    ckey = total.astype(np.float64) / _MOD
    ptab = cellkey_ptable(p.D, p.V, p.js)
    noise = perturb(table.count, ckey, ptab)
    published = table.count + noise
    frame = table.frame()
    for h in table.dims:
        frame[h.name] = frame[h.name].astype(str)
    cells = frame[[*dimensions]].copy()
    cells["value"] = published.astype(np.int64)
    cells["count"] = published.astype(np.int64)
    cells["status"] = "s"
    cells["reason"] = ""
    mean_abs = float(np.abs(noise).mean()) if noise.size else 0.0
    bad = ((published >= 1) & (published <= p.js)) | (published < 0)
    report = {
        "passed": not bool(bad.any()),
        "method": "cellkey",
        "dimensions": list(dimensions),
        "measure": None,
        "cells": int(table.n_cells),
        "cellkey": {
            "D": p.D, "V": p.V, "js": p.js,
            "mean_absolute_perturbation": round(mean_abs, 6),
            "cells_changed": int((noise != 0).sum()),
            "max_abs_noise": int(np.abs(noise).max()) if noise.size else 0,
            "margins": "perturbed independently (not additive)",
            "record_key": f"HMAC-SHA-256(key, {pseudonym}), first 52 bits",
        },
    }
    return ProtectedTable(cells=cells, audit=pd.DataFrame(), report=report,
                          dimensions=list(dimensions), measure=None, table=table,
                          record_cells=leaf)


def _aggregate_sum(table: Any, leaf_values: np.ndarray) -> np.ndarray:
    shape = table.shape
    v = leaf_values.reshape(shape).copy()
    for d, h in enumerate(table.dims):
        depth = h.depth()
        for par in sorted((i for i in range(h.size) if h.children[i]), key=lambda i: -depth[i]):
            sl = [slice(None)] * len(shape)
            sl[d] = par
            v[tuple(sl)] = np.take(v, h.children[par], axis=d).sum(axis=d)
    return v.ravel()
