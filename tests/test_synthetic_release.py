"""Synthetic microdata releases (SDV): determinism, constraints, and a disclosure evaluation
that passes an independent sample of the population and fails a model that copies records."""

from __future__ import annotations

import builtins
import os

import numpy as np
import pandas as pd
import pytest

from primex.catalogue import load_policy
from primex.errors import PrimexError
from primex.protection.roles import column_types
from primex.sdc.synthetic import evaluate as se
from primex.sdc.synthetic.synthesize import (
    SynthesisParams,
    apply_constraints,
    protect_synthetic,
    require_sdv,
    split_holdout,
    synthesize,
)

# The service's limits (policy.yaml): thresholds have no defaults.
POLICY_LIMITS = load_policy().synthetic.as_dict()

QIS = ["age", "sex", "region", "category"]


def _population(n: int, seed: int) -> pd.DataFrame:
    """A small population with dependence between columns (category drives the amount)."""
    rng = np.random.default_rng(seed)
    category = rng.choice(["1", "2", "3"], size=n, p=[0.4, 0.4, 0.2])
    cap = pd.Series(category).map({"1": 876.13, "2": 1314.20, "3": 1776.07}).to_numpy()
    entry = rng.integers(0, 6, size=n)
    exit_ = entry + rng.integers(0, 4, size=n)
    quarter = np.array([f"{2023 + q // 4}Q{q % 4 + 1}" for q in range(12)])
    return pd.DataFrame(
        {
            "age": rng.integers(18, 65, size=n),
            "sex": rng.choice(["F", "M"], size=n, p=[0.52, 0.48]),
            "region": rng.choice(["02000", "03000", "04000"], size=n, p=[0.25, 0.46, 0.29]),
            "category": category,
            "amount": np.round(cap * rng.uniform(0.3, 1.0, size=n), 2),
            "entry_quarter": quarter[entry],
            "exit_quarter": quarter[exit_],
            "position_group_exit_p4q": rng.choice(
                ["employee", "job_seeker", "cpas", "inactive"], size=n
            ),
        }
    )


def _need_sdv() -> None:
    try:
        require_sdv()
    except PrimexError:
        if os.environ.get("CI"):
            pytest.fail("the synth extra must be installed in CI (make install does it)")
        pytest.skip("SDV extra not installed")


def test_identical_shares_known_answer() -> None:
    train = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "y", "x", "x"], "s": [0, 1, 0, 1]})
    other = pd.DataFrame({"a": [1, 2, 9], "b": ["x", "x", "x"], "s": [0, 1, 0]})
    shares = se.identical_shares(train, other, ["a", "b"])
    # (1,x) and (2,x) occur in train -> 2/3; both keys are unique in train -> 2/3;
    # only (1,x,0) equals a training row on every column -> 1/3.
    assert shares == pytest.approx(
        {"identical_qi": 2 / 3, "identical_unique_qi": 2 / 3, "identical_all": 1 / 3}
    )


def test_cap_known_answer() -> None:
    train = pd.DataFrame({"q": ["a", "a", "b"], "s": ["u", "v", "u"]})
    released = pd.DataFrame({"q": ["a", "a", "a", "c"], "s": ["u", "u", "v", "u"]})
    out = se.correct_attribution_probability(train, released, ["q"], "s")
    # record (a,u): 2/3; (a,v): 1/3; (b,u): no released row with key b -> unmatched.
    assert out["cap"] == pytest.approx(0.5)
    assert out["matched_share"] == pytest.approx(2 / 3)


def test_gower_nearest_distance_known_answer() -> None:
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    enc = se._GowerEncoder(train)
    query = pd.DataFrame({"x": [5.0, 0.0], "c": ["b", "a"]})
    d = se._nearest_gower(enc.encode(query), enc.encode(train), n_columns=2)
    # (5,b) vs (10,b): |5-10|/10 + 0 = 0.5 -> /2 = 0.25; (0,a) is a copy -> 0.
    assert d == pytest.approx([0.25, 0.0])


def test_copying_model_fails_and_independent_sample_passes() -> None:
    data = _population(3000, seed=1)
    train, holdout = split_holdout(data, 0.2, seed=7)
    thresholds = se.SyntheticThresholds(**POLICY_LIMITS)
    copied = train.sample(n=len(train), replace=False, random_state=3).reset_index(drop=True)
    bad = se.evaluate(
        train,
        holdout,
        copied,
        quasi_identifiers=QIS,
        sensitive=["position_group_exit_p4q"],
        thresholds=thresholds,
        utility_report=False,
    )
    assert not bad.passed
    failed = {c["check"] for c in bad.checks if not c["passed"]}
    assert "identical on all variables" in failed
    assert "closer to training than to holdout" in failed
    assert bad.disclosure["dcr"]["closer_to_train_share"] > 0.95
    fresh = _population(len(train), seed=99)  # new people from the same population
    good = se.evaluate(
        train,
        holdout,
        fresh,
        quasi_identifiers=QIS,
        sensitive=["position_group_exit_p4q"],
        thresholds=thresholds,
        utility_report=False,
    )
    assert good.passed, good.checks
    assert 0.4 < good.disclosure["dcr"]["closer_to_train_share"] < 0.6


