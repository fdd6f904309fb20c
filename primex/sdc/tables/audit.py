"""The attacker audit: how tightly can each primary cell be bounded from what is published?

For every primary cell p the attacker solves  min x_p  and  max x_p  subject to every table
equation (A x = 0), the published cells fixed at their values and x >= 0. The interval
[low, up] passes when  up >= x_p + upl  and  low <= x_p - lpl  (the protection levels of
primex.sdc.tables.primary), never just "up > low".

Scalable and still exact (every primary gets both LPs, solved by HiGHS):

* Published cells are constants, so the LP has one variable per *suppressed* cell only.
* Suppressed cells fall apart into independent components (cells linked by an equation);
  an LP over a component says everything about its cells.
* Batch LPs: the LP over a union of independent components with objective "sum of one primary
  per component" is separable, so its optimum gives each component's optimum at once. Round r
  takes the r-th primary of every component: the number of LP solves is 2 x (the largest
  number of primaries in one component), not 2 x (the number of primaries).
* Witnesses (optional, for large tables): perturbations y found while suppressing. Each one
  is re-verified here from scratch (A y = 0 on the full table, y = 0 on published cells,
  x + y >= 0); a verified witness is a feasible table, so it proves  up >= x_p + t*y_p  for
  every primary it moves. Primaries proven both ways skip their LPs and are reported with
  `method = "witness"` and one-sided bounds (the true interval is at least that wide);
  every other primary gets both LPs. No primary is ever left unchecked.
* Variables get a huge upper bound (sum of all |published| values x 10 + 1) so that a
  component whose grand total is suppressed stays bounded; hitting it is reported as +inf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from primex.errors import PrimexError
from primex.sdc.tables._highs import LP

_REL_TOL = 1e-6


@dataclass
class AuditResult:
    cells: np.ndarray  # primary cell indices
    value: np.ndarray
    low: np.ndarray
    up: np.ndarray
    upl: np.ndarray
    lpl: np.ndarray
    passed_cell: np.ndarray
    method: np.ndarray  # "lp" or "witness" per primary
    n_components: int
    largest_component: int
    lp_solves: int

    @property
    def passed(self) -> bool:
        return bool(self.passed_cell.all())

    @property
    def failures(self) -> np.ndarray:
        return self.cells[~self.passed_cell]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "cell": self.cells, "value": self.value, "low": self.low, "up": self.up,
            "upl": self.upl, "lpl": self.lpl, "passed": self.passed_cell, "method": self.method,
        })


def audit(
    A: sp.spmatrix,
    x: np.ndarray,
    suppressed: np.ndarray,
    primary: np.ndarray,
    upl: np.ndarray,
    lpl: np.ndarray,
    lower: np.ndarray | None = None,
    witnesses: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> AuditResult:
    """Attacker LPs for every primary cell. `suppressed` and `primary` are boolean per cell;
    `lower` is the attacker's known lower bound per cell (default 0: non-negative cells)."""
    x = np.asarray(x, dtype=np.float64)
    sup = np.flatnonzero(suppressed)
    prim = np.flatnonzero(primary)
    if not np.all(suppressed[prim]):
        raise PrimexError("a primary cell is not suppressed", where="audit",
                          hint="primary cells must carry status u")
    lo_bound = np.zeros(x.size) if lower is None else np.asarray(lower, dtype=np.float64)
    if prim.size == 0:
        e = np.zeros(0)
        return AuditResult(prim, e, e, e, e, e, np.zeros(0, bool), np.zeros(0, object), 0, 0, 0)
    A = sp.csr_matrix(A)
    published = ~suppressed
    big = float(np.abs(x[published]).sum() * 10 + np.abs(x).max() + 1.0)
    As = A[:, sup].tocsr()
    rhs = -(A[:, published] @ x[published])
    keep = np.diff(As.indptr) > 0
    As, rhs = As[keep], rhs[keep]
    # Components of suppressed cells linked through equations.
    adj = (abs(As).T @ abs(As)).tocsr()
    n_comp, label = connected_components(adj, directed=False)
    pos = {int(c): i for i, c in enumerate(sup)}
    prim_local = np.array([pos[int(p)] for p in prim])
    comp_of_prim = label[prim_local]
    sizes = np.bincount(label, minlength=n_comp)
    low = np.full(prim.size, np.nan)
    up = np.full(prim.size, np.nan)
    method = np.full(prim.size, "lp", dtype=object)
    u_need = np.asarray(upl, dtype=np.float64)[prim]
    l_need = np.asarray(lpl, dtype=np.float64)[prim]
    xv = x[prim]
    tol = _REL_TOL * np.maximum(1.0, np.abs(xv) + u_need)
    todo = np.ones(prim.size, dtype=bool)
    if witnesses:
        reach_up, reach_down = _witness_reach(A, x, suppressed, lo_bound, prim, witnesses)
        proven = (reach_up >= u_need - tol) & (reach_down >= l_need - tol)
        up[proven] = xv[proven] + reach_up[proven]
        low[proven] = xv[proven] - reach_down[proven]
        method[proven] = "witness"
        todo = ~proven
    solves = 0
    # One HiGHS model over every suppressed cell; each round only changes the objective, so
    # the dual simplex restarts from the previous basis.
    lp = LP(As, rhs, rhs, lo_bound[sup], np.full(sup.size, big), np.zeros(sup.size))
    # Rank of each primary still to solve within its component: round r takes the r-th of
    # every component.
    rank = -np.ones(prim.size, dtype=np.int64)
    order = np.lexsort((prim_local, comp_of_prim))
    order = order[todo[order]]
    if order.size:
        comp_sorted = comp_of_prim[order]
        _, first = np.unique(comp_sorted, return_index=True)
        starts = np.repeat(first, np.diff(np.r_[first, order.size]))
        rank[order] = np.arange(order.size) - starts
    for r in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == r)
        targets = prim_local[sel]
        for sense in (+1.0, -1.0):
            c = np.zeros(sup.size)
            c[targets] = sense  # +1: minimise, -1: maximise
            lp.set_cost(c)
            status, sol = lp.solve()
            solves += 1
            if status != "optimal" or sol is None:
                raise PrimexError(
                    f"attacker LP did not solve ({status})", where="audit",
                    hint="the published table is not additive; rebuild it from microdata",
                )
            vals = sol[targets]
            if sense > 0:
                low[sel] = vals
            else:
                up[sel] = np.where(vals >= big * (1 - 1e-9), np.inf, vals)
    ok = (up >= xv + u_need - tol) & (low <= xv - l_need + tol)
    return AuditResult(
        cells=prim, value=xv, low=low, up=up, upl=u_need, lpl=l_need, passed_cell=ok, method=method,
        n_components=int(np.unique(comp_of_prim).size), largest_component=int(sizes.max()),
        lp_solves=solves,
    )


