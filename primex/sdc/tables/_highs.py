"""A small reusable HiGHS LP: build once, change costs and bounds, re-solve warm.

Why by hand: suppression and the audit solve thousands of small LPs that differ only in the
objective or a few bounds. `scipy.optimize.linprog(method="highs")` rebuilds and re-validates
the model on every call (about 4 ms each); keeping one HiGHS model and changing it in place
lets the dual simplex restart from the last basis (well under 1 ms). We use the HiGHS binding
that ships inside scipy (pinned in pyproject), so no extra dependency; if that private module
ever moves, we fall back to linprog, slower but identical in result.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

try:  # scipy's bundled HiGHS binding (scipy 1.15+)
    from scipy.optimize._highspy import _core as _hc

    _HAVE_CORE = True
except ImportError:  # pragma: no cover - depends on the scipy build
    _HAVE_CORE = False

INF = np.inf


class LP:
    """min c.x  s.t.  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi."""

    def __init__(
        self,
        A: sp.spmatrix,
        row_lo: np.ndarray,
        row_hi: np.ndarray,
        col_lo: np.ndarray,
        col_hi: np.ndarray,
        cost: np.ndarray,
        presolve: str | None = None,
        highs: object | None = None,
    ) -> None:
        self.A = sp.csc_matrix(A)
        self.row_lo = np.asarray(row_lo, dtype=np.float64).copy()
        self.row_hi = np.asarray(row_hi, dtype=np.float64).copy()
        self.col_lo = np.asarray(col_lo, dtype=np.float64).copy()
        self.col_hi = np.asarray(col_hi, dtype=np.float64).copy()
        self.cost = np.asarray(cost, dtype=np.float64).copy()
        self.n = self.cost.size
        self._h = None
        if _HAVE_CORE:
            # Creating a HiGHS instance costs more than solving a small LP: reuse one.
            h = highs if highs is not None else _hc._Highs()
            if highs is None:
                h.setOptionValue("output_flag", False)
                # One thread: determinism, and a fair share of a shared machine.
                h.setOptionValue("threads", 1)
                if presolve is not None:
                    h.setOptionValue("presolve", presolve)
            else:
                h.clearSolver()
            lp = _hc.HighsLp()
            lp.num_col_ = self.n
            lp.num_row_ = self.A.shape[0]
            lp.col_cost_ = self.cost
            lp.col_lower_ = _inf(self.col_lo)
            lp.col_upper_ = _inf(self.col_hi)
            lp.row_lower_ = _inf(self.row_lo)
            lp.row_upper_ = _inf(self.row_hi)
            lp.a_matrix_.format_ = _hc.MatrixFormat.kColwise
            lp.a_matrix_.start_ = self.A.indptr.astype(np.int32)
            lp.a_matrix_.index_ = self.A.indices.astype(np.int32)
            lp.a_matrix_.value_ = self.A.data.astype(np.float64)
            lp.a_matrix_.num_col_ = self.n
            lp.a_matrix_.num_row_ = self.A.shape[0]
            status = h.passModel(lp)
            if status != _hc.HighsStatus.kOk:
                raise RuntimeError(f"HiGHS refused the model ({status})")
            self._h = h

    @property
    def highs(self) -> object | None:
        return self._h

    def set_cost(self, cost: np.ndarray) -> None:
        cost = np.asarray(cost, dtype=np.float64)
        changed = np.flatnonzero(cost != self.cost)
        self.cost = cost.copy()
        if self._h is not None and changed.size:
            self._h.changeColsCost(changed.size, changed.astype(np.int32), cost[changed])

    def set_bounds(self, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int32))
        lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), idx.shape).copy()
        hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), idx.shape).copy()
        self.col_lo[idx] = lo
        self.col_hi[idx] = hi
        if self._h is not None and idx.size:
            self._h.changeColsBounds(idx.size, idx, _inf(lo), _inf(hi))

    def solve(self) -> tuple[str, np.ndarray | None]:
        """Return ("optimal", x), ("infeasible", None), ("unbounded", None) or (other, None)."""
        if self._h is None:
            return self._solve_linprog()
        h = self._h
        h.run()
        st = h.modelStatusToString(h.getModelStatus()).lower()
        if st == "optimal":
            return "optimal", np.asarray(h.getSolution().col_value, dtype=np.float64)
        if "infeasible" in st and "unbounded" not in st:
            return "infeasible", None
        if "unbounded" in st:
            return "unbounded", None
        # Rare: a warm start stalls. Retry from scratch before giving up.
        h.clearSolver()
        h.run()
        st = h.modelStatusToString(h.getModelStatus()).lower()
        if st == "optimal":
            return "optimal", np.asarray(h.getSolution().col_value, dtype=np.float64)
        return st, None

    def _solve_linprog(self) -> tuple[str, np.ndarray | None]:  # pragma: no cover
        eq = self.row_lo == self.row_hi
        A = self.A.tocsr()
        ub_rows = [A[~eq & np.isfinite(self.row_hi)], -A[~eq & np.isfinite(self.row_lo)]]
        ub_rhs = [self.row_hi[~eq & np.isfinite(self.row_hi)],
                  -self.row_lo[~eq & np.isfinite(self.row_lo)]]
        A_ub = sp.vstack(ub_rows) if sum(r.shape[0] for r in ub_rows) else None
        res = linprog(
            self.cost, A_ub=A_ub, b_ub=np.concatenate(ub_rhs) if A_ub is not None else None,
            A_eq=A[eq] if eq.any() else None, b_eq=self.row_lo[eq] if eq.any() else None,
            bounds=np.column_stack([self.col_lo, self.col_hi]), method="highs",
        )
        if res.status == 0:
            return "optimal", res.x
        return {2: "infeasible", 3: "unbounded"}.get(res.status, "error"), None


def _inf(a: np.ndarray) -> np.ndarray:
    """HiGHS wants its own infinity (1e30) rather than IEEE inf."""
    out = np.asarray(a, dtype=np.float64).copy()
    out[np.isposinf(out)] = 1e30
    out[np.isneginf(out)] = -1e30
    return out
