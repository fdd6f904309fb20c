"""Three parties, three homes, three processes, three hosts (issue 19 #5): the SPP's
`primex serve`, the BCSS's `primex bcss serve` and the committee's witness service (`primex
audit witness serve`, the SPP pushes its checkpoints to it), each in its own
network namespace when the machine allows it (tests/network_hosts.py; on loopback otherwise,
with a warning in the test output), TLS from a throw-away CA, mutual TLS and signed requests
between the SPP and the BCSS. The people (researcher, officer, president) act from the test
process, with their keys in a home of their own, through the SPP's API.

The whole ad hoc flow runs across them: submit → approve → extract → code at the BCSS →
protect → output check → sign-off → the committee's cosignature → build → the researcher's
`release open` (pinning the published log and witness keys); then the quarterly protocol with
its outcomes from the BCSS service; then the SPP's whole home is rolled back and the remote
witness refuses it.
`PRIMEX_TEST_NETNS=0` forces the loopback variant."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from network_hosts import Hosts, child_env, cli, spawn, stop, three_hosts, wait_healthy
from network_tls import ThrowawayCA

from primex.audit.keys import load_identity, load_signer, vkey
from primex.audit.log import open_log
from primex.cli import main
from primex.home import Home
from primex.service.bcss_client import tls_context
from primex.service.client import RemoteClient

REPO = Path(__file__).resolve().parents[1]
PASS = "e2e-network-passphrase"
KEYSTORE = "e2e-network-keystore-passphrase"
KEY = re.compile(r"primex-x25519:[A-Za-z0-9+/=]+")
PEOPLE = [("privacy_officer", "olivia"), ("president", "paul"), ("bcss_operator", "bea"),
          ("spp_operator", "spp"), ("researcher", "alice")]
ORG = "HIVA – KU Leuven"
# read at import, before the isolation fixture clears the caller's PRIMEX_* variables
LOOPBACK_ONLY = os.environ.get("PRIMEX_TEST_NETNS") == "0"


def _files(home: Home) -> list[str]:
    return [str(p.relative_to(home.root)) for p in home.root.rglob("*") if p.is_file()]


def _ok(*args: str) -> None:
    assert main(list(args)) == 0, args


@contextlib.contextmanager
def _hosts() -> Iterator[Hosts]:
    if LOOPBACK_ONLY:
        import warnings

        from network_hosts import PARTIES, LoopbackOnly

        warnings.warn(LoopbackOnly("three-host test on loopback: PRIMEX_TEST_NETNS=0"),
                      stacklevel=2)
        yield Hosts("loopback", {p: "127.0.0.1" for p in (*PARTIES, "people")})
        return
    with three_hosts() as hosts:
        yield hosts


def _installation(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Home, Home, Home,
                                                                         Home]:
    """Made in one home with the documented commands, then split: the BCSS's warehouse,
    keystore and operator key to the BCSS home, the committee's key to the committee's, the
    people's keys to their own; the SPP keeps PRIMA, the log and its operator key."""
    spp, bcss = Home(root / "spp-home"), Home(root / "bcss-home")
    committee, people = Home(root / "committee-home"), Home(root / "people-home")
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    monkeypatch.setenv("PRIMEX_BCSS_PASSPHRASE", KEYSTORE)
    monkeypatch.setattr("os.fsync", lambda fd: None)  # durability is another test's subject
    home = ["--home", str(spp.root)]
    _ok(*home, "synth", "generate", "--persons", "2000", "--months", "24", "--start",
        "2022-01", "--seed", "7")
    _ok(*home, "keys", "init", "--role", "committee", "--name", "committee")
    for role, name in PEOPLE:
        # a researcher's organisation is recorded in the signed log (C5), not the service DB
        org = ["--organisation", ORG] if role == "researcher" else []
        _ok(*home, "keys", "init", "--role", role, "--name", name, "--by", "committee", *org)
    _ok(*home, "linkage", "keygen")
    for key in ("spp", "committee", "olivia", "paul", "alice"):
        _ok(*home, "serve", "account", key)
    shutil.move(spp.bcss, bcss.bcss)  # warehouse and keystore
    shutil.move(spp.keys / "bea", bcss.keys / "bea")
    shutil.move(spp.keys / "committee", committee.keys / "committee")
    for name in ("olivia", "paul", "alice"):
        shutil.move(spp.keys / name, people.keys / name)
    spp_key = load_signer(spp, "spp", PASS).public_key_bytes
    (bcss.bcss / "peers.json").write_text(json.dumps(
        {"keys": {"spp": base64.b64encode(spp_key).decode()}}))
    return spp, bcss, committee, people


