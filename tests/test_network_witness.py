"""The SPP's log served as C2SP tlog-tiles and the committee's remote witness (issue 19 #4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from release_chain import PASS, Chain
from service_fixtures import ServerThread, free_port, make_stack

from primex.audit import merkle
from primex.audit.keys import load_signer
from primex.audit.log import open_log
from primex.committee.witness import WitnessError
from primex.home import Home
from primex.service.app import build_state, create_app
from primex.service.client import RemoteClient, RemoteError
from primex.service.tlog_tiles import (
    encode_index,
    entry_bundle,
    hash_tile,
    parse_bundle,
    parse_tile_path,
)
from primex.service.witness_client import witness_remote


def test_tile_paths_follow_the_spec() -> None:
    assert encode_index(1234067) == "x001/x234/067"  # the example of c2sp.org/tlog-tiles
    assert encode_index(5) == "005"
    assert parse_tile_path("0/x001/x234/067") == ("0", 1234067, 256)
    assert parse_tile_path("entries/003.p/17") == ("entries", 3, 17)
    for bad in ("0/1234", "0/x001", "0/001.p/256", "9x/001", "0/001.p/0"):
        with pytest.raises(ValueError):
            parse_tile_path(bad)


def test_tiles_recompose_the_merkle_tree() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(600)]
    level1 = hash_tile(leaves, 1, 0, 2)  # two complete 256-leaf subtrees
    assert level1[:32] == merkle.root(leaves[:256])
    full = merkle.root(leaves[:512])
    assert full == merkle._node(level1[:32], level1[32:])  # RFC 9162 inner node
    assert hash_tile(leaves, 0, 2, 88) == b"".join(leaves[512:600])
    with pytest.raises(LookupError):
        hash_tile(leaves, 0, 2, 89)  # beyond the tree
    raws = [b"entry %d" % i for i in range(300)]
    assert parse_bundle(entry_bundle(raws, 1, 44)) == raws[256:300]


class Spp:
    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.state, self.chain, self.port = make_stack(tmp_path, request, "sqlite")
        self.tmp = tmp_path

    def serve(self, home: Path | None = None) -> ServerThread:
        state = self.state
        if home is not None:  # another home in place of the SPP's (a restored backup);
            # the accounts database is not in the home: the same one
            state = build_state(state.settings.model_copy(update={"home": home}))
        return ServerThread(create_app(state.settings, state), free_port())


@pytest.fixture
def spp(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
        ) -> Spp:
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    return Spp(tmp_path, request)


def committee_home(tmp_path: Path, chain: Chain) -> Home:
    """The committee's own home: its key, nothing of the SPP."""
    home = Home(tmp_path / "committee-home")
    shutil.copytree(chain.home.keys / "committee", home.keys / "committee")
    return home


def test_remote_witness_cosigns_and_refuses_a_rollback_of_the_whole_home(
        spp: Spp, tmp_path: Path) -> None:
    chain = spp.chain
    committee = committee_home(tmp_path, chain)
    signer = load_signer(committee, "committee", PASS)
    log_key = open_log(chain.home).log_key().public_key
    chain.submit()
    backup = tmp_path / "backup" / "home"
    shutil.copytree(chain.home.root, backup)  # the SPP home as it is now
    with spp.serve() as server:
        first = witness_remote(committee, server.url, signer, trust_key=log_key)
        n0 = first.checkpoint.size
        assert first.previous_size == 0 and first.fetched_entries == n0
        # the SPP stored the cosignature: the release gate's witnessed checkpoint
        assert open_log(chain.home).witnessed_at(n0) is not None
        chain.approve()
        chain.extract()
        second = witness_remote(committee, server.url, signer)
        assert second.previous_size == n0
        # resumed from the bundle holding entry n0 (not from 0): a partial bundle again
        assert second.fetched_entries == second.checkpoint.size - (n0 // 256) * 256
        assert second.checkpoint.size == n0 + 2
    # the insider restores the old home over the SPP's (log, checkpoints, everything)
    with spp.serve(backup) as server, pytest.raises(WitnessError) as refused:
        witness_remote(committee, server.url, signer)
    assert refused.value.status == 409 and "rollback" in refused.value.what
    # ... or forks it: other entries up to a larger size
    forked = open_log(Home(backup))
    for _ in range(3):
        forked.append("submission", None, {"spec_sha256": "b" * 64, "title": "Forked",
                                           "organisation": "HIVA - KU Leuven"},
                      chain.signers["alice"])
    with spp.serve(backup) as server, pytest.raises(WitnessError) as refused:
        witness_remote(committee, server.url, signer)
    assert refused.value.status == 409 and "fork" in refused.value.what
    # the committee's state was not moved by the refused checkpoints
    with spp.serve() as server:
        assert witness_remote(committee, server.url, signer).previous_size == n0 + 2


def test_a_new_log_key_is_refused(spp: Spp, tmp_path: Path) -> None:
    """A whole new SPP home (a new log with a new key under the same origin) is not cosigned."""
    committee = committee_home(tmp_path, spp.chain)
    signer = load_signer(committee, "committee", PASS)
    other_key = bytes(32)
    with spp.serve() as server, pytest.raises(WitnessError) as refused:
        witness_remote(committee, server.url, signer, trust_key=other_key)
    assert refused.value.status == 403


def test_the_first_run_needs_the_published_log_key(spp: Spp, tmp_path: Path) -> None:
    committee = committee_home(tmp_path, spp.chain)
    signer = load_signer(committee, "committee", PASS)
    with spp.serve() as server, pytest.raises(WitnessError) as refused:
        witness_remote(committee, server.url, signer)
    assert refused.value.status == 404


def test_tiles_are_for_the_committee_only(spp: Spp) -> None:
    with spp.serve() as server:
        assert httpx.get(server.url + "/tlog/checkpoint").status_code == 401
        with RemoteClient(server.url, spp.chain.signers["alice"]) as alice, \
                pytest.raises(RemoteError) as denied:
            alice.call("GET", "/tlog/tile/entries/000.p/1", raw=True)
        assert denied.value.status == 403
