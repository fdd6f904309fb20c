"""measure_risk / ldiversity against sdcMicro 5.8.1 (reference outputs and unit-test values)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.errors import PrimexError
from primex.sdc.micro import ldiversity, measure_risk

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdcmicro"
TESTDATA_KEYS = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
FREE1_KEYS = ["REGION", "SEX", "MARSTAT", "KINDPERS", "EDUC1", "ETNI", "POSLABM"]


def _ref(name: str) -> pd.DataFrame:
    path = REF / name
    if not path.exists():
        pytest.skip(f"sdcMicro reference file {name} not available")
    return pd.read_csv(path)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))))


# --- sdcMicro tests/testthat/test_indivRisk.R (values copied) -------------------------------
SAMPLE = {"A": [2, 3, 2, 2, 3, 3, 1, 2], "B": [3, 3, 3, 3, 3, 3, 4, 3],
          "C": [1, 3, 1, 2, 1, 1, 1, 1], "w": [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51]}


def test_indivrisk_unit_test_without_missing() -> None:
    m = measure_risk(pd.DataFrame(SAMPLE), ["A", "B", "C"], weight="w")
    assert m.fk.tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    assert m.Fk.tolist() == [108, 45.5, 108, 17, 100, 100, 123.5, 108]
    exp = [0.01369863, 0.08579129, 0.01369863, 0.17707583, 0.01877883, 0.01877883,
           0.03931625, 0.01369863]
    assert _rel(m.individual, exp) < 1e-6
    unw = measure_risk(pd.DataFrame(SAMPLE), ["A", "B", "C"])
    assert np.round(unw.individual, 5).tolist() == [0.33333, 1, 0.33333, 1, 0.5, 0.5, 1, 0.33333]


def test_indivrisk_unit_test_with_missing() -> None:
    d = pd.DataFrame(SAMPLE)
    d["A"] = [2, 3, 2, 2, 3, 3, 1, np.nan]
    d["C"] = [1, 3, np.nan, 2, 1, 1, np.nan, 1]
    m = measure_risk(d, ["A", "B", "C"], weight="w")
    exp = [0.013698630, 0.085791288, 0.010554090, 0.032466112, 0.009836066, 0.009836066,
           0.039316254, 0.005973716]
    assert _rel(m.individual, exp) < 1e-7
    unw = measure_risk(d, ["A", "B", "C"])
    assert np.round(unw.individual, 5).tolist() == [0.33333, 1, 0.25, 0.5, 0.33333, 0.33333,
                                                    1, 0.2]


def test_freqcalc_golden_two_missing() -> None:
    # sdc-definitions.md §b.1: fk = 3,1,4,2,2,2,1,3 and Fk = 108,45.5,125,56,100,100,123.5,108
    d = pd.DataFrame(SAMPLE)
    d["C"] = [1, 3, np.nan, 2, 1, 1, 1, 1]
    d["B"] = [3, 3, 3, 3, 3, 3, np.nan, 3]
    m = measure_risk(d, ["A", "B", "C"], weight="w")
    assert m.fk.tolist() == [3, 1, 4, 2, 2, 2, 1, 3]
    assert m.Fk.tolist() == [108, 45.5, 125, 56, 100, 100, 123.5, 108]


def test_francdat_golden() -> None:
    d = pd.DataFrame({"Key1": [1, 1, 1, 3, 4, 4, 6, 1], "Key2": [2, 2, 2, 3, 3, 3, 2, 2],
                      "Key3": [5, 1, 1, 1, 1, 1, 1, 5], "Key4": [1, 1, 1, 5, 4, 1, 5, 1],
                      "w": [18, 45.5, 39, 17, 541, 8, 5, 92]})
    m = measure_risk(d, ["Key1", "Key2", "Key3", "Key4"], weight="w")
    assert m.fk.tolist() == [2, 2, 2, 1, 1, 1, 1, 2]
    assert m.Fk.tolist() == [110, 84.5, 84.5, 17, 541, 8, 5, 110]
    exp = [0.017144, 0.022042, 0.022042, 0.177076, 0.011654, 0.297063, 0.402359, 0.017144]
    assert _rel(m.individual, exp) < 5e-5
    assert m.global_risk_ER == pytest.approx(0.96653, abs=1e-5)


# --- sdcMicro 5.8.1 outputs on testdata and free1 (all records) --------------------------------
def test_testdata_every_record_matches_sdcmicro() -> None:
    d = _ref("testdata.csv")
    ref = _ref("testdata_indivrisk.csv")
    m = measure_risk(d, TESTDATA_KEYS, weight="sampling_weight")
    assert (m.fk == ref["fk"].to_numpy()).all()
    assert _rel(m.Fk, ref["Fk"]) < 1e-12
    assert _rel(m.individual, ref["risk"]) < 1e-9
    assert m.global_risk_ER == pytest.approx(10.7782989187, rel=1e-9)
    assert m.global_risk == pytest.approx(0.0023533404, abs=5e-11)
    assert [m.kanon_violations(k) for k in (2, 3, 5)] == [157, 281, 458]
    first10 = [9.43307235166e-05, 9.90000990001e-05, 5.71395920233e-05, 5.71395920233e-05,
               2.22172850478e-04, 2.27221086117e-04, 1.07515320933e-04, 1.07515320933e-04,
               9.61446014806e-05, 1.07515320933e-04]
    assert _rel(m.individual[:10], first10) < 1e-10
    unw = measure_risk(d, TESTDATA_KEYS)
    assert unw.global_risk_ER == pytest.approx(412.0, rel=1e-12)
    assert unw.global_risk == pytest.approx(0.0899563319, abs=5e-11)
    assert unw.kanon_violations(3, weighted=True) == 281


def test_testdata_household_risk() -> None:
    d = _ref("testdata.csv")
    keys = ["urbrur", "roof", "walls", "water", "sex"]
    m = measure_risk(d, keys, weight="sampling_weight", hid="ori_hid")
    assert m.global_risk_ER == pytest.approx(1.527, abs=5e-4)
    assert m.hier_risk_ER == pytest.approx(7.177, abs=5e-4)
    # independent: 1 - prod(1 - r) per household, summed over records
    r = pd.Series(m.individual)
    h = 1 - (1 - r).groupby(d["ori_hid"]).transform("prod")
    assert m.hier_risk_ER == pytest.approx(float(h.sum()), rel=1e-12)
    assert m.hier_risk == pytest.approx(m.hier_risk_ER / len(d))


def test_free1_every_record_matches_sdcmicro() -> None:
    d = _ref("free1.csv")
    ref = _ref("free1_indivrisk.csv")
    m = measure_risk(d, FREE1_KEYS, weight="WEIGHT")
    assert (m.fk == ref["fk"].to_numpy()).all()
    assert _rel(m.Fk, ref["Fk"]) < 1e-12
    assert _rel(m.individual, ref["risk"]) < 1e-9
    assert m.global_risk_ER == pytest.approx(62.8259446640, rel=1e-9)
    assert m.global_risk == pytest.approx(0.0157064862, abs=5e-11)
    assert (m.kanon_violations(2), m.kanon_violations(3)) == (2318, 3044)


def test_after_kanon_keyvars_risk() -> None:
    """sdcMicro's own kAnon(3) output (with NAs): 0 violations, risk_ER 2.1208039566."""
    d = _ref("testdata.csv")
    kv = _ref("testdata_kanon3_keyvars.csv")
    d2 = d.copy()
    for c in TESTDATA_KEYS:
        d2[c] = kv[c]
    m = measure_risk(d2, TESTDATA_KEYS, weight="sampling_weight")
    assert m.kanon_violations(2) == 0 and m.kanon_violations(3) == 0
    assert m.global_risk_ER == pytest.approx(2.1208039566, rel=1e-9)
    assert m.global_risk == pytest.approx(0.0004630576, abs=5e-11)


