"""A released count table publishes its count once (`count`), a magnitude table its value
(`value`): no count table with two identical columns `value` and `count` (walkthrough of
issue 16). A request written as a research centre would write it goes through the
documented commands to the opened release; the published counts are checked against a
pandas count of the coded extract, the codebook and docs/release.md against the files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from research_site import Site, at_site, site  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]

# The Brussels observatory's yearly note: how many beneficiaries per region and sex, and
# how much was paid per region.
OBSERVATORY = """\
title: Integration income beneficiaries and amounts by region and sex, yearly note
requester:
  organisation: Observatoire de la Santé et du Social de Bruxelles-Capitale
  contact: observatoire@example.brussels
  public_key: "{key}"
purpose: >-
  For the yearly note on poverty in the three regions we count the beneficiaries of the
  integration income by region and sex, and sum the amounts paid by region, to compare the
  regions' shares of beneficiaries with their shares of the amounts.
legal_basis: "CSI deliberation 22/301 (annual statistics)"
retention_until: 2027-12-31
population:
  benefits: [RI]
  period: {start: 2022-01, end: 2023-12}
variables: [region, sex, amount]
output:
  kind: tables
  format: csv
  tables:
    - name: beneficiaries_by_region_sex
      dimensions: [region, sex]
      measure: count
    - name: amounts_by_region
      dimensions: [region]
      measure: sum:amount
disclosure:
  min_count: 10
"""


def test_a_count_table_publishes_its_count_once(at: Site) -> None:
    rid, report = at.protect("observatory", OBSERVATORY)
    assert report["passed"] is True
    opened = at.release(rid)
    counts = pd.read_csv(opened / "data" / "beneficiaries_by_region_sex.csv", dtype=str,
                         keep_default_na=False)
    amounts = pd.read_csv(opened / "data" / "amounts_by_region.csv", dtype=str,
                          keep_default_na=False)
    assert list(counts.columns) == ["region", "sex", "count", "status", "reason"]
    assert list(amounts.columns) == ["region", "value", "status", "reason"]
    # the published counts are the extract's (pandas), as integers
    coded = pd.read_parquet(at.home / "spp" / "work" / rid / "coded.parquet")
    truth = coded.groupby(["region", "sex"]).size()
    shown = counts[(counts["region"] != "*") & (counts["sex"] != "*") &
                   (counts["status"] == "s")]
    assert len(shown) >= 4
    for row in shown.itertuples():
        assert row.count == str(truth[(row.region, row.sex)])
    assert counts.loc[(counts.region == "*") & (counts.sex == "*"), "count"].item() == str(
        len(coded))
    # the codebook describes each file's own measure column
    book = json.loads((opened / "datapackage.json").read_text())
    fields = {(r["path"], f["name"]): f for r in book["resources"]
              for f in r["schema"]["fields"]}
    count = fields[("data/beneficiaries_by_region_sex.csv", "count")]
    assert count["type"] == "integer" and "Count table" in count["description"]
    value = fields[("data/amounts_by_region.csv", "value")]
    assert "Magnitude table" in value["description"]
    assert ("data/beneficiaries_by_region_sex.csv", "value") not in fields
    # docs/release.md says the same
    docs = " ".join((REPO / "docs" / "release.md").read_text("utf-8").split())
    assert "a count table has `count` and no `value`" in docs
