"""The BCSS batch: `primex linkage code --request ID --in extract.parquet --out coded.parquet`.

1. read the SPP extract (record_id, niss, spp_record_key, PRIMA variables, spell_start /
   spell_end; the linkage points travel in its Parquet metadata `primex.linkage`); when the
   request is in the audit log, its SHA-256 must be in the latest `extraction` event;
2. validate every NISS; invalid ones are counted by reason (never shown) and dropped;
3. pseudonymise the valid ones under the project key of the request (`K_P`);
4. join the warehouse variables at the requested quarters (`join.py`);
5. drop the NISS and every direct identifier of the catalogue (`spp_record_key`, an opaque
   binary key of the SPP, passes through unchanged), refuse to write if anything that looks
   like a NISS is still in any column (`niss_scan`), write `coded.parquet` with `primex.key_id`
   in its schema metadata, the linkage report (JSON + Markdown) and `manifest.json`;
6. append the signed `coding` event to the audit log when the request is in it.

Outputs go to the folder of `--out`, which must not be the folder of the input (the
extraction's own manifest.json lives there).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from primex.atomic import write_via
from primex.audit.canonical import sha256_hex
from primex.catalogue import load_catalogue
from primex.catalogue.censoring import CENSORING_CODES
from primex.errors import IntegrityError, PrimexError
from primex.extract.manifest import atomic_write, code_version, dumps, file_entries, sha256_file
from primex.extract.record_key import COLUMN as RECORD_KEY
from primex.extract.record_key import RECORD_BYTES as RECORD_KEY_BYTES
from primex.home import Home
from primex.linkage import engines, join, keystore, niss, niss_scan
from primex.linkage.pseudonym import SCHEME, key_id

CODED_KIND = "primex.linkage.coding"
REPORT_JSON = "linkage-report.json"
REPORT_MD = "linkage-report.md"
MANIFEST = "manifest.json"
STRATA = ("region", "benefit")
# Columns that identify a person directly even if the catalogue does not list them.
ALWAYS_DROP = frozenset({"niss", "nn11", "birth_date", "household_id"})


@dataclass
class CodingResult:
    coded: Path
    report_json: Path
    report_md: Path
    manifest: Path
    manifest_sha256: str
    key_id: str
    report: dict[str, Any]
    audit_seq: int | None = None
    notes: list[str] = field(default_factory=list)


def direct_identifiers() -> set[str]:
    return {v.name for v in load_catalogue().by_role("direct_identifier")} | set(ALWAYS_DROP)


def read_extract(path: Path) -> tuple[pa.Table, dict[str, Any]]:
    """The extract and {name, bytes, sha256} of the very bytes it was parsed from (read
    once, so the file cannot change between the hash check and the coding)."""
    if not path.is_file():
        raise PrimexError(
            "extract file not found",
            where=str(path),
            hint="give the extract.parquet the SPP side sent",
        )
    try:
        data = path.read_bytes()
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise PrimexError(
            f"not a readable Parquet file ({type(exc).__name__})", where=str(path)
        ) from None
    missing = [c for c in ("record_id", "niss") if c not in table.column_names]
    if missing:
        raise PrimexError(
            f"the extract has no column {', '.join(missing)}",
            where=str(path),
            hint="the SPP extract must carry record_id and niss",
        )
    return table, {"name": path.name, "bytes": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()}


def linkage_of(table: pa.Table) -> list[dict[str, Any]]:
    meta = table.schema.metadata or {}
    raw = meta.get(b"primex.linkage")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        raise PrimexError(
            "the extract's primex.linkage metadata is not JSON", where="extract.parquet"
        ) from None
    if not isinstance(value, list):
        raise PrimexError(
            "the extract's primex.linkage metadata is not a list", where="extract.parquet"
        )
    return value


def code_extract(
    home: Home,
    request_id: str,
    in_path: Path,
    out_path: Path,
    *,
    signer_name: str | None = None,
    signer: Any = None,
    passphrase: str | None = None,
    project_key: bytes | None = None,
    engine: str = "duckdb",
    warehouse: Path | None = None,
) -> CodingResult:
    """Run the whole batch; see the module docstring. `project_key` bypasses the keystore
    (tests and benchmarks); the CLI always goes through the keystore. The coding event is
    signed by `signer` (a primex.audit Signer) or the key called `signer_name`. `engine`
    (duckdb | spark) and `warehouse` (a DuckDB file or a Parquet folder) choose where
    validation, pseudonymisation and the join run (`primex.linkage.engines`)."""
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.suffix != ".parquet":
        raise PrimexError("the coded file must end in .parquet", where=str(out_path))
    out_dir = out_path.parent
    if out_dir.resolve() == in_path.parent.resolve():
        raise PrimexError(
            "the coded file must go to another folder than the extract",
            where=str(out_path),
            hint=f"e.g. --out {home.bcss_work / request_id / 'coded.parquet'}",
        )
    log, signer = _audit_preflight(home, request_id, signer_name, signer)
    table, received = read_extract(in_path)
    if log is not None:
        _check_recorded_extract(log, request_id, received["sha256"], in_path)
    _check_record_key(table, in_path)
    meta = table.schema.metadata or {}
    meta_request = meta.get(b"primex.request")
    if meta_request and meta_request.decode() != request_id:
        raise PrimexError(
            f"the extract is for request {meta_request.decode()}, not {request_id}",
            where=str(in_path),
            hint="check --request",
        )
    points = join.parse_points(linkage_of(table))
    if points and not {"spell_start", "spell_end"} <= set(table.column_names):
        raise PrimexError("linkage needs the columns spell_start and spell_end", where=str(in_path))
    engines.check_engine(engine, home, warehouse)
    if project_key is None:
        project_key = keystore.project_key(home, request_id, passphrase)
    kid = key_id(project_key)

    # 1. validate and 2. pseudonymise (vectorised, in the chosen engine)
    nn11s, reasons, pseudonyms = engines.check_and_pseudonymise(
        engine, table.column("niss"), project_key)
    valid_mask = pa.array(reasons == 0)
    invalid = niss.count_reason_codes(reasons)
    valid = table.filter(valid_mask)
    valid_nn11 = nn11s.filter(valid_mask)

    # 3. join the warehouse
    linked, ranges = _join(home, valid, valid_nn11, points, engine, warehouse)
    in_warehouse = linked.column("in_warehouse").to_numpy(zero_copy_only=False).astype(bool)

    # 4. assemble the coded table (no NISS, no direct identifier)
    requested = _requested_variables(meta)
    drop = direct_identifiers()
    keep = [
        c
        for c in valid.column_names
        if c not in drop
        and c not in {"record_id", "pseudonym", RECORD_KEY}
        and not (requested is not None and c in {"spell_start", "spell_end"} and c not in requested)
    ]
    arrays = [pseudonyms, valid.column("record_id").combine_chunks()]
    names = ["pseudonym", "record_id"]
    if RECORD_KEY in valid.column_names:  # contract C2: passed through unchanged
        arrays.append(valid.column(RECORD_KEY).combine_chunks())
        names.append(RECORD_KEY)
    for c in keep:
        arrays.append(valid.column(c).combine_chunks())
        names.append(c)
    for p in points:
        arrays.append(linked.column(p.column).combine_chunks())
        names.append(p.column)
    coded = pa.table(arrays, names=names)
    _refuse_leaks(coded, where=str(out_path))
    coded = coded.replace_schema_metadata(_coded_metadata(meta, request_id, kid, points))

    # 5. report, files, manifest
    report = _report(
        table, valid, invalid, in_warehouse, valid_nn11, points, ranges, linked, request_id, kid
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_parquet(coded, out_path)
    report_json = out_dir / REPORT_JSON
    report_md = out_dir / REPORT_MD
    atomic_write(report_json, dumps(report))
    atomic_write(report_md, render_markdown(report).encode())
    manifest = {
        "kind": CODED_KIND,
        "request": request_id,
        "key_id": kid,
        "scheme": SCHEME,
        "inputs": [received],
        "files": file_entries(out_dir, [out_path.name, REPORT_JSON, REPORT_MD]),
        "code_version": _code_version(),
    }
    manifest_path = out_dir / MANIFEST
    atomic_write(manifest_path, dumps(manifest))
    manifest_sha = sha256_hex(manifest)
    result = CodingResult(
        out_path, report_json, report_md, manifest_path, manifest_sha, kid, report
    )

    # 6. audit
    if log is not None and signer is not None:
        entry = log.append(
            "coding",
            request_id,
            {
                "key_id": kid,
                "manifest_sha256": manifest_sha,
                "manifest": manifest,
                "report_sha256": sha256_file(report_json),
                "summary": _summary(report),
            },
            signer,
        )
        result.audit_seq = entry.seq
    else:
        result.notes.append(f"request {request_id} is not in the audit log: no coding event")
    return result


def _audit_preflight(
    home: Home, request_id: str, signer_name: str | None, signer: Any
) -> tuple[Any, Any]:
    """The log and the signer if the request is in the log (checked before any work)."""
    from primex.audit.log import open_log

    if not (home.audit / "entries.jsonl").exists():
        return None, None
    log = open_log(home, create=False)
    if request_id not in log.requests():
        return None, None
    state = log.state(request_id)
    if state.state not in ("extracted", "coded"):
        raise PrimexError(
            f"request {request_id} is {state.state}; coding needs an extracted request",
            where=request_id,
            hint="the SPP side runs `primex extract request` first",
        )
    if signer is None and not signer_name:
        raise PrimexError(
            f"request {request_id} is in the audit log: the coding must be signed",
            where="--as",
            hint="give the BCSS operator's key name with --as NAME",
        )
    if signer is None:
        from primex.audit.keys import load_signer

        signer = load_signer(home, str(signer_name))
    if signer.role != "bcss_operator":
        raise PrimexError(
            f"key {signer.name!r} has role {signer.role}, not bcss_operator",
            where="--as",
            hint="the coding is signed by a BCSS operator",
        )
    return log, signer


def _code_version() -> dict[str, str]:
    """primex and library versions, plus a hash of this package's own code."""
    version = code_version()
    digest = hashlib.sha256()
    for src in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    version["linkage_sha256"] = digest.hexdigest()
    return version


