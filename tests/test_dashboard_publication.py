"""Every figure the public barometer publishes (pages in four languages, CSV, XLSX, the
open-data package) rests on at least the threshold, unless it is marked suppressed; and no
suppressed figure can be recovered from a published total by subtraction (issue 21).

The site is built with the versioned protocols (protocols/quarterly.yaml, annual.yaml) on the
session's synthetic home, so all 43 indicators are checked.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import public_site  # noqa: F401  (the fixture)
from openpyxl import load_workbook

from primex.catalogue import geography
from primex.dashboard import i18n
from primex.dashboard.protect import protect_cells, weight
from primex.extract.indicators import INDICATORS
from primex.extract.profiles import get_profile
from primex.extract.run import load_indicators
from primex.home import Home

PROFILE = get_profile("public")
MIN = PROFILE.min_count
COUNTS = {i for i, ind in INDICATORS.items() if not ind.is_ratio}


@pytest.fixture(scope="module")
def site(public_site: tuple[Home, dict]) -> tuple[Home, dict]:  # noqa: F811
    return public_site


def _number(text: str, lang: str) -> float:
    t = text.replace("\u202f", "").replace("R", "").strip()
    if lang != "en":
        t = t.replace(",", ".")
    return float(t)


def _ok(value: float) -> bool:
    return value == 0 or value >= MIN - 0.5  # a shown 10 may be an average of 9.5 or more


def test_the_rule_is_applied_to_the_figure_shown_not_to_the_persons_behind_it() -> None:
    """The issue's case: a quarterly average of 9.3 rests on 12 distinct persons. The old
    rule (12 >= 10) published 9; the figure shown must itself reach the threshold."""
    assert list(weight(np.array([9.33, 12.0, 0.2, 9.5]), np.array([12, 12, 3, 11]))) == \
        [9, 12, 1, 10]
    rows = [("total", "", 400.0, 420), ("region", "02000", 200.0, 210),
            ("region", "03000", 190.67, 198), ("region", "04000", 9.33, 12)]
    cells = pd.DataFrame({
        "indicator": "stock_eris", "period_type": "quarter", "period": "2025Q2",
        "breakdown": [r[0] for r in rows], "key": [r[1] for r in rows],
        "numerator": [r[2] for r in rows], "denominator": np.nan, "n": [r[3] for r in rows],
        "n_den": np.nan, "value": np.nan, "revised": False, "previous_value": np.nan})
    out = protect_cells(cells, PROFILE, "suppression").set_index("key")
    assert out.loc["04000", "status"] == "u"
    assert out["status"].isin(["u", "x"]).sum() >= 2  # and it cannot be recomputed


def test_two_hidden_parts_never_add_up_to_less_than_the_threshold() -> None:
    """Secondary suppression hides a second part, but the gap (total minus the shown parts)
    is a figure too: 3 + 4 = 7 would be published in effect. A third part is hidden."""
    rows = [("total", "", 107.0), ("sex", "F", 3.0), ("sex", "M", 4.0), ("sex", "X", 100.0)]
    cells = pd.DataFrame({
        "indicator": "stock_ri", "period_type": "quarter", "period": "2025Q2",
        "breakdown": [r[0] for r in rows], "key": [r[1] for r in rows],
        "numerator": [r[2] for r in rows], "denominator": np.nan,
        "n": [int(r[2]) for r in rows], "n_den": np.nan, "value": np.nan, "revised": False,
        "previous_value": np.nan})
    out = protect_cells(cells, PROFILE, "suppression").set_index("key")
    shown = out[out["status"].isin(["s", "z"])]
    if "" in shown.index:  # the total is published: the hidden parts must weigh >= 10
        assert shown.loc[""]["shown"] - shown.drop(index="")["shown"].sum() >= MIN


def _published_open_data(site: tuple[Home, dict]) -> pd.DataFrame:
    home, manifest = site
    path = home.site / manifest["opendata"]["path"] / "barometer.csv"
    return pd.read_csv(path, dtype={"key": str, "period": str}, keep_default_na=False)


def test_open_data_package_is_complete_and_versioned(site: tuple[Home, dict]) -> None:
    home, manifest = site
    folder = home.site / manifest["opendata"]["path"]
    assert manifest["opendata"]["version"] == manifest["runs"]["quarterly"]["snapshot_date"]
    import json

    package = json.loads((folder / "datapackage.json").read_text())
    assert package["version"] == manifest["opendata"]["version"]
    fields = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    with open(folder / "barometer.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == fields
    rdf = (folder / "catalog.rdf").read_text()
    for needle in ("<dcat:Dataset", "<dcat:Distribution", "<owl:versionInfo>",
                   "<adms:versionNotes", "file-type/CSV", 'xml:lang="nl"', 'xml:lang="de"',
                   "frequency/QUARTERLY"):
        assert needle in rdf, needle
    from xml.dom import minidom

    minidom.parseString(rdf.encode())  # well-formed RDF/XML
    data = _published_open_data(site)
    # every indicator of the protocols, except the 8-quarter outcomes (24 months of data)
    assert set(INDICATORS) - set(data["indicator"]) <= {
        "outcome_work_8q", "position_8q", "persons_year_eris"}
    assert len(set(data["indicator"])) >= 40


def test_every_published_figure_reaches_the_threshold(site: tuple[Home, dict]) -> None:
    home, manifest = site
    checked = 0
    # open data: counts directly; ratios through the numerator they rest on
    data = _published_open_data(site)
    shown = data[data["status"] == ""]
    assert (data["status"] == "x").any(), "the test data must have suppressed figures"
    for value in shown.loc[shown["indicator"].isin(COUNTS), "value"]:
        assert _ok(float(value)), value
        checked += 1
    raw = pd.concat([load_indicators(Path(r["manifest"]).parent)
                     for r in manifest["runs"].values()], ignore_index=True)
    raw = raw.assign(w=weight(raw["numerator"].to_numpy(), raw["n"].fillna(0).to_numpy()))
    merged = shown[~shown["indicator"].isin(COUNTS)].merge(
        raw, on=["indicator", "period_type", "period", "breakdown", "key"], how="left")
    assert merged["w"].notna().all()
    bad = merged[(merged["w"] < MIN) & (merged["numerator"] != 0)]
    assert bad.empty, bad[["indicator", "period", "breakdown", "key", "w"]].head()
    # downloads in every language, CSV and XLSX
    for lang in i18n.LANGS:
        persons = i18n.UNITS["persons"][lang]
        head = i18n.EXPORT_HEADERS
        for path in sorted((home.site / lang / "downloads").glob("*.csv")):
            with open(path, encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row[head["unit"][lang]] == persons and row[head["status"][lang]] == "":
                        assert _ok(float(row[head["value"][lang]])), (path.name, row)
                        checked += 1
        for path in sorted((home.site / lang / "downloads").glob("*.xlsx")):
            ws = load_workbook(path, read_only=True).active
            it = ws.iter_rows(values_only=True)
            cols = list(next(it))
            u, s, v = (cols.index(head[c][lang]) for c in ("unit", "status", "value"))
            for row in it:
                if row[u] == persons and not row[s]:
                    assert _ok(float(row[v])), (path.name, row)
                    checked += 1
    # pages: every number in a table, a bar or a card of a count indicator
    for lang in i18n.LANGS:
        for ind in sorted(COUNTS):
            page = home.site / lang / "indicators" / f"{ind}.html"
            if not page.exists():
                continue
            html = page.read_text(encoding="utf-8")
            for text in re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)', html) + \
                    re.findall(r'<text class="value"[^>]*>([^<]*)', html):
                if text.strip() != "x":
                    assert _ok(_number(text, lang)), (lang, ind, text)
                    checked += 1
        html = (home.site / lang / "index.html").read_text(encoding="utf-8")
        for ind, text in re.findall(r'indicators/(\w+)\.html">[^<]*</a></div>\s*'
                                    r'<div class="value">([^<]*)<', html):
            if ind in COUNTS and text.strip() != "x":
                assert _ok(_number(text, lang)), (lang, ind, text)
                checked += 1
        maps = (home.site / lang / "map.html").read_text(encoding="utf-8")
        for section in re.findall(r'<section aria-labelledby="m-(stock_total-\w+)">(.*?)'
                                  r"</section>", maps, flags=re.S):
            for text in re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)', section[1]):
                if text.strip() != "x":
                    assert _ok(_number(text, lang)), (lang, section[0], text)
                    checked += 1
    assert checked > 5000


def _parents() -> dict[tuple[str, str], tuple[str, str]]:
    """(breakdown, code) -> (parent breakdown, parent code) along the public geography."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    rel = geography.parents("commune")
    for r in rel.to_dict("records"):
        out[("commune", r["commune"])] = ("arrondissement", r["arrondissement"])
        out[("arrondissement", r["arrondissement"])] = ("province", r["province"])
        out[("province", r["province"])] = ("region", r["region"])
        out[("region", r["region"])] = ("total", "")
    return out


