"""Exact secondary suppression (primex.sdc.tables.optimal) against brute force.

On tables small enough to try every pattern, the MIP's number of secondary cells (and, among
patterns of that size, its suppressed value) equals the brute-force optimum found with the
release gate's own attacker audit; its pattern passes that audit; the heuristic never
suppresses fewer cells than the optimum (it cannot: the optimum is a minimum).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import PrimexError
from primex.protection.step import _optimum_md
from primex.sdc.tables import protect_table
from primex.sdc.tables import secondary as sec
from primex.sdc.tables.audit import audit
from primex.sdc.tables.build import DimensionHierarchy, build_table
from primex.sdc.tables.optimal import OptimumParams, distance_to_optimum, optimal_suppression

# the masters cut to one node: what improves a pattern then is the local search
NO_MASTERS = {"time_limit_s": None, "max_masters": 1, "node_limit": 1, "lp_rounds": 0}


def _three_d_micro() -> pd.DataFrame:
    """400 records over geo (5) x age (3) x sex (2): a 72-cell table with margins whose
    heuristic pattern (15 secondary cells) is not optimal (11)."""
    rng = np.random.default_rng(11)
    return pd.DataFrame({"geo": rng.choice(list("abcde"), 400, p=[.4, .3, .15, .1, .05]),
                         "age": rng.choice(["y", "m", "o"], 400, p=[.5, .4, .1]),
                         "sex": rng.choice(["F", "M"], 400)})


def _table(leaves: np.ndarray) -> tuple[object, np.ndarray]:
    """A 2-D frequency table (rows x cols of leaf counts) with its margins."""
    rows, cols = leaves.shape
    recs = [(f"r{i}", f"c{j}") for i in range(rows) for j in range(cols)
            for _ in range(int(leaves[i, j]))]
    micro = pd.DataFrame(recs, columns=["r", "c"])
    hier = {"r": DimensionHierarchy.flat("r", [f"r{i}" for i in range(rows)]),
            "c": DimensionHierarchy.flat("c", [f"c{j}" for j in range(cols)])}
    t = build_table(micro, ["r", "c"], hierarchies=hier)
    return t, t.value.astype(np.float64)


def _brute_force(A: object, x: np.ndarray, status: np.ndarray, upl: np.ndarray,
                 lpl: np.ndarray) -> tuple[int, float]:
    """(fewest secondary cells, least suppressed value among patterns of that size)."""
    free = np.flatnonzero(status == sec.S)
    prim = status == sec.U
    for size in range(free.size + 1):
        values = []
        for extra in itertools.combinations(free.tolist(), size):
            sup = prim.copy()
            sup[list(extra)] = True
            if audit(A, x, sup, prim, upl, lpl).passed:
                values.append(float(x[list(extra)].sum()))
        if values:
            return size, min(values)
    raise AssertionError("suppressing every cell is always safe")


def _case(leaves: np.ndarray, prim_cells: list[tuple[int, int]]) -> tuple:
    t, x = _table(leaves)
    status = np.where(x == 0, sec.Z, sec.S)
    idx = {c: i for i, c in enumerate(t.dims[0].codes)}, {c: i for i, c in
                                                        enumerate(t.dims[1].codes)}
    upl = np.zeros(x.size)
    lpl = np.zeros(x.size)
    for i, j in prim_cells:
        cell = int(np.ravel_multi_index((idx[0][f"r{i}"], idx[1][f"c{j}"]), t.shape))
        if x[cell] == 0:
            continue
        status[cell] = sec.U
        upl[cell] = lpl[cell] = max(1.0, np.ceil(0.3 * x[cell]))
    return t, x, status, upl, lpl


@settings(max_examples=8, deadline=None)
@given(
    leaves=st.lists(st.integers(0, 9), min_size=6, max_size=6),
    cells=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=2,
                   unique=True),
)
def test_mip_equals_brute_force_and_heuristic_is_never_below(
    leaves: list[int], cells: list[tuple[int, int]]
) -> None:
    t, x, status, upl, lpl = _case(np.array(leaves).reshape(3, 2), cells)
    if not (status == sec.U).any():
        return
    A = t.equations()
    want_cells, want_value = _brute_force(A, x, status, upl, lpl)
    got = optimal_suppression(A, x, status, upl, lpl, OptimumParams(time_limit_s=60))
    assert got.proven_optimal and got.gap == 0.0
    assert got.secondary_cells == want_cells
    assert got.secondary_value == pytest.approx(want_value)
    assert got.status is not None
    sup = (got.status == sec.U) | (got.status == sec.X)
    assert audit(A, x, sup, got.status == sec.U, upl, lpl).passed
    heur, _, failed = sec.suppress(t.dims, A, x, status, upl, lpl)
    assert not failed
    assert int((heur == sec.X).sum()) >= got.secondary_cells
    # masters cut to one node, then the local search from the heuristic's pattern: the same
    # optimum, and a pattern that passes the audit
    local = optimal_suppression(A, x, status, upl, lpl,
                                OptimumParams(**NO_MASTERS, lns_rounds=60, lns_share=0.5),
                                known=heur, shape=t.shape)
    assert local.status is not None and local.secondary_cells == want_cells
    sup = (local.status == sec.U) | (local.status == sec.X)
    assert audit(A, x, sup, local.status == sec.U, upl, lpl).passed


def test_known_table_optimum_by_hand() -> None:
    # 2 x 2 leaves [[5, 6], [7, 8]]: one primary (5) needs a rectangle of four leaves,
    # i.e. three secondaries, the cheapest value being 6 + 7 + 8 = 21; no margin helps.
    t, x, status, upl, lpl = _case(np.array([[5, 6], [7, 8]]), [(0, 0)])
    got = optimal_suppression(t.equations(), x, status, upl, lpl, OptimumParams())
    assert (got.secondary_cells, got.secondary_value) == (3, 21.0)
    assert got.proven_optimal


def test_value_cost_prefers_small_cells() -> None:
    # 3 x 2 leaves, primary 4 with protection levels 2. The leaf rectangle 4, 9, 2, 1 cannot
    # move 4 down by 2 (the 1 would go negative); the cheapest safe pattern by value uses
    # the row totals instead: r0 total 13 + r2 total 3 + leaf 2 = 18 (found by hand).
    leaves = np.array([[4, 9], [50, 60], [2, 1]])
    t, x, status, upl, lpl = _case(leaves, [(0, 0)])
    A = t.equations()
    got = optimal_suppression(A, x, status, upl, lpl, OptimumParams(cost="value"))
    assert got.proven_optimal
    assert (got.secondary_cells, got.secondary_value, got.objective) == (3, 18.0, 18.0)
    sup = np.zeros(x.size, dtype=bool)
    for r, c in [(0, 0), (0, 1), (1, 1), (1, 2), (3, 1), (3, 2)]:  # the leaf rectangle
        sup[r * 3 + c] = True
    assert not audit(A, x, sup, status == sec.U, upl, lpl).passed


def test_limits_are_checked() -> None:
    t, x, status, upl, lpl = _case(np.array([[5, 6], [7, 8]]), [(0, 0)])
    with pytest.raises(PrimexError, match="above the exact solver's limit"):
        optimal_suppression(t.equations(), x, status, upl, lpl, OptimumParams(max_cells=4))
    with pytest.raises(PrimexError, match="time_limit_s"):
        OptimumParams(time_limit_s=0)


def test_distance_to_optimum_of_a_protected_table() -> None:
    rng = np.random.default_rng(3)
    micro = pd.DataFrame({"geo": rng.choice(["a", "b", "c", "d"], 300, p=[.5, .3, .15, .05]),
                          "sex": rng.choice(["F", "M"], 300)})
    pt = protect_table(micro, ["geo", "sex"],
                       rules={"min_count": 10, "safety_range": 10, "min_interval": 1})
    assert pt.problem is not None and pt.report["primary"] > 0
    d = distance_to_optimum(pt.problem, OptimumParams(time_limit_s=30))
    assert d["checked"] and d["proven_optimal"]
    assert d["heuristic_secondary_cells"] == pt.report["secondary"]
    assert d["extra_cells"] == pt.report["secondary"] - d["best_secondary_cells"] >= 0
    too_big = distance_to_optimum(pt.problem, OptimumParams(max_cells=5))
    assert not too_big["checked"] and "optimum not computed: 15 cells" in too_big["note"]
    md = "\n".join(_optimum_md(d))
    assert f"the exact optimum has {d['best_secondary_cells']} secondary cells" in md
    assert "optimum not computed" in "\n".join(_optimum_md(too_big))


def test_the_report_budget_gives_the_same_answer_on_a_slow_machine(monkeypatch) -> None:
    # The disclosure report's optimum check counts work (LP rounds, master MIPs, nodes), not
    # seconds: a machine whose clock races ahead (here 1 000 s per reading) must get the
    # same figures, else two protections of the same data publish different reports.
    from primex.protection import step
    from primex.sdc.tables import optimal

    micro = _three_d_micro()
    pt = protect_table(micro, ["geo", "age", "sex"],
                       rules={"min_count": 10, "safety_range": 10, "min_interval": 1})
    assert pt.problem is not None and pt.report["primary"] > 0
    calm = distance_to_optimum(pt.problem, step.OPTIMUM_CHECK)
    assert calm["checked"] and calm["proven_optimal"]
    ticks = iter(range(10**9))
    monkeypatch.setattr(optimal.time, "perf_counter", lambda: 1000.0 * next(ticks))
    assert distance_to_optimum(pt.problem, step.OPTIMUM_CHECK) == calm


def test_a_budget_is_required() -> None:
    with pytest.raises(PrimexError, match="work budget"):
        OptimumParams(time_limit_s=None)
    with pytest.raises(PrimexError, match="node_limit must be >= 1"):
        OptimumParams(node_limit=0)
    assert OptimumParams(time_limit_s=None, max_masters=2, node_limit=50).budget() == \
        "2 master MIPs and 50 nodes"


def test_protection_releases_the_exact_search_pattern_when_it_is_smaller() -> None:
    # The 3-D table above: the heuristic suppresses 15 secondary cells; the exact search,
    # within the disclosure report's work budget, proves an optimum of fewer. Releasing the
    # heuristic's pattern while the report names a smaller safe one would hide data for
    # nothing: protect(exact=...) releases the smaller pattern, audited again.
    from primex.protection import step

    micro = _three_d_micro()
    rules = {"min_count": 10, "safety_range": 10, "min_interval": 1}
    heuristic = protect_table(micro, ["geo", "age", "sex"], rules=rules)
    best = protect_table(micro, ["geo", "age", "sex"], rules=rules, exact=step.OPTIMUM_CHECK)
    assert best.optimum is not None and best.optimum["proven_optimal"]
    assert best.optimum["released"] == "exact search"
    assert best.report["secondary_pattern"] == "exact search"
    assert best.report["secondary"] == best.optimum["best_secondary_cells"] \
        < heuristic.report["secondary"] == best.optimum["heuristic_secondary_cells"]
    assert best.passed and best.report["audit"]["failures"] == 0
    # the primaries are the same; only secondary suppression changed
    assert (best.cells["status"] == "u").sum() == (heuristic.cells["status"] == "u").sum()
    # the released pattern passes the attacker audit of the release gate, independently
    p = best.problem
    released = best.cells.set_index(["geo", "age", "sex"])["status"]
    codes = [h.codes for h in p.dims]
    letters = np.array([released[(g, a, s)] for g in codes[0] for a in codes[1]
                        for s in codes[2]])
    sup = np.isin(letters, ["u", "x"])
    assert audit(p.A, p.x, sup, letters == "u", p.upl, np.minimum(p.lpl, p.x)).passed
    line = "\n".join(_optimum_md(best.optimum))
    assert "the exact search's pattern is released" in line and "proven optimum" in line


def test_the_heuristic_pattern_stays_when_the_exact_search_finds_nothing_smaller() -> None:
    micro = pd.DataFrame([("r0", "c0")] * 5 + [("r0", "c1")] * 6 + [("r1", "c0")] * 7
                         + [("r1", "c1")] * 8, columns=["r", "c"])
    pt = protect_table(micro, ["r", "c"], rules={"min_count": 6, "safety_range": 10,
                                                  "min_interval": 1},
                       exact=OptimumParams(time_limit_s=None, max_masters=10, node_limit=50))
    assert pt.optimum is not None and pt.optimum["released"] == "heuristic"
    assert pt.optimum["extra_cells"] == 0 and pt.report["secondary_pattern"] == "heuristic"


# -- the local search (large-neighbourhood search after the masters) -------------------------

def test_a_derivable_secondary_cell_is_published() -> None:
    # 2 x 2 leaves [[5, 6], [7, 8]], primary 5: the rectangle of four leaves is safe. Also
    # suppressing the grand total adds nothing: it is the only suppressed cell of the
    # equation total = r0 + r1 (row totals published), so the attacker reads it anyway.
    from primex.sdc.tables.optimal import _without_derivable

    t, x, status, upl, lpl = _case(np.array([[5, 6], [7, 8]]), [(0, 0)])
    A = t.equations()
    leaves = np.zeros(x.size, dtype=bool)
    for r, c in [(1, 1), (1, 2), (2, 1), (2, 2)]:
        leaves[r * 3 + c] = True
    padded = leaves.copy()
    padded[0] = True  # the grand total
    assert audit(A, x, padded, status == sec.U, upl, lpl).passed
    got = _without_derivable((sp.csr_matrix(A) != 0).astype(np.int64), padded, status == sec.S)
    assert (got == leaves).all()
    assert audit(A, x, got, status == sec.U, upl, lpl).passed


def test_local_search_parameters_are_checked() -> None:
    with pytest.raises(PrimexError, match="lns_share"):
        OptimumParams(lns_share=0.0)
    with pytest.raises(PrimexError, match="lns_rounds"):
        OptimumParams(lns_rounds=-1)
    assert OptimumParams(**NO_MASTERS, lns_rounds=8, lns_nodes=30).budget() == \
        "1 master MIPs and 1 nodes, then 8 neighbourhoods of 30 nodes"


def test_the_local_search_finds_the_optimum_the_heuristic_misses() -> None:
    # The 3-D table of the protection test above: the heuristic suppresses 15 secondary
    # cells, the full exact search proves 11. With the masters cut to one node the answer
    # stays at 15; ten neighbourhoods of the local search reach 11.
    micro = _three_d_micro()
    pt = protect_table(micro, ["geo", "age", "sex"],
                       rules={"min_count": 10, "safety_range": 10, "min_interval": 1})
    p = pt.problem
    assert p is not None and int((p.after == sec.X).sum()) == 15
    proven = distance_to_optimum(p, OptimumParams(time_limit_s=120))
    assert proven["proven_optimal"] and proven["best_secondary_cells"] == 11
    shape = tuple(d.size for d in p.dims)
    found = {}
    for rounds in (0, 10):
        got = optimal_suppression(p.A, p.x, p.before, p.upl, p.lpl,
                                  OptimumParams(**NO_MASTERS, lns_rounds=rounds),
                                  known=p.after, shape=shape)
        assert got.status is not None
        sup = (got.status == sec.U) | (got.status == sec.X)
        assert audit(p.A, p.x, sup, got.status == sec.U, p.upl, np.minimum(p.lpl, p.x)).passed
        found[rounds] = got.secondary_cells
    assert found == {0: 15, 10: 11}
