"""The protection step of one request: coded extract in, files that may leave out.

It reads the coded, linked extract (`<work>/coded.parquet`, no NISS) once, after the caller's
check that its SHA-256 is the output the log recorded (CONTRACTS C1), applies the disclosure
parameters in force — the service minimums, tightened by the researcher's proposal, tightened
again by the privacy officer's latest approval or amendment — and, by `output.kind`:

* microdata: optimal k-anonymity (+ l-diversity on the sensitive variables) with local
  suppression (`protect_microdata`);
* tables: each table with primary + secondary suppression and the LP attacker audit, the
  request's tables protected together (shared margins), checked against the release ledger
  for differencing with earlier releases (members keyed by the SPP record key, CONTRACTS C2;
  still flagged after LEDGER_ROUNDS re-protections = refused); or cell-key noise keyed by the
  same record key when `method: cell_key`;
* synthetic: SDV synthesis evaluated against a holdout (`protect_synthetic`).

It writes the data files into `<work>/protected/` and the disclosure report next to them
(`disclosure-report.json`, `.md`). The report binds to the manifest hash of the data files;
the manifest function is passed in by the caller (the release module defines the manifest,
and the flow never imports backwards).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from primex import __version__
from primex.atomic import write_bytes
from primex.catalogue import Policy, load_catalogue, load_policy
from primex.catalogue.levels import conditions_on_columns
from primex.errors import IntegrityError, PrimexError
from primex.exchange.layout import REPORT_JSON, REPORT_MD
from primex.home import Home
from primex.protection.censoring import apply_censoring
from primex.protection.censoring import render_markdown as censoring_md
from primex.protection.files import released_cells, write_frame
from primex.protection.ledger import ReleaseLedger
from primex.protection.micro_report import render_markdown as micro_md
from primex.protection.microdata import protect_microdata
from primex.protection.roles import column_types, roles
from primex.protection.table_levels import TableLevels, choose_levels
from primex.sdc.micro.ldiversity import ldiversity_many
from primex.sdc.synthetic.evaluate import SyntheticThresholds
from primex.sdc.synthetic.synthesize import SynthesisParams, protect_synthetic
from primex.sdc.tables.cellkey import CellKeyParams
from primex.sdc.tables.optimal import OptimumParams, distance_to_optimum
from primex.sdc.tables.protect import attach_memberships, protect_linked_tables, protect_table

# Never released: identifiers and the SPP record key (CONTRACTS C2).
RECORD_KEY = "spp_record_key"
IDENTIFYING = ("niss", "pseudonym", "record_id", RECORD_KEY)
# Re-protection rounds against the differencing ledger before the step gives up (refuses).
LEDGER_ROUNDS = 4


@dataclass
class ProtectionOutcome:
    passed: bool
    kind: str
    files: list[Path]
    report: dict[str, Any]
    manifest_sha256: str | None
    # The file the step read: [{"name", "sha256"}] (the disclosure_result's `inputs`).
    inputs: list[dict[str, str]] = field(default_factory=list)


# Exact secondary suppression for the report (issue 16): small tables, a bounded amount of
# work rather than of time, so that the same data always gives the same report. Cutting
# planes and one short master give the cuts and a bound; the local search then improves the
# best safe pattern (on the sdcTable 1k reference table: 144 -> 132 cells in about 80 s of
# CPU; small tables are proven optimal by the master and skip it).
OPTIMUM_CHECK = OptimumParams(time_limit_s=None, max_cells=1000, max_masters=20,
                              node_limit=100, lp_rounds=5, lns_rounds=80, lns_nodes=300)


def effective_policy(spec: Any, conditions: dict[str, Any] | None) -> Policy:
    """Service minimums, tightened by the researcher's proposal, then by the officer."""
    policy = load_policy().tighten(spec.policy_overrides(), where="request disclosure")
    approved = (conditions or {}).get("disclosure") or {}
    # the number of output checkers the approval pinned (C6), so that the report's
    # "parameters in force" says 2 when the approval asked for four eyes
    checks = (conditions or {}).get("output_checks")
    if isinstance(checks, int) and checks > policy.output_check.checkers:
        policy = policy.tighten({"output_check": {"checkers": checks}},
                                where="approval conditions")
    if not approved:
        return policy
    micro = {k: approved[k] for k in ("k", "l", "max_suppression") if k in approved}
    tables = {k: approved[k] for k in ("min_count", "p_percent") if k in approved}
    if isinstance(approved.get("dominance"), dict):
        tables["dominance"] = dict(approved["dominance"])
    overrides = {"microdata": micro, "tables": tables}

    def number(v: Any) -> Any:  # canonical JSON carries non-integers as decimal strings
        if isinstance(v, dict):
            return {k: number(x) for k, x in v.items()}
        if isinstance(v, str):
            d = Decimal(v)
            return int(d) if d == d.to_integral_value() else float(d)
        return v

    return policy.tighten(
        number({k: v for k, v in overrides.items() if v}), where="approval conditions"
    )


