"""The ad hoc extraction (SPP side): one approved request → `extract.parquet` + `manifest.json`.

The unit is one row per person and spell that overlaps the request's period, as
`primex.requests.population` defines it (the same function serves validation and the
pre-assessment, so what was assessed is what is extracted). Columns: `record_id`, `niss` (it
goes to the BCSS for coding, nowhere else), `spp_record_key` (the SPP's keyed hash of the
person, see `record_key`), `group` (study | comparison, when the request has groups), the
requested PRIMA variables (hierarchy levels by their label), then `spell_start` /
`spell_end` (the events the BCSS links at). The request's linkage points, its variable list
and its spec hash travel in the Parquet schema metadata (`primex.linkage`,
`primex.variables`, `primex.spec_sha256`).

Everything goes through the Engine interface. Two runs on the same data write
byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from primex.atomic import write_via
from primex.errors import PrimexError
from primex.extract import record_key
from primex.extract.engine import DuckDBEngine, Engine
from primex.extract.manifest import atomic_write, code_version, dumps, file_entries, sha256_file
from primex.extract.postgres import PostgresEngine, redact_url
from primex.home import Home
from primex.requests.population import (
    DATA_LAST_SQL,
    EXPRESSIONS,
    build_sql,
    check_parts,
    data_last_from,
    finish,
    geo_values,
    plain,
    spec_parts,
)

KIND = "primex.extract.adhoc"
EXTRACT = "extract.parquet"
MANIFEST = "manifest.json"
PRIMA_TABLES = ("person", "benefit_month", "employment_measure", "piis", "snapshot")
# re-exported: the extraction's variables are the population's
__all__ = ["EXPRESSIONS", "AdhocResult", "build_extract", "build_sql", "extract_request",
           "record_extraction", "spec_parts"]

@dataclass
class AdhocResult:
    folder: Path
    extract: Path
    manifest_path: Path
    manifest: dict[str, Any]
    rows: int


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
    engine.execute(f"INSERT INTO geo VALUES {geo_values()}")
    return engine


def _query_postgres(engine: PostgresEngine, sql: str, params: dict[str, Any]) -> pa.Table:
    """The whole extraction query runs in PostgreSQL (filters, joins, grouping, numbering,
    order); the geography travels inline (the session is read-only). The result is cast to
    the types DuckDB gives for the same query on tables of the same types, so the written
    file is byte-identical to the DuckDB path's."""
    geo = ("WITH geo (commune, arrondissement, province, region) AS "
           f"(VALUES {geo_values()})\n")
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
    return data_last_from(engine.query(DATA_LAST_SQL).to_pylist()[0]["m"])


def spec_sha256_of(spec: Any) -> str:
    from primex.audit.canonical import sha256_hex

    return sha256_hex(plain(spec))


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
    check_parts(parts)
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
        table = finish(table, parts)
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
            **({"groups": parts["groups"]} if parts["groups"] else {}),
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
