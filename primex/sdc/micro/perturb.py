"""Perturbation of non-key variables: MDAV microaggregation, additive noise, PRAM.

All three are deterministic given `seed` (numpy default_rng); callers derive the seed from
the request so a re-run gives the same release.  Each returns the new data plus a report
dict with its parameters and utility figures (IL1s and eigen for continuous variables,
the share of changed values and the transition matrix for PRAM).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.micro.utility import eigen_utility, il1s, il1s_mean
from primex.sdc.params import PerturbationPolicy


def _numeric(df: pd.DataFrame, variables: Sequence[str]) -> np.ndarray:
    missing = [v for v in variables if v not in df.columns]
    if missing:
        raise PrimexError(f"variable(s) {missing!r} not in the data", where="variables",
                          hint="check the column names")
    try:
        return df[list(variables)].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise PrimexError("perturbation needs numeric variables", where="variables",
                          hint=f"convert {list(variables)} to numbers first") from exc


def _utility(x: np.ndarray, xm: np.ndarray) -> dict[str, float]:
    out = {"il1s": il1s(x, xm), "il1s_per_value": il1s_mean(x, xm)}
    out["eigen"] = eigen_utility(x, xm) if x.shape[1] > 1 else 0.0
    return out


def mdav_groups(x: np.ndarray, k: int) -> np.ndarray:
    """Group id per row by MDAV (Domingo-Ferrer & Mateo-Sanz) on standardised data.

    While >= 3k rows remain: take the row r farthest from the centroid and the row s
    farthest from r; each forms a group with its k-1 nearest remaining rows.  Then 2k..3k-1
    rows: one group around the farthest row, the rest together; fewer: one group.
    Quadratic in n (like sdcMicro's mdav): use it on extracts, not on whole registers.
    """
    n = len(x)
    z = (x - np.nanmean(x, axis=0)) / np.where(np.nanstd(x, axis=0) > 0, np.nanstd(x, axis=0), 1)
    z = np.nan_to_num(z)
    groups = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    gid = 0

    def take_around(idx_row: int, rem: np.ndarray) -> np.ndarray:
        d = ((z[rem] - z[idx_row]) ** 2).sum(axis=1)
        nearest = rem[np.argsort(d, kind="stable")[:k]]
        return nearest

    while len(remaining) >= 3 * k:
        c = z[remaining].mean(axis=0)
        r = remaining[np.argmax(((z[remaining] - c) ** 2).sum(axis=1))]
        s = remaining[np.argmax(((z[remaining] - z[r]) ** 2).sum(axis=1))]
        g1 = take_around(r, remaining)
        groups[g1] = gid
        gid += 1
        remaining = remaining[groups[remaining] < 0]
        g2 = take_around(s, remaining) if s in remaining else take_around(
            remaining[np.argmax(((z[remaining] - z[r]) ** 2).sum(axis=1))], remaining)
        groups[g2] = gid
        gid += 1
        remaining = remaining[groups[remaining] < 0]
    if len(remaining) >= 2 * k:
        c = z[remaining].mean(axis=0)
        r = remaining[np.argmax(((z[remaining] - c) ** 2).sum(axis=1))]
        g1 = take_around(r, remaining)
        groups[g1] = gid
        gid += 1
        remaining = remaining[groups[remaining] < 0]
    if len(remaining):
        groups[remaining] = gid
    return groups


def microaggregate(df: pd.DataFrame, variables: Sequence[str], k: int) -> tuple[
    pd.DataFrame, dict[str, Any]
]:
    """Replace each variable by its group mean over MDAV groups of at least k records."""
    if k < 2:
        raise PrimexError(f"aggregation level k must be >= 2, got {k}", where="k", hint="e.g. 3")
    x = _numeric(df, variables)
    if len(x) < k:
        raise PrimexError(f"{len(x)} records are fewer than k={k}", where="k",
                          hint="microaggregation needs at least k records")
    g = mdav_groups(x, k)
    xm = np.empty_like(x)
    for j in range(x.shape[1]):
        means = pd.Series(x[:, j]).groupby(g).transform("mean").to_numpy()
        xm[:, j] = np.where(np.isnan(x[:, j]), np.nan, means)
    out = df.copy()
    for j, v in enumerate(variables):
        out[v] = xm[:, j]
    sizes = np.bincount(g)
    rep = {"method": "mdav", "k": k, "variables": list(variables), "groups": len(sizes),
           "min_group_size": int(sizes.min()), **_utility(x, xm)}
    return out, rep


def add_noise(df: pd.DataFrame, variables: Sequence[str], noise: float, method: str,
              seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """sdcMicro-style noise: `additive` adds N(0, (noise/100 * sd_j)^2) to each variable;
    `correlated` adds N(0, noise/100 * Cov(x)), keeping the correlation structure."""
    if noise < 0:
        raise PrimexError(f"noise must be >= 0, got {noise}", where="noise",
                          hint="a percentage of the standard deviation, e.g. 150")
    x = _numeric(df, variables)
    rng = np.random.default_rng(seed)
    if method == "additive":
        sd = np.nanstd(x, axis=0, ddof=1)
        e = rng.standard_normal(x.shape) * (noise / 100.0) * sd
    elif method == "correlated":
        cov = pd.DataFrame(x).cov().to_numpy() * (noise / 100.0)
        e = rng.multivariate_normal(np.zeros(x.shape[1]), cov, size=len(x), method="eigh")
    else:
        raise PrimexError(f"unknown noise method {method!r}", where="method",
                          hint="use 'additive' or 'correlated'")
    xm = x + e
    out = df.copy()
    for j, v in enumerate(variables):
        out[v] = xm[:, j]
    rep = {"method": f"noise/{method}", "noise_pct": noise, "seed": seed,
           "variables": list(variables), **_utility(x, xm)}
    return out, rep


def pram_matrix(freq: np.ndarray, pd_min: float, alpha: float, invariant: bool,
                rng: np.random.Generator) -> np.ndarray:
    """sdcMicro's pram transition matrix: diagonal ~ U(pd, 1), the rest spread evenly; the
    invariant version is alpha * P Q + (1 - alpha) I with Q the Bayes reverse of P, so that
    the expected category frequencies are unchanged."""
    L = len(freq)
    if L == 1:
        return np.ones((1, 1))
    d = rng.uniform(pd_min, 1.0, size=L)
    P = np.repeat(((1 - d) / (L - 1))[:, None], L, axis=1)
    np.fill_diagonal(P, d)
    if not invariant:
        return P
    r = freq / freq.sum()
    Q = (P * r[:, None]).T / (r @ P)[:, None]  # Q[j, i] = P[i, j] r_i / sum_i r_i P[i, j]
    R = P @ Q
    return alpha * R + (1 - alpha) * np.eye(L)


def pram(df: pd.DataFrame, variable: str, pd_min: float, alpha: float, invariant: bool,
         seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Post-randomise a categorical variable (missing values stay missing)."""
    if variable not in df.columns:
        raise PrimexError(f"variable {variable!r} not in the data", where="variable",
                          hint="check the column name")
    if not 0 <= pd_min <= 1 or not 0 <= alpha <= 1:
        raise PrimexError("pd and alpha must be in [0, 1]", where="pram",
                          hint="sdcMicro defaults: pd=0.8, alpha=0.5")
    codes, cats = pd.factorize(df[variable], sort=True)
    rng = np.random.default_rng(seed)
    freq = np.bincount(codes[codes >= 0], minlength=len(cats)).astype(float)
    M = pram_matrix(freq, pd_min, alpha, invariant, rng)
    cum = np.cumsum(M, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(codes))
    new = codes.copy()
    ok = codes >= 0
    new[ok] = (u[ok, None] > cum[codes[ok]]).sum(axis=1)
    out = df.copy()
    out[variable] = pd.Series(pd.Categorical.from_codes(new, categories=cats),
                              index=df.index).astype(df[variable].dtype, errors="ignore")
    changed = int((new[ok] != codes[ok]).sum())
    rep = {"method": "pram", "variable": variable, "pd": pd_min, "alpha": alpha,
           "invariant": invariant, "seed": seed, "changed_values": changed,
           "changed_share": changed / max(int(ok.sum()), 1),
           "categories": [str(c) for c in cats], "transition_matrix": M.round(6).tolist(),
           "frequencies_before": freq.astype(int).tolist(),
           "frequencies_after": np.bincount(new[ok], minlength=len(cats)).astype(int).tolist()}
    return out, rep


PERTURBATION_METHODS = ("mdav", "noise", "correlated-noise", "pram")


def perturb_variables(
    df: pd.DataFrame,
    method: str,
    variables: Sequence[str],
    params: PerturbationPolicy,
    *,
    seed: int,
    where: str,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The one choice of perturbation method (the CLI and the protection step both call it):
    MDAV microaggregation (`params.mdav_k`), additive or correlated noise (`params.noise` %
    of the sd), or PRAM on each variable (`pram_pd`, `pram_alpha`, `pram_invariant`;
    variable j gets seed + j)."""
    if method == "mdav":
        out, rep = microaggregate(df, variables, params.mdav_k)
        return out, [rep]
    if method in ("noise", "correlated-noise"):
        kind = "additive" if method == "noise" else "correlated"
        out, rep = add_noise(df, variables, params.noise, kind, seed)
        return out, [rep]
    if method == "pram":
        reports = []
        for j, v in enumerate(variables):
            df, rep = pram(df, v, params.pram_pd, params.pram_alpha, params.pram_invariant,
                           (seed + j) % (1 << 63))
            reports.append(rep)
        return df, reports
    raise PrimexError(f"unknown perturbation method {method!r}", where=where,
                      hint=", ".join(PERTURBATION_METHODS))
