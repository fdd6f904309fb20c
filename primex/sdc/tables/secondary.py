"""Secondary cell suppression by protection LPs (one primary and one direction at a time).

For a primary cell p that needs its attacker interval to reach x_p + upl (and x_p - lpl), we
look for a *certificate*: a vector y with A y = 0 (the table stays additive), y = 0 on every
published cell, x + y >= 0 (the attacker knows cells are non-negative) and y_p = +upl (resp.
-lpl). Such a y is a table the attacker cannot tell from the true one, so it proves the
protection. We find it with an LP that minimises sum_j cost_j |y_j| where cost_j = 0 on cells
already suppressed and 1 on publishable ones; every publishable cell the LP had to move becomes
a secondary suppression (the classic "one primary at a time" heuristic of Kelly, Golden and
Assad / tau-Argus, solved with HiGHS; no library does this on a pandas table, hence by hand).

Scale: the LP for p is first solved on a small box (in every dimension, the subtree of p's
parent), with all cells outside the box held fixed. Any certificate found in a box is also a
certificate of the whole table (the box only restricts y), so nothing is lost in safety; if
the box is infeasible the box grows one level at a time up to the whole table. Certificates
found for earlier primaries are reused: y and its scaled copies stay valid when more cells are
suppressed, so many primaries are proven without any LP. Deterministic: primaries are taken
in a fixed order and HiGHS is run single-threaded on identical inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from primex.sdc.tables._highs import LP
from primex.sdc.tables.build import DimensionHierarchy

# Status codes: publishable, primary, secondary, forced publish, and W: a cell of a cover
# table that no linked table publishes (unknown to the attacker, free to use).
S, U, X, Z, W = 0, 1, 2, 3, 4
STATUS_LETTERS = np.array(["s", "u", "x", "z", "w"])


class Certificate:
    """A perturbation y of the suppressed cells that keeps the table additive and x + y >= 0.
    `t_plus` / `t_minus`: how far y can be scaled up / reversed before a cell turns negative
    (x never changes, so they are computed once)."""

    __slots__ = ("cells", "t_minus", "t_plus", "y", "ymap")

    def __init__(self, cells: np.ndarray, y: np.ndarray, x: np.ndarray) -> None:
        self.cells = cells
        self.y = y
        self.ymap = dict(zip(cells.tolist(), y.tolist(), strict=True))
        xv = x[cells]
        neg, pos = y < 0, y > 0
        self.t_plus = float(np.min(xv[neg] / -y[neg])) if neg.any() else np.inf
        self.t_minus = float(np.min(xv[pos] / y[pos])) if pos.any() else np.inf

    def at(self, p: int) -> float:
        return self.ymap.get(p, 0.0)


@dataclass
class CertificateStore:
    x: np.ndarray
    certs: list[Certificate] = field(default_factory=list)
    by_cell: dict[int, list[int]] = field(default_factory=dict)
    dead: set[int] = field(default_factory=set)

    def add(self, cert: Certificate) -> None:
        i = len(self.certs)
        self.certs.append(cert)
        for c in cert.cells.tolist():
            self.by_cell.setdefault(c, []).append(i)

    def drop_using(self, cell: int) -> None:
        """Forget every certificate that moves `cell` (it is about to be published)."""
        self.dead.update(self.by_cell.get(cell, []))

    def alive(self) -> list[Certificate]:
        return [c for i, c in enumerate(self.certs) if i not in self.dead]

    def reach(self, p: int, without: int | None = None) -> tuple[float, float]:
        """How far up and down cell p can be moved by one stored certificate (ignoring the
        certificates that move cell `without`)."""
        up = down = 0.0
        skip = set(self.by_cell.get(without, [])) if without is not None else set()
        for i in self.by_cell.get(p, []):
            if i in self.dead or i in skip:
                continue
            cert = self.certs[i]
            yp = cert.at(p)
            tp, tm = cert.t_plus, cert.t_minus
            if yp > 0:
                up, down = max(up, tp * yp), max(down, tm * yp)
            elif yp < 0:
                up, down = max(up, tm * -yp), max(down, tp * -yp)
        return up, down


def _box(dims: list[DimensionHierarchy], coord: tuple[int, ...], level: int) -> list[np.ndarray]:
    """Per dimension, the subtree of the (level+1)-th ancestor of the cell's code."""
    out = []
    for h, c in zip(dims, coord, strict=True):
        a = c
        for _ in range(level + 1):
            if h.parent[a] < 0:
                break
            a = int(h.parent[a])
        out.append(np.array(h.subtree(a)))
    return out


