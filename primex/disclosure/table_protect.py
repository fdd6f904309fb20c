"""protect_table: build, primary rules, secondary suppression, attacker audit, report.

Also protect_linked_tables: several tables of one publication (same microdata, shared
margins) are protected as one *cover table* whose cells that no table publishes are unknown to
the attacker (status w). The attacker LP then sees every published cell of every table at
once, so no suppressed cell can be recovered by combining the tables.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from primex.disclosure import secondary as sec
from primex.disclosure.primary import Rules, apply_rules
from primex.disclosure.table_audit import AuditResult, audit
from primex.disclosure.table_build import TOTAL, Hierarchy, Table, build_table
from primex.errors import PrimexError

METHODS = ("suppression", "cellkey")
MARKER = "x"
# Above this many primaries the audit first checks the suppression's verified witnesses and
# solves LPs only for the primaries they do not prove (see table_audit).
EXACT_AUDIT_MAX_PRIMARIES = 3000


@dataclass
class ProtectedTable:
    """A protected table: `.cells` (one column per dimension, value, count, status),
    `.audit` (interval per primary cell), `.report` (dict, `passed` is the release gate)."""

    cells: pd.DataFrame
    audit: pd.DataFrame
    report: dict[str, Any]
    dimensions: list[str]
    measure: str | None = None
    table: Table | None = field(default=None, repr=False)
    record_cells: np.ndarray | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return bool(self.report.get("passed"))

    def published(self) -> pd.DataFrame:
        """The cells as they may leave: suppressed values and counts blanked."""
        out = self.cells.copy()
        hidden = out["status"].isin(["u", "x"])
        out["value"] = out["value"].astype("float64").where(~hidden)
        out["count"] = out["count"].astype("Int64").where(~hidden)
        if self.measure is not None:
            # Magnitude tables publish values only: contributor counts of published cells
            # would give the attacker a second, unaudited table (make a count table instead).
            out = out.drop(columns=["count"])
        return out

    def pivot(self, rows: str | Sequence[str], columns: str | Sequence[str],
              marker: str = MARKER) -> pd.DataFrame:
        """A readable cross-tabulation: suppressed cells shown as `marker`. Dimensions not in
        rows/columns are taken at their total `*`."""
        rows = [rows] if isinstance(rows, str) else list(rows)
        columns = [columns] if isinstance(columns, str) else list(columns)
        for d in rows + columns:
            if d not in self.dimensions:
                raise PrimexError(f"{d!r} is not a dimension of this table", where="pivot",
                                  hint=f"dimensions: {self.dimensions}")
        df = self.cells
        for d in self.dimensions:
            if d not in rows + columns:
                df = df[df[d].astype(str) == TOTAL]
        shown = df["value"].map(_fmt).where(~df["status"].isin(["u", "x"]), marker)
        df = df.assign(shown=shown)
        return df.pivot_table(index=rows, columns=columns, values="shown", aggfunc="first",
                              sort=False, observed=True)

    def write(self, out: str | os.PathLike[str], fmt: str = "csv") -> list[Path]:
        """Write the tidy table (CSV or Parquet), the pivot of the first two dimensions and the
        disclosure report. Refuses a table that did not pass its audit."""
        if not self.passed:
            raise PrimexError(
                "the table failed its disclosure audit and cannot be written for release",
                where="protect_table", hint="see report['audit'] for the failing cells",
            )
        if fmt not in ("csv", "parquet"):
            raise PrimexError(f"unknown format {fmt!r}", where="--format",
                              hint="csv or parquet")
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        pub = self.published()
        if fmt == "csv":
            written.append(_atomic(out / "table.csv", pub.to_csv(index=False).encode()))
        else:
            with tempfile.NamedTemporaryFile(dir=out, delete=False, suffix=".tmp") as f:
                tmp = Path(f.name)
            pub.to_parquet(tmp, index=False)
            written.append(_replace(tmp, out / "table.parquet"))
        if len(self.dimensions) >= 2:
            piv = self.pivot(self.dimensions[0], self.dimensions[1])
            written.append(_atomic(out / "pivot.csv", piv.to_csv().encode()))
        from primex.disclosure.table_report import report_json, report_markdown

        written.append(_atomic(out / "disclosure-report.json", report_json(self).encode()))
        written.append(_atomic(out / "disclosure-report.md", report_markdown(self).encode()))
        return written


def _fmt(v: float) -> str:
    return str(round(v)) if float(v).is_integer() else f"{v:.2f}"


def _atomic(path: Path, data: bytes) -> Path:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        tmp = Path(f.name)
    return _replace(tmp, path)


def _replace(tmp: Path, path: Path) -> Path:
    os.replace(tmp, path)
    return path


def protect_table(
    microdata: pd.DataFrame,
    dimensions: Sequence[str],
    measure: str | None = None,
    weight: str | None = None,
    hierarchies: dict[str, pd.DataFrame | Hierarchy] | None = None,
    rules: dict[str, Any] | Rules | None = None,
    method: str = "suppression",
    *,
    pseudonym: str | None = None,
    cellkey: dict[str, Any] | None = None,
    force_suppress: pd.DataFrame | None = None,
) -> ProtectedTable:
    """Protect one table. `method="suppression"` (primary rules, secondary suppression, LP
    audit) or `method="cellkey"` (frequency tables: keyed cell-key noise; needs `pseudonym`
    and `cellkey={"key": bytes, "D": 2, "V": 1.0, "js": 2}`). `force_suppress`: cells (one
    column per dimension) to treat as primary, e.g. the ledger's differencing flags."""
    if method not in METHODS:
        raise PrimexError(f"unknown method {method!r}", where="method", hint=f"one of {METHODS}")
    if method == "cellkey":
        from primex.disclosure.cellkey import protect_cellkey

        return protect_cellkey(microdata, dimensions, hierarchies=hierarchies,
                               pseudonym=pseudonym, params=cellkey, weight=weight,
                               measure=measure)
    return protect_linked_tables(
        microdata, [list(dimensions)], measure=measure, weight=weight, hierarchies=hierarchies,
        rules=rules, force_suppress=force_suppress, _single=True,
    )[0]