class Committee:
    """The committee's witness service (C2SP tlog-witness) on the committee's host, from its
    own home; the SPP's service pushes each checkpoint to it. (The pull mode, the committee
    fetching the SPP's tiles, is tests/test_network_witness.py.)"""

    def __init__(self, home: Home, spp: Home, hosts: Hosts, ca: ThrowawayCA,
                 log: Path) -> None:
        self.home, self.spp, self.hosts, self.ca, self.log = home, spp, hosts, ca, log
        self.port = hosts.port()
        self.url = hosts.url("committee", self.port)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, log_key: str) -> None:
        """Trust the log (its key as the SPP published it) and start the service."""
        _ok("--home", str(self.home.root), "audit", "witness", "trust", "--origin",
            open_log(self.spp).origin, "--log-key", log_key)
        tls = self.ca.issue("committee", server=True, ips=(self.hosts.addresses["committee"],))
        self.proc = spawn(cli(self.hosts, "committee", [
            "--home", str(self.home.root), "audit", "witness", "serve", "--as", "committee",
            "--host", self.hosts.bind("committee"), "--port", str(self.port),
            "--ssl-certfile", str(tls.cert), "--ssl-keyfile", str(tls.key)]),
            child_env(PRIMEX_PASSPHRASE=PASS), self.log)

    def ready(self) -> None:
        assert self.proc is not None
        wait_healthy(self.proc, f"{self.url}/health", self.ca.pem, None, self.log)

    def spp_env(self) -> dict[str, str]:
        return {"PRIMEX_WITNESS_URL": self.url, "PRIMEX_WITNESS_CA": str(self.ca.pem)}

    def cosigned(self) -> None:
        """Until the SPP holds a cosigned checkpoint of its whole log (with the sign-off)."""
        deadline = time.monotonic() + 120  # the SPP's service pushes when its log grew
        while open_log(self.spp).witnessed_at(len(open_log(self.spp))) is None:
            assert time.monotonic() < deadline, "the SPP's pusher got no cosignature"
            time.sleep(0.5)

    def refuses_rollback(self) -> None:
        """The SPP's home was replaced by an older backup: the witness refuses its push."""
        again = subprocess.run(cli(self.hosts, "spp", [
            "--home", str(self.spp.root), "audit", "witness", "push", "--url", self.url,
            "--ca", str(self.ca.pem)]), env=child_env(PRIMEX_PASSPHRASE=PASS),
            capture_output=True, text=True, timeout=120)
        assert again.returncode == 2, again.stdout + again.stderr
        assert "witness refuses" in again.stderr and "rolled back" in again.stderr, \
            again.stderr

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)