def _box_cells(shape: tuple[int, ...], per_dim: list[np.ndarray]) -> np.ndarray:
    grids = np.meshgrid(*per_dim, indexing="ij")
    return np.ravel_multi_index(tuple(g.ravel() for g in grids), shape)


class Protector:
    """Holds the table equations and the current pattern; protects primaries one by one."""

    def __init__(
        self,
        dims: list[DimensionHierarchy],
        A: sp.csr_matrix,
        x: np.ndarray,
        status: np.ndarray,
        cost: np.ndarray | None = None,
        start_level: int = 1,
    ) -> None:
        self.start_level = start_level
        self.dims = dims
        self.shape = tuple(h.size for h in dims)
        self.A = A.tocsr()
        self.Acsc = A.tocsc()
        self.x = np.asarray(x, dtype=np.float64)
        self.status = status.copy()
        self.cost = np.ones(self.x.size) if cost is None else np.asarray(cost, dtype=np.float64)
        self.store = CertificateStore(self.x)
        self.lp_count = 0
        self.max_level = max(int(h.depth().max()) for h in dims) + 1
        self.use_cubes = False
        self._chains: list[dict[int, list[list[int]]]] = [{} for _ in dims]
        self._lines: dict[tuple[int, int], list[tuple[list[int], list[float]]]] = {}
        self._n_up: dict[tuple[int, int], int] = {}
        self._pads: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, int]] = {}
        self._strides = [int(np.prod(self.shape[d + 1:])) for d in range(len(dims))]
        # 1-D margins (other dimensions at their total): orders siblings by size.
        full = self.x.reshape(self.shape)
        roots = [int(np.flatnonzero(h.parent < 0)[0]) for h in dims]
        self._margins = []
        for d in range(len(dims)):
            idx = tuple(slice(None) if e == d else roots[e] for e in range(len(dims)))
            self._margins.append(np.asarray(full[idx], dtype=np.float64))

    def _down(self, d: int, c: int) -> list[list[int]]:
        """Paths from code c down to each of (up to 40 of) its leaves, c excluded."""
        memo = self._chains[d]
        if c not in memo:
            h = self.dims[d]
            if not h.children[c]:
                memo[c] = [[]]
            else:
                out: list[list[int]] = []
                for k in h.children[c]:
                    for tail in self._down(d, k):
                        out.append([k, *tail])
                        if len(out) >= 40:
                            break
                    if len(out) >= 40:
                        break
                memo[c] = out
        return memo[c]

    def _line_vectors(self, d: int, c: int) -> list[tuple[list[int], list[float]]]:
        """1-D perturbations along dimension d through code c with y(c) = +1 that keep every
        equation of dimension d: c with a chain down to a leaf (+1) and, unless c is the
        root, either a sibling with its chain (-1; siblings with more value first) or the
        chain up to the root (+1, moving margins instead of a sibling). Cached per code."""
        key = (d, c)
        if key in self._lines:
            return self._lines[key]
        h = self.dims[d]
        par = int(h.parent[c])
        downs = self._down(d, c)
        if par < 0:
            out = [([c, *t], [1.0] * (1 + len(t))) for t in downs]
        else:
            ups = []
            a = par
            while a >= 0:
                ups.append(a)
                a = int(h.parent[a])
            margin = self._margins[d]
            sibs = sorted((k for k in h.children[par] if k != c), key=lambda k: (-margin[k], k))
            out = []
            for sb in sibs[:8]:
                for t in downs[:3]:
                    for u in self._down(d, sb)[:2]:
                        out.append(([c, *t, sb, *u],
                                    [1.0] * (1 + len(t)) + [-1.0] * (1 + len(u))))
            # Chains up last; several chains down so one avoids empty (published) leaves.
            out += [([c, *t, *ups], [1.0] * (1 + len(t) + len(ups))) for t in downs]
        self._lines[key] = out
        self._n_up[key] = len(downs) if par >= 0 else 0
        return out

    def _pad(self, d: int, c: int) -> tuple[np.ndarray, np.ndarray, int]:
        """The line vectors of (d, c) as padded arrays (codes, signs; padding has sign 0) and
        how many chains up close the list. Cached."""
        key = (d, c)
        got = self._pads.get(key)
        if got is None:
            ln = self._line_vectors(d, c)
            L = max((len(v[0]) for v in ln), default=1)
            codes = np.full((len(ln), L), c, dtype=np.int64)
            signs = np.zeros((len(ln), L))
            for i, (cs, sg) in enumerate(ln):
                codes[i, : len(cs)] = cs
                signs[i, : len(sg)] = sg
            got = (codes, signs, self._n_up.get(key, 0))
            self._pads[key] = got
        return got

    def _cube(self, p: int, upl: float, lpl: float, need_up: bool, need_down: bool) -> bool:
        """Hypercube shortcut (GHMITER's idea, verified like any certificate). A product
        y = v_1 ⊗ ... ⊗ v_k of 1-D vectors, each keeping its own dimension's equations, keeps
        every equation of the table; for leaf codes it is the classic 2^k cube of p and one
        sibling per dimension with alternating signs, for totals it adds the chain down to a
        leaf. Pick the cheapest whose decreasing cells have room for the protection level."""
        coord = tuple(int(c) for c in np.unravel_index(p, self.shape))
        pads = [self._pad(d, c) for d, c in enumerate(coord)]
        if any(cd.shape[0] == 0 for cd, _, _ in pads):
            return False
        # Keep the candidate count bounded: halve the sibling candidates of the longest list
        # (the chains up, at the end, are always kept).
        rows = [np.arange(cd.shape[0]) for cd, _, _ in pads]
        while np.prod([r.size for r in rows]) > 400:
            d = int(np.argmax([r.size for r in rows]))
            n_up = pads[d][2]
            n_sib = rows[d].size - n_up
            if n_sib <= 1:
                break
            rows[d] = np.r_[rows[d][: n_sib // 2], rows[d][n_sib:]]
        k = len(pads)
        # Broadcast to (n_1, ..., n_k, L_1, ..., L_k).
        cell_idx = np.zeros((), dtype=np.int64)
        sign = np.ones(())
        for d, (codes, signs, _) in enumerate(pads):
            codes, signs = codes[rows[d]], signs[rows[d]]
            shp = [1] * (2 * k)
            shp[d] = codes.shape[0]
            shp[k + d] = codes.shape[1]
            cell_idx = cell_idx + codes.reshape(shp) * self._strides[d]
            sign = sign * signs.reshape(shp)
        n_cand = int(np.prod([r.size for r in rows]))
        cells = np.broadcast_to(cell_idx, sign.shape).reshape(n_cand, -1)
        sign = sign.reshape(n_cand, -1)
        present = sign != 0
        st = self.status[cells]
        xv = self.x[cells]
        ok = ~((st == Z) & present).any(axis=1)
        lvl_up = upl * (1 + 1e-7) + 1e-9
        # p itself can go down to 0 at most: a lower level equal to x_p is met exactly.
        lvl_dn = min(lpl * (1 + 1e-7) + 1e-9, float(self.x[p]))
        ok_up = ok & ((sign >= 0) | (xv >= lvl_up)).all(axis=1)
        ok_dn = ok & ((sign <= 0) | (xv >= lvl_dn)).all(axis=1)
        cost = np.where((st == S) & present, self.cost[cells], 0.0).sum(axis=1)
        order = np.lexsort((np.arange(cost.size), cost))
        want = [(need_up, ok_up, +1.0, lvl_up), (need_down, ok_dn, -1.0, lvl_dn)]
        both = (ok_up | (not need_up)) & (ok_dn | (not need_down))
        if both.any():
            i = order[both[order]][0]
            for need, _, direction, lvl in want:
                if need:
                    self._add_cube(cells[i][present[i]], sign[i][present[i]] * direction * lvl)
            return True
        done = False
        for need, okd, direction, lvl in want:
            if need and okd.any():
                i = order[okd[order]][0]
                self._add_cube(cells[i][present[i]], sign[i][present[i]] * direction * lvl)
                done = True
        return done

    def _add_cube(self, corners: np.ndarray, y: np.ndarray) -> None:
        srt = np.argsort(corners)
        cells, y = corners[srt], y[srt]
        self.status[cells[self.status[cells] == S]] = X
        self.store.add(Certificate(cells, y, self.x))

    def protect(self, p: int, upl: float, lpl: float) -> bool:
        """Make sure primary p reaches x_p + upl and x_p - lpl; True when it does."""
        up, down = self.store.reach(p)
        need_up = up < upl * (1 - 1e-9)
        need_down = lpl > 0 and down < lpl * (1 - 1e-9)
        if self.use_cubes and (need_up or need_down) and self._cube(p, upl, lpl, need_up,
                                                                    need_down):
            up, down = self.store.reach(p)
        ok = True
        if up < upl * (1 - 1e-9):
            ok &= self._solve(p, +1.0, upl, self.start_level)
        if lpl > 0 and down < lpl * (1 - 1e-9):
            ok &= self._solve(p, -1.0, lpl, self.start_level)
        return ok

    def _solve(
        self, p: int, direction: float, level: float, start: int = 0
    ) -> bool:
        coord = tuple(int(c) for c in np.unravel_index(p, self.shape))
        for lv in range(start, self.max_level + 1):
            cells = _box_cells(self.shape, _box(self.dims, coord, lv))
            cert = self._lp(cells, p, direction, level)
            if cert is not None:
                new = cert.cells[self.status[cert.cells] == S]
                self.status[new] = X
                self.store.add(cert)
                return True
        return False

    def cleanup(self, primaries: np.ndarray, upl: np.ndarray, lpl: np.ndarray) -> int:
        """Try to publish each secondary again (largest value first): it stays published when
        every primary still has a certificate without it. Returns how many were released."""
        released = 0
        secondaries = np.flatnonzero(self.status == X)
        order = secondaries[np.lexsort((secondaries, -self.x[secondaries]))]
        is_prim = np.zeros(self.x.size, dtype=bool)
        is_prim[primaries] = True
        # Cells still to be tried are made expensive in re-proofs, so new certificates lean
        # on cells that stay suppressed anyway and later tries break fewer certificates.
        pending = np.zeros(self.x.size, dtype=bool)
        pending[order] = True
        for j in order:
            j = int(j)
            pending[j] = False
            users = {i for i in self.store.by_cell.get(j, []) if i not in self.store.dead}
            affected = sorted({int(c) for i in users for c in self.store.certs[i].cells
                               if is_prim[c]})
            self.status[j] = S
            needs: list[tuple[int, float, float]] = []
            for p in affected:
                up, down = self.store.reach(p, without=j)
                if up < upl[p] * (1 - 1e-9):
                    needs.append((p, +1.0, float(upl[p])))
                if lpl[p] > 0 and down < lpl[p] * (1 - 1e-9):
                    needs.append((p, -1.0, float(lpl[p])))
            found: list[Certificate] = []
            for p, d, lv in needs:
                cert = self._first_cert(p, d, lv, pending)
                if cert is None:
                    break
                found.append(cert)
            if len(found) < len(needs):
                self.status[j] = X
                continue
            self.store.drop_using(j)
            for cert in found:
                self.store.add(cert)
            released += 1
        return released

    def _first_cert(
        self, p: int, direction: float, level: float, pending: np.ndarray
    ) -> Certificate | None:
        coord = tuple(int(c) for c in np.unravel_index(p, self.shape))
        for lv in range(self.max_level + 1):
            cells = _box_cells(self.shape, _box(self.dims, coord, lv))
            cert = self._lp(cells, p, direction, level, only_suppressed=True, pending=pending)
            if cert is not None:
                return cert
        return None

    def _lp(
        self, cells: np.ndarray, p: int, direction: float, level: float,
        only_suppressed: bool = False, pending: np.ndarray | None = None,
    ) -> Certificate | None:
        st = self.status[cells]
        keep = ((st == U) | (st == X) | (st == W)) if only_suppressed else (st != Z)
        keep |= cells == p
        cells = np.sort(cells[keep])
        sub = self.Acsc[:, cells]
        rows = np.unique(sub.indices)
        B = sub[rows, :]
        n = cells.size
        if only_suppressed:
            w = np.zeros(n) if pending is None else pending[cells].astype(np.float64)
        else:
            w = np.where(self.status[cells] == S, self.cost[cells], 0.0)
        c = np.concatenate([w, w])
        ub_minus = np.maximum(self.x[cells], 0.0)
        lb = np.zeros(2 * n)
        ub = np.concatenate([np.full(n, np.inf), ub_minus])
        k = int(np.searchsorted(cells, p))
        # Slightly over-protect so LP tolerances never leave the audit a hair short.
        target = level * (1 + 1e-7) + 1e-9
        if direction > 0:
            lb[k] = ub[k] = target
            ub[n + k] = 0.0
        else:
            target = min(target, float(ub_minus[k]))
            lb[n + k] = ub[n + k] = target
            ub[k] = 0.0
        A_eq = sp.hstack([B, -B]).tocsc()
        zeros = np.zeros(B.shape[0])
        self.lp_count += 1
        lp = LP(A_eq, zeros, zeros, lb, ub, c, presolve="off")
        status, sol = lp.solve()
        if status != "optimal" or sol is None:
            return None
        y = sol[:n] - sol[n:]
        tol = 1e-9 * max(1.0, level)
        nz = np.abs(y) > tol
        nz[k] = True
        return Certificate(cells[nz], y[nz], self.x)


LARGE_PRIMARIES = 1500


def neighbour_cost(A: sp.spmatrix, status: np.ndarray) -> np.ndarray:
    """Cost of suppressing each cell: 1 / (1 + number of primaries it shares an equation
    with). Cells next to many primaries are cheap because they tend to serve several."""
    Ab = (abs(sp.csr_matrix(A)) > 0).astype(np.float64)
    near = Ab.T @ (Ab @ (status == U).astype(np.float64))
    return 1.0 / (1.0 + np.asarray(near).ravel())


def suppress(
    dims: list[DimensionHierarchy],
    A: sp.csr_matrix,
    x: np.ndarray,
    status: np.ndarray,
    upl: np.ndarray,
    lpl: np.ndarray,
    start_level: int = 1,
    cleanup: bool | None = None,
    cubes: bool | None = None,
) -> tuple[np.ndarray, Protector, list[int]]:
    """Run the heuristic over every primary cell, then try to release secondaries again.
    Returns the new status, the protector (holding the certificates) and the primaries that
    could not be protected (empty on success)."""
    primaries = np.flatnonzero(status == U)
    large = primaries.size > LARGE_PRIMARIES
    prot = Protector(dims, A, x, status, neighbour_cost(A, status),
                     0 if large else start_level)
    # Large tables: hypercubes first (LPs only where no cube fits) and no clean-up pass; the
    # LP-only path with clean-up gives fewer suppressions but costs ~ms per primary.
    prot.use_cubes = large if cubes is None else cubes
    cleanup = (not large) if cleanup is None else cleanup
    # Small tables: smallest cells first (little room to move down; what is suppressed for
    # them often covers the larger primaries). Large tables: largest protection level first
    # (their hypercubes then cover many smaller primaries). Both measured on the reference
    # tables; ties by cell index, so the order is deterministic.
    if large:
        order = primaries[np.lexsort((primaries, -(upl[primaries] + lpl[primaries])))]
    else:
        order = primaries[np.lexsort((primaries, x[primaries]))]
    failed = [int(p) for p in order if not prot.protect(int(p), float(upl[p]), float(lpl[p]))]
    if cleanup and not failed:
        prot.cleanup(primaries, upl, lpl)
    return prot.status, prot, failed