def _check_recorded_extract(log: Any, request_id: str, in_sha256: str, in_path: Path) -> None:
    """The file must be one the SPP recorded in its latest `extraction` event (contract C1).

    Fail closed: no extraction event, or one without a manifest that hashes to its
    `manifest_sha256`, proves nothing, so the coding is refused."""
    extractions = [e for e in log.entries(request_id) if e.type == "extraction"]
    if not extractions:
        raise IntegrityError(
            f"request {request_id} has no extraction event to check the extract against",
            where=str(in_path), hint="the SPP runs `primex extract request` first",
        )
    latest = extractions[-1]
    manifest = latest.body.get("manifest")
    if not isinstance(manifest, dict) or sha256_hex(manifest) != latest.body.get(
        "manifest_sha256"
    ):
        raise IntegrityError(
            f"the latest extraction event (entry {latest.seq}) records no manifest of its "
            "files, so the extract cannot be proven to be the SPP's",
            where=str(in_path), hint="the SPP extracts again with `primex extract request`",
        )
    files = manifest.get("files")
    recorded = {f.get("sha256") for f in files if isinstance(f, dict)} if isinstance(
        files, list) else set()
    if in_sha256 not in recorded:
        raise IntegrityError(
            "this extract is not the one the SPP recorded for the request (SHA-256 differs "
            f"from the latest extraction event, entry {latest.seq})",
            where=str(in_path),
            hint="ask the SPP for the extract of its latest extraction",
        )


