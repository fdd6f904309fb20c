"""The committee's record of what it has verified, so the next `audit verify` resumes.

After a successful run the verifier writes, under ``home.witness/verified/`` (on the
committee's machine, next to its witness state):

* ``meta.json``: origin, size, Merkle root, and the byte length and SHA-256 of the verified
  prefix of ``entries.jsonl``;
* ``leaves.bin``: the leaf hashes (32 bytes each), so the tree need not be rehashed;
* ``state.json`` + ``requests.jsonl``: the replay state at that size (key registry, one
  line per request: ``<id>\\t<JSON row>``).

The next run hashes the verified prefix of the log in one pass (SHA-256 at disk speed). If
it matches, those bytes are the ones verified before, so their signatures, canonical form
and rules hold; the leaves file must reproduce the recorded root; only the new entries are
parsed, replayed (from the recorded state) and signature-checked. A request's state is
decoded only when a new entry touches it. Any mismatch means "replay everything".

The record is authenticated: ``meta.json`` holds the SHA-256 of the three other files and an
HMAC-SHA-256 over itself under the committee's verifier key ``home.witness/verify.key``
(32 random bytes, mode 0600, created with the first record, never leaving the committee's
machine). Whoever edits an entry and "fixes" the recorded prefix hash (or the leaves, or the
states) without that key gets a full replay, which finds the edit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from primex.audit import files
from primex.audit.tree import MerkleTree
from primex.audit.workflow import KeyInfo, Registry, RequestState
from primex.home import Home

KEY_FIELDS = [f.name for f in fields(KeyInfo) if f.name != "public_key"]
STATE_FIELDS = [f.name for f in fields(RequestState) if f.name != "history"]


PARTS = ("leaves.bin", "state.json", "requests.jsonl")


def _dir(home: Home) -> Path:
    return home.witness / "verified"


def _key_path(home: Home) -> Path:
    return home.witness / "verify.key"


def _mac(key: bytes, meta: dict[str, Any]) -> str:
    body = json.dumps({k: v for k, v in meta.items() if k != "mac"}, sort_keys=True)
    return hmac.new(key, b"primex-verified/v1\n" + body.encode(), hashlib.sha256).hexdigest()


def _key(home: Home, *, create: bool) -> bytes | None:
    path = _key_path(home)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        key = secrets.token_bytes(32)
        files.atomic_write(path, key, mode=0o600)
        os.chmod(path, 0o600)
        return key
    return key if len(key) == 32 else None


@dataclass
class Resume:
    size: int
    root: bytes
    prefix_bytes: int
    tree: MerkleTree
    registry: Registry
    origin: str
    global_last: str | None
    last_time: str
    rows: dict[str, bytes]  # request id -> JSON row, decoded on demand

    def materialise(self, request: str) -> RequestState | None:
        row = self.rows.get(request)
        if row is None:
            return None
        return RequestState(**dict(zip(STATE_FIELDS, json.loads(row), strict=True)))


def load(home: Home, data: bytes) -> tuple[Resume | None, str | None]:
    """The recorded state if `data` (the log's bytes) still starts with the verified prefix.

    Returns (resume, warning): the warning says why the record could not be used."""
    folder = _dir(home)
    try:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None, None
    key = _key(home, create=False)
    if key is None or not isinstance(meta, dict) or not hmac.compare_digest(
        str(meta.get("mac", "")), _mac(key, meta)
    ):
        return None, (
            "the committee's verification record is not authenticated by its verifier key "
            "(edited, or the key is missing); replaying and re-verifying everything"
        )
    try:
        for part in PARTS:
            if hashlib.sha256((folder / part).read_bytes()).hexdigest() != meta["parts"][part]:
                return None, (
                    f"the committee's verification record ({part}) changed after it was "
                    "written; replaying and re-verifying everything"
                )
        n, size = int(meta["prefix_bytes"]), int(meta["size"])
        root = base64.b64decode(meta["root"])
        if len(data) < n or hashlib.sha256(memoryview(data)[:n]).hexdigest() != meta[
            "prefix_sha256"
        ]:
            return None, (
                f"the first {size} entries are not the bytes the committee verified earlier; "
                "replaying and re-verifying everything"
            )
        raw = (folder / "leaves.bin").read_bytes()
        leaves = [raw[i : i + 32] for i in range(0, len(raw), 32)]
        tree = MerkleTree(leaves)
        if len(tree) != size or tree.root() != root:
            return None, "the committee's recorded leaves do not match its recorded root"
        state = json.loads((folder / "state.json").read_text("utf-8"))
        rows: dict[str, bytes] = {}
        with open(folder / "requests.jsonl", "rb") as fh:
            for line in fh:
                rid, _, row = line.rstrip(b"\n").partition(b"\t")
                rows[rid.decode()] = row
        registry = Registry({
            r[0]: KeyInfo(**dict(zip(KEY_FIELDS, r[:-1], strict=True)),
                          public_key=base64.b64decode(r[-1]))
            for r in state["keys"]
        })
        return Resume(size, root, n, tree, registry, state["origin"], state["global_last"],
                      state["last_time"], rows), None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"the committee's verification record is unreadable ({exc}); full replay"


def record(
    home: Home, *, size: int, root: bytes, prefix: bytes | memoryview, tree: MerkleTree,
    registry: Registry, origin: str, global_last: str | None, last_time: str,
    states: dict[str, RequestState], untouched: dict[str, bytes],
) -> None:
    """Write the record (see the module docstring); `untouched` rows are copied as they are."""
    folder = _dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(home, create=True)
    assert key is not None
    leaves = b"".join(tree.levels[0][:size])
    files.atomic_write(folder / "leaves.bin", leaves)
    lines = [rid.encode() + b"\t" + row + b"\n" for rid, row in untouched.items()]
    lines += [
        rid.encode() + b"\t"
        + json.dumps([getattr(st, f) for f in STATE_FIELDS], separators=(",", ":")).encode()
        + b"\n"
        for rid, st in states.items()
    ]
    rows = b"".join(lines)
    files.atomic_write(folder / "requests.jsonl", rows)
    state: dict[str, Any] = {
        "origin": origin, "global_last": global_last, "last_time": last_time,
        "keys": [[*(getattr(k, f) for f in KEY_FIELDS),
                  base64.b64encode(k.public_key).decode()] for k in registry.keys.values()],
    }
    state_bytes = json.dumps(state).encode()
    files.atomic_write(folder / "state.json", state_bytes)
    meta: dict[str, Any] = {
        "origin": origin, "size": size, "root": base64.b64encode(root).decode(),
        "prefix_bytes": len(prefix), "prefix_sha256": hashlib.sha256(prefix).hexdigest(),
        "parts": {name: hashlib.sha256(data).hexdigest() for name, data in
                  zip(PARTS, (leaves, state_bytes, rows), strict=True)},
    }
    meta["mac"] = _mac(key, meta)
    files.atomic_write(folder / "meta.json", json.dumps(meta).encode())  # last: commits