def _witness_reach(
    A: sp.csr_matrix,
    x: np.ndarray,
    suppressed: np.ndarray,
    lower: np.ndarray,
    prim: np.ndarray,
    witnesses: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """For each primary, how far up and down one verified witness moves it. Unverifiable
    witnesses are ignored (they prove nothing), never trusted. Vectorised: all witnesses are
    the columns of one sparse matrix Y and A @ Y is checked in one product."""
    reach_up = np.zeros(prim.size)
    reach_down = np.zeros(prim.size)
    if not witnesses:
        return reach_up, reach_down
    lens = np.array([c.size for c, _ in witnesses])
    cells = np.concatenate([c for c, _ in witnesses]).astype(np.int64)
    y = np.concatenate([v for _, v in witnesses]).astype(np.float64)
    col = np.repeat(np.arange(len(witnesses)), lens)
    Y = sp.csc_matrix((y, (cells, col)), shape=(x.size, len(witnesses)))
    scale = max(1.0, float(np.abs(x).max()))
    resid = abs(A @ Y).max(axis=0).toarray().ravel() if A.shape[0] else np.zeros(len(lens))
    room = x[cells] - lower[cells]
    bad_entry = ~suppressed[cells] | (room < -1e-9 * scale)
    bad = resid > 1e-7 * scale
    np.logical_or.at(bad, col, bad_entry)
    # Largest scalings t+ (x + t y >= lower) and t- (x - t y >= lower) per witness.
    with np.errstate(divide="ignore", invalid="ignore"):
        r_plus = np.where(y < 0, room / -y, np.inf)
        r_minus = np.where(y > 0, room / y, np.inf)
    t_plus = np.full(len(lens), np.inf)
    t_minus = np.full(len(lens), np.inf)
    np.minimum.at(t_plus, col, r_plus)
    np.minimum.at(t_minus, col, r_minus)
    pos = -np.ones(x.size, dtype=np.int64)
    pos[prim] = np.arange(prim.size)
    k = pos[cells]
    hit = (k >= 0) & ~bad[col]
    kk, yy, cc = k[hit], y[hit], col[hit]
    up_move = np.where(yy > 0, t_plus[cc] * yy, t_minus[cc] * -yy)
    down_move = np.where(yy > 0, t_minus[cc] * yy, t_plus[cc] * -yy)
    np.maximum.at(reach_up, kk, up_move)
    np.maximum.at(reach_down, kk, down_move)
    return reach_up, reach_down
