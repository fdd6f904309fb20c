"""Generalisation hierarchies in ARX's table form.

A hierarchy is a table whose first column lists every original value and each next column
that value generalised one level up; the last column is usually all `*`.  Level 0 is the
original value.  Every level must be a function of the level below (two values merged at
level l stay merged above it), which is what makes k-anonymity monotone over the lattice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from primex.errors import PrimexError


def _norm(v: object) -> str:
    """Text form used to match data values with hierarchy values (5, 5.0 and '5' agree)."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v).strip()


@dataclass(frozen=True)
class GeneralisationHierarchy:
    """One variable's generalisation levels; `table` is the ARX-form table as text."""

    name: str
    table: pd.DataFrame

    @property
    def height(self) -> int:
        """Highest level (number of columns - 1)."""
        return self.table.shape[1] - 1

    @classmethod
    def from_frame(
        cls, name: str, table: pd.DataFrame, where: str | None = None
    ) -> GeneralisationHierarchy:
        where = where or f"hierarchy {name}"
        if table.shape[0] == 0 or table.shape[1] == 0:
            raise PrimexError("hierarchy table is empty", where=where,
                              hint="first column: every original value; next columns: levels")
        t = table.copy()
        t.columns = [f"level{i}" for i in range(t.shape[1])]
        t = t.map(_norm)
        dup = t["level0"][t["level0"].duplicated()]
        if len(dup):
            raise PrimexError(f"value {dup.iloc[0]!r} is listed twice in the first column",
                              where=f"{where}:row {int(dup.index[0]) + 1}",
                              hint="list each original value once")
        for j in range(1, t.shape[1]):
            # Level j must be a function of level j-1, otherwise generalisation is not nested.
            per = t.groupby(f"level{j - 1}", sort=False)[f"level{j}"].nunique()
            if (per > 1).any():
                bad = per[per > 1].index[0]
                raise PrimexError(
                    f"value {bad!r} at level {j - 1} generalises to several values at level {j}",
                    where=where, hint="each level must merge groups of the level below")
        return cls(name, t.reset_index(drop=True))

    @classmethod
    def from_text(cls, name: str, text: str, where: str) -> GeneralisationHierarchy:
        """ARX hierarchy CSV text: no header, `;` (ARX) or `,` separated. `where` names the
        file in errors (the caller reads it: this library touches no file)."""
        first = text.splitlines()[0] if text else ""
        sep = ";" if first.count(";") >= first.count(",") and ";" in first else ","
        rows = [line.split(sep) for line in text.splitlines() if line.strip()]
        if not rows:
            raise PrimexError("hierarchy file is empty", where=where,
                              hint="one line per original value: value;level1;...;*")
        width = len(rows[0])
        for i, r in enumerate(rows):
            if len(r) != width:
                raise PrimexError(f"line has {len(r)} fields, expected {width}",
                                  where=f"{where}:{i + 1}", hint="every line needs every level")
        return cls.from_frame(name, pd.DataFrame(rows, dtype=str), where=where)

    @classmethod
    def from_functions(
        cls, name: str, values: Iterable[object], *levels: Callable[[object], object]
    ) -> GeneralisationHierarchy:
        """Build from original values and one function per level (a final `*` is added)."""
        vals = list(dict.fromkeys(values))
        cols = {"level0": vals}
        cur = vals
        for i, fn in enumerate(levels, start=1):
            cur = [fn(v) for v in vals]
            cols[f"level{i}"] = cur
        if not cur or any(_norm(c) != "*" for c in cur):
            cols[f"level{len(cols)}"] = ["*"] * len(vals)
        return cls.from_frame(name, pd.DataFrame(cols))

    @classmethod
    def flat(cls, name: str, values: Iterable[object]) -> GeneralisationHierarchy:
        """value -> * (the only hierarchy of a variable without a catalogue one)."""
        return cls.from_functions(name, values)

    def encode(self, col: pd.Series) -> np.ndarray:
        """Row index into the table for each data value (-1 = missing)."""
        values = col.to_numpy() if pd.api.types.is_integer_dtype(col.dtype) and not isinstance(
            col.dtype, pd.CategoricalDtype) else None
        if values is not None and values.dtype.kind in "iu" and len(values):
            lo, hi = int(values.min()), int(values.max())
            if hi - lo < min(4 * len(values), 1 << 16):
                # small integer range: look every value of the range up once, then one
                # gather; only if a data value has no row are the present values listed
                table = pd.Index(self.table["level0"])
                lookup = table.get_indexer(
                    pd.Index([_norm(v) for v in range(lo, hi + 1)])).astype(np.int32)
                out = lookup[values - lo if lo else values]
                if (out < 0).any():
                    codes = (values - lo).astype(np.int64)
                    present = np.flatnonzero(np.bincount(codes, minlength=hi - lo + 1))
                    self._positions(list(present + lo))  # raises, naming the values
                return out
            if hi - lo < max(4 * len(values), 1 << 16):
                # wider range: map each present value once, then one gather
                codes = (values - lo).astype(np.int64)
                present = np.flatnonzero(np.bincount(codes, minlength=hi - lo + 1))
                pos = self._positions(list(present + lo))
                lookup = np.full(hi - lo + 1, -1, dtype=np.int32)
                lookup[present] = pos
                return lookup[codes]
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        pos = self._positions(list(uniques))
        idx = np.where(codes >= 0, pos[np.maximum(codes, 0)] if len(pos) else -1, -1)
        return idx.astype(np.int32)

    def _positions(self, uniques: list[object]) -> np.ndarray:
        keys = pd.Index([_norm(u) for u in uniques])
        pos = pd.Index(self.table["level0"]).get_indexer(keys)
        if (pos < 0).any():
            missing = [str(u) for u, p in zip(uniques, pos, strict=True) if p < 0]
            raise PrimexError(
                f"{len(missing)} value(s) of {self.name!r} are not in its hierarchy, "
                f"e.g. {', '.join(missing[:5])}",
                where=f"hierarchy {self.name}",
                hint="add every value of the data to the hierarchy's first column")
        return pos.astype(np.int32)

    def level_codes(self, level: int) -> tuple[np.ndarray, list[str]]:
        """(code at `level` of each table row, labels of those codes)."""
        codes, labels = pd.factorize(self.table[f"level{level}"], sort=False)
        return codes.astype(np.int32), [str(x) for x in labels]

    def level_loss(self, level: int) -> np.ndarray:
        """Per table row: (leaves in its group at `level` - 1) / (leaves - 1), in [0, 1]."""
        n = len(self.table)
        if n <= 1:
            return np.zeros(n)
        codes, _ = self.level_codes(level)
        size = np.bincount(codes)[codes]
        return (size - 1) / (n - 1)


def resolve(
    quasi_identifiers: Sequence[str],
    hierarchies: dict[str, object] | None,
    df: pd.DataFrame,
) -> list[GeneralisationHierarchy]:
    """One hierarchy per QI: a GeneralisationHierarchy, an ARX table, or value -> * if absent."""
    out: list[GeneralisationHierarchy] = []
    hierarchies = hierarchies or {}
    # Hierarchies of variables that are not QIs here are ignored (one dict can serve many runs).
    for q in quasi_identifiers:
        h = hierarchies.get(q)
        if h is None:
            values = list(df[q].dropna().unique())
            # an all-missing QI stays missing
            out.append(GeneralisationHierarchy.flat(q, values or ["*"]))
        elif isinstance(h, GeneralisationHierarchy):
            out.append(h)
        elif isinstance(h, pd.DataFrame):
            out.append(GeneralisationHierarchy.from_frame(q, h))
        else:
            raise PrimexError(f"hierarchy of {q!r} has an unsupported type {type(h).__name__}",
                              where=f"hierarchies.{q}",
                              hint="give a DataFrame (ARX form) or a GeneralisationHierarchy "
                                   "(primex.protection.files.read_hierarchy_csv reads a CSV)")
    return out