def test_apply_constraints_repairs_rows() -> None:
    real = _population(500, seed=2)
    wild = real.copy()
    wild.loc[0, "amount"] = 99999.0
    wild.loc[1, "age"] = 300
    wild.loc[2, "region"] = "99999"
    wild.loc[3, ["entry_quarter", "exit_quarter"]] = ["2024Q2", "2023Q1"]
    out = apply_constraints(real, wild)
    assert out["age"].max() <= real["age"].max()
    assert pd.isna(out.loc[2, "region"])
    assert out.loc[3, "entry_quarter"] == "2023Q1" and out.loc[3, "exit_quarter"] == "2024Q2"
    caps = real.groupby("category")["amount"].max()
    assert (out["amount"] <= out["category"].map(caps) + 1e-9).all()


def test_refuses_identifying_columns() -> None:
    data = _population(50, seed=3).assign(niss="93051822361")
    with pytest.raises(PrimexError, match="identifying"):
        synthesize(data, SynthesisParams(), column_types(list(data.columns)))


def test_missing_extra_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "sdv" or name.startswith("sdv."):
            raise ImportError("No module named 'sdv'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(PrimexError) as err:
        require_sdv()
    assert "primex[synth]" in str(err.value)


def test_gaussian_copula_is_deterministic_and_satisfies_constraints() -> None:
    _need_sdv()
    data = _population(800, seed=4)
    params = SynthesisParams(seed=11)
    a, eval_a = protect_synthetic(
        data,
        quasi_identifiers=QIS,
        sensitive=["position_group_exit_p4q"],
        params=params,
        thresholds=se.SyntheticThresholds(**POLICY_LIMITS),
        column_types=column_types(list(data.columns)),
        analyses=[
            {"crosstab": ["sex", "category"]},
            {"regression": {"y": "amount", "x": ["category"]}},
        ],
    )
    b, _ = protect_synthetic(
        data,
        quasi_identifiers=QIS,
        sensitive=["position_group_exit_p4q"],
        params=params,
        thresholds=se.SyntheticThresholds(**POLICY_LIMITS),
        column_types=column_types(list(data.columns)),
    )
    pd.testing.assert_frame_equal(a, b)
    train, _ = split_holdout(data, params.holdout_share, params.seed)
    assert len(a) == len(train)
    assert list(a.columns) == list(data.columns)
    for col in ["sex", "region", "category", "position_group_exit_p4q"]:
        assert set(a[col].dropna()) <= set(data[col])
    assert a["age"].between(data["age"].min(), data["age"].max()).all()
    caps = data.groupby("category")["amount"].max()
    assert (a["amount"] <= a["category"].map(caps) + 1e-9).all()
    q = lambda s: s.str[:4].astype(int) * 4 + s.str[-1].astype(int)  # noqa: E731
    assert (q(a["entry_quarter"]) <= q(a["exit_quarter"])).all()
    assert eval_a.passed, eval_a.checks
    tvd = eval_a.utility["analyses"][0]["tvd"]
    assert 0.0 <= tvd < 0.1  # the sex × category cross-table is preserved
    assert eval_a.utility["quality_score"] is not None and eval_a.utility["quality_score"] > 0.6


def test_regression_lines_up_codes_that_come_back_as_text() -> None:
    real = pd.DataFrame(
        {
            "amount": [500.0, 900, 1300, 520, 880, 1310],
            "category": pd.Series([1, 2, 3, 1, 2, 3], dtype="int16"),
        }
    )
    synthetic = pd.DataFrame(
        {"amount": [510.0, 890, 1290, 530, 870, 1300], "category": ["1", "2", "3"] * 2}
    )
    out = se.regression_comparison(real, synthetic, "amount", ["category"])
    coef = out["coefficients"]
    # group means: real 510 / 890 / 1305, synthetic 520 / 880 / 1295 (hand-computed)
    assert coef["category_2"]["real"] == pytest.approx(380.0)
    assert coef["category_2"]["synthetic"] == pytest.approx(360.0)
    assert coef["category_3"]["synthetic"] == pytest.approx(775.0)