def cellkey_secret(home: Home) -> bytes:
    """The SPP-side secret for cell-key record keys (not the linkage key: the BCSS holds
    that). Created once, file mode 0600; with the stable SPP record key of each person it
    gives the same person the same cell-key record key in every request."""
    path = home.spp / "cellkey.secret"
    if not path.exists():
        write_bytes(path, secrets.token_hex(32).encode("ascii"), mode=0o600)
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        secret = b""
    if len(secret) < 16:
        raise IntegrityError("the cell-key secret is damaged", where=str(path),
                             hint="restore it from the SPP backup (a new one changes the noise)")
    return secret


def _record_keys(data: pd.DataFrame, request_id: str) -> pd.Series:
    """The SPP record key of every row, as hex text (CONTRACTS C2: stable across requests,
    unlike pseudonyms, which are keyed per project). Refuses a file without them: the
    differencing ledger and the cell-key method cannot work on per-project keys."""
    if RECORD_KEY not in data.columns:
        raise PrimexError(
            f"the coded extract has no {RECORD_KEY} column", where=request_id,
            hint="tables are checked against earlier releases by the SPP record key: "
            "extract and code the request again")
    keys = data[RECORD_KEY]
    if keys.isna().any():
        raise PrimexError(f"some rows have no {RECORD_KEY}", where=request_id,
                          hint="extract and code the request again")
    # a list comprehension: a million keys in about 0.25 s (pandas .map is 4 times slower)
    return pd.Series([v.hex() if isinstance(v, bytes) else str(v) for v in keys.tolist()],
                     index=keys.index, name=RECORD_KEY, dtype=object)