def _check_record_key(table: pa.Table, in_path: Path) -> None:
    """`spp_record_key` (contract C2) passes through unchanged; it must be what the SPP
    writes, so that no text column can hide under its name."""
    if RECORD_KEY in table.column_names and table.schema.field(RECORD_KEY).type != pa.binary(
        RECORD_KEY_BYTES
    ):
        raise PrimexError(
            f"column {RECORD_KEY} must be fixed_size_binary({RECORD_KEY_BYTES}), not "
            f"{table.schema.field(RECORD_KEY).type}",
            where=str(in_path), hint="use the extract.parquet written by the SPP",
        )


def _requested_variables(meta: dict[bytes, bytes]) -> set[str] | None:
    raw = meta.get(b"primex.variables")
    if not raw:
        return None
    try:
        return set(json.loads(raw))
    except ValueError:
        return None


def _join(
    home: Home, valid: pa.Table, valid_nn11: pa.Array, points: list[join.LinkPoint],
    engine_name: str = "duckdb", warehouse: Path | None = None,
) -> tuple[pa.Table, dict[str, dict[str, int]]]:
    """Run the warehouse join on a temporary Parquet file of the valid rows (the engine
    interface reads Parquet, so the same code runs on another engine)."""
    cols: dict[str, Any] = {
        "row_pos": pa.array(np.arange(valid.num_rows, dtype=np.int64)),
        "niss": valid_nn11,
    }
    for c in ("spell_start", "spell_end"):
        if c in valid.column_names:
            try:
                cols[c] = valid.column(c).combine_chunks().cast(pa.date32())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise PrimexError(
                    f"column {c} must hold dates (first day of the month)",
                    where=f"extract column {c}",
                ) from None
        else:
            cols[c] = pa.nulls(valid.num_rows, pa.date32())
    persons = pa.table(cols)
    work = home.ensure(home.bcss_work)
    tmp = Path(tempfile.mkdtemp(prefix=".join-", dir=work))
    try:
        path = tmp / "persons.parquet"
        pq.write_table(persons, path)
        with engines.open_warehouse(engine_name, home, warehouse) as engine:
            engine.register_parquet("link_persons", path)
            linked = join.join_positions(engine, "link_persons", points)
            ranges = join.target_quarters(engine, "link_persons", points) if points else {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if linked.num_rows != valid.num_rows:  # one output row per valid input row, always
        raise IntegrityError(
            "the warehouse join changed the number of rows", hint="report this bug"
        )
    return linked, ranges


def _coded_metadata(
    meta: dict[bytes, bytes], request_id: str, kid: str, points: list[join.LinkPoint]
) -> dict[bytes, bytes]:
    out = {k: v for k, v in meta.items() if k.startswith(b"primex.") and k != b"primex.linkage"}
    out[b"primex.key_id"] = kid.encode()
    out[b"primex.scheme"] = SCHEME.encode()
    out[b"primex.request"] = request_id.encode()
    out[b"primex.linked"] = json.dumps([p.column for p in points]).encode()
    if b"primex.linkage" in meta:
        out[b"primex.linkage"] = meta[b"primex.linkage"]
    return out


def _write_parquet(table: pa.Table, path: Path) -> None:
    write_via(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def _refuse_leaks(table: pa.Table, *, where: str) -> None:
    """Last line of defence: nothing that is a valid NISS may be written, in any column of
    any type, with or without separators (`niss_scan`).

    The pseudonym column is skipped: it is generated here (32 hex characters), and a random
    hex string holds an 11-digit run passing mod 97 about once in 3 000 rows."""
    findings = niss_scan.scan_table(table, skip=frozenset({"pseudonym"}))
    unscannable = [f for f in findings if f.kind.startswith("unscannable")]
    if unscannable:  # fail closed: what cannot be checked is not written
        raise IntegrityError(
            f"column {unscannable[0].column!r} has a type the NISS guard cannot check "
            f"({unscannable[0].kind.removeprefix('unscannable type ')}); nothing was written",
            where=where, hint="drop that column from the extract or store it as text",
        )
    if findings:
        first = findings[0]
        what = (f"the name of column {first.column}" if first.kind == "column name"
                else f"column {first.column!r} ({first.kind}, {first.cells} value(s))")
        more = f" and {len(findings) - 1} more column(s)" if len(findings) > 1 else ""
        raise IntegrityError(
            f"{what}{more} still holds national numbers; nothing was written",
            where=where,
            hint="drop that column from the extract or mark it direct_identifier",
        )


def _report(
    table: pa.Table,
    valid: pa.Table,
    invalid: dict[str, int],
    in_warehouse: np.ndarray,
    valid_nn11: pa.Array,
    points: list[join.LinkPoint],
    ranges: dict[str, dict[str, int]],
    linked: pa.Table,
    request_id: str,
    kid: str,
) -> dict[str, Any]:
    # Counts with Arrow group-bys: Python Counters over a million rows cost seconds.
    rows_in = table.num_rows
    n_valid = valid.num_rows
    distinct_records = pc.count_distinct(table.column("record_id"), mode="all").as_py()
    per_person = pc.value_counts(valid_nn11).field("counts").to_numpy(zero_copy_only=False)
    persons = len(per_person)
    same_spell = 0
    if "spell_start" in valid.column_names:
        pairs = pa.table({"p": valid_nn11, "s": valid.column("spell_start")})
        same_spell = n_valid - pairs.group_by(["p", "s"]).aggregate([]).num_rows
    matched = int(in_warehouse.sum())
    strata: dict[str, list[dict[str, Any]]] = {}
    for stratum in STRATA:
        if stratum not in valid.column_names:
            continue
        counts = (
            pa.table({"v": valid.column(stratum), "u": pa.array(~in_warehouse.astype(bool))})
            .group_by("v", use_threads=False)
            .aggregate([([], "count_all"), ("u", "sum")])
        )
        total = dict(
            zip(counts.column("v").to_pylist(), counts.column("count_all").to_pylist(), strict=True)
        )
        unmatched = dict(
            zip(counts.column("v").to_pylist(), counts.column("u_sum").to_pylist(), strict=True)
        )
        strata[stratum] = [
            {
                "value": v,
                "rows": total[v],
                "unmatched": int(unmatched.get(v) or 0),
                "unmatched_pct": _pct(int(unmatched.get(v) or 0), total[v]),
            }
            for v in sorted(total, key=lambda x: (x is None, str(x)))
        ]
    linked_summary = []
    for p in points:
        values = linked.column(p.column)
        rng = ranges.get(p.suffix, {})
        linked_summary.append(
            {
                "column": p.column,
                # an observed value: neither NULL nor a censoring code
                "with_value": values.length() - values.null_count - (
                    int(pc.sum(pc.is_in(values, value_set=pa.array(list(CENSORING_CODES))))
                        .as_py() or 0) if pa.types.is_string(values.type) else 0),
                "no_event": rng.get("no_event", 0),
                "beyond_data": rng.get("beyond_data", 0),
                "in_range": rng.get("in_range", 0),
            }
        )
    return {
        "kind": "primex.linkage.report",
        "request": request_id,
        "key_id": kid,
        "rows_in": rows_in,
        "valid": n_valid,
        "invalid": sum(invalid.values()),
        "invalid_by_reason": invalid,
        "persons": persons,
        "matched_in_warehouse": matched,
        "matched_pct": _pct(matched, n_valid),
        "unmatched_in_warehouse": n_valid - matched,
        "unmatched_by_stratum": strata,
        "duplicates": {
            "record_ids": rows_in - distinct_records,
            "rows_sharing_a_person": n_valid - persons,
            "persons_with_several_rows": int((per_person > 1).sum()),
            "same_person_same_spell_start": same_spell,
        },
        "linked": linked_summary,
    }


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the audit entry records: counts only (integers: canonical JSON has no floats)."""
    return {
        "rows_in": report["rows_in"],
        "valid": report["valid"],
        "invalid_by_reason": report["invalid_by_reason"],
        "matched_in_warehouse": report["matched_in_warehouse"],
        "linked_columns": [x["column"] for x in report["linked"]],
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Linkage report — {report['request']}",
        "",
        f"Key id: `{report['key_id']}` (scheme {SCHEME}). No national number is shown here.",
        "",
        "| | rows |",
        "| --- | ---: |",
        f"| rows in | {report['rows_in']} |",
        f"| valid NISS | {report['valid']} |",
        f"| invalid NISS (dropped) | {report['invalid']} |",
        f"| distinct persons | {report['persons']} |",
        f"| matched in the warehouse | {report['matched_in_warehouse']} "
        f"({report['matched_pct']} %) |",
        f"| not in the warehouse | {report['unmatched_in_warehouse']} |",
        "",
        "## Invalid numbers by reason",
        "",
        "| reason | rows |",
        "| --- | ---: |",
    ]
    for reason in niss.Reason:
        lines.append(f"| {niss.REASON_LABELS[reason]} | {report['invalid_by_reason'][reason]} |")
    lines += ["", "## Duplicates", "", "| check | count |", "| --- | ---: |"]
    for k, v in report["duplicates"].items():
        lines.append(f"| {k.replace('_', ' ')} | {v} |")
    for stratum, rows in report["unmatched_by_stratum"].items():
        lines += [
            "",
            f"## Not in the warehouse, by {stratum}",
            "",
            f"| {stratum} | rows | unmatched | % |",
            "| --- | ---: | ---: | ---: |",
        ]
        for r in rows:
            lines.append(
                f"| {r['value']} | {r['rows']} | {r['unmatched']} | {r['unmatched_pct']} |"
            )
    if report["linked"]:
        lines += [
            "",
            "## Linked columns",
            "",
            "| column | with a value | no event (spell running) | target beyond the "
            "warehouse | target inside |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for r in report["linked"]:
            lines.append(
                f"| {r['column']} | {r['with_value']} | {r['no_event']} | "
                f"{r['beyond_data']} | {r['in_range']} |"
            )
    return "\n".join(lines) + "\n"
