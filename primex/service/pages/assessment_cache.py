"""The officer's pre-assessment, computed once per exact input (a big PRIMA takes up to 20 s).

The key names everything `primex.requests.assess.assess` reads that can change while the
service runs: the request (its id), the submitted version (the log's `spec_sha256` of the
stored text the spec was parsed from) and the PRIMA file's identity (real path, device,
inode, size, modification time in ns: a regenerated or replaced file is another key). The
catalogue and the policy are the packaged files, loaded once per process. PRIMA on a
PostgreSQL server has no such identity the page can read cheaply, so it is never cached
(always computed: a stale risk figure would be worse than a slow page). Only results are
kept, never errors; the cache is bounded (least recently used out) and per process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from primex.home import Home

MAX_ENTRIES = 32  # a privacy officer's queue; each result is a few KB


@dataclass(frozen=True)
class AssessmentKey:
    request: str
    spec_sha256: str
    prima: tuple[str, int, int, int, int]  # real path, device, inode, size, mtime_ns


def prima_identity(home: Home) -> tuple[str, int, int, int, int] | None:
    """The PRIMA file the assessment reads, as an exact identity; None when there is none to
    trust (a server URL, or no file: the assessment then says why it cannot run)."""
    if home.prima_url:
        return None
    path = home.prima_db
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class AssessmentCache:
    """A bounded LRU map from `AssessmentKey` to an assessment, safe across the threads that
    serve pages (two loads of the same page at once may both compute: harmless)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._items: OrderedDict[AssessmentKey, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: AssessmentKey | None, compute: Callable[[], Any]) -> Any:
        if key is None:
            return compute()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()  # outside the lock: other pages are not held up; errors propagate
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


CACHE = AssessmentCache()

__all__ = ["CACHE", "MAX_ENTRIES", "AssessmentCache", "AssessmentKey", "prima_identity"]
