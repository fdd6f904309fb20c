"""anonymize(): optimal generalisation + local suppression, checked independently."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import PrimexError
from primex.protection.files import read_hierarchy_csv
from primex.protection.files import write_micro_report as write_report
from primex.protection.micro_report import build_report
from primex.protection.microdata import protect_microdata
from primex.sdc.micro import GeneralisationHierarchy as Hierarchy
from primex.sdc.micro import anonymize, measure_risk

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdcmicro"
# peers.md generator: (name, K, a), P(i) ~ 1/i^a, numpy default_rng(12345)
PEER_COLUMNS = [("region", 10, 0.5), ("urbrur", 2, 0.5), ("sex", 2, 0.1),
                ("agegroup", 16, 0.3), ("educ", 6, 0.8), ("marital", 5, 1.0),
                ("hhsize", 10, 1.2), ("occup", 12, 0.9)]


def peer_data(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(12345)
    data = {}
    for name, k, a in PEER_COLUMNS:
        p = 1.0 / np.arange(1, k + 1) ** a
        data[name] = rng.choice(np.arange(1, k + 1), size=n, p=p / p.sum())
    data["weight"] = np.round(rng.uniform(50, 500, size=n), 2)
    return pd.DataFrame(data)


def thirds(p: int) -> dict[str, Hierarchy]:
    """The peers' hierarchy value -> (v-1)//3 -> *."""
    return {q: Hierarchy.from_functions(q, range(1, k + 1), lambda v: (v - 1) // 3)
            for q, k, _ in PEER_COLUMNS[:p]}


def wildcard_fk(df: pd.DataFrame, qis: list[str]) -> np.ndarray:
    """Independent brute force of sdcMicro's fk (alpha = 1): O(n x distinct patterns)."""
    X = df[qis].astype(object).where(df[qis].notna(), None).to_numpy()
    n, p = X.shape
    isna = np.array([[v is None for v in row] for row in X]).reshape(n, p)
    allna = isna.all(axis=1)
    out = np.zeros(n)
    keys = [tuple(r) for r in X]
    for pat in set(keys):
        pna = np.array([v is None for v in pat])
        if pna.all():
            cnt = n
        else:
            ok = np.ones(n, dtype=bool)
            for j in range(p):
                if not pna[j]:
                    col = X[:, j]
                    ok &= isna[:, j] | np.array([v == pat[j] for v in col])
            if not pna.any() and p > 1:  # sdcMicro: all-blank keys add to no complete key
                ok &= ~allna                # (except with a single key variable)
            cnt = int(ok.sum())
        out[[i for i, kk in enumerate(keys) if kk == pat]] = cnt
    return out


def test_peer_100k_six_keys_matches_arx_and_anjana() -> None:
    d = peer_data(100_000)
    qis = [c[0] for c in PEER_COLUMNS[:6]]
    r = anonymize(d, qis, thirds(6), k=3, max_suppression=0.05)
    # peers.md: agegroup one level, 1458 records suppressed (ARX and anjana)
    assert r.levels == {"region": 0, "urbrur": 0, "sex": 0, "agegroup": 1, "educ": 0,
                        "marital": 0}
    assert r.records_suppressed == 1458
    assert r.passed and r.risk_after.kanon_violations(3) == 0


def test_peer_100k_seven_keys_matches_arx_and_anjana() -> None:
    d = peer_data(100_000)
    qis = [c[0] for c in PEER_COLUMNS[:7]]
    r = anonymize(d, qis, thirds(7), k=3, max_suppression=0.05)
    # peers.md: region, agegroup and hhsize one level, 4103 records suppressed
    assert {q for q, lv in r.levels.items() if lv} == {"region", "agegroup", "hhsize"}
    assert set(r.levels.values()) == {0, 1}
    assert r.records_suppressed == 4103
    assert r.values_suppressed >= r.records_suppressed
    assert r.risk_after.kanon_violations(3) == 0


def test_result_is_k_anonymous_by_independent_check_and_deterministic() -> None:
    d = peer_data(4000)
    qis = [c[0] for c in PEER_COLUMNS[:6]]
    r = anonymize(d, qis, thirds(6), k=4, max_suppression=0.03)
    fk = wildcard_fk(r.data, qis)
    assert fk.min() >= 4
    assert r.records_suppressed <= int(0.03 * len(d))
    blanks = r.data[qis].isna()
    assert int(blanks.any(axis=1).sum()) == r.records_suppressed
    assert {q: int(blanks[q].sum()) for q in qis} == r.suppressions
    r2 = anonymize(d, qis, thirds(6), k=4, max_suppression=0.03)
    pd.testing.assert_frame_equal(r.data, r2.data)
    pd.testing.assert_frame_equal(d, peer_data(4000))  # the input is left untouched
    assert r.risk_after.fk.tolist() == fk.tolist()
    rw = anonymize(d, qis, thirds(6), k=4, max_suppression=0.03, weight="weight")
    for got, data in ((rw.risk_before, d), (rw.risk_after, rw.data)):
        ref = measure_risk(data, qis, weight="weight")
        np.testing.assert_allclose(got.Fk, ref.Fk, rtol=1e-12)
        np.testing.assert_allclose(got.individual, ref.individual, rtol=1e-12)
        assert got.global_risk_ER == pytest.approx(ref.global_risk_ER, rel=1e-12)


def _brute_force_optimum(d: pd.DataFrame, qis: list[str], hs: dict[str, Hierarchy], k: int,
                         budget: int) -> tuple[float, tuple[int, ...]]:
    """Every node of the lattice with pandas group-by; the documented loss metric."""
    best: tuple[float, tuple[int, ...]] | None = None
    n, p = len(d), len(qis)
    for node in itertools.product(*[range(hs[q].height + 1) for q in qis]):
        g = pd.DataFrame({q: d[q].astype(str).map(
            dict(zip(hs[q].table["level0"], hs[q].table[f"level{lv}"], strict=True)))
            for q, lv in zip(qis, node, strict=True)})
        size = g.groupby(qis)[qis[0]].transform("size")
        bad = size < k
        if bad.sum() > budget:
            continue
        loss = 0.0
        for q, lv in zip(qis, node, strict=True):
            m = len(hs[q].table)
            grp = hs[q].table.groupby(f"level{lv}")["level0"].transform("size")
            per = dict(zip(hs[q].table["level0"], (grp - 1) / (m - 1), strict=True))
            v = d[q].astype(str).map(per)
            loss += float(np.where(bad, 1.0, v).sum())
        loss /= n * p
        if best is None or (loss, node) < best:
            best = (loss, node)
    assert best is not None
    return best


@pytest.mark.parametrize(("k", "supp"), [(2, 0.0), (3, 0.02), (5, 0.05), (10, 0.01)])
def test_lattice_search_finds_the_global_optimum(k: int, supp: float) -> None:
    d = peer_data(3000)
    qis = ["region", "sex", "agegroup", "educ"]
    hs = {q: thirds(8)[q] for q in qis}
    budget = int(supp * len(d))
    loss, node = _brute_force_optimum(d, qis, hs, k, budget)
    r = anonymize(d, qis, hs, k=k, max_suppression=supp)
    assert tuple(r.levels[q] for q in qis) == node
    assert r.information_loss["loss_if_records_suppressed"] == pytest.approx(loss, rel=1e-12)
    assert r.search["evaluated_nodes"] < 81


def test_testdata_fewer_suppressions_than_sdcmicro_kanon() -> None:
    path = REF / "testdata.csv"
    if not path.exists():
        pytest.skip("sdcMicro testdata not available")
    d = pd.read_csv(path)
    keys = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
    # no generalisation allowed except blanking (value -> *), generous budget: pure local
    r = anonymize(d, keys, {}, k=3, max_suppression=0.10)
    assert r.levels == dict.fromkeys(keys, 0)
    assert r.values_suppressed < 293  # sdcMicro kAnon(k=3), default importance
    assert wildcard_fk(r.data, keys).min() >= 3
    # with 5 %: relat is generalised away (as anjana); anjana suppresses 49 records
    r5 = anonymize(d, keys, {}, k=3, max_suppression=0.05)
    assert r5.levels["relat"] == 1 and sum(r5.levels.values()) == 1
    assert r5.records_suppressed <= 49
    assert wildcard_fk(r5.data, keys).min() >= 3


def test_importance_moves_suppressions() -> None:
    path = REF / "testdata.csv"
    if not path.exists():
        pytest.skip("sdcMicro testdata not available")
    d = pd.read_csv(path)
    keys = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
    default = anonymize(d, keys, {}, k=3, max_suppression=0.10)
    r = anonymize(d, keys, {}, k=3, max_suppression=0.10, importance=[1, 2, 3, 4, 5, 6, 7])
    # relat and sex least important: they take most blanks (sdcMicro: relat 131, sex 154),
    # and sex, kept by default (2 categories), now gives values
    assert r.suppressions["relat"] + r.suppressions["sex"] > 0.6 * r.values_suppressed
    assert r.suppressions["sex"] > default.suppressions["sex"] == 0
    assert r.suppressions["urbrur"] <= 1
    assert wildcard_fk(r.data, keys).min() >= 3


def test_l_diversity_is_reached() -> None:
    d = peer_data(3000)
    qis = ["region", "sex", "agegroup"]
    r = anonymize(d, qis, thirds(4), k=3, max_suppression=0.05, sensitive="educ", l=3)
    out = r.data
    assert wildcard_fk(out, qis).min() >= 3
    comp = out[qis].notna().all(axis=1)
    distinct = out[comp].groupby(qis, observed=True)["educ"].nunique()
    assert distinct.min() >= 3
    assert r.ldiversity_after is not None and r.ldiversity_after["violations_l"] == 0
    assert r.passed


def test_infeasible_budget_reports_not_passed() -> None:
    d = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 1, 2, 2], "s": [1, 1, 1, 1]})
    r = anonymize(d, ["a", "b"], {}, k=2, sensitive="s", l=2, max_suppression=0.0)
    assert not r.passed and r.reasons


