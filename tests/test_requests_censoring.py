"""Censored linked outcomes (issue 16 #4): every linked variable carries explicit codes, and
the request decides per linkage block whether unobserved outcomes are kept or dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from primex.catalogue import load_catalogue
from primex.catalogue.censoring import CENSORING_CODES, NOT_APPLICABLE
from primex.exchange.layout import REPORT_JSON
from primex.protection.censoring import apply_censoring, render_markdown
from primex.release.codebook import build_codebook
from primex.release.manifest import manifest_of_files
from primex.requests.spec import Linkage


class Spec:
    def __init__(self, *blocks: Linkage) -> None:
        self.linkage = list(blocks)


def coded() -> pd.DataFrame:
    """Six spells: 4q and 8q after their exit, as the BCSS coding writes them."""
    return pd.DataFrame({
        "sex": ["F", "M", "F", "M", "F", "M"],
        "position_group_exit_p4q": ["employee", "not_observed_running", "job_seeker",
                                    "no_warehouse_record", "not_observed_outside_data",
                                    "inactive"],
        "position_group_exit_p8q": ["employee", "not_observed_running", "not_observed_outside_data",
                                    "no_warehouse_record", "not_observed_outside_data",
                                    "employee"],
        "wage_class_exit_p4q": ["5", "not_observed_running", NOT_APPLICABLE, "no_warehouse_record",
                                "not_observed_outside_data", NOT_APPLICABLE],
    })


def test_every_linked_variable_lists_the_censoring_codes() -> None:
    catalogue = load_catalogue()
    for variable in catalogue:
        if variable.source == "bcss":
            assert set(CENSORING_CODES) <= set(variable.codes), variable.name
    assert NOT_APPLICABLE in catalogue.get("wage_class").codes


def test_keep_is_the_default_and_counts_each_code() -> None:
    block = Linkage.model_validate({"variables": ["position_group", "wage_class"],
                                    "at": ["exit+4q", "exit+8q"]})
    assert block.censored == "keep"
    data, report = apply_censoring(coded(), Spec(block))
    assert len(data) == 6 and report["rows_dropped"] == 0
    (entry,) = report["blocks"]
    # rows 2, 3 and 5 are not observed at one point or the other
    assert entry["rows_not_observed"] == 3
    assert entry["codes"]["position_group_exit_p4q"] == {
        "not_observed_running": 1, "not_observed_outside_data": 1, "no_warehouse_record": 1}
    assert entry["codes"]["wage_class_exit_p4q"] == {
        "not_observed_running": 1, "not_observed_outside_data": 1, "no_warehouse_record": 1,
        NOT_APPLICABLE: 2}


def test_drop_removes_unobserved_outcomes_at_exit_4q_and_8q() -> None:
    block = Linkage.model_validate({"variables": ["position_group"],
                                    "at": ["exit+4q", "exit+8q"], "censored": "drop"})
    data, report = apply_censoring(coded(), Spec(block))
    # kept: observed at both points, or recorded as absent from the warehouse (an outcome)
    assert data["position_group_exit_p4q"].tolist() == ["employee", "no_warehouse_record",
                                                        "inactive"]
    assert report["rows_dropped"] == 3 and report["rows_after"] == 3
    text = "\n".join(render_markdown(report))
    assert "3 rows not observed (dropped before protection)" in text


def test_only_the_dropping_block_removes_rows() -> None:
    keep = Linkage.model_validate({"variables": ["position_group"], "at": ["exit+8q"]})
    drop = Linkage.model_validate({"variables": ["position_group"], "at": ["exit+4q"],
                                   "censored": "drop"})
    data, report = apply_censoring(coded(), Spec(keep, drop))
    assert len(data) == 4  # rows 2 and 5 (not observed at exit+4q)
    assert "not_observed_outside_data" in set(data["position_group_exit_p8q"])
    assert [b["censored"] for b in report["blocks"]] == ["keep", "drop"]


def test_a_bad_censored_value_is_refused() -> None:
    with pytest.raises(ValueError, match="censored"):
        Linkage.model_validate({"variables": ["position_group"], "at": ["exit+4q"],
                                "censored": "ignore"})


def test_the_codebook_says_what_the_request_decided(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    table = pa.table({"group": ["study", "comparison"],
                      "position_group_exit_p4q": ["employee", "not_observed_running"],
                      "wage_class_exit_p8q": ["5", NOT_APPLICABLE]})
    pq.write_table(table, tmp_path / "microdata.parquet")
    keep = Linkage.model_validate({"variables": ["position_group"], "at": ["exit+4q"]})
    drop = Linkage.model_validate({"variables": ["wage_class"], "at": ["exit+8q"],
                                   "censored": "drop"})
    frame = pd.DataFrame({"position_group_exit_p4q": ["employee", "not_observed_running"],
                          "wage_class_exit_p8q": ["5", "not_observed_outside_data"]})
    _data, censoring = apply_censoring(frame, Spec(keep, drop))
    (tmp_path / REPORT_JSON).write_text(json.dumps({
        "censoring": censoring,
        "groups": {"study": {"art60": [True]}, "comparison": {"art60": [False]}}}))
    manifest = manifest_of_files(tmp_path, ["microdata.parquet"])
    book = build_codebook(tmp_path, manifest, request_id="REQ-2026-0001", title="t")
    fields = {f["name"]: f for r in book["resources"] for f in r.get("schema", {}).get(
        "fields", [])}
    assert "censored: keep" in fields["position_group_exit_p4q"]["description"]
    assert "not_observed_running: 1" in fields["position_group_exit_p4q"]["description"]
    assert "censored: drop" in fields["wage_class_exit_p8q"]["description"]
    assert 'study = {"art60": [true]}' in fields["group"]["description"]
    codes = {c["value"] for c in fields["wage_class_exit_p8q"]["categories"]}
    assert {NOT_APPLICABLE, *CENSORING_CODES} <= codes