def _release(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write a frame that may leave; one holding an identifier or the record key is a bug."""
    leaked = [c for c in df.columns if c in IDENTIFYING]
    if leaked:
        raise IntegrityError(f"refusing to write identifying column(s) {leaked} for release",
                             where=str(path), hint="this is a bug of the protection step")
    return write_frame(df, path, fmt)


def _formatted(column: pd.Series, format_value: Callable[[Any], str]) -> pd.Series:
    """`format_value` of every cell, '' (missing) as None; formats each distinct value once
    (a 1 M-row column has a few hundred), not every cell."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    labels = [format_value(u) for u in uniques]
    table = np.array([v if v != "" else None for v in labels] + [None], dtype=object)
    return pd.Series(table[codes], index=column.index, name=column.name, dtype=object)


def _microdata(
    data: pd.DataFrame, policy: Policy, request_id: str, spec: Any = None,
    conditions: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict]:
    dropped = [c for c in (conditions or {}).get("drop") or [] if c in data.columns]
    data = data.drop(columns=dropped)
    qis, sensitive = roles(list(data.columns))
    if not qis:
        raise PrimexError(
            "no quasi-identifier among the extract's columns",
            where=request_id,
            hint="microdata releases need the catalogue roles of their variables",
        )
    # Hierarchies hold the catalogue's string form of each value (booleans 'true'/'false',
    # integers without decimals): released quasi-identifiers take that form too.
    cat = load_catalogue()
    data = data.copy()
    for q in qis:
        if q in cat:
            data[q] = _formatted(data[q], cat.get(q).format_value)
    m = policy.microdata
    protected, report = protect_microdata(
        data,
        qis,
        m.k,
        l=m.l if sensitive else None,
        sensitive=sensitive[0] if sensitive else None,
        max_suppression=m.max_suppression,
        request_id=request_id,
        priorities=_priorities(spec, conditions),
        min_levels=conditions_on_columns(_generalise(conditions), qis, cat),
    )
    if dropped:
        report["dropped_by_conditions"] = dropped
    if len(sensitive) > 1:
        # l-diversity is enforced on the first sensitive variable; the others are measured.
        report["l_diversity_other"] = {}
        for s, ld in ldiversity_many(protected, qis, sensitive[1:]).items():
            distinct = getattr(ld, "distinct", None)
            if distinct is not None:
                report["l_diversity_other"][s] = int(pd.Series(distinct).min())
    # each generalised column named after the level it holds (age_5y -> age_10y)
    return protected.rename(columns=report.get("released_as") or {}), report


def _priorities(spec: Any, conditions: dict[str, Any] | None) -> dict[str, str]:
    """The researcher's priorities, the officer's (`priority.VAR=...`) overriding them."""
    disclosure = getattr(spec, "disclosure", None)
    out = dict(getattr(disclosure, "priorities", None) or {})
    out.update((conditions or {}).get("priorities") or {})
    return {str(k): str(v) for k, v in out.items()}


def _generalise(conditions: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((conditions or {}).get("generalise") or {}).items()}


def _fixed_levels(conditions: dict[str, Any] | None, dims: Any) -> dict[str, str]:
    """The officer's `generalise` conditions that concern these dimensions (a dimension may
    be the variable or a finer level of it: `age_5y` under `age=age_10y`)."""
    return conditions_on_columns(_generalise(conditions), list(dims), load_catalogue())


def _published_share(cells: pd.DataFrame) -> float:
    """Share of the table's cells (margins included) published with a value."""
    if not len(cells):
        return 1.0
    return round(float((~cells["status"].isin(["u", "x"])).mean()), 4)


def _tables(
    data: pd.DataFrame,
    spec: Any,
    policy: Policy,
    request_id: str,
    home: Home,
    out: Path,
    data_id: str,
    conditions: dict[str, Any] | None = None,
) -> tuple[list[Path], dict[str, Any]]:
    t = policy.tables
    rules = t.rules()
    files: list[Path] = []
    reports: dict[str, Any] = {}
    method = spec.output.method or "suppression"
    members = _record_keys(data, request_id)
    fmt = spec.output.format
    # Band the dimensions first (catalogue levels), so that suppression is the exception.
    chosen: dict[str, TableLevels] = {}
    requested_tables = []
    for table in spec.output.tables:
        data, lv = choose_levels(data, list(table.dimensions), t.min_count,
                                 fixed=_fixed_levels(conditions, table.dimensions))
        chosen[table.name] = lv
        requested_tables.append(table.model_copy(update={"dimensions": lv.dimensions}))
    # Tables with the same measure are protected together, so that no suppressed cell can be
    # recovered by combining them (shared margins).
    groups: dict[str, list[Any]] = {}
    for table in requested_tables:
        groups.setdefault(table.measure, []).append(table)
    results: list[tuple[Any, Any]] = []
    ledger_flags: dict[str, int] = {}
    for measure, tables in groups.items():
        measure_col = None if measure == "count" else measure.split(":", 1)[1]
        if method == "cell_key":
            keyed = data.assign(**{RECORD_KEY: members})
            for table in tables:
                if measure_col is not None:
                    pt = protect_table(data, table.dimensions, measure=measure_col, rules=rules,
                                       exact=OPTIMUM_CHECK)
                else:
                    pt = protect_table(
                        keyed,
                        table.dimensions,
                        method="cellkey",
                        pseudonym=RECORD_KEY,
                        cellkey=CellKeyParams(cellkey_secret(home), policy.cell_key),
                    )
                results.append((table, pt))
            continue
        dims = [list(tb.dimensions) for tb in tables]
        cover = list(dict.fromkeys(d for tb in dims for d in tb))
        forced: pd.DataFrame | None = None
        # Protect the group together; then check every table against earlier releases on
        # the same data (the ledger) and re-protect with the flagged cells forced to
        # suppression, until no difference with an earlier release isolates anyone. A group
        # still flagged after the last round is refused, never released.
        for _round in range(LEDGER_ROUNDS):
            pts = protect_linked_tables(
                data, dims, measure=measure_col, rules=rules, force_suppress=forced,
                exact=OPTIMUM_CHECK,
            )
            if not all(pt.passed for pt in pts):
                break  # the audit failed: nothing is released anyway
            new_flags = []
            with ReleaseLedger(home.ledger_db) as ledger:
                for table, pt in zip(tables, pts, strict=True):
                    attach_memberships(pt, data)
                    flags = ledger.check(data_id, pt, members, threshold=t.min_count)
                    if len(flags):
                        ledger_flags[table.name] = ledger_flags.get(table.name, 0) + len(flags)
                        cells = flags[list(table.dimensions)].astype(str)
                        for d in cover:  # the other dimensions of the group at their total
                            if d not in cells.columns:
                                cells[d] = "*"
                        new_flags.append(cells[cover])
            if not new_flags:
                break
            extra = pd.concat(new_flags, ignore_index=True)
            forced = extra if forced is None else pd.concat([forced, extra], ignore_index=True)
            forced = forced.drop_duplicates().reset_index(drop=True)
        else:
            names = ", ".join(tb.name for tb in tables)
            raise PrimexError(
                f"tables {names}: after {LEDGER_ROUNDS} rounds of re-protection, differences "
                "with earlier releases still isolate fewer than "
                f"{t.min_count} people; nothing is released", where=request_id,
                hint="change the request (population or breakdown) so that it does not nest "
                "in an earlier release")
        results.extend(zip(tables, pts, strict=True))
    optima: dict[int, dict[str, Any]] = {}
    together: dict[int, list[str]] = {}  # the tables of each shared problem (one list each)
    for table, pt in results:
        rep = pt.report
        reports[table.name] = {
            "passed": pt.passed,
            "dimensions": list(table.dimensions),
            "measure": table.measure,
            "cells": len(pt.cells),
            "primary": int((pt.cells["status"] == "u").sum()),
            "secondary": int((pt.cells["status"] == "x").sum()),
            "differencing_flags": ledger_flags.get(table.name, 0),
            "generalised": chosen[table.name].generalised,
            "inner_cells_reaching_min_count": round(chosen[table.name].surviving, 4),
            "published_share": _published_share(pt.cells),
            "report": rep,
        }
        if pt.problem is not None:  # distance of the heuristic to the exact optimum
            key = id(pt.problem)  # tables protected together share one problem
            if key not in optima:  # computed by the protection itself (exact=), else here
                optima[key] = pt.optimum if pt.optimum is not None else distance_to_optimum(
                    pt.problem, OPTIMUM_CHECK)
            reports[table.name]["secondary_optimum"] = optima[key]
            together.setdefault(key, []).append(table.name)
            reports[table.name]["secondary_optimum_tables"] = together[key]
        if pt.passed:  # one measure column: `count` (count table) or `value` (magnitude)
            files.append(_release(released_cells(pt), out / table.name, fmt))
    if method != "cell_key" and all(pt.passed for _, pt in results):
        with ReleaseLedger(home.ledger_db) as ledger:
            for table, pt in results:
                attach_memberships(pt, data)
                release_id = f"{request_id}/{table.name}"
                # Protected again after a return: the earlier record stands.
                with contextlib.suppress(PrimexError):
                    ledger.record(
                        release_id,
                        data_id,
                        pt,
                        members,
                        population=json.dumps(spec.population.model_dump(mode="json")),
                    )
    return files, {"method": method, "rules": rules, "tables": reports}


def protect_request(
    home: Home,
    request_id: str,
    spec: Any,
    conditions: dict[str, Any] | None,
    coded: Path,
    work: Path,
    *,
    manifest_fn: Callable[[Path], Any],
    check_input: Callable[[str, str], None] | None,
    data_id: str = "prima",
) -> ProtectionOutcome:
    """Protect a request's coded extract; write `<work>/protected/` and the report.

    `check_input(name, sha256)` refuses an input the log did not record (the command passes
    `primex.protection.custody.check_input` bound to the request's entries; None, stated
    explicitly, only for a request outside any log); the file is read once, so the bytes
    checked are the bytes protected."""
    if not coded.is_file():
        raise PrimexError(
            "the coded extract is missing",
            where=str(coded),
            hint="the BCSS operator runs `primex linkage code` first",
        )
    raw = coded.read_bytes()
    inputs = [{"name": coded.name, "sha256": hashlib.sha256(raw).hexdigest()}]
    if check_input is not None:
        check_input(inputs[0]["name"], inputs[0]["sha256"])
    columns = [c for c in pq.read_schema(io.BytesIO(raw)).names
               if not c.startswith("__index_level_")]
    leaked = [c for c in columns if c == "niss"]
    if leaked:
        raise PrimexError(
            "the coded extract still holds a NISS column",
            where=str(coded),
            hint="only the BCSS-coded file may enter the protection step",
        )
    policy = effective_policy(spec, conditions)
    out = work / "protected"
    if out.exists():  # a new protection replaces any earlier attempt entirely
        for old in out.iterdir():
            if old.is_file():
                old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    kind = spec.output.kind
    details: dict[str, Any]
    files: list[Path] = []
    release_cols = [c for c in columns if c not in IDENTIFYING]
    # Only tables need the pseudonyms (cell keys, the differencing ledger); not reading them
    # otherwise saves a million Python strings.
    data = pd.read_parquet(io.BytesIO(raw), columns=None if kind == "tables" else release_cols)
    del raw
    # censored linked outcomes: kept with their codes or dropped, as the request says
    data, censoring = apply_censoring(data, spec)
    if kind == "microdata":
        protected, details = _microdata(data[release_cols], policy, request_id, spec,
                                        conditions)
        passed = bool(details.get("passed"))
        if passed:
            files.append(_release(protected, out / "microdata", spec.output.format))
    elif kind == "tables":
        files, details = _tables(data, spec, policy, request_id, home, out, data_id,
                                 conditions)
        passed = bool(files) and all(t["passed"] for t in details["tables"].values())
    else:
        syn_spec = spec.output.synthetic
        s = policy.synthetic
        qis, sensitive = roles(release_cols)
        synthetic, evaluation = protect_synthetic(
            data[release_cols],
            quasi_identifiers=qis,
            sensitive=sensitive,
            params=SynthesisParams(model=syn_spec.model if syn_spec else "gaussian_copula"),
            column_types=column_types(release_cols),
            thresholds=SyntheticThresholds(**s.as_dict()),
            analyses=[
                a.model_dump(exclude_none=True) for a in (syn_spec.analyses if syn_spec else [])
            ],
        )
        details = {
            "evaluation": evaluation.to_dict(),
            "model": syn_spec.model if syn_spec else "gaussian_copula",
        }
        passed = evaluation.passed
        if passed:
            files.append(_release(synthetic, out / "synthetic", spec.output.format))
    manifest_sha = None
    if passed and files:
        manifest_sha = manifest_fn(work).sha256
    report = {
        "kind": kind,
        "request": request_id,
        "passed": passed,
        "manifest_sha256": manifest_sha,
        "parameters": policy.as_dict(),
        "summary": _summary(kind, passed, details),
        "details": details,
        "censoring": censoring,
        "groups": _groups(spec),
        "code_version": __version__,
    }
    write_bytes(out / REPORT_JSON, json.dumps(report, indent=2, default=str).encode())
    write_bytes(out / REPORT_MD, render_markdown(report).encode())
    return ProtectionOutcome(passed, kind, files, report, manifest_sha, inputs)


def _groups(spec: Any) -> dict[str, Any] | None:
    """The request's study and comparison groups (for the report and the codebook)."""
    groups = getattr(getattr(spec, "population", None), "groups", None)
    return groups.model_dump(mode="json") if groups is not None else None


def _summary(kind: str, passed: bool, details: dict[str, Any]) -> str:
    verdict = "passed" if passed else "FAILED"
    if kind == "microdata":
        levels = details.get("levels") or {}
        cat = load_catalogue()
        named = []
        for q, level in levels.items():
            if level and q in cat:
                names = cat.hierarchy_levels(q)
                named.append(f"{q} → {names[min(int(level), len(names) - 1)]}")
            elif level:
                named.append(f"{q} → level {level}")
        shown = ", ".join(named) if named else "none"
        return (
            f"microdata {verdict}; generalised: {shown}; "
            f"{details.get('values_suppressed', 0)} values suppressed in "
            f"{details.get('records_suppressed', 0)} records"
        )
    if kind == "tables":
        parts = [
            f"{name}: {t['primary']} primary, {t['secondary']} secondary"
            f"{', audit passed' if t['passed'] else ', AUDIT FAILED'}"
            for name, t in details["tables"].items()
        ]
        return f"tables {verdict} ({details['method']}); " + "; ".join(parts)
    checks = details["evaluation"]["checks"]
    failed = [c["check"] for c in checks if not c["passed"]]
    return f"synthetic {verdict}" + (f"; failed: {', '.join(failed)}" if failed else "")


def _optimum_md(o: dict[str, Any] | None, tables: list[str] | None = None) -> list[str]:
    """One line: the secondary suppression's distance to the exact optimum. Tables protected
    together share one problem: the line says so, or it reads as each table's own figure."""
    if not o:
        return []
    head = "  Distance to the optimum" + (
        f" (tables {', '.join(tables)} protected together)" if tables and len(tables) > 1
        else "")
    if not o["checked"]:
        return [f"{head}: {o['note']}."]
    budget = o.get("budget") or f"{o.get('time_limit_s') or 0:g} s"
    if o.get("released") == "exact search":
        best, bound = o["best_secondary_cells"], o["lower_bound"]
        where = ("the proven optimum" if o["proven_optimal"] else
                 f"at most {round(100.0 * (best - bound) / bound, 2) if bound else 0:g} % above "
                 f"the best lower bound ({bound:g}) found within {budget}")
        return [f"{head}: the exact search's pattern is released: {best} secondary cells, "
                f"{o['extra_cells']} fewer than the heuristic's "
                f"{o['heuristic_secondary_cells']} ({where})."]
    if o["proven_optimal"]:
        value = o.get("extra_value")
        worth = "" if value is None else (
            f" (suppressed value {abs(value):g} {'lower' if value < 0 else 'higher'})")
        return [f"{head}: the exact optimum has {o['best_secondary_cells']}"
                f" secondary cells; the heuristic suppressed {o['extra_cells']} more{worth}."]
    return [f"{head}: optimum not proven within {budget}; "
            f"the heuristic's {o['heuristic_secondary_cells']} secondary cells are at most "
            f"{o['heuristic_above_bound_pct']} % above the best lower bound "
            f"({o['lower_bound']:g})."]


def render_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Disclosure report — {report['request']}",
        "",
        f"**Result: {'passed' if report['passed'] else 'FAILED — nothing can be released'}**",
        "",
        report["summary"],
        "",
        f"Output kind: {report['kind']}. Manifest of the protected files: "
        f"`{report['manifest_sha256']}`. primex {report['code_version']}.",
        "",
        "## Parameters in force",
        "",
        "The service minimums, tightened by the researcher's proposal and the privacy "
        "officer's conditions:",
        "",
        "```json",
        json.dumps(report["parameters"], indent=2),
        "```",
        "",
    ]
    details = report["details"]
    lines += censoring_md(report.get("censoring") or {})
    if report.get("groups"):
        lines += ["## Study and comparison groups", "",
                  f"Column `group`: study = {json.dumps(report['groups']['study'])}; "
                  f"comparison = {json.dumps(report['groups']['comparison']) or 'the rest'} "
                  "(a spell in both is in the study group).", ""]
    if report["kind"] == "microdata":
        lines += ["## Microdata protection", "", micro_md(details)]
        u = details.get("utility")
        if u:
            lines += ["## What protection cost", "",
                      f"{100 * u['records_without_suppression']:.1f} % of the records have no "
                      "suppressed value. Information loss per variable (0 = as collected, "
                      "1 = removed): " + ", ".join(
                          f"{q} {v:.3f}" for q, v in u["information_loss"].items()) + ".",
                      "Generalised to the total (removed): "
                      + (", ".join(u["generalised_to_total"]) or "none") + ".",
                      "Priorities: " + ", ".join(
                          f"{q} {v}" for q, v in (details.get("priorities") or {}).items())
                      + ".", ""]
    elif report["kind"] == "tables":
        lines += ["## Tables", ""]
        for name, t in details["tables"].items():
            lines.append(
                f"* **{name}** ({' × '.join(t['dimensions'])}, {t['measure']}): {t['cells']} "
                f"cells, {t['primary']} primary and {t['secondary']} secondary suppressions, "
                f"{t['differencing_flags']} cells forced by the differencing ledger, audit "
                f"{'passed' if t['passed'] else 'FAILED'}."
            )
            levels = ", ".join(f"{d} → {lv}" for d, lv in t.get("generalised", {}).items())
            lines.append(
                f"  Utility: {100 * t.get('published_share', 0):.1f} % of the cells published; "
                f"dimensions banded before suppression: {levels or 'none'}.")
            lines += _optimum_md(t.get("secondary_optimum"), t.get("secondary_optimum_tables"))
    else:
        ev = details["evaluation"]
        lines += [
            "## Synthetic data evaluation",
            "",
            "| check | value | limit | result |",
            "| --- | --- | --- | --- |",
        ]
        for c in ev["checks"]:
            lines.append(
                f"| {c['check']} | {c['value']} | {c['limit']} | "
                f"{'pass' if c['passed'] else 'FAIL'} |"
            )
        q = ev["utility"].get("quality_score")
        lines += ["", f"SDMetrics quality score: {q if q is not None else 'n/a'}"]
    return "\n".join(lines) + "\n"