@st.composite
def _small(draw: st.DrawFn) -> tuple[pd.DataFrame, int, float]:
    n = draw(st.integers(5, 40))
    p = draw(st.integers(1, 3))
    cols = {}
    for j in range(p):
        card = draw(st.integers(1, 6))
        vals = draw(st.lists(st.one_of(st.integers(1, card), st.none()), min_size=n, max_size=n))
        cols[f"q{j}"] = pd.array(vals, dtype="Int64")
    return pd.DataFrame(cols), draw(st.integers(2, 4)), draw(st.sampled_from([0.0, 0.1, 0.5]))


@settings(max_examples=40, deadline=None)
@given(_small())
def test_property_output_is_k_anonymous(case: tuple[pd.DataFrame, int, float]) -> None:
    df, k, supp = case
    qis = list(df.columns)
    hs = {q: Hierarchy.from_functions(q, range(1, 7), lambda v: (v - 1) // 2) for q in qis}
    r = anonymize(df, qis, hs, k=k, max_suppression=supp)
    if len(df) >= k:
        assert wildcard_fk(r.data, qis).min() >= k
        assert r.risk_after.kanon_violations(k) == 0
    if r.passed:
        assert r.records_suppressed <= int(supp * len(df) + 1e-9)


def test_hierarchy_csv_arx_format(tmp_path: Path) -> None:
    f = tmp_path / "age.csv"
    f.write_text("1;1-2;*\n2;1-2;*\n3;3-4;*\n4;3-4;*\n", encoding="utf-8")
    h = read_hierarchy_csv("age", f)
    assert h.height == 2
    d = pd.DataFrame({"age": [1, 2, 3, 4, 1, 3]})
    r = anonymize(d, ["age"], {"age": h}, k=2, max_suppression=0.0)  # sdc reads no file
    assert r.levels == {"age": 1}
    assert r.data["age"].astype(str).tolist() == ["1-2", "1-2", "3-4", "3-4", "1-2", "3-4"]


@pytest.mark.parametrize(("table", "fragment"), [
    (pd.DataFrame({"a": ["1", "2", "2"], "b": ["x", "x", "x"]}), "listed twice"),
    (pd.DataFrame({"a": ["1", "2"], "b": ["x", "x"], "c": ["p", "q"]}), "several values"),
])
def test_bad_hierarchies(table: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(PrimexError, match=fragment):
        Hierarchy.from_frame("a", table)


def test_value_missing_from_hierarchy() -> None:
    h = Hierarchy.from_frame("a", pd.DataFrame({"a": ["1"], "b": ["*"]}))
    with pytest.raises(PrimexError, match="not in its hierarchy"):
        anonymize(pd.DataFrame({"a": [1, 2]}), ["a"], {"a": h}, k=2, max_suppression=0.05)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"k": 0}, "positive integer"),
    ({"k": 2, "max_suppression": 1.5}, "max_suppression"),
    ({"k": 2, "l": 2}, "both"),
    ({"k": 2, "sensitive": "a", "l": 2}, "both a QI"),
])
def test_parameter_errors(kwargs: dict, fragment: str) -> None:
    with pytest.raises(PrimexError, match=fragment):
        anonymize(pd.DataFrame({"a": [1, 2]}), ["a"], {}, **{"max_suppression": 0.05, **kwargs})


