"""The BCSS service's replay cache: every (key, nonce) of a signed request it accepted, kept
in its own home (`<home>/bcss/nonces.sqlite`) so that a restart does not forget them.

A nonce only matters while its signature is fresh (the service refuses a `created` more than
`window` seconds from now), so rows older than twice the window are pruned: the file stays
bounded by the request rate times the window. SQLite (standard library) gives the atomic
insert-or-detect on the primary key and a durable commit (WAL, synchronous=FULL) before the
request is served; a cache that cannot be written refuses the request (fail closed).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from primex.errors import ConfigError


class NonceCache:
    def __init__(self, path: Path, window: float) -> None:
        self.path = path
        self.window = window
        self._guard = threading.Lock()
        self._last_prune = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT NOT NULL, "
                             "nonce TEXT NOT NULL, at REAL NOT NULL, "
                             "PRIMARY KEY (key, nonce)) WITHOUT ROWID")
            self._db.execute("CREATE INDEX IF NOT EXISTS seen_at ON seen (at)")
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the replay cache ({exc})", where=str(path),
                              hint="check the BCSS home's permissions and free space") from None
        os.chmod(path, 0o600)

    def seen(self, key: str, nonce: str, now: float | None = None) -> bool:
        """Record (key, nonce); True when it was already recorded (a replay)."""
        now = time.time() if now is None else now
        with self._guard:
            if now - self._last_prune > self.window / 10:
                self._db.execute("DELETE FROM seen WHERE at < ?", (now - 2 * self.window,))
                self._last_prune = now
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO seen (key, nonce, at) VALUES (?, ?, ?)",
                (key, nonce, now))
            return cursor.rowcount == 0

    def __len__(self) -> int:
        with self._guard:
            return int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0])

    def close(self) -> None:
        with self._guard:
            self._db.close()
