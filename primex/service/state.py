"""What one running service holds: settings, the database, the audit log (one open
instance shared by every worker thread, behind a lock: AuditLog is not thread-safe), the
rate limiter, the job runner and the notifier."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from primex.audit.log import AuditLog, open_log
from primex.home import Home
from primex.service.settings import ServiceSettings


class RateLimiter:
    """Sliding one-minute windows per (bucket, client). In memory: one service process
    (docs/security.md says so; several processes would need it in the database)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: tuple[str, str], now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 60:
            hits.popleft()
        return hits

    def exceeded(self, bucket: str, client: str, limit: int) -> bool:
        with self._lock:
            return len(self._window((bucket, client), time.monotonic())) >= limit

    def hit(self, bucket: str, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._window((bucket, client), now).append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]


@dataclass
class ServiceState:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker
    limiter: RateLimiter = field(default_factory=RateLimiter)
    jobs: Any = None  # primex.service.jobs.JobRunner
    notifier: Any = None  # primex.service.notify.Notifier
    nonces_purged: float = 0.0  # time.monotonic() of the last purge of old nonces
    _log: AuditLog | None = None
    _log_lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def home(self) -> Home:
        return Home.resolve(self.settings.home)

    @contextmanager
    def log(self) -> Iterator[AuditLog]:
        """The audit log, refreshed, for the duration of the block (one thread at a time)."""
        with self._log_lock:
            if self._log is None:
                self._log = open_log(self.home, create=False)
            else:
                self._log.refresh()
            yield self._log

    @contextmanager
    def db(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown()
        if self.notifier is not None:
            self.notifier.shutdown()
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None
        self.engine.dispose()