def test_protect_with_catalogue_hierarchies_and_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 2000
    d = pd.DataFrame({"age": rng.integers(18, 80, n), "sex": rng.choice(["M", "F"], n),
                      "amount": rng.uniform(500, 1500, n).round(2)})
    data, rep = protect_microdata(d, ["age", "sex"], k=5, max_suppression=0.02,
                                  request_id="REQ-TEST")
    assert rep["passed"] is True
    assert rep["hierarchy_sources"] == {"age": "catalogue", "sex": "catalogue"}
    assert wildcard_fk(data, ["age", "sex"]).min() >= 5
    assert rep["kanon_violations_after"] == 0
    paths = write_report(rep, tmp_path)
    assert [p.name for p in paths] == ["disclosure-report.json", "disclosure-report.md",
                                       "disclosure-report.html"]
    back = json.loads(paths[0].read_text())
    assert back["passed"] is True and back["request_id"] == "REQ-TEST"
    md = paths[1].read_text()
    assert "Verdict: PASSED" in md and "records violating 5-anonymity" in md
    assert "<html" in paths[2].read_text()


def test_report_shows_not_passed() -> None:
    d = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 1, 2, 2], "s": [1, 1, 1, 1]})
    r = anonymize(d, ["a", "b"], {}, k=2, sensitive="s", l=2, max_suppression=0.0)
    from primex.protection.micro_report import render_markdown

    md = render_markdown(build_report(r, now="2026-01-01T00:00:00+00:00"))
    assert "NOT PASSED" in md and "2026-01-01" in md