@pytest.mark.slow
def test_the_whole_flow_across_three_hosts(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    spp, bcss, committee, people = _installation(tmp_path, monkeypatch)
    log_key = base64.b64encode(open_log(spp).log_key().public_key).decode()
    servers_log = tmp_path / "servers.log"
    with _hosts() as hosts:
        print(f"three hosts: {hosts.mode} {hosts.addresses}")
        ca = ThrowawayCA(tmp_path / "pki")
        spp_tls = ca.issue("spp", server=True, ips=(hosts.addresses["spp"],))
        bcss_tls = ca.issue("bcss", server=True, ips=(hosts.addresses["bcss"],))
        spp_client = ca.issue("spp-client", server=False)
        client_cert = (str(spp_client.cert), str(spp_client.key))
        bport, sport = hosts.port(), hosts.port()
        bcss_url, spp_url = hosts.url("bcss", bport), hosts.url("spp", sport)
        bcss_env = child_env(PRIMEX_PASSPHRASE=PASS, PRIMEX_BCSS_PASSPHRASE=KEYSTORE)
        tls_out = {"PRIMEX_BCSS_KEY": "bea", "PRIMEX_BCSS_CA": str(ca.pem),
                   "PRIMEX_BCSS_CLIENT_CERT": str(spp_client.cert),
                   "PRIMEX_BCSS_CLIENT_KEY": str(spp_client.key)}
        committee_side = Committee(committee, spp, hosts, ca, servers_log)
        spp_env = child_env(PRIMEX_PASSPHRASE=PASS, PRIMEX_OPERATOR_KEY="spp",
                            PRIMEX_PUBLIC_URL=spp_url, PRIMEX_BCSS_URL=bcss_url, **tls_out,
                            **committee_side.spp_env())
        spp_cmd = cli(hosts, "spp", [
            "--home", str(spp.root), "serve", "--host", hosts.bind("spp"), "--port",
            str(sport), "--ssl-certfile", str(spp_tls.cert), "--ssl-keyfile",
            str(spp_tls.key)])
        bcss_cmd = cli(hosts, "bcss", [
            "--home", str(bcss.root), "bcss", "serve", "--as", "bea", "--host",
            hosts.bind("bcss"), "--port", str(bport), "--ssl-certfile", str(bcss_tls.cert),
            "--ssl-keyfile", str(bcss_tls.key), "--client-ca", str(ca.pem)])

        # the services start at once (each boot is mostly Python imports)
        committee_side.start(log_key)
        try:
            bcss_proc = spawn(bcss_cmd, bcss_env, servers_log)
            spp_proc = spawn(spp_cmd, spp_env, servers_log)
            http = httpx.Client(verify=tls_context(str(ca.pem)), timeout=120)
            try:
                committee_side.ready()
                wait_healthy(bcss_proc, f"{bcss_url}/bcss/v1/health", ca.pem, client_cert,
                             servers_log)
                wait_healthy(spp_proc, f"{spp_url}/api/health", ca.pem, None, servers_log)
                booted = time.monotonic()
                if hosts.mode == "netns":  # three network stacks: each host listens on its own
                    for party, port in (("spp", sport), ("bcss", bport),
                                        ("committee", committee_side.port)):
                        listening = subprocess.run([*hosts.prefix(party), "ss", "-Hltn"],
                                                   capture_output=True, text=True, timeout=20)
                        ports = {line.split()[3].rsplit(":", 1)[1]
                                 for line in listening.stdout.splitlines() if line.strip()}
                        assert ports == ({str(port)} if port else set()), (party, ports)
                # mutual TLS: without the SPP's client certificate the BCSS does not answer
                with pytest.raises(httpx.HTTPError):
                    httpx.get(f"{bcss_url}/bcss/v1/health", verify=tls_context(str(ca.pem)),
                              timeout=5)

                def person(name: str) -> RemoteClient:
                    return RemoteClient(spp_url, load_signer(people, name, PASS), http=http)

                alice, olivia, paul = person("alice"), person("olivia"), person("paul")
                operator = RemoteClient(spp_url, load_signer(spp, "spp", PASS), http=http)

                def job(rid: str, step: str) -> None:
                    done = operator.wait_job(operator.start_job(rid, step)["id"], timeout=300)
                    assert done["state"] == "done", done

                alice_key = load_signer(people, "alice", PASS)
                enc = load_identity(people, "alice").encryption_public_key
                spec = KEY.sub(str(enc), (REPO / "examples" / "requests" /
                                          "exit-outcomes-by-region.yaml").read_text("utf-8"))
                rid = alice.submit(spec)["request"]
                olivia.decide(rid, "approval", {"conditions": []})
                backup = tmp_path / "spp-backup"
                shutil.copytree(spp.root, backup)  # the SPP home before the extraction
                job(rid, "extract")
                job(rid, "link")  # the SPP service sends the extract to the BCSS's host
                coding = open_log(spp).entries(rid)[-1]
                assert coding.type == "coding" and coding.actor == "bea"
                assert coding.body["receipt"]["receipt"]["extract_destroyed"] is True
                assert not [f for f in _files(bcss) if "extract" in f]  # destroyed after coding
                job(rid, "protect")
                olivia.decide(rid, "output_check", {"decision": "approve"})
                paul.decide(rid, "signoff", {})
                committee_side.cosigned()
                job(rid, "build")
                assert alice.status(rid)["state"] == "released"
                package = tmp_path / "alice" / f"{rid}.primex"
                package.parent.mkdir()
                package.write_bytes(alice.call("GET", f"/api/requests/{rid}/package",
                                               raw=True).content)
                assert alice_key.name == "alice"
                # the keys the researcher pins: the log key as the SPP publishes it, the witness
                # key as the committee publishes it
                published = httpx.get(f"{spp_url}/api/public/keys",
                                      verify=tls_context(str(ca.pem))).json()
                (log_pub,) = [k["ed25519"] for k in published["keys"] if k["role"] == "log"]
                log_vkey = vkey(published["origin"], base64.b64decode(log_pub))
                witness_vkey = load_identity(committee, "committee").vkey
                opened = tmp_path / "alice" / "opened"
                _ok("--home", str(people.root), "release", "open", str(package), "--key",
                    "alice", "--out", str(opened), "--log-key", log_vkey, "--witness-key",
                    witness_vkey)
                data = sorted((opened / "data").iterdir())
                assert data and all(f.stat().st_size > 0 for f in data)
                flow = time.monotonic()

                # the basic application: the quarterly protocol's outcomes from the BCSS
                protocol = tmp_path / "quarterly-networked.yaml"
                protocol.write_text(re.sub(
                    r"outcomes: \{kind: bcss_model, path: [^}]*\}",
                    f"outcomes: {{kind: bcss_service, path: '{bcss_url}'}}",
                    (REPO / "protocols" / "quarterly.yaml").read_text()))
                quarterly = time.monotonic()
                done = subprocess.run(cli(hosts, "spp", [
                    "--home", str(spp.root), "extract", "run", "--protocol", str(protocol),
                    "--as", "spp"]), env=child_env(PRIMEX_PASSPHRASE=PASS, **tls_out),
                    capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, done.stderr
                (found,) = spp.extracts.rglob("indicators.parquet")
                assert found.stat().st_size > 0  # (run after run byte-identical:
                quarterly = time.monotonic() - quarterly  # test_network_outcomes.py)
                kinds = sorted(json.loads(p.read_text())["kind"]
                               for p in (bcss.bcss_work / "jobs").glob("*/job.json"))
                assert kinds == ["coding", "positions"]  # the leavers went to the BCSS
            finally:
                http.close()  # an open keep-alive connection would hold up the graceful stop
                stop(spp_proc)
                stop(bcss_proc)
            # where everything lives
            spp_files, bcss_files = _files(spp), _files(bcss)
            committee_files = _files(committee)
            assert not spp.bcss.exists()
            assert not [f for f in spp_files if "keystore" in f or "warehouse" in f
                        or f.startswith(("keys/bea/", "keys/committee/"))]
            assert not [f for f in bcss_files if "prima" in f or "extract" in f
                        or f.startswith("spp/")]
            assert any(f.startswith("bcss/keystore/") for f in bcss_files)
            assert not [f for f in committee_files if "prima" in f or "keystore" in f
                        or "warehouse" in f or "extract" in f or f.startswith(("spp/", "bcss/"))]
            assert any(f.startswith("witness/") or "witness" in f for f in committee_files)
            # the insider replaces the SPP's whole home with its backup from before the coding
            shutil.rmtree(spp.root)
            shutil.copytree(backup, spp.root)
            committee_side.refuses_rollback()
        finally:
            committee_side.stop()
    end = time.monotonic()
    print(f"timings: setup+boot {booted - started:.1f}s, ad hoc flow {flow - booted:.1f}s, "
          f"quarterly {quarterly:.1f}s, quarterly + rollback {end - flow:.1f}s ({hosts.mode})")
