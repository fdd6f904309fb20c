"""Validate a request file: YAML → shape (pydantic) → meaning (catalogue, data, policy).

Every problem is reported, not only the first, as `file:line:column: field.path: what is
wrong (hint: ...)`. The semantic checks run on the raw data even when the shape is wrong
somewhere else, so that one run shows everything (a wrong period format and an unknown
variable come out together). Checks beyond the schema:

* variables exist in the catalogue (closest names as a hint), PRIMA variables under
  `variables`, BCSS warehouse variables under `linkage`; a direct identifier is never
  requestable; filters name catalogue variables with values they can take;
* the period is in order and inside the months the current data cover (`snapshot` table of
  PRIMA, when there is one);
* tables' dimensions, measures and weights are requested variables;
* disclosure parameters are not looser than the service minimums (`primex.catalogue.load_policy`);
* purpose, legal basis and retention date make sense.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from primex.errors import PrimexError, ValidationError
from primex.home import Home
from primex.redact import niss_like_spans
from primex.requests.population import COVERAGE_SQL, DataCoverage, coverage_from
from primex.requests.problems import (
    Problem,
    closest,
    did_you_mean,
    problem_at,
    pydantic_problems,
    short,
)
from primex.requests.spec import (
    GROUP,
    LINK_PATTERN,
    MEASURE_PATTERN,
    PERIOD_PATTERN,
    RequestSpec,
    linked_column,
    period_bound,
)
from primex.requests.yaml_loader import LoadedYaml, PathKey, load_yaml, read_bytes, walk

MAX_LINK_OFFSET = 40  # quarters: ten years around an event is as far as the warehouse goes
MAX_RETENTION_YEARS = 10
NUMERIC_TYPES = ("integer", "decimal")
GEOGRAPHY_LEVELS = ("commune", "arrondissement", "province", "region")


@dataclass
class Checked:
    """Outcome of validation: the spec when valid, and every problem found."""

    loaded: LoadedYaml | None
    spec: RequestSpec | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.problems

    def lines(self) -> list[str]:
        source = self.loaded.source if self.loaded else "?"
        return [p.format(source) for p in sorted(set(self.problems))]

    def raise_for_problems(self) -> RequestSpec:
        if self.ok and self.spec is not None:
            return self.spec
        lines = self.lines()
        source = self.loaded.source if self.loaded else "?"
        raise ValidationError(
            f"{len(lines)} problem(s) in the request",
            problems=lines,
            where=source,
            hint=f"run `primex request validate {source}` and fix each line",
        )


# --- entry points ----------------------------------------------------------------------------


def validate_file(path: Path, *, home: Home | None = None, **options: Any) -> Checked:
    """Validate a request file (options: catalogue, policy, coverage, today)."""
    return validate_bytes(read_bytes(path), str(path), home=home, **options)


def validate_bytes(
    raw: bytes,
    source: str,
    *,
    home: Home | None = None,
    catalogue: Any = None,
    policy: Any = None,
    coverage: DataCoverage | None = None,
    today: dt.date | None = None,
) -> Checked:
    """Validate the bytes of a request. YAML errors that stop reading the file raise
    YamlLoadError (a PrimexError); everything after that comes back as problems."""
    loaded = load_yaml(raw, source)
    if not isinstance(loaded.data, dict):
        return Checked(loaded, None, [problem_at(
            loaded, (), "a request is a mapping of fields (title:, requester:, ...)",
            "start from an example in examples/requests/")])
    problems: list[Problem] = []
    spec: RequestSpec | None = None
    try:
        spec = RequestSpec.model_validate(loaded.data)
    except PydanticValidationError as exc:
        problems.extend(pydantic_problems(exc.errors(), loaded, RequestSpec))
    if catalogue is None:
        catalogue = _default_catalogue()
    if policy is None:
        policy = _default_policy()
    if coverage is None and home is not None:
        coverage = data_coverage(home)
    problems.extend(
        SemanticChecks(loaded, catalogue, policy, coverage, today or dt.date.today()).run()
    )
    return Checked(loaded, spec if not problems else None, problems)


def load_valid(path: Path, *, home: Home | None = None) -> tuple[RequestSpec, bytes]:
    """The spec of a valid request file and its exact bytes; ValidationError otherwise."""
    checked = validate_file(path, home=home)
    spec = checked.raise_for_problems()
    assert checked.loaded is not None
    return spec, checked.loaded.raw


def _default_catalogue() -> Any:
    from primex.catalogue import load_catalogue

    return load_catalogue()


def _default_policy() -> Any:
    from primex.catalogue import load_policy

    return load_policy()


def data_coverage(home: Home) -> DataCoverage | None:
    """Months covered by PRIMA's `snapshot` row; None when there is no PRIMA yet (the
    population module's definition, shared with the pre-assessment)."""
    if not home.prima_url and not home.prima_db.exists():
        return None
    import duckdb

    from primex.requests.prima_source import open_prima

    try:
        with open_prima(home) as con:
            rows = con.execute(COVERAGE_SQL).fetchall()
    except duckdb.Error as exc:
        raise PrimexError(
            f"cannot read the snapshot table of PRIMA ({str(exc).splitlines()[0]})",
            where=str(home.prima_db),
            hint="regenerate the data with `primex synth generate`",
        ) from None
    return coverage_from(rows[0] if rows else None)


