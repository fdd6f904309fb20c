"""Typed privacy parameters at the library's boundary: frozen, self-validating, no defaults.

As Tumult Analytics does with its privacy budgets, every parameter that decides how much is
disclosed is an explicit field of a frozen object, checked when the object is built; nothing
is filled in silently deep inside a function. The service policy (`primex.catalogue.policy`,
`policy.yaml`) is built from these classes and declares every field.

Each field also says which direction is *tighter* (more protective). `tighten()` is the one
implementation of the service's rule "a request or an officer may tighten a parameter, never
loosen it"; `is_looser()` is the same comparison for callers holding single values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal, TypeVar

from primex.errors import PrimexError

Direction = Literal["larger", "smaller"]
LARGER: Direction = "larger"
SMALLER: Direction = "smaller"
P = TypeVar("P", bound="Params")


def _param(tighter: Direction, low: float, high: float, *, integer: bool = False,
           open_low: bool = False, meaning: str = "") -> Any:
    return field(metadata={"tighter": tighter, "low": low, "high": high, "integer": integer,
                           "open_low": open_low, "meaning": meaning})


@dataclass(frozen=True)
class Params:
    """Base of every parameter object: range checks from the field metadata."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if "tighter" not in f.metadata:
                continue
            m = f.metadata
            where = f"{type(self).__name__}.{f.name}"
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or (isinstance(value, float) and not math.isfinite(value)):
                raise PrimexError(f"{f.name} must be a number, got {value!r}", where=where)
            if m["integer"] and not isinstance(value, int):
                raise PrimexError(f"{f.name} must be an integer, got {value!r}", where=where)
            below = value <= m["low"] if m["open_low"] else value < m["low"]
            if below or value > m["high"]:
                bracket = "(" if m["open_low"] else "["
                raise PrimexError(
                    f"{f.name} = {value} is outside {bracket}{m['low']:g}, {m['high']:g}]",
                    where=where, hint=m["meaning"] or None)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MicrodataPolicy(Params):
    """k-anonymity with local suppression, and distinct l-diversity."""

    k: int = _param(LARGER, 2, 10**9, integer=True,
                    meaning="every key combination is shared by at least k records")
    l: int = _param(LARGER, 1, 10**9, integer=True,  # noqa: E741 - the l of l-diversity
                    meaning="distinct sensitive values per equivalence class")
    max_suppression: float = _param(SMALLER, 0, 1,
                                    meaning="share of records that may have a value blanked")


@dataclass(frozen=True)
class Dominance(Params):
    """(n, k)-dominance: sensitive when the n largest contributions exceed k % of the cell."""

    n: int = _param(LARGER, 1, 50, integer=True)
    k: float = _param(SMALLER, 0, 100, open_low=True)


@dataclass(frozen=True)
class TablePolicy(Params):
    """Primary suppression rules of tables (secondary suppression protects them)."""

    min_count: int = _param(LARGER, 1, 10**9, integer=True,
                            meaning="a cell is published iff its count is at least min_count")
    dominance: Dominance
    p_percent: float = _param(LARGER, 0, 100, open_low=True)
    # the attacker audit's protection levels (primex.sdc.tables.primary)
    safety_range: float = _param(
        LARGER, 0, 100, meaning="threshold cells of magnitude tables: the attacker's interval "
        "must reach safety_range % of the value each way (tau-Argus' frequency safety range)")
    min_interval: float = _param(
        LARGER, 0, 1e18, meaning="every suppressed cell: the attacker's interval reaches at "
        "least this far each way, so no primary is ever pinned exactly")

    def rules(self) -> dict[str, Any]:
        """The rules mapping `primex.sdc.tables.protect_table` takes."""
        return {"min_count": self.min_count, "p_percent": self.p_percent,
                "dominance": {"n": self.dominance.n, "k": self.dominance.k},
                "safety_range": self.safety_range, "min_interval": self.min_interval}

    def levels(self) -> dict[str, float]:
        """The audit's protection levels alone, for callers that state their own rules."""
        return {"safety_range": self.safety_range, "min_interval": self.min_interval}


@dataclass(frozen=True)
class CellKeyPolicy(Params):
    """The cell-key method's perturbation table: noise in [-D, D] with variance V, and no
    published count in 1..js. Larger D, V and js are tighter (more noise)."""

    D: int = _param(LARGER, 1, 50, integer=True, meaning="largest absolute noise")
    V: float = _param(LARGER, 0, 2500, open_low=True, meaning="variance of the noise")
    js: int = _param(LARGER, 0, 99, integer=True, meaning="no published count in 1..js")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.js > self.D:
            raise PrimexError(f"js ({self.js}) cannot exceed D ({self.D})",
                              where="CellKeyPolicy.js",
                              hint="a count in 1..js must be able to move to 0 within D")
        if self.V > self.D**2:
            raise PrimexError(f"V must be in (0, D^2], got {self.V!r}", where="CellKeyPolicy.V",
                              hint="the variance of noise bounded by D cannot exceed D^2")


@dataclass(frozen=True)
class PerturbationPolicy(Params):
    """The parameters of the perturbation methods (primex.sdc.micro.perturb), sdcMicro's
    names in brackets. Larger is tighter (more perturbation) except `pram_pd`."""

    mdav_k: int = _param(LARGER, 2, 10**6, integer=True,
                         meaning="MDAV microaggregation: records per group (aggr = k)")
    noise: float = _param(LARGER, 0, 10**4,
                          meaning="noise as a percentage of each variable's sd (addNoise)")
    pram_pd: float = _param(SMALLER, 0, 1,
                            meaning="PRAM: least probability that a value is kept (pd)")
    pram_alpha: float = _param(LARGER, 0, 1,
                               meaning="PRAM invariant: mixing with the identity (alpha)")
    pram_invariant: bool = field(metadata={"meaning": "PRAM keeps expected frequencies"})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.pram_invariant, bool):
            raise PrimexError(f"pram_invariant must be true or false, got "
                              f"{self.pram_invariant!r}", where="PerturbationPolicy.pram_invariant",
                              hint="write true or false")


