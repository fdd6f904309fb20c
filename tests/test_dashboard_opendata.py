"""The open-data package's publication base URL: a checked setting, used in DCAT-AP and in
datapackage.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_dashboard import build_test_site, copy_home

from primex.cli import main
from primex.dashboard import opendata
from primex.errors import ConfigError
from primex.home import Home

SPP = "https://opendata.example.be/barometer"


@pytest.mark.parametrize("bad", [
    "http://opendata.example.be/barometer/",  # not TLS
    "ftp://opendata.example.be/",
    "https:///barometer/",  # no host
    "opendata.example.be/barometer/",  # no scheme
    "https://opendata.example.be/barometer/?v=1",
    "https://opendata.example.be/barometer/#top",
    "https://user:secret@opendata.example.be/",
    "https://opendata.example.be:99999/",
    "https://opendata.example.be/bar ometer/",
])
def test_a_bad_base_url_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="must be an https:// URL") as err:
        opendata.base_url(bad)
    assert err.value.where == "--opendata-base-url"


def test_the_base_url_comes_from_the_option_then_the_environment_then_the_demo(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(opendata.BASE_URL_ENV, raising=False)
    assert opendata.base_url() == opendata.DEMO_BASE_URL
    assert opendata.DEMO_BASE_URL.split("/")[2].endswith(".invalid")  # never resolves
    monkeypatch.setenv(opendata.BASE_URL_ENV, SPP)
    assert opendata.base_url() == SPP + "/"  # a trailing slash is added
    assert opendata.base_url("https://data.example.org/b/") == "https://data.example.org/b/"
    monkeypatch.setenv(opendata.BASE_URL_ENV, "http://opendata.example.be/")
    with pytest.raises(ConfigError) as err:
        opendata.base_url()
    assert err.value.where == opendata.BASE_URL_ENV


def test_the_cli_refuses_a_bad_base_url_in_one_line_before_any_work(
        tmp_path: Path, synth_home: Home, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    home = copy_home(synth_home, tmp_path / "h")
    args = ["--home", str(home.root), "dashboard", "build"]
    assert main([*args, "--opendata-base-url", "http://opendata.example.be/"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--opendata-base-url" in err and "https://" in err
    monkeypatch.setenv(opendata.BASE_URL_ENV, "opendata.example.be")
    assert main(args) == 2
    assert opendata.BASE_URL_ENV in capsys.readouterr().err
    assert not home.site.exists() and not home.extracts.exists()  # refused before running


def test_the_package_uses_the_configured_base_url(tmp_path: Path, synth_home: Home,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(opendata.BASE_URL_ENV, SPP)
    home, manifest = build_test_site(tmp_path, synth_home, year=None)
    folder = home.site / manifest["opendata"]["path"]
    period, version = manifest["period"], manifest["opendata"]["version"]
    dataset = f"{SPP}/{period}/{version}/"
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["homepage"] == package["id"] == dataset
    rdf = (folder / "catalog.rdf").read_text(encoding="utf-8")
    assert f'<dcat:Dataset rdf:about="{dataset}">' in rdf
    assert f'<dcat:downloadURL rdf:resource="{dataset}barometer.csv"/>' in rdf
    assert f'<dcat:Catalog rdf:about="{SPP}/">' in rdf
    assert ".invalid" not in rdf
    assert manifest["opendata"]["base_url"] == SPP + "/"
