"""The committee's witness as a service (issue 19 #4): the SPP pushes each checkpoint with a
consistency proof (C2SP tlog-witness add-checkpoint) to `primex audit witness serve`, a
separate process with the committee's own home; rollbacks and forks of the SPP's whole
home are refused, and the release gate then finds no fresh cosignature."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from network_hosts import stop
from network_tls import Pem, ThrowawayCA
from release_chain import PASS, Chain, make_chain
from service_fixtures import ServerThread, free_port, make_stack

from primex.audit import merkle
from primex.audit.log import open_log
from primex.cli import main
from primex.home import Home
from primex.release.gate import ReleaseRefused
from primex.release.package import build_release
from primex.service.app import build_state, create_app
from primex.service.bcss_client import tls_context
from primex.service.witness_push import WitnessRefused, push_checkpoint

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def witness_process(committee: Home, port: int, log_file: Path,
                    tls: tuple[Pem, Path] | None = None) -> Iterator[str]:
    """`primex audit witness serve` in its own process on loopback (HTTPS with `tls`:
    the server certificate and the CA that issued it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMEX_")}
    env.update(PYTHONPATH=str(REPO), PRIMEX_PASSPHRASE=PASS)
    extra = [] if tls is None else ["--ssl-certfile", str(tls[0].cert),
                                    "--ssl-keyfile", str(tls[0].key)]
    with log_file.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "primex.cli", "--home", str(committee.root), "audit",
             "witness", "serve", "--as", "committee", "--port", str(port), *extra],
            env=env, stdout=err, stderr=err, stdin=subprocess.DEVNULL)
    url = f"{'http' if tls is None else 'https'}://127.0.0.1:{port}"
    verify: Any = True if tls is None else tls_context(str(tls[1]))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health", timeout=2, verify=verify).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the witness did not start: " + log_file.read_text())
            time.sleep(0.2)
        yield url
    finally:
        stop(proc)


def committee_home(tmp_path: Path, chain: Chain) -> Home:
    """The committee's own home: its key and the log key it trusts, nothing of the SPP."""
    home = Home(tmp_path / "committee-home")
    shutil.copytree(chain.home.keys / "committee", home.keys / "committee")
    log = open_log(chain.home)
    key = base64.b64encode(log.log_key().public_key).decode()
    assert main(["--home", str(home.root), "audit", "witness", "trust", "--origin",
                 log.origin, "--log-key", key]) == 0
    return home


def push(home: Home, url: str) -> int:
    """The SPP operator's command; returns its exit code."""
    return main(["--home", str(home.root), "audit", "witness", "push", "--url", url])


def add_checkpoint(url: str, old: int, proof: list[bytes], note: str) -> httpx.Response:
    body = "".join(f"{line}\n" for line in
                   [f"old {old}", *(base64.b64encode(h).decode() for h in proof)])
    return httpx.post(url + "/add-checkpoint", content=(body + "\n" + note).encode(),
                      timeout=10)


def held(url: str, origin: str) -> int:
    reply = httpx.get(f"{url}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint",
                      timeout=10)
    return int(reply.text.split("\n")[1]) if reply.status_code == 200 else 0


def refused_release(chain: Chain, home: Home) -> ReleaseRefused:
    with pytest.raises(ReleaseRefused) as info:
        build_release(home, chain.request, chain.signers["spp"])
    return info.value


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return make_chain(tmp_path / "spp")


