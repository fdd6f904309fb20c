"""Four eyes (issue 18 #2, CONTRACTS.md C6): with policy.yaml `output_check: {checkers: 2}`
the president may sign off only after two DIFFERENT privacy officers approved the output
after its latest disclosure result. Each attack runs end to end: through the CLI, the
release gate and the committee's verifier."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from release_attack_helpers import log_lines
from release_chain import PASS, Chain, make_chain, no_fsync  # noqa: F401

from primex.audit.canonical import dumps
from primex.audit.entry import signed_bytes
from primex.audit.keys import Signer
from primex.audit.merkle import leaf_hash
from primex.audit.reasons import Reason
from primex.catalogue import policy as policy_module
from primex.cli import main
from primex.committee.verify import verify_log
from primex.errors import PermissionDenied
from primex.release.gate import REASONS, ReleaseRefused, check_release

SECOND = "oscar"  # a second privacy officer (another person)


EXTRACT = "e" * 64


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """The release tests' chain, whose extraction and disclosure result also record the
    chain of custody (C1), so that the committee's verify passes on the honest path."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    chain = make_chain(tmp_path, {SECOND: "privacy_officer"})
    original = chain.log.append

    def append(event: str, request: str | None, body: dict[str, Any], signer: Any,
               **kw: Any) -> Any:
        if event == "extraction":
            body = {**body, "manifest": {"files": [
                {"name": "extract.parquet", "bytes": 1, "sha256": EXTRACT}]}}
        elif event == "disclosure_result":
            body = {**body, "inputs": [{"name": "extract.parquet", "sha256": EXTRACT}]}
        return original(event, request, body, signer, **kw)

    monkeypatch.setattr(chain.log, "append", append)
    return chain


def four_eyes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """policy.yaml as shipped, with `output_check.checkers: 2`."""
    text = policy_module.POLICY_PATH.read_text("utf-8")
    assert "  checkers: 1\n" in text
    path = tmp_path / "policy-four-eyes.yaml"
    path.write_text(text.replace("  checkers: 1\n", "  checkers: 2\n"), "utf-8")
    monkeypatch.setattr(policy_module, "POLICY_PATH", path)


def run(chain: Chain, *args: str) -> int:
    return main(["--home", str(chain.home.root), *args])


def protected(chain: Chain) -> None:
    """Submitted, approved through the CLI (conditions from the policy), extracted,
    protected."""
    chain.submit()
    assert run(chain, "review", "approve", chain.request, "--as", "olivia") == 0
    chain.log.refresh()
    chain.extract()
    chain.protect()


def test_policy_default_is_one_checker() -> None:
    assert policy_module.load_policy().output_check.checkers == 1


