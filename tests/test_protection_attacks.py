"""Issue 14 #3 and #13 end to end through `primex disclosure protect`, on coded extracts as
the BCSS returns them: pseudonyms keyed per project (two requests share none), the SPP record
key the same for a person in every request.

* #3: a researcher resubmits a tables request as a new project with
  `population.filters.household_size: {min: 1, max: 12}`, which drops exactly one person.
  Comparing the two releases must not isolate that person: the differencing cells are
  suppressed.
* #13: the same cell-key spec submitted twice must give the same published value in every
  cell, so that averaging releases removes no noise."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from release_chain import PASS, Chain, make_chain, no_fsync  # noqa: F401
from sdc_fixtures import project_pseudonym, spp_record_key, write_coded

from primex.audit.canonical import sha256_hex
from primex.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = (REPO / "examples" / "requests" / "ri-by-arrondissement.yaml").read_text("utf-8")
FILTER = "  period: {start: 2022Q1, end: 2023Q2}\n"


def _coded(project: str, people: range) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 2000
    frame = pd.DataFrame({
        "arrondissement": rng.choice(["21000", "62000", "44000"], n),
        "category": rng.choice(["1", "2", "3"], n),
        "entry_quarter": rng.choice(["2022Q1", "2022Q2"], n),
    })
    frame["pseudonym"] = [project_pseudonym(project, i) for i in range(n)]
    frame["spp_record_key"] = [spp_record_key(i) for i in range(n)]
    return frame.iloc[list(people)].reset_index(drop=True)


def _request(chain: Chain, spec_text: str, coded: pd.DataFrame) -> str:
    """Submitted, approved, extracted and coded (the coding entry records coded.parquet)."""
    key = chain.ids["alice"].encryption_public_key
    raw = re.sub(r"primex-x25519:[A-Za-z0-9+/=]+", key, spec_text).encode()
    sha = hashlib.sha256(raw).hexdigest()
    chain.home.ensure(chain.home.requests)
    (chain.home.requests / f"{sha}.yaml").write_bytes(raw)
    log, s = chain.log, chain.signers
    rid = log.append("submission", None, {"spec_sha256": sha, "title": "RI by arrondissement",
                                          "organisation": "ULiège"}, s["alice"]).request
    assert rid is not None
    log.append("approval", rid, {"spec_sha256": sha, "conditions": {}}, s["olivia"])
    extract = {"files": [{"name": "extract.parquet", "bytes": 1, "sha256": "a" * 64}]}
    log.append("extraction", rid, {"manifest_sha256": sha256_hex(extract),
                                   "manifest": extract}, s["spp"])
    path = write_coded(coded, chain.home.spp_work / rid / "coded.parquet")
    data = path.read_bytes()
    manifest = {"files": [{"name": "coded.parquet", "bytes": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()}]}
    log.append("coding", rid, {"manifest_sha256": sha256_hex(manifest), "key_id": "k-1",
                               "manifest": manifest}, s["bob"])
    return rid


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    return make_chain(tmp_path)


def _published(chain: Chain, rid: str) -> pd.DataFrame:
    path = chain.home.spp_work / rid / "protected" / "ri_by_arrondissement.csv"
    return pd.read_csv(path, dtype=str).assign(value=lambda d: d["count"].astype(float))


def test_a_resubmission_one_person_smaller_is_not_released_as_is(chain: Chain) -> None:
    first = _request(chain, EXAMPLE, _coded("project-1", range(2000)))
    home = ["--home", str(chain.home.root)]
    assert main([*home, "disclosure", "protect", first, "--as", "spp"]) == 0
    nested = EXAMPLE.replace(FILTER, FILTER + "  filters:\n    household_size: {min: 1, max: 12}\n")
    assert nested != EXAMPLE
    # the filter drops person 0 (the only household of 13); the BCSS codes it as a new project
    second = _request(chain, nested, _coded("project-2", range(1, 2000)))
    assert main([*home, "disclosure", "protect", second, "--as", "spp"]) == 0
    dims = ["arrondissement", "category", "entry_quarter"]
    both = _published(chain, first).merge(_published(chain, second), on=dims,
                                          suffixes=("_1", "_2"))
    diff = (both["value_1"] - both["value_2"]).abs()
    isolating = both[(diff >= 1) & (diff < 10)]
    assert isolating.empty, isolating
    # the grand total (2000 vs 1999) is among the suppressed cells of the second release
    total = both[(both[dims] == "*").all(axis=1)]
    assert total["value_2"].isna().all()
    chain.log.refresh()
    result = chain.log.entries(second)[-1]
    assert result.type == "disclosure_result" and result.body["passed"] is True
    assert "cells forced by the differencing ledger" in (
        chain.home.spp_work / second / "protected" / "disclosure-report.md").read_text()


SOCIO = (REPO / "examples" / "requests" / "socio-geographic.yaml").read_text("utf-8")


def _socio(project: str) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame({
        "province": rng.choice(["10000", "20001", "30000", "40000"], n),
        "sex": rng.choice(["F", "M"], n),
        "age": rng.integers(18, 30, n).astype(str),
        "nationality_group": rng.choice(["BE", "EU", "non-EU"], n),
        "household_type": rng.choice(["single", "couple", "lone_parent"], n),
        "category": rng.choice(["1", "2", "3"], n),
        "amount": rng.uniform(600, 1600, n).round(2),
    })
    frame["pseudonym"] = [project_pseudonym(project, i) for i in range(n)]
    frame["spp_record_key"] = [spp_record_key(i) for i in range(n)]
    return frame


def test_the_same_cell_key_spec_twice_publishes_the_same_values(chain: Chain) -> None:
    home = ["--home", str(chain.home.root)]
    first = _request(chain, SOCIO, _socio("project-1"))
    second = _request(chain, SOCIO, _socio("project-2"))
    for rid in (first, second):
        assert main([*home, "disclosure", "protect", rid, "--as", "spp"]) == 0
    for name in ("beneficiaries_by_province_sex_age", "beneficiaries_by_nationality_household"):
        a, b = (pd.read_csv(chain.home.spp_work / rid / "protected" / f"{name}.csv", dtype=str)
                for rid in (first, second))
        assert len(a) >= 80 and a.drop(columns="count").equals(b.drop(columns="count"))
        assert (a["count"] == b["count"]).mean() == 1.0, name
