"""Shared fixtures of the dashboard tests: the public barometer built with the versioned
protocols (all indicators, annual report 2024) on the session's synthetic home."""

from __future__ import annotations

import pytest
from test_dashboard import copy_home

from primex.dashboard.build import build_site
from primex.home import Home


@pytest.fixture(scope="session")
def public_site(tmp_path_factory: pytest.TempPathFactory, synth_home: Home) -> tuple[Home, dict]:
    home = copy_home(synth_home, tmp_path_factory.mktemp("public-site") / "home")
    result = build_site(home, None, "public", 2024)
    return home, result.manifest