def test_ldiversity_testdata() -> None:
    d = _ref("testdata.csv")
    r = ldiversity(d, ["urbrur", "roof", "walls", "water", "sex"], "electcon")
    assert r.violations(2) == 579
    assert float(np.mean(r.distinct)) == pytest.approx(2.374, abs=5e-4)
    assert (r.distinct.min(), r.distinct.max()) == (1, 3)
    assert np.percentile(r.distinct, [25, 50, 75]).tolist() == [2, 3, 3]


# --- missing-value semantics: a literal port of sdcMicro's freqCalc loop ----------------------
def _freqcalc_reference(x: pd.DataFrame, keys: list[str], w: list[float], alpha: float) -> tuple[
    list[float], list[float]
]:
    """Straight transcription of sdcMicro's R loop (O(patterns^2)); independent of primex."""
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in x[keys].itertuples(index=False)]
    agg: dict[tuple, list[float]] = {}
    for r, wi in zip(rows, w, strict=True):
        a = agg.setdefault(r, [0.0, 0.0])
        a[0] += 1
        a[1] += wi
    n, wsum = len(rows), sum(w)
    comp = [k for k in agg if None not in k]
    nas = [k for k in agg if None in k]
    res = {k: list(v) for k, v in agg.items()}
    if len(keys) == 1:
        for c in comp:
            res[c][0] += sum(agg[k][0] for k in nas) * alpha
            res[c][1] += sum(agg[k][1] for k in nas) * alpha
        for k in nas:
            res[k] = [n, wsum]
    else:
        add = {k: [0.0, 0.0] for k in agg}
        for i in nas:
            same = [j for j in nas if j != i and all(
                a is None or b is None or a == b for a, b in zip(i, j, strict=True))]
            if all(v is None for v in i):
                matched: list[tuple] = []
            else:
                matched = [c for c in comp if all(
                    a is None or a == b for a, b in zip(i, c, strict=True))]
            add[i][0] += sum(agg[j][0] for j in same) * alpha + sum(agg[c][0] for c in matched)
            add[i][1] += sum(agg[j][1] for j in same) * alpha + sum(agg[c][1] for c in matched)
            for c in matched:
                add[c][0] += agg[i][0] * alpha
                add[c][1] += agg[i][1] * alpha
        for k in agg:
            res[k] = [agg[k][0] + add[k][0], agg[k][1] + add[k][1]]
        for k in nas:
            if all(v is None for v in k):
                res[k] = [n, wsum]
    return [res[r][0] for r in rows], [res[r][1] for r in rows]


