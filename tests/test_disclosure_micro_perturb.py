"""MDAV, noise, PRAM and the sdcMicro utility measures (IL1s, eigen); the micro CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.cli import main
from primex.errors import PrimexError
from primex.sdc.micro import add_noise, eigen_utility, il1s, microaggregate, pram
from primex.sdc.micro.perturb import mdav_groups, pram_matrix

REF = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdcmicro"


def test_il1s_by_hand() -> None:
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10.0, 10.0, 40.0]})
    xm = pd.DataFrame({"a": [1.5, 2.0, 3.0], "b": [10.0, 20.0, 40.0]})
    sd_a, sd_b = 1.0, math.sqrt(300.0)  # sd with n - 1
    exp = 0.5 / (sd_a * math.sqrt(2)) + 10 / (sd_b * math.sqrt(2))
    assert il1s(x, xm) == pytest.approx(exp, rel=1e-12)


def test_eigen_by_hand() -> None:
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 5.0]})
    assert eigen_utility(x, x) == 0.0
    xm = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, 1.0, 3.0, 2.0]})
    r1 = np.corrcoef(x["a"], x["b"])[0, 1]
    r2 = np.corrcoef(xm["a"], xm["b"])[0, 1]
    e1 = np.array([1 + abs(r1), 1 - abs(r1)])
    e2 = np.array([1 + abs(r2), 1 - abs(r2)])
    assert eigen_utility(x, xm) == pytest.approx(float(np.sum(np.abs(e1 - e2) / e1)), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.lists(st.floats(-1e3, 1e3), min_size=10, max_size=80))
def test_mdav_groups_have_k_to_2k_minus_1_members(k: int, values: list[float]) -> None:
    x = np.column_stack([values, np.arange(len(values)) % 7])
    g = mdav_groups(x, k)
    sizes = np.bincount(g)
    assert sizes.min() >= k
    assert sizes.max() <= 2 * k - 1 or len(sizes) == 1


def test_microaggregate_keeps_means_and_reports_utility() -> None:
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"wage": rng.lognormal(7, 0.5, 300), "ri": rng.uniform(500, 1500, 300)})
    out, rep = microaggregate(d, ["wage", "ri"], k=3)
    assert out["wage"].mean() == pytest.approx(d["wage"].mean(), rel=1e-12)
    assert out.groupby(["wage", "ri"]).size().min() >= 3
    assert rep["min_group_size"] >= 3 and rep["il1s"] > 0 and rep["eigen"] >= 0
    assert rep["il1s"] == pytest.approx(il1s(d, out), rel=1e-12)


def test_noise_is_seeded_and_sized() -> None:
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"a": rng.normal(100, 10, 20_000)})
    o1, _ = add_noise(d, ["a"], noise=50, method="additive", seed=9)
    o2, _ = add_noise(d, ["a"], noise=50, method="additive", seed=9)
    pd.testing.assert_frame_equal(o1, o2)
    assert float((o1["a"] - d["a"]).std()) == pytest.approx(0.5 * d["a"].std(), rel=0.03)
    _, rc = add_noise(d.assign(b=d["a"] * 2 + rng.normal(0, 1, len(d))), ["a", "b"], 20,
                       method="correlated", seed=1)
    assert rc["eigen"] < 0.05
    with pytest.raises(PrimexError, match="unknown noise method"):
        add_noise(d, ["a"], noise=150, method="swap", seed=0)


def test_pram_invariant_matrix_keeps_frequencies() -> None:
    freq = np.array([500.0, 300.0, 150.0, 50.0])
    M = pram_matrix(freq, 0.8, 0.5, True, np.random.default_rng(1))
    np.testing.assert_allclose(M.sum(axis=1), 1.0, atol=1e-12)
    r = freq / freq.sum()
    np.testing.assert_allclose(r @ M, r, atol=1e-12)  # invariant: expected frequencies kept
    P = pram_matrix(freq, 0.8, 0.5, False, np.random.default_rng(1))
    assert np.all(np.diag(P) >= 0.8)


def test_pram_changes_some_values_deterministically() -> None:
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"pos": rng.choice(["emp", "self", "job", "cpas"], 5000, p=[.5, .2, .2, .1])})
    d.loc[:9, "pos"] = None
    o1, rep = pram(d, "pos", pd_min=0.8, alpha=0.5, invariant=True, seed=3)
    o2, _ = pram(d, "pos", pd_min=0.8, alpha=0.5, invariant=True, seed=3)
    assert o1["pos"].tolist() == o2["pos"].tolist()
    assert o1["pos"].isna().sum() == 10
    assert 0 < rep["changed_share"] < 0.3
    before = np.array(rep["frequencies_before"])
    after = np.array(rep["frequencies_after"])
    assert np.abs(after - before).max() < 0.05 * before.sum()


# --- CLI ---------------------------------------------------------------------------------------
def _csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    n = 600
    d = pd.DataFrame({"age": rng.integers(18, 70, n), "sex": rng.choice(["M", "F"], n),
                      "region": rng.choice(["02000", "03000", "04000"], n),
                      "amount": rng.uniform(400, 1600, n).round(2), "w": rng.uniform(1, 3, n)})
    f = tmp_path / "extract.csv"
    d.to_csv(f, index=False)
    return f


def test_cli_risk_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _csv(tmp_path)
    code = main(["--home", str(tmp_path / "h"), "disclosure", "risk", str(f),
                 "--keys", "age,sex,region", "--weight", "w", "--json",
                 "--records", str(tmp_path / "rec.csv"), "--report-dir", str(tmp_path / "r")])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    d = pd.read_csv(f)
    fk = d.groupby(["age", "sex", "region"])["age"].transform("size")
    assert out["kanon_violations"]["3"] == int((fk < 3).sum())
    assert pd.read_csv(tmp_path / "rec.csv")["fk"].tolist() == fk.tolist()
    rep = json.loads((tmp_path / "r" / "disclosure-report.json").read_text())
    assert rep["kind"] == "microdata-risk" and rep["risk"]["kanon_violations_k3"] == out[
        "kanon_violations"]["3"]


def test_cli_anonymize_writes_data_and_report(tmp_path: Path) -> None:
    f = _csv(tmp_path)
    out = tmp_path / "out" / "protected.parquet"
    code = main(["--home", str(tmp_path / "h"), "disclosure", "anonymize", str(f),
                 "--qi", "age,sex,region", "--k", "5", "--max-suppression", "0.05",
                 "--out", str(out)])
    assert code == 0
    data = pd.read_parquet(out)
    assert len(data) == 600
    rep = json.loads((out.parent / "disclosure-report.json").read_text())
    assert rep["passed"] and rep["kanon_violations_after"] == 0
    assert rep["hierarchy_sources"]["age"] == "catalogue"
    assert (out.parent / "disclosure-report.md").read_text().startswith("# Disclosure report")


def test_cli_anonymize_explicit_hierarchy_and_errors(tmp_path: Path) -> None:
    f = _csv(tmp_path)
    h = tmp_path / "sex.csv"
    h.write_text("M;*\nF;*\n", encoding="utf-8")
    home = ["--home", str(tmp_path / "h")]
    code = main([*home, "disclosure", "anonymize", str(f), "--qi", "sex,region", "--k", "2",
                 "--hierarchy", f"sex={h}", "--no-catalogue", "--out", str(tmp_path / "o.csv")])
    assert code == 0
    assert main([*home, "disclosure", "anonymize", str(f), "--qi", "sex", "--k", "2",
                 "--hierarchy", "sex", "--out", str(tmp_path / "o.csv")]) == 2
    assert main([*home, "disclosure", "risk", str(tmp_path / "none.csv"), "--keys", "a"]) == 2
    assert main([*home, "disclosure", "risk", str(f), "--keys", "nope"]) == 2


def test_cli_perturb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _csv(tmp_path)
    home = ["--home", str(tmp_path / "h")]
    assert main([*home, "disclosure", "perturb", str(f), "--method", "mdav", "--vars", "amount",
                 "--out", str(tmp_path / "m.csv"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep[0]["method"] == "mdav" and rep[0]["min_group_size"] >= 3
    assert main([*home, "disclosure", "perturb", str(f), "--method", "pram", "--vars", "region",
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert main([*home, "disclosure", "perturb", str(f), "--method", "magic", "--vars", "age",
                 "--out", str(tmp_path / "x.csv")]) == 2
