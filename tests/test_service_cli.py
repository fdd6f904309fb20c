"""The CLI as a remote client (`--server URL`): each person runs the command on their own
machine (their own home holding only their key); the service holds no person's key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from release_chain import PASS, SPEC, no_fsync  # noqa: F401
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.audit.log import open_log


def personal_home(stack: Stack, name: str, tmp_path: Path) -> Path:
    """A home on the person's machine: only their own key folder."""
    root = tmp_path / f"home-{name}"
    shutil.copytree(stack.chain.home.keys / name, root / "keys" / name)
    return root


def primex(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRIMEX_PASSPHRASE": PASS, "PYTHONPATH": os.environ.get(
        "PYTHONPATH", str(Path(__file__).resolve().parents[1]))}
    return subprocess.run([sys.executable, "-m", "primex.cli", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_cli_remote_submit_review_and_signoff(stack: Stack, tmp_path: Path) -> None:
    alice, olivia, paul = (personal_home(stack, n, tmp_path) for n in ("alice", "olivia",
                                                                        "paul"))
    spec = tmp_path / "request.yaml"
    spec.write_text(SPEC.format(key=stack.chain.ids["alice"].encryption_public_key)
                    .replace("kind: microdata", "kind: micro"))
    bad = primex(alice, "request", "submit", str(spec), "--as", "alice",
                 "--server", stack.url)
    assert bad.returncode == 2
    assert f"{spec}:" in bad.stdout and "output.kind" in bad.stdout  # positioned problems
    spec.write_text(spec.read_text().replace("kind: micro", "kind: microdata"))
    done = primex(alice, "request", "submit", str(spec), "--as", "alice",
                  "--server", stack.url)
    assert done.returncode == 0, done.stderr
    rid = open_log(stack.chain.home, create=False).requests()[0]
    assert rid in done.stdout
    # the researcher cannot approve, even through the CLI
    refused = primex(alice, "review", "approve", rid, "--as", "alice", "--server", stack.url)
    assert refused.returncode == 2 and "privacy_officer" in refused.stderr
    ok = primex(olivia, "review", "approve", rid, "--as", "olivia", "--conditions", "k=8",
                "--server", stack.url)
    assert ok.returncode == 0, ok.stderr
    shown = primex(alice, "request", "status", rid, "--json", "--as", "alice",
                   "--server", stack.url)
    assert '"state": "approved"' in shown.stdout
    chain = stack.chain
    chain.spec_sha256 = open_log(chain.home, create=False).state(rid).spec_sha256 or ""
    chain.request = rid
    chain.extract()
    chain.protect()
    chain.check_output()
    signed = primex(paul, "signoff", rid, "--as", "paul", "--yes", "--server", stack.url)
    assert signed.returncode == 0, signed.stderr
    assert chain.manifest().sha256 in signed.stdout  # what was shown is what was signed
    log = open_log(chain.home, create=False)
    entry = log.entries(rid)[-1]
    assert (entry.type, entry.actor) == ("signoff", "paul")
    assert entry.body["manifest_sha256"] == chain.manifest().sha256


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_the_spp_operator_runs_the_jobs_from_the_cli(stack: Stack, tmp_path: Path) -> None:
    """The operator's steps on the service (extract, protect, build) were reachable only
    through Python (`RemoteClient.start_job`): the same commands as on a local home now take
    --server, wait for the job and end as the local command does."""
    spp, alice = personal_home(stack, "spp", tmp_path), personal_home(stack, "alice", tmp_path)
    chain = stack.chain
    chain.submit()
    chain.approve()
    rid = chain.request
    # no PRIMA at this service: the job fails, the CLI says why in one line, exit 2
    failed = primex(spp, "extract", "request", rid, "--as", "spp", "--server", stack.url)
    assert failed.returncode == 2 and "extract job" in failed.stderr
    assert "prima" in failed.stderr.lower() and "Traceback" not in failed.stderr
    # a researcher may not start the operator's jobs
    refused = primex(alice, "extract", "request", rid, "--as", "alice", "--server", stack.url)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    chain.extract()
    chain.protect()
    chain.check_output()
    chain.signoff()
    unwitnessed = primex(spp, "release", "build", rid, "--as", "spp", "--server", stack.url)
    assert unwitnessed.returncode == 2 and "witness" in unwitnessed.stderr
    chain.witness()
    built = primex(spp, "release", "build", rid, "--as", "spp", "--server", stack.url)
    assert built.returncode == 0, built.stderr
    assert "build done" in built.stdout
    assert open_log(chain.home, create=False).entries(rid)[-1].type == "release"
    misplaced = primex(spp, "release", "build", rid, "--as", "spp", "--out", "x.primex",
                       "--server", stack.url)
    assert misplaced.returncode == 2 and "--out cannot be given with --server" in \
        misplaced.stderr
