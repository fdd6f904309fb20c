"""`primex review approve` / `amend` refuse a table parameter on a microdata request (and a
microdata parameter on a table request) with the service's one line: one check
(`primex.requests.conditions.check_applies`) for the CLI and the service's approval route."""

from __future__ import annotations

import pytest
from release_chain import (  # noqa: F401 (fixture)
    Chain,
    no_fsync,
    run_cli,
    submitted_chain,
)

from primex.errors import PrimexError
from primex.requests.conditions import check_applies


def _approvals(chain: Chain) -> int:
    chain.log.refresh()
    return sum(1 for e in chain.log.entries() if e.type == "approval")


@pytest.mark.parametrize("condition", ["min_count=10", "p_percent=15", "dominance.n=3",
                                       "dominance.k=80"])
def test_cli_refuses_a_table_parameter_on_microdata(
    chain: Chain, condition: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the chain's request asks for microdata (tests/release_chain.py SPEC)
    rc = run_cli(chain, "review", "approve", chain.request, "--as", "olivia",
                 "--conditions", "k=6", "--conditions", condition)
    err = capsys.readouterr().err.strip()
    name = condition.split("=")[0]
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert f"condition {name} does not apply to microdata output" in err
    assert "microdata output takes k, l, max_suppression" in err
    assert _approvals(chain) == 0  # nothing recorded


def test_cli_line_is_the_services(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    """Word for word what the service's approval route raises (the same function)."""
    with pytest.raises(PrimexError) as refused:
        check_applies(["min_count=10"], "microdata")
    assert run_cli(chain, "review", "approve", chain.request, "--as", "olivia",
                   "--conditions", "min_count=10") == 2
    assert capsys.readouterr().err.strip() == f"error: {refused.value.one_line()}"


def test_cli_amend_refuses_a_table_parameter_on_microdata(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(chain, "review", "approve", chain.request, "--as", "olivia",
                   "--conditions", "k=6") == 0
    chain.extract()
    capsys.readouterr()
    rc = run_cli(chain, "review", "amend", chain.request, "--as", "olivia",
                 "--reason", "tighter", "--conditions", "k=7",
                 "--conditions", "min_count=12")
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert "condition min_count does not apply to microdata output" in err
    chain.log.refresh()
    assert not [e for e in chain.log.entries() if e.type == "amendment"]


def test_cli_still_takes_microdata_parameters_notes_and_levels(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = run_cli(chain, "review", "approve", chain.request, "--as", "olivia",
                 "--conditions", "k=6", "--conditions", "max_suppression=0.02",
                 "--conditions", "age=age_10y", "--conditions", "No result below region.")
    assert rc == 0, capsys.readouterr().err
    assert _approvals(chain) == 1
