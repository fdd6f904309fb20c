"""Utility-aware protection (issue 16): priorities and the rule that no requested variable is
generalised to its total while a lower level (plus local suppression) reaches k; the officer's
output conditions; the codes a censored linked outcome takes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from primex.errors import PrimexError
from primex.protection.microdata import catalogue_hierarchies
from primex.protection.table_levels import TARGET, choose_levels
from primex.requests.conditions import build_conditions, service_minimums
from primex.sdc.micro.anonymize import anonymize

N = 3000
K = 5
BUDGET = 0.05


def duration_model_data() -> pd.DataFrame:
    """The issue's duration-model request, in miniature: six keys, one with 48 ages."""
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "age": rng.integers(18, 66, N).astype(str),
        "sex": rng.choice(["F", "M"], N),
        "region": rng.choice(["02000", "03000", "04000"], N, p=[0.5, 0.35, 0.15]),
        "household_type": rng.choice(
            ["single", "couple", "couple_children", "single_parent", "other"], N),
        "nationality_group": rng.choice(["BE", "EU14", "EU_other", "non_EU"], N,
                                        p=[0.5, 0.15, 0.1, 0.25]),
        "category": rng.choice(["1", "2", "3", "4"], N),
    })


def totals(levels: dict[str, int], heights: dict[str, int]) -> set[str]:
    return {q for q, lv in levels.items() if heights[q] and lv == heights[q]}


def test_the_loss_alone_drops_age_and_a_kept_age_is_banded_instead() -> None:
    df = duration_model_data()
    qis = list(df.columns)
    hs, _ = catalogue_hierarchies(df, qis)
    plain = anonymize(df, qis, hs, K, max_suppression=BUDGET)
    heights = plain.params["hierarchy_heights"]
    # the symptom of the issue: the optimum of the loss alone removes age entirely
    assert plain.levels["age"] == heights["age"]
    kept = anonymize(df, qis, hs, K, max_suppression=BUDGET, avoid_total=True,
                     keep=[q == "age" for q in qis],
                     loss_weights=[4.0 if q == "age" else 1.0 for q in qis])
    assert kept.passed
    assert 0 < kept.levels["age"] < heights["age"]  # banded, still there
    assert kept.risk_after.kanon_violations(K) == 0
    assert kept.records_suppressed <= math.floor(BUDGET * N)
    # no more variables removed than the loss optimum removed
    assert len(totals(kept.levels, heights)) <= len(totals(plain.levels, heights))
    assert "age" not in totals(kept.levels, heights)


def test_no_total_at_all_when_a_lower_level_reaches_k() -> None:
    df = duration_model_data()[["age", "sex", "region"]]
    qis = list(df.columns)
    hs, _ = catalogue_hierarchies(df, qis)
    res = anonymize(df, qis, hs, K, max_suppression=BUDGET, avoid_total=True)
    heights = res.params["hierarchy_heights"]
    assert res.passed and not totals(res.levels, heights)
    # checked independently: every released combination of keys has at least k records
    sizes = res.data.dropna().groupby(qis, observed=True).size()
    assert int(sizes.min()) >= K


def test_officer_conditions_generalise_drop_and_priority_are_recorded() -> None:
    cond = build_conditions(["age=age_10y", "drop=nationality_group", "priority.age=keep",
                             "k=6"], {}, service_minimums())
    assert cond["generalise"] == {"age": "age_10y"}
    assert cond["drop"] == ["nationality_group"]
    assert cond["priorities"] == {"age": "keep"}
    assert cond["disclosure"]["k"] == 6 and cond["tightened"] == ["k"]


@pytest.mark.parametrize("item, says", [
    ("age=age_7y", "age_5y, age_10y"),
    ("sex=total", "drop=sex"),
    ("priority.age=vital", "keep, high, normal, low"),
    ("drop=shoe_size", "not a catalogue variable"),
])
def test_a_wrong_output_condition_is_refused_with_the_fix(item: str, says: str) -> None:
    with pytest.raises(PrimexError) as err:
        build_conditions([item], {}, service_minimums())
    assert says in str(err.value) + (err.value.hint or "")


def test_table_dimensions_are_banded_until_most_cells_reach_the_minimum() -> None:
    df = duration_model_data()
    out, lv = choose_levels(df, ["age", "region", "sex"], 10)
    # 48 ages x 3 regions x 2 sexes = 288 cells of ~10 records: many below 10 at single
    # ages; 5-year bands (10 x 6 = 60 cells of ~50) all reach 10, so 5 years is the finest
    single = df.groupby(["age", "region", "sex"]).size()
    assert (single >= 10).mean() < TARGET
    assert lv.generalised == {"age": "age_5y"}
    assert lv.dimensions == ["age_5y", "region", "sex"]
    banded = out.groupby(["age_5y", "region", "sex"]).size()
    assert (banded >= 10).mean() == lv.surviving >= TARGET
    assert out["age_5y"].nunique() == 11  # 18..65 in bands 15-19 .. 65-69
    # the officer's level is applied as given, even where a finer one would do
    fixed_out, fixed = choose_levels(df, ["age", "region", "sex"], 10,
                                     fixed={"age": "age_10y"})
    assert fixed.generalised == {"age": "age_10y"}
    assert fixed_out["age_10y"].nunique() == 6


def test_an_officer_level_reaches_the_level_a_request_asked_for() -> None:
    from primex.catalogue import load_catalogue
    from primex.catalogue.levels import conditions_on_columns

    cat = load_catalogue()
    assert conditions_on_columns({"age": "age_10y"}, ["age_5y", "sex"], cat) == {
        "age_5y": "age_10y"}
    assert conditions_on_columns({"age": "age_10y"}, ["age"], cat) == {"age": "age_10y"}
    assert conditions_on_columns({"age": "age_5y"}, ["age_10y"], cat) == {}  # coarser already
    # a table on five-year bands under age=age_10y is published in ten-year bands
    data = pd.DataFrame({"age_5y": ["20-24", "25-29", "30-34", "35-39"] * 30,
                         "sex": ["F", "M"] * 60})
    out, levels = choose_levels(data, ["age_5y", "sex"], 5,
                                fixed=conditions_on_columns({"age": "age_10y"},
                                                            ["age_5y", "sex"], cat))
    assert levels.generalised == {"age_5y": "age_10y"}
    assert set(out["age_10y"]) == {"20-29", "30-39"}
