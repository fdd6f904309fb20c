"""Which PRIMA spells a request covers: ONE definition for validation, assessment, extraction.

The unit is one row per person and spell (consecutive months of one benefit at one CPAS) that
overlaps the request's period. `build_sql` writes the query (standard SQL + `md5`, which
DuckDB, PostgreSQL and Spark SQL provide); `finish` turns its result into the columns the
request names (hierarchy levels mapped to their labels). The extraction step
(`primex.extract.adhoc`) runs both on its engine and keeps the NISS for the BCSS coding; the
pre-assessment (`primex.requests.assess`) runs the very same query on the same data and
drops the NISS at once, so the number of spells it assesses is the number extracted.

Population: spells of the listed benefits RI / ERIS (both when only art60 / art61 / PIIS are
listed); listing art60, art61 or PIIS also requires such a contract in the period (spec
version 1, kept). Filters use catalogue variables: a list of values, or a range {min, max}.
With `population.groups`, each spell is in the study group when it matches the study
filters, else in the comparison group when it matches the comparison filters (an empty
filter set matches everyone), else outside the request; the column `group` says which.

How each variable is derived (the catalogue's definitions):

* `age`: completed years between the birth date and `spell_start`;
* `spell_start`: the spell's first month; `spell_end`: its last month, NULL when the spell is
  still paid after the period's last month or when the data end with it (running);
  `entry_quarter` / `exit_quarter`: their quarters as `2024Q3`; `spell_duration`: months paid
  within the period;
* `benefit`, `category` (of the spell's first month), `student` (any month of the spell),
  `amount` (mean monthly amount over the spell, rounded to the cent);
* person variables and geography (`commune` of residence, with `arrondissement`, `province`,
  `region` from `primex.catalogue.geography`);
* `art60` / `art61` / `piis`: a contract overlapping the period; `piis_type` /
  `piis_outcome`: those of the latest PIIS starting in or before the period;
* a hierarchy level (`age_10y`, `spell_duration_band`): its base variable mapped to the
  level's label (`primex.catalogue.levels`).

Rows are numbered in the order of an MD5 of (niss, spell id), so that `record_id` carries no
information (ordering by NISS would order by birth date).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from primex.catalogue import load_catalogue
from primex.errors import PrimexError
from primex.requests.spec import GROUP, period_bound

if TYPE_CHECKING:  # validation imports this module: no Arrow or pandas at start-up
    import pyarrow as pa

SPELL_BENEFITS = ("RI", "ERIS")
MEASURE_ALIASES = {"art60": "a60", "art61": "a61", "PIIS": "pi"}
GROUPS = ("study", "comparison")
_POINT = re.compile(r"(entry|exit)[+-]\d{1,2}q")

_AGE = (
    "(EXTRACT(YEAR FROM s.spell_start) - EXTRACT(YEAR FROM p.birth_date) - CASE WHEN "
    "EXTRACT(MONTH FROM p.birth_date) > EXTRACT(MONTH FROM s.spell_start) OR "
    "(EXTRACT(MONTH FROM p.birth_date) = EXTRACT(MONTH FROM s.spell_start) AND "
    "EXTRACT(DAY FROM p.birth_date) > EXTRACT(DAY FROM s.spell_start)) THEN 1 ELSE 0 END)"
)


def _quarter_label(d: str) -> str:
    return (
        f"CASE WHEN {d} IS NULL THEN NULL ELSE CAST(EXTRACT(YEAR FROM {d}) AS VARCHAR) "
        f"|| 'Q' || CAST(EXTRACT(QUARTER FROM {d}) AS VARCHAR) END"
    )


# Every PRIMA variable an ad hoc extract can carry: name -> SQL over the `units` join.
EXPRESSIONS: dict[str, str] = {
    "age": f"CAST({_AGE} AS INTEGER)",
    "sex": "p.sex",
    "nationality": "p.nationality",
    "nationality_group": "p.nationality_group",
    "refugee": "p.refugee",
    "household_type": "p.household_type",
    "household_size": "p.household_size",
    "sector": "p.sector",
    "commune": "p.commune",
    "arrondissement": "g.arrondissement",
    "province": "g.province",
    "region": "g.region",
    "benefit": "s.benefit",
    "category": "s.category",
    "student": "s.student",
    "amount": "s.amount",
    "spell_start": "s.spell_start",
    "spell_end": "s.spell_end",
    "entry_quarter": _quarter_label("s.spell_start"),
    "exit_quarter": _quarter_label("s.spell_end"),
    "spell_duration": "CAST(s.spell_duration AS INTEGER)",
    "art60": "(a60.niss IS NOT NULL)",
    "art61": "(a61.niss IS NOT NULL)",
    "piis": "(pi.niss IS NOT NULL)",
    "piis_type": "pi.piis_type",
    "piis_outcome": "pi.outcome",
}


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def plain(value: Any) -> Any:
    """A spec value as plain JSON (pydantic models dumped; integral floats made ints)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _month(text: str, *, end: bool) -> date:
    try:
        return period_bound(str(text), end=end)
    except (ValueError, IndexError):
        raise PrimexError(
            f"bad period bound {text!r}",
            where="population.period",
            hint="months as YYYY-MM or quarters as YYYYQn",
        ) from None


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def level_bases(names: list[str]) -> dict[str, str]:
    """{requested hierarchy level: its base variable} (age_10y -> age)."""
    catalogue = load_catalogue()
    out = {}
    for name in names:
        level = catalogue.level(name)
        if level is not None:
            out[name] = level.base.name
    return out


