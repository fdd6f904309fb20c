"""The pydantic schema of variables.yaml: what a catalogue entry must hold."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from primex.errors import PrimexError

Source = Literal["prima", "bcss"]
VarType = Literal["category", "integer", "decimal", "date", "boolean", "code"]
Role = Literal["direct_identifier", "quasi_identifier", "sensitive", "other"]
Method = Literal["categories", "bands", "intervals", "geography", "quarter"]

ROLES: tuple[str, ...] = ("direct_identifier", "quasi_identifier", "sensitive", "other")
# Every table.column a variable may be computed from (docs/data-model.md).
TABLES: dict[str, tuple[str, ...]] = {
    "person": (
        "niss",
        "birth_date",
        "sex",
        "nationality",
        "nationality_group",
        "refugee",
        "household_id",
        "household_type",
        "household_size",
        "commune",
        "sector",
    ),
    "benefit_month": (
        "niss",
        "cpas",
        "month",
        "benefit",
        "category",
        "amount",
        "student",
        "spell_id",
        "recorded_on",
    ),
    "employment_measure": ("niss", "cpas", "measure", "start_date", "end_date", "outcome"),
    "piis": ("niss", "cpas", "piis_type", "start_date", "end_date", "outcome"),
    "dwh_person": ("niss", "birth_date", "sex", "commune"),
    "dwh_position": ("niss", "quarter", "quarter_end", "position", "position_group", "wage_class"),
}
TABLE_SOURCE = {
    "person": "prima", "benefit_month": "prima", "employment_measure": "prima", "piis": "prima",
    "dwh_person": "bcss", "dwh_position": "bcss",
}  # fmt: skip

TOTAL = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryValue(_Strict):
    code: str
    label: str
    label_fr: str
    label_nl: str
    parents: tuple[str, ...] = ()


class Interval(_Strict):
    from_: float = Field(alias="from")
    to: float | None
    label: str

    def contains(self, value: float) -> bool:
        return value >= self.from_ and (self.to is None or value <= self.to)


class HierarchySpec(_Strict):
    """How the catalogue builds a variable's hierarchy (method, levels); the built tables are
    `primex.sdc.micro.GeneralisationHierarchy` and `primex.sdc.tables.DimensionHierarchy`."""

    method: Method
    levels: tuple[str, ...] = Field(min_length=2)
    widths: tuple[float, ...] = ()
    intervals: tuple[tuple[Interval, ...], ...] = ()
    domain: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _check(self) -> HierarchySpec:
        if self.levels[-1] != "total":
            raise ValueError("the last hierarchy level must be 'total'")
        middle = len(self.levels) - 2  # levels between the value and the total
        if self.method == "bands":
            if len(self.widths) != middle or any(w <= 0 for w in self.widths):
                raise ValueError(f"bands need {middle} positive widths, one per middle level")
            for finer, coarser in zip(self.widths, self.widths[1:], strict=False):
                if coarser % finer:
                    raise ValueError("each band width must be a multiple of the finer one")
        if self.method == "intervals" and len(self.intervals) != middle:
            raise ValueError(f"intervals need {middle} lists, one per middle level")
        if self.method == "quarter" and middle != 1:
            raise ValueError("a quarter hierarchy has exactly the levels quarter, year, total")
        if self.domain is not None and self.domain[0] > self.domain[1]:
            raise ValueError("domain must be [min, max] with min <= max")
        return self


class Variable(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    source: Source
    type: VarType
    role: Role
    requestable: bool = True
    description: str = Field(min_length=5)
    label_fr: str = Field(min_length=2)
    label_nl: str = Field(min_length=2)
    table: str | None = None
    column: str | None = None
    derived: str | None = None
    inputs: tuple[str, ...] = ()
    unit: str | None = None
    categories: tuple[CategoryValue, ...] = ()
    hierarchy: HierarchySpec | None = None

    @model_validator(mode="after")
    def _check(self) -> Variable:
        if self.table is not None and self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; known: {sorted(TABLES)}")
        if self.column is None and self.derived is None:
            raise ValueError("give either `column` (a plain column) or `derived` + `inputs`")
        if self.column is not None:
            if self.table is None:
                raise ValueError("`column` needs `table`")
            if self.column not in TABLES[self.table]:
                raise ValueError(f"table {self.table} has no column {self.column!r}")
        if self.derived is not None and not self.inputs:
            raise ValueError("a derived variable must list its `inputs` (table.column)")
        for item in self.inputs:
            table, _, column = item.partition(".")
            if column not in TABLES.get(table, ()):
                raise ValueError(f"input {item!r} is not a known table.column")
        tables = [self.table] if self.table else []
        tables += [i.partition(".")[0] for i in self.inputs]
        if any(TABLE_SOURCE[t] != self.source for t in tables):
            raise ValueError(f"source {self.source} does not match the tables it comes from")
        if self.role == "direct_identifier" and self.requestable:
            raise ValueError("a direct identifier is never requestable: set requestable: false")
        if self.role == "quasi_identifier" and self.hierarchy is None:
            raise ValueError("a quasi-identifier needs a generalisation hierarchy")
        codes = [c.code for c in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("category codes must be unique")
        if self.type == "boolean" and self.categories and set(codes) != {"true", "false"}:
            raise ValueError("boolean categories are 'true' and 'false'")
        h = self.hierarchy
        if h is not None:
            if h.levels[0] != self.name:
                raise ValueError(f"the first hierarchy level must be the variable ({self.name})")
            if h.method == "categories":
                if not self.categories:
                    raise ValueError("method 'categories' needs the variable's categories")
                for c in self.categories:
                    if len(c.parents) != len(h.levels) - 2:
                        raise ValueError(
                            f"category {c.code!r} needs {len(h.levels) - 2} parents "
                            f"(one per level between {h.levels[0]} and total)"
                        )
            if h.method in ("bands", "intervals") and self.type not in ("integer", "decimal"):
                raise ValueError(f"method {h.method!r} needs an integer or decimal variable")
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)

    def format_value(self, value: Any) -> str:
        """The string a data value takes in hierarchy tables (the ARX 'original value'):
        integers without decimals, decimals with two, booleans 'true'/'false', dates ISO.
        Missing values (None, NaN, NA) give ''."""
        if value is None or (not isinstance(value, str) and _is_missing(value)):
            return ""
        try:
            if self.type == "boolean":
                if isinstance(value, str):
                    text = value.strip().lower()
                    if text not in ("true", "false"):
                        raise ValueError(value)
                    return text
                return "true" if bool(value) else "false"
            if self.type == "integer":
                number = float(value)
                if not number.is_integer():
                    raise ValueError(value)
                return str(int(number))
            if self.type == "decimal":
                return f"{Decimal(str(value)):.2f}"
        except (TypeError, ValueError, ArithmeticError):
            raise PrimexError(
                f"value {value!r} is not of type {self.type}",
                where=f"catalogue:{self.name}",
                hint=f"{self.name} holds {self.type} values",
            ) from None
        if self.type == "date" and isinstance(value, dt.date):
            return value.isoformat()
        return str(value)


def _is_missing(value: Any) -> bool:
    try:
        if value != value:  # NaN, NaT
            return True
    except (TypeError, ValueError):
        return False
    # pandas is not imported here (it costs every CLI call its start-up); a value can only
    # be pandas' NA or NaT when pandas is already loaded.
    pd = sys.modules.get("pandas")
    return pd is not None and (value is pd.NA or value is pd.NaT)


class CatalogueFile(_Strict):
    version: Literal[1]
    variables: tuple[Variable, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CatalogueFile:
        names = [v.name for v in self.variables]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate variable names {dupes}")
        return self
