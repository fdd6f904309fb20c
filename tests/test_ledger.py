"""The release ledger catches differencing across releases (the classic attack)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from primex import cli
from primex.errors import PrimexError
from primex.home import Home
from primex.protection.ledger import ReleaseLedger
from primex.sdc.tables import protect_table

# the threshold, and tau-Argus' defaults for the audit's protection levels
RULES = {"min_count": 5, "safety_range": 10, "min_interval": 1}


def _pop(n: int = 300, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"pid": [f"P{i:04d}" for i in range(n)],
                         "region": rng.choice(["N", "S"], n),
                         "cat": rng.choice(["RI", "ERIS"], n)})


def test_two_tables_whose_populations_differ_by_one_person_are_caught(tmp_path: Path) -> None:
    pop = _pop()
    first = protect_table(pop, ["region", "cat"], rules=RULES)
    assert first.passed
    with ReleaseLedger(tmp_path / "ledger.duckdb") as ledger:
        ledger.record("R1", "prima-2025Q1", first, pop["pid"])
        # Next quarter: the same population plus one person (a RI recipient in region N).
        newcomer = pd.DataFrame({"pid": ["P9999"], "region": ["N"], "cat": ["RI"]})
        second_pop = pd.concat([pop, newcomer], ignore_index=True)
        second = protect_table(second_pop, ["region", "cat"], rules=RULES)
        flags = ledger.check("prima-2025Q1", second, second_pop["pid"], threshold=5)
        # Every published cell containing the newcomer differs by exactly one person.
        assert set(map(tuple, flags[["region", "cat"]].to_numpy())) == {
            ("N", "RI"), ("N", "*"), ("*", "RI"), ("*", "*")}
        assert (flags["isolated"] == 1).all()
        # Suppressing them (and what protects them) removes every differencing path.
        fixed = protect_table(second_pop, ["region", "cat"], rules=RULES,
                              force_suppress=flags[["region", "cat"]])
        assert fixed.passed
        assert ledger.check("prima-2025Q1", fixed, second_pop["pid"], threshold=5).empty
        # Another data set is not compared.
        assert ledger.check("bcss-dwh", second, second_pop["pid"], threshold=5).empty


def test_large_population_changes_are_not_flagged(tmp_path: Path) -> None:
    pop = _pop()
    with ReleaseLedger(tmp_path / "l.duckdb") as ledger:
        ledger.record("R1", "d", protect_table(pop, ["region"], rules=RULES), pop["pid"])
        bigger = pd.concat([pop, _pop(40, 9).assign(pid=lambda d: "Q" + d["pid"])],
                           ignore_index=True)
        t = protect_table(bigger, ["region"], rules=RULES)
        # 40 newcomers spread over two regions: every difference is >= 5 people
        flags = ledger.check("d", t, bigger["pid"], threshold=5)
        assert flags.empty


def test_nested_breakdown_of_a_released_total_is_caught(tmp_path: Path) -> None:
    pop = _pop()
    with ReleaseLedger(tmp_path / "l.duckdb") as ledger:
        ledger.record("R1", "d", protect_table(pop, ["region"], rules=RULES), pop["pid"])
        # A later table on the population minus two people: their region total differs by 2.
        fewer = pop.iloc[2:].reset_index(drop=True)
        t = protect_table(fewer, ["region"], rules=RULES)
        flags = ledger.check("d", t, fewer["pid"], threshold=5)
        assert set(flags["isolated"]) <= {1, 2} and len(flags) >= 2


def test_ledger_refuses_duplicates_and_failed_tables(tmp_path: Path) -> None:
    pop = _pop(60)
    t = protect_table(pop, ["region"], rules=RULES)
    with ReleaseLedger(tmp_path / "l.duckdb") as ledger:
        ledger.record("R1", "d", t, pop["pid"])
        with pytest.raises(PrimexError, match="already in the ledger"):
            ledger.record("R1", "d", t, pop["pid"])
        t.report["passed"] = False
        with pytest.raises(PrimexError, match="failed its audit"):
            ledger.record("R2", "d", t, pop["pid"])
        with pytest.raises(PrimexError, match="pseudonyms for"):
            ledger.check("d", protect_table(pop, ["region"], rules=RULES), pop["pid"][:3], 5)


def test_cli_records_then_refuses_a_one_person_difference(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path / "home")
    pop = _pop()
    pop.to_csv(tmp_path / "q1.csv", index=False)
    args = ["--home", str(home.root), "disclosure", "table"]
    common = ["--dims", "region,cat", "--min-count", "5", "--pseudonym", "pid",
              "--data-id", "prima"]
    assert cli.main([*args, str(tmp_path / "q1.csv"), *common, "--release-id", "Q1",
                     "--out", str(tmp_path / "o1")]) == 0
    assert home.ledger_db.exists()
    plus = pd.concat([pop, pd.DataFrame({"pid": ["P9999"], "region": ["N"], "cat": ["RI"]})])
    plus.to_csv(tmp_path / "q2.csv", index=False)
    # The CLI suppresses the differencing cells itself and records the safe table.
    assert cli.main([*args, str(tmp_path / "q2.csv"), *common, "--release-id", "Q2",
                     "--out", str(tmp_path / "o2")]) == 0
    out = pd.read_csv(tmp_path / "o2" / "table.csv", dtype=str)
    hidden = out[out.status.isin(["u", "x"])]
    assert {("N", "RI"), ("*", "*")} <= set(map(tuple, hidden[["region", "cat"]].to_numpy()))


def test_a_ledger_keyed_by_pseudonyms_is_refused_not_trusted(tmp_path: Path) -> None:
    """A ledger from before the SPP record key holds per-project pseudonyms, which never
    match another request's: it cannot prove anything, so it is refused with a clear line."""
    import duckdb

    path = tmp_path / "ledger.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE members (release_id VARCHAR NOT NULL, "
                    "pseudonym VARCHAR NOT NULL, leaf VARCHAR NOT NULL)")
    with pytest.raises(PrimexError, match="predates the SPP record key"):
        ReleaseLedger(path)
