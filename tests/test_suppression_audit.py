"""The attacker audit on hand-checked tables, and certificates it must never trust blindly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from primex.sdc.tables import build_table
from primex.sdc.tables.audit import audit

# 2 x 2 table with margins:      c1   c2 | *
#                           r1    5   10 | 15
#                           r2   20   30 | 50
#                           *    25   40 | 65
CELLS = {("r1", "c1"): 5, ("r1", "c2"): 10, ("r2", "c1"): 20, ("r2", "c2"): 30}


def _table():
    micro = pd.DataFrame([(r, c) for (r, c), n in CELLS.items() for _ in range(n)],
                         columns=["r", "c"])
    t = build_table(micro, ["r", "c"])
    f = t.frame().astype({"r": str, "c": str})
    idx = {(a, b): i for i, (a, b) in enumerate(zip(f.r, f.c, strict=True))}
    return t, idx


def _mask(t, idx, cells) -> np.ndarray:
    m = np.zeros(t.n_cells, dtype=bool)
    for c in cells:
        m[idx[c]] = True
    return m


def test_interior_suppression_gives_the_hand_derived_interval() -> None:
    t, idx = _table()
    sup = _mask(t, idx, CELLS)
    prim = _mask(t, idx, [("r1", "c1")])
    # a = 15 - b, c = 25 - a, d = 25 + a, all >= 0  =>  a in [0, 15]
    res = audit(t.equations(), t.value, sup, prim, np.full(t.n_cells, 4.0),
                np.full(t.n_cells, 4.0))
    assert res.low[0] == pytest.approx(0.0, abs=1e-9)
    assert res.up[0] == pytest.approx(15.0)
    assert res.passed
    # the level 11 upwards is out of reach (15 < 5 + 11)
    res = audit(t.equations(), t.value, sup, prim, np.full(t.n_cells, 11.0),
                np.zeros(t.n_cells))
    assert not res.passed and res.failures.tolist() == [idx[("r1", "c1")]]


def test_a_lone_suppressed_cell_is_exactly_disclosed() -> None:
    t, idx = _table()
    sup = _mask(t, idx, [("r1", "c1")])
    res = audit(t.equations(), t.value, sup, sup, np.ones(t.n_cells), np.ones(t.n_cells))
    assert res.low[0] == pytest.approx(5.0) and res.up[0] == pytest.approx(5.0)
    assert not res.passed


def test_row_pair_is_still_disclosed_through_the_other_margin() -> None:
    t, idx = _table()
    # r1,c1 and r1,c2 suppressed: the column totals minus r2 give both back exactly.
    sup = _mask(t, idx, [("r1", "c1"), ("r1", "c2")])
    prim = _mask(t, idx, [("r1", "c1")])
    res = audit(t.equations(), t.value, sup, prim, np.ones(t.n_cells), np.ones(t.n_cells))
    assert res.up[0] == pytest.approx(5.0) and not res.passed


def test_forged_witnesses_are_ignored_and_the_lp_decides() -> None:
    t, idx = _table()
    sup = _mask(t, idx, [("r1", "c1"), ("r1", "c2")])
    prim = sup.copy()
    # A "witness" that breaks additivity (moves one cell only) proves nothing.
    forged = [(np.array([idx[("r1", "c1")]]), np.array([100.0]))]
    res = audit(t.equations(), t.value, sup, prim, np.ones(t.n_cells), np.ones(t.n_cells),
                witnesses=forged)
    assert not res.passed
    assert set(res.method) == {"lp"}


def test_the_large_table_path_hypercubes_passes_an_exact_audit() -> None:
    """The hypercube path (used above 1 500 primaries) on a small table, audited by LP for
    every primary and by its verified witnesses: both must pass, and twice the same."""
    from primex.sdc.tables import secondary as sec
    from primex.sdc.tables.primary import Rules, apply_rules

    rng = np.random.default_rng(11)
    n = 600
    geo = pd.DataFrame({"c": [f"c{i}" for i in range(9)], "p": [f"P{i // 3}" for i in range(9)],
                        "t": "*"})
    micro = pd.DataFrame({"g": rng.choice(geo["c"], n), "a": rng.choice(list("abcd"), n),
                          "s": rng.choice(["F", "M"], n), "v": rng.lognormal(7, 1, n)})
    t = build_table(micro, ["g", "a", "s"], "v", hierarchies={"g": geo})
    pr = apply_rules(t, Rules.parse({"min_count": 6, "p_percent": 15,
                                        "safety_range": 10, "min_interval": 1}))
    status = np.where(pr.empty, sec.Z, np.where(pr.unsafe, sec.U, sec.S))
    A = t.equations()
    runs = []
    for _ in range(2):
        out, prot, failed = sec.suppress(t.dims, A, t.value, status, pr.upl, pr.lpl,
                                         cleanup=False, cubes=True)
        assert not failed
        runs.append(out)
    assert (runs[0] == runs[1]).all()
    sup = (runs[0] == sec.U) | (runs[0] == sec.X)
    exact = audit(A, t.value, sup, runs[0] == sec.U, pr.upl, pr.lpl)
    assert exact.passed and set(exact.method) == {"lp"}
    wit = audit(A, t.value, sup, runs[0] == sec.U, pr.upl, pr.lpl,
                witnesses=[(c.cells, c.y) for c in prot.store.alive()])
    assert wit.passed and "witness" in set(wit.method)
