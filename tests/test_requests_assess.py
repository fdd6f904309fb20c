"""Risk pre-assessment: figures against sdcMicro and hand counts, cheapest generalisations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from requests_helpers import EXAMPLES, make_prima, valid_request

from primex import cli
from primex.errors import PrimexError
from primex.home import Home
from primex.requests.assess import assess, key_frequencies, measure
from primex.requests.validate import validate_bytes

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdcmicro"
TODAY = dt.date(2026, 11, 24)


def spec_from(text: str, home: Home):  # type: ignore[no-untyped-def]
    checked = validate_bytes(text.encode(), "req.yaml", home=home, today=TODAY)
    assert checked.lines() == []
    return checked.spec


def codes(values: list[int]) -> np.ndarray:
    return np.unique(np.asarray(values), return_inverse=True)[1].astype(np.int64)


def test_key_frequencies_match_sdcmicro_unit_test() -> None:
    # sdcMicro tests/testthat/test_indivRisk.R: keys (A, B, C) -> fk 3,1,3,1,2,2,1,3
    a = [2, 3, 2, 2, 3, 3, 1, 2]
    b = [3, 3, 3, 3, 3, 3, 4, 3]
    c = [1, 3, 1, 2, 1, 1, 1, 1]
    fk = key_frequencies([codes(a), codes(b), codes(c)], 8)
    assert fk.tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    risk = measure(fk, 2)
    assert (risk.sample_uniques, risk.violating_k) == (3, 3)
    assert risk.expected_reidentifications == pytest.approx(5.0)  # 3·1/3 + 1 + 1 + 2·1/2 + 1


def test_measures_match_sdcmicro_on_testdata() -> None:
    path = REFERENCE / "testdata.csv"
    if not path.exists():
        pytest.skip("shared reference data absent")
    data = pd.read_csv(path)
    keys = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
    fk = key_frequencies([codes(data[k].tolist()) for k in keys], len(data))
    # sdcMicro 5.8.1: violating 2/3/5-anonymity 157/281/458; unweighted global_risk_ER 412
    assert [measure(fk, k).violating_k for k in (2, 3, 5)] == [157, 281, 458]
    assert measure(fk, 2).expected_reidentifications == pytest.approx(412.0)
    assert fk[:10].tolist() == [107, 102, 176, 176, 46, 45, 94, 94, 105, 94]


PEOPLE = (
    [{"sex": "F", "age": 20}] * 6
    + [{"sex": "M", "age": 21}] * 3
    + [{"sex": "M", "age": 22}, {"sex": "F", "age": 23}]
)


def age_sex_request() -> str:
    return valid_request(**{
        "variables: [age, sex, nationality_group, region, category, spell_duration, student]":
            "variables: [age, sex]",
        "max_suppression: 0.02": "max_suppression: 0.05",
    })


def test_risk_and_cheapest_generalisation_by_hand(tmp_path: Path) -> None:
    home = Home(tmp_path)
    make_prima(home.prima_db, PEOPLE)
    result = assess(spec_from(age_sex_request(), home), home)
    # keys: (F,20)×6, (M,21)×3, (M,22), (F,23): uniques 2, fk<5 for 5 records,
    # expected re-identifications 6/6 + 3/3 + 1 + 1 = 4
    assert result.records == 11
    assert result.quasi_identifiers == ["age", "sex"]
    assert result.risk is not None
    assert (result.risk.sample_uniques, result.risk.violating_k) == (2, 5)
    assert result.risk.expected_reidentifications == pytest.approx(4.0)
    assert not result.within_target  # budget: floor(0.05 · 11) = 0 records
    # age_5y alone leaves (M,20-24)×4 under k; sex alone leaves 21/22/23; only both reach it
    assert [s.levels for s in result.suggestions] == [{"age": "age_5y", "sex": "total"}]
    best = result.suggestions[0]
    assert best.cost == pytest.approx(1 / 3 + 1)
    assert best.risk is not None and best.risk.violating_k == 0
    assert best.risk.expected_reidentifications == pytest.approx(1.0)


def test_filters_and_period_restrict_the_population(tmp_path: Path) -> None:
    home = Home(tmp_path)
    people = [
        *PEOPLE,
        {"sex": "F", "age": 40},  # outside the age filter 18-24
        {"sex": "F", "age": 20, "first": dt.date(2024, 9, 1)},  # starts after the period
    ]
    make_prima(home.prima_db, people)
    result = assess(spec_from(age_sex_request(), home), home)
    assert result.records == 11


def test_within_target_needs_no_suggestion(tmp_path: Path) -> None:
    home = Home(tmp_path)
    make_prima(home.prima_db, [{"sex": "F", "age": 20}] * 10)
    result = assess(spec_from(age_sex_request(), home), home)
    assert result.within_target and result.suggestions == []
    assert result.risk is not None and result.risk.expected_reidentifications == pytest.approx(1)


def table_request() -> str:
    text = (EXAMPLES / "ri-by-arrondissement.yaml").read_text(encoding="utf-8")
    text = text.replace("variables: [arrondissement, category, entry_quarter]",
                        "variables: [arrondissement, category]")
    return text.replace("dimensions: [arrondissement, category, entry_quarter]",
                        "dimensions: [arrondissement, category]")


def test_table_small_cells_and_generalisation(tmp_path: Path) -> None:
    home = Home(tmp_path)
    people = (
        [{"sex": "F", "age": 30, "commune": "21004", "category": 2}] * 12
        + [{"sex": "F", "age": 30, "commune": "11002", "category": 1}] * 3
        + [{"sex": "M", "age": 30, "commune": "11002", "category": 2}] * 8
    )
    make_prima(home.prima_db, people, start=dt.date(2022, 1, 1))
    result = assess(spec_from(table_request(), home), home)
    (table,) = result.tables
    # cells (21000, 2) = 12, (11000, 1) = 3, (11000, 2) = 8: two under min_count 10
    assert (table.cells, table.small_cells, table.min_count) == (3, 2, 10)
    assert not table.within_target and not result.within_target
    # province/region keep 21000 and 11000 apart; dropping category gives 12 and 11
    (best,) = table.suggestions
    assert best.levels == {"category": "total"}
    assert (best.cells, best.small_cells) == (2, 0)


def test_assess_command_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = Home(tmp_path)
    make_prima(home.prima_db, PEOPLE)
    request = tmp_path / "r.yaml"
    request.write_text(age_sex_request(), encoding="utf-8")
    assert cli.main(["--home", str(tmp_path), "request", "assess", str(request), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["risk"]["records_violating_k"] == 5
    assert report["risk"]["sample_uniques"] == 2
    assert report["suggestions"][0]["generalise"] == {"age": "age_5y", "sex": "total"}
    assert cli.main(["--home", str(tmp_path), "request", "assess", str(request)]) == 0
    out = capsys.readouterr().out
    assert "expected re-identifications" in out and "age → age_5y" in out


def test_assess_without_data_is_a_clean_error(tmp_path: Path) -> None:
    spec = spec_from(age_sex_request(), Home(tmp_path))
    with pytest.raises(PrimexError, match="no PRIMA data"):
        assess(spec, Home(tmp_path))


def test_assess_never_outputs_a_niss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = Home(tmp_path)
    make_prima(home.prima_db, PEOPLE)
    request = tmp_path / "r.yaml"
    request.write_text(age_sex_request(), encoding="utf-8")
    assert cli.main(["--home", str(tmp_path), "request", "assess", str(request), "--json"]) == 0
    assert "9000000000" not in capsys.readouterr().out


def test_violations_match_sdcmicro_on_the_peers_synthetic_100k() -> None:
    # The peers' benchmark data (reference/peers.md): default_rng(12345), columns drawn in
    # order with P(i) ∝ 1/i^a on 1..K; sdcMicro counts fk < 3 for 8697 records with the first
    # 6 keys and 54871 with the first 7.
    rng = np.random.default_rng(12345)
    columns = []
    for k, a in [(10, 0.5), (2, 0.5), (2, 0.1), (16, 0.3), (6, 0.8), (5, 1.0), (10, 1.2)]:
        p = 1.0 / np.arange(1, k + 1) ** a
        values = rng.choice(np.arange(1, k + 1), size=100_000, p=p / p.sum())
        columns.append(codes(values.tolist()))
    assert measure(key_frequencies(columns[:6], 100_000), 3).violating_k == 8697
    assert measure(key_frequencies(columns, 100_000), 3).violating_k == 54871
