"""The ad hoc extraction (SPP side): one approved request → `extract.parquet` + `manifest.json`.

The unit is one row per person and spell (consecutive months of one benefit at one CPAS) that
overlaps the request's period. Columns: `record_id`, `niss` (it goes to the BCSS for coding,
nowhere else), `spp_record_key` (the SPP's keyed hash of the person, see `record_key`), the
requested PRIMA variables, then `spell_start` / `spell_end` (the events the BCSS links at).
The request's linkage points, its variable list and its spec hash travel in the Parquet
schema metadata (`primex.linkage`, `primex.variables`, `primex.spec_sha256`).

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
  `piis_outcome`: those of the latest PIIS starting in or before the period.

Population: spells of the listed benefits RI / ERIS (both when only art60 / art61 / PIIS are
listed); listing art60, art61 or PIIS also requires such a contract in the period. Filters use
catalogue variables: a list of values, or a range `{min, max}`.

Rows are numbered in the order of an MD5 of (niss, spell id), so that `record_id` carries no
information (ordering by NISS would order by birth date). The SQL is standard apart from
`md5`, which DuckDB and Spark SQL both provide; everything goes through the Engine interface.
Two runs on the same data write byte-identical files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from primex.atomic import write_via
from primex.catalogue import geography, load_catalogue
from primex.errors import PrimexError
from primex.extract import record_key
from primex.extract.engine import DuckDBEngine, Engine
from primex.extract.manifest import atomic_write, code_version, dumps, file_entries, sha256_file
from primex.extract.postgres import PostgresEngine, redact_url
from primex.home import Home

KIND = "primex.extract.adhoc"
EXTRACT = "extract.parquet"
MANIFEST = "manifest.json"
PRIMA_TABLES = ("person", "benefit_month", "employment_measure", "piis", "snapshot")
SPELL_BENEFITS = ("RI", "ERIS")
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


@dataclass
class AdhocResult:
    folder: Path
    extract: Path
    manifest_path: Path
    manifest: dict[str, Any]
    rows: int


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _plain(value: Any) -> Any:
    """A spec value as plain JSON (pydantic models dumped; integral floats made ints)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _month(text: str, *, end: bool) -> date:
    from primex.requests.spec import period_bound

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


def spec_parts(spec: Any) -> dict[str, Any]:
    """The fields extraction needs, from the pydantic RequestSpec or a plain dict."""
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
    return {
        "benefits": [str(b) for b in (_field(population, "benefits") or [])],
        "start": start,
        "end": end,
        "filters": _plain(_field(population, "filters") or {}),
        "variables": variables,
        "linkage": _plain(_field(spec, "linkage") or []),
    }


def _check_variables(names: list[str], where: str) -> None:
    catalogue = load_catalogue()
    for name in names:
        var = catalogue.get(name)  # unknown names: PrimexError with close matches
        if var.role == "direct_identifier":
            raise PrimexError(
                f"{name!r} is a direct identifier and is never extracted",
                where=where,
                hint="ask for age instead of birth_date",
            )
        if var.source != "prima" or name not in EXPRESSIONS:
            raise PrimexError(
                f"{name!r} is not a PRIMA variable of an ad hoc extract",
                where=where,
                hint="warehouse variables go under linkage:",
            )


def _check_linkage(linkage: list[Any]) -> None:
    """Warehouse variables and `entry|exit±Nq` points (checked here too, so that a bad spec
    fails on the SPP side before anything is sent to the BCSS)."""
    catalogue = load_catalogue()
    for i, block in enumerate(linkage):
        if not isinstance(block, Mapping) or not block.get("variables") or not block.get("at"):
            raise PrimexError("a linkage block needs variables and at", where=f"linkage[{i}]")
        for name in block["variables"]:
            if catalogue.get(str(name)).source != "bcss":
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


