"""Cell-key method: ptable properties, keyed record keys, consistency across tables."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import PrimexError
from primex.sdc.tables import cellkey_ptable, protect_table, record_keys
from primex.sdc.tables.cellkey import perturb

KEY = b"k" * 32


@settings(max_examples=10, deadline=None)
@given(D=st.integers(1, 5), js_frac=st.floats(0, 1), frac=st.floats(0.1, 0.9))
def test_ptable_rows_are_distributions_within_the_rules(D: int, js_frac: float,
                                                         frac: float) -> None:
    js = int(js_frac * D)
    V = frac * D * D / 2
    pt = cellkey_ptable(D, V, js)
    for i, g in pt.groupby("i"):
        assert g["p"].sum() == pytest.approx(1.0)
        assert (g["v"].abs() <= D).all()
        t = i + g["v"]
        assert (t >= 0).all()
        assert not ((t >= 1) & (t <= js)).any()
        assert np.isclose(g["p_ub"].iloc[-1], 1.0)
        if i == 0:
            assert g["v"].tolist() == [0]
        if g["v"].min() < 0 < g["v"].max():
            assert (g["p"] * g["v"]).sum() == pytest.approx(0.0, abs=1e-9)
    # the capped row (large counts) has the requested variance exactly
    top = pt[pt.i == pt.i.max()]
    assert (top["p"] * top["v"] ** 2).sum() == pytest.approx(V, rel=1e-6)


def test_record_key_is_hmac_sha256_of_the_pseudonym() -> None:
    digest = hmac.new(KEY, b"P-0001", hashlib.sha256).digest()
    expected = int.from_bytes(digest[:8], "big") >> 12
    assert record_keys(["P-0001"], KEY)[0] == expected
    assert record_keys(["P-0001"], b"x" * 32)[0] != expected


def test_lookup_picks_the_interval_holding_the_cell_key() -> None:
    pt = pd.DataFrame({"i": [1, 1, 1], "v": [-1, 0, 1], "p": [0.25, 0.5, 0.25],
                       "p_lb": [0.0, 0.25, 0.75], "p_ub": [0.25, 0.75, 1.0]})
    noise = perturb(np.array([1, 1, 1, 5]), np.array([0.1, 0.5, 0.9, 0.99]), pt)
    assert noise.tolist() == [-1, 0, 1, 1]


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"pid": [f"P{i:05d}" for i in range(n)],
                         "a": rng.choice(["x", "y", "z"], n), "b": rng.choice(["1", "2"], n)})


def test_cellkey_table_consistent_noise_and_report() -> None:
    micro = _people(500, 1)
    params = {"key": KEY, "D": 3, "V": 1.5, "js": 2}
    t1 = protect_table(micro, ["a", "b"], method="cellkey", pseudonym="pid", cellkey=params)
    assert t1.report["passed"] and t1.report["method"] == "cellkey"
    v = t1.cells["value"]
    assert (v >= 0).all() and not ((v >= 1) & (v <= 2)).any()
    true = micro.groupby("a").size()
    tot = t1.cells[(t1.cells.b == "*") & (t1.cells.a != "*")].set_index("a")["value"]
    assert (tot - true).abs().max() <= 3
    assert t1.report["cellkey"]["mean_absolute_perturbation"] >= 0
    # the same people in another table (and in another order) get the same noise per cell
    t2 = protect_table(micro.sample(frac=1, random_state=2), ["a"], method="cellkey",
                       pseudonym="pid", cellkey=params)
    same = t2.cells.set_index("a")["value"]
    assert same.to_dict() == t1.cells[t1.cells.b == "*"].set_index("a")["value"].to_dict()


def test_cellkey_errors() -> None:
    micro = _people(20, 2)
    with pytest.raises(PrimexError, match="secret key"):
        protect_table(micro, ["a"], method="cellkey", pseudonym="pid", cellkey={})
    with pytest.raises(PrimexError, match="pseudonym"):
        protect_table(micro, ["a"], method="cellkey", cellkey={"key": KEY})
    with pytest.raises(PrimexError, match="cannot exceed D"):
        protect_table(micro, ["a"], method="cellkey", pseudonym="pid",
                      cellkey={"key": KEY, "D": 2, "V": 1.0, "js": 3})
    with pytest.raises(PrimexError, match="V must be"):
        protect_table(micro, ["a"], method="cellkey", pseudonym="pid",
                      cellkey={"key": KEY, "D": 1, "V": 2.0, "js": 0})
