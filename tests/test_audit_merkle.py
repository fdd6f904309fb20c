"""RFC 9162 Merkle hashing and proofs: RFC 6962 root vectors, the 196 transparency-dev
vectors (when ../shared is present), properties over random trees, leaf/node confusion."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primex.audit import merkle
from primex.audit.tree import MerkleTree
from primex.errors import IntegrityError

# RFC 6962 test leaves and the roots of their prefixes (transparency-dev/merkle
# testonly/constants.go, the same values as certificate-transparency's tests).
LEAVES = [
    b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70)),
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTORS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "merkle-vectors"


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    hashes = [merkle.leaf_hash(x) for x in LEAVES[:size]]
    assert merkle.root(hashes).hex() == ROOTS[size]
    assert MerkleTree(hashes).root().hex() == ROOTS[size]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    # attack 13: a 64-byte leaf equal to L || R must not hash like the inner node (L, R)
    left, right = merkle.leaf_hash(LEAVES[0]), merkle.leaf_hash(LEAVES[1])
    two_leaf_root = merkle.root([left, right])
    forged = merkle.leaf_hash(left + right)
    assert forged != two_leaf_root
    assert merkle.root([forged]) != two_leaf_root
    with pytest.raises(IntegrityError):
        merkle.verify_inclusion(forged, 0, 1, [], two_leaf_root)


def _b64(x: str | None) -> bytes:
    return base64.b64decode(x) if x else b""


def test_transparency_dev_vectors() -> None:
    if not VECTORS.is_dir():
        pytest.skip("transparency-dev vectors not present (../shared/reference)")
    files = sorted(VECTORS.rglob("*.json"))
    assert len(files) == 196
    wrong = []
    for f in files:
        v = json.loads(f.read_text())
        try:
            if "inclusion" in f.relative_to(VECTORS).parts:
                merkle.verify_inclusion(
                    _b64(v["leafHash"]), v["leafIdx"], v["treeSize"],
                    [_b64(p) for p in v["proof"] or []], _b64(v["root"]),
                )
            else:
                merkle.verify_consistency(
                    v["size1"], v["size2"], [_b64(p) for p in v["proof"] or []],
                    _b64(v["root1"]), _b64(v["root2"]),
                )
            accepted = True
        except IntegrityError:
            accepted = False
        if accepted == v["wantErr"]:
            wrong.append(str(f.relative_to(VECTORS)))
    assert wrong == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_proofs_verify_and_any_change_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [merkle.leaf_hash(x) for x in leaves]
    tree = MerkleTree(hashes)
    n = len(hashes)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(i, n, tree)
    assert proof == merkle.inclusion_proof(i, n, hashes)
    assert merkle.verify_inclusion(hashes[i], i, n, proof, tree.root())
    m = data.draw(st.integers(1, n))
    cproof = merkle.consistency_proof(m, n, tree)
    assert merkle.verify_consistency(m, n, cproof, tree.root(m), tree.root())
    if proof:  # flip one bit of one proof hash: must fail
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
        with pytest.raises(IntegrityError):
            merkle.verify_inclusion(hashes[i], i, n, bad, tree.root())
    with pytest.raises(IntegrityError):  # a wrong leaf
        merkle.verify_inclusion(merkle.leaf_hash(b"x" * 9), i, n, proof, tree.root())
    if m < n:
        with pytest.raises(IntegrityError):  # the new root of another history
            merkle.verify_consistency(m, n, cproof, tree.root(m), merkle.leaf_hash(b"other"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=4), max_size=80), st.integers(0, 80))
def test_tree_append_extend_and_truncate_agree(leaves: list[bytes], cut: int) -> None:
    hashes = [merkle.leaf_hash(x) for x in leaves]
    one = MerkleTree()
    for h in hashes:
        one.append(h)
    bulk = MerkleTree(hashes[: cut // 2])
    bulk.extend(hashes[cut // 2 :])
    assert one.root() == bulk.root() == merkle.root(hashes)
    k = min(cut, len(hashes))
    one.truncate(k)
    assert one.root() == merkle.root(hashes[:k])
    one.extend(hashes[k:])
    assert one.root() == merkle.root(hashes)


def test_proof_requests_out_of_range_are_refused() -> None:
    hashes = [merkle.leaf_hash(x) for x in LEAVES]
    for args in [(8, 8), (-1, 8), (0, 9)]:
        with pytest.raises(IntegrityError):
            merkle.inclusion_proof(args[0], args[1], hashes)
    for args in [(0, 8), (5, 4), (1, 9)]:
        with pytest.raises(IntegrityError):
            merkle.consistency_proof(args[0], args[1], hashes)
    with pytest.raises(IntegrityError, match="32-byte"):
        merkle.verify_inclusion(b"short", 0, 1, [], merkle.root(hashes[:1]))
