"""Issue 14, audit side: an insider with write access to the SPP home attacks the log, and
every step refuses through the CLI (exit 2, one line naming the entry, nothing written).

Each test performs the attack end to end through `primex` (in-process `cli.main`) on a
request chain built with tests/release_chain.py."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import cli, forge_line, one_line_error, tree_state
from release_chain import PASS, Chain, make_chain

from primex.audit.canonical import sha256_hex
from primex.audit.keys import create_identity
from primex.audit.log import open_log

EXTRACT = {"files": [{"name": "extract.parquet", "bytes": 3, "sha256": "e" * 64}]}
INPUTS = [{"name": "extract.parquet", "sha256": "e" * 64}]


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)


def custody(chain: Chain) -> Chain:
    """Make the chain's steps record the chain of custody (CONTRACTS.md C1) as the real
    extraction and protection steps do: the extract's manifest, the protection's input."""
    real = chain.log.append

    def append(type_: str, rid: str | None, b: dict[str, Any], signer: Any) -> Any:
        if type_ == "extraction":
            b = {**b, "manifest_sha256": sha256_hex(EXTRACT), "manifest": EXTRACT}
        if type_ == "disclosure_result":
            b = {**b, "inputs": INPUTS}
        return real(type_, rid, b, signer)

    chain.log.append = append  # type: ignore[method-assign]
    return chain


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return custody(make_chain(tmp_path))


def refused(chain: Chain, capsys: Any, *args: str) -> str:
    """Run the command; it must exit 2 with one line and change nothing in the home."""
    before = tree_state(chain.home.root)
    rc, _, err = cli(chain.home, *args, capsys=capsys)
    line = one_line_error(err)
    assert rc == 2, line
    assert tree_state(chain.home.root) == before, f"{args} wrote something"
    return line


# --- 1. forged entries: every step verifies the request's whole history ---------------------
def _forged_approval(chain: Chain) -> int:
    chain.submit()
    return forge_line(chain.home, "approval", chain.request,
                      {"spec_sha256": chain.spec_sha256, "conditions": {}}, "olivia")


def test_forged_approval_stops_extraction_and_status(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = _forged_approval(chain)
    line = refused(chain, capsys, "extract", "request", chain.request, "--as", "spp")
    assert f"entry {seq} (approval)" in line and "signature by 'olivia' does not verify" in line
    assert not (chain.home.spp_work / chain.request).exists()
    for args in (("request", "status", chain.request), ("request", "status")):
        line = refused(chain, capsys, *args)
        assert f"entry {seq}" in line and "does not verify" in line


@pytest.mark.parametrize(
    ("steps", "event", "actor", "body", "command"),
    [
        ("approve extract", "extraction", "spp", {"manifest_sha256": "a" * 64},
         ["disclosure", "protect", "{rid}", "--as", "spp"]),
        ("approve extract protect", "output_check", "olivia",
         {"manifest_sha256": "{manifest}", "decision": "approve"},
         ["signoff", "{rid}", "--as", "paul", "--yes"]),
        ("approve extract protect", "disclosure_result", "spp",
         {"manifest_sha256": "{manifest}", "passed": True, "report_sha256": "5" * 64},
         ["review", "check-output", "{rid}", "--as", "olivia", "--approve"]),
        ("approve extract protect check_output", "signoff", "paul",
         {"manifest_sha256": "{manifest}", "manifest": "{manifest_dict}"},
         ["release", "build", "{rid}", "--as", "spp"]),
    ],
)
def test_every_step_refuses_a_forged_history(
    chain: Chain, capsys: pytest.CaptureFixture[str], steps: str, event: str, actor: str,
    body: dict[str, Any], command: list[str],
) -> None:
    chain.submit()
    for step in steps.split():
        getattr(chain, step)()
    manifest = chain.manifest() if chain.protected.exists() else None
    filled = {
        k: (manifest.sha256 if v == "{manifest}" else manifest.as_dict()
            if v == "{manifest_dict}" else v) if manifest else v
        for k, v in body.items()
    }
    seq = forge_line(chain.home, event, chain.request, filled, actor)
    line = refused(chain, capsys, *[a.replace("{rid}", chain.request) for a in command])
    assert f"entry {seq}" in line and "does not verify" in line, line


def test_witness_and_report_do_not_take_a_forged_entry_for_real(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    seq = _forged_approval(chain)
    line = refused(chain, capsys, "audit", "witness", "cosign", "--as", "committee")
    assert f"entry {seq}" in line and "does not verify" in line
    assert refused(chain, capsys, "audit", "log").count("does not verify") == 1
    rc, out, _ = cli(chain.home, "audit", "report", "--format", "md", capsys=capsys)
    assert rc == 0  # the committee gets its report, which names the forgery...
    assert "VERIFICATION FAILED" in out and "NOT TRUSTED" in out
    assert "olivia (privacy_officer)" not in out  # ...and never tells it as an approval


def test_forged_key_registration_is_refused_everywhere(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.submit()
    mallory = create_identity(chain.home, "president", "mallory", PASS)
    seq = forge_line(chain.home, "key_add", None, {
        "name": "mallory", "role": "president", "person": "mallory",
        "ed25519": base64.b64encode(mallory.public_key_bytes).decode(),
    }, "committee")
    for args in (("keys", "list"), ("request", "status"),
                 ("review", "approve", chain.request, "--as", "olivia")):
        line = refused(chain, capsys, *args)
        assert f"entry {seq}" in line and "signature by 'committee' does not verify" in line
    rc, _, err = cli(chain.home, "audit", "verify", "--no-witness", capsys=capsys)
    assert rc == 2 and f"entry {seq}: signature check failed" in err


# --- 2. a revocation survives a stripped newline, and a cut revocation is caught -------------
def test_revocation_without_its_final_newline_survives(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.up_to_output_check()
    rc, out, err = cli(chain.home, "keys", "revoke", "paul", "--by", "committee",
                       "--reason", "laptop stolen", capsys=capsys)
    assert rc == 0, err
    assert "cosigned" in out  # checkpointed and witnessed at once
    path = chain.home.audit / "entries.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-1])  # the insider strips the final newline
    line = refused(chain, capsys, "signoff", chain.request, "--as", "paul", "--yes")
    assert "revoked" in line
    log = open_log(chain.home)
    assert log.registry.keys["paul"].revoked_seq == log.size - 1
    # the next writer completes the line instead of cutting it
    rc, _, err = cli(chain.home, "keys", "init", "--role", "president", "--name", "pia",
                     "--by", "committee", capsys=capsys)
    assert rc == 0, err
    assert path.read_bytes().startswith(data) and not (chain.home.audit / "torn").exists()


def test_a_revocation_cut_off_the_log_blocks_every_release(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.up_to_output_check()
    chain.log.close()
    backup = chain.home.root.parent / "audit-backup"
    shutil.copytree(chain.home.audit, backup)
    rc, _, err = cli(chain.home, "keys", "revoke", "paul", "--by", "committee",
                     "--reason", "laptop stolen", capsys=capsys)
    assert rc == 0, err
    # the insider restores the log and its checkpoints from before the revocation
    shutil.rmtree(chain.home.audit)
    shutil.copytree(backup, chain.home.audit)
    rc, _, err = cli(chain.home, "signoff", chain.request, "--as", "paul", "--yes",
                     capsys=capsys)
    assert rc == 0, err  # the log alone cannot know...
    held = tree_state(chain.home.witness)
    rc, _, err = cli(chain.home, "audit", "witness", "cosign", "--as", "committee",
                     capsys=capsys)  # the log signs its new checkpoint; the witness refuses:
    assert rc == 2 and "witness refuses (409)" in one_line_error(err)  # it holds the revocation
    assert tree_state(chain.home.witness) == held
    line = refused(chain, capsys, "release", "build", chain.request, "--as", "spp")
    assert "not_witnessed" in line
    rc, _, err = cli(chain.home, "audit", "verify", capsys=capsys)
    assert rc == 2 and "witness check failed" in err


# --- 3. the committee's resume record is authenticated --------------------------------------
def test_edited_entry_with_a_fixed_resume_record_is_caught(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.up_to_signoff()
    rc, _, err = cli(chain.home, "audit", "verify", capsys=capsys)
    assert rc == 0, err
    path = chain.home.audit / "entries.jsonl"
    data = path.read_bytes()
    edited = data.replace(b"of young adults", b"of YOUNG adults", 1)  # same length
    assert edited != data and len(edited) == len(data)
    path.write_bytes(edited)
    meta_path = chain.home.witness / "verified" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["prefix_sha256"] = hashlib.sha256(edited[: meta["prefix_bytes"]]).hexdigest()
    meta_path.write_text(json.dumps(meta))
    rc, _, err = cli(chain.home, "audit", "verify", capsys=capsys)
    assert rc == 2 and "signature check failed" in one_line_error(err)


# --- 4. without the witness nothing is proven -----------------------------------------------
def test_without_witness_state_verify_says_not_proven(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.up_to_signoff(witnessed=False)
    open_log(chain.home).checkpoint()
    line = refused(chain, capsys, "audit", "verify")
    assert "witness check failed: not proven" in line
    rc, out, err = cli(chain.home, "audit", "verify", "--no-witness", capsys=capsys)
    assert rc == 0 and "warning: no witness state" in out, err


def test_deleting_every_checkpoint_is_caught(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.up_to_signoff()
    for p in (chain.home.audit / "checkpoints").iterdir():
        p.unlink()
    (chain.home.audit / "checkpoint").unlink()
    rc, out, err = cli(chain.home, "audit", "verify", capsys=capsys)
    assert rc == 2 and "no longer holds the checkpoint" in one_line_error(err)
    assert "0 checkpoints" not in out


# --- 5. no lock-out, and a revoked key does nothing ------------------------------------------
def test_last_key_of_a_role_and_revoked_cosigner(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("log", "committee"):
        line = refused(chain, capsys, "keys", "revoke", name, "--by", "committee",
                       "--reason", "gone")
        assert "last active" in line and "successor" in line
    rc, _, err = cli(chain.home, "keys", "init", "--role", "committee", "--name", "comm2",
                     "--by", "committee", capsys=capsys)
    assert rc == 0, err
    rc, _, err = cli(chain.home, "keys", "revoke", "committee", "--by", "comm2",
                     "--reason", "retired", capsys=capsys)
    assert rc == 0, err
    line = refused(chain, capsys, "audit", "witness", "cosign", "--as", "committee")
    assert "revoked" in line
    line = refused(chain, capsys, "keys", "init", "--role", "researcher", "--name", "eve",
                   "--by", "committee")
    assert "not an active committee key" in line


# --- 7. the Markdown report carries no markup and no hidden text ----------------------------
def test_report_escapes_html_and_bidi_overrides(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.submit()
    chain.log.append("return", chain.request, {
        "reasons": ["<img src=x onerror=alert(1)> see `x` \u202egpj.exe \u2066a\u2069"],
    }, chain.signers["olivia"])
    chain.witness()
    for fmt in ("md", "html"):
        rc, out, err = cli(chain.home, "audit", "report", "--format", fmt, capsys=capsys)
        assert rc == 0, err
        assert "<img" not in out and "\u202e" not in out and "\u2066" not in out
        assert "\\u202e" in out  # shown, visibly
    rc, out, _ = cli(chain.home, "audit", "report", "--format", "md", capsys=capsys)
    assert "&lt;img src=x onerror=alert(1)&gt;" in out


# --- 8. the chain of custody, link by link ---------------------------------------------------
def test_verify_checks_the_chain_of_custody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chain = make_chain(tmp_path)  # steps that do not record what they read
    chain.up_to_signoff()
    rc, _, err = cli(chain.home, "audit", "verify", capsys=capsys)
    seq = next(e.seq for e in chain.log.entries(chain.request)
               if e.type == "disclosure_result")
    assert rc == 2
    assert f"entry {seq}: custody check failed: the disclosure_result does not record" in err
    swapped = custody(make_chain(tmp_path / "b"))
    swapped.submit()
    swapped.approve()
    swapped.extract()
    swapped.log.append("coding", swapped.request, {  # BCSS coded another file
        "manifest_sha256": "b" * 64, "key_id": "v1:00",
        "manifest": {"inputs": [{"name": "extract.parquet", "sha256": "f" * 64}],
                     "files": [{"name": "coded.parquet", "sha256": "c" * 64}]},
    }, swapped.signers["bob"])
    rc, _, err = cli(swapped.home, "audit", "verify", "--no-witness", capsys=capsys)
    assert rc == 2 and "custody check failed: input ffffffffffff… is not a file the " \
        "latest extraction recorded" in err


def test_an_honest_chain_verifies(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    chain.up_to_signoff()
    rc, out, err = cli(chain.home, "audit", "verify", capsys=capsys)
    assert rc == 0 and "ok: " in out, err

