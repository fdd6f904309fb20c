"""Statistical sectors: internal profile only, its threshold and the same protection as the
communes (tables, no maps); the public profile never shows a sector."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from test_dashboard import copy_home

from primex.dashboard import i18n
from primex.dashboard.build import build_site
from primex.dashboard.protect import protect_cells, weight
from primex.errors import ValidationError
from primex.extract.profiles import get_profile
from primex.extract.protocol import load_protocol, parse_protocol
from primex.extract.run import load_indicators, run_protocol
from primex.home import Home

SECTOR_PROTOCOL = """name: quarterly-sectors
version: 1
grain: quarter
source:
  prima: {kind: duckdb, path: spp/prima.duckdb}
  outcomes: {kind: none}
series: 2
protection: {method: suppression}
indicators:
  - id: stock_total
    breakdowns: [region, province, arrondissement, commune, sector]
  - id: stock_ri
    breakdowns: [region, commune, sector]
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, synth_home: Home,
          ) -> tuple[Home, Path, dict, dict]:
    root = tmp_path_factory.mktemp("sectors")
    home = copy_home(synth_home, root / "home")
    (root / "q.yaml").write_text(SECTOR_PROTOCOL)
    internal = build_site(home, None, "internal", quarterly=str(root / "q.yaml")).manifest
    shutil.copytree(home.site, root / "internal-site")
    public = build_site(home, None, "public", quarterly=str(root / "q.yaml")).manifest
    return home, root / "internal-site", internal, public


def _cells(manifest: dict) -> pd.DataFrame:
    return load_indicators(Path(manifest["runs"]["quarterly"]["manifest"]).parent)


def test_the_run_has_sector_cells_nested_in_the_paying_commune(sites: tuple) -> None:
    _, _, internal, _ = sites
    cells = _cells(internal)
    sec = cells[(cells["breakdown"] == "sector") & (cells["indicator"] == "stock_total")]
    assert len(sec) > 100
    assert sec["key"].str.fullmatch(r"\d{5}([A-Z]\d{2}[-\d]|ZZZZ)").all()  # Statbel layout
    # the sectors of a commune add up to the commune (a sector always nests in its commune)
    com = cells[(cells["breakdown"] == "commune") & (cells["indicator"] == "stock_total")]
    by_commune = sec.assign(c=sec["key"].str[:5]).groupby(["period", "c"])["numerator"].sum()
    mine = com.set_index(["period", "key"])["numerator"]
    assert np.allclose(by_commune.sort_index().to_numpy(),
                       mine.loc[by_commune.index].sort_index().to_numpy())


def test_no_internal_sector_figure_below_the_internal_threshold(sites: tuple) -> None:
    _, site, internal, _ = sites
    profile = get_profile("internal")
    assert "sector" in profile.geography and profile.min_count == 5
    cells = protect_cells(_cells(internal), profile, "suppression")
    sec = cells[cells["breakdown"] == "sector"]
    assert len(sec) > 100 and (sec["status"] == "u").any()
    shown = sec[sec["status"].isin(["s", "z"]) & (sec["numerator"] != 0)]
    w = weight(shown["numerator"].to_numpy(), shown["n"].to_numpy())
    assert (w >= profile.min_count).all()
    # the published downloads: a sector value only where the rule allows it
    label = i18n.BREAKDOWNS["sector"]["en"]
    with open(site / "en" / "downloads" / "stock_total.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["breakdown"] == label]
    assert rows and all((r["status"] == "x" and r["value"] == "") or
                        float(r["value"]) >= profile.min_count - 0.5 for r in rows)
    page = (site / "en" / "indicators" / "stock_total.html").read_text(encoding="utf-8")
    assert label in page
    method = (site / "en" / "method.html").read_text(encoding="utf-8")
    assert str(escape(i18n.UI["sectors_text"]["en"])) in method
    assert not any("sector" in p.name for p in (site / "en").rglob("*.svg"))


def test_a_small_sector_hides_a_sibling_so_it_cannot_be_recomputed() -> None:
    """Commune 21004 (Brussels) with three sectors of 30, 12 and 3 persons: the sector of 3
    is under the internal threshold (5); the commune stays published, so a second sector must
    be hidden (else 45 - 30 - 12 = 3 gives it away) and the hidden ones together reach the
    threshold."""
    keys = {"21004A00-": 30.0, "21004A11-": 12.0, "21004B00-": 3.0}
    rows = [("total", "", 45.0), ("region", "04000", 45.0), ("province", "04000", 45.0),
            ("arrondissement", "21000", 45.0), ("commune", "21004", 45.0)]
    rows += [("sector", k, v) for k, v in keys.items()]
    cells = pd.DataFrame({
        "indicator": "stock_total", "period_type": "quarter", "period": "2025Q2",
        "breakdown": [r[0] for r in rows], "key": [r[1] for r in rows],
        "numerator": [r[2] for r in rows], "denominator": np.nan,
        "n": [int(r[2]) for r in rows], "n_den": np.nan, "value": [r[2] for r in rows],
        "revised": False, "previous_value": np.nan})
    out = protect_cells(cells, get_profile("internal"), "suppression")
    status = dict(zip(out["key"], out["status"], strict=True))
    assert status["21004B00-"] == "u" and status["21004"] == "s"
    hidden = [k for k in keys if status[k] in ("u", "x")]
    assert len(hidden) == 2
    assert 45.0 - sum(v for k, v in keys.items() if k not in hidden) >= 5
    public = protect_cells(cells, get_profile("public"), "suppression")
    assert "sector" not in set(public["breakdown"])


def test_the_public_profile_never_shows_a_sector(sites: tuple) -> None:
    home, _, _, public = sites
    assert "sector" not in get_profile("public").geography
    cells = protect_cells(_cells(public), get_profile("public"), "suppression")
    assert "sector" not in set(cells["breakdown"])
    names = {i18n.BREAKDOWNS["sector"][lang] for lang in i18n.LANGS}
    for path in home.site.rglob("*"):
        if path.suffix in (".html", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert not any(n in text for n in names) or path.name == "method.html", path
            assert "ZZZZ" not in text or path.name == "method.html", path
    opendata = pd.read_csv(home.site / public["opendata"]["path"] / "barometer.csv",
                           dtype=str, keep_default_na=False)
    assert "sector" not in set(opendata["breakdown"])


def test_a_prima_without_sectors_publishes_no_sector(tmp_path: Path, synth_home: Home) -> None:
    home = copy_home(synth_home, tmp_path / "home")
    with duckdb.connect(str(home.prima_db)) as con:
        con.execute("ALTER TABLE person DROP COLUMN sector")
    (tmp_path / "q.yaml").write_text(SECTOR_PROTOCOL)
    run = run_protocol(home, load_protocol(tmp_path / "q.yaml"))
    cells = load_indicators(run.folder)
    assert "sector" not in set(cells["breakdown"])
    assert "commune" in set(cells["breakdown"])


def test_sectors_cannot_be_a_series_breakdown(tmp_path: Path) -> None:
    text = SECTOR_PROTOCOL.replace("series: 2", "series: 2\nseries_breakdowns: [region, sector]")
    with pytest.raises(ValidationError, match="cannot be a series breakdown") as err:
        parse_protocol(text, tmp_path / "q.yaml")
    assert "q.yaml:" in str(err.value)