def test_no_suppressed_figure_is_recoverable_by_subtraction(site: tuple[Home, dict]) -> None:
    data = _published_open_data(site)
    data = data[data["indicator"].isin(COUNTS) & (data["period_type"] != "month")]
    parents = _parents()
    tables = 0
    for (_ind, _pt, _period), g in data.groupby(["indicator", "period_type", "period"]):
        cell = {(b, k): (v, st) for b, k, v, st in zip(g["breakdown"], g["key"], g["value"],
                                                       g["status"], strict=True)}
        kids: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
        for b, k in cell:
            if b == "total":
                continue
            parent = parents.get((b, k), ("total", "")) if b in (
                "region", "province", "arrondissement", "commune") else ("total", "")
            kids[(*parent, b)].append((b, k))
        for (pb, pk, _b), children in kids.items():
            if (pb, pk) not in cell:
                continue
            pv, pst = cell[(pb, pk)]
            hidden = [c for c in children if cell[c][1] == "x"]
            shown = [float(cell[c][0]) for c in children if cell[c][1] == ""]
            tables += 1
            if pst == "x":
                # else the sum of its shown parts gives it away
                assert hidden or not shown or sum(shown) == 0, \
                    (_ind, _period, pb, pk, "a hidden total equals the sum of its parts")
            elif hidden:
                assert len(hidden) >= 2, (_ind, _period, pb, pk, hidden)
                assert float(pv) - sum(shown) >= MIN, \
                    (_ind, _period, pb, pk, float(pv) - sum(shown))
    assert tables > 500


def test_the_rule_is_stated_once_and_identically_everywhere(site: tuple[Home, dict]) -> None:
    """One wording per language, from one place (i18n.UI['rule']): in the footer of every
    page, on the method page and in every indicator sheet, and in the open-data package."""
    import json
    from html import escape

    home, manifest = site
    for lang in i18n.LANGS:
        rule = escape(i18n.ui("rule", lang, n=MIN))
        for page in (home.site / lang).rglob("*.html"):
            assert rule in page.read_text(encoding="utf-8"), page
    package = json.loads((home.site / manifest["opendata"]["path"] / "datapackage.json")
                         .read_text(encoding="utf-8"))
    assert package["description"] == i18n.ui("rule", "en", n=MIN)