def spec_parts(spec: Any) -> dict[str, Any]:
    """The fields the population query needs, from the pydantic RequestSpec or a plain dict.

    `variables` is the request's list plus the hierarchy levels its tables name as
    dimensions (a table `[age_10y, region]` on a request of `age`), in that order."""
    population = _field(spec, "population")
    if population is None:
        raise PrimexError("the request has no population", where="population")
    period = _field(population, "period")
    start, end = _month(_field(period, "start"), end=False), _month(_field(period, "end"), end=True)
    if end < start:
        raise PrimexError("the period ends before it starts", where="population.period")
    variables = [str(v) for v in (_field(spec, "variables") or [])]
    if not variables:
        raise PrimexError("the request lists no variables", where="variables")
    output = _field(spec, "output")
    for table in _field(output, "tables") or []:
        for dim in _field(table, "dimensions") or []:
            if str(dim) not in variables and load_catalogue().level(str(dim)) is not None:
                variables.append(str(dim))
    groups = plain(_field(population, "groups"))
    variables = [v for v in variables if v != GROUP]
    return {
        "benefits": [str(b) for b in (_field(population, "benefits") or [])],
        "start": start,
        "end": end,
        "filters": plain(_field(population, "filters") or {}),
        "groups": groups or None,
        "variables": variables,
        "linkage": plain(_field(spec, "linkage") or []),
    }


def check_parts(parts: dict[str, Any]) -> None:
    """Variables, filters and linkage points the query can compute (checked before anything
    is read or sent, so that a bad spec fails on the SPP side)."""
    _check_variables(parts["variables"], "variables", levels=True)
    _check_variables(list(parts["filters"]), "population.filters", levels=False)
    for group, filters in (parts.get("groups") or {}).items():
        _check_variables(list(filters or {}), f"population.groups.{group}", levels=False)
    _check_linkage(parts["linkage"])