@st.composite
def _data_with_missing(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str], float]:
    p = draw(st.integers(1, 4))
    n = draw(st.integers(1, 40))
    cols = {}
    for j in range(p):
        card = draw(st.integers(1, 4))
        vals = draw(st.lists(st.one_of(st.integers(1, card), st.none()), min_size=n, max_size=n))
        cols[f"k{j}"] = pd.array(vals, dtype="Int64")
    cols["w"] = draw(st.lists(st.floats(1, 500), min_size=n, max_size=n))
    alpha = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0]))
    return pd.DataFrame(cols), [f"k{j}" for j in range(p)], alpha


@settings(max_examples=150, deadline=None)
@given(_data_with_missing())
def test_missing_semantics_match_sdcmicro_loop(case: tuple[pd.DataFrame, list[str], float]) -> None:
    df, keys, alpha = case
    fk_ref, Fk_ref = _freqcalc_reference(df, keys, df["w"].tolist(), alpha)
    m = measure_risk(df, keys, weight="w", alpha=alpha)
    np.testing.assert_allclose(m.fk, fk_ref, rtol=1e-12)
    np.testing.assert_allclose(m.Fk, Fk_ref, rtol=1e-12)


def test_missing_string_keys_and_categories() -> None:
    df = pd.DataFrame({"a": ["x", "x", None, "y"], "b": pd.Categorical(["u", "v", "u", None])})
    m = measure_risk(df, ["a", "b"])
    fk_ref, _ = _freqcalc_reference(df, ["a", "b"], [1.0] * 4, 1.0)
    assert m.fk.tolist() == fk_ref == [2, 1, 3, 2]


def test_many_masks_are_not_quadratic_in_records() -> None:
    # 200k records, 5 % of values missing in 4 keys: must stay a group-by job.
    rng = np.random.default_rng(1)
    n = 200_000
    df = pd.DataFrame({f"k{j}": rng.integers(0, 8, n).astype(float) for j in range(4)})
    for j in range(4):
        df.loc[rng.random(n) < 0.05, f"k{j}"] = np.nan
    import time

    t = time.perf_counter()
    m = measure_risk(df, list(df.columns))
    assert time.perf_counter() - t < 10
    small = df.iloc[:300]
    np.testing.assert_allclose(measure_risk(small, list(df.columns)).fk,
                               _freqcalc_reference(small, list(df.columns), [1.0] * 300, 1.0)[0])
    assert m.n == n