# --- semantic checks -------------------------------------------------------------------------


def _get(data: Any, *path: str | int) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _strings(value: Any) -> list[tuple[int, str]]:
    """The (index, text) items of a list; anything else is the schema layer's business."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def _items(value: Any) -> list[Any]:
    """A list's items; any other value (true, a number, a mapping) is a shape problem that the
    schema layer reports with its position, so the meaning checks skip it."""
    return value if isinstance(value, list) else []


def _month_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class SemanticChecks:
    """Checks that need the catalogue, the policy or the data; defensive about the shape."""

    def __init__(
        self,
        loaded: LoadedYaml,
        catalogue: Any,
        policy: Any,
        coverage: DataCoverage | None,
        today: dt.date,
    ) -> None:
        self.loaded = loaded
        self.data = loaded.data
        self.catalogue = catalogue
        self.policy = policy
        self.coverage = coverage
        self.today = today
        self.problems: list[Problem] = []
        self.names: dict[str, Any] = {v.name: v for v in catalogue}
        # hierarchy level names (age_5y, entry_year, ...) -> their variable, for hints
        self.levels: dict[str, str] = {
            level: v.name
            for v in catalogue
            if v.hierarchy is not None
            for level in v.hierarchy.levels[1:-1]
            if level not in self.names
        }

    def add(self, path: PathKey, what: str, hint: str | None = None, *, key: bool = False) -> None:
        self.problems.append(problem_at(self.loaded, path, what, hint, key=key))

    def run(self) -> list[Problem]:
        checks: list[Callable[[], None]] = [
            self.check_no_national_number,
            self.check_text_fields,
            self.check_variables,
            self.check_linkage,
            self.check_filters,
            self.check_period,
            self.check_output,
            self.check_disclosure,
        ]
        for check in checks:
            check()
        return self.problems

    # -- helpers --
    def known(self, path: PathKey, name: str, *, source: str, where: str,
              levels: bool = True) -> Any | None:
        """The catalogue variable `name` (or the hierarchy level `name` as a variable, when
        `levels`), or None after reporting why it cannot be used."""
        variable = self.names.get(name)
        if variable is None and levels:
            variable = self.level(path, name, source=source)
            if variable is False:
                return None
        if variable is None:
            base = self.levels.get(name)
            if base is not None:
                where_level = "a filter" if not levels else "a request"
                hint = (f"`{name}` is a level of the hierarchy of `{base}` whose labels depend "
                        f"on the data, so {where_level} cannot name it: request `{base}`; the "
                        "disclosure step bands it itself (tables: the finest level at "
                        "which most cells reach the minimum count; the officer may impose "
                        f"`--conditions {base}={name}`)")
                if not levels and self.catalogue_level(name) is not None:
                    hint = (f"`{name}` is a level of `{base}`: filter on `{base}` "
                            f"(e.g. a range {{min, max}})")
                self.add(path, f"`{name}` cannot be used here", hint)
                return None
            unknown_level = self.unknown_level(name)
            if unknown_level is not None:
                base, valid = unknown_level
                self.add(path, f"unknown level `{name}` of `{base}`",
                         f"valid levels of `{base}`: {', '.join(valid)}")
                return None
            candidates = [n for n, v in self.names.items() if _requestable(v)]
            hint = did_you_mean(name, candidates) or "see docs/catalogue.md for the variables"
            self.add(path, f"unknown variable `{name}`", hint)
            return None
        if variable.role == "direct_identifier" or not _requestable(variable):
            hint = (
                "ask for `age` instead"
                if name == "birth_date"
                else "records are pseudonymised on the BCSS side; no identifier ever leaves"
            )
            self.add(path, f"`{name}` is a direct identifier and can never be requested", hint)
            return None
        if variable.source != source:
            if source == "prima":
                self.add(
                    path,
                    f"`{name}` is a BCSS warehouse variable, not a PRIMA one",
                    f"request it under `linkage:` with `at:` points, e.g. {{variables: [{name}], "
                    "at: [exit+4q]}",
                )
            else:
                self.add(
                    path,
                    f"`{name}` is a PRIMA variable, not a BCSS warehouse one",
                    f"list it under `variables:` {where}",
                )
            return None
        return variable

    def catalogue_level(self, name: str) -> Any | None:
        """The hierarchy level `name` as a variable (None: no level, or data-dependent)."""
        finder = getattr(self.catalogue, "level_variable", None)
        return finder(name) if finder is not None else None

    def level(self, path: PathKey, name: str, *, source: str) -> Any:
        """The level `name` as a variable; None when it is no requestable level; False after
        reporting a level that cannot be used where it is."""
        variable = self.catalogue_level(name)
        if variable is None:
            return None
        base = self.levels[name]
        if source != "prima" or variable.source != "prima":
            self.add(path, f"`{name}` is a level of `{base}`; levels of warehouse variables "
                     "are not linked", f"link `{base}`; the disclosure step bands it")
            return False
        return variable

    def unknown_level(self, name: str) -> tuple[str, list[str]] | None:
        """(variable, its valid levels) when `name` reads as `<variable>_<something>` of a
        variable with a hierarchy (age_15y, spell_duration_bands), else None."""
        bases = [n for n, v in self.names.items()
                 if v.hierarchy is not None and name.startswith(n + "_") and _requestable(v)]
        if not bases:
            return None
        base = max(bases, key=len)
        valid = getattr(self.catalogue, "requestable_levels", None)
        levels = list(valid(base)) if valid is not None else [base]
        if len(levels) < 2 and self.names[base].hierarchy is not None:
            levels = [base]
        return base, levels

    def duplicates(self, path: PathKey, items: list[tuple[int, str]], what: str) -> None:
        seen: set[str] = set()
        for index, name in items:
            if name in seen:
                self.add((*path, index), f"{what} `{name}` is listed twice", "remove the repeat")
            seen.add(name)

    # -- checks --
    def check_no_national_number(self) -> None:
        """A request names no person: a value that passes the NISS check digits anywhere
        (title, purpose, a filter, a key) would be written into the immutable log."""
        for path, value in walk(self.data):
            texts = [str(value)] if isinstance(value, str | int) and not isinstance(
                value, bool) else []
            if path and isinstance(path[-1], str):
                texts.append(path[-1])  # a key is text too
            if any(niss_like_spans(text) for text in texts):
                self.add(path, "looks like a national number (NISS): a request never names "
                         "a person", "remove the number; describe the population instead")

    def check_text_fields(self) -> None:
        purpose = self.data.get("purpose")
        if isinstance(purpose, str) and len(purpose) >= 100 and len(purpose.split()) < 20:
            self.add(("purpose",), "the purpose is too short to assess (fewer than 20 words)",
                     "explain the research question and why each variable is needed")
        basis = self.data.get("legal_basis")
        if isinstance(basis, str) and not re.search(r"\d{2}/\d{2,4}", basis):
            self.add(("legal_basis",), "no deliberation number found",
                     "cite the Information Security Committee deliberation, e.g. "
                     "`CSI deliberation 24/123`")
        retention = self.data.get("retention_until")
        if isinstance(retention, dt.date) and not isinstance(retention, dt.datetime):
            if retention <= self.today:
                self.add(("retention_until",), f"{retention} is not in the future",
                         "give the date until which the data may be kept")
            elif retention.year - self.today.year > MAX_RETENTION_YEARS:
                self.add(("retention_until",),
                         f"{retention} is more than {MAX_RETENTION_YEARS} years away",
                         f"keep data at most {MAX_RETENTION_YEARS} years")
        benefits = _strings(_get(self.data, "population", "benefits"))
        self.duplicates(("population", "benefits"), benefits, "benefit")

    def check_variables(self) -> None:
        items = _strings(self.data.get("variables"))
        grouped = isinstance(_get(self.data, "population", "groups"), dict)
        bases: dict[str, str] = {}
        for index, name in items:
            if name == GROUP and grouped:
                continue  # the column of population.groups, listed for clarity
            if name == GROUP:
                self.add(("variables", index), "`group` comes with `population.groups`",
                         "define population.groups: {study: {...}, comparison: {...}}, or "
                         "remove `group`")
                continue
            if self.known(("variables", index), name, source="prima", where="") is None:
                continue
            base = self.levels.get(name, name)
            if base in bases and bases[base] != name:
                self.add(("variables", index),
                         f"`{name}` and `{bases[base]}` are both forms of `{base}`",
                         f"keep one of them (a level is `{base}` in bands or groups)")
            bases.setdefault(base, name)
        self.duplicates(("variables",), items, "variable")

    def check_linkage(self) -> None:
        links = self.data.get("linkage")
        if not isinstance(links, list):
            return
        seen: set[str] = set()
        for i, link in enumerate(links):
            for j, name in _strings(_get(link, "variables")):
                self.known(("linkage", i, "variables", j), name, source="bcss",
                           where="(the PRIMA variables of the spell)")
            for j, at in _strings(_get(link, "at")):
                match = re.fullmatch(LINK_PATTERN, at)
                if match and int(re.sub(r"\D", "", at)) > MAX_LINK_OFFSET:
                    self.add(("linkage", i, "at", j),
                             f"offset {at} is more than {MAX_LINK_OFFSET} quarters away",
                             "the warehouse keeps ten years around an event")
                if not match:
                    continue
                for name in [n for _k, n in _strings(_get(link, "variables"))]:
                    column = linked_column(name, at)
                    if column in seen:
                        self.add(("linkage", i, "at", j),
                                 f"`{name}` at {at} is already requested", "remove the repeat")
                    seen.add(column)

    def check_filters(self) -> None:
        self.check_filter_set(("population", "filters"),
                              _get(self.data, "population", "filters"))
        groups = _get(self.data, "population", "groups")
        if isinstance(groups, dict):
            for group in ("study", "comparison"):
                self.check_filter_set(("population", "groups", group), groups.get(group))
            study, comparison = groups.get("study"), groups.get("comparison")
            if isinstance(study, dict) and isinstance(comparison, dict) and study == comparison:
                self.add(("population", "groups", "comparison"),
                         "the comparison group has the same filters as the study group",
                         "describe how the comparison group differs, e.g. {art60: [false]}")

    def check_filter_set(self, at: PathKey, filters: Any) -> None:
        if not isinstance(filters, dict):
            return
        for name, value in filters.items():
            path = (*at, name)
            if name == GROUP:
                self.add(path, "`group` is defined by population.groups, it cannot filter",
                         "filter on the variables that define the groups")
                continue
            variable = self.known(path, name, source="prima", where="", levels=False)
            if variable is None:
                continue
            numeric = variable.type in NUMERIC_TYPES
            if isinstance(value, dict):
                if not numeric:
                    self.add(path, f"a range filter needs a number; `{name}` is a "
                             f"{variable.type}", f"list the values instead: {name}: [...]")
                low, high = value.get("min"), value.get("max")
                if low is None and high is None and not set(value) - {"min", "max"}:
                    self.add(path, "a range needs `min`, `max` or both", "e.g. {min: 18, max: 24}")
                if _number(low) and _number(high) and low > high:
                    self.add((*path, "min"), f"min {low} is above max {high}", "swap them")
            elif isinstance(value, list):
                if not value:
                    self.add(path, "an empty list keeps nobody", "list at least one value")
                self.check_filter_values(path, name, variable, value)

    def check_filter_values(self, path: PathKey, name: str, variable: Any, values: list) -> None:
        allowed = _allowed_codes(name, variable)
        if allowed is None:
            return
        for index, value in enumerate(values):
            code = value if isinstance(value, str) else None
            if isinstance(value, bool) and variable.type == "boolean":
                continue
            if isinstance(value, int) and not isinstance(value, bool) and str(value) in allowed:
                continue  # category: [1, 2] means the codes "1" and "2"
            if code is not None and code in allowed:
                continue
            shown = short(value)
            hint = None
            if isinstance(value, int) and not isinstance(value, bool):
                hint = f'quote codes so that leading zeros are kept: "{value:05d}"' if (
                    name in GEOGRAPHY_LEVELS or name == "sector") else None
            if hint is None:
                hint = _code_hint(name, str(value), allowed)
            self.add((*path, index), f"{shown} is not a value of `{name}`", hint)

    def check_period(self) -> None:
        period = _get(self.data, "population", "period")
        if not isinstance(period, dict):
            return
        bounds: dict[str, dt.date] = {}
        for end_name in ("start", "end"):
            value = period.get(end_name)
            if isinstance(value, str) and re.fullmatch(PERIOD_PATTERN, value):
                bounds[end_name] = period_bound(value, end=end_name == "end")
        path = ("population", "period")
        if "start" in bounds and "end" in bounds and bounds["start"] > bounds["end"]:
            self.add((*path, "end"), f"the period ends ({period['end']}) before it starts "
                     f"({period['start']})", "swap start and end")
            return
        if self.coverage is None:
            return
        first, last = self.coverage.first_month, self.coverage.last_month
        span = f"the data cover {_month_text(first)} to {_month_text(last)}"
        if "start" in bounds and not first <= bounds["start"] <= last:
            self.add((*path, "start"), f"{period['start']} is outside the available data", span)
        if "end" in bounds and not first <= bounds["end"] <= last:
            self.add((*path, "end"), f"{period['end']} is outside the available data", span)

    def check_output(self) -> None:
        output = self.data.get("output")
        if not isinstance(output, dict):
            return
        kind = output.get("kind")
        tables = output.get("tables")
        if kind in ("microdata", "synthetic"):
            if tables:
                self.add(("output", "tables"), f"`tables` only applies to kind: tables "
                         f"(this request is kind: {kind})", "remove `tables` or change `kind`",
                         key=True)
            if output.get("method") is not None:
                self.add(("output", "method"), f"`method` only applies to kind: tables "
                         f"(this request is kind: {kind})", "remove `method`", key=True)
        if kind == "tables" and not tables:
            self.add(("output",), "kind: tables needs at least one table under `tables:`",
                     "add tables: [{name: ..., dimensions: [...], measure: count}]", key=True)
        synthetic = output.get("synthetic")
        if synthetic is not None and kind != "synthetic":
            self.add(("output", "synthetic"), f"`synthetic` only applies to kind: synthetic "
                     f"(this request is kind: {kind})", "remove `synthetic`", key=True)
        requested = {n for _i, n in _strings(self.data.get("variables"))}
        if isinstance(_get(self.data, "population", "groups"), dict):
            requested.add(GROUP)
        # a hierarchy level of a requested variable may be a table dimension (age_10y)
        levels_of_requested = {level for level, base in self.levels.items()
                               if base in requested and self.catalogue_level(level) is not None}
        linked = set()
        for link in _items(self.data.get("linkage")):
            for _j, name in _strings(_get(link, "variables")):
                for _k, at in _strings(_get(link, "at")):
                    if re.fullmatch(LINK_PATTERN, at):
                        linked.add(linked_column(name, at))
        if kind == "synthetic" and isinstance(synthetic, dict):
            for a, analysis in enumerate(_items(synthetic.get("analyses"))):
                if not isinstance(analysis, dict):
                    continue
                path = ("output", "synthetic", "analyses", a)
                for c, col in _strings(analysis.get("crosstab")):
                    if col not in requested and col not in linked:
                        self.not_requested((*path, "crosstab", c), col, requested | linked)
                reg = analysis.get("regression")
                if isinstance(reg, dict):
                    y = reg.get("y")
                    if isinstance(y, str):
                        self.numeric_requested((*path, "regression", "y"), y, requested)
                    for c, col in _strings(reg.get("x")):
                        if col not in requested and col not in linked:
                            self.not_requested((*path, "regression", "x", c), col,
                                               requested | linked)
        if kind != "tables" or not isinstance(tables, list):
            return
        names: set[str] = set()
        for t, table in enumerate(tables):
            if not isinstance(table, dict):
                continue
            path = ("output", "tables", t)
            table_name = table.get("name")
            if isinstance(table_name, str):
                if table_name in names:
                    self.add((*path, "name"), f"table name `{table_name}` is used twice",
                             "give each table its own name")
                names.add(table_name)
            dims = _strings(table.get("dimensions"))
            self.duplicates((*path, "dimensions"), dims, "dimension")
            for d, dim in dims:
                if dim == GROUP and GROUP not in requested:
                    self.add((*path, "dimensions", d), "`group` comes with `population.groups`",
                             "define population.groups: {study: {...}, comparison: {...}}")
                elif dim not in requested and dim not in linked and (
                        dim not in levels_of_requested):
                    if dim in self.levels and self.catalogue_level(dim) is not None:
                        self.add((*path, "dimensions", d),
                                 f"`{dim}` is a level of `{self.levels[dim]}`, not requested",
                                 f"add `{self.levels[dim]}` or `{dim}` to `variables`")
                    elif dim not in self.names and dim not in self.levels and (
                            self.unknown_level(dim) is not None):
                        self.known((*path, "dimensions", d), dim, source="prima", where="")
                    else:
                        self.not_requested((*path, "dimensions", d), dim, requested | linked)
            measure = table.get("measure")
            if isinstance(measure, str) and re.fullmatch(MEASURE_PATTERN, measure) and (
                ":" in measure
            ):
                self.numeric_requested((*path, "measure"), measure.split(":", 1)[1], requested)
            weights = table.get("weights")
            if isinstance(weights, str):
                self.numeric_requested((*path, "weights"), weights, requested)

    def not_requested(self, path: PathKey, name: str, requested: set[str]) -> None:
        if name in self.names:
            hint = f"add `{name}` to `variables`"
        else:
            hint = did_you_mean(name, requested) or f"add `{name}` to `variables`"
        self.add(path, f"`{name}` is not a requested variable", hint)

    def numeric_requested(self, path: PathKey, name: str, requested: set[str]) -> None:
        if name not in requested:
            self.not_requested(path, name, requested)
            return
        variable = self.names.get(name)
        if variable is not None and variable.type not in NUMERIC_TYPES:
            self.add(path, f"`{name}` is a {variable.type}, not a number",
                     "sums, means and weights need a numeric variable such as `amount`")

    def check_disclosure(self) -> None:
        disclosure = self.data.get("disclosure")
        if not isinstance(disclosure, dict):
            return
        for name, (minimum, tighter) in policy_minimums(self.policy).items():
            path = ("disclosure", *name.split("."))
            value = _get(disclosure, *name.split("."))
            if not _number(value) or minimum is None:
                continue
            if (tighter == "higher" and value < minimum) or (
                tighter == "lower" and value > minimum
            ):
                word = "below the service minimum" if tighter == "higher" else (
                    "above the service maximum")
                sign = "≥" if tighter == "higher" else "≤"
                self.add(path, f"{name} = {value} is {word} {minimum}",
                         f"use {name} {sign} {minimum} (the officer may tighten, never loosen)")
        priorities = disclosure.get("priorities")
        requested = self.data.get("variables")
        if isinstance(priorities, dict) and isinstance(requested, list):
            for name in priorities:
                if name not in requested:
                    self.add(("disclosure", "priorities", name),
                             f"`{name}` has a priority but is not a requested variable",
                             "request it under `variables`, or remove its priority")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _requestable(variable: Any) -> bool:
    return bool(getattr(variable, "requestable", True)) and (
        variable.role != "direct_identifier"
    )


def _allowed_codes(name: str, variable: Any) -> dict[str, str] | None:
    """Allowed filter values → a label (for hints); None when any value is possible."""
    if name in GEOGRAPHY_LEVELS:
        from primex.catalogue import geography

        return {code: f"{fr} / {nl}" for code, (fr, nl) in geography.names(name).items()}
    categories = getattr(variable, "categories", None) or []
    if not categories:
        return None
    out = {}
    for category in categories:
        code = getattr(category, "code", None)
        if code is None and isinstance(category, dict):
            code = category.get("code")
        label = getattr(category, "label", None) or (
            category.get("label") if isinstance(category, dict) else None)
        out[str(code)] = str(label or code)
    return out


def _code_hint(name: str, shown: str, allowed: dict[str, str]) -> str:
    # Try the codes, then the names (people write "Bruxelles" where the code is 04000).
    by_label: dict[str, str] = {}
    for code, label in allowed.items():
        for part in label.split(" / "):
            by_label[part.lower()] = code
    near = closest(shown.lower(), by_label) or [
        label for label in by_label if len(shown) >= 3 and shown.lower() in label][:3]
    if near:
        return "did you mean " + " or ".join(
            f'"{by_label[n]}" ({allowed[by_label[n]]})' for n in near) + "?"
    near_codes = closest(shown, allowed)
    if near_codes:
        return "did you mean " + " or ".join(f'"{c}"' for c in near_codes) + "?"
    sample = ", ".join(list(allowed)[:8])
    return f"allowed values: {sample}{', ...' if len(allowed) > 8 else ''}"


def policy_minimums(policy: Any) -> dict[str, tuple[float | None, str]]:
    """Service limits per request disclosure parameter, and which direction is stricter.

    The request's flat `disclosure` block maps onto policy.yaml's nesting (microdata: k, l,
    max_suppression; tables: min_count, dominance, p_percent)."""

    def get(*path: str) -> Any:
        node = policy
        for part in path:
            node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        return node

    from primex.catalogue import Policy
    from primex.sdc.params import LARGER, direction

    paths = {"k": "microdata.k", "l": "microdata.l",
             "max_suppression": "microdata.max_suppression", "min_count": "tables.min_count",
             "p_percent": "tables.p_percent", "dominance.n": "tables.dominance.n",
             "dominance.k": "tables.dominance.k"}
    # which direction is tighter: the policy's typed parameters say it, once
    return {name: (get(*path.split(".")),
                   "higher" if direction(Policy, path) == LARGER else "lower")
            for name, path in paths.items()}
