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


class CommitSlot:
    """One decision at a time between prepare and commit.

    A draft's signature covers its place in the log, so two people preparing at once would
    make one of them sign again (HTTP 409), and under load they would keep doing so. A
    prepare therefore takes a short lease on the next place; other prepares wait for the
    commit (or the lease's expiry, if that client never commits). Reads never wait."""

    def __init__(self, lease_seconds: float = 5.0, wait_seconds: float = 20.0) -> None:
        self._cond = threading.Condition()
        self._holder: str | None = None
        self._expires = 0.0
        self.lease_seconds, self.wait_seconds = lease_seconds, wait_seconds

    def _free(self, now: float) -> bool:
        return self._holder is None or now >= self._expires

    @contextmanager
    def lease(self, holder: str) -> Iterator[None]:
        with self._cond:
            deadline = time.monotonic() + self.wait_seconds
            while not self._free(time.monotonic()):
                left = min(deadline, self._expires) - time.monotonic()
                if time.monotonic() >= deadline:
                    from fastapi import HTTPException

                    raise HTTPException(503, "the service is busy; try again",
                                        headers={"Retry-After": "1"})
                self._cond.wait(max(left, 0.01))
            self._holder, self._expires = holder, time.monotonic() + self.lease_seconds
        try:
            yield
        except BaseException:
            self.release(holder)
            raise

    @contextmanager
    def commit(self, holder: str) -> Iterator[None]:
        try:
            yield
        finally:
            self.release(holder)

    def release(self, holder: str) -> None:
        with self._cond:
            if self._holder == holder:
                self._holder = None
                self._cond.notify_all()


@dataclass
class ServiceState:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker
    limiter: RateLimiter = field(default_factory=RateLimiter)
    jobs: Any = None  # primex.service.jobs.JobRunner
    notifier: Any = None  # primex.service.notify.Notifier
    slot: CommitSlot = field(default_factory=CommitSlot)
    nonces_purged: float = 0.0  # time.monotonic() of the last purge of old nonces
    _log: AuditLog | None = None
    _log_lock: threading.RLock = field(default_factory=threading.RLock)
    _view: AuditLog | None = None
    _view_lock: threading.Lock = field(default_factory=threading.Lock)
    _view_fresh: float = 0.0
    view_max_age: float = 0.5  # seconds; appends by other processes show up after this

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
    def view(self) -> Iterator[AuditLog]:
        """A read-only view of the log for reads and authentication: its own instance, so
        reads never wait for a writer's fsync; refreshed when this service appended, else
        at most every `view_max_age` seconds (appends by jobs and other processes)."""
        with self._view_lock:
            now = time.monotonic()
            if self._view is None:
                self._view = open_log(self.home, create=False)
                self._view_fresh = now
            elif now - self._view_fresh > self.view_max_age:
                self._view.refresh()
                self._view_fresh = now
            yield self._view

    def appended(self) -> None:
        """Called after this service appended: the next read refreshes its view."""
        self._view_fresh = 0.0

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
        with self._view_lock:
            if self._view is not None:
                self._view.close()
                self._view = None
        self.engine.dispose()
