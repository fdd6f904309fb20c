"""Chain of custody between the SPP extraction and the BCSS coding (issue 14 #6, contract
C1) and the SPP record key (contract C2), end to end through the CLI."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from custody_fixtures import Site, make_site
from linkage_helpers import P1, P2, ref_record_key

from primex.audit.canonical import sha256_hex
from primex.extract.manifest import sha256_file


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    return make_site(tmp_path, monkeypatch)


def _codings(site: Site, request: str) -> list:  # type: ignore[type-arg]
    return [e for e in site.log.entries(request) if e.type == "coding"]


def _refused(site: Site, request: str, capsys: pytest.CaptureFixture[str],
             extract: Path | None = None) -> str:
    capsys.readouterr()
    assert site.code(request, extract) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not (site.home.bcss_work / request).exists()  # nothing written
    assert _codings(site, request) == []
    return err


# --- C1: the coding step takes only the extract the SPP recorded ---------------------------
def test_an_extract_edited_between_extraction_and_coding_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    request = site.approved()
    extract = site.extract(request)
    table = pq.read_table(extract)
    # a careless (or hostile) edit of the SPP's file before it is sent: one person removed,
    # the file's own manifest.json "fixed" to match
    pq.write_table(table.slice(1), extract)
    manifest = extract.parent / "manifest.json"
    manifest.write_text(manifest.read_text().replace(
        site.log.entries(request)[-1].body["manifest"]["files"][0]["sha256"],
        sha256_file(extract)))
    err = _refused(site, request, capsys)
    assert "not the one the SPP recorded" in err


def test_an_extraction_event_without_a_manifest_proves_nothing(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    """The SPP operator's key signs an extraction that records no manifest of its files
    (only a hash): the coding must refuse, whatever file it is given (old code accepted)."""
    request = site.approved()
    extract = site.extract(request)
    site.log.append("extraction", request, {"manifest_sha256": sha256_file(extract)},
                    site.signers["spp"])
    err = _refused(site, request, capsys)
    assert "records no manifest" in err


def test_a_manifest_that_does_not_hash_to_its_recorded_hash_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    request = site.approved()
    extract = site.extract(request)
    manifest = site.log.entries(request)[-1].body["manifest"]
    pq.write_table(pq.read_table(extract).slice(1), extract)
    forged = {**manifest, "files": [{"name": "extract.parquet", "sha256": sha256_file(extract),
                                     "bytes": extract.stat().st_size}]}
    site.log.append("extraction", request,
                    {"manifest_sha256": sha256_hex(manifest), "manifest": forged},
                    site.signers["spp"])
    err = _refused(site, request, capsys)
    assert "records no manifest" in err


def test_the_recorded_extract_is_coded_and_its_hash_recorded(site: Site) -> None:
    request = site.approved()
    extract = site.extract(request)
    assert site.code(request) == 0
    (coding,) = _codings(site, request)
    inputs = coding.body["manifest"]["inputs"]
    assert inputs == [{"name": "extract.parquet", "bytes": extract.stat().st_size,
                       "sha256": sha256_file(extract)}]
    files = {f["name"]: f["sha256"] for f in coding.body["manifest"]["files"]}
    assert files["coded.parquet"] == sha256_file(site.coded_path(request))


# --- C2: the SPP record key ----------------------------------------------------------------
def test_the_record_key_is_stable_across_requests_and_passes_through_the_coding(
    site: Site,
) -> None:
    first, second = site.approved(1), site.approved(2, benefits="RI")
    keys: dict[str, dict[str, bytes]] = {}
    for request in (first, second):
        extract = site.extract(request)
        assert site.code(request) == 0
        table = pq.read_table(extract)
        assert table.schema.field("spp_record_key").type == pa.binary(16)
        keys[request] = dict(zip(table.column("niss").to_pylist(),
                                 table.column("spp_record_key").to_pylist(), strict=True))
        coded = pq.read_table(site.coded_path(request))
        assert coded.schema.field("spp_record_key").type == pa.binary(16)
        by_record = dict(zip(table.column("record_id").to_pylist(),
                             table.column("spp_record_key").to_pylist(), strict=True))
        assert dict(zip(coded.column("record_id").to_pylist(),
                        coded.column("spp_record_key").to_pylist(), strict=True)) == by_record
    secret = (site.home.spp / "record.key").read_bytes()
    assert keys[first][P1] == keys[second][P1] == ref_record_key(secret, P1)
    assert keys[first][P2] == ref_record_key(secret, P2) != keys[first][P1]
    # pseudonyms differ per project; the record key does not
    assert len(secret) == 32
    assert stat.S_IMODE((site.home.spp / "record.key").stat().st_mode) == 0o600


def test_the_record_key_is_described_and_never_written_anywhere_else(
    site: Site, capsys: pytest.CaptureFixture[str],
) -> None:
    request = site.approved()
    capsys.readouterr()
    extract = site.extract(request)
    assert site.code(request) == 0
    printed = capsys.readouterr()
    manifest = site.log.entries(request)[-2].body["manifest"]
    assert "spp_record_key" in manifest["columns"]
    assert manifest["record_key_id"].startswith("r1:")
    field = pq.read_schema(extract).field("spp_record_key")
    assert b"HMAC-SHA-256" in field.metadata[b"description"]
    secret = (site.home.spp / "record.key").read_bytes()
    forms = [secret, secret.hex().encode(), base64.b64encode(secret)]
    holders = [p.relative_to(site.home.root).as_posix()
               for p in site.home.root.rglob("*") if p.is_file()
               and any(f in p.read_bytes() for f in forms)]
    assert holders == ["spp/record.key"]
    assert not any(f.decode() in printed.out + printed.err for f in forms[1:])


def test_a_record_key_column_of_another_type_is_refused(
    site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """Only the SPP's binary keys pass through under that name (a text column named
    spp_record_key would otherwise escape every check meant for text)."""
    request = site.approved()
    table = pq.read_table(site.extract(request))
    i = table.column_names.index("spp_record_key")
    table = table.set_column(i, "spp_record_key", pa.array(
        [v.hex() for v in table.column(i).to_pylist()]))
    meta = {**table.schema.metadata, b"primex.request": b"REQ-OFF-LOG"}
    forged = tmp_path / "forged" / "extract.parquet"
    forged.parent.mkdir()
    pq.write_table(table.replace_schema_metadata(meta), forged)
    out = tmp_path / "out" / "coded.parquet"
    capsys.readouterr()
    assert site.cli("linkage", "code", "--request", "REQ-OFF-LOG", "--in", str(forged),
                    "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "fixed_size_binary(16)" in err and len(err.strip().splitlines()) == 1
    assert not out.parent.exists()