def test_push_is_cosigned_and_a_rolled_back_or_forked_home_is_refused(
        chain: Chain, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    committee = committee_home(tmp_path, chain)
    origin = chain.log.origin
    with witness_process(committee, free_port(), tmp_path / "witness.log") as url:
        chain.up_to_output_check()
        assert push(chain.home, url) == 0  # a first checkpoint, before the sign-off
        before = len(open_log(chain.home))
        backup = tmp_path / "backup"
        shutil.copytree(chain.home.root, backup)  # the SPP's whole home, as it is now
        exact = Home(tmp_path / "exact")
        shutil.copytree(backup, exact.root)  # a second copy, forked differently below
        chain.signoff()
        # no fresh cosignature yet: the gate refuses (the cosigned one predates the sign-off)
        assert refused_release(chain, chain.home).reason == "not_witnessed"
        assert push(chain.home, url) == 0
        size = len(open_log(chain.home))
        assert held(url, origin) == size  # the witness's own record, in its own home
        assert open_log(chain.home).witnessed_at(size) is not None  # stored at the SPP
        assert "cosigned by committee (the witness held " + str(before) in capsys.readouterr(
        ).out.replace("\n", " ")
        build_release(chain.home, chain.request, chain.signers["spp"])  # the gate passes
        assert push(chain.home, url) == 0  # the release entry, pushed with a proof
        size = len(open_log(chain.home))
        assert held(url, origin) == size

        # 1. rollback: the insider restores the whole home (log, checkpoints, witness/)
        rolled = Home(backup)
        assert len(open_log(rolled)) == before < size
        with pytest.raises(WitnessRefused) as refused:
            push_checkpoint(rolled, url)
        assert refused.value.status == 409 and "rolled back" in refused.value.what
        cp = open_log(rolled).checkpoint()
        # whatever old size the rolled-back log claims, the witness refuses it
        assert add_checkpoint(url, size, [], cp.text).status_code == 400  # old > size
        assert add_checkpoint(url, before, [], cp.text).status_code == 409
        assert add_checkpoint(url, 0, [], cp.text).text == f"{size}\n"

        # 2. fork: the rolled-back home signs off again and grows past the witness's size
        forked = open_log(rolled)
        forked.append("signoff", chain.request, chain.signoff_body(), chain.signers["paul"])
        while len(forked) <= size + 1:
            forked.append("submission", None, {"spec_sha256": "b" * 64, "title": "Forked",
                                               "organisation": "HIVA - KU Leuven"},
                          chain.signers["alice"])
        with pytest.raises(WitnessRefused) as refused:
            push_checkpoint(rolled, url)
        assert refused.value.status == 422  # no consistency proof from the witness's size
        assert "consistency proof" in refused.value.what
        assert refused_release(chain, rolled).reason == "not_witnessed"
        # the same size as the witness's with another root
        same = open_log(exact)
        while len(same) < size:
            same.append("submission", None, {"spec_sha256": "c" * 64, "title": "Forked",
                                             "organisation": "HIVA - KU Leuven"},
                        chain.signers["alice"])
        fork_cp = same.checkpoint()
        assert fork_cp.size == size
        reply = add_checkpoint(url, size, [], fork_cp.text)
        assert reply.status_code == 422 and "fork" in reply.text
        # through the CLI: one line, exit 2
        assert push(rolled, url) == 2
        err = capsys.readouterr().err
        assert "the committee's witness refuses (422)" in err and "Traceback" not in err

        # the witness's record did not move; the honest log goes on being cosigned
        assert held(url, origin) == size
        chain.log.refresh()
        chain.log.append("submission", None, {"spec_sha256": "d" * 64, "title": "Next",
                                              "organisation": "HIVA - KU Leuven"},
                         chain.signers["alice"])
        assert push_checkpoint(chain.home, url).old_size == size
    # the committee's home holds its key and witness state only
    files = sorted(str(p.relative_to(committee.root)) for p in committee.root.rglob("*")
                   if p.is_file())
    assert not [f for f in files if not f.startswith(("keys/committee/", "witness/"))], files


def test_add_checkpoint_follows_the_spec(chain: Chain, tmp_path: Path) -> None:
    committee = committee_home(tmp_path, chain)
    log = chain.log
    with witness_process(committee, free_port(), tmp_path / "witness.log") as url:
        cp = log.checkpoint()
        reply = add_checkpoint(url, 0, [], cp.text)
        assert reply.status_code == 200
        (line,) = reply.text.splitlines()
        assert line.startswith("\u2014 committee ") and reply.text.endswith("\n")
        first = cp.size
        chain.submit()
        cp = log.checkpoint()
        proof = log.consistency_proof(first, cp.size)
        assert merkle.verify_consistency(first, cp.size, proof, log.root(first), cp.root)
        # a proof that does not verify: 422; a proof from 0: 422
        assert add_checkpoint(url, first, [bytes(32)] * len(proof), cp.text).status_code == 422
        stale = add_checkpoint(url, 0, proof, cp.text)
        assert stale.status_code == 409 and stale.text == f"{first}\n"
        assert stale.headers["content-type"].startswith("text/x.tlog.size")
        # malformed bodies: 400
        assert add_checkpoint(url, first, [b"short"], cp.text).status_code == 400
        assert httpx.post(url + "/add-checkpoint", content=b"old 01\n\n" + cp.text.encode(),
                          timeout=10).status_code == 400
        assert add_checkpoint(url, first, [bytes(32)] * 64, cp.text).status_code == 400
        assert httpx.post(url + "/add-checkpoint", content=b"x" * 70_000,
                          timeout=10).status_code == 413
        # an unknown origin: 404; a note not signed by the trusted log key: 403
        other = cp.text.replace(log.origin, "other.example/log", 1)
        assert add_checkpoint(url, first, proof, other).status_code == 404
        body, _, sigs = cp.text.partition("\n\n")
        lines = body.split("\n")
        tampered = "\n".join([lines[0], lines[1], base64.b64encode(bytes(32)).decode()]) \
            + "\n\n" + sigs
        assert add_checkpoint(url, first, [], tampered).status_code == 403
        # the valid push, then the witness serves what it cosigned
        assert add_checkpoint(url, first, proof, cp.text).status_code == 200
        assert held(url, log.origin) == cp.size
    # a restarted witness remembers (its record is a file of the committee's home)
    with witness_process(committee, free_port(), tmp_path / "witness.log") as url:
        assert add_checkpoint(url, 0, [], cp.text).text == f"{cp.size}\n"


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_the_service_pushes_each_new_checkpoint(
        tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """`primex serve` with PRIMEX_WITNESS_URL pushes by itself; the gate then passes. The
    same service on a restored, forked home is refused, and its gate refuses."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    wport = free_port()
    state, chain, port = make_stack(tmp_path, request, "sqlite",
                                    witness_url=f"http://127.0.0.1:{wport}")
    committee = committee_home(tmp_path, chain)
    chain.up_to_output_check()
    backup = Home(tmp_path / "backup")
    shutil.copytree(chain.home.root, backup.root)  # the whole home before the sign-off
    chain.signoff()
    size = len(open_log(chain.home))
    with witness_process(committee, wport, tmp_path / "witness.log") as url:
        with ServerThread(create_app(state.settings, state), port):
            wait_for(lambda: open_log(chain.home).witnessed_at(size) is not None,
                     "the service did not push its checkpoint")
            chain.log.append("submission", None, {"spec_sha256": "d" * 64, "title": "Next",
                                                  "organisation": "HIVA - KU Leuven"},
                             chain.signers["alice"])
            wait_for(lambda: held(url, chain.log.origin) == size + 1,
                     "the service did not push the grown log")  # with a consistency proof
        assert open_log(chain.home).witnessed_at(size + 1) is not None
        build_release(chain.home, chain.request, chain.signers["spp"])
        # the insider restores the old home, signs off again, and serves it
        forked = open_log(backup)
        forked.append("signoff", chain.request, chain.signoff_body(), chain.signers["paul"])
        for _ in range(3):
            forked.append("submission", None, {"spec_sha256": "b" * 64, "title": "Forked",
                                               "organisation": "HIVA - KU Leuven"},
                          chain.signers["alice"])
        state.close()
        other = build_state(state.settings.model_copy(update={"home": backup.root}))
        with ServerThread(create_app(other.settings, other), free_port()):
            wait_for(lambda: "the committee's witness refuses (422)" in caplog.text,
                     "the forked log was not refused")
        other.close()
        assert held(url, chain.log.origin) == size + 1  # the witness did not move
    assert refused_release(chain, backup).reason == "not_witnessed"


def test_push_over_tls_needs_the_committee_ca(
        chain: Chain, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    committee = committee_home(tmp_path, chain)
    ca = ThrowawayCA(tmp_path / "pki")
    with witness_process(committee, free_port(), tmp_path / "witness.log",
                         (ca.issue("witness", server=True), ca.pem)) as url:
        assert push(chain.home, url) == 2  # the system's CAs do not know the committee's
        err = capsys.readouterr().err
        assert "cannot reach the committee's witness" in err and "Traceback" not in err
        assert main(["--home", str(chain.home.root), "audit", "witness", "push", "--url",
                     url, "--ca", str(ca.pem)]) == 0
    assert open_log(chain.home).witnessed_at(len(open_log(chain.home))) is not None
