"""Three parties, three homes, three processes, on loopback over TLS from a throw-away CA
(issue 19 #5): the SPP's `primex serve`, the BCSS's `primex bcss serve` (mutual TLS and
signed requests) and the committee's `primex audit witness cosign --server`."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from network_fixtures import BCSS_PASS, PASS, Sites, make_sites
from network_tls import ThrowawayCA
from service_fixtures import free_port

from primex.audit.log import open_log
from primex.cli import main
from primex.home import Home
from primex.service.bcss_client import tls_context
from primex.service.client import RemoteClient

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMEX_")}
    env["PYTHONPATH"] = str(REPO)
    env["PRIMEX_TEST_LOG"] = os.environ["PRIMEX_TEST_LOG"]
    env.update(extra)
    return env


@contextmanager
def process(args: list[str], env: dict[str, str], health: str, ca: Path,
            cert: tuple[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    log = Path(env["PRIMEX_TEST_LOG"])
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "primex.cli", *args], env=env,
                                stdout=err, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(health, verify=tls_context(str(ca), cert),
                             timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[2:4]} did not start: {log.read_text()[-800:]}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _files(home: Home) -> list[str]:
    return [str(p.relative_to(home.root)) for p in home.root.rglob("*") if p.is_file()]


def test_three_parties_on_three_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sites: Sites = make_sites(tmp_path, monkeypatch)
    monkeypatch.setenv("PRIMEX_TEST_LOG", str(tmp_path / "servers.log"))
    spp, bcss = sites.spp, sites.bcss
    committee = Home(tmp_path / "committee-home")
    shutil.move(spp.keys / "comm", committee.keys / "comm")  # the committee's key is its own
    ca = ThrowawayCA(tmp_path / "pki")
    spp_tls, bcss_tls = ca.issue("spp", server=True), ca.issue("bcss", server=True)
    spp_client = ca.issue("spp-client", server=False)
    for key in ("spp", "comm"):
        assert main(["--home", str(spp.root), "serve", "account", key]) == 0
    log = open_log(spp)
    log_key = base64.b64encode(log.log_key().public_key).decode()
    # an approved request (the researcher and the officer sign on their own machines)
    from release_chain import approved_coded

    rid = approved_coded(spp, log, sites.signers["rita"], sites.signers["otto"], "networked")

    backup = tmp_path / "spp-backup"
    shutil.copytree(spp.root, backup)  # the SPP home before extraction and coding
    bport, sport = free_port(), free_port()
    bcss_url, spp_url = f"https://127.0.0.1:{bport}", f"https://127.0.0.1:{sport}"
    bcss_env = _env(PRIMEX_PASSPHRASE=PASS, PRIMEX_BCSS_PASSPHRASE=BCSS_PASS)
    spp_env = _env(PRIMEX_PASSPHRASE=PASS, PRIMEX_OPERATOR_KEY="spp",
                   PRIMEX_PUBLIC_URL=spp_url, PRIMEX_BCSS_URL=bcss_url, PRIMEX_BCSS_KEY="bea",
                   PRIMEX_BCSS_CA=str(ca.pem), PRIMEX_BCSS_CLIENT_CERT=str(spp_client.cert),
                   PRIMEX_BCSS_CLIENT_KEY=str(spp_client.key))
    spp_args = ["--home", str(spp.root), "serve", "--port", str(sport), "--ssl-certfile",
                str(spp_tls.cert), "--ssl-keyfile", str(spp_tls.key)]
    witness = [sys.executable, "-m", "primex.cli", "--home", str(committee.root), "audit",
               "witness", "cosign", "--as", "comm", "--server", spp_url, "--ca", str(ca.pem)]
    client_cert = (str(spp_client.cert), str(spp_client.key))
    with process(["--home", str(bcss.root), "bcss", "serve", "--as", "bea", "--port",
                  str(bport), "--ssl-certfile", str(bcss_tls.cert), "--ssl-keyfile",
                  str(bcss_tls.key), "--client-ca", str(ca.pem)], bcss_env,
                 f"{bcss_url}/bcss/v1/health", ca.pem, client_cert):
        # mutual TLS: without the SPP's client certificate the BCSS does not even answer
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{bcss_url}/bcss/v1/health", verify=tls_context(str(ca.pem)), timeout=5)
        with process(spp_args, spp_env, f"{spp_url}/api/health", ca.pem):
            http = httpx.Client(verify=tls_context(str(ca.pem)), timeout=60)
            operator = RemoteClient(spp_url, sites.signers["spp"], http=http)
            for step in ("extract", "link"):
                job = operator.wait_job(operator.start_job(rid, step)["id"], timeout=120)
                assert job["state"] == "done", job
            assert open_log(spp).state(rid).state == "coded"
            coding = open_log(spp).entries(rid)[-1]
            assert coding.type == "coding" and coding.actor == "bea"
            assert coding.body["receipt"]["receipt"]["extract_destroyed"] is True
            http.close()
            # the basic application: the quarterly protocol's outcomes through the BCSS
            protocol = tmp_path / "quarterly-networked.yaml"
            protocol.write_text(re.sub(
                r"outcomes: \{kind: bcss_model, path: [^}]*\}",
                f"outcomes: {{kind: bcss_service, path: '{bcss_url}'}}",
                (REPO / "protocols" / "quarterly.yaml").read_text()))
            for var, value in (("PRIMEX_BCSS_KEY", "bea"), ("PRIMEX_BCSS_CA", str(ca.pem)),
                               ("PRIMEX_BCSS_CLIENT_CERT", str(spp_client.cert)),
                               ("PRIMEX_BCSS_CLIENT_KEY", str(spp_client.key))):
                monkeypatch.setenv(var, value)
            runs = []
            for _ in range(2):
                assert main(["--home", str(spp.root), "extract", "run", "--protocol",
                             str(protocol), "--as", "spp"]) == 0
                (found,) = spp.extracts.rglob("indicators.parquet")
                runs.append(found.read_bytes())
                shutil.rmtree(spp.extracts)
            assert runs[0] == runs[1]  # byte-identical run after run
            kinds = [json.loads(p.read_text())["kind"]
                     for p in (bcss.bcss_work / "jobs").glob("*/job.json")]
            assert sorted(kinds) == ["coding", "positions"]  # the leavers went to the BCSS
            first = subprocess.run([*witness, "--trust-key", log_key], env=_env(
                PRIMEX_PASSPHRASE=PASS), capture_output=True, text=True, timeout=60)
            assert first.returncode == 0, first.stderr
            size = len(open_log(spp))
            assert open_log(spp).witnessed_at(size) is not None  # cosignature stored
        # where everything lives
        spp_files, bcss_files = _files(spp), _files(bcss)
        assert not [f for f in spp_files if "keystore" in f or "warehouse" in f
                    or "master-key" in f or f.startswith("keys/bea")]
        assert not [f for f in bcss_files if "prima" in f or "extract" in f
                    or f.startswith("spp/")]
        assert not [f for f in _files(committee) if "prima" in f or "keystore" in f
                    or "warehouse" in f or "extract" in f]
        assert any(f.startswith("bcss/keystore/") for f in bcss_files)
        # the insider replaces the SPP's whole home with its backup from before the coding
        shutil.rmtree(spp.root)
        shutil.copytree(backup, spp.root)
        with process(spp_args, spp_env, f"{spp_url}/api/health", ca.pem):
            again = subprocess.run(witness, env=_env(PRIMEX_PASSPHRASE=PASS),
                                   capture_output=True, text=True, timeout=60)
        assert again.returncode == 2
        assert "witness refuses (409): rollback" in again.stderr, again.stderr
