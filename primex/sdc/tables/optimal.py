"""Exact secondary cell suppression (Fischetti and Salazar-González's model) for small tables.

The heuristic in `secondary.py` protects one primary at a time and cannot say how far it is
from the fewest suppressions. Here the whole problem is one integer programme: a binary
z_j per cell (1 = suppressed), minimise the cost of the suppressed free cells, subject to:
for every primary p and each direction, the attacker's LP on the pattern z (every equation
A y = 0, published cells fixed, every cell >= 0) can move x_p up by upl_p and down by lpl_p.

That condition has exponentially many linear forms, so it is added lazily (Benders / cutting
planes): solve the master MIP (scipy.optimize.milp, HiGHS), audit its pattern with the same
attacker LPs as the release gate (`audit.audit`), and for every primary and direction that
fails, solve the attacker LP, take its dual multipliers lambda and add the capacity
(metric) inequality  sum_j min(L_j s_j + U_j t_j, level) z_j >= level,  where
d = c - A^T lambda, s = max(d, 0), t = max(-d, 0), L_j = x_j (a cell can drop to 0) and U_j
a large upper bound. By weak duality the attacker's reach is at most the left side for every
pattern, so the inequality never cuts off a safe pattern; at the audited pattern it is
violated, so the loop makes progress. It stops when the master's pattern passes the audit
(then it is optimal: every master is a relaxation) or when the time budget runs out (then the
last master's dual bound is a proven lower bound and `proven_optimal` is False).

Cells of status Z (forced publish / structural empty) stay published; U and W (unknown to the
attacker) are suppressed at no cost. Written by hand because no maintained Python package
solves cell suppression (tau-Argus and sdcTable's OPT are C++/R); HiGHS does the solving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from primex.errors import PrimexError
from primex.sdc.tables.audit import audit
from primex.sdc.tables.build import DimensionHierarchy
from primex.sdc.tables.secondary import U, W, X, Z, suppress

Cost = Literal["cells", "value"]


@dataclass(frozen=True)
class OptimumParams:
    """How hard to try. `cost`: minimise the number of secondary cells (what the heuristic
    minimises; ties broken by the smaller suppressed value) or their total value.

    Two kinds of budget. `time_limit_s` is wall-clock time (benchmarks): its result depends
    on the machine's speed and load. A *work* budget (`time_limit_s=None`, with at most
    `lp_rounds` cutting-plane rounds, then at most `max_masters` master MIPs sharing
    `node_limit` branch-and-bound nodes in all) gives the same answer on every run, which is
    what a disclosure report that must be reproducible needs. Both may be set: the first to
    run out stops the search."""

    time_limit_s: float | None = 60.0
    max_cells: int = 1000
    cost: Cost = "cells"
    max_masters: int | None = None
    node_limit: int | None = None
    lp_rounds: int = 200
    # After the masters: a local search around the best safe pattern (large-neighbourhood
    # search): `lns_rounds` times, free the cells of a random box of the table (each
    # dimension's codes kept with probability `lns_share`, widened when rounds stop
    # improving), fix every other cell to the pattern and solve that smaller MIP within
    # `lns_nodes` nodes (all its MIPs together), with the same lazy audit cuts. Seeded: the
    # same answer on every run.
    lns_rounds: int = 0
    lns_nodes: int = 500
    lns_share: float = 0.6
    seed: int = 0

    def __post_init__(self) -> None:
        if self.time_limit_s is not None and not (self.time_limit_s > 0):
            raise PrimexError(f"time_limit_s must be > 0, got {self.time_limit_s}",
                              where="OptimumParams.time_limit_s", hint="e.g. 60")
        if self.time_limit_s is None and (self.max_masters is None or self.node_limit is None):
            raise PrimexError("without time_limit_s the search needs a work budget",
                              where="OptimumParams",
                              hint="set max_masters and node_limit, or time_limit_s")
        for name in ("max_masters", "node_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise PrimexError(f"{name} must be >= 1, got {value}",
                                  where=f"OptimumParams.{name}", hint="e.g. 4")
        if self.lp_rounds < 0:
            raise PrimexError(f"lp_rounds must be >= 0, got {self.lp_rounds}",
                              where="OptimumParams.lp_rounds", hint="e.g. 200")
        if self.max_cells < 1:
            raise PrimexError(f"max_cells must be >= 1, got {self.max_cells}",
                              where="OptimumParams.max_cells", hint="e.g. 1000")
        if self.lns_rounds < 0 or self.lns_nodes < 1:
            raise PrimexError(f"lns_rounds must be >= 0 and lns_nodes >= 1, got "
                              f"{self.lns_rounds} and {self.lns_nodes}",
                              where="OptimumParams.lns_rounds", hint="e.g. 40 and 500")
        if not 0.0 < self.lns_share <= 1.0:
            raise PrimexError(f"lns_share must be in (0, 1], got {self.lns_share}",
                              where="OptimumParams.lns_share", hint="e.g. 0.6")
        if self.cost not in ("cells", "value"):
            raise PrimexError(f"unknown cost {self.cost!r}", where="OptimumParams.cost",
                              hint="'cells' or 'value'")

    def budget(self) -> str:
        """The budget in words, for reports: "10 s" or "100 master MIPs and 300 nodes"."""
        work = (f"{self.max_masters} master MIPs and {self.node_limit} nodes"
                if self.max_masters is not None and self.node_limit is not None else None)
        if work is not None and self.lns_rounds:
            work += f", then {self.lns_rounds} neighbourhoods of {self.lns_nodes} nodes"
        clock = f"{self.time_limit_s:g} s" if self.time_limit_s is not None else None
        return " or ".join(w for w in (work, clock) if w)


@dataclass(frozen=True)
class OptimumResult:
    """`status`: the best safe pattern found (codes S/U/X/Z/W), None when none was proven
    safe in time. `lower_bound`: no safe pattern has fewer secondary cells (cost "cells") or
    less suppressed value (cost "value"). `proven_optimal`: the pattern meets the bound."""

    status: np.ndarray | None
    proven_optimal: bool
    cost: Cost
    objective: float | None
    lower_bound: float
    secondary_cells: int | None
    secondary_value: float | None
    iterations: int
    cuts: int
    seconds: float
    reason: str

    @property
    def gap(self) -> float | None:
        """(objective - lower bound) / objective; 0 when proven, None without a pattern."""
        if self.objective is None:
            return None
        if self.proven_optimal or self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / self.objective)


def _row_cuts(A: sp.csr_matrix, prim: np.ndarray, fixed0: np.ndarray) -> list[np.ndarray]:
    """Start cuts: in every equation through a primary, another cell is suppressed (else the
    equation gives the primary's value exactly)."""
    Ac = A.tocsc()
    cuts: list[np.ndarray] = []
    seen: set[int] = set()
    for p in prim.tolist():
        for r in Ac.indices[Ac.indptr[p]:Ac.indptr[p + 1]].tolist():
            key = r * A.shape[1] + p
            if key in seen:
                continue
            seen.add(key)
            cells = A.indices[A.indptr[r]:A.indptr[r + 1]]
            cells = cells[(cells != p) & ~fixed0[cells]]
            row = np.zeros(A.shape[1])
            row[cells] = 1.0
            cuts.append(row)
    return cuts


def _bridgeless_rows(A: sp.csr_matrix, fixed0: np.ndarray) -> sp.csr_matrix:
    """Rows of  sum_{j in r, j != i} z_j - z_i >= 0  for every cell i that may be suppressed
    and every equation r through it: a suppressed cell is never the only suppressed cell of
    an equation. A pattern breaking one is safe without that cell (the equation gives its
    value exactly, so publishing it changes nothing the attacker can derive) and costs no
    less, so some optimum meets them all: they are valid for the lower bound though not for
    every safe pattern. They barely move the LP bound but make the master's integer
    solutions look like the boxes of a 3-D table, which shortens the search a lot (issue 16:
    the sdcTable 1k master solved to optimality in 170 s with them, not in 1 200 s without)."""
    Ac = A.tocsc()
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for i in np.flatnonzero(~fixed0).tolist():
        for r in Ac.indices[Ac.indptr[i]:Ac.indptr[i + 1]].tolist():
            cells = A.indices[A.indptr[r]:A.indptr[r + 1]]
            others = cells[(cells != i) & ~fixed0[cells]]
            cols.extend(others.tolist())
            data.extend([1.0] * others.size)
            cols.append(i)
            data.append(-1.0)
            ptr.append(len(cols))
    return sp.csr_matrix((data, cols, ptr), shape=(len(ptr) - 1, A.shape[1]))


def _capacity_cut(
    A: sp.csr_matrix, x: np.ndarray, z: np.ndarray, p: int, direction: float, level: float,
    big: float,
) -> np.ndarray | None:
    """Coefficients a with  a . z >= level  valid for every safe pattern, from the dual of
    the attacker LP on the (possibly fractional) pattern z; None if the LP does not solve.

    The LP's upper bounds are level * z_j rather than big * z_j: that only chooses lambda
    (weak duality makes the inequality valid for ANY lambda, computed with the true bounds
    x_j and big), and it makes fractional patterns yield violated inequalities too."""
    sup = np.flatnonzero(z > 1e-9)
    As = A[:, sup].tocsr()
    rows = np.flatnonzero(np.diff(As.indptr) > 0)
    As = As[rows]
    c = np.zeros(sup.size)
    k = int(np.searchsorted(sup, p))
    c[k] = -direction  # minimise -direction * y_p = maximise the move of p
    zs = z[sup]
    res = linprog(c, A_eq=As, b_eq=np.zeros(rows.size),
                  bounds=np.column_stack([-x[sup] * zs, np.full(sup.size, level) * zs]),
                  method="highs")
    if res.status != 0 or res.eqlin is None:
        return None
    lam = np.zeros(A.shape[0])
    lam[rows] = res.eqlin.marginals
    cfull = np.zeros(A.shape[1])
    cfull[p] = -direction
    d = cfull - A.T @ lam
    coef = x * np.maximum(d, 0.0) + big * np.maximum(-d, 0.0)
    return np.minimum(coef, level)


def _audit_cuts(
    A: sp.csr_matrix, x: np.ndarray, suppressed: np.ndarray, a: Any, up_need: np.ndarray,
    dn_need: np.ndarray, big: float, fixed0: np.ndarray,
) -> list[np.ndarray]:
    """One capacity inequality (normalised to  a . z >= 1) per primary and direction that
    the audit `a` of the pattern `suppressed` found unprotected."""
    cuts: list[np.ndarray] = []
    for i in np.flatnonzero(~a.passed_cell).tolist():
        p = int(a.cells[i])
        tol = 1e-6 * max(1.0, abs(x[p]) + up_need[p])
        wants = []
        if a.up[i] < x[p] + up_need[p] - tol:
            wants.append((+1.0, up_need[p]))
        if dn_need[p] > 0 and a.low[i] > x[p] - dn_need[p] + tol:
            wants.append((-1.0, dn_need[p]))
        for direction, level in wants:
            coef = _capacity_cut(A, x, suppressed.astype(np.float64), p, direction, level, big)
            rhs = level - 0.5 * tol
            if coef is None or coef[suppressed].sum() >= rhs:
                # Numerically unhelpful dual: protection is monotone in z, so some cell
                # not yet suppressed must be (weak but valid).
                coef = np.where(~suppressed & ~fixed0, rhs, 0.0)
            cuts.append(coef / rhs)
    return cuts


def _lp_phase(
    A: sp.csr_matrix, x: np.ndarray, cvec: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    needs: list[tuple[int, float, float]], cuts: list[np.ndarray], big: float,
    deadline: float, static: list[LinearConstraint], rounds: int,
) -> float:
    """Cutting planes on the master's LP relaxation (cheap rounds that find most of the
    inequalities before any branching); returns the last LP bound."""
    bound = 0.0
    for _ in range(rounds):
        if time.perf_counter() > deadline:
            break
        res = milp(cvec, integrality=np.zeros(x.size), bounds=Bounds(lo, hi),
                   constraints=_master_constraints(cuts) + static)
        if res.x is None:
            break
        bound = float(res.fun)
        z = np.clip(res.x, 0.0, 1.0)
        added = 0
        for p, direction, level in needs:
            if time.perf_counter() > deadline:
                break
            coef = _capacity_cut(A, x, z, p, direction, level, big)
            if coef is not None and float(coef @ z) < level * (1 - 1e-6):
                cuts.append(coef / level)
                added += 1
        if added == 0:
            break
    return bound


def optimal_suppression(
    A: sp.spmatrix,
    x: np.ndarray,
    status: np.ndarray,
    upl: np.ndarray,
    lpl: np.ndarray,
    params: OptimumParams,
    known: np.ndarray | None = None,
    repair: Callable[[np.ndarray], np.ndarray | None] | None = None,
    progress: Callable[[str], None] | None = None,
    shape: tuple[int, ...] | None = None,
) -> OptimumResult:
    """The pattern of least cost that passes the attacker audit. `status` before secondary
    suppression (S/U/Z/W per cell); `known`: a safe pattern found otherwise (e.g. the
    heuristic's status) kept as the answer if the time runs out first; `repair`: turns a
    master's (unsafe) pattern into a safe one (e.g. the heuristic started from it), offered
    as a better answer, never trusted: every pattern offered is audited. `progress` receives
    one line per master MIP (long benchmark runs). `shape`: the table's dimension sizes (cells
    in C order), for the local search's boxes; without it a box is a random set of cells."""
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n > params.max_cells:
        raise PrimexError(f"{n} cells: above the exact solver's limit of {params.max_cells}",
                          where="OptimumParams.max_cells",
                          hint="raise max_cells or rely on the heuristic's audit")
    A = sp.csr_matrix(A)
    status = np.asarray(status)
    prim = np.flatnonzero(status == U)
    fixed1 = (status == U) | (status == W)
    fixed0 = status == Z
    free = ~fixed1 & ~fixed0
    if params.cost == "cells":
        # Integer count plus a tie-break on value below 1/2 in total: the count stays exact.
        tie = 0.5 * x / max(float(x[free].sum()), 1.0) if free.any() else np.zeros(n)
        cvec = np.where(free, 1.0 + tie, 0.0)
    else:
        cvec = np.where(free, x, 0.0)
    up_need = np.asarray(upl, dtype=np.float64)
    dn_need = np.minimum(np.asarray(lpl, dtype=np.float64), x)
    big = float(np.abs(x).sum() * 10 + np.abs(x).max(initial=0.0) + 1.0)
    cuts = _row_cuts(A, prim, fixed0)
    needs = [(int(p), +1.0, float(up_need[p])) for p in prim if up_need[p] > 0]
    needs += [(int(p), -1.0, float(dn_need[p])) for p in prim if dn_need[p] > 0]
    lo, hi = np.where(fixed1, 1.0, 0.0), np.where(fixed0, 0.0, 1.0)
    static = [LinearConstraint(_bridgeless_rows(A, fixed0), 0.0, np.inf)]
    limit = np.inf if params.time_limit_s is None else params.time_limit_s
    lower = _lp_phase(A, x, cvec, lo, hi, needs, cuts, big, t0 + 0.5 * limit, static,
                      params.lp_rounds)
    iterations = 0
    nodes = 0  # branch-and-bound nodes of every master so far (the work budget)
    best: np.ndarray | None = None  # incumbent: a pattern that passed the audit
    best_cost = np.inf
    reason = "budget reached"
    proven = False

    incidence = (A != 0).astype(np.int64)

    def offer(z: np.ndarray, source: str) -> None:
        nonlocal best, best_cost
        z = _without_derivable(incidence, z, free)
        cost = float(cvec[z & free].sum())
        if cost >= best_cost:
            return
        if audit(A, x, z | (status == W), status == U, up_need, dn_need).passed:
            best, best_cost = z.copy(), cost

    if known is not None:
        offer((np.asarray(known) == X) | fixed1, "given")
    while True:
        left = limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        if (params.max_masters is not None and iterations >= params.max_masters) or (
                params.node_limit is not None and nodes >= params.node_limit):
            reason = f"work budget reached ({params.budget()})"
            break
        if _count_bound(lower, params.cost) >= _count_bound(best_cost - 1e-9, params.cost,
                                                            upper=True):
            proven, reason = True, "optimal: the incumbent meets the lower bound"
            break
        iterations += 1
        # a share of what is left: an unfinished master still yields cuts and a pattern to
        # repair, and its dual bound is a valid lower bound
        options: dict[str, Any] = {"mip_rel_gap": 1e-9, "presolve": True}
        if np.isfinite(left):
            options["time_limit"] = max(min(left, 20.0), left / 4)
        if params.node_limit is not None:
            options["node_limit"] = params.node_limit - nodes
        res = milp(cvec, integrality=np.ones(n), bounds=Bounds(lo, hi),
                   constraints=_master_constraints(cuts) + static, options=options)
        nodes += int(getattr(res, "mip_node_count", 0) or 0)
        if res.x is None:
            reason = "budget reached inside a master MIP"
            break
        done = res.status == 0
        lb = float(res.fun) if done else float(getattr(res, "mip_dual_bound", None) or lower)
        lower = max(lower, lb)
        if progress is not None:
            progress(f"master {iterations}: {time.perf_counter() - t0:.0f} s, bound "
                     f"{_count_bound(lower, params.cost):g}, best {best_cost:.1f}, "
                     f"{len(cuts)} cuts, {nodes} nodes")
        z = np.round(res.x) > 0.5
        suppressed = z | (status == W)
        a = audit(A, x, suppressed, status == U, up_need, dn_need)
        if a.passed:
            offer(z, "master")
            if done:
                proven, reason = True, "optimal: the master's pattern passes the audit"
                break
            # safe but the master stopped early: solve it again with the time left
            reason = "budget reached inside the last master: optimality not proven"
            continue
        if repair is not None:
            trial = status.copy()
            trial[z & free] = X
            fixed = repair(trial)
            if fixed is not None:
                offer((fixed == X) | (fixed == U) | fixed1, "repair")
        new = _audit_cuts(A, x, suppressed, a, up_need, dn_need, big, fixed0)
        cuts.extend(new)
        if not new:
            reason = "no violated inequality found for a failing primary"
            break
        if not done:
            reason = "budget reached inside a master MIP: optimality not proven"
    if best is not None and not proven and params.lns_rounds:
        model = _Model(A, x, status, cvec, lo, hi, free, fixed0, up_need, dn_need, big, static)
        offer(_neighbourhood_search(model, cuts, best, params, shape, t0 + limit, progress,
                                    _count_bound(lower, params.cost)),
              "neighbourhood")  # audited once more, like every pattern
    seconds = time.perf_counter() - t0
    bound = _count_bound(lower, params.cost)
    if best is None:
        return OptimumResult(None, False, params.cost, None, bound, None, None, iterations,
                             len(cuts), seconds, reason)
    out = status.copy()
    out[best & free] = X
    sec = out == X
    cells = int(sec.sum())
    value = float(x[sec].sum())
    objective = float(cells) if params.cost == "cells" else value
    proven = proven or objective <= bound
    if not proven and "optimality not proven" not in reason:
        reason += ": optimum not proven"
    return OptimumResult(out, proven, params.cost, objective, min(bound, objective), cells,
                         value, iterations, len(cuts), seconds, reason)


def _count_bound(v: float, cost: Cost, upper: bool = False) -> float:
    """A bound on the objective in its own unit: with cost "cells" the master's objective is
    the count plus a tie-break below 1/2, so the count is at least ceil(v - 1/2)."""
    if cost != "cells" or not np.isfinite(v):
        return v
    return float(np.floor(v)) if upper else float(np.ceil(v - 0.5 - 1e-9))


def _master_constraints(cuts: list[np.ndarray]) -> list[LinearConstraint]:
    """Every cut is normalised to  a . z >= 1."""
    if not cuts:
        return []
    return [LinearConstraint(sp.csr_matrix(np.vstack(cuts)), 1.0, np.inf)]



def _without_derivable(nz: sp.csr_matrix, z: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The pattern with every free cell published that an equation gives exactly (it is the
    only suppressed cell of that equation), repeated until none is: publishing a value the
    attacker derives anyway reveals nothing, so safety is unchanged and the cost drops.
    `nz`: which cells each equation has (A != 0: coefficients are +1 and -1)."""
    z = z.copy()
    Ac = nz.tocsc()
    while True:
        per_row = nz @ z.astype(np.int64)
        lonely = [i for i in np.flatnonzero(z & free).tolist()
                  if (per_row[Ac.indices[Ac.indptr[i]:Ac.indptr[i + 1]]] == 1).any()]
        if not lonely:
            return z
        z[lonely[0]] = False  # one at a time: publishing it may leave another alone


@dataclass(frozen=True)
class _Model:
    """The master MIP's fixed parts, shared by the masters and the local search."""

    A: sp.csr_matrix
    x: np.ndarray
    status: np.ndarray
    cvec: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    free: np.ndarray
    fixed0: np.ndarray
    up_need: np.ndarray
    dn_need: np.ndarray
    big: float
    static: list[LinearConstraint]


_LNS_CUT_ROUNDS = 20  # audit-and-cut rounds per neighbourhood before moving on
_LNS_STALL = 10  # rounds without a better pattern before the boxes widen


def _neighbourhood_search(
    m: _Model, cuts: list[np.ndarray], best: np.ndarray, params: OptimumParams,
    shape: tuple[int, ...] | None, deadline: float,
    progress: Callable[[str], None] | None, bound: float,
) -> np.ndarray:
    """Large-neighbourhood search from the safe pattern `best`: free a random box of cells,
    fix the others to `best`, solve that MIP with lazy audit cuts (added to `cuts`, valid
    for every safe pattern), until the pattern meets the lower `bound` (in the objective's
    unit). Returns the cheapest pattern that passed the audit. The masters prove bounds but
    find good patterns slowly; most of a table's pattern is already right, and re-optimising
    a box of a few hundred cells takes a fraction of a second (issue 16: on the sdcTable 1k
    table, 144 -> 132 cells in about 45 s after one short master, where the masters alone
    took 78 min to reach 133)."""
    n = m.x.size
    if shape is None or int(np.prod(shape)) != n:
        shape = (n,)
    coords = np.array(np.unravel_index(np.arange(n), shape))
    rng = np.random.default_rng(params.seed)
    share, stall = params.lns_share, 0
    best_cost = float(m.cvec[best & m.free].sum())
    prim = m.status == U
    for r in range(params.lns_rounds):
        if time.perf_counter() > deadline:
            break
        if _count_bound(best_cost, params.cost, upper=True) <= bound + 1e-9:
            break  # the pattern meets the proven lower bound: it is optimal
        box = np.ones(n, dtype=bool)
        for d, size in enumerate(shape):
            box &= (rng.random(size) < share)[coords[d]]
        lo, hi = m.lo.copy(), m.hi.copy()
        outside = m.free & ~box
        lo[outside & best] = 1.0
        hi[outside & ~best] = 0.0
        improved, nodes = False, 0  # nodes of this neighbourhood's MIPs, at most lns_nodes
        for _ in range(_LNS_CUT_ROUNDS if (box & m.free).any() else 0):
            if nodes >= params.lns_nodes:
                break
            options: dict[str, Any] = {"node_limit": params.lns_nodes - nodes,
                                       "presolve": True}
            left = deadline - time.perf_counter()
            if np.isfinite(left):
                options["time_limit"] = max(left, 0.05)
            res = milp(m.cvec, integrality=np.ones(n), bounds=Bounds(lo, hi),
                       constraints=_master_constraints(cuts) + m.static, options=options)
            nodes += max(1, int(getattr(res, "mip_node_count", 0) or 0))
            if res.x is None:
                break
            z = np.round(res.x) > 0.5
            if float(m.cvec[z & m.free].sum()) >= best_cost - 1e-9:
                break
            suppressed = z | (m.status == W)
            a = audit(m.A, m.x, suppressed, prim, m.up_need, m.dn_need)
            if a.passed:
                best, best_cost, improved = z, float(m.cvec[z & m.free].sum()), True
                break
            new = _audit_cuts(m.A, m.x, suppressed, a, m.up_need, m.dn_need, m.big, m.fixed0)
            if not new:
                break
            cuts.extend(new)
        stall = 0 if improved else stall + 1
        if stall >= _LNS_STALL:
            share, stall = min(1.0, share + 0.05), 0
        if progress is not None and (improved or r % 10 == 9):
            progress(f"neighbourhood {r + 1}: {int((best & m.free).sum())} secondary cells, "
                     f"box share {share:.2f}, {len(cuts)} cuts")
    return best


@dataclass(frozen=True)
class SuppressionProblem:
    """What secondary suppression was given and what the heuristic returned, kept with a
    protected table so that its distance to the optimum can be measured afterwards."""

    dims: list[DimensionHierarchy]
    A: sp.csr_matrix
    x: np.ndarray
    before: np.ndarray  # status before secondary suppression (S/U/Z/W)
    after: np.ndarray  # the heuristic's final status
    upl: np.ndarray
    lpl: np.ndarray


def distance_to_optimum(problem: SuppressionProblem, params: OptimumParams,
                        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The heuristic's extra secondary cells and value against the exact optimum (or, when
    the budget runs out, against the best proven lower bound), JSON-ready for the disclosure
    report. Tables above `params.max_cells` are not solved (said so, never silently)."""
    return exact_search(problem, params, progress)[1]


def exact_search(problem: SuppressionProblem, params: OptimumParams,
                 progress: Callable[[str], None] | None = None,
                 ) -> tuple[OptimumResult | None, dict[str, Any]]:
    """`distance_to_optimum` with the search's result (its best audited pattern in
    `status`), None for a table above `params.max_cells`."""
    heur = problem.after == X
    out: dict[str, Any] = {
        "cells": int(problem.x.size),
        "heuristic_secondary_cells": int(heur.sum()),
        "heuristic_secondary_value": float(problem.x[heur].sum()),
        "cost": params.cost,
        "time_limit_s": params.time_limit_s,
        "budget": params.budget(),
    }
    if problem.x.size > params.max_cells:
        return None, {**out, "checked": False, "proven_optimal": False,
                      "note": f"optimum not computed: {problem.x.size} cells, above "
                              f"{params.max_cells}"}

    def repair(trial: np.ndarray) -> np.ndarray | None:
        fixed, _, failed = suppress(problem.dims, problem.A, problem.x, trial, problem.upl,
                                    problem.lpl)
        return None if failed else fixed

    res = optimal_suppression(problem.A, problem.x, problem.before, problem.upl, problem.lpl,
                              params, known=problem.after, repair=repair, progress=progress,
                              shape=tuple(d.size for d in problem.dims))
    h_cells, h_value = out["heuristic_secondary_cells"], out["heuristic_secondary_value"]
    bound = res.lower_bound
    h_obj = h_cells if params.cost == "cells" else h_value
    out.update({
        "checked": True,
        "proven_optimal": res.proven_optimal,
        "best_secondary_cells": res.secondary_cells,
        "best_secondary_value": res.secondary_value,
        "lower_bound": bound,
        "extra_cells": None if res.secondary_cells is None else h_cells - res.secondary_cells,
        "extra_value": None if res.secondary_value is None else h_value - res.secondary_value,
        # how far above the optimum the heuristic is at most (exact when proven)
        "heuristic_above_bound_pct": round(100.0 * (h_obj - bound) / bound, 2) if bound > 0
        else (0.0 if h_obj == 0 else None),
        "note": ("optimum proven" if res.proven_optimal else
                 f"optimum not proven within {params.budget()} ({res.reason})"),
    })
    return res, out