def _check_variables(names: list[str], where: str, *, levels: bool) -> None:
    catalogue = load_catalogue()
    bases = level_bases(names) if levels else {}
    for name in names:
        if not levels and catalogue.level(name) is not None:
            raise PrimexError(f"{name!r} is a hierarchy level; filters use the variable",
                              where=where, hint="filter on the variable, e.g. age: {min, max}")
        var = catalogue.get(bases.get(name, name))  # unknown: PrimexError with close matches
        if var.role == "direct_identifier":
            raise PrimexError(
                f"{name!r} is a direct identifier and is never extracted",
                where=where,
                hint="ask for age instead of birth_date",
            )
        if var.source != "prima" or var.name not in EXPRESSIONS:
            raise PrimexError(
                f"{name!r} is not a PRIMA variable of an ad hoc extract",
                where=where,
                hint="warehouse variables go under linkage:",
            )
        if name in bases and catalogue.level_variable(name) is None:
            raise PrimexError(f"{name!r} depends on the data and cannot be requested",
                              where=where, hint=f"request {var.name!r}")


def _check_linkage(linkage: list[Any]) -> None:
    catalogue = load_catalogue()
    for i, block in enumerate(linkage):
        if not isinstance(block, Mapping) or not block.get("variables") or not block.get("at"):
            raise PrimexError("a linkage block needs variables and at", where=f"linkage[{i}]")
        for name in block["variables"]:
            if catalogue.level(str(name)) is not None or \
                    catalogue.get(str(name)).source != "bcss":
                raise PrimexError(
                    f"{name!r} is not a warehouse variable",
                    where=f"linkage[{i}].variables",
                    hint="PRIMA variables go under variables:",
                )
        for at in block["at"]:
            if not _POINT.fullmatch(str(at)):
                raise PrimexError(
                    f"{at!r} is not a linkage point",
                    where=f"linkage[{i}].at",
                    hint="event and offset in quarters: exit+4q, entry-4q",
                )


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return float(value)
    return value