def build_sql(parts: dict[str, Any], data_last: date) -> tuple[str, dict[str, Any]]:
    """The extraction query and its named parameters (standard SQL + md5)."""
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
    wanted = list(dict.fromkeys([*parts["variables"], *parts["filters"].keys()]))
    select = ",\n       ".join(
        f"{EXPRESSIONS[v]} AS {v}" for v in wanted if v not in ("spell_start", "spell_end")
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
        alias = {"art60": "a60", "art61": "a61", "PIIS": "pi"}.get(measure)
        if alias is None:
            raise PrimexError(
                f"unknown benefit {measure!r}",
                where="population.benefits",
                hint="RI, ERIS, art60, art61 or PIIS",
            )
        where.append(f"{alias}.niss IS NOT NULL")
    if where:
        units += "\nWHERE " + " OR ".join(where)
    conditions = []
    for name, rule in parts["filters"].items():
        if isinstance(rule, list):
            if not rule:
                raise PrimexError(
                    "an empty list of values keeps nobody", where=f"population.filters.{name}"
                )
            conditions.append(f"u.{name} IN ({', '.join(p(v) for v in rule)})")
        elif isinstance(rule, Mapping):
            if rule.get("min") is not None:
                conditions.append(f"u.{name} >= {p(_number(rule['min']))}")
            if rule.get("max") is not None:
                conditions.append(f"u.{name} <= {p(_number(rule['max']))}")
        else:
            raise PrimexError(
                "a filter is a list of values or {min, max}", where=f"population.filters.{name}"
            )
    columns = [v for v in parts["variables"] if v not in ("spell_start", "spell_end")]
    out_cols = ", ".join([f"u.{c}" for c in columns] + ["u.spell_start", "u.spell_end"])
    sql = f"""
SELECT CAST(ROW_NUMBER() OVER (ORDER BY md5(u.niss || ':' || CAST(u.spell_id AS VARCHAR)),
                                u.spell_id) AS VARCHAR) AS record_id,
       u.niss, {out_cols}
FROM ({units}) u
{("WHERE " + " AND ".join(conditions)) if conditions else ""}
ORDER BY md5(u.niss || ':' || CAST(u.spell_id AS VARCHAR)), u.spell_id"""
    used = set(re.findall(r"\$(p\d+)\b", sql))  # the contract joins left out take theirs
    return sql, {k: v for k, v in params.items() if k in used}


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return float(value)
    return value


def _geo_values() -> str:
    frame = geography.communes()
    return ",".join(
        f"('{r.commune}','{r.arrondissement}','{r.province}','{r.region}')"
        for r in frame.itertuples()
    )


def open_prima(home: Home) -> Engine:
    """PRIMA's tables behind the Engine interface: a read-only PostgreSQL session when the
    home points at one (`--prima`), else an in-memory DuckDB with the file's tables as views
    and the geography table."""
    if home.prima_url:
        return PostgresEngine(home.prima_url)
    path = home.prima_db
    if not path.exists():
        raise PrimexError(
            "PRIMA database not found",
            where=str(path),
            hint="generate it with `primex synth generate` or check --home",
        )
    engine = DuckDBEngine(None)
    engine.attach(path, "prima")
    for table in PRIMA_TABLES:
        engine.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM prima.{table}")
    engine.execute(
        "CREATE TEMP TABLE geo (commune VARCHAR, arrondissement VARCHAR, "
        "province VARCHAR, region VARCHAR)"
    )
    engine.execute(f"INSERT INTO geo VALUES {_geo_values()}")
    return engine


def _query_postgres(engine: PostgresEngine, sql: str, params: dict[str, Any]) -> pa.Table:
    """The whole extraction query runs in PostgreSQL (filters, joins, grouping, numbering,
    order); the geography travels inline (the session is read-only). The result is cast to
    the types DuckDB gives for the same query on tables of the same types, so the written
    file is byte-identical to the DuckDB path's."""
    geo = ("WITH geo (commune, arrondissement, province, region) AS "
           f"(VALUES {_geo_values()})\n")
    table = engine.query(geo + sql, params)
    with DuckDBEngine(None) as duck:
        for name in PRIMA_TABLES:
            duck.connection.register(f"_{name}", engine.schema_of(name).empty_table())
            duck.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM _{name}")
        duck.execute("CREATE TEMP TABLE geo (commune VARCHAR, arrondissement VARCHAR, "
                     "province VARCHAR, region VARCHAR)")
        schema = duck.query(f"SELECT * FROM ({sql}) q LIMIT 0", params).schema
    if table.column_names != schema.names:
        raise PrimexError("PostgreSQL and DuckDB disagree on the extract's columns",
                          where=engine.name, hint="report this bug")
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise PrimexError(f"a PRIMA column has an unexpected type ({type(exc).__name__})",
                          where=engine.name,
                          hint="check the tables against docs/data-model.md") from None


def _snapshot(engine: Engine) -> dict[str, Any]:
    rows = engine.query("SELECT * FROM snapshot").to_pylist()
    return {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in (rows[0] if rows else {}).items()
    }


def _data_last_month(engine: Engine) -> date:
    row = engine.query("SELECT MAX(month) AS m FROM benefit_month").to_pylist()[0]
    if row["m"] is None:
        raise PrimexError("PRIMA has no benefit months", where="benefit_month")
    return row["m"]


def spec_sha256_of(spec: Any) -> str:
    from primex.audit.canonical import sha256_hex

    return sha256_hex(_plain(spec))


def build_extract(
    home: Home,
    request_id: str,
    spec: Any,
    *,
    spec_sha256: str | None = None,
    out_dir: Path | None = None,
) -> AdhocResult:
    """Extract one request into `<home>/spp/work/<request_id>/` (or `out_dir`)."""
    parts = spec_parts(spec)
    _check_variables(parts["variables"], "variables")
    _check_variables(list(parts["filters"]), "population.filters")
    _check_linkage(parts["linkage"])
    spec_sha = spec_sha256 or spec_sha256_of(spec)
    folder = out_dir or home.spp_work / request_id
    engine = open_prima(home)
    try:
        snapshot = _snapshot(engine)
        sql, params = build_sql(parts, _data_last_month(engine))
        if isinstance(engine, PostgresEngine):
            table = _query_postgres(engine, sql, params)
        else:
            table = engine.query(sql, params)
    finally:
        engine.close()
    meta = {
        b"primex.request": request_id.encode(),
        b"primex.spec_sha256": spec_sha.encode(),
        b"primex.variables": json.dumps(parts["variables"]).encode(),
        b"primex.linkage": json.dumps(parts["linkage"], sort_keys=True).encode(),
        b"primex.kind": KIND.encode(),
    }
    secret = record_key.load_or_create(home)
    table = _with_record_key(table, secret)
    table = table.replace_schema_metadata(meta)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / EXTRACT
    write_via(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    manifest = {
        "kind": KIND,
        "request": request_id,
        "spec_sha256": spec_sha,
        "snapshot": snapshot,
        "sources": [{"name": redact_url(home.prima_url), "kind": "postgresql"}
                    if home.prima_url else
                    {"name": home.prima_db.name, "sha256": sha256_file(home.prima_db)}],
        "parameters": {
            "benefits": parts["benefits"],
            "period": {"start": parts["start"].isoformat(), "end": parts["end"].isoformat()},
            "filters": parts["filters"],
            "variables": parts["variables"],
            "linkage": parts["linkage"],
        },
        "columns": {
            "niss": "national number (NISS), for the BCSS coding only; dropped by it",
            record_key.COLUMN: record_key.DESCRIPTION,
        },
        "record_key_id": record_key.key_id(secret),
        "rows": table.num_rows,
        "code_version": code_version(),
        "files": file_entries(folder, [EXTRACT]),
    }
    manifest_path = folder / MANIFEST
    atomic_write(manifest_path, dumps(manifest))
    return AdhocResult(folder, path, manifest_path, manifest, table.num_rows)


def _with_record_key(table: pa.Table, key: bytes) -> pa.Table:
    """`spp_record_key` (contract C2) right after `niss`, described in its field metadata."""
    field = pa.field(record_key.COLUMN, record_key.ARROW_TYPE,
                     metadata={b"description": record_key.DESCRIPTION.encode()})
    position = table.column_names.index("niss") + 1
    return table.add_column(position, field, record_key.record_keys(table.column("niss"), key))


def record_extraction(home: Home, request_id: str, result: AdhocResult, signer: Any) -> int:
    """Append the signed `extraction` event (manifest_sha256 = canonical SHA-256 of the
    manifest, as the audit log checks); returns the entry's sequence number."""
    from primex.audit.canonical import sha256_hex
    from primex.audit.log import open_log

    entry = open_log(home).append(
        "extraction",
        request_id,
        {
            "manifest_sha256": sha256_hex(result.manifest),
            "manifest": result.manifest,
            "snapshot": result.manifest["snapshot"],
        },
        signer,
    )
    return int(entry.seq)


def extract_request(home: Home, request_id: str, signer: Any) -> tuple[AdhocResult, int]:
    """The whole SPP step for an approved request: read the submitted spec from the store,
    extract, record the signed event."""
    from primex.audit.log import open_log
    from primex.requests.store import load_submitted

    state = open_log(home).state(request_id)
    if state.state not in ("approved", "extracted", "coded", "protected"):
        raise PrimexError(
            f"request {request_id} is {state.state}; only an approved request is extracted",
            where=request_id,
            hint="the privacy officer approves it first",
        )
    if getattr(signer, "role", None) != "spp_operator":
        raise PrimexError(
            f"key {getattr(signer, 'name', '?')!r} is not an spp_operator key",
            where="--as",
            hint="the extraction is signed by the SPP operator",
        )
    spec, _raw, sha = load_submitted(home, request_id)
    result = build_extract(home, request_id, spec, spec_sha256=sha)
    return result, record_extraction(home, request_id, result, signer)
