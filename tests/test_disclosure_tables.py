"""Table building, primary rules (boundaries), protect_table end to end, exports, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex import cli
from primex.errors import PrimexError
from primex.protection.files import write_table
from primex.sdc.tables import DimensionHierarchy as Hierarchy
from primex.sdc.tables import ProtectedTable, Rules, build_table, protect_table
from primex.sdc.tables.build import hierarchies_from_sdctable
from primex.sdc.tables.primary import apply_rules

# tau-Argus' defaults for the audit's protection levels (primex.sdc.tables.primary)
LEVELS = {"safety_range": 10, "min_interval": 1}

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdctable"

GEO = pd.DataFrame({"c": ["a1", "a2", "a3", "b1", "b2"], "p": ["A", "A", "A", "B", "B"],
                    "t": "*"})


def _micro(seed: int = 1, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "geo": rng.choice(GEO["c"], n, p=[0.4, 0.25, 0.15, 0.15, 0.05]),
        "sex": rng.choice(["F", "M"], n),
        "amount": np.round(rng.lognormal(7, 1.2, n)),
    })


# -- building ---------------------------------------------------------------------------

def test_hierarchy_from_arx_form_orders_and_collapses_repeated_codes() -> None:
    h = Hierarchy.from_frame("geo", pd.DataFrame(
        {"c": ["21001", "11001", "11002"], "prov": ["04000", "10000", "10000"],
         "reg": ["04000", "02000", "02000"], "top": "*"}))
    assert h.codes[0] == "*"
    # Brussels: province == region is one node, so commune 21001 hangs under it directly.
    assert h.codes[h.parent[h.index["21001"]]] == "04000"
    assert sorted(h.codes[i] for i in h.leaves) == ["11001", "11002", "21001"]


def test_hierarchy_rejects_a_code_with_two_parents() -> None:
    with pytest.raises(PrimexError, match="two parents"):
        Hierarchy.from_frame("g", pd.DataFrame({"c": ["x", "x"], "p": ["A", "B"], "t": "*"}))


def test_table_has_every_margin_and_is_additive() -> None:
    micro = _micro()
    t = build_table(micro, ["geo", "sex"], "amount", hierarchies={"geo": GEO})
    assert t.shape == (1 + 2 + 5, 3)
    assert t.n_cells == 24
    assert np.allclose(t.equations() @ t.value, 0)
    assert np.allclose(t.equations() @ t.count, 0)
    f = t.frame()
    grand = f[(f.geo == "*") & (f.sex == "*")]
    assert grand["value"].item() == pytest.approx(micro["amount"].sum())
    assert grand["count"].item() == len(micro)
    a_f = f[(f.geo == "A") & (f.sex == "F")]["value"].item()
    sel = micro[micro.geo.str.startswith("a") & (micro.sex == "F")]
    assert a_f == pytest.approx(sel["amount"].sum())


def test_top_contributions_are_the_largest_records() -> None:
    micro = pd.DataFrame({"g": ["x", "x", "x", "y"], "v": [5.0, 50.0, 7.0, 100.0]})
    t = build_table(micro, ["g"], "v", n_top=2)
    f = t.frame()
    i_total = int(np.flatnonzero(f.g == "*")[0])
    i_x = int(np.flatnonzero(f.g == "x")[0])
    assert list(t.top[i_total]) == [100.0, 50.0]
    assert list(t.top[i_x]) == [50.0, 7.0]


@pytest.mark.parametrize("bad, match", [
    ({"amount": [-1.0]}, "negative"),
    ({"amount": [np.nan]}, "missing"),
    ({"geo": [None]}, "no value"),
    ({"geo": ["zz"]}, "not finest codes"),
])
def test_bad_microdata_is_a_clear_error(bad: dict, match: str) -> None:
    micro = _micro(n=20)
    for col, vals in bad.items():
        micro.loc[0, col] = vals[0]
    with pytest.raises(PrimexError, match=match):
        build_table(micro, ["geo"], "amount", hierarchies={"geo": GEO})


# -- primary rules: one convention, boundaries ------------------------------------------

def _one_cell(values: list[float]) -> tuple[np.ndarray, np.ndarray, Rules]:
    micro = pd.DataFrame({"g": ["x"] * len(values) + ["y"] * 30, "v": [*values, *[1.0] * 30]})
    t = build_table(micro, ["g"], "v", n_top=3)
    return t, np.flatnonzero(t.frame().g == "x")[0], Rules


def test_min_count_publishes_iff_count_at_least_threshold() -> None:
    for n, unsafe in [(9, True), (10, False)]:
        t, i, _ = _one_cell([1.0] * n)
        t.magnitude = False
        t.value = t.count.astype(float)
        pr = apply_rules(t, Rules.parse({"min_count": 10, **LEVELS}))
        assert pr.unsafe[i] == unsafe
        if unsafe:  # a frequency cell must be able to reach the threshold
            assert pr.upl[i] == 10 - n and pr.lpl[i] == 1


def test_dominance_is_strictly_above_k_percent() -> None:
    # top-2 = 85 of T = 100: exactly k% -> publishable; 86 of 100 -> unsafe (sdcTable's >).
    t, i, _ = _one_cell([45.0, 40.0, 5.0, 5.0, 5.0])
    dominance = Rules.parse({"dominance": {"n": 2, "k": 85}, **LEVELS})
    assert not apply_rules(t, dominance).unsafe[i]
    t, i, _ = _one_cell([46.0, 40.0, 4.0, 5.0, 5.0])
    pr = apply_rules(t, Rules.parse({"dominance": {"n": 2, "k": 85}, **LEVELS}))
    assert pr.unsafe[i]
    assert pr.upl[i] == pytest.approx(100 / 85 * 86 - 100)


def test_p_percent_boundary_and_protection_level() -> None:
    # T - x1 - x2 = 10 = 10% of x1 = 100 -> publishable; 9 -> unsafe, level 10 - 9 = 1.
    t, i, _ = _one_cell([100.0, 50.0, 5.0, 5.0])
    assert not apply_rules(t, Rules.parse({"p_percent": 10, **LEVELS})).unsafe[i]
    t, i, _ = _one_cell([100.0, 50.0, 5.0, 4.0])
    pr = apply_rules(t, Rules.parse({"p_percent": 10, **LEVELS}))
    assert pr.unsafe[i]
    assert pr.upl[i] == pytest.approx(1.0)


def test_empty_cells_are_structural_zeros_never_primary() -> None:
    micro = pd.DataFrame({"a": ["x", "y"], "b": ["1", "2"]})
    pt = protect_table(micro, ["a", "b"], rules={"min_count": 3, **LEVELS})
    z = pt.cells[(pt.cells.a == "x") & (pt.cells.b == "2")]
    assert z["status"].item() == "z"


@pytest.mark.parametrize("rules, match", [
    ({}, "no primary rule"),
    ({"min_count": 0}, "min_count"),
    ({"dominance": {"n": 2}}, "dominance"),
    ({"p_percent": 150}, "p_percent"),
    ({"minimum": 3}, "unknown rule"),
])
def test_bad_rules_are_rejected(rules: dict, match: str) -> None:
    with pytest.raises(PrimexError, match=match):
        Rules.parse(rules)


# -- protect_table ------------------------------------------------------------------------

def test_protect_table_small_magnitude_table_passes_its_audit() -> None:
    micro = _micro()
    rules = {"min_count": 20, "dominance": {"n": 2, "k": 85}, "p_percent": 10, **LEVELS}
    pt = protect_table(micro, ["geo", "sex"], "amount", hierarchies={"geo": GEO}, rules=rules)
    assert isinstance(pt, ProtectedTable)
    assert set(pt.cells.columns) >= {"geo", "sex", "value", "count", "status"}
    assert set(pt.cells["status"]) <= {"s", "u", "x", "z"}
    assert pt.report["passed"] and pt.report["audit"]["failures"] == 0
    n_u = int((pt.cells.status == "u").sum())
    assert n_u == pt.report["primary"] == len(pt.audit) > 0
    # every primary interval reaches its protection level
    a = pt.audit
    assert (a["up"] >= a["value"] + a["upl"] - 1e-6 * a["value"].abs().clip(lower=1)).all()
    assert (a["low"] <= a["value"] - a["lpl"] + 1e-6 * a["value"].abs().clip(lower=1)).all()
    assert pt.report["rules"]["min_count"] == 20


def test_protect_table_is_deterministic() -> None:
    micro = _micro(seed=3)
    a = protect_table(micro, ["geo", "sex"], "amount", hierarchies={"geo": GEO},
                      rules={"min_count": 25, "p_percent": 20, **LEVELS})
    b = protect_table(micro.sample(frac=1, random_state=0), ["geo", "sex"], "amount",
                      hierarchies={"geo": GEO},
                      rules={"min_count": 25, "p_percent": 20, **LEVELS})
    assert a.cells["status"].tolist() == b.cells["status"].tolist()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), threshold=st.integers(3, 40))
def test_any_count_table_passes_its_audit(seed: int, threshold: int) -> None:
    pt = protect_table(_micro(seed, 150), ["geo", "sex"], hierarchies={"geo": GEO},
                       rules={"min_count": threshold, **LEVELS})
    assert pt.report["passed"]
    # a suppressed frequency cell can always be as large as the threshold, and is not pinned
    a = pt.audit
    assert ((a["up"] >= threshold - 1e-6) & (a["low"] <= a["value"] - 1 + 1e-6)).all()


def test_pivot_marks_suppressed_cells_and_write_exports(tmp_path: Path) -> None:
    pt = protect_table(_micro(), ["geo", "sex"], hierarchies={"geo": GEO},
                       rules={"min_count": 30, **LEVELS})
    piv = pt.pivot("geo", "sex")
    hidden = pt.cells[pt.cells.status.isin(["u", "x"])]
    assert len(hidden) > 0
    row = hidden.iloc[0]
    assert piv.loc[row["geo"], row["sex"]] == "x"
    files = write_table(pt, tmp_path / "out", "csv")
    names = sorted(f.name for f in files)
    assert names == ["disclosure-report.json", "disclosure-report.md", "pivot.csv", "table.csv"]
    tidy = pd.read_csv(tmp_path / "out" / "table.csv", dtype={"geo": str})
    assert tidy.loc[tidy.status.isin(["u", "x"]), "value"].isna().all()
    write_table(pt, tmp_path / "pq", "parquet")
    assert pd.read_parquet(tmp_path / "pq" / "table.parquet").shape[0] == len(pt.cells)


def test_a_table_that_failed_its_audit_cannot_be_written(tmp_path: Path) -> None:
    pt = protect_table(_micro(), ["geo"], hierarchies={"geo": GEO},
                       rules={"min_count": 30, **LEVELS})
    pt.report["passed"] = False
    with pytest.raises(PrimexError, match="failed its disclosure audit"):
        write_table(pt, tmp_path / "out")
    assert not (tmp_path / "out" / "table.csv").exists()


def test_linked_tables_share_one_pattern() -> None:
    from primex.sdc.tables import protect_linked_tables

    micro = _micro(seed=5, n=300)
    micro["age"] = np.random.default_rng(5).choice(["young", "old"], len(micro))
    t1, t2 = protect_linked_tables(micro, [["geo", "sex"], ["geo", "age"]],
                                   hierarchies={"geo": GEO}, rules={"min_count": 15, **LEVELS})
    assert t1.passed and t2.passed
    # the shared margin (geo, other dimension at *) has the same status in both tables
    m1 = t1.cells[t1.cells.sex == "*"].set_index("geo")["status"]
    m2 = t2.cells[t2.cells.age == "*"].set_index("geo")["status"]
    assert m1.to_dict() == m2.to_dict()


# -- the sdcTable reference table (skipped without ../shared) ----------------------------



@pytest.mark.slow
def test_reference_1k_table_beats_sdctable_gauss_with_a_clean_audit() -> None:
    if not (REF / "table_1k_microdata.csv").exists():
        pytest.skip("../shared/reference/sdctable not present")
    micro = pd.read_csv(REF / "table_1k_microdata.csv")
    hier = hierarchies_from_sdctable(pd.read_csv(REF / "table_1k_hierarchies.csv"))
    rules = {"min_count": 3, "p_percent": 20, "dominance": {"n": 2, "k": 85}, **LEVELS}
    pt = protect_table(micro, ["region", "nace", "size"], "turnover", hierarchies=hier,
                       rules=rules)
    # sdcTable's primary pattern: 165 cells, the same ones.
    ref = pd.read_csv(REF / "table_1k_primary.csv", dtype=str).replace("Total", "*")
    mine = pt.cells.merge(ref, on=["region", "nace", "size"])
    assert len(mine) == 884
    assert ((mine["status"] == "u") == (mine["sdcStatus"] == "u")).all()
    assert pt.report["primary"] == 165
    assert pt.report["secondary"] <= 151  # sdcTable 0.34 GAUSS
    assert pt.report["audit"]["failures"] == 0 and pt.report["passed"]
    assert pt.report["audit"]["by_lp"] == 165  # every primary by its own attacker LPs


@pytest.mark.slow
def test_reference_1k_table_released_within_5_percent_of_the_optimum() -> None:
    # Issue 16, goal 4. The exact search proved that no safe pattern of this table has fewer
    # than 129 secondary cells (5 400 s of master MIPs, benchmarks/RESULTS.md); 5 % above
    # that is 135.45. The protection step's budget (work, not time: the same answer on every
    # machine) must release at most 135 cells, where the heuristic alone gives 144 and
    # sdcTable's GAUSS 151. The released pattern is audited again here, independently.
    if not (REF / "table_1k_microdata.csv").exists():
        pytest.skip("../shared/reference/sdctable not present")
    from primex.protection.step import OPTIMUM_CHECK
    from primex.sdc.tables.audit import audit

    micro = pd.read_csv(REF / "table_1k_microdata.csv")
    hier = hierarchies_from_sdctable(pd.read_csv(REF / "table_1k_hierarchies.csv"))
    rules = {"min_count": 3, "p_percent": 20, "dominance": {"n": 2, "k": 85}, **LEVELS}
    pt = protect_table(micro, ["region", "nace", "size"], "turnover", hierarchies=hier,
                       rules=rules, exact=OPTIMUM_CHECK)
    assert pt.optimum is not None and pt.optimum["heuristic_secondary_cells"] == 144
    assert pt.report["secondary_pattern"] == "exact search"
    assert pt.report["primary"] == 165
    assert pt.report["secondary"] <= 135 < 1.05 * 129
    assert pt.report["passed"] and pt.report["audit"]["failures"] == 0
    p = pt.problem
    released = pt.cells.set_index(["region", "nace", "size"])["status"]
    codes = [h.codes for h in p.dims]
    letters = np.array([released[(a, b, c)] for a in codes[0] for b in codes[1]
                        for c in codes[2]])
    sup = np.isin(letters, ["u", "x"])
    assert int((letters == "x").sum()) == pt.report["secondary"]
    assert audit(p.A, p.x, sup, letters == "u", p.upl, np.minimum(p.lpl, p.x)).passed


# -- CLI -------------------------------------------------------------------------------------

def test_cli_table_writes_outputs_and_errors_cleanly(tmp_path: Path) -> None:
    micro = _micro()
    micro.to_csv(tmp_path / "m.csv", index=False)
    GEO.to_csv(tmp_path / "geo.csv", index=False, header=False, sep=";")
    out = tmp_path / "out"
    code = cli.main(["--home", str(tmp_path / "h"), "disclosure", "table", str(tmp_path / "m.csv"),
                     "--dims", "geo,sex", "--measure", "amount", "--hierarchy",
                     f"geo={tmp_path / 'geo.csv'}", "--min-count", "20", "--p-percent", "10",
                     "--out", str(out)])
    assert code == 0
    assert (out / "table.csv").exists() and (out / "disclosure-report.json").exists()
    code = cli.main(["--home", str(tmp_path / "h"), "disclosure", "table", str(tmp_path / "m.csv"),
                     "--dims", "geo,nope", "--out", str(out)])
    assert code == 2


def test_rerun_writes_byte_identical_files(tmp_path: Path) -> None:
    micro = _micro(seed=8)
    for name in ("a", "b"):
        write_table(protect_table(micro, ["geo", "sex"], "amount", hierarchies={"geo": GEO},
                                  rules={"min_count": 20, "p_percent": 10, **LEVELS}),
                    tmp_path / name)
    for f in ("table.csv", "pivot.csv", "disclosure-report.json", "disclosure-report.md"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
