"""Request validation: every error with file:line:column, field path, message and hint; all
errors at once; semantic checks against the catalogue, the data and the service policy."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from requests_helpers import EXAMPLES, make_prima, valid_request

from primex import cli
from primex.errors import PrimexError, ValidationError
from primex.home import Home
from primex.requests.spec import RequestSpec, json_schema, linked_column
from primex.requests.validate import DataCoverage, validate_bytes, validate_file

REPO = Path(__file__).resolve().parents[1]
INVALID = Path(__file__).resolve().parent / "data" / "invalid-request.yaml"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): (?P<what>.+)$")
TODAY = dt.date(2026, 11, 24)


def check(text: str, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("today", TODAY)
    return validate_bytes(text.encode("utf-8"), "req.yaml", **kw)  # type: ignore[arg-type]


def by_path(checked) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[str]] = {}
    for line in checked.lines():
        m = LINE.match(line)
        assert m, line
        out.setdefault(m["path"], []).append(line)
    return out


# --- examples and schema ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_is_valid(path: Path) -> None:
    coverage = DataCoverage(dt.date(2021, 1, 1), dt.date(2025, 12, 1))
    checked = validate_bytes(path.read_bytes(), str(path), coverage=coverage, today=TODAY)
    assert checked.lines() == []
    assert isinstance(checked.spec, RequestSpec)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../request.schema.json"
    assert (path.parent / "../../request.schema.json").resolve() == REPO / "request.schema.json"


def test_at_least_five_examples_covering_every_output_kind_and_method() -> None:
    specs = [validate_file(p, today=TODAY).spec for p in EXAMPLES.glob("*.yaml")]
    assert len(specs) >= 5
    assert {s.output.kind for s in specs if s} >= {"microdata", "tables"}
    assert {s.output.method for s in specs if s} >= {"suppression", "cell_key"}
    assert any(s and s.linkage for s in specs)


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads((REPO / "request.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "run `primex request schema > request.schema.json`"


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["request", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"title", "requester", "purpose", "population", "output"}


def test_linked_column_names_follow_the_data_model() -> None:
    assert linked_column("position_group", "exit+4q") == "position_group_exit_p4q"
    assert linked_column("wage_class", "entry-4q") == "wage_class_entry_m4q"


# --- the deliberately invalid file -----------------------------------------------------------

# (path, text the file holds at the reported line:column, words of the message, words of the hint)
EXPECTED = [
    ("requester.contact", "not-an-email", "e-mail", "researcher@example.org"),
    ("population.benefits[1]", "RIS", "not allowed", "'ERIS'"),
    ("population.period.start", "2023/01", "YYYY-MM", "2023-01"),
    ("population.filters.age.min", "24, max: 18", "above max 18", "swap"),
    ("population.filters.region[0]", "04000", "not a value of `region`", '"04000"'),
    ("population.filters.region[1]", '"Bruxelles"', "not a value of `region`", '"04000"'),
    ("variables[0]", "agee", "unknown variable `agee`", "`age`"),
    ("variables[2]", "niss", "direct identifier", "pseudonymised"),
    ("variables[3]", "position_group", "BCSS warehouse variable", "linkage:"),
    ("linkage[0].variables[1]", "category", "PRIMA variable", "variables:"),
    ("linkage[0].at[1]", "exit+4", "offset in quarters", "exit+4q"),
    ("output.format", "xlsx", "not allowed", "'parquet' or 'csv'"),
    ("output.tables[0].dimensions[1]", "nationality", "not a requested variable", "add"),
    ("disclosure.k", "3", "below the service minimum 5", "k ≥ 5"),
    ("disclosure.min_count", "5", "below the service minimum 10", "min_count ≥ 10"),
    ("disclosure.colour", "colour", "unknown field `colour`", "max_suppression"),
]


def test_invalid_example_reports_every_problem_with_position_and_hint() -> None:
    checked = validate_file(INVALID, today=TODAY)
    assert not checked.ok
    lines = checked.lines()
    text = INVALID.read_text(encoding="utf-8").splitlines()
    found = {}
    for line in lines:
        m = LINE.match(line)
        assert m, f"not file:line:col: path: message: {line}"
        assert m["file"] == str(INVALID)
        found[m["path"]] = (int(m["line"]), int(m["col"]), m["what"])
    assert sorted(found) == sorted(p for p, *_ in EXPECTED), lines
    for path, token, words, hint in EXPECTED:
        line_no, col, what = found[path]
        at = text[line_no - 1][col - 1 :]
        assert at.startswith(token), f"{path}: {line_no}:{col} points at {at!r}, not {token!r}"
        message, _, given_hint = what.partition(" (hint: ")
        assert words in message, (path, what)
        assert hint in given_hint, (path, what)


def test_validate_command_prints_all_problems_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["request", "validate", str(INVALID)]) == 2
    captured = capsys.readouterr()
    out = [line for line in captured.out.splitlines() if line]
    assert len(out) == len(EXPECTED)
    assert all(LINE.match(line) for line in out)
    assert "16 problem(s)" in captured.err


def test_validate_command_exits_0_on_a_valid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = EXAMPLES / "ri-by-arrondissement.yaml"
    assert cli.main(["--home", str(tmp_path), "request", "validate", str(path)]) == 0
    assert "valid request" in capsys.readouterr().out


def test_missing_file_is_one_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["request", "validate", "no/such/request.yaml"]) == 2
    err = capsys.readouterr().err
    assert "file not found" in err and "Traceback" not in err


# --- schema-level messages -------------------------------------------------------------------


def test_missing_required_field_points_at_its_parent() -> None:
    text = valid_request(**{"  contact: researcher@example.org\n": ""})
    problems = by_path(check(text))
    assert list(problems) == ["requester.contact"]
    (line,) = problems["requester.contact"]
    assert line.startswith("req.yaml:4:1:") or line.startswith("req.yaml:5:3:")
    assert "required field `contact` is missing" in line


def test_unknown_top_level_field_suggests_the_closest_name() -> None:
    text = valid_request(**{"legal_basis:": "legal_bases:"})
    problems = by_path(check(text))
    assert "unknown field `legal_bases`" in problems["legal_bases"][0]
    assert "did you mean `legal_basis`?" in problems["legal_bases"][0]
    assert "required field `legal_basis` is missing" in problems["legal_basis"][0]


def test_wrong_types_are_named_in_words() -> None:
    text = valid_request(**{"  k: 5": '  k: "five"', "  l: 2": "  l: [2]"})
    problems = by_path(check(text))
    assert 'expected a whole number, got text "five"' in problems["disclosure.k"][0]
    assert "expected a whole number, got a list" in problems["disclosure.l"][0]


def test_a_full_date_as_month_gets_the_month_hint() -> None:
    text = valid_request(**{"start: 2023-01,": "start: 2023-01-15,"})
    (line,) = by_path(check(text))["population.period.start"]
    assert "expected text, got" in line and "without the day" in line


def test_filter_union_reports_the_branch_that_got_furthest() -> None:
    text = valid_request(**{"age: {min: 18, max: 24}": 'age: {min: 18, max: "old"}'})
    problems = by_path(check(text))
    assert list(problems) == ["population.filters.age.max"]
    assert "expected a number or a whole number" in problems["population.filters.age.max"][0]


def test_short_purpose_and_missing_deliberation_number() -> None:
    text = valid_request(**{'legal_basis: "CSI deliberation 24/123 of 5 March 2024"':
                            'legal_basis: "approved by our ethics board"'})
    problems = by_path(check(text))
    assert "no deliberation number" in problems["legal_basis"][0]


def test_all_errors_at_once_schema_and_semantic_together() -> None:
    text = valid_request(**{
        "start: 2023-01,": "start: 2023-13,",
        "variables: [age,": "variables: [agge,",
        "  k: 5": "  k: 2",
        "kind: microdata": "kind: micro",
    })
    problems = by_path(check(text))
    assert set(problems) == {"population.period.start", "variables[0]", "disclosure.k",
                             "output.kind"}


# --- semantic checks -------------------------------------------------------------------------


def test_period_must_lie_inside_the_data(tmp_path: Path) -> None:
    home = Home(tmp_path)
    make_prima(home.prima_db, [{"sex": "F", "age": 20}], start=dt.date(2023, 6, 1), months=12)
    problems = by_path(check(valid_request(), home=home))
    assert set(problems) == {"population.period.start", "population.period.end"}
    assert "the data cover 2023-06 to 2024-05" in problems["population.period.start"][0]


def test_period_in_the_wrong_order() -> None:
    text = valid_request(**{"{start: 2023-01, end: 2024-06}": "{start: 2024Q3, end: 2024-06}"})
    (line,) = by_path(check(text))["population.period.end"]
    assert "ends (2024-06) before it starts (2024Q3)" in line


def test_quarters_count_as_whole_quarters() -> None:
    coverage = DataCoverage(dt.date(2023, 1, 1), dt.date(2024, 5, 1))
    text = valid_request(**{"{start: 2023-01, end: 2024-06}": "{start: 2023Q1, end: 2024Q2}"})
    problems = by_path(check(text, coverage=coverage))
    assert list(problems) == ["population.period.end"]  # 2024Q2 ends in June, data in May


def test_birth_date_is_never_requestable_even_as_a_filter() -> None:
    text = valid_request(**{"age: {min: 18, max: 24}": "birth_date: {min: 1999}"})
    (line,) = by_path(check(text))["population.filters.birth_date"]
    assert "direct identifier" in line and "ask for `age`" in line


def test_range_filter_on_a_category_is_refused() -> None:
    text = valid_request(**{"age: {min: 18, max: 24}": "sex: {min: 1}"})
    (line,) = by_path(check(text))["population.filters.sex"]
    assert "a range filter needs a number" in line


def test_linked_dimension_is_allowed_in_tables() -> None:
    text = (EXAMPLES / "ri-by-arrondissement.yaml").read_text(encoding="utf-8")
    text = text.replace("output:\n", "linkage:\n  - {variables: [position_group], at: "
                        "[exit+4q]}\noutput:\n")
    text = text.replace("[arrondissement, category, entry_quarter]\n      measure",
                        "[arrondissement, position_group_exit_p4q]\n      measure")
    assert check(text).lines() == []


def test_measure_must_be_a_requested_number() -> None:
    text = (EXAMPLES / "socio-geographic.yaml").read_text(encoding="utf-8")
    text = text.replace("measure: sum:amount", "measure: sum:category")
    (line,) = by_path(check(text))["output.tables[2].measure"]
    assert "`category` is a category, not a number" in line


def test_tables_on_microdata_and_missing_tables_on_tables() -> None:
    micro = valid_request(**{"  format: parquet": "  format: parquet\n  method: cell_key"})
    assert "only applies to kind: tables" in by_path(check(micro))["output.method"][0]
    tables = (EXAMPLES / "ri-by-arrondissement.yaml").read_text(encoding="utf-8")
    tables = tables.split("  tables:")[0] + "disclosure:\n  min_count: 10\n"
    assert "needs at least one table" in by_path(check(tables))["output"][0]


def test_dominance_looser_than_policy() -> None:
    text = (EXAMPLES / "ri-by-arrondissement.yaml").read_text(encoding="utf-8")
    text = text.replace("dominance: {n: 2, k: 85}", "dominance: {n: 1, k: 95}")
    problems = by_path(check(text))
    assert "below the service minimum 2" in problems["disclosure.dominance.n"][0]
    assert "above the service maximum 85" in problems["disclosure.dominance.k"][0]


def test_retention_in_the_past() -> None:
    text = valid_request(**{"retention_until: 2028-12-31": "retention_until: 2020-01-31"})
    assert "not in the future" in by_path(check(text))["retention_until"][0]


def test_duplicates_in_lists() -> None:
    text = valid_request(**{"student]": "student, sex]"})
    (line,) = by_path(check(text))["variables[7]"]
    assert "listed twice" in line


def test_resubmission_id_format() -> None:
    text = "id: R-1\n" + valid_request()
    (line,) = by_path(check(text))["id"]
    assert "REQ-2026-0001" in line


# --- YAML-level errors stop early with one clean error ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "where", "words"),
    [
        (b"title: a\ntitle: b\n", "req.yaml:2:1", "duplicate key"),
        (b"a: &x [1]\nb: *x\n", "req.yaml:1:4", "anchors and aliases"),
        (b"title: ok\npurpose: caf\xe9\n", "req.yaml:2:13", "not valid UTF-8"),
        (b"title: !!python/object:os.system x\n", "req.yaml:1:8", "tags"),
        (b"title: [a\n", "req.yaml:2:1", "YAML syntax"),
        (b"", "req.yaml:1:1", "empty"),
        (b"a:\n\t- b\n", "req.yaml:2:1", "YAML syntax"),
        (b"title: x\nretention_until: 2028-02-30\n", "req.yaml:2:18", "not a real date"),
    ],
)
def test_yaml_problems_name_the_position(raw: bytes, where: str, words: str) -> None:
    with pytest.raises(PrimexError) as info:
        validate_bytes(raw, "req.yaml")
    assert info.value.where == where, info.value.one_line()
    assert words in info.value.what


def test_a_list_at_the_top_is_one_problem() -> None:
    checked = validate_bytes(b"- title\n", "req.yaml")
    assert checked.lines() == [
        "req.yaml:1:1: (file): a request is a mapping of fields (title:, requester:, ...) "
        "(hint: start from an example in examples/requests/)"
    ]


def test_raise_for_problems_carries_every_line() -> None:
    checked = validate_file(INVALID, today=TODAY)
    with pytest.raises(ValidationError) as info:
        checked.raise_for_problems()
    assert len(info.value.problems) == len(EXPECTED)


def test_policy_overrides_tighten_the_service_policy() -> None:
    from primex.catalogue import load_policy

    spec = validate_file(EXAMPLES / "socio-geographic.yaml", today=TODAY).spec
    assert spec is not None
    assert spec.policy_overrides() == {
        "tables": {"min_count": 10, "p_percent": 15, "dominance": {"n": 2, "k": 80}}
    }
    policy = load_policy().tighten(spec.policy_overrides())
    assert (policy.tables.p_percent, policy.tables.dominance.k) == (15, 80)
    assert policy.microdata.k == load_policy().microdata.k


def test_category_codes_may_be_written_as_numbers_but_not_unknown_ones() -> None:
    text = valid_request(**{"age: {min: 18, max: 24}": "category: [1, 3, 7]\n    sex: [X]"})
    problems = by_path(check(text))
    assert set(problems) == {"population.filters.category[2]", "population.filters.sex[0]"}
    assert "7 is not a value of `category`" in problems["population.filters.category[2]"][0]
    assert '"X" is not a value of `sex`' in problems["population.filters.sex[0]"][0]


def test_a_hierarchy_level_is_a_variable_of_its_own() -> None:
    # issue 16: "age bands are enough" is written in the request (it was an error before)
    text = valid_request(**{"variables: [age,": "variables: [age_5y,",
                            })
    assert check(text).lines() == []


def test_an_unknown_level_names_the_valid_levels_in_one_line() -> None:
    text = valid_request(**{"variables: [age,": "variables: [age_15y,"})
    (line,) = by_path(check(text))["variables[0]"]
    assert "unknown level `age_15y` of `age`" in line
    assert "valid levels of `age`: age, age_5y, age_10y" in line


def test_a_data_dependent_level_points_to_its_variable() -> None:
    text = valid_request(**{"variables: [age,": "variables: [entry_year, age,"})
    (line,) = by_path(check(text))["variables[0]"]
    assert "`entry_year` cannot be used here" in line and "request `entry_quarter`" in line


def test_a_variable_and_its_level_together_are_refused() -> None:
    text = valid_request(**{"variables: [age,": "variables: [age, age_10y,"})
    (line,) = by_path(check(text))["variables[1]"]
    assert "`age_10y` and `age` are both forms of `age`" in line


# --- no national number in a request (issue 14 #9) -----------------------------------------
# 85.07.30-033.28 passes the check digits (a made-up number, not a person's).
@pytest.mark.parametrize("field, value", [
    ("title", "Follow-up of 85.07.30-033.28"),
    ("legal_basis", "CSI deliberation 24/123 for 85073003328"),
    ("  organisation", "HIVA team of 85 07 30 033 28"),
])
def test_a_niss_in_free_text_is_refused_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: str
) -> None:
    text = re.sub(rf"(?m)^{field}:.*$", f"{field}: \"{value}\"", valid_request(), count=1)
    path = tmp_path / "req.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith(f"{field}:"))
    assert cli.main(["--home", str(tmp_path), "request", "validate", str(path)]) == 2
    out = capsys.readouterr()
    hits = [x for x in out.out.splitlines() if "national number" in x]
    name = field.strip()
    assert len(hits) == 1 and hits[0].startswith(f"{path}:{line}:")
    assert f": {'requester.' if field != name else ''}{name}:" in hits[0]
    assert "033" not in out.out + out.err  # the number itself is never echoed


def test_a_number_failing_the_check_digits_is_not_a_niss(tmp_path: Path) -> None:
    text = re.sub(r"(?m)^title:.*$", 'title: "Dossier 85073003329"', valid_request(), count=1)
    path = tmp_path / "req.yaml"
    path.write_text(text, encoding="utf-8")
    checked = validate_file(path)
    assert not any("national number" in p.what for p in checked.problems)


# --- levels, groups, censored outcomes through the CLI (issue 16) ------------------------------


def test_cli_reports_an_unknown_level_in_one_positioned_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO / "examples" / "requests" / "age-bands-by-region.yaml").read_text("utf-8")
    bad = tmp_path / "bands.yaml"
    bad.write_text(text.replace("dimensions: [age_10y,", "dimensions: [age_15y,"), "utf-8")
    assert cli.main(["request", "validate", str(bad)]) == 2
    out = [line for line in capsys.readouterr().out.splitlines() if line]
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "dimensions:" in line)
    assert out == [
        f"{bad}:{line_no}:20: output.tables[0].dimensions[0]: unknown level `age_15y` of "
        "`age` (hint: valid levels of `age`: age, age_5y, age_10y)"]


@pytest.mark.parametrize("old, new, path, message", [
    ("variables: [group, sex]", "variables: [art60, sex]",
     "output.tables[0].dimensions[0]", "`group` comes with `population.groups`"),
    ("study: {art60: [true]}", "study: {group: [study]}",
     "population.groups.study.group", "`group` is defined by population.groups"),
    ("comparison: {art60: [false]}", "comparison: {art60: [true]}",
     "population.groups.comparison", "the same filters as the study group"),
    ("censored: drop", "censored: sometimes", "linkage[0].censored", "'keep' or 'drop'"),
])
def test_cli_checks_groups_and_censored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, path: str,
    message: str,
) -> None:
    text = (REPO / "examples" / "requests" / "art60-comparison.yaml").read_text("utf-8")
    if old.startswith("variables"):  # no groups at all: `group` is no requested variable
        text = re.sub(r"  groups:\n(    .*\n)+", "", text)
    assert old in text
    bad = tmp_path / "groups.yaml"
    bad.write_text(text.replace(old, new), "utf-8")
    assert cli.main(["request", "validate", str(bad)]) == 2
    out = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(out) == 1 and f": {path}: " in out[0] and message in out[0], out


def test_the_spec_version_is_1_and_an_unknown_one_is_refused() -> None:
    # old files carry no version and keep their meaning: version 1, censored outcomes kept
    text = (REPO / "examples" / "requests" / "exit-outcomes-by-region.yaml").read_text("utf-8")
    checked = validate_bytes(text.encode(), "old.yaml", today=dt.date(2026, 11, 24))
    assert checked.lines() == [] and checked.spec is not None
    assert checked.spec.version == 1
    assert [link.censored for link in checked.spec.linkage] == ["keep"]
    newer = validate_bytes(("version: 2\n" + text).encode(), "new.yaml",
                           today=dt.date(2026, 11, 24))
    (line,) = newer.lines()
    assert line.startswith("new.yaml:1:10: version:") and "1" in line