def test_two_different_officers_then_signoff(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    four_eyes(monkeypatch, tmp_path)
    protected(chain)
    assert chain.log.state(chain.request).conditions["output_checks"] == 2  # type: ignore[index]
    assert run(chain, "review", "output-check", chain.request, "--as", "olivia",
               "--approve") == 0
    assert "(1 of 2 output checks; another privacy officer" in capsys.readouterr().out
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "protected"

    # the same officer again (even with the old command name): refused, nothing logged
    size = chain.log.size
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'olivia' already approved this output" in err[0]
    # the president cannot sign off after one check
    assert run(chain, "signoff", chain.request, "--as", "paul", "--yes") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 of 2 output checks" in err[0]
    chain.log.refresh()
    assert chain.log.size == size

    assert run(chain, "review", "output-check", chain.request, "--as", SECOND,
               "--approve") == 0
    assert "(2 of 2 output checks)" in capsys.readouterr().out
    chain.log.refresh()
    st = chain.log.state(chain.request)
    assert st.state == "output_checked" and st.output_checkers == ["olivia", SECOND]
    assert run(chain, "signoff", chain.request, "--as", "paul", "--yes") == 0
    chain.witness()
    evidence = check_release(chain.home, chain.request)
    assert evidence.signoff.actor == "paul"
    assert verify_log(chain.home).ok


def test_a_return_by_the_second_officer_resets_the_checks(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    four_eyes(monkeypatch, tmp_path)
    protected(chain)
    assert run(chain, "review", "output-check", chain.request, "--as", "olivia",
               "--approve") == 0
    assert run(chain, "review", "output-check", chain.request, "--as", SECOND,
               "--return", "--reason", "the region column is too fine") == 0
    chain.log.refresh()
    st = chain.log.state(chain.request)
    assert st.state == "extracted" and st.output_checkers == []
    chain.protect()
    chain.check_output()  # olivia again, on the new output: allowed
    assert chain.log.state(chain.request).state == "protected"


def test_an_amendment_cannot_lower_the_number_of_checks(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    four_eyes(monkeypatch, tmp_path)
    protected(chain)
    conditions = {**(chain.log.state(chain.request).conditions or {}), "output_checks": 1}
    size = chain.log.size
    with pytest.raises(PermissionDenied, match="may not lower the number of output checks"):
        chain.log.append("amendment", chain.request,
                         {"conditions": conditions, "reason": "one check is enough"},
                         chain.signers["olivia"])
    chain.log.refresh()
    assert chain.log.size == size


def test_gate_refuses_a_signoff_with_one_check_when_the_policy_says_two(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Signed off after one check under checkers: 1; the policy is then raised to 2: the
    gate refuses (check 9), the release command too; the committee's verify flags the
    sign-off when it demands two checks for the period."""
    chain.up_to_signoff()
    signoff = chain.log.entries(chain.request)[-1]
    assert signoff.type == "signoff"
    four_eyes(monkeypatch, tmp_path)
    with pytest.raises(ReleaseRefused) as info:
        check_release(chain.home, chain.request)
    assert info.value.reason == "too_few_output_checks"
    assert isinstance(info.value, REASONS["too_few_output_checks"])
    assert "1 of 2 output checks" in info.value.one_line()
    size = chain.log.size
    assert run(chain, "release", "build", chain.request, "--as", "spp") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too_few_output_checks" in err[0]
    chain.log.refresh()
    assert chain.log.size == size and not any(chain.home.releases.glob("*"))
    assert verify_log(chain.home, full=True).ok  # the number the approval recorded: 1
    result = verify_log(chain.home, full=True, output_checkers=2)
    failure = result.first_failure
    assert failure is not None and failure.reason == Reason.FOUR_EYES
    assert failure.seq == signoff.seq and "1 of 2 output checks" in failure.message
    capsys.readouterr()
    # The committee's command: a sign-off valid under the approval it followed is not a
    # failure of the log; the committee states a stricter minimum for a period explicitly.
    run(chain, "audit", "verify", "--full", "--no-witness")
    out = capsys.readouterr()
    assert "workflow check failed" not in out.out + out.err
    assert run(chain, "audit", "verify", "--full", "--no-witness",
               "--output-checkers", "2") == 2
    out = capsys.readouterr()
    assert f"entry {signoff.seq}: workflow check failed: sign-off after 1 of 2 output " \
        "checks" in out.out + out.err


def _append_signed(chain: Chain, kind: str, body: dict[str, Any], signer: Signer) -> None:
    """An insider holding the president's key writes the entry straight into the file,
    past the log's own workflow check (right seq, prev link and signature)."""
    lines = log_lines(chain.home)
    entries = [json.loads(line) for line in lines]
    previous = [line for line, e in zip(lines, entries, strict=True)
                if e["request"] == chain.request]
    entry = {
        "v": 1, "origin": entries[0]["origin"], "seq": len(lines),
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "type": kind,
        "request": chain.request, "prev": leaf_hash(previous[-1]).hex(), "body": body,
        "actor": signer.name,
    }
    entry["sig"] = base64.b64encode(signer.sign(signed_bytes(entry))).decode()
    with (chain.home.audit / "entries.jsonl").open("ab") as fh:
        fh.write(dumps(entry) + b"\n")


def test_a_signoff_written_past_the_workflow_is_refused_and_flagged(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    four_eyes(monkeypatch, tmp_path)
    protected(chain)
    assert run(chain, "review", "output-check", chain.request, "--as", "olivia",
               "--approve") == 0
    chain.log.refresh()
    seq = chain.log.size
    _append_signed(chain, "signoff", chain.signoff_body(), chain.signers["paul"])
    result = verify_log(chain.home, full=True, require_witness=False)
    failure = result.first_failure
    assert failure is not None and failure.reason == Reason.FOUR_EYES and failure.seq == seq
    capsys.readouterr()
    assert run(chain, "release", "build", chain.request, "--as", "spp") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 of 2 output checks" in err[0]
    assert not chain.home.releases.exists() or not any(chain.home.releases.iterdir())
