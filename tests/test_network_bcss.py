"""The BCSS linkage service over the network (issue 19 #1, #2): signed both ways, a signed
receipt, the extract destroyed, resumable and idempotent transfers."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest
from network_fixtures import CuttingProxy, Sites, bcss_server, make_sites

from primex.errors import IntegrityError, PrimexError
from primex.service.bcss_client import BcssEndpoint, Retry, send_for_coding
from primex.service.httpsig import sign_request


@pytest.fixture
def sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sites:
    return make_sites(tmp_path, monkeypatch)


def _endpoint(url: str, chunk: int = 4096) -> BcssEndpoint:
    return BcssEndpoint(url, "bea", chunk_size=chunk,
                        retry=Retry(attempts=6, base=0.05, cap=0.5, timeout=10))


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.name in ("coded.parquet", "linkage-report.json", "coding-manifest.json")}


def test_coding_over_the_network_with_a_signed_receipt(sites: Sites) -> None:
    request = sites.approved_and_extracted()
    extract = sites.spp.spp_work / request / "extract.parquet"
    with bcss_server(sites) as server:
        out = send_for_coding(sites.spp, request, _endpoint(server.url), sites.signers["spp"])
    receipt = out.receipt
    assert receipt["request"] == request and receipt["extract_destroyed"] is True
    assert receipt["received"]["sha256"] == hashlib.sha256(extract.read_bytes()).hexdigest()
    coded = sites.spp.spp_work / request / "coded.parquet"
    sent = {f["name"]: f for f in receipt["sent"]}
    assert sent["coded.parquet"]["sha256"] == hashlib.sha256(coded.read_bytes()).hexdigest()
    assert receipt["summary"]["rows_in"] >= 1
    # the SPP's log holds the coding entry, signed by the BCSS key, recording the receipt
    entries = sites.log.entries(request)
    assert [e.type for e in entries][-1] == "coding"
    assert entries[-1].actor == "bea" and entries[-1].body["receipt"]["receipt"] == receipt
    assert sites.log.state(request).state == "coded"
    # no extract at the BCSS; no key or warehouse at the SPP
    assert not [p for p in sites.bcss.root.rglob("*") if p.name.startswith("extract")]
    assert not sites.spp.bcss_keystore.exists() and not sites.spp.warehouse_db.exists()


def test_a_cut_connection_resumes_to_the_same_result(sites: Sites) -> None:
    first = sites.approved_and_extracted(1)
    second = sites.approved_and_extracted(2)
    with bcss_server(sites) as server:
        plain = send_for_coding(sites.spp, first, _endpoint(server.url), sites.signers["spp"])
        port = int(server.url.rsplit(":", 1)[1])
        proxy = CuttingProxy(port, after=6000, cuts=3)  # cut three connections mid-upload
        try:
            cut = send_for_coding(sites.spp, second, _endpoint(proxy.url),
                                  sites.signers["spp"])
        finally:
            proxy.close()
        assert proxy.cut_count >= 1
        # a rerun after the fact gets the same signed answer and codes nothing again
        again = send_for_coding(sites.spp, second, _endpoint(server.url), sites.signers["spp"])
    size = cut.receipt["received"]["bytes"]
    assert cut.uploaded_bytes < 2 * size  # resumed where it stopped, not restarted each time
    assert again.receipt == cut.receipt and again.uploaded_bytes == 0
    # same extract bytes (two requests of the same population): same coded rows except the
    # per-project pseudonyms; the receipt counts are equal
    assert cut.receipt["summary"] == plain.receipt["summary"]
    assert cut.receipt["received"]["sha256"] != ""
    jobs = sites.bcss.bcss_work / "jobs"
    assert len(list(jobs.iterdir())) == 2  # one job per extract, never coded twice


def test_interrupted_and_uninterrupted_runs_give_identical_files(
        sites: Sites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same request on the same data with the same keys, once through a proxy that cuts
    the connection mid-upload, once without: the same coded bytes and the same counts."""
    import shutil

    other = make_sites(tmp_path / "again", monkeypatch)
    request = sites.approved_and_extracted()
    shutil.copy2(sites.spp.spp / "record.key", other.spp.spp / "record.key")
    for p in sites.bcss.bcss_keystore.iterdir():  # the same BCSS master key
        shutil.copy2(p, other.bcss.bcss_keystore / p.name)
    assert other.approved_and_extracted() == request
    with bcss_server(sites) as server:
        proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]), after=3000, cuts=2)
        try:
            cut = send_for_coding(sites.spp, request, _endpoint(proxy.url, 2048),
                                  sites.signers["spp"])
        finally:
            proxy.close()
        assert proxy.cut_count >= 1
    with bcss_server(other) as server:
        quiet = send_for_coding(other.spp, request, _endpoint(server.url),
                                other.signers["spp"])
    a, b = _files(sites.spp.spp_work / request), _files(other.spp.spp_work / request)
    assert a["coded.parquet"] == b["coded.parquet"]
    assert a["linkage-report.json"] == b["linkage-report.json"]
    assert cut.receipt["summary"] == quiet.receipt["summary"]
    assert cut.receipt["received"] == quiet.receipt["received"]


