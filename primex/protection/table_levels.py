"""Generalise table dimensions along the catalogue's hierarchies before suppressing cells.

A table `[age, region, sex]` at single years of age has most of its cells below the minimum
count: suppressing them all publishes little. A statistician would band age first. Here,
per table, while fewer than TARGET of the non-empty inner cells reach the minimum count, the
dimension whose next (non-total) level merges the most categories is coarsened one level;
the finest combination found is used, and the report says which level each dimension has.
A dimension is never generalised to its total: the table keeps every requested breakdown
(it may still have many suppressed cells, which the report shows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from primex.catalogue import load_catalogue
from primex.errors import PrimexError
from primex.protection.microdata import from_catalogue

# Share of non-empty inner cells that must reach the minimum count ("most cells survive").
TARGET = 0.75


@dataclass(frozen=True)
class TableLevels:
    dimensions: list[str]  # the columns the table is built on (level names where generalised)
    generalised: dict[str, str]  # requested dimension -> level used
    surviving: float  # share of non-empty inner cells >= min_count at those levels


def _share(data: pd.DataFrame, dims: Sequence[str], min_count: int) -> float:
    sizes = data.groupby(list(dims), observed=True, dropna=False).size()
    return float((sizes >= min_count).mean()) if len(sizes) else 1.0


def choose_levels(
    data: pd.DataFrame, dims: Sequence[str], min_count: int, fixed: dict[str, str] | None = None
) -> tuple[pd.DataFrame, TableLevels]:
    """(data with a column per generalised level added, the levels chosen). `fixed`: levels
    imposed by the officer's conditions ({dimension: level name}), applied first."""
    cat = load_catalogue()
    cols = {d: d for d in dims}
    levels = {d: 0 for d in dims}
    names: dict[str, list[str]] = {}
    coded: dict[str, tuple[np.ndarray, list[list[str]]]] = {}
    out = data
    for d in dims:
        var = cat.get(d) if d in cat else None
        if var is None or var.hierarchy is None:
            continue
        values = data[d].map(var.format_value)
        try:
            h = from_catalogue(d, values[values != ""].unique())
        except PrimexError:
            continue  # no usable hierarchy: the dimension stays as it is
        leaf = h.encode(values.where(values != "", None))
        per_level = []
        for lev in range(h.height + 1):
            codes, labels = h.level_codes(lev)
            lab = np.array([*labels, None], dtype=object)
            per_level.append(lab[np.where(leaf >= 0, codes[leaf], len(labels))])
        names[d] = list(var.hierarchy.levels)
        coded[d] = (leaf, per_level)  # type: ignore[assignment]

    def use(d: str, lev: int) -> None:
        nonlocal out
        levels[d] = lev
        name = names[d][lev] if lev else d
        if lev and name not in out.columns:
            out = out.assign(**{name: coded[d][1][lev]})
        cols[d] = name

    for d, level in (fixed or {}).items():
        if d not in coded or level not in names[d][:-1]:
            raise PrimexError(f"{level!r} is not a level of {d!r} below its total",
                              where="approval conditions",
                              hint=f"one of {', '.join(names.get(d, [d])[:-1])}")
        use(d, names[d].index(level))
    share = _share(out, [cols[d] for d in dims], min_count)
    while share < TARGET:
        best: tuple[int, str] | None = None
        for d in coded:
            if d in (fixed or {}):
                continue
            nxt = levels[d] + 1
            if nxt >= len(names[d]) - 1:
                continue  # never the total
            merged = len(pd.unique(coded[d][1][levels[d]])) - len(pd.unique(coded[d][1][nxt]))
            if best is None or merged > best[0]:
                best = (merged, d)
        if best is None:
            break
        use(best[1], levels[best[1]] + 1)
        share = _share(out, [cols[d] for d in dims], min_count)
    generalised = {d: cols[d] for d in dims if cols[d] != d}
    return out, TableLevels([cols[d] for d in dims], generalised, share)
