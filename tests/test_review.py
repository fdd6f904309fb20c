"""`primex review`: the privacy officer's commands, through the CLI, on a real audit log."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from release_chain import PASS, Chain, make_chain, no_fsync, submitted_chain  # noqa: F401
from release_chain import run_cli as run

from primex.cli import main
from primex.errors import PrimexError
from primex.requests.conditions import PARAMETERS, build_conditions, service_minimums

# policy.yaml's service minimums, copied here as the reference (not read from the code)
MINIMUMS = {"k": 5, "l": 2, "max_suppression": "0.05", "min_count": 10, "p_percent": 10,
            "dominance": {"n": 2, "k": 85}}




def last(chain: Chain):  # type: ignore[no-untyped-def]
    chain.log.refresh()
    return chain.log.entries(chain.request)[-1]


def test_list_shows_what_awaits_the_officer(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "list") == 0
    out = capsys.readouterr().out
    assert chain.request in out and "review the request" in out
    chain.approve()
    assert run(chain, "review", "list") == 0
    assert "nothing awaits" in capsys.readouterr().out
    assert run(chain, "review", "list", "--all") == 0
    assert chain.request in capsys.readouterr().out


def test_approve_with_conditions(chain: Chain) -> None:
    code = run(
        chain, "review", "approve", chain.request, "--as", "olivia",
        "--conditions", "k=10", "--conditions", "max_suppression=0.01",
        "--conditions", "No publication of results below the arrondissement level.",
    )
    assert code == 0
    entry = last(chain)
    assert entry.type == "approval" and entry.actor == "olivia"
    assert entry.body["spec_sha256"] == chain.spec_sha256
    assert entry.body["conditions"] == {
        "disclosure": {**MINIMUMS, "k": 10, "max_suppression": "0.01"},
        "tightened": ["k", "max_suppression"],
        "notes": ["No publication of results below the arrondissement level."],
        "output_checks": 1,  # policy.yaml output_check.checkers, pinned (four eyes, C6)
    }
    assert chain.log.state(chain.request).state == "approved"


def test_approve_without_conditions_keeps_the_proposal(chain: Chain) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "olivia") == 0
    # the spec proposes max_suppression 0.03 (tighter than the minimum 0.05): kept
    assert last(chain).body["conditions"]["disclosure"] == {**MINIMUMS, "max_suppression": "0.03"}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("k=3", "k=3 is looser than the service minimum 5"),
        ("max_suppression=0.06", "looser than the service minimum 0.05"),
        ("max_suppression=0.04", "looser than the researcher's proposal 0.03"),
        # a table parameter on this microdata request is refused before its value is read
        ("dominance.k=90", "condition dominance.k does not apply to microdata output"),
        ("kk=10", "unknown disclosure parameter 'kk'"),
        ("k=ten", "is not an integer"),
        ("k=7.5", "is not an integer"),
        ("p_percent=nan", "condition p_percent does not apply to microdata output"),
        ("l=nan", "is not an integer"),
    ],
)
def test_conditions_only_tighten(
    chain: Chain, capsys: pytest.CaptureFixture, condition: str, message: str
) -> None:
    size = chain.log.size
    assert run(chain, "review", "approve", chain.request, "--as", "olivia",
               "--conditions", condition) == 2
    assert message in capsys.readouterr().err
    chain.log.refresh()
    assert chain.log.size == size


def test_the_requester_cannot_approve(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "approve", chain.request, "--as", "alice") == 2
    assert "approval must be signed by privacy_officer" in capsys.readouterr().err


def test_reject_and_return(chain: Chain, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "return", chain.request, "--as", "olivia") == 2
    assert "--reason" in capsys.readouterr().err  # a reason is required
    assert run(chain, "review", "return", chain.request, "--as", "olivia",
               "--reason", "wage_class is not justified by the purpose") == 0
    entry = last(chain)
    assert entry.type == "return"
    assert entry.body == {"reasons": ["wage_class is not justified by the purpose"]}
    assert chain.log.state(chain.request).state == "returned"
    other = make_chain(tmp_path / "other")
    other.submit()
    assert main(["--home", str(other.home.root), "review", "reject", other.request,
                 "--as", "olivia", "--reason", "no legal basis"]) == 0
    other.log.refresh()
    assert other.log.state(other.request).state == "rejected"


def test_check_output(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    chain.approve()
    chain.extract()
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 2
    assert "only a protected output" in capsys.readouterr().err
    chain.protect()
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve", "--return") == 2
    assert "exactly one" in capsys.readouterr().err
    (chain.protected / "spells.csv").write_bytes(b"edited by hand\n")
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 2
    assert "differ from those the disclosure result passed" in capsys.readouterr().err
    chain.protect()
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--return", "--reason", "suppress region") == 0
    assert last(chain).body["decision"] == "return"
    assert chain.log.state(chain.request).state == "extracted"
    chain.protect()
    assert run(chain, "review", "check-output", chain.request, "--as", "olivia",
               "--approve") == 0
    entry = last(chain)
    assert entry.body == {"manifest_sha256": chain.manifest().sha256, "decision": "approve"}
    assert chain.log.state(chain.request).state == "output_checked"


def test_show_is_the_review_view(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "show", chain.request) == 0
    out = capsys.readouterr().out
    assert "Labour-market trajectories" in out and "HIVA" in out
    assert "CSI deliberation 24/123" in out
    assert "pre-assessment not available" in out  # no PRIMA in this home: said, not crashed
    assert "Disclosure report" not in out
    chain.approve({"disclosure": {"k": 10}, "tightened": ["k"], "notes": ["no maps"]})
    chain.extract()
    chain.protect()
    assert run(chain, "review", "show", chain.request, "--no-assess") == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert "What was suppressed" in out and "k-anonymity (k=5)" in out
    assert "violating_k" in out  # risk before / after
    assert "no maps" in out


# --- the tightening rule as a property -----------------------------------------------------

_values = {
    name: (st.integers(0, 50).map(Decimal) if integer
           else st.decimals(min_value=0, max_value=100, places=3))
    for name, (integer, _) in PARAMETERS.items()
}


@settings(max_examples=150, deadline=None)
@given(
    officer=st.dictionaries(st.sampled_from(list(PARAMETERS)), st.just(None)).flatmap(
        lambda names: st.fixed_dictionaries({n: _values[n] for n in names})
    ),
    proposed=st.dictionaries(st.sampled_from(list(PARAMETERS)), st.just(None)).flatmap(
        lambda names: st.fixed_dictionaries({n: _values[n] for n in names})
    ),
)
def test_conditions_never_loosen(officer: dict, proposed: dict) -> None:
    minimums = service_minimums()
    items = [f"{k}={v}" for k, v in officer.items()]
    try:
        conditions = build_conditions(items, proposed, minimums)
    except PrimexError as exc:
        assert "looser" in exc.what or "not" in exc.what
        return
    flat = {}
    for key, value in conditions["disclosure"].items():
        for sub, v in (value.items() if isinstance(value, dict) else [(None, value)]):
            flat[f"{key}.{sub}" if sub else key] = Decimal(str(v))
    assert set(flat) == set(PARAMETERS)
    for name, value in flat.items():
        higher = PARAMETERS[name][1] == "higher"
        for bound in (minimums[name], proposed.get(name)):
            if bound is None or (bound < minimums[name] if higher else bound > minimums[name]):
                continue
            assert value >= bound if higher else value <= bound, (name, value, bound)
        if name in officer:
            assert value == officer[name]
    json.dumps(conditions)  # canonical-JSON-safe: no Decimal or float left
    assert not any(isinstance(v, float) for v in flat.values())


# --- closing: by hand, and automatically at the retention date (final state) ----------


def test_expire_closes_only_past_retention(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    chain.approve()
    # the chain's spec keeps the data until 2028-12-31
    assert run(chain, "review", "expire", "--as", "olivia", "--today", "2028-12-31") == 0
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "approved"
    # issue 14 #15: without --yes, expire only shows what it would close
    assert run(chain, "review", "expire", "--as", "olivia", "--today", "2029-01-01") == 0
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "approved"
    assert f"would close {chain.request}" in capsys.readouterr().out
    assert run(chain, "review", "expire", "--yes", "--as", "olivia", "--today",
               "2029-01-01") == 0
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "closed"
    assert "retention date 2028-12-31 passed" in capsys.readouterr().out
    # closed is final: nothing moves it any more
    assert run(chain, "extract", "request", chain.request, "--as", "spp") == 2
    assert run(chain, "review", "close", chain.request, "--as", "olivia", "--reason", "x") == 2


def test_only_the_officer_or_operator_closes(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "close", chain.request, "--as", "alice", "--reason", "done") == 2
    assert "researcher" in capsys.readouterr().err
    assert (
        run(chain, "review", "close", chain.request, "--as", "olivia", "--reason", "withdrawn") == 0
    )
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "closed"


def test_expire_rejects_a_bad_date(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    assert run(chain, "review", "expire", "--as", "olivia", "--today", "31/12/2029") == 2
    assert "--today" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ("return", "--reason", "check the file of 85.07.30-033.28"),
    ("reject", "--reason", "person 85073003328 is not in scope"),
    ("approve", "--conditions", "note: ask about 85 07 30 033 28"),
])
def test_a_niss_in_an_officer_text_is_refused_and_nothing_is_logged(
    chain: Chain, capsys: pytest.CaptureFixture, args: tuple[str, ...]
) -> None:
    """Issue 14 #9: free text of the officer goes into the immutable log."""
    chain.log.refresh()
    before = chain.log.size
    assert run(chain, "review", args[0], chain.request, "--as", "olivia", *args[1:]) == 2
    err = capsys.readouterr().err
    assert "national number" in err and len(err.strip().splitlines()) == 1
    assert "033" not in err  # the number is not echoed
    chain.log.refresh()
    assert chain.log.size == before
