"""A generalised microdata column is named after the level it holds, and a requested variable
comes out `*` in every record only when nothing else can reach k (issue 16, walkthrough).

Two requests written as research centres write them go through the documented commands in
a fresh home (docs/researcher.md): five-year age bands that the officer's condition
`age=age_10y` coarsens (the released column must be `age_10y`, with the codebook, the
disclosure report and the manifest agreeing), and a request whose `age_5y` is removed (the
report and `review show` must say so in one line naming the variable and what to change).
The search itself is checked on data where a `keep` variable used to be removed while
removing others instead reaches k (checked independently with pandas).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from research_site import Site, at_site, ok, site  # noqa: F401 (fixtures)

from primex.sdc.micro.anonymize import anonymize

# A ULB team's duration model: five-year age bands among the covariates.
DURATIONS = """\
title: Duration of integration income spells by age band and household ({label})
requester:
  organisation: ULB - Centre METICES
  contact: metices@example.be
  public_key: "{{key}}"
purpose: >-
  We model the duration of integration income spells with a discrete-time hazard model,
  using five-year age bands, sex, region, household type and nationality group as
  covariates, to see which households stay longest on the integration income.
legal_basis: "CSI deliberation 25/101"
retention_until: 2029-06-30
population:
  benefits: [RI]
  period: {{start: 2022-01, end: 2023-12}}
variables: [{variables}]
output:
  kind: microdata
  format: csv
disclosure:
  k: 5
  max_suppression: 0.05
{priorities}"""


def test_a_coarsened_band_is_released_under_its_level_name(at: Site) -> None:
    rid, report = at.protect("bands", DURATIONS.format(
        label="bands", variables="age_5y, sex, region, household_type, nationality_group, "
        "category", priorities="  priorities: {age_5y: keep, household_type: low}\n"),
        conditions=("age=age_10y",))
    details = report["details"]
    assert details["levels"]["age_5y"] == 1  # age_5y -> age_10y, by the officer's condition
    assert details["released_as"] == {"age_5y": "age_10y"}
    assert "age_5y → age_10y" in report["summary"]
    opened = at.release(rid)
    data = pd.read_csv(opened / "data" / "microdata.csv", dtype=str, keep_default_na=False)
    assert "age_5y" not in data.columns and "age_10y" in data.columns
    # ten-year bands (30-39), never five-year ones (30-34), under that name
    bands = set(data["age_10y"]) - {"*", ""}
    assert bands and all(re.fullmatch(r"(?P<d>\d)0-(?P=d)9|\d+\+", b) for b in bands), bands
    fields = {f["name"]: f for r in json.loads((opened / "datapackage.json").read_text())[
        "resources"] for f in r["schema"]["fields"]}
    assert "age_5y" not in fields
    assert "Requested as `age_5y`" in fields["age_10y"]["description"]
    assert fields["age_10y"]["requested_as"] == "age_5y"
    assert "age_10y" in fields["age_10y"]["description"]
    assert bands <= {c["value"] for c in fields["age_10y"]["categories"]}
    manifest = json.loads((opened / "manifest.json").read_text())
    assert [f["name"] for f in manifest["files"]] == ["microdata.csv"]
    assert (opened / "disclosure-report.md").read_text().count(
        "`age_5y` (requested) is released as `age_10y`") == 1


def test_a_removed_variable_is_named_with_what_to_change(
    at: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    variables = ("age_5y, sex, region, household_type, nationality_group, "
                 "spell_duration_band, category")
    rid, report = at.protect("removed", DURATIONS.format(
        label="removed", variables=variables, priorities=""))
    details = report["details"]
    removed = details["utility"]["generalised_to_total"]
    assert "age_5y" in removed
    # independently: at the finest levels below every total (age_10y, the rest as asked),
    # more records sit in classes < k than the budget allows, so no such node reaches k
    work = at.home / "spp" / "work" / rid
    coded = pd.read_parquet(work / "coded.parquet")
    keys = [v.strip() for v in variables.split(",")]
    frame = coded[keys].astype(str).copy()
    frame["age_5y"] = frame["age_5y"].map(lambda b: b if b == "nan" or not b[0].isdigit()
                                          else f"{b[0]}0-{b[0]}9" if len(b) == 5 else b)
    sizes = frame.groupby(keys, dropna=False)["sex"].transform("size")
    assert int((sizes < 5).sum()) > int(0.05 * len(frame))
    notices = details["notices"]
    line = next(n for n in notices if n.startswith("age_5y is `*` in every record"))
    assert "k = 5" in line and "5 %" in line and "to keep age_5y" in line
    alternative = details["removed"]["age_5y"]
    assert alternative and "age_5y" not in alternative
    assert ", ".join(alternative) in line
    # the officer sees it before the output check
    shown = ok("review", "show", rid, "--no-assess")
    assert "removed: age_5y is `*` in every record" in " ".join(shown.split())
    assert "## Variables removed" in (work / "protected" / "disclosure-report.md").read_text()


def test_a_keep_variable_is_not_removed_while_removing_others_reaches_k() -> None:
    """Eight keys: x (50 values, marked keep) and seven binary ones. Keeping x needs five of
    the binaries removed, past the 64 sub-lattices the search used to try: it then took the
    optimum of the loss alone and removed x."""
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"x": rng.integers(0, 50, n).astype(str)})
    for j in range(7):
        df[f"b{j}"] = rng.integers(0, 2, n).astype(str)
    qis = list(df.columns)
    # pandas, not the search: x with two binaries has few enough records in classes < 5
    small = df.groupby(["x", "b0", "b1"])["x"].transform("size") < 5
    assert int(small.sum()) <= int(0.05 * n)
    res = anonymize(df, qis, None, 5, max_suppression=0.05, keep=[True] + [False] * 7,
                    loss_weights=[4.0] + [1.0] * 7, avoid_total=True)
    assert res.passed
    assert res.levels["x"] == 0  # kept
    removed = [q for q in qis if res.levels[q] == 1]
    # the fewest: with any three binaries kept, pandas finds too many records in small classes
    for kept in [["b0", "b1", "b2"], ["b4", "b5", "b6"]]:
        assert int((df.groupby(["x", *kept])["x"].transform("size") < 5).sum()) > 100
    assert len(removed) == 5
    assert res.removed == {q: res.removed[q] for q in removed}


def test_every_variable_removed_by_the_fallback_gets_its_line() -> None:
    """Missing values in many patterns: no node reaches k when a blank is its own class, the
    most general levels are used (every value `*`) and the wildcard rule passes them. Each
    removed variable must still get its plain line (it used to get none)."""
    from primex.protection.microdata import removal_notices

    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({f"q{j}": np.where(rng.random(n) < 0.3, None,
                                         rng.integers(0, 3, n).astype(str)) for j in range(8)})
    # pandas: the patterns of missing values alone leave more than 5 % in classes < 5
    patterns = df.isna().astype(int).astype(str).agg("".join, axis=1)
    assert int((patterns.map(patterns.value_counts()) < 5).sum()) > 15
    res = anonymize(df, list(df.columns), None, 5, max_suppression=0.05, avoid_total=True)
    assert all(level == 1 for level in res.levels.values())
    assert set(res.removed) == set(df.columns)
    lines = removal_notices(res.removed, {}, 5, 0.05)
    assert [line.split(" ", 1)[0] for line in lines] == list(df.columns)
    assert all("even with every other variable removed" in line for line in lines)
