"""The protection step of a request: parameters in force, outputs, the report, and the
release ledger catching the classic differencing attack across two table requests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from primex.errors import PrimexError
from primex.home import Home
from primex.protection.step import effective_policy, protect_request
from primex.release.manifest import collect_protected
from primex.requests.spec import RequestSpec

KEY = "primex-x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def _spec(
    output: dict, disclosure: dict | None = None, variables: list[str] | None = None
) -> RequestSpec:
    return RequestSpec.model_validate(
        {
            "title": "A test request for the protection step",
            "requester": {
                "organisation": "Test centre",
                "contact": "t@example.org",
                "public_key": KEY,
            },
            "purpose": "Testing the protection step of primex with synthetic data only. " * 3,
            "legal_basis": "CSI deliberation 24/001",
            "retention_until": dt.date(2030, 1, 1),
            "population": {"benefits": ["RI"], "period": {"start": "2023-01", "end": "2023-12"}},
            "variables": variables or ["region", "sex", "category"],
            "output": output,
            "disclosure": disclosure or {},
        }
    )


def _coded(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pseudonym": [f"{i:032x}" for i in range(n)],
            "record_id": [str(i) for i in range(n)],
            "region": rng.choice(["02000", "03000", "04000"], size=n, p=[0.25, 0.46, 0.29]),
            "sex": rng.choice(["F", "M"], size=n),
            "category": rng.choice([1, 2, 3], size=n).astype("int16"),
        }
    )


def _run(
    tmp_path: Path, name: str, spec: RequestSpec, data: pd.DataFrame, conditions: dict | None = None
):  # type: ignore[no-untyped-def]
    home = Home.resolve(tmp_path / "home")
    work = home.spp_work / name
    work.mkdir(parents=True, exist_ok=True)
    data.to_parquet(work / "coded.parquet", index=False)
    return protect_request(
        home, name, spec, conditions, work / "coded.parquet", work, manifest_fn=collect_protected
    )


def test_officer_conditions_tighten_and_never_loosen() -> None:
    spec = _spec({"kind": "microdata"}, {"k": 7})
    assert effective_policy(spec, None).microdata.k == 7
    tightened = effective_policy(spec, {"disclosure": {"k": 9, "max_suppression": "0.01"}})
    assert tightened.microdata.k == 9 and tightened.microdata.max_suppression == 0.01
    with pytest.raises(PrimexError, match="looser"):
        effective_policy(spec, {"disclosure": {"k": 3}})


def test_microdata_release_is_k_anonymous_and_drops_identifiers(tmp_path: Path) -> None:
    data = _coded(600)
    out = _run(tmp_path, "REQ-2026-0001", _spec({"kind": "microdata"}, {"k": 5}), data)
    assert out.passed
    released = pd.read_parquet(out.files[0])
    assert not {"pseudonym", "record_id", "niss"} & set(released.columns)
    sizes = released.groupby(["region", "sex", "category"], dropna=False).size()
    assert sizes[sizes.index.to_frame().notna().all(axis=1)].min() >= 5
    report = json.loads((out.files[0].parent / "disclosure-report.json").read_text())
    assert (
        report["passed"]
        and report["manifest_sha256"] == collect_protected(out.files[0].parent.parent).sha256
    )
    assert report["parameters"]["microdata"]["k"] == 5


def test_a_niss_column_is_refused(tmp_path: Path) -> None:
    data = _coded(50).assign(niss="93051822361")
    with pytest.raises(PrimexError, match="NISS"):
        _run(tmp_path, "REQ-2026-0002", _spec({"kind": "microdata"}), data)


def test_differencing_two_tables_one_person_apart_is_caught(tmp_path: Path) -> None:
    table = {
        "kind": "tables",
        "format": "csv",
        "tables": [{"name": "by_region_sex", "dimensions": ["region", "sex"]}],
    }
    spec = _spec(table, {"min_count": 10})
    data = _coded(900, seed=3)
    first = _run(tmp_path, "REQ-2026-0010", spec, data)
    assert first.passed
    # The second population is the first one minus one person: publishing both tables as
    # they are would reveal that person's region and sex by subtraction.
    second = _run(tmp_path, "REQ-2026-0011", spec, data.iloc[1:].reset_index(drop=True))
    assert second.passed
    flags = second.report["details"]["tables"]["by_region_sex"]["differencing_flags"]
    assert flags >= 1
    pub1 = pd.read_csv(first.files[0], dtype={"region": str})
    pub2 = pd.read_csv(second.files[0], dtype={"region": str})
    both = pub1.merge(pub2, on=["region", "sex"], suffixes=("_1", "_2"))
    diff = (both["value_1"] - both["value_2"]).abs()
    # no published pair of cells differs by 1..9 people any more
    assert not ((diff >= 1) & (diff < 10)).any(), both[(diff >= 1) & (diff < 10)]
