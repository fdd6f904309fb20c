"""protect_table: build, primary rules, secondary suppression, attacker audit, report.

Also protect_linked_tables: several tables of one publication (same microdata, shared
margins) are protected as one *cover table* whose cells that no table publishes are unknown to
the attacker (status w). The attacker LP then sees every published cell of every table at
once, so no suppressed cell can be recovered by combining the tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.params import TablePolicy
from primex.sdc.tables import secondary as sec
from primex.sdc.tables.audit import AuditResult, audit
from primex.sdc.tables.build import TOTAL, DimensionHierarchy, Table, build_table, record_cells
from primex.sdc.tables.cellkey import protect_cellkey
from primex.sdc.tables.optimal import OptimumParams, SuppressionProblem, exact_search
from primex.sdc.tables.primary import Rules, apply_rules
from primex.sdc.tables.result import ProtectedTable

METHODS = ("suppression", "cellkey")
# Above this many primaries the audit first checks the suppression's verified witnesses and
# solves LPs only for the primaries they do not prove (see table_audit).
EXACT_AUDIT_MAX_PRIMARIES = 3000


def protect_table(
    microdata: pd.DataFrame,
    dimensions: Sequence[str],
    measure: str | None = None,
    weight: str | None = None,
    hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None = None,
    rules: dict[str, Any] | Rules | TablePolicy | None = None,
    method: str = "suppression",
    *,
    pseudonym: str | None = None,
    cellkey: dict[str, Any] | None = None,
    force_suppress: pd.DataFrame | None = None,
    exact: OptimumParams | None = None,
) -> ProtectedTable:
    """Protect one table. `method="suppression"` (primary rules, secondary suppression, LP
    audit) or `method="cellkey"` (frequency tables: keyed cell-key noise; needs `pseudonym`
    and `cellkey={"key": bytes, "D": 2, "V": 1.0, "js": 2}`). `force_suppress`: cells (one
    column per dimension) to treat as primary, e.g. the ledger's differencing flags."""
    if method not in METHODS:
        raise PrimexError(f"unknown method {method!r}", where="method", hint=f"one of {METHODS}")
    if method == "cellkey":
        return protect_cellkey(microdata, dimensions, hierarchies=hierarchies,
                               pseudonym=pseudonym, params=cellkey, weight=weight,
                               measure=measure)
    return protect_linked_tables(
        microdata, [list(dimensions)], measure=measure, weight=weight, hierarchies=hierarchies,
        rules=rules, force_suppress=force_suppress, _single=True, exact=exact,
    )[0]


