"""The BCSS process killed (SIGKILL) in the middle of an upload or of the coding, then
restarted (issue 19 #2): the SPP's bounded retries resume the transfer, and the coded file
and the receipt are those of an uninterrupted run, with one job, one receipt and one
`coding` entry (no duplicate coding), and no extract left at the BCSS."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from network_fixtures import BCSS_PASS, PASS, Sites, bcss_server, make_sites
from network_hosts import child_env, cli, spawn, stop, wait_healthy
from service_fixtures import free_port

from primex.service import bcss_client
from primex.service.bcss_client import BcssClient, BcssEndpoint, Retry, send_for_coding


class Bcss:
    """`primex bcss serve` as its own process on a fixed loopback port, killable."""

    def __init__(self, sites: Sites, log: Path) -> None:
        self.sites, self.log = sites, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarted = threading.Event()

    def start(self) -> None:
        self.proc = spawn(cli(None, "bcss", ["--home", str(self.sites.bcss.root), "bcss",
                                             "serve", "--as", "bea", "--port",
                                             str(self.port)]),
                          child_env(PRIMEX_PASSPHRASE=PASS, PRIMEX_BCSS_PASSPHRASE=BCSS_PASS),
                          self.log)
        wait_healthy(self.proc, f"{self.url}/bcss/v1/health", None, None, self.log)

    def kill_and_restart(self) -> int:
        """SIGKILL now; start again in the background (the client's retries find it)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        code = self.proc.wait(timeout=10)
        threading.Thread(target=self._again, daemon=True).start()
        return code

    def _again(self) -> None:
        self.start()
        self.restarted.set()

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc)


def _endpoint(url: str) -> BcssEndpoint:
    # about 30 s of bounded retries: enough for a restart on a busy machine
    return BcssEndpoint(url, "bea", chunk_size=1024,
                        retry=Retry(attempts=40, base=0.05, cap=1.0, timeout=20))


def _twin_sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Sites, Sites, str]:
    """Two installations with the same keys and data: one run killed, one not."""
    sites = make_sites(tmp_path / "killed", monkeypatch)
    quiet = make_sites(tmp_path / "quiet", monkeypatch)
    request = sites.approved_and_extracted()
    shutil.copy2(sites.spp.spp / "record.key", quiet.spp.spp / "record.key")
    for p in sites.bcss.bcss_keystore.iterdir():  # the same BCSS master key
        shutil.copy2(p, quiet.bcss.bcss_keystore / p.name)
    assert quiet.approved_and_extracted() == request
    return sites, quiet, request


def _without_time(receipt: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in receipt.items() if k != "time"}


def test_a_killed_bcss_resumes_to_the_uninterrupted_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed twice in one transfer: once with a partial upload on its disk, once while it
    codes (its working copy of the extract exists, no receipt yet)."""
    sites, quiet, request = _twin_sites(tmp_path, monkeypatch)
    with bcss_server(quiet) as server:
        plain = send_for_coding(quiet.spp, request, _endpoint(server.url),
                                quiet.signers["spp"])
    size = plain.receipt["received"]["bytes"]
    assert size > 3 * 1024  # several chunks: a kill can land between them

    bcss = Bcss(sites, tmp_path / "bcss.log")
    jobs = sites.bcss.bcss_work / "jobs"
    seen: dict[str, Any] = {}
    original = BcssClient.call

    def call(self: BcssClient, method: str, path: str, body: bytes = b"",
             **kw: Any) -> Any:
        if "upload" not in seen and "/extract?offset=" in path \
                and int(path.rsplit("=", 1)[1]) >= 2048:
            (part,) = jobs.glob("*/extract.part")
            seen["held"] = part.stat().st_size  # a partial upload on the BCSS's disk
            seen["upload"] = bcss.kill_and_restart()
        elif "coding" not in seen and path.endswith("/code"):
            bcss.restarted.wait(60)
            seen["coding"] = None
            threading.Thread(target=_kill_while_coding, daemon=True).start()
        return original(self, method, path, body, **kw)

    def _kill_while_coding() -> None:
        bcss.restarted.clear()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the coding has begun: its working copy exists
            if list(jobs.glob("*/in/extract.parquet")):
                seen["receipt_before_kill"] = bool(list(jobs.glob("*/receipt.json")))
                seen["coding"] = bcss.kill_and_restart()
                return
            time.sleep(0.001)

    monkeypatch.setattr(bcss_client.BcssClient, "call", call)
    bcss.start()
    try:
        started = time.monotonic()
        out = send_for_coding(sites.spp, request, _endpoint(bcss.url), sites.signers["spp"])
        elapsed = time.monotonic() - started
    finally:
        bcss.close()
    assert seen["upload"] == seen["coding"] == -signal.SIGKILL
    assert 0 < seen["held"] < size
    assert seen["receipt_before_kill"] is False  # killed before the coding had answered
    assert bcss.restarted.is_set() and elapsed < 180
    # the same coded bytes and reports as the uninterrupted run; the same receipt (but for
    # the time it was signed)
    work, twin = sites.spp.spp_work / request, quiet.spp.spp_work / request
    for name in ("coded.parquet", "linkage-report.json", "coding-manifest.json"):
        assert (work / name).read_bytes() == (twin / name).read_bytes(), name
    assert _without_time(out.receipt) == _without_time(plain.receipt)
    # no duplicate coding: one job, one receipt, one coding entry; no extract at the BCSS
    (job,) = [p for p in jobs.iterdir() if p.is_dir()]
    assert job.name == out.job and (job / "receipt.json").exists()
    assert [e.type for e in sites.log.entries(request)].count("coding") == 1
    assert sites.log.state(request).state == "coded"
    assert not [p for p in sites.bcss.root.rglob("*") if p.name.startswith("extract")]


def test_a_bcss_killed_after_its_receipt_destroys_the_extract_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed between writing the receipt and destroying the extract: the extract would stay
    on the BCSS's disk while the receipt says it was destroyed; the next start destroys it."""
    from primex.bcss_service.jobs import JobStore

    sites = make_sites(tmp_path, monkeypatch)
    request = sites.approved_and_extracted()
    with bcss_server(sites) as server:
        out = send_for_coding(sites.spp, request, _endpoint(server.url), sites.signers["spp"])
    job = sites.bcss.bcss_work / "jobs" / out.job
    data = (sites.spp.spp_work / request / "extract.parquet").read_bytes()
    (job / "extract.part").write_bytes(data)  # what the killed process left behind
    (job / "in").mkdir(exist_ok=True)
    (job / "in" / "extract.parquet").write_bytes(data)
    JobStore(sites.bcss)  # the service starts again on this home
    assert not [p for p in sites.bcss.root.rglob("*") if p.name.startswith("extract")]


