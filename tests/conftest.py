"""Shared test fixtures. Keep this file minimal and stable: every module may use it.

`synth_home` (session scope): a temporary primex Home with a small synthetic PRIMA
(`spp/prima.duckdb`) and BCSS warehouse (`bcss/warehouse.duckdb`), generated once per test
session (once per xdist worker) with SYNTH_PARAMS. Tests must treat it as READ-ONLY (open
the databases with read_only=True; write your own outputs under tmp_path, or copy the
databases if you must change them). The period starts in 2023-07 so that it contains the
sourced legal RI amounts of May 2024 and February 2025.

`synth_config`: the SynthConfig used for `synth_home` (persons, start, months, seed, ...).

`synth_home_copy` (function scope): a private writable copy of `synth_home` under tmp_path,
for tests that write into the home (extracts, keystores, audit log) or change the stores.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from primex.home import Home
from primex.synthetic import SynthConfig, generate

SYNTH_PARAMS = {"persons": 3000, "start": "2023-07", "months": 24, "seed": 20240501}


@pytest.fixture(scope="session")
def synth_config() -> SynthConfig:
    return SynthConfig(**SYNTH_PARAMS)


@pytest.fixture(scope="session")
def synth_home(tmp_path_factory: pytest.TempPathFactory, synth_config: SynthConfig) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("synth-home"))
    generate(synth_config, home.prima_db, home.warehouse_db)
    return home


@pytest.fixture
def synth_home_copy(tmp_path, synth_home: Home) -> Home:
    """A private, writable copy of `synth_home` (both databases) under tmp_path."""
    home = Home.resolve(tmp_path / "synth-home-copy")
    pairs = ((synth_home.prima_db, home.prima_db), (synth_home.warehouse_db, home.warehouse_db))
    for src, dst in pairs:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return home


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """The demo sets passphrase variables in os.environ (Demo.prepare/keys, as a real run
    must); without this a later test on the same worker opens its keys with them."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