def protect_linked_tables(
    microdata: pd.DataFrame,
    tables: Sequence[Sequence[str]],
    measure: str | None = None,
    weight: str | None = None,
    hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None = None,
    rules: dict[str, Any] | Rules | TablePolicy | None = None,
    force_suppress: pd.DataFrame | None = None,
    _single: bool = False,
    exact: OptimumParams | None = None,
) -> list[ProtectedTable]:
    """Protect several tables of one publication together (same microdata and hierarchies;
    each table is a list of dimensions). A cell shared by two tables (same codes, the other
    dimensions at `*`) gets one status in both.

    `exact`: also run the exact search (`optimal.exact_search`, small tables only) within
    that budget, record its distance to the optimum in `ProtectedTable.optimum`, and release
    its pattern instead of the heuristic's when it suppresses fewer cells (or as many, of
    less value): it passed the same attacker audit, and the audit is run again on it here."""
    t0 = time.perf_counter()
    parsed = Rules.parse(rules)
    tables = [list(t) for t in tables]
    if not tables:
        raise PrimexError("no tables given", where="tables")
    cover_dims: list[str] = []
    for t in tables:
        for d in t:
            if d not in cover_dims:
                cover_dims.append(d)
    table = build_table(microdata, cover_dims, measure, weight, hierarchies, n_top=parsed.n_top)
    prim = apply_rules(table, parsed)
    coords = table.coords()
    root = [int(np.flatnonzero(np.array(h.codes) == TOTAL)[0]) for h in table.dims]
    in_table = []
    for t in tables:
        mask = np.ones(table.n_cells, dtype=bool)
        for d, h in enumerate(table.dims):
            if h.name not in t:
                mask &= coords[d] == root[d]
        in_table.append(mask)
    published_anywhere = np.logical_or.reduce(in_table)
    status = np.where(prim.empty, sec.Z, np.where(prim.unsafe, sec.U, sec.S))
    reasons = prim.reasons.copy()
    upl, lpl = prim.upl.copy(), prim.lpl.copy()
    if force_suppress is not None and len(force_suppress):
        idx = _cell_index(table, force_suppress)
        forced = idx[status[idx] != sec.U]
        status[forced] = sec.U
        reasons[forced] = "forced"
        upl[forced] = np.maximum(upl[forced], parsed.min_interval)
        lpl[forced] = np.minimum(np.maximum(lpl[forced], parsed.min_interval), table.value[forced])
    # Cells no table publishes are unknown to the attacker; a primary there needs nothing.
    status[~published_anywhere] = sec.W
    t1 = time.perf_counter()
    A = table.equations()
    before = status.copy()
    status, prot, failed = sec.suppress(table.dims, A, table.value, status, upl, lpl)
    t2 = time.perf_counter()
    primary_mask = status == sec.U
    res = _audit(A, table.value, status, primary_mask, upl, lpl, prot)
    rounds = 0
    # Iterate with the audit: re-protect failing primaries on the whole table (slightly over
    # their level) until the audit passes, a bounded number of times.
    while not res.passed and rounds < 5:
        rounds += 1
        for p in res.failures:
            prot._solve(int(p), +1.0, float(upl[p]) * (1 + 1e-4 * rounds), prot.max_level)
            if lpl[p] > 0:
                prot._solve(int(p), -1.0, float(lpl[p]) * (1 + 1e-4 * rounds), prot.max_level)
        status = prot.status
        res = _audit(A, table.value, status, primary_mask, upl, lpl, prot)
    t3 = time.perf_counter()
    problem = SuppressionProblem(table.dims, A, table.value, before, status.copy(), upl, lpl)
    optimum: dict[str, Any] | None = None
    if exact is not None and res.passed and not failed:
        status, res, optimum = _exact_pattern(problem, exact, status, res, primary_mask, prot)
    letters = sec.STATUS_LETTERS[status]
    frame = table.frame()
    frame["status"] = letters
    frame["reason"] = np.where(status == sec.U, reasons, np.where(status == sec.X, "secondary",
                                                                  ""))
    raw = res.frame()
    where = raw["cell"].to_numpy()
    audit_frame = pd.concat(
        [pd.DataFrame({h.name: np.asarray(h.codes)[c[where]]
                       for h, c in zip(table.dims, coords, strict=True)}),
         raw.drop(columns=["cell"])], axis=1)
    audit_frame["rule"] = reasons[res.cells]
    out: list[ProtectedTable] = []
    for t, mask in zip(tables, in_table, strict=True):
        cells = frame.loc[mask, [*t, "value", "count", "status", "reason"]].reset_index(drop=True)
        for d in t:
            cells[d] = cells[d].astype(str)
        amask = np.ones(len(audit_frame), dtype=bool)
        for d in cover_dims:
            if d not in t:
                amask &= audit_frame[d].astype(str).to_numpy() == TOTAL
        a = audit_frame.loc[amask, [*t, *[c for c in audit_frame.columns
                                          if c not in cover_dims]]].reset_index(drop=True)
        counts = cells["status"].value_counts()
        report: dict[str, Any] = {
            "passed": bool(res.passed and not failed),
            "method": "suppression",
            "dimensions": t,
            "measure": measure,
            "weight": weight,
            "rules": parsed.as_dict(),
            "cells": len(cells),
            "primary": int(counts.get("u", 0)),
            "secondary": int(counts.get("x", 0)),
            "empty": int(counts.get("z", 0)),
            "publishable": int(counts.get("s", 0)),
            "primary_by_rule": {
                r: int((a["rule"].astype(str).str.contains(r)).sum())
                for r in ("min_count", "dominance", "p_percent", "forced")
            },
            "audit": {
                "passed": bool(res.passed),
                "failures": int((~a["passed"]).sum()),
                "primaries_audited": len(a),
                "by_lp": int((a["method"] == "lp").sum()),
                "by_witness": int((a["method"] == "witness").sum()),
                "lp_solves": res.lp_solves,
                "components": res.n_components,
                "largest_component": res.largest_component,
                "repair_rounds": rounds,
            },
            "linked_tables": None if _single else [list(x) for x in tables],
            "info_loss": {
                "suppressed_cells": int(counts.get("u", 0) + counts.get("x", 0)),
                "suppressed_value_share": _share(cells),
            },
        }
        if optimum is not None:
            report["secondary_pattern"] = optimum["released"]
        pt = ProtectedTable(cells=cells, audit=a, report=report, dimensions=t,
                            measure=measure, table=table if _single else None,
                            record_cells=None, problem=problem, optimum=optimum)
        # Kept out of the report so that a rerun writes byte-identical files.
        pt.timings = {"build_and_primary": round(t1 - t0, 3), "secondary": round(t2 - t1, 3),
                      "audit": round(t3 - t2, 3)}
        out.append(pt)
    if _single:
        out[0].record_cells = record_cells(table, microdata)
    return out