def build_sql(parts: dict[str, Any], data_last: date) -> tuple[str, dict[str, Any]]:
    """The population query and its named parameters (standard SQL + md5). It reads the
    PRIMA tables and a `geo (commune, arrondissement, province, region)` relation."""
    start, end = parts["start"], parts["end"]
    after = _next_month(end)
    spell_benefits = [b for b in parts["benefits"] if b in SPELL_BENEFITS] or list(SPELL_BENEFITS)
    measures = [b for b in parts["benefits"] if b not in SPELL_BENEFITS]
    params: dict[str, Any] = {}

    def p(value: Any) -> str:  # named parameters: the pieces are assembled out of order
        name = f"p{len(params)}"
        params[name] = value
        return f"${name}"

    overlap = f"start_date < {p(after)} AND (end_date IS NULL OR end_date >= {p(start)})"
    a60 = f"SELECT DISTINCT niss FROM employment_measure WHERE measure = 'art60' AND {overlap}"
    overlap = f"start_date < {p(after)} AND (end_date IS NULL OR end_date >= {p(start)})"
    a61 = f"SELECT DISTINCT niss FROM employment_measure WHERE measure = 'art61' AND {overlap}"
    piis_sql = (
        "SELECT niss, piis_type, outcome FROM (SELECT niss, piis_type, outcome, ROW_NUMBER() "
        "OVER (PARTITION BY niss ORDER BY start_date DESC, piis_type, outcome) AS rn FROM piis "
        f"WHERE start_date < {p(after)} AND (end_date IS NULL OR end_date >= {p(start)})) x "
        "WHERE rn = 1"
    )
    benefit_list = ", ".join(p(b) for b in spell_benefits)
    # One pass over benefit_month, grouped by the spell id alone (it identifies the spell and
    # its person; grouping by the NISS string too cost 3x). The category of the first month
    # rides along as MIN(month number * 100000 + category): its month is the spell's first.
    # The mean amount is rounded half up to the cent in exact arithmetic (ROUND(AVG()) is
    # exact on PostgreSQL's NUMERIC but goes through a double in DuckDB: they would differ
    # on half cents).
    spells = f"""
SELECT MIN(b.niss) AS niss, b.spell_id, MIN(b.benefit) AS benefit, MIN(b.cpas) AS cpas,
       MIN(b.month) AS spell_start, MAX(b.month) AS last_month,
       SUM(CASE WHEN b.month >= {p(start)} AND b.month <= {p(end)} THEN 1 ELSE 0 END)
         AS spell_duration,
       MAX(CASE WHEN b.student THEN 1 ELSE 0 END) = 1 AS student,
       CAST(FLOOR((200 * SUM(b.amount) + COUNT(*)) / (2 * COUNT(*))) / 100
            AS DECIMAL(10, 2)) AS amount,
       MIN(CAST(EXTRACT(YEAR FROM b.month) * 12 + EXTRACT(MONTH FROM b.month) AS BIGINT)
           * 100000 + b.category) AS first_category
FROM benefit_month b
WHERE b.benefit IN ({benefit_list})
GROUP BY b.spell_id
HAVING MIN(b.month) <= {p(end)} AND MAX(b.month) >= {p(start)}"""
    spell_rows = f"""
SELECT s.niss, s.spell_id, s.benefit, s.cpas, s.spell_start, s.spell_duration, s.student,
       s.amount, CAST(s.first_category % 100000 AS SMALLINT) AS category,
       CASE WHEN s.last_month > {p(end)} OR s.last_month >= {p(data_last)} THEN NULL
            ELSE s.last_month END AS spell_end
FROM ({spells}) s"""
    groups = parts.get("groups") or {}
    group_filters = [name for g in GROUPS for name in (groups.get(g) or {})]
    bases = level_bases(parts["variables"])
    wanted = list(dict.fromkeys([*parts["variables"], *parts["filters"].keys(), *group_filters]))
    select = ",\n       ".join(
        f"{EXPRESSIONS[bases.get(v, v)]} AS {v}" for v in wanted
        if v not in ("spell_start", "spell_end")
    )
    # Join the contract tables only when a variable or the population uses them.
    used = " ".join([select, *measures])
    joins = [
        f"LEFT JOIN ({sub}) {alias} ON {alias}.niss = s.niss"
        for alias, sub, names in (
            ("a60", a60, ("a60.", "art60")),
            ("a61", a61, ("a61.", "art61")),
            ("pi", piis_sql, ("pi.", "PIIS")),
        )
        if any(name in used for name in names)
    ]
    units = f"""
SELECT s.niss, s.spell_id, s.spell_start, s.spell_end{"," if select else ""}
       {select}
FROM ({spell_rows}) s
JOIN person p ON p.niss = s.niss
LEFT JOIN geo g ON g.commune = p.commune
{chr(10).join(joins)}"""
    where: list[str] = []
    for measure in measures:
        alias = MEASURE_ALIASES.get(measure)
        if alias is None:
            raise PrimexError(
                f"unknown benefit {measure!r}",
                where="population.benefits",
                hint="RI, ERIS, art60, art61 or PIIS",
            )
        where.append(f"{alias}.niss IS NOT NULL")
    if where:
        units += "\nWHERE " + " OR ".join(where)
    conditions = _conditions(parts["filters"], p, "population.filters")
    group_sql = ""
    if groups:
        matches = {g: " AND ".join(_conditions(groups.get(g) or {}, p,
                                               f"population.groups.{g}")) or "TRUE"
                   for g in GROUPS}
        group_sql = (f"CASE WHEN {matches['study']} THEN 'study' "
                     f"WHEN {matches['comparison']} THEN 'comparison' END")
        conditions.append(f"({matches['study']} OR {matches['comparison']})")
    columns = [v for v in parts["variables"] if v not in ("spell_start", "spell_end")]
    out_cols = ", ".join(([f'{group_sql} AS "{GROUP}"'] if groups else [])
                         + [f"u.{c}" for c in columns] + ["u.spell_start", "u.spell_end"])
    sql = f"""
SELECT CAST(ROW_NUMBER() OVER (ORDER BY md5(u.niss || ':' || CAST(u.spell_id AS VARCHAR)),
                                u.spell_id) AS VARCHAR) AS record_id,
       u.niss, {out_cols}
FROM ({units}) u
{("WHERE " + " AND ".join(conditions)) if conditions else ""}
ORDER BY md5(u.niss || ':' || CAST(u.spell_id AS VARCHAR)), u.spell_id"""
    used_params = set(re.findall(r"\$(p\d+)\b", sql))  # the contract joins left out take theirs
    return sql, {k: v for k, v in params.items() if k in used_params}


