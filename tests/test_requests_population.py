"""One population function (issue 16 #2): what `request assess` measures is what `extract`
writes, for every shipped request; hierarchy levels and study/comparison groups come out of
the extraction as requested."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from requests_helpers import EXAMPLES

from primex import cli
from primex.home import Home
from primex.requests.assess import spell_table
from primex.requests.validate import validate_bytes

REQUESTS = sorted(EXAMPLES.glob("*.yaml"))
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    root = tmp_path_factory.mktemp("population")
    assert cli.main(["--home", str(root), "synth", "generate", "--persons", "2000", "--months",
                     "24", "--start", "2022-01", "--seed", "7"]) == 0
    return Home(root)


def spec_of(text: str, home: Home):  # type: ignore[no-untyped-def]
    checked = validate_bytes(text.encode(), "req.yaml", home=home, today=TODAY)
    assert checked.lines() == []
    return checked.spec


def extract(home: Home, spec, out: Path):  # type: ignore[no-untyped-def]
    from primex.extract.adhoc import build_extract  # a later step; tests may import it

    result = build_extract(home, "REQ-2026-0001", spec, out_dir=out)
    return pq.read_table(result.extract).to_pandas()


@pytest.mark.parametrize("request_file", REQUESTS, ids=[p.stem for p in REQUESTS])
def test_assess_measures_the_rows_and_values_extract_writes(
    home: Home, request_file: Path, tmp_path: Path
) -> None:
    spec = spec_of(request_file.read_text("utf-8"), home)
    assessed, _snapshot = spell_table(spec, home)
    extracted = extract(home, spec, tmp_path)
    assert len(assessed) == len(extracted) > 0
    # the same spells in the same order, with the same values (no NISS on the assess side)
    assert "niss" not in assessed.columns
    for column in assessed.columns:
        left = assessed[column].astype("string").fillna("<NA>").tolist()
        right = extracted[column].astype("string").fillna("<NA>").tolist()
        assert left == right, column


def test_art60_spells_are_assessed_as_extracted(home: Home, tmp_path: Path) -> None:
    # issue 16: assess counted 12 742 spells where extraction wrote 1 451 (art60 listed as a
    # benefit requires a contract: the version 1 meaning, kept). Same rule on both sides now.
    text = (EXAMPLES / "art60-comparison.yaml").read_text("utf-8")
    text = re.sub(r"  groups:\n(    .*\n)+", "", text).replace("[group, sex", "[art60, sex")
    only = spec_of(text.replace("benefits: [RI]", "benefits: [RI, art60]"), home)
    assessed, _ = spell_table(only, home)
    assert len(assessed) == len(extract(home, only, tmp_path)) > 0
    assert assessed["art60"].astype(bool).all()
    everyone, _ = spell_table(spec_of(text, home), home)
    assert len(everyone) > len(assessed) == int(everyone["art60"].astype(bool).sum())


def request_with(text: str, **replace: str) -> str:
    for old, new in replace.items():
        assert re.search(old, text), old
        text = re.sub(old, new, text, count=1)
    return text


def test_a_level_is_extracted_as_its_labels(home: Home, tmp_path: Path) -> None:
    text = request_with((EXAMPLES / "banded-age-region.yaml").read_text("utf-8"), **{
        r"variables: \[age, region, sex\]": "variables: [age_10y, region, sex]",
        r"dimensions: \[age, region, sex\]": "dimensions: [age_10y, region, sex]",
    })
    spec = spec_of(text, home)
    frame = extract(home, spec, tmp_path / "a")
    assert "age" not in frame.columns
    labels = set(frame["age_10y"].dropna())
    assert labels and labels <= {"10-19", "20-29", "30-39", "40-49", "50-59", "60-69",
                                 "70-79", "80-89", "90-99"}
    # the labels are the bands of the ages the plain request extracts, row by row
    plain = extract(home, spec_of((EXAMPLES / "banded-age-region.yaml").read_text("utf-8"),
                                  home), tmp_path / "b")
    expected = [f"{a // 10 * 10}-{a // 10 * 10 + 9}" for a in plain["age"]]
    assert frame["age_10y"].tolist() == expected


def test_a_level_named_only_as_a_table_dimension_is_extracted(home: Home,
                                                             tmp_path: Path) -> None:
    text = request_with((EXAMPLES / "banded-age-region.yaml").read_text("utf-8"), **{
        r"dimensions: \[age, region, sex\]": "dimensions: [age_10y, region, sex]",
    })
    frame = extract(home, spec_of(text, home), tmp_path)
    assert {"age", "age_10y"} <= set(frame.columns)


def test_groups_are_assessed_and_extracted_alike(home: Home, tmp_path: Path) -> None:
    text = (EXAMPLES / "art60-comparison.yaml").read_text("utf-8")
    spec = spec_of(text, home)
    frame = extract(home, spec, tmp_path)
    counts = frame["group"].value_counts().to_dict()
    assert set(counts) == {"study", "comparison"} and min(counts.values()) > 0
    # the study group is the art. 60 spells of the RI population, the comparison the others
    plain = text.replace("variables: [group, sex]", "variables: [art60, sex]")
    plain = re.sub(r"  groups:\n(    .*\n)+", "", plain).replace("[group, sex,", "[art60, sex,")
    everyone = extract(home, spec_of(plain, home), tmp_path / "all")
    assert counts["study"] == int(everyone["art60"].sum())
    assert counts["comparison"] == int((~everyone["art60"]).sum())
    request = tmp_path / "r.yaml"
    request.write_text(text, encoding="utf-8")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli.main(["--home", str(home.root), "request", "assess", str(request),
                         "--json"]) == 0
    notes = json.loads(buffer.getvalue())["notes"]
    assert (f"groups: study {counts['study']} spells, comparison {counts['comparison']} "
            "spells") in notes