def test_kanon_violations_weighted() -> None:
    df = pd.DataFrame({"a": [1, 1, 2], "w": [1.0, 1.5, 4.0]})
    m = measure_risk(df, ["a"], weight="w")
    assert m.kanon_violations(2) == 1
    assert m.kanon_violations(3, weighted=True) == 2  # Fk = 2.5, 2.5, 4


def test_summary_and_frame() -> None:
    m = measure_risk(pd.DataFrame(SAMPLE), ["A", "B", "C"], weight="w", hid="B")
    s = m.summary()
    assert s["kanon_violations"] == {"2": 3, "3": 5, "5": 8}
    assert math.isclose(s["global_risk_ER"], float(np.sum(m.individual)))
    assert list(m.frame().columns) == ["fk", "Fk", "risk", "hier_risk"]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"key_vars": ["nope"]}, "not in the data"),
    ({"key_vars": []}, "no key variables"),
    ({"key_vars": ["A"], "weight": "zz"}, "weight variable"),
    ({"key_vars": ["A"], "alpha": 2.0}, "alpha"),
    ({"key_vars": ["A"], "hid": "zz"}, "household"),
])
def test_errors_are_primex_errors(kwargs: dict, fragment: str) -> None:
    with pytest.raises(PrimexError, match=fragment):
        measure_risk(pd.DataFrame(SAMPLE), **kwargs)


def test_missing_weight_value_is_reported_with_row() -> None:
    d = pd.DataFrame(SAMPLE)
    d.loc[3, "w"] = np.nan
    with pytest.raises(PrimexError, match="row 4"):
        measure_risk(d, ["A"], weight="w")


def test_ldiversity_missing_keys_use_compatible_records() -> None:
    df = pd.DataFrame({"a": [1, 1, 2, np.nan], "b": [1, 1, 1, 1], "s": ["x", "y", "z", "x"]})
    r = ldiversity(df, ["a", "b"], "s")
    # record 4 (NA, 1) is compatible with all: {x, y, z}; records 1-2 class {x, y}
    assert r.distinct.tolist() == [2, 2, 1, 3]
    ent = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert r.entropy[3] == pytest.approx(math.exp(ent))
    # brute force for every record
    for i in range(len(df)):
        ki = df.loc[i, ["a", "b"]]
        comp = [j for j in range(len(df)) if all(
            pd.isna(ki[c]) or pd.isna(df.loc[j, c]) or ki[c] == df.loc[j, c] for c in ["a", "b"])]
        if not ki.isna().any():
            comp = [j for j in range(len(df)) if (df.loc[j, ["a", "b"]] == ki).all()]
        assert r.distinct[i] == df.loc[comp, "s"].nunique()



@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 400), st.floats(0.0, 0.4))
def test_ldiversity_on_distinct_pairs_equals_the_per_record_computation(
    seed: int, n: int, missing: float
) -> None:
    """ldiversity / ldiversity_many work on distinct (key, sensitive) pairs with their counts;
    the per-record l must be exactly the one computed on every record (ldiversity_codes)."""
    from primex.sdc.micro._encode import encode_column, encode_frame
    from primex.sdc.micro.ldiversity import ldiversity_codes, ldiversity_many

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.integers(0, 4, n).astype(float) for c in "abc"})
    for c in "abc":
        df.loc[rng.random(n) < missing, c] = np.nan
    df["s"] = rng.choice(np.array(["x", "y", "z", None], dtype=object), n)
    df["t"] = rng.integers(0, 3, n)
    many = ldiversity_many(df, ["a", "b", "c"], ["s", "t"])
    codes, cards = encode_frame(df, ["a", "b", "c"])
    for name in ("s", "t"):
        s, s_card = encode_column(df[name])
        distinct, entropy = ldiversity_codes(codes, cards, s, int(s_card))
        assert np.array_equal(many[name].distinct, distinct)
        assert np.allclose(many[name].entropy, entropy)
        assert np.array_equal(ldiversity(df, ["a", "b", "c"], name).distinct, distinct)
