"""The barometer in a real headless browser: Debian's chromium driven by Playwright for
Python (`executable_path`, no browser download), axe-core from the pinned PyPI package
axe-playwright-python (its bundled axe.min.js, injected from disk: nothing is fetched).

`make test` installs chromium first (scripts/test-system-deps.sh). Every page of every
language is loaded from file:// (the site works offline) and checked: the `lang` attribute,
no console error, no code label of another language, no text overflowing its box (HTML boxes
and SVG text inside its viewBox), charts and maps drawn, and 0 serious or critical axe-core
violations. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_fixtures import public_site  # noqa: F401  (the fixture)
from test_dashboard import build_test_site

from primex.dashboard import i18n
from primex.home import Home

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.browser

OVERFLOW_JS = """() => {
  const bad = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) bad.push('page ' + doc.scrollWidth);
  for (const el of document.querySelectorAll(
      'main td, main th, main caption, main h1, main h2, main h3, main p, main dd, main dt,'
      + ' main li, main summary, .card, .card .value, header a, footer p')) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      bad.push(el.tagName + ': ' + el.textContent.slice(0, 60));
  }
  for (const svg of document.querySelectorAll('svg')) {
    const vb = svg.viewBox.baseVal;
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5
          || b.y + b.height > vb.y + vb.height + 0.5)
        bad.push('svg ' + svg.id + ': ' + t.textContent.slice(0, 60));
    }
  }
  return bad;
}"""
LEAF_TEXTS_JS = """() => Array.from(document.querySelectorAll(
  'th, td, caption, text, a, li, dt, dd, h1, h2, h3, span, div, summary, figcaption'))
  .filter(e => e.children.length === 0).map(e => e.textContent.trim())"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: run `sh scripts/test-system-deps.sh` as root")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser.new_page(viewport={"width": 1200, "height": 900})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def axe_js() -> str:
    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python missing")
    return (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> tuple[Home, dict]:
    return build_test_site(tmp_path_factory.mktemp("browser-site"), synth_home)


def _foreign_labels(lang: str) -> set[str]:
    mine = i18n.code_labels(lang)
    out: set[str] = set()
    for other in i18n.LANGS:
        if other != lang:
            out |= i18n.code_labels(other)
    return {x for x in out - mine if len(x) > 2}


def test_every_page_in_every_language(page: Any, axe_js: str,
                                      public_site: tuple[Home, dict]) -> None:  # noqa: F811
    """The full barometer (versioned protocols: every indicator, maps by commune)."""
    home, _ = public_site
    pages = sorted(home.site.rglob("*.html"))
    assert len(pages) >= 4 * 40
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    problems: list[str] = []
    for path in pages:
        rel = path.relative_to(home.site).as_posix()
        lang = rel.split("/")[0] if rel.split("/")[0] in i18n.LANGS else "fr"
        errors.clear()
        page.goto(path.as_uri())
        if errors:  # before axe (it reads stylesheets by XHR, which file:// refuses)
            problems.append(f"{rel}: console {errors[:2]}")
        assert page.evaluate("document.documentElement.lang") == lang, rel
        foreign = _foreign_labels(lang)
        leaked = sorted({t for t in page.evaluate(LEAF_TEXTS_JS) if t in foreign})
        if leaked:
            problems.append(f"{rel}: untranslated {leaked[:5]}")
        overflow = page.evaluate(OVERFLOW_JS)
        if overflow:
            problems.append(f"{rel}: overflow {overflow[:3]}")
        page.add_script_tag(content=axe_js)
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])}): "
                   f"{v['nodes'][0]['target']}" for v in result["violations"]
                   if v["impact"] in ("serious", "critical")]
        if serious:
            problems.append(f"{rel}: axe {serious}")
        if rel.endswith(("index.html", "map.html", "stock_ri.html", "method.html")):
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{rel.replace('/', '-')}.png"),
                            full_page=False)
    assert not problems, json.dumps(problems[:10], ensure_ascii=False, indent=1)


def test_charts_and_maps_render(page: Any, site: tuple[Home, dict]) -> None:
    home, _ = site
    page.goto((home.site / "nl" / "index.html").as_uri())
    charts = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart')).map(s => {
      const r = s.getBoundingClientRect();
      return [r.width, r.height, s.querySelectorAll('polyline, rect.bar, circle').length,
              !!s.querySelector('title'), !!s.querySelector('desc')];
    })""")
    assert charts, "the overview has charts"
    for width, height, marks, has_title, has_desc in charts:
        assert width > 200 and height > 100 and marks >= 3 and has_title and has_desc
    page.goto((home.site / "de" / "map.html").as_uri())
    areas = page.evaluate("""() => Array.from(document.querySelectorAll(
        '#map-rate_18_64-province g.area')).map(g => g.getBBox().width * g.getBBox().height)""")
    assert len(areas) == 11 and min(areas) > 50
    labels = page.evaluate("""() => Array.from(document.querySelectorAll(
        '#map-rate_18_64-province text.place')).map(t => t.textContent)""")
    assert "Brüssel" in labels and "Antwerpen" in labels
    page.goto((home.site / "fr" / "indicators" / "stock_ri.html").as_uri())
    assert page.evaluate("document.querySelectorAll('svg.bars rect.bar').length") > 5
    assert page.evaluate("document.querySelectorAll('table').length") >= 5
    # the language switch leads to the same page in the other language
    page.click("nav.langs a[hreflang=nl]")
    assert page.url.endswith("/nl/indicators/stock_ri.html")
    assert page.evaluate("document.documentElement.lang") == "nl"
