"""The dashboard in a real headless browser (Debian chromium + chromium-driver, via selenium).

`make test` installs chromium first (scripts/test-system-deps.sh). The test loads every page
from file:// (the site must work offline), fails on any console error, checks that the SVG
charts and the map actually render (non-zero boxes, drawn marks), that every chart has a table
and a text alternative, that no hidden cell shows a number, and keeps a screenshot of the
overview in test-artifacts/.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_dashboard import build_test_site

from primex.dashboard.build import _label
from primex.dashboard.protect import protect_cells
from primex.extract.profiles import get_profile
from primex.extract.run import load_indicators
from primex.home import Home

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() or not DRIVER.exists():
        pytest.skip("chromium / chromedriver not installed: run `sh scripts/test-system-deps.sh` "
                    "as root (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    profile_dir = tempfile.mkdtemp(prefix="primex-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1200,900",
                f"--user-data-dir={profile_dir}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(DRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> tuple[Home, dict]:
    return build_test_site(tmp_path_factory.mktemp("browser-site"), synth_home)


def _open(driver: object, page: Path) -> list[dict]:
    driver.get_log("browser")  # type: ignore[attr-defined]  # drop earlier entries
    driver.get(page.as_uri())  # type: ignore[attr-defined]
    return [e for e in driver.get_log("browser")  # type: ignore[attr-defined]
            if e.get("level") == "SEVERE"]


def test_every_page_loads_without_console_errors(browser: object, site: tuple[Home, dict]) -> None:
    home, _ = site
    pages = sorted(home.site.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        errors = _open(browser, page)
        assert not errors, f"{page.name}: {errors}"
        title = browser.title  # type: ignore[attr-defined]
        assert "CPAS statistics" in title


def test_charts_and_map_render(browser: object, site: tuple[Home, dict]) -> None:
    home, _ = site
    _open(browser, home.site / "index.html")
    js = """
    return Array.from(document.querySelectorAll('svg.chart')).map(s => {
      const r = s.getBoundingClientRect();
      return [r.width, r.height, s.querySelectorAll('polyline, rect.bar, circle').length,
              !!s.querySelector('title'), !!s.querySelector('desc')];
    });"""
    charts = browser.execute_script(js)  # type: ignore[attr-defined]
    assert charts, "the overview has charts"
    for width, height, marks, has_title, has_desc in charts:
        assert width > 200 and height > 100 and marks >= 3 and has_title and has_desc
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard-overview.png"
    assert browser.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000
    _open(browser, home.site / "map.html")
    provinces = browser.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelector('svg.map').querySelectorAll('g.province'))"
        ".map(g => g.getBBox().width * g.getBBox().height);")
    assert len(provinces) == 11 and min(provinces) > 50
    browser.save_screenshot(str(ARTIFACTS / "dashboard-map.png"))  # type: ignore[attr-defined]
    _open(browser, home.site / "indicators" / "stock_ri.html")
    bars = browser.execute_script(  # type: ignore[attr-defined]
        "return document.querySelectorAll('svg.bars rect.bar').length;")
    tables = browser.execute_script(  # type: ignore[attr-defined]
        "return document.querySelectorAll('table').length;")
    assert bars > 5 and tables >= 5


def test_hidden_cells_show_no_number_in_the_browser(browser: object,
                                                   site: tuple[Home, dict]) -> None:
    home, manifest = site
    run = Path(manifest["runs"]["quarterly"]["manifest"]).parent
    pub = protect_cells(load_indicators(run), get_profile("public"), "suppression")
    hidden = pub[(~pub["status"].isin(["s", "z"])) & (pub["period"] == manifest["period"])
                 & (pub["breakdown"] != "total")]
    assert len(hidden) > 0
    checked = 0
    for ind, cells in hidden.groupby("indicator"):
        _open(browser, home.site / "indicators" / f"{ind}.html")
        rows = browser.execute_script(  # type: ignore[attr-defined]
            "return Array.from(document.querySelectorAll('tr')).map(tr => "
            "[tr.querySelector('th') ? tr.querySelector('th').textContent : '', "
            " tr.querySelector('td') ? tr.querySelector('td').textContent : '', "
            " tr.closest('table').querySelector('caption').textContent]);")
        current = [r for r in rows if manifest["period"] in r[2] and " by " in r[2]
                   and "period" not in r[2]]
        for _, cell in cells.iterrows():
            label = _label(cell["breakdown"], cell["key"])
            texts = [r[1].strip() for r in current if r[0] == label]
            assert texts and texts[0] == "x", (ind, label, texts)
            checked += 1
    assert checked == len(hidden)
    assert isinstance(pub, pd.DataFrame)