def test_protect_with_perturbations_is_reproducible() -> None:
    rng = np.random.default_rng(8)
    n = 1500
    d = pd.DataFrame({"age": rng.integers(18, 80, n), "sex": rng.choice(["M", "F"], n),
                      "amount": rng.uniform(500, 1500, n).round(2),
                      "position_group": rng.choice(["employee", "job_seeker", "cpas"], n)})
    specs = [{"method": "mdav", "variables": ["amount"], "k": 3},
             {"method": "pram", "variables": ["position_group"]}]
    a, ra = protect_microdata(d, None, k=3, max_suppression=0.05, request_id="R1",
                              perturbations=specs)
    assert ra["parameters"]["quasi_identifiers"] == ["age", "sex"]  # catalogue roles
    b, _ = protect_microdata(d, ["age", "sex"], k=3, max_suppression=0.05, request_id="R1",
                             perturbations=specs)
    pd.testing.assert_frame_equal(a, b)
    assert [p["method"] for p in ra["perturbations"]] == ["mdav", "pram"]
    assert a.groupby("amount").size().min() >= 3
    assert a["amount"].mean() == pytest.approx(d["amount"].mean())
    with pytest.raises(PrimexError, match="quasi-identifiers"):
        protect_microdata(d, ["age", "sex"], k=3, max_suppression=0.05,
                          perturbations=[{"method": "noise", "variables": ["age"]}])
