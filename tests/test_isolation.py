"""Tests never depend on the caller's working directory or environment (issue: `make demo`
then `make test` failed because a test read the demo's ./primex-home).

The proof runs CLI-level tests in a child pytest whose working directory holds a poisoned
./primex-home and whose environment carries a poisoned PRIMEX_HOME and other PRIMEX_*
variables: the tests pass, and the poison is untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from primex.commands.common import STATE
from primex.home import Home

ROOT = Path(__file__).resolve().parents[1]
# Tests that call the CLI without --home (so they resolve the default home), plus the test
# that failed after `make demo`.
CLI_TESTS = [
    "tests/test_requests_validate.py::test_validate_command_prints_all_problems_and_exits_2",
    "tests/test_requests_validate.py::test_missing_file_is_one_clean_error",
    "tests/test_isolation.py::test_each_test_gets_its_own_empty_home",
]


def _poisoned_home(root: Path) -> Path:
    """A home whose PRIMA snapshot covers other months than any test expects; any test that
    read it would report an extra `outside the available data` problem."""
    import duckdb

    root.mkdir(parents=True)
    (root / "spp").mkdir()
    with duckdb.connect(str(root / "spp" / "prima.duckdb")) as con:
        con.execute("CREATE TABLE snapshot (start_month DATE, months INTEGER)")
        con.execute("INSERT INTO snapshot VALUES (DATE '1999-01-01', 3)")
    return root


def _fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def test_each_test_gets_its_own_empty_home() -> None:
    home = Home.resolve()
    assert not home.root.exists()  # fresh and empty: nothing of the caller's
    assert home.root.parent.name.startswith("home")
    assert not [n for n in os.environ if n.startswith("PRIMEX_") and n != "PRIMEX_HOME"]
    assert STATE.home is None


def test_poisoned_cwd_and_environment_change_nothing(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    local = _poisoned_home(cwd / "primex-home")
    env_home = _poisoned_home(tmp_path / "env-home")
    before = (_fingerprint(local), _fingerprint(env_home))
    env = {
        **os.environ,
        "PRIMEX_HOME": str(env_home),
        "PRIMEX_PASSPHRASE": "poison",
        "PRIMEX_LINKAGE_PASSPHRASE": "poison",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
         *[str(ROOT / t) for t in CLI_TESTS]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"{len(CLI_TESTS)} passed" in done.stdout
    assert (_fingerprint(local), _fingerprint(env_home)) == before


def test_the_poison_would_be_seen_without_isolation(tmp_path: Path) -> None:
    """The poisoned home really changes the validator's answer (else the test above could
    not fail): the same request validated against it reports the period as out of the data."""
    from primex.requests.validate import validate_file

    home = Home.resolve(_poisoned_home(tmp_path / "poison"))
    checked = validate_file(ROOT / "examples" / "requests" / "ri-by-arrondissement.yaml",
                            home=home)
    assert any("outside the available data" in p.what for p in checked.problems)


def test_tests_import_their_helpers_by_module_name() -> None:
    """`make test` runs the pytest script, which does not put the repository root on
    sys.path: `from tests.x import ...` works only when a developer runs `python -m pytest`
    from the root, and then fails in CI (it did once)."""
    bad = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith(("from tests.", "import tests"))
    ]
    assert not bad, "import helpers as `from release_chain import ...`: " + ", ".join(bad)