def protect_linked_tables(
    microdata: pd.DataFrame,
    tables: Sequence[Sequence[str]],
    measure: str | None = None,
    weight: str | None = None,
    hierarchies: dict[str, pd.DataFrame | Hierarchy] | None = None,
    rules: dict[str, Any] | Rules | None = None,
    force_suppress: pd.DataFrame | None = None,
    _single: bool = False,
) -> list[ProtectedTable]:
    """Protect several tables of one publication together (same microdata and hierarchies;
    each table is a list of dimensions). A cell shared by two tables (same codes, the other
    dimensions at `*`) gets one status in both."""
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
        pt = ProtectedTable(cells=cells, audit=a, report=report, dimensions=t,
                            measure=measure, table=table if _single else None,
                            record_cells=None)
        # Kept out of the report so that a rerun writes byte-identical files.
        pt.timings = {"build_and_primary": round(t1 - t0, 3), "secondary": round(t2 - t1, 3),
                      "audit": round(t3 - t2, 3)}
        out.append(pt)
    if _single:
        out[0].record_cells = _record_cells(table, microdata)
    return out


def attach_memberships(
    pt: ProtectedTable,
    microdata: pd.DataFrame,
    hierarchies: dict[str, pd.DataFrame | Hierarchy] | None = None,
    weight: str | None = None,
) -> ProtectedTable:
    """Give a table from `protect_linked_tables` its own record memberships (which finest
    cell each record falls in), so that the release ledger can check and record it."""
    if pt.table is None or pt.record_cells is None:
        pt.table = build_table(microdata, pt.dimensions, pt.measure, weight, hierarchies)
        pt.record_cells = _record_cells(pt.table, microdata)
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


def _record_cells(table: Table, microdata: pd.DataFrame) -> np.ndarray:
    """The finest cell of each record (the ledger rolls memberships up from it)."""
    idx = [microdata[h.name].astype(str).map(h.index).to_numpy(dtype=np.int64)
           for h in table.dims]
    return np.ravel_multi_index(tuple(idx), table.shape)
