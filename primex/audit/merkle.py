"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs.

Written here rather than taken from a library because it is short, it is the heart of the
log's tamper evidence, and the Python candidates are either GPL (pymerkle), private APIs
(sigstore) or unproven; it passes the 196 transparency-dev/merkle test vectors.

* ``leaf_hash(data) = SHA-256(0x00 || data)``; an inner node is ``SHA-256(0x01 || L || R)``.
  The two prefixes keep a 64-byte leaf from passing for an inner node (attack case 13).
* ``root(leaf_hashes)`` is the Merkle Tree Hash of the list (``SHA-256("")`` when empty).
* ``inclusion_proof(index, size, leaves)`` / ``consistency_proof(size1, size2, leaves)``
  build the audit paths of RFC 9162 §2.1.3.1 / §2.1.4.1. ``leaves`` is either the list of
  leaf hashes or any object with ``subtree_hash(lo, hi) -> bytes`` (the log's
  :class:`primex.audit.tree.MerkleTree`, which answers in O(log n)).
* ``verify_inclusion`` / ``verify_consistency`` implement the verification algorithms of
  RFC 9162 §2.1.3.2 / §2.1.4.2 with the edge-case policy of transparency-dev/merkle: every
  proof hash must be 32 bytes, ``size1 = 0`` is refused, equal sizes need an empty proof
  and equal roots. They return ``True`` or raise :class:`primex.errors.IntegrityError` naming
  what failed (never a bare ``False`` that a caller might ignore).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from primex.errors import IntegrityError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class _SubtreeHasher(Protocol):
    def subtree_hash(self, lo: int, hi: int) -> bytes: ...


Leaves = Sequence[bytes] | _SubtreeHasher


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return leaves[lo]
    k = _split(hi - lo)
    return _node(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def _subtree(leaves: Leaves, lo: int, hi: int) -> bytes:
    if hasattr(leaves, "subtree_hash"):
        return leaves.subtree_hash(lo, hi)  # type: ignore[union-attr]
    return _mth(leaves, lo, hi)  # type: ignore[arg-type]


def _count(leaves: Leaves) -> int:
    return len(leaves)  # type: ignore[arg-type]


def root(leaf_hashes: Leaves) -> bytes:
    """Merkle Tree Hash of all the given leaf hashes."""
    n = _count(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    return _subtree(leaf_hashes, 0, n)


def inclusion_proof(index: int, size: int, leaves: Leaves) -> list[bytes]:
    """Audit path PATH(index, D[size]) for leaf `index` in the tree of the first `size` leaves."""
    if not 0 <= index < size <= _count(leaves):
        raise IntegrityError(
            f"no inclusion proof for leaf {index} in a tree of size {size}",
            hint=f"need 0 <= index < size <= {_count(leaves)}",
        )
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:  # walk down, collecting the sibling of each subtree, then reverse
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree(leaves, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, leaves: Leaves) -> list[bytes]:
    """PROOF(size1, D[size2]): shows the first `size1` leaves are a prefix of the first `size2`."""
    if not 0 < size1 <= size2 <= _count(leaves):
        raise IntegrityError(
            f"no consistency proof from size {size1} to size {size2}",
            hint=f"need 0 < size1 <= size2 <= {_count(leaves)}",
        )
    if size1 == size2:
        return []
    path: list[bytes] = []
    lo, hi, m, complete = 0, size2, size1, True  # SUBPROOF(m, D[lo:hi], complete)
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                path.append(_subtree(leaves, lo, hi))
            break
        k = _split(n)
        if m <= k:
            path.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree(leaves, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    path.reverse()
    return path


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise IntegrityError(f"{what}[{i}] is not a {HASH_SIZE}-byte hash")


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = _node(seed, h) if (index >> i) & 1 == 0 else _node(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = _node(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = _node(h, seed)
    return seed


def _decompose(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if `proof` shows leaf `leaf_hash` at `index` in the tree (`size`, `root`)."""
    if index < 0 or size < 0 or index >= size:
        raise IntegrityError(f"inclusion proof: index {index} is not below tree size {size}")
    _check_hashes("leaf hash", [leaf_hash])
    _check_hashes("root", [root])
    _check_hashes("proof", proof)
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise IntegrityError(
            f"inclusion proof has {len(proof)} hashes, expected {inner + border} "
            f"for leaf {index} of {size}"
        )
    calc = _chain_inner(bytes(leaf_hash), proof[:inner], index)
    calc = _chain_border_right(calc, proof[inner:])
    if calc != root:
        raise IntegrityError(
            f"inclusion proof for leaf {index} of {size} does not lead to the given root"
        )
    return True


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """True if `proof` shows the tree (`size1`, `root1`) is a prefix of (`size2`, `root2`)."""
    if size1 < 0 or size2 < size1:
        raise IntegrityError(f"consistency proof: size2 {size2} is below size1 {size1}")
    if size1 == 0:  # as transparency-dev: the empty tree is a prefix of anything, proof is moot
        raise IntegrityError("consistency proof from the empty tree proves nothing")
    _check_hashes("proof", proof)
    if size1 == size2:
        if proof:
            raise IntegrityError("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise IntegrityError(f"two different roots for the same tree size {size1}")
        return True
    if not proof:
        raise IntegrityError("consistency proof is empty")
    _check_hashes("root", [root1, root2])
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    inner -= shift
    if size1 == 1 << shift:
        seed, start = root1, 0
    else:
        seed, start = proof[0], 1
    if len(proof) != start + inner + border:
        raise IntegrityError(
            f"consistency proof has {len(proof)} hashes, expected {start + inner + border} "
            f"from size {size1} to {size2}"
        )
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    hash1 = _chain_inner_right(bytes(seed), rest[:inner], mask)
    hash1 = _chain_border_right(hash1, rest[inner:])
    if hash1 != root1:
        raise IntegrityError(
            f"consistency proof does not reproduce the old root (size {size1})"
        )
    hash2 = _chain_inner(bytes(seed), rest[:inner], mask)
    hash2 = _chain_border_right(hash2, rest[inner:])
    if hash2 != root2:
        raise IntegrityError(
            f"consistency proof does not reproduce the new root (size {size2})"
        )
    return True
