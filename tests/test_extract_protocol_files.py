"""Protocol and profile files: the shipped ones are valid; bad ones fail with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primex.errors import ConfigError, PrimexError, ValidationError
from primex.extract.indicators import INDICATORS
from primex.extract.profiles import get_profile, load_profiles
from primex.extract.protocol import load_protocol, parse_protocol

GOOD = """name: t
grain: quarter
source:
  prima: {kind: duckdb, path: spp/prima.duckdb}
protection:
  method: suppression
indicators:
  - id: stock_ri
    breakdowns: [region, sex]
"""


def test_shipped_protocols_are_valid() -> None:
    q = load_protocol("quarterly")
    a = load_protocol("annual")
    assert q.grain == "quarter" and a.grain == "year"
    ids = {r.id for r in q.indicators}
    # the list
    for need in ("stock_ri", "stock_eris", "rate_18_64", "share_students", "entries", "exits",
                 "long_rights", "spell_duration", "art60_share", "art61_share", "piis_coverage",
                 "outcome_work_4q", "outcome_work_8q"):
        assert need in ids
    assert "persons_year_ri" in {r.id for r in a.indicators}
    assert len(q.sha256) == 64


def test_every_indicator_is_documented() -> None:
    for ind in INDICATORS.values():
        for text in (ind.name_en, ind.name_fr, ind.name_nl, ind.definition, ind.interest,
                     ind.precautions, ind.numerator):
            assert text and len(text) > 3, ind.id
        assert ind.unit in ("persons", "%", "per 1 000")
        assert (ind.denominator is None) == (ind.unit == "persons")


def _fail(text: str, tmp_path: Path) -> PrimexError:
    f = tmp_path / "p.yaml"
    f.write_text(text)
    with pytest.raises(PrimexError) as info:
        parse_protocol(text, f)
    return info.value


def test_unknown_indicator_names_its_line(tmp_path: Path) -> None:
    err = _fail(GOOD.replace("id: stock_ri", "id: stock_rj"), tmp_path)
    assert isinstance(err, ValidationError)
    assert "p.yaml:8" in err.problems[0] and "stock_rj" in err.problems[0]
    assert "stock_ri" in err.problems[0]  # the known ones are listed


def test_unknown_breakdown_names_its_line_and_column_value(tmp_path: Path) -> None:
    err = _fail(GOOD.replace("[region, sex]", "[region, postcode]"), tmp_path)
    assert "p.yaml:9" in str(err) and "postcode" in str(err)


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = GOOD.replace("grain: quarter", "grain: week").replace(
        "method: suppression", "method: rounding") + "colour: blue\n"
    err = _fail(text, tmp_path)
    assert isinstance(err, ValidationError)
    joined = "\n".join(err.problems)
    assert "p.yaml:2" in joined and "week" in joined
    assert "p.yaml:6" in joined and "rounding" in joined
    assert "p.yaml:10" in joined and "colour" in joined


def test_grain_mismatch_and_bad_yaml(tmp_path: Path) -> None:
    err = _fail(GOOD.replace("id: stock_ri", "id: persons_year_ri"), tmp_path)
    assert "grain" in str(err)
    err = _fail("name: [unclosed\n", tmp_path)
    assert isinstance(err, ConfigError) and "p.yaml:" in str(err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{} \n#'\"0123456789q_")), max_size=120))
def test_parser_never_crashes(text: str) -> None:
    """Any text either parses into a protocol or raises a PrimexError naming the file."""
    try:
        parse_protocol(text, Path("x.yaml"))
    except PrimexError as exc:
        assert "x.yaml" in exc.one_line()


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(INDICATORS)), st.lists(st.sampled_from(
    ["region", "province", "arrondissement", "commune", "sex", "age_band", "category",
     "benefit", "duration_band", "position_group", "nationality_group"]), max_size=4))
def test_breakdowns_accepted_iff_the_indicator_has_them(ind: str, bds: list[str]) -> None:
    text = GOOD.replace("id: stock_ri", f"id: {ind}").replace("[region, sex]",
                                                              "[" + ", ".join(bds) + "]")
    ok = set(bds) <= set(INDICATORS[ind].breakdowns) and "quarter" in INDICATORS[ind].grains
    try:
        proto = parse_protocol(text, Path("x.yaml"))
    except ValidationError:
        assert not ok
    else:
        assert ok
        assert proto.indicators[0].breakdowns[0] == "total"


def test_profiles(tmp_path: Path) -> None:
    profiles = load_profiles()
    assert set(profiles) >= {"public", "internal", "research"}
    pub, internal = profiles["public"], profiles["internal"]
    # issue 21: the public barometer maps communes too (small ones hidden); the internal
    # profile differs by its lower thresholds
    assert "commune" in pub.geography and "commune" in internal.geography
    assert internal.min_count < pub.min_count
    assert not profiles["research"].dashboard
    with pytest.raises(ConfigError, match="one of: public"):
        get_profile("press")
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  public:\n    min_count: 0\n    record_level: true\n")
    with pytest.raises(ValidationError) as info:
        load_profiles(bad)
    joined = "\n".join(info.value.problems)
    assert f"{bad}:3" in joined and f"{bad}:4" in joined and "never" in joined
