"""An append-only Merkle tree that keeps every level, so roots of any earlier size and
proofs cost O(log n) hashes instead of O(n).

``levels[0]`` holds the leaf hashes; ``levels[h][i]`` is the hash of the perfect subtree
of 2**h leaves starting at leaf ``i * 2**h``. Appending a leaf costs one leaf plus on average
one node hash. It implements ``subtree_hash(lo, hi)`` so that the functions of
:mod:`primex.audit.merkle` can build proofs from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from primex.audit.merkle import EMPTY_ROOT


class MerkleTree:
    """Levels of an RFC 9162 tree over a growing list of leaf hashes."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        levels = self.levels
        levels[0].append(leaf)
        h, node = 0, leaf
        sha = hashlib.sha256
        while len(levels[h]) % 2 == 0:  # a perfect pair closed: hash it one level up
            node = sha(b"\x01" + levels[h][-2] + node).digest()
            h += 1
            if h == len(levels):
                levels.append([])
            levels[h].append(node)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Bulk append: builds each level in one pass (much faster than append in a loop)."""
        new = list(leaf_hashes)
        if not new:
            return
        if len(self.levels[0]) % 2:  # keep the pairing simple: fall back to append
            self.append(new.pop(0))
            if not new:
                return
        sha = hashlib.sha256
        levels = self.levels
        start = len(levels[0])
        levels[0].extend(new)
        h = 0
        while True:
            cur = levels[h]
            first = start - (start % 2)  # first index of an unpaired-or-new pair
            stop = len(cur) - (len(cur) - first) % 2
            pairs = [
                sha(b"\x01" + left + right).digest()
                for left, right in zip(cur[first:stop:2], cur[first + 1 : stop : 2], strict=True)
            ]
            if not pairs and len(cur) < 2:
                break
            if h + 1 == len(levels):
                levels.append([])
            up = levels[h + 1]
            del up[first // 2 :]
            up.extend(pairs)
            start = first // 2
            h += 1
            if len(up) < 2:
                break

    def subtree_hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves[lo:hi] (lo aligned as in RFC 9162 recursion)."""
        n = hi - lo
        if n <= 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and lo % n == 0:  # a perfect, aligned subtree: stored
            return self.levels[n.bit_length() - 1][lo // n]
        k = 1 << ((n - 1).bit_length() - 1)
        left = self.subtree_hash(lo, lo + k)
        right = self.subtree_hash(lo + k, hi)
        return hashlib.sha256(b"\x01" + left + right).digest()

    def root(self, size: int | None = None) -> bytes:
        """Root of the first `size` leaves (all of them by default)."""
        n = len(self) if size is None else size
        if not 0 <= n <= len(self):
            raise ValueError(f"tree has {len(self)} leaves, not {n}")
        return self.subtree_hash(0, n)

    def truncate(self, size: int) -> None:
        """Forget leaves from `size` on (used when a torn tail is repaired)."""
        for h, level in enumerate(self.levels):
            del level[size >> h :]
