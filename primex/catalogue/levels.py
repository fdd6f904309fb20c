"""Hierarchy levels as variables of their own: `age_10y`, `spell_duration_band`, ...

A researcher may ask for a level of a catalogue hierarchy instead of the variable itself
(issue 16: "age bands are enough"). Such a level behaves like a category variable whose
codes are the level's labels (`20-29`), whose hierarchy is the rest of the base variable's
ladder (`age_5y` → `age_10y` → total) and whose role, source and inputs are the base
variable's. Every step then handles it through the catalogue like any other variable: the
extraction maps the base value to its label, disclosure control generalises it further, the
codebook labels it.

Only levels with a fixed list of labels can be variables: the base variable needs a known
domain (its categories, a numeric `domain`, the REFNIS list). `entry_year` or `amount_250`
depend on the data and are chosen by the disclosure step instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from primex.catalogue.model import CategoryValue, HierarchySpec, Variable
from primex.errors import PrimexError


class _Catalogue(Protocol):  # primex.catalogue.Catalogue (which imports this module)
    def __contains__(self, name: object) -> bool: ...
    def get(self, name: str) -> Variable: ...
    def level(self, name: str) -> Level | None: ...


@dataclass(frozen=True)
class Level:
    """A level of a base variable's hierarchy (never the variable itself or the total)."""

    base: Variable
    name: str
    index: int  # position in base.hierarchy.levels (1 .. height-1)


def levels_of(variable: Variable) -> tuple[str, ...]:
    """The levels below the total (the variable itself first): what may be requested."""
    if variable.hierarchy is None:
        return (variable.name,)
    return tuple(variable.hierarchy.levels[:-1])


def as_variable(level: Level) -> Variable | None:
    """The level as a category variable, or None when its labels depend on the data."""
    from primex.catalogue import hierarchy

    base, h = level.base, level.base.hierarchy
    assert h is not None
    try:
        table = hierarchy.build(base)  # the base's whole domain
    except PrimexError:
        return None
    upper = list(h.levels[level.index:-1])  # this level and the coarser ones below total
    frame = table[upper].drop_duplicates(subset=[level.name], keep="first")
    mapping = table[upper].drop_duplicates()
    if len(mapping) != len(frame):  # a label with two parents: not a hierarchy of labels
        return None
    categories = tuple(
        CategoryValue(code=str(row[0]), label=str(row[0]), label_fr=str(row[0]),
                      label_nl=str(row[0]), parents=tuple(str(x) for x in row[1:]))
        for row in frame.itertuples(index=False)
    )
    inputs = base.inputs or ((f"{base.table}.{base.column}",) if base.column else ())
    return Variable(
        name=level.name, source=base.source, type="code", role=base.role,
        requestable=base.requestable,
        description=f"{base.description.rstrip('.')}, at the level `{level.name}` of its "
        f"hierarchy (groups of `{base.name}`).",
        label_fr=f"{base.label_fr} ({level.name})", label_nl=f"{base.label_nl} ({level.name})",
        table=base.table, derived=f"{base.name} at the hierarchy level {level.name}",
        inputs=inputs, unit=base.unit, categories=categories,
        hierarchy=HierarchySpec(method="categories", levels=(*upper, "total")),
    )


def conditions_on_columns(generalise: dict[str, str], columns: list[str],
                          catalogue: _Catalogue) -> dict[str, str]:
    """An officer's `VARIABLE=LEVEL` conditions ({age: age_10y}) on the columns of an
    extract, which may hold the variable or one of its levels (`age_5y`): {column: level}
    for every column still finer than the level the officer imposed. A column already at
    that level or coarser needs nothing."""
    out: dict[str, str] = {}
    for column in columns:
        if column not in catalogue:
            continue
        var = catalogue.get(column)
        level = catalogue.level(column)
        base = level.base if level is not None else var
        wanted = generalise.get(base.name)
        if wanted is None or base.hierarchy is None:
            continue
        ladder = list(base.hierarchy.levels)
        if wanted not in ladder:
            continue
        here = ladder.index(column) if column in ladder else 0
        if ladder.index(wanted) > here:
            out[column] = wanted
    return out
