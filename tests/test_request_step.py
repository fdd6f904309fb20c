"""The protection step of a request: parameters in force, outputs, the report, and the
release ledger catching the classic differencing attack across two table requests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sdc_fixtures import project_pseudonym, spp_record_key, write_coded

from primex.errors import PrimexError
from primex.home import Home
from primex.protection.ledger import ReleaseLedger
from primex.protection.step import LEDGER_ROUNDS, effective_policy, protect_request
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


def _coded(n: int, seed: int = 1, project: str = "P1") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pseudonym": [project_pseudonym(project, i) for i in range(n)],
            "spp_record_key": [spp_record_key(i) for i in range(n)],
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
    write_coded(data, work / "coded.parquet")
    return protect_request(
        home, name, spec, conditions, work / "coded.parquet", work, manifest_fn=collect_protected,
        check_input=None,
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
    diff = (both["count_1"] - both["count_2"]).abs()
    # no published pair of cells differs by 1..9 people any more
    assert not ((diff >= 1) & (diff < 10)).any(), both[(diff >= 1) & (diff < 10)]


TABLE = {
    "kind": "tables",
    "format": "csv",
    "tables": [{"name": "by_region_sex", "dimensions": ["region", "sex"]}],
}


def test_a_nested_population_in_another_project_is_caught_by_the_record_key(
    tmp_path: Path,
) -> None:
    """Issue 14 #3: two requests never share a pseudonym (keyed per project), so a ledger on
    pseudonyms never fires. The resubmission drops exactly one person (a household_size
    filter): keyed by the SPP record key, the differencing cells are suppressed."""
    spec = _spec(TABLE, {"min_count": 10})
    first = _run(tmp_path, "REQ-2026-0010", spec, _coded(900, seed=3, project="P1"))
    second_data = _coded(900, seed=3, project="P2").iloc[1:].reset_index(drop=True)
    assert not set(second_data["pseudonym"]) & set(_coded(900, seed=3)["pseudonym"])
    second = _run(tmp_path, "REQ-2026-0011", spec, second_data)
    assert first.passed and second.passed
    assert second.report["details"]["tables"]["by_region_sex"]["differencing_flags"] >= 1
    pub1 = pd.read_csv(first.files[0], dtype={"region": str})
    pub2 = pd.read_csv(second.files[0], dtype={"region": str})
    both = pub1.merge(pub2, on=["region", "sex"], suffixes=("_1", "_2"))
    diff = (both["count_1"] - both["count_2"]).abs()
    assert not ((diff >= 1) & (diff < 10)).any(), both[(diff >= 1) & (diff < 10)]
    # The grand total 900 vs 899 would isolate the dropped person: it is not published.
    total = both[(both["region"] == "*") & (both["sex"] == "*")]
    assert total["count_2"].isna().all()


def test_the_reprotection_loop_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger that still flags cells after the last round of re-protection: the step
    refuses with a clear message instead of releasing the tables."""
    spec = _spec(TABLE, {"min_count": 10})
    calls = []

    def always_flags(self, data_id, pt, members, threshold):  # type: ignore[no-untyped-def]
        calls.append(1)
        cell = pt.cells[~pt.cells["status"].isin(["u", "x"])].head(1)
        return cell[pt.dimensions].assign(release_id="R0", earlier_cell="*", isolated=1)

    monkeypatch.setattr(ReleaseLedger, "check", always_flags)
    with pytest.raises(PrimexError, match="rounds of re-protection") as err:
        _run(tmp_path, "REQ-2026-0012", spec, _coded(900, seed=3))
    assert "nothing is released" in err.value.what and len(calls) == LEDGER_ROUNDS
    out = tmp_path / "home" / "spp" / "work" / "REQ-2026-0012" / "protected"
    assert not any(p.suffix == ".csv" for p in out.iterdir())


def test_cell_key_noise_is_the_same_in_every_request(tmp_path: Path) -> None:
    """Issue 14 #13: the same spec resubmitted (another project, other pseudonyms) gets the
    same published value in 100 % of the cells; averaging releases removes no noise."""
    spec = _spec({**TABLE, "method": "cell_key"})
    first = _run(tmp_path, "REQ-2026-0020", spec, _coded(900, seed=5, project="P1"))
    second = _run(tmp_path, "REQ-2026-0021", spec, _coded(900, seed=5, project="P2"))
    a = pd.read_csv(first.files[0], dtype={"region": str})
    b = pd.read_csv(second.files[0], dtype={"region": str})
    assert len(a) == 12 and a[["region", "sex"]].equals(b[["region", "sex"]])
    assert (a["count"] == b["count"]).mean() == 1.0
    # the noise is real: some published counts differ from the true counts
    truth = _coded(900, seed=5).groupby(["region", "sex"]).size()
    leaves = a[(a["region"] != "*") & (a["sex"] != "*")].set_index(["region", "sex"])["count"]
    assert (leaves != truth.reindex(leaves.index)).any()


@pytest.mark.parametrize("output", [{"kind": "microdata"}, TABLE])
def test_the_record_key_never_leaves(tmp_path: Path, output: dict) -> None:
    result = _run(tmp_path, "REQ-2026-0030", _spec(output), _coded(900, seed=2))
    assert result.passed and result.files
    for path in result.files:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        assert "spp_record_key" not in frame.columns and "pseudonym" not in frame.columns
    report = (path.parent / "disclosure-report.json").read_text()
    assert "spp_record_key" not in report


def test_tables_without_the_record_key_are_refused(tmp_path: Path) -> None:
    data = _coded(300).drop(columns=["spp_record_key"])
    with pytest.raises(PrimexError, match="no spp_record_key column"):
        _run(tmp_path, "REQ-2026-0031", _spec(TABLE), data)
