"""Build a hierarchical table (every marginal total along every hierarchy) from microdata.

A hierarchy is given in ARX table form: one row per finest code, first column the finest code,
each next column one level up, the last column `*` (the total). The built table is dense: the
full cross product of all codes of all dimensions, so every total and every empty cell exists
(the audit needs the empty cells: they are published zeros the attacker knows).

Per cell we keep the weighted sum (`value`), the number of contributing records (`count`) and
the largest contributions (`top`, descending), which is all the primary rules need. Totals are
aggregated from children level by level (never from the microdata again), so the table is
additive by construction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from primex.errors import PrimexError

TOTAL = "*"


@dataclass
class DimensionHierarchy:
    """One dimension's codes as a tree. Codes are ordered root first, then depth first, so a
    pivot reads naturally; `parent[i]` is -1 for the root."""

    name: str
    codes: list[str]
    parent: np.ndarray
    children: list[list[int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.codes)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.codes)}

    @property
    def leaves(self) -> list[int]:
        return [i for i, ch in enumerate(self.children) if not ch]

    def depth(self) -> np.ndarray:
        d = np.zeros(self.size, dtype=np.int64)
        for i in range(self.size):  # codes are ordered parents before children
            if self.parent[i] >= 0:
                d[i] = d[self.parent[i]] + 1
        return d

    def subtree(self, i: int) -> list[int]:
        out, stack = [], [i]
        while stack:
            j = stack.pop()
            out.append(j)
            stack.extend(self.children[j])
        return sorted(out)

    @classmethod
    def flat(cls, name: str, values: Sequence[str]) -> DimensionHierarchy:
        """A one-level hierarchy: every value directly under `*`."""
        return cls.from_paths(name, [[str(v), TOTAL] for v in sorted(set(map(str, values)))])

    @classmethod
    def from_frame(cls, name: str, frame: pd.DataFrame) -> DimensionHierarchy:
        """Parse the ARX table form (first column finest code, ..., last column `*`)."""
        if frame.shape[1] < 1 or frame.shape[0] < 1:
            raise PrimexError(
                "hierarchy is empty", where=f"hierarchies[{name!r}]",
                hint="give one row per finest code: code, parent, ..., '*'",
            )
        paths: list[list[str]] = []
        for r, row in enumerate(frame.itertuples(index=False)):
            vals = [str(v) for v in row]
            if any(v in ("", "nan", "None", "<NA>") for v in vals):
                raise PrimexError(
                    f"row {r + 1} has an empty level", where=f"hierarchies[{name!r}]",
                    hint="every level must be filled; repeat a code to skip a level",
                )
            if vals[-1] != TOTAL:
                vals.append(TOTAL)
            paths.append(vals)
        return cls.from_paths(name, paths)

    @classmethod
    def from_paths(cls, name: str, paths: list[list[str]]) -> DimensionHierarchy:
        parent_of: dict[str, str | None] = {TOTAL: None}
        for path in paths:
            # A code repeated at consecutive levels (e.g. Brussels: province = region) is the
            # same node: collapse it so no cell equals its only child under two names.
            dedup = [c for k, c in enumerate(path) if k == 0 or c != path[k - 1]]
            for child, par in itertools.pairwise(dedup):
                if child == TOTAL:
                    raise PrimexError(
                        f"'{TOTAL}' appears below the top level", where=f"hierarchies[{name!r}]",
                        hint=f"'{TOTAL}' is reserved for the total (last column)",
                    )
                old = parent_of.get(child)
                if child in parent_of and old != par:
                    raise PrimexError(
                        f"code {child!r} has two parents ({old!r} and {par!r})",
                        where=f"hierarchies[{name!r}]",
                        hint="a code may appear under one parent only; rename one of them",
                    )
                parent_of[child] = par
        kids: dict[str, list[str]] = {c: [] for c in parent_of}
        for c, p in parent_of.items():
            if p is not None:
                kids[p].append(c)
        codes: list[str] = []
        stack = [TOTAL]
        while stack:  # depth-first, children in sorted order
            c = stack.pop()
            codes.append(c)
            stack.extend(sorted(kids[c], reverse=True))
        idx = {c: i for i, c in enumerate(codes)}
        parent = np.array([-1 if parent_of[c] is None else idx[parent_of[c]] for c in codes])
        children = [[idx[k] for k in sorted(kids[c])] for c in codes]
        return cls(name=name, codes=codes, parent=parent, children=children)


def hierarchies_from_sdctable(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """sdcTable's @-level hierarchy file (columns dim, levels, codes; `@` = total,
    `@@` one level down, ...) -> one ARX-form hierarchy per dimension (finest code, its
    parent, ..., `*`), so tables defined for sdcTable can be protected here as they are."""
    out = {}
    for dim, g in df.groupby("dim", sort=False):
        stack: list[str] = []
        paths = []
        for lv, code in zip(g["levels"], g["codes"], strict=True):
            stack = [*stack[: len(lv) - 1], code]
            if len(lv) > 1:
                paths.append(stack[1:])
        parents = {tuple(p[:-1]) for p in paths}
        out[dim] = pd.DataFrame([[*reversed(p), "*"] for p in paths if tuple(p) not in parents])
    return out


@dataclass
class Table:
    """A dense hierarchical table. Cell arrays are flat in C order over `shape`."""

    dims: list[DimensionHierarchy]
    value: np.ndarray
    count: np.ndarray
    top: np.ndarray  # (n_cells, n_top) largest contributions, descending
    magnitude: bool

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(h.size for h in self.dims)

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.shape))

    def coords(self) -> tuple[np.ndarray, ...]:
        return np.unravel_index(np.arange(self.n_cells), self.shape)

    def frame(self) -> pd.DataFrame:
        cols = {}
        for h, c in zip(self.dims, self.coords(), strict=True):
            cols[h.name] = pd.Categorical.from_codes(c, categories=h.codes)
        df = pd.DataFrame(cols)
        df["value"] = self.value
        df["count"] = self.count
        return df

    def equations(self) -> sp.csr_matrix:
        """Additivity: one row per (non-leaf code, combination of the other dims' codes),
        +1 on the total and -1 on each child; A @ value == 0."""
        return table_equations(self.dims)


def table_equations(dims: list[DimensionHierarchy]) -> sp.csr_matrix:
    shape = tuple(h.size for h in dims)
    n = int(np.prod(shape))
    grid = np.arange(n).reshape(shape)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    n_rows = 0
    for d, h in enumerate(dims):
        moved = np.moveaxis(grid, d, 0)  # (size_d, rest...)
        for p, kids in enumerate(h.children):
            if not kids:
                continue
            tot = moved[p].ravel()
            m = tot.size
            r = np.arange(n_rows, n_rows + m)
            rows.append(r)
            cols.append(tot)
            vals.append(np.ones(m))
            for k in kids:
                rows.append(r)
                cols.append(moved[k].ravel())
                vals.append(-np.ones(m))
            n_rows += m
    if not rows:
        return sp.csr_matrix((0, n))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n)
    )


def _hierarchy_for(
    name: str, column: pd.Series, hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None
) -> DimensionHierarchy:
    given = (hierarchies or {}).get(name)
    if given is None:
        return DimensionHierarchy.flat(name, column.astype(str).unique().tolist())
    if isinstance(given, DimensionHierarchy):
        return given
    if not isinstance(given, pd.DataFrame):
        raise PrimexError(
            f"hierarchy must be a DataFrame, got {type(given).__name__}",
            where=f"hierarchies[{name!r}]",
            hint="pass the ARX table form: first column finest code, ..., last column '*'",
        )
    return DimensionHierarchy.from_frame(name, given)


def build_table(
    microdata: pd.DataFrame,
    dimensions: Sequence[str],
    measure: str | None = None,
    weight: str | None = None,
    hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None = None,
    n_top: int = 2,
) -> Table:
    """Aggregate microdata (one row = one contributor) into a dense hierarchical table."""
    if not isinstance(microdata, pd.DataFrame):
        raise PrimexError("microdata must be a pandas DataFrame", where="protect_table")
    dimensions = list(dimensions)
    if not dimensions:
        raise PrimexError("no dimensions given", where="dimensions", hint="e.g. ['commune', 'age']")
    if len(set(dimensions)) != len(dimensions):
        raise PrimexError("a dimension is listed twice", where="dimensions")
    for col in [*dimensions, *(c for c in (measure, weight) if c)]:
        if col not in microdata.columns:
            raise PrimexError(
                f"column {col!r} not in the microdata", where="microdata",
                hint=f"columns are: {', '.join(map(str, microdata.columns[:20]))}",
            )
    for extra in hierarchies or {}:
        if extra not in dimensions:
            raise PrimexError(
                f"hierarchy given for {extra!r}, which is not a dimension", where="hierarchies"
            )
    dims = [_hierarchy_for(d, microdata[d], hierarchies) for d in dimensions]
    n = len(microdata)
    leaf_idx = []
    for h in dims:
        col = microdata[h.name]
        if col.isna().any():
            raise PrimexError(
                f"{int(col.isna().sum())} record(s) have no value", where=f"microdata[{h.name!r}]",
                hint="map missing values to an explicit code (e.g. 'unknown') in the data and "
                "the hierarchy, or filter them out",
            )
        index = h.index
        leafset = set(h.leaves)
        codes = col.astype(str).map(index)
        bad = codes.isna() | ~codes.fillna(-1).astype(np.int64).isin(leafset)
        if bad.any():
            examples = sorted(set(col[bad].astype(str)))[:5]
            raise PrimexError(
                f"{int(bad.sum())} record(s) have codes that are not finest codes of the "
                f"hierarchy, e.g. {examples}", where=f"microdata[{h.name!r}]",
                hint="add them to the hierarchy's first column, or recode the data",
            )
        leaf_idx.append(codes.to_numpy(dtype=np.int64))
    if measure is None:
        x = np.ones(n)
    else:
        x = _numeric(microdata, measure)
        if (x < 0).any():
            raise PrimexError(
                f"{int((x < 0).sum())} record(s) have a negative {measure!r}",
                where=f"microdata[{measure!r}]",
                hint="dominance and p% rules need non-negative contributions: tabulate "
                "positive and negative parts as two measures, or shift the variable",
            )
    if weight is not None:
        w = _numeric(microdata, weight)
        if (w < 0).any():
            raise PrimexError("negative weights", where=f"microdata[{weight!r}]")
        x = x * w
    shape = tuple(h.size for h in dims)
    n_cells = int(np.prod(shape))
    cell = np.ravel_multi_index(tuple(leaf_idx), shape) if n else np.zeros(0, dtype=np.int64)
    value = np.bincount(cell, weights=x, minlength=n_cells)
    count = np.bincount(cell, minlength=n_cells).astype(np.int64)
    n_top = max(1, int(n_top))
    top = np.zeros((n_cells, n_top))
    if n:
        order = np.lexsort((-x, cell))
        cs, xs = cell[order], x[order]
        first = np.r_[0, np.flatnonzero(np.diff(cs)) + 1]
        starts = np.repeat(first, np.diff(np.r_[first, cs.size]))
        rank = np.arange(cs.size) - starts
        keep = rank < n_top
        top[cs[keep], rank[keep]] = xs[keep]
    value, count, top = _aggregate(dims, value, count, top)
    return Table(dims=dims, value=value, count=count, top=top, magnitude=measure is not None)


def _numeric(df: pd.DataFrame, col: str) -> np.ndarray:
    s = pd.to_numeric(df[col], errors="coerce")
    bad = s.isna()
    if bad.any():
        raise PrimexError(
            f"{int(bad.sum())} record(s) have a missing or non-numeric value",
            where=f"microdata[{col!r}]",
            hint="missing amounts are not guessed: impute or filter them before tabulating",
        )
    return s.to_numpy(dtype=np.float64)


def _aggregate(
    dims: list[DimensionHierarchy], value: np.ndarray, count: np.ndarray, top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill every total from its children, one dimension at a time, deepest level first."""
    shape = tuple(h.size for h in dims)
    k = top.shape[1]
    v = value.reshape(shape)
    c = count.reshape(shape)
    t = top.reshape((*shape, k))
    for d, h in enumerate(dims):
        depth = h.depth()
        for p in sorted((i for i in range(h.size) if h.children[i]), key=lambda i: -depth[i]):
            kids = h.children[p]
            sl = [slice(None)] * len(shape)
            sl[d] = p
            v[tuple(sl)] = np.take(v, kids, axis=d).sum(axis=d)
            c[tuple(sl)] = np.take(c, kids, axis=d).sum(axis=d)
            stacked = np.concatenate(
                [np.take(t, [j], axis=d).squeeze(axis=d) for j in kids], axis=-1
            )
            t[tuple(sl)] = -np.sort(-stacked, axis=-1)[..., :k]
    return v.ravel(), c.ravel(), t.reshape(-1, k)


def record_cells(table: Table, microdata: pd.DataFrame) -> np.ndarray:
    """The finest cell of each record (the ledger rolls memberships up from it)."""
    idx = [microdata[h.name].astype(str).map(h.index).to_numpy(dtype=np.int64)
           for h in table.dims]
    return np.ravel_multi_index(tuple(idx), table.shape)
