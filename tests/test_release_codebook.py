"""The codebook (Frictionless datapackage.json) of a release."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from primex.catalogue import load_catalogue
from primex.errors import PrimexError
from primex.release.codebook import build_codebook
from primex.release.manifest import collect_protected


def _folder(tmp_path: Path) -> Path:
    protected = tmp_path / "R" / "protected"
    protected.mkdir(parents=True)
    table = pa.table({
        "pseudonym": pa.array(["ab" * 16], pa.string()),
        "age": pa.array([23], pa.int16()),
        "category": pa.array([2], pa.int16()),
        "student": pa.array([True]),
        "amount": pa.array([812.5], pa.float64()),
        "position_group_exit_p4q": pa.array(["employee"]),
        "wage_class_entry_m4q": pa.array([3], pa.int8()),
        "mystery": pa.array([1], pa.int64()),
    })
    pq.write_table(table, protected / "spells.parquet")
    (protected / "notes.txt").write_text("not a table\n")
    return protected


def test_parquet_codebook(tmp_path: Path) -> None:
    protected = _folder(tmp_path)
    manifest = collect_protected(protected.parent)
    book = build_codebook(protected, manifest, request_id="REQ-2026-0007", title="A title")
    assert book["profile"] == "data-package" and book["id"] == "REQ-2026-0007"
    resources = {r["path"]: r for r in book["resources"]}
    spells = resources["data/spells.parquet"]
    data = (protected / "spells.parquet").read_bytes()
    assert spells["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert spells["bytes"] == len(data)
    fields = {f["name"]: f for f in spells["schema"]["fields"]}
    catalogue = load_catalogue()
    assert fields["age"]["type"] == "integer"
    assert fields["age"]["description"] == catalogue.get("age").description
    assert fields["age"]["labels"] == {"fr": "Âge", "nl": "Leeftijd"}
    # integer categories keep the field's type, as Frictionless requires
    assert [c["value"] for c in fields["category"]["categories"]] == [1, 2, 3]
    assert fields["student"]["type"] == "boolean"
    assert fields["amount"]["type"] == "number"
    assert "pseudonym" in fields["pseudonym"]["description"].lower()
    linked = fields["position_group_exit_p4q"]["description"]
    assert linked.startswith(catalogue.get("position_group").description)
    assert "4 quarter(s) after the spell's exit (exit+4q)" in linked
    assert "4 quarter(s) before the spell's entry (entry-4q)" in (
        fields["wage_class_entry_m4q"]["description"]
    )
    assert fields["mystery"]["description"].startswith("Not a catalogue variable")
    assert "schema" not in resources["data/notes.txt"]  # not a table: listed, not described


def test_damaged_parquet_is_a_clear_error(tmp_path: Path) -> None:
    protected = _folder(tmp_path)
    (protected / "spells.parquet").write_bytes(b"PAR1 truncated")
    manifest = collect_protected(protected.parent)
    with pytest.raises(PrimexError, match=r"cannot read the columns of spells\.parquet"):
        build_codebook(protected, manifest, request_id="R", title="t")
