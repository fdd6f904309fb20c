"""The commune map: one shape per commune of REFNIS 2025 (565), every commune whose figure is
not published hatched and named in the legend; arrondissement map: 43 areas (issue 21)."""

from __future__ import annotations

import re
from html import unescape

import pandas as pd
from dashboard_fixtures import public_site  # noqa: F401  (the fixture)

from primex.catalogue import geography
from primex.dashboard import geomap, i18n
from primex.home import Home


def _svg(html: str, map_id: str) -> str:
    start = html.index(f'<svg class="map" id="{map_id}"')
    return html[start:html.index("</svg>", start)]


def _section(html: str, map_id: str) -> str:
    start = html.index(f'id="{map_id}"')
    return html[start:html.index("</section>", start)]


def test_geometry_covers_the_565_communes_of_2025() -> None:
    assert set(geomap.geometry().rings) == set(geography.communes()["commune"])
    assert len(geomap.geometry().rings) == 565
    assert len(geomap.area_paths("arrondissement")) == 43


def test_commune_map_one_shape_each_and_suppressed_ones_hatched(
        public_site: tuple[Home, dict]) -> None:  # noqa: F811
    home, manifest = public_site
    data = pd.read_csv(home.site / manifest["opendata"]["path"] / "barometer.csv",
                       dtype={"key": str, "period": str}, keep_default_na=False)
    for lang in i18n.LANGS:
        html = (home.site / lang / "map.html").read_text(encoding="utf-8")
        for ind, level, count in (("stock_total", "commune", 565),
                                  ("rate_18_64", "commune", 565),
                                  ("stock_total", "arrondissement", 43)):
            svg = _svg(html, f"map-{ind}-{level}")
            areas = re.findall(r'<g class="area( suppressed)?" data-code="(\d{5})" '
                               r'fill="([^"]+)"', svg)
            codes = [c for _, c, _ in areas]
            assert len(codes) == count == len(set(codes)), (lang, ind, level)
            cells = data[(data["indicator"] == ind) & (data["breakdown"] == level)
                         & (data["period"] == manifest["period"])
                         & (data["period_type"] == "quarter")]
            published = set(cells.loc[cells["status"] == "", "key"])
            hatched = {c for s, c, fill in areas if s and fill.startswith("url(#hatch-")}
            coloured = {c for s, c, fill in areas if not s and fill.startswith("#")}
            assert hatched | coloured == set(codes)
            assert coloured == published, (lang, ind, level)  # hidden or absent: hatched
            assert hatched, "the test data must hide some communes"
            legend = unescape(_section(html, f"m-{ind}-{level}"))
            for code in hatched:  # named in the legend
                assert i18n.place(level, code, lang) in legend, (lang, code)