def test_unsigned_replayed_or_foreign_calls_are_refused(sites: Sites) -> None:
    with bcss_server(sites) as server:
        job = "0" * 32
        assert httpx.get(f"{server.url}/bcss/v1/jobs/{job}").status_code == 401
        signed = sign_request("GET", f"/bcss/v1/jobs/{job}", b"", "spp", sites.signers["spp"],
                              time.time())
        first = httpx.get(f"{server.url}/bcss/v1/jobs/{job}", headers=signed.headers)
        assert first.status_code == 404  # authenticated, unknown job
        replay = httpx.get(f"{server.url}/bcss/v1/jobs/{job}", headers=signed.headers)
        assert replay.status_code == 401 and "replayed" in replay.text
        # a key the BCSS does not list (the researcher's) is refused
        foreign = sign_request("GET", f"/bcss/v1/jobs/{job}", b"", "rita",
                               sites.signers["rita"], time.time())
        assert httpx.get(f"{server.url}/bcss/v1/jobs/{job}",
                         headers=foreign.headers).status_code == 401


def test_a_receipt_from_another_key_is_refused(sites: Sites, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """A BCSS impostor (its own bcss_operator key, not the registered one) is caught."""
    from service_fixtures import ServerThread, free_port

    from primex.audit.keys import create_identity, load_signer
    from primex.bcss_service.app import create_app

    request = sites.approved_and_extracted()
    create_identity(sites.bcss, "bcss_operator", "mallory", "test-passphrase")
    impostor = load_signer(sites.bcss, "mallory", "test-passphrase")
    from network_fixtures import BCSS_PASS

    with ServerThread(create_app(sites.bcss, impostor, BCSS_PASS), free_port()) as server, \
            pytest.raises(IntegrityError, match="does not verify"):
        send_for_coding(sites.spp, request, _endpoint(server.url), sites.signers["spp"])
    assert sites.log.state(request).state == "extracted"


def test_an_extract_not_in_the_log_is_not_sent(sites: Sites) -> None:
    request = sites.approved_and_extracted()
    extract = sites.spp.spp_work / request / "extract.parquet"
    extract.write_bytes(extract.read_bytes() + b"\0")
    with pytest.raises(PrimexError, match="latest extraction"):
        send_for_coding(sites.spp, request, _endpoint("http://127.0.0.1:9"),
                        sites.signers["spp"])


def test_the_bcss_service_refuses_a_home_with_prima(sites: Sites) -> None:
    from primex.bcss_service.app import create_app
    from primex.errors import ConfigError

    with pytest.raises(ConfigError, match="holds PRIMA"):
        create_app(sites.spp, sites.signers["bea"])
    with pytest.raises(PrimexError, match="bcss_operator"):
        create_app(sites.bcss, sites.signers["spp"])


def test_a_replay_after_a_bcss_restart_is_refused(sites: Sites) -> None:
    """The nonce cache survives a restart: a signed call captured before it is refused after
    it (the BCSS's nonces are kept in its own home for the signature's validity window)."""
    job = "0" * 32
    signed = sign_request("GET", f"/bcss/v1/jobs/{job}", b"", "spp", sites.signers["spp"],
                          time.time())
    with bcss_server(sites) as server:
        first = httpx.get(f"{server.url}/bcss/v1/jobs/{job}", headers=signed.headers)
        assert first.status_code == 404  # authenticated, unknown job
    with bcss_server(sites) as server:  # a new process state on the same BCSS home
        replay = httpx.get(f"{server.url}/bcss/v1/jobs/{job}", headers=signed.headers)
        assert replay.status_code == 401 and "replayed" in replay.text
        fresh = sign_request("GET", f"/bcss/v1/jobs/{job}", b"", "spp", sites.signers["spp"],
                             time.time())
        assert httpx.get(f"{server.url}/bcss/v1/jobs/{job}",
                         headers=fresh.headers).status_code == 404
