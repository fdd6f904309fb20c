"""What reads serve: an immutable snapshot of the verified log, keyed by (size, root).

Reads (status, list, visibility of a request) used to run the log's replay helpers under
the one lock of the service's read view, so 50 clients queued behind each other. Now the
view is refreshed under the lock (a few system calls when nothing changed) and, only when
the log grew, the requests that the new entries touch are read again through the log's
own verified accessors (AuditLog.state verifies every signature not yet verified, so a
forged entry still raises and nothing is cached). The snapshot is then read without any
lock. Keying by the Merkle root as well as the size means a log that is not the one the
snapshot was built from (same size, other entries) is never served from the cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from primex.audit.log import AuditLog
from primex.audit.workflow import KeyInfo
from primex.home import Home


@dataclass(frozen=True)
class ReadSnapshot:
    size: int
    root: bytes
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # lifecycle.status
    order: tuple[str, ...] = ()  # request ids in order of first submission
    # the key registry at `size` (copies: the log's own objects change on refresh)
    keys: MappingProxyType[str, KeyInfo] = field(
        default_factory=lambda: MappingProxyType({}))

    def active_key(self, name: str) -> KeyInfo | None:
        info = self.keys.get(name)
        return info if info is not None and info.active else None

    def organisation(self, request: str) -> str | None:
        return self.statuses[request]["organisation"]

    def row(self, request: str) -> dict[str, Any]:
        """The one-line summary `lifecycle.status(home)` gives for `request`."""
        st = self.statuses[request]
        history = st["history"]
        return {"request": request, "state": st["state"], "title": st["title"],
                "organisation": st["organisation"], "requester": st["requester"],
                "updated": history[-1]["time"] if history else None}


def advance(previous: ReadSnapshot | None, log: AuditLog, home: Home) -> ReadSnapshot:
    """The snapshot of `log` as it is now (the caller holds the view's lock and refreshed
    it); reuses `previous` when the log did not change, else re-reads only the requests
    touched by entries after `previous.size`."""
    from primex.requests.lifecycle import status

    size, root = log.size, log.root()
    if previous is not None and previous.size == size and previous.root == root:
        return previous
    grown = previous is not None and previous.size < size and \
        log.root(previous.size) == previous.root
    # The log's accessors refresh it: another process may append while this runs. Every
    # request must then still have its status (a missing one made every list fail until the
    # next append), and no entry after `previous.size` may be skipped.
    if grown:
        assert previous is not None
        new = _entries_since(log, previous.size, size - previous.size)
        touched = {e.request for e in new if e.request}
        statuses = dict(previous.statuses)
    else:
        touched = set(log.requests())
        statuses = {}
    for rid in touched:
        statuses[rid] = status(home, rid, log=log)
    order = tuple(log.requests())
    for rid in order:
        if rid not in statuses:  # submitted while this snapshot was being built
            statuses[rid] = status(home, rid, log=log)
    keys = MappingProxyType({n: dataclasses.replace(k) for n, k in log.registry.keys.items()})
    return ReadSnapshot(size, root, statuses, order, keys)


def _entries_since(log: AuditLog, first: int, limit: int) -> list:
    """Every entry from seq `first` on: `latest(limit)` refreshes the log first, so when it
    grew in between, the window is widened until it reaches back to `first`."""
    while True:
        found = log.latest(limit)
        if not found or found[0].seq <= first:
            return [e for e in found if e.seq >= first]
        limit = found[-1].seq + 1 - first