def _conditions(filters: dict[str, Any], p: Any, where: str) -> list[str]:
    """SQL conditions over the `u` units for a filter set (a list of values or {min, max})."""
    out = []
    for name, rule in filters.items():
        if isinstance(rule, list):
            if not rule:
                raise PrimexError("an empty list of values keeps nobody", where=f"{where}.{name}")
            out.append(f"u.{name} IN ({', '.join(p(v) for v in rule)})")
        elif isinstance(rule, Mapping):
            if rule.get("min") is not None:
                out.append(f"u.{name} >= {p(_number(rule['min']))}")
            if rule.get("max") is not None:
                out.append(f"u.{name} <= {p(_number(rule['max']))}")
        else:
            raise PrimexError("a filter is a list of values or {min, max}",
                              where=f"{where}.{name}")
    return out


def geo_values() -> str:
    """The REFNIS geography as SQL VALUES rows (commune, arrondissement, province, region)."""
    from primex.catalogue import geography

    frame = geography.communes()
    return ",".join(
        f"('{r.commune}','{r.arrondissement}','{r.province}','{r.region}')"
        for r in frame.itertuples()
    )


def with_geo(sql: str) -> str:
    """The query with the geography inline (for a read-only session without a geo table)."""
    return ("WITH geo (commune, arrondissement, province, region) AS "
            f"(VALUES {geo_values()})\n{sql}")


@dataclass(frozen=True)
class DataCoverage:
    """The months the current PRIMA data cover (from its `snapshot` table): a request's
    period must lie inside them (validation)."""

    first_month: date
    last_month: date


COVERAGE_SQL = "SELECT start_month, months FROM snapshot LIMIT 1"


def coverage_from(row: tuple[Any, ...] | None) -> DataCoverage | None:
    """The coverage from the answer to COVERAGE_SQL (None: no snapshot row)."""
    if row is None:
        return None
    start: date = row[0]
    last = start.year * 12 + start.month - 1 + int(row[1]) - 1
    return DataCoverage(date(start.year, start.month, 1), date(last // 12, last % 12 + 1, 1))


# The last month paid in the data: a spell paid in it is running (its exit is unknown).
DATA_LAST_SQL = "SELECT MAX(month) AS m FROM benefit_month"


def data_last_from(value: Any) -> date:
    """The data's last month (the answer to DATA_LAST_SQL): a spell paid in it is running."""
    if value is None:
        raise PrimexError("PRIMA has no benefit months", where="benefit_month")
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def finish(table: pa.Table, parts: dict[str, Any]) -> pa.Table:
    """The query's result with each requested hierarchy level mapped from its base value to
    the level's label (`age_10y`: 34 -> `30-39`); missing values stay missing."""
    import pyarrow as pa

    from primex.catalogue import hierarchy

    catalogue = load_catalogue()
    for name, base_name in level_bases(parts["variables"]).items():
        if name not in table.column_names:
            continue
        base = catalogue.get(base_name)
        values = table.column(name).to_pylist()
        texts = [base.format_value(v) for v in values]
        distinct = sorted({t for t in texts if t})
        labels: dict[str, str] = {}
        if distinct:
            frame = hierarchy.build(base, distinct)
            labels = dict(zip(frame[base_name].astype(str), frame[name].astype(str),
                              strict=True))
        index = table.column_names.index(name)
        table = table.set_column(index, pa.field(name, pa.string()),
                                 pa.array([labels.get(t) if t else None for t in texts],
                                          pa.string()))
    return table