def attach_memberships(
    pt: ProtectedTable,
    microdata: pd.DataFrame,
    hierarchies: dict[str, pd.DataFrame | DimensionHierarchy] | None = None,
    weight: str | None = None,
) -> ProtectedTable:
    """Give a table from `protect_linked_tables` its own record memberships (which finest
    cell each record falls in), so that the release ledger can check and record it."""
    if pt.table is None or pt.record_cells is None:
        pt.table = build_table(microdata, pt.dimensions, pt.measure, weight, hierarchies)
        pt.record_cells = record_cells(pt.table, microdata)
    return pt


def _share(cells: pd.DataFrame) -> float:
    total = float(cells["value"].abs().sum())
    hidden = float(cells.loc[cells["status"].isin(["u", "x"]), "value"].abs().sum())
    return round(hidden / total, 6) if total else 0.0


def _audit(A: Any, x: np.ndarray, status: np.ndarray, primary: np.ndarray, upl: np.ndarray,
           lpl: np.ndarray, prot: sec.Protector) -> AuditResult:
    suppressed = (status == sec.U) | (status == sec.X) | (status == sec.W)
    witnesses = None
    if int(primary.sum()) > EXACT_AUDIT_MAX_PRIMARIES:
        witnesses = [(c.cells, c.y) for c in prot.store.alive()]
    return audit(A, x, suppressed, primary, upl, lpl, witnesses=witnesses)


def _exact_pattern(
    problem: SuppressionProblem, params: OptimumParams, status: np.ndarray, res: AuditResult,
    primary: np.ndarray, prot: sec.Protector,
) -> tuple[np.ndarray, AuditResult, dict[str, Any]]:
    """The exact search's pattern when it beats the heuristic's (fewer secondary cells, or
    as many of less value) and passes the audit here again; otherwise the heuristic's."""
    found, optimum = exact_search(problem, params)
    x = problem.x
    mine = status == sec.X
    if found is not None and found.status is not None:
        theirs = found.status == sec.X
        better = (int(theirs.sum()), float(x[theirs].sum())) < (int(mine.sum()),
                                                                 float(x[mine].sum()))
        if better:
            res2 = _audit(problem.A, x, found.status, primary, problem.upl, problem.lpl, prot)
            if res2.passed:
                return found.status.copy(), res2, {**optimum, "released": "exact search"}
    return status, res, {**optimum, "released": "heuristic"}


def _cell_index(table: Table, cells: pd.DataFrame) -> np.ndarray:
    idx = []
    for h in table.dims:
        if h.name not in cells.columns:
            raise PrimexError(f"force_suppress lacks dimension {h.name!r}", where="force_suppress")
        m = h.index
        codes = cells[h.name].astype(str).map(m)
        if codes.isna().any():
            raise PrimexError(f"unknown code(s) in force_suppress[{h.name!r}]",
                              where="force_suppress", hint="use codes of the table")
        idx.append(codes.to_numpy(dtype=np.int64))
    return np.ravel_multi_index(tuple(idx), table.shape)
