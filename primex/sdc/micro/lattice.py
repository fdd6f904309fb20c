"""Optimal full-domain generalisation: a best-first lattice search with monotonicity pruning.

A node of the lattice gives one generalisation level per quasi-identifier.  A node is
*feasible* when the records in equivalence classes smaller than k (or with fewer than l
distinct sensitive values) number at most the suppression budget.  Feasibility is monotone:
generalising merges classes, so outliers never increase up the lattice.

Information loss minimised (ARX's "Loss" / normalised certainty penalty): for a value
generalised to a group of g of the hierarchy's m original values, loss = (g - 1) / (m - 1);
a suppressed value loses 1.  Node loss = mean over records and QIs.  The generalisation part
alone is a lower bound that only grows up the lattice, so the search visits nodes in order
of that bound (a priority queue, like ARX's Flash it never evaluates below a node known to be
infeasible) and stops as soon as the bound reaches the best loss found: the result is the
global optimum of the metric, not a heuristic one.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from primex.sdc.micro._encode import class_sizes, combine_columns
from primex.sdc.micro.hierarchy import GeneralisationHierarchy


@dataclass
class LatticeProblem:
    """Distinct rows of leaf indexes (-1 = missing) with their counts, and the hierarchies."""

    leaf: np.ndarray  # D x p int32
    count: np.ndarray  # D float64
    hierarchies: list[GeneralisationHierarchy]
    k: int
    budget: float  # records that may be suppressed
    sens: np.ndarray | None = None  # D int64 sensitive codes (rows are distinct (key, s))
    l: int | None = None  # noqa: E741
    # per-QI weight of its information loss (sdcMicro's importance, ARX's attribute
    # weights): a variable the researcher needs more costs more to generalise
    weights: np.ndarray | None = None
    _codes: list[list[np.ndarray]] = field(default_factory=list)
    _cards: list[list[int]] = field(default_factory=list)
    _loss: list[list[np.ndarray]] = field(default_factory=list)
    _gl: list[np.ndarray] = field(default_factory=list)
    _cache: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    _code_loss: list[list[np.ndarray]] = field(default_factory=list)
    _tables: dict[tuple[int, ...], tuple[list[np.ndarray], np.ndarray]] = field(
        default_factory=dict)

    def __post_init__(self) -> None:
        n = float(self.count.sum())
        for j, h in enumerate(self.hierarchies):
            codes_j, cards_j, loss_j, gl_j = [], [], [], []
            # a missing leaf gets its own slot only if the QI has missing values (smaller radix)
            has_na = int(bool((self.leaf[:, j] < 0).any()))
            for lev in range(h.height + 1):
                c, labels = h.level_codes(lev)
                # index -1 (a missing leaf) lands on the appended slot: its own class, loss 1
                codes_j.append(np.append(c, len(labels)).astype(np.int32))
                cards_j.append(len(labels) + has_na)
                lo = np.append(h.level_loss(lev), 1.0)
                loss_j.append(lo)
                gl_j.append(float((self.count * lo[self.leaf[:, j]]).sum() / n) if n else 0.0)
            self._codes.append(codes_j)
            self._cards.append(cards_j)
            self._loss.append(loss_j)
            self._gl.append(np.maximum.accumulate(np.array(gl_j)))
            cl = []
            for lev in range(h.height + 1):
                per_code = np.ones(len(codes_j[lev]) and int(codes_j[lev][-1]) + 1)
                per_code[codes_j[lev][:-1]] = loss_j[lev][:-1]
                cl.append(per_code)
            self._code_loss.append(cl)

    @property
    def heights(self) -> tuple[int, ...]:
        return tuple(h.height for h in self.hierarchies)

    def _w(self) -> np.ndarray:
        if self.weights is None:
            return np.ones(len(self.hierarchies))
        return np.asarray(self.weights, dtype=np.float64)

    def lower_bound(self, node: tuple[int, ...]) -> float:
        w = self._w()
        return float(sum(w[j] * self._gl[j][lv] for j, lv in enumerate(node)) / w.sum())

    def column(self, j: int, level: int) -> np.ndarray:
        """Codes of QI j at `level` for every distinct row (cached: reused by many nodes)."""
        key = (j, level)
        col = self._cache.get(key)
        if col is None:
            col = self._codes[j][level][self.leaf[:, j]]
            self._cache[key] = col
        return col

    def generalise(self, node: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(codes D x p with the missing class as the last code, cardinalities)."""
        gen = np.column_stack([self.column(j, lv) for j, lv in enumerate(node)])
        return gen.astype(np.int32), np.array(
            [self._cards[j][lv] for j, lv in enumerate(node)], dtype=np.int64)

    def _up(self, j: int, a: int, b: int) -> np.ndarray:
        """Code at level a -> code at level b of QI j (hierarchies are nested)."""
        key = (j, -1 - a * 1000 - b)
        m = self._cache.get(key)
        if m is None:
            m = np.empty(int(self._codes[j][a][-1]) + 1, dtype=np.int32)
            m[self._codes[j][a]] = self._codes[j][b]
            self._cache[key] = m
        return m

    def evaluate(self, node: tuple[int, ...]) -> tuple[float, float | None]:
        """(outlying records, total loss if feasible) by rolling up the smallest cached
        class table of a less general node (ARX-style rollup): cheaper than the rows."""
        if not self._tables:
            self._tables[(0,) * len(node)] = (
                [self.column(j, 0) for j in range(len(node))], self.count)
        base, (cols, counts) = min(
            ((b, t) for b, t in self._tables.items()
             if all(x <= y for x, y in zip(b, node, strict=True))),
            key=lambda bt: len(bt[1][1]))
        ncols = [c if a == b else self._up(j, a, b)[c]
                 for j, (c, a, b) in enumerate(zip(cols, base, node, strict=True))]
        cards = [self._cards[j][lv] for j, lv in enumerate(node)]
        key, rng = combine_columns(ncols, cards)
        if rng <= max(16 * len(key), 1 << 22):
            # dense range: class sizes by bincount, classes = the present keys (sorted)
            full = np.bincount(key, weights=counts, minlength=rng)
            uniq = np.flatnonzero(full > 0)
            csize = full[uniq]
        else:
            ids, uniq = pd.factorize(key)
            csize = np.bincount(ids, weights=counts, minlength=len(uniq))
        bad = csize < self.k
        out = float(csize[bad].sum())
        decodable = rng < (1 << 62)
        if decodable:
            # decode the mixed-radix class keys: this node's class table, for later rollups
            rest = np.asarray(uniq, dtype=np.int64)
            dec: list[np.ndarray] = [np.empty(0, np.int32)] * len(node)
            for j in range(len(node) - 1, -1, -1):
                rest, d = np.divmod(rest, cards[j])
                dec[j] = d.astype(np.int32)
            if len(uniq) < 0.9 * len(counts):
                if len(self._tables) >= 24:  # evict the largest, never the bottom table
                    bottom = (0,) * len(node)
                    self._tables.pop(max((b for b in self._tables if b != bottom),
                                         key=lambda b: len(self._tables[b][1])))
                self._tables[node] = (dec, csize)
        else:
            first = np.unique(ids, return_index=True)[1]
            dec = [c[first] for c in ncols]
        if out > self.budget:
            return out, None
        n = float(self.count.sum())
        w = self._w()
        extra = np.zeros(int(bad.sum()))
        for j, lv in enumerate(node):
            extra += w[j] * (1.0 - self._code_loss[j][lv][dec[j][bad]])
        return out, self.lower_bound(node) + float((csize[bad] * extra).sum()) / (n * w.sum())

    def outliers(self, node: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(bad: rows in classes < k or < l distinct, class key per row)."""
        key, rng = combine_columns(
            [self.column(j, lv) for j, lv in enumerate(node)],
            [self._cards[j][lv] for j, lv in enumerate(node)])
        size, gid = class_sizes(key, rng, self.count)
        bad = size < self.k
        if self.l is not None and self.sens is not None:
            smax = int(self.sens.max()) + 1
            pairs = np.unique(gid * smax + self.sens)
            cls, distinct = np.unique(pairs // smax, return_counts=True)
            bad |= distinct[np.searchsorted(cls, gid)] < self.l
        return bad, gid

    def total_loss(self, node: tuple[int, ...], bad: np.ndarray) -> float:
        """Loss with the outlying records fully suppressed (how ARX scores a node)."""
        n = float(self.count.sum())
        w = self._w()
        extra = np.zeros(int(bad.sum()))
        for j, lv in enumerate(node):
            extra += w[j] * (1.0 - self._loss[j][lv][self.leaf[bad, j]])
        return self.lower_bound(node) + float((self.count[bad] * extra).sum()) / (n * w.sum())


@dataclass
class SearchResult:
    node: tuple[int, ...] | None
    loss: float
    outliers: float
    evaluated: int
    pruned: int
    feasible_nodes: int


def search(
    problem: LatticeProblem,
    max_evaluations: int = 100_000,
    caps: Sequence[int] | None = None,
    floors: Sequence[int] | None = None,
    total_costs: Sequence[float] | None = None,
) -> SearchResult:
    """Best-first search for the feasible node of minimal total loss (deterministic).

    `caps`: the highest level allowed per QI (e.g. height - 1: never the total), the
    sub-lattice below them is searched; None = the whole lattice. `floors`: the lowest
    level allowed per QI (an officer's "generalise age to age_10y at least").
    `total_costs`: per QI, a cost added to a node's loss when the QI is at its total (the
    variable removed). The cost only grows up the lattice, so the bound stays a lower bound
    and the optimum is exact for loss + costs: with costs above the largest loss (1), the
    search minimises the costs of the removed variables first, the loss second."""
    heights = problem.heights if caps is None else tuple(
        min(int(c), h) for c, h in zip(caps, problem.heights, strict=True))
    p = len(heights)
    start = (0,) * p if floors is None else tuple(
        min(int(f), h) for f, h in zip(floors, problem.heights, strict=True))
    heights = tuple(max(h, s) for h, s in zip(heights, start, strict=True))
    tops = problem.heights
    costs = [0.0] * p if total_costs is None else [float(c) for c in total_costs]

    def removed(node: tuple[int, ...]) -> float:
        return sum(c for c, lv, t in zip(costs, node, tops, strict=True) if t and lv == t)

    def bound(node: tuple[int, ...]) -> float:
        return problem.lower_bound(node) + removed(node)

    heap: list[tuple[float, tuple[int, ...]]] = [(bound(start), start)]
    seen = {start}
    infeasible: list[tuple[int, ...]] = []
    inf_arr = np.zeros((0, p), dtype=np.int64)
    best: tuple[float, tuple[int, ...], float] | None = None
    evaluated = pruned = feasible = 0
    while heap:
        lb, node = heapq.heappop(heap)
        if best is not None and lb >= best[0] - 1e-15:
            break
        for j in range(p):
            if node[j] < heights[j]:
                succ = (*node[:j], node[j] + 1, *node[j + 1 :])
                if succ not in seen:
                    seen.add(succ)
                    heapq.heappush(heap, (bound(succ), succ))
        if len(infeasible) and np.any(np.all(np.asarray(node) <= inf_arr, axis=1)):
            pruned += 1  # below a node known infeasible: infeasible too (monotonicity)
            continue
        if evaluated >= max_evaluations:
            break
        evaluated += 1
        if problem.l is None:
            out, maybe = problem.evaluate(node)
        else:
            bad, _ = problem.outliers(node)
            out = float(problem.count[bad].sum())
            maybe = None if out > problem.budget else problem.total_loss(node, bad)
        if maybe is None:
            infeasible.append(node)
            inf_arr = np.asarray(infeasible, dtype=np.int64)
            continue
        feasible += 1
        total = maybe + removed(node)
        if best is None or (total, node) < (best[0], best[1]):
            best = (total, node, out)
    if best is None:
        return SearchResult(None, float("inf"), float("nan"), evaluated, pruned, feasible)
    return SearchResult(best[1], best[0] - removed(best[1]), best[2], evaluated, pruned,
                        feasible)


def node_cost(node: tuple[int, ...], heights: Sequence[int],
              weights: Sequence[float] | None = None) -> float:
    """Sum over variables of the chosen level scaled to 0..1 by the hierarchy's height, each
    times its weight (sdcMicro's importance, ARX's attribute weights; 1 when not given)."""
    ws = weights if weights is not None else [1.0] * len(heights)
    return sum(w * level / height
               for level, height, w in zip(node, heights, ws, strict=True) if height)


def cheapest_nodes(
    heights: Sequence[int],
    ok: Callable[[Any], bool],
    evaluate: Callable[[tuple[int, ...]], Any],
    *,
    wanted: int,
    max_evaluations: int,
    time_budget_s: float,
    weights: Sequence[float] | None = None,
) -> list[tuple[tuple[int, ...], Any]]:
    """The `wanted` cheapest lattice nodes (by `node_cost`, with the variables' `weights`)
    whose `evaluate` result is `ok`, skipping generalisations of nodes already found and the
    root: quick suggestions for a researcher, not the optimum `search` finds for the
    protection step."""
    nodes = sorted(
        itertools.product(*(range(h + 1) for h in heights)),
        key=lambda node: (node_cost(node, heights, weights), sum(node), node),
    )
    found: list[tuple[tuple[int, ...], Any]] = []
    started = time.monotonic()
    for evaluations, node in enumerate(nodes):
        if len(found) >= wanted or evaluations >= max_evaluations:
            break
        if time.monotonic() - started > time_budget_s:
            break
        if any(all(a >= b for a, b in zip(node, f, strict=True)) for f, _ in found):
            continue  # dominated: a coarser version of a suggestion already found
        if not any(node):
            continue
        result = evaluate(node)
        if ok(result):
            found.append((node, result))
    return found