@dataclass(frozen=True)
class SyntheticPolicy(Params):
    """Limits for synthetic releases, as excesses over a real holdout's own values
    (see primex.sdc.synthetic.evaluate). Smaller is tighter for all four."""

    max_identical_all_excess: float = _param(SMALLER, 0, 1)
    max_unique_match_excess: float = _param(SMALLER, 0, 1)
    max_closer_to_train: float = _param(SMALLER, 0, 1)
    max_cap_excess: float = _param(SMALLER, 0, 1)


@dataclass(frozen=True)
class OutputCheckPolicy(Params):
    """How many privacy officers check a protected output before the sign-off (contract C6):
    1, or 2 for four eyes (two different officers, each deciding without seeing the other's
    decision). More is tighter."""

    checkers: int = _param(LARGER, 1, 2, integer=True,
                           meaning="output checks by different privacy officers (2: four eyes)")


# -- the one "tighten, never loosen" rule ------------------------------------------------------


def is_looser(direction: Direction, value: float | Decimal, than: float | Decimal) -> bool:
    """Whether `value` protects less than `than` for a parameter tighter in `direction`."""
    return value < than if direction == LARGER else value > than


def direction(params: Params | type[Params], name: str) -> Direction:
    """The tighter direction of a dotted parameter name, e.g. `tables.dominance.k`."""
    cls = params if isinstance(params, type) else type(params)
    head, _, tail = name.partition(".")
    by_name = {f.name: f for f in fields(cls)}
    if head not in by_name:
        raise PrimexError(f"unknown disclosure parameter {name!r}", where=cls.__name__)
    f = by_name[head]
    if tail:
        sub = f.type if isinstance(f.type, type) else _TYPES.get(str(f.type))
        if sub is None:
            raise PrimexError(f"unknown disclosure parameter {name!r}", where=cls.__name__)
        return direction(sub, tail)
    if "tighter" not in f.metadata:
        raise PrimexError(f"{name!r} is a group of parameters", where=cls.__name__)
    return f.metadata["tighter"]  # type: ignore[no-any-return]


def tighten(base: P, overrides: Mapping[str, Any] | None, *, where: str,
            against: str = "the service policy") -> P:
    """A copy of `base` with `overrides` (nested like the object) applied, refusing any
    value looser than `base`'s and any unknown name; the result validates itself."""
    if not overrides:
        return base
    looser: list[str] = []

    def apply(obj: Params, new: Mapping[str, Any], path: str) -> Params:
        if not isinstance(new, Mapping):
            raise PrimexError(f"{path} must be a mapping", where=where)
        by_name = {f.name: f for f in fields(obj)}
        changes: dict[str, Any] = {}
        for key, value in new.items():
            name = f"{path}.{key}" if path else str(key)
            f = by_name.get(str(key))
            if f is None or f.name == "version":
                raise PrimexError(
                    f"unknown disclosure parameter {name!r}", where=where,
                    hint="see primex/catalogue/policy.yaml for the parameter names")
            current = getattr(obj, f.name)
            if isinstance(current, Params):
                changes[f.name] = apply(current, value, name)
                continue
            if "tighter" in f.metadata and isinstance(value, int | float | Decimal) \
                    and not isinstance(value, bool) and is_looser(
                        f.metadata["tighter"], value, current):
                word = "minimum" if f.metadata["tighter"] == LARGER else "maximum"
                looser.append(f"{name} = {value} (service {word} {current})"
                              if against == "the service policy"
                              else f"{name} = {value} ({against}: {current})")
            changes[f.name] = value
        return dataclasses.replace(obj, **changes)

    result = apply(base, overrides, "")
    if looser:
        raise PrimexError(
            f"disclosure parameters looser than {against}: " + "; ".join(looser),
            where=where, hint="a request or an officer may only tighten the minimums of "
            "policy.yaml")
    return result  # type: ignore[return-value]


def build(cls: type[P], data: Any, *, where: str) -> P:
    """Build a parameter object from a mapping that names every field, no more, no less
    (the policy file declares every parameter: nothing comes from a default)."""
    if not isinstance(data, Mapping):
        raise PrimexError(f"{cls.__name__} needs a mapping", where=where)
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in data]
    unknown = sorted(set(data) - set(names))
    if missing or unknown:
        parts = ([f"missing {missing}"] if missing else []) + (
            [f"unknown {unknown}"] if unknown else [])
        raise PrimexError(f"{cls.__name__}: " + ", ".join(parts), where=where,
                          hint=f"declare exactly {names}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        sub = _TYPES.get(str(f.type))
        values[f.name] = build(sub, data[f.name], where=f"{where}.{f.name}") if sub \
            else data[f.name]
    return cls(**values)


# Field annotations are strings (`from __future__ import annotations`): nested classes by name.
_TYPES: dict[str, type[Params]] = {
    cls.__name__: cls
    for cls in (MicrodataPolicy, Dominance, TablePolicy, CellKeyPolicy, PerturbationPolicy,
                SyntheticPolicy, OutputCheckPolicy)
}


def register(cls: type[P]) -> type[P]:
    """Make a parameter class usable as a nested field type (e.g. the service Policy)."""
    _TYPES[cls.__name__] = cls
    return cls
