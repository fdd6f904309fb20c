"""Closing requests: by hand, and automatically at the retention date (final state)."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_chain import PASS, Chain, make_chain

from primex.cli import main


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    c = make_chain(tmp_path)
    c.submit()
    return c


def run(chain: Chain, *args: str) -> int:
    return main(["--home", str(chain.home.root), *args])


def test_expire_closes_only_past_retention(chain: Chain, capsys: pytest.CaptureFixture) -> None:
    chain.approve()
    # the chain's spec keeps the data until 2028-12-31
    assert run(chain, "review", "expire", "--as", "olivia", "--today", "2028-12-31") == 0
    chain.log.refresh()
    assert chain.log.state(chain.request).state == "approved"
    assert run(chain, "review", "expire", "--as", "olivia", "--today", "2029-01-01") == 0
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
