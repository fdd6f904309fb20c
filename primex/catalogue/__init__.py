"""The variable catalogue and the service's disclosure policy.

`load_catalogue()` reads `variables.yaml` (validated with pydantic, cached); every step reads
variable lists, roles and generalisation hierarchies from it instead of hard-coding them.
`load_policy()` gives the disclosure minimums a request may tighten but never loosen.
This package sits underneath every step: it imports no step.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from primex import atomic
from primex.catalogue.levels import Level, as_variable, levels_of
from primex.catalogue.model import ROLES, TABLES, CatalogueFile, Role, Variable
from primex.catalogue.policy import Policy, load_policy
from primex.errors import ConfigError, PrimexError

if TYPE_CHECKING:  # pandas only where hierarchies are built: every CLI call imports this
    import pandas as pd

__all__ = [
    "CATALOGUE_PATH",
    "LINKED_COLUMN",
    "ROLES",
    "TABLES",
    "Catalogue",
    "Policy",
    "Variable",
    "load_catalogue",
    "load_policy",
    "split_linked",
]

CATALOGUE_PATH = Path(__file__).with_name("variables.yaml")
# A linked warehouse column of a coded extract (docs/data-model.md):
# <variable>_<entry|exit>_<p|m><N>q, e.g. position_group_exit_p4q = exit + 4 quarters.
LINKED_COLUMN = re.compile(
    r"(?P<base>[a-z][a-z0-9_]*?)_(?P<event>entry|exit)_(?P<sign>[pm])(?P<n>\d{1,2})q"
)


def split_linked(column: str) -> tuple[str, str, int] | None:
    """(variable, event, signed quarter offset) of a linked column, or None."""
    m = LINKED_COLUMN.fullmatch(column)
    if m is None:
        return None
    n = int(m["n"])
    return m["base"], m["event"], n if m["sign"] == "p" else -n


class Catalogue:
    """The validated catalogue: variables by name, by role, and their hierarchies."""

    def __init__(self, variables: Iterable[Variable], path: Path | None = None) -> None:
        self.variables: tuple[Variable, ...] = tuple(variables)
        self.path = path
        self._by_name = {v.name: v for v in self.variables}
        # hierarchy levels that are not variables themselves (age_10y -> age's ladder)
        self._levels: dict[str, Level] = {
            level: Level(v, level, i)
            for v in self.variables if v.hierarchy is not None
            for i, level in enumerate(v.hierarchy.levels[1:-1], start=1)
            if level not in self._by_name
        }
        self._level_variables: dict[str, Variable | None] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name or self.level_variable(str(name)) is not None

    def __iter__(self) -> Iterator[Variable]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> Variable:
        """The variable called `name`; a PrimexError naming the closest names otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            as_level = self.level_variable(str(name))
            if as_level is not None:
                return as_level
            close = difflib.get_close_matches(str(name), self.names, n=3, cutoff=0.5)
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "see docs/catalogue.md for the list of variables"
            )
            raise PrimexError(
                f"unknown variable {name!r}", where="variable catalogue", hint=hint
            ) from None

    def variable_of(self, column: str) -> Variable | None:
        """The catalogue variable behind an extract column: the variable itself (or the
        hierarchy level requested as one), or the warehouse variable of a linked column;
        None for anything else."""
        if column in self:
            return self.get(column)
        linked = split_linked(column)
        return self._by_name.get(linked[0]) if linked else None

    def level(self, name: str) -> Level | None:
        """The hierarchy level called `name` when it is not a variable itself."""
        return self._levels.get(name)

    def level_variable(self, name: str) -> Variable | None:
        """A hierarchy level as a variable (`primex.catalogue.levels`), or None when `name`
        is no level or its labels depend on the data (entry_year, amount_250)."""
        found = self._levels.get(name)
        if found is None:
            return None
        if name not in self._level_variables:
            self._level_variables[name] = as_variable(found)
        return self._level_variables[name]

    def requestable_levels(self, name: str) -> tuple[str, ...]:
        """What may be requested of variable `name`: itself and the levels of its hierarchy
        below the total that have a fixed list of labels."""
        var = self._by_name[name]
        return tuple(level for level in levels_of(var)
                     if level == name or level in self._by_name
                     or self.level_variable(level) is not None)

    def by_role(self, role: Role | str) -> tuple[Variable, ...]:
        if role not in ROLES:
            raise PrimexError(f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
        return tuple(v for v in self.variables if v.role == role)

    def requestable(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.requestable)

    def hierarchy_levels(self, name: str) -> tuple[str, ...]:
        """Names of the hierarchy levels of a variable, finest first, `total` last."""
        var = self.get(name)
        if var.hierarchy is None:
            raise PrimexError(
                f"variable {name!r} has no generalisation hierarchy",
                where=f"catalogue:{name}",
            )
        return var.hierarchy.levels

    def hierarchy_table(self, name: str, values: Iterable[Any] | None = None) -> pd.DataFrame:
        """ARX-form hierarchy: first column every original value (as a string), each next
        column one level up, the last column all `*`. Without `values`, the variable's full
        domain (its categories, all communes, its numeric `domain`)."""
        from primex.catalogue import hierarchy

        return hierarchy.build(self.get(name), values)


def _line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node on `loc` that ruamel knows a position for."""
    line = None
    node = data
    for key in loc:
        try:
            lc = node.lc
            pos = lc.key(key) if isinstance(key, str) else lc.item(key)
            line = pos[0] + 1
            node = node[key]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line


# Parsed catalogues, keyed by the SHA-256 of the YAML text. Why: the pure-Python YAML
# parser takes about half a second for variables.yaml, and every `primex` command (one
# process each) reads the catalogue; a content-addressed JSON copy loads in milliseconds and
# can never be stale. Best effort: an unwritable folder just means no cache.
_CACHE_DIR = Path(__file__).with_name("__pycache__")


def _cache_file(text: str) -> Path:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return _CACHE_DIR / f"catalogue-{digest}.json"


def _cached(text: str) -> Catalogue | None:
    try:
        data = json.loads(_cache_file(text).read_text(encoding="utf-8"))
        return Catalogue(CatalogueFile.model_validate(data).variables)
    except (OSError, ValueError, PydanticValidationError):
        return None  # no cache, or a damaged one: parse the YAML


def _store(text: str, data: Any) -> None:
    try:
        plain = json.dumps(data)
    except (TypeError, ValueError):
        return  # e.g. YAML dates: not worth caching
    with contextlib.suppress(OSError):  # a cache that cannot be written is no error
        atomic.write_text(_cache_file(text), plain)


def _parse(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the catalogue ({exc.strerror})",
            where=str(path),
            hint="reinstall primex or point to an existing variables.yaml",
        ) from None
    hit = _cached(text)
    if hit is not None:
        hit.path = path
        return hit
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(
            f"catalogue is not valid YAML ({getattr(exc, 'problem', exc)})",
            where=where,
            hint="check the indentation and quoting around that line",
        ) from None
    try:
        parsed = CatalogueFile.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(data, loc)
        name = None
        if len(loc) >= 2 and loc[0] == "variables" and isinstance(loc[1], int):
            try:
                name = data["variables"][loc[1]].get("name")
            except (AttributeError, IndexError, KeyError, TypeError):
                name = None
        field = ".".join(str(p) for p in loc)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(
            f"catalogue entry {name or field!r}: {err['msg']} (field {field})",
            where=where,
            hint="fix variables.yaml; docs/catalogue.md describes every field",
        ) from None
    _store(text, data)
    return Catalogue(parsed.variables, path)


@cache
def _load_cached(path: str) -> Catalogue:
    return _parse(Path(path))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue (the packaged variables.yaml unless `path` is given), validated, cached."""
    return _load_cached(str(Path(path or CATALOGUE_PATH).resolve()))
