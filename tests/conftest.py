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

Isolation: every test runs with no `PRIMEX_*` variable of the caller and with `PRIMEX_HOME`
pointing at a fresh temporary folder of its own, so neither `./primex-home` (left by
`make demo`) nor the caller's environment can change a result (tests/test_isolation.py).

Hypothesis: the `ci` profile (default, used by `make test`) is derandomised and keeps no
example database, so a run passes or fails the same way every time. `make fuzz` selects the
`fuzz` profile (PRIMEX_HYPOTHESIS_PROFILE=fuzz): random seeds and every property run with
PRIMEX_FUZZ_FACTOR times its examples (at least PRIMEX_FUZZ_MIN), printing any failing example.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from primex.home import Home
from primex.synthetic import SynthConfig, generate

SYNTH_PARAMS = {"persons": 3000, "start": "2023-07", "months": 24, "seed": 20240501}

# Read before the isolation fixture clears PRIMEX_*: they choose how this pytest run explores.
PROFILE = os.environ.get("PRIMEX_HYPOTHESIS_PROFILE", "ci")
FUZZ_FACTOR = int(os.environ.get("PRIMEX_FUZZ_FACTOR", "100"))
FUZZ_MIN = int(os.environ.get("PRIMEX_FUZZ_MIN", "2000"))

settings.register_profile(
    "ci",
    derandomize=True,  # a fixed seed per test: CI never passes or fails by luck
    database=None,
    deadline=None,  # timing on a shared machine is noise, not a property
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(PROFILE)


def _scaled(current: settings, cap: int | None) -> settings:
    """The test's own settings with many more examples and the fuzz profile's randomness
    (explicit `@settings(max_examples=...)` would otherwise win over the profile). `cap`
    (marker `fuzz_cap`) bounds properties whose single example is expensive."""
    examples = max(current.max_examples * FUZZ_FACTOR, FUZZ_MIN)
    return settings(
        current,
        max_examples=min(examples, cap) if cap else examples,
        derandomize=False,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PROFILE != "fuzz":
        return
    done: set[int] = set()
    properties: list[pytest.Item] = []
    for item in items:
        test = getattr(item, "obj", None)
        cls = getattr(item, "cls", None)
        if cls is not None and isinstance(getattr(cls, "settings", None), settings):
            target, attr = cls, "settings"  # a RuleBasedStateMachine's TestCase
        elif hasattr(test, "_hypothesis_internal_use_settings"):
            target, attr = test, "_hypothesis_internal_use_settings"
        else:
            continue
        properties.append(item)
        if id(target) not in done:
            done.add(id(target))
            marker = item.get_closest_marker("fuzz_cap")
            cap = int(marker.args[0]) if marker else None
            setattr(target, attr, _scaled(getattr(target, attr), cap))
    # `make fuzz` explores properties only; the example-based tests ran in `make test`.
    config.hook.pytest_deselected(items=[i for i in items if i not in properties])
    items[:] = properties


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
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test sees the caller's PRIMEX_* variables or the working directory's
    ./primex-home: each gets an empty home folder of its own by default."""
    for name in [n for n in os.environ if n.startswith("PRIMEX_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PRIMEX_HOME", str(tmp_path_factory.mktemp("home") / "primex-home"))
    from primex.commands.common import STATE

    monkeypatch.setattr(STATE, "home", None)


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """The demo sets passphrase variables in os.environ (Demo.prepare/keys, as a real run
    must); without this a later test on the same worker opens its keys with them."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