def test_a_bcss_that_lost_the_upload_gets_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The BCSS holds less than the whole extract when asked to code (its disk lost the
    upload, or it refused a corrupted one): it answers 409 with what it holds, and the SPP
    sends the rest and asks again instead of giving up."""
    sites = make_sites(tmp_path, monkeypatch)
    request = sites.approved_and_extracted()
    jobs = sites.bcss.bcss_work / "jobs"
    original = BcssClient.call
    lost: list[int] = []

    def call(self: BcssClient, method: str, path: str, body: bytes = b"", **kw: Any) -> Any:
        if path.endswith("/code") and not lost:
            (part,) = jobs.glob("*/extract.part")
            lost.append(part.stat().st_size)
            part.unlink()
        return original(self, method, path, body, **kw)

    monkeypatch.setattr(bcss_client.BcssClient, "call", call)
    with bcss_server(sites) as server:
        out = send_for_coding(sites.spp, request, _endpoint(server.url), sites.signers["spp"])
    assert lost and out.uploaded_bytes == 2 * lost[0]  # sent twice, coded once
    assert sites.log.state(request).state == "coded"


def test_a_damaged_job_stops_the_start_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job whose parameters were cut by a crash of the disk: the service does not start
    past it silently (its upload could hold an extract), and says which file and what to do."""
    from primex.bcss_service.jobs import JobStore
    from primex.errors import IntegrityError

    sites = make_sites(tmp_path, monkeypatch)
    folder = sites.bcss.bcss_work / "jobs" / ("a" * 32)
    folder.mkdir(parents=True)
    (folder / "job.json").write_text('{"request": "REQ-2026-00')
    with pytest.raises(IntegrityError, match="damaged") as refused:
        JobStore(sites.bcss)
    assert str(folder / "job.json") in refused.value.one_line()


def test_a_refused_coding_is_not_retried(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The BCSS refuses the extract itself (its guard finds a NISS in the output, say): the
    SPP stops with that one line instead of uploading and coding it again."""
    from primex.errors import IntegrityError, PrimexError
    from primex.linkage import code as coding

    sites = make_sites(tmp_path, monkeypatch)
    request = sites.approved_and_extracted()
    calls: list[str] = []

    def refuse(*_args: Any, **_kw: Any) -> Any:
        calls.append(request)
        raise IntegrityError("the coded file would carry a NISS", where="column x")

    monkeypatch.setattr(coding, "code_extract", refuse)
    with bcss_server(sites) as server, pytest.raises(PrimexError, match="would carry a NISS"):
        send_for_coding(sites.spp, request, _endpoint(server.url), sites.signers["spp"])
    assert calls == [request]  # coded (and refused) once
    assert not [p for p in sites.bcss.root.rglob("*") if p.name.startswith("extract")]
