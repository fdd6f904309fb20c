"""The officer's conditions (issue 14 #17): a free-text condition containing '=' never
silently becomes (or silently fails to become) an enforced parameter, and `review amend`
records a new version of the conditions that the protection step then applies."""

from __future__ import annotations

import pytest
from release_chain import PASS, Chain, make_chain, no_fsync, submitted_chain  # noqa: F401
from release_chain import run_cli as run

from primex.protection.step import effective_policy
from primex.requests.store import load_submitted


@pytest.mark.parametrize("text", [
    "Only publish at region level; k=10",       # a parameter hidden in a sentence
    "k=10\nand nothing below the region level",  # a parameter on the first of two lines
    "publish when p_percent = 20 is met",
])
def test_free_text_with_an_equals_sign_is_refused(
    chain: Chain, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    size = chain.log.size
    assert run(chain, "review", "approve", chain.request, "--as", "olivia",
               "--conditions", text) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "contains '='" in err[0] and "--conditions" in err[0]
    chain.log.refresh()
    assert chain.log.size == size  # no approval recorded


def test_the_approval_says_what_is_enforced(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "olivia",
               "--conditions", "k=7", "--conditions", "Publish no result below the region.") == 0
    out = capsys.readouterr().out
    assert "k=7 (yours)" in out and "min_count=10," in out
    assert "note (not enforced by the software): Publish no result below the region." in out


def test_amend_records_a_new_version_the_protection_step_applies(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "olivia",
               "--conditions", "k=7", "--conditions", "Aggregated use only.") == 0
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=9", "--conditions", "max_suppression=0.02",
               "--reason", "the linked variables make small groups easier to spot") == 0
    chain.log.refresh()
    entry = chain.log.entries(chain.request)[-1]
    assert entry.type == "amendment" and entry.actor == "olivia"
    assert entry.body["reason"] == "the linked variables make small groups easier to spot"
    assert entry.body["conditions"]["disclosure"]["k"] == 9
    assert entry.body["conditions"]["tightened"] == ["k", "max_suppression"]
    st = chain.log.state(chain.request)
    assert st.state == "approved" and st.conditions == entry.body["conditions"]
    out = capsys.readouterr().out
    assert "note dropped: Aggregated use only." in out
    spec, _raw, _sha = load_submitted(chain.home, chain.request)
    policy = effective_policy(spec, st.conditions)
    # a microdata request: min_count would be refused (it does not apply; issue 16 review)
    assert policy.microdata.k == 9 and policy.microdata.max_suppression == 0.02


def test_amend_never_loosens_the_conditions_in_force(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "olivia",
               "--conditions", "k=9") == 0
    capsys.readouterr()
    chain.log.refresh()
    size = chain.log.size
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=6", "--reason", "changed my mind") == 2
    err = capsys.readouterr().err
    assert "may only tighten the conditions in force: k=6 is looser than the 9 in force" in err
    chain.log.refresh()
    assert chain.log.size == size


def test_amend_needs_an_approved_request_a_reason_and_the_officer(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    # not approved yet: the workflow refuses
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=8", "--reason", "x") == 2
    assert "amendment is not allowed" in capsys.readouterr().err
    assert run(chain, "review", "approve", chain.request, "--as", "olivia") == 0
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=8", "--reason", " ") == 2
    assert "--reason" in capsys.readouterr().err
    assert run(chain, "review", "amend", chain.request, "--as", "paul",
               "--conditions", "k=8", "--reason", "x") == 2
    assert "privacy_officer" in capsys.readouterr().err


def test_the_committee_report_shows_the_amendment(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "olivia") == 0
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=8", "--reason", "small municipalities") == 0
    capsys.readouterr()
    assert run(chain, "audit", "report", "--request", chain.request) == 0
    out = capsys.readouterr().out
    assert "conditions amended" in out and "reason: small municipalities" in out


def test_an_output_protected_before_an_amendment_cannot_be_approved(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.approve({"disclosure": {}, "tightened": [], "notes": []})
    chain.extract()
    chain.protect()
    assert run(chain, "review", "amend", chain.request, "--as", "olivia",
               "--conditions", "k=8", "--reason", "new information") == 0
    capsys.readouterr()
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 2
    assert "amended after this output was protected" in capsys.readouterr().err
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "protected"
    chain.protect()  # protected again under the amended conditions: it can be approved
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 0
