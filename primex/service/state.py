"""What one running service process holds: settings, the database, the audit log (one
open instance for decisions, behind a lock: AuditLog is not thread-safe; another for reads,
whose verified state is served as an immutable snapshot), the rate limiter, the job runner
and the notifier. Several processes may serve one home (`primex serve --workers N`): the
log's file lock orders their appends, the nonces of signed requests and the jobs live in
the database, the commit slot is a lease in the database (docs/service.md)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from primex.audit.log import ENTRIES, AuditLog, open_log
from primex.home import Home
from primex.service.readcache import ReadSnapshot, advance
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
    """One decision at a time between prepare and commit, across every service process.

    A draft's signature covers its place in the log, so two people preparing at once would
    make one of them sign again (HTTP 409), and under load they would keep doing so. A
    prepare therefore takes a short lease on the next place; other prepares wait for the
    commit (or the lease's expiry, if that client never commits). Reads never wait.

    The lease is one row of the database (table commit_slot: taken with one conditional
    UPDATE), so a prepare in one worker process and the commit in another meet; waiters of
    this process are woken at once by a condition, those of others poll every few ms.
    Without an engine (unit tests) the lease lives in this process only."""

    POLL = 0.02  # seconds between two tries (a release in this process wakes at once)

    def __init__(self, engine: Engine | None = None, lease_seconds: float = 5.0,
                 wait_seconds: float = 20.0) -> None:
        self._cond = threading.Condition()
        self._engine = engine
        self._holder: str | None = None  # a local holder (no engine)
        self._expires = 0.0
        self.lease_seconds, self.wait_seconds = lease_seconds, wait_seconds

    def _take(self, holder: str) -> bool:
        now = time.time()
        if self._engine is None:
            if self._holder is not None and now < self._expires:
                return False
            self._holder, self._expires = holder, now + self.lease_seconds
            return True
        with self._engine.begin() as conn:
            done = conn.execute(text(
                "UPDATE commit_slot SET holder = :h, expires = :e WHERE id = 1 AND "
                "(holder IS NULL OR expires < :now)"),
                {"h": holder, "e": now + self.lease_seconds, "now": now})
            return bool(done.rowcount == 1)

    @contextmanager
    def lease(self, holder: str) -> Iterator[None]:
        deadline = time.monotonic() + self.wait_seconds
        with self._cond:
            while not self._take(holder):
                if time.monotonic() >= deadline:
                    from fastapi import HTTPException

                    raise HTTPException(503, "the service is busy; try again",
                                        headers={"Retry-After": "1"})
                self._cond.wait(self.POLL if self._engine is not None else 0.05)
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
        if self._engine is None:
            if self._holder == holder:
                self._holder = None
        else:
            with self._engine.begin() as conn:
                conn.execute(text("UPDATE commit_slot SET holder = NULL, expires = 0 "
                                  "WHERE id = 1 AND holder = :h"), {"h": holder})
        with self._cond:
            self._cond.notify_all()


class NonceCache:
    """Nonces of accepted signed requests in this process, kept for twice the signature
    window (older signatures are refused by time anyway)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._purged = time.time()

    def add(self, key: str, nonce: str, keep_until: float) -> bool:
        """False if (key, nonce) was seen: a replay."""
        now = time.time()
        with self._lock:
            if now - self._purged > 30:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
                self._purged = now
            if (key, nonce) in self._seen:
                return False
            self._seen[(key, nonce)] = keep_until
            return True


@dataclass
class ServiceState:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker
    limiter: RateLimiter = field(default_factory=RateLimiter)
    jobs: Any = None  # primex.service.jobs.JobRunner
    notifier: Any = None  # primex.service.notify.Notifier
    slot: CommitSlot = field(default_factory=CommitSlot)  # build_state: in the database
    nonces_purged: float = 0.0  # time.monotonic() of the last purge of old nonces
    nonces: NonceCache = field(default_factory=NonceCache)
    started: float = field(default_factory=time.time)
    _log: AuditLog | None = None
    _log_lock: threading.RLock = field(default_factory=threading.RLock)
    _view: AuditLog | None = None
    _view_lock: threading.Lock = field(default_factory=threading.Lock)
    _view_fresh: float = 0.0
    # seconds: appends by jobs and other processes show up after at most this long (a
    # refresh is a shared lock and an fstat; this bounds them under load)
    view_max_age: float = 0.05
    _snapshot: ReadSnapshot | None = None
    _snap_bytes: int = -2  # size of the entries file the snapshot was built from
    _snap_generation: int = -1
    _generation: int = 0  # appends by this process (a snapshot older than one is stale)
    _home: Home | None = None
    _inputs: tuple[object, tuple[Any, Any, Any]] | None = None
    _accounts: dict[str, tuple[float, Any]] = field(default_factory=dict)
    account_max_age: float = 5.0  # seconds an account row (e-mail, subject) is reused

    @property
    def home(self) -> Home:
        if self._home is None:
            self._home = Home.resolve(self.settings.home)
        return self._home

    def snapshot(self) -> ReadSnapshot:
        """The verified read state of the log (see primex.service.readcache). Served
        without any lock while the entries file has the size it had when the snapshot was
        built and this process appended nothing since (an fstat per call); else refreshed.
        Every append, by this process or any other writer, changes the file's size."""
        path = self.home.audit / ENTRIES
        try:
            size_now = path.stat().st_size
        except FileNotFoundError:
            size_now = -1
        snap = self._snapshot
        if (snap is not None and self._snap_generation == self._generation
                and size_now == self._snap_bytes):
            return snap
        with self._view_lock:
            generation = self._generation
            if self._view is None:
                self._view = open_log(self.home, create=False)
            elif (self._snapshot is not None and self._snap_generation == generation
                  and size_now == self._snap_bytes):
                return self._snapshot  # another thread refreshed while this one waited
            else:
                self._view.refresh()
            self._snapshot = advance(self._snapshot, self._view, self.home)
            self._snap_bytes, self._snap_generation = size_now, generation
            self._view_fresh = time.monotonic()
            return self._snapshot

    def forget_account(self, key_name: str) -> None:
        self._accounts.pop(key_name, None)

    def validation_inputs(self) -> tuple[Any, Any, Any]:
        """(catalogue, policy, data coverage) for validating a request: the packaged
        catalogue and policy are read once; PRIMA's coverage again when its file changed
        (or every minute for a PRIMA server), not once per submission."""
        from primex.catalogue import load_catalogue, load_policy
        from primex.requests.validate import data_coverage

        home = self.home
        if home.prima_url:
            stamp: object = int(time.monotonic() // 60)
        else:
            try:
                st = home.prima_db.stat()
                stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            except FileNotFoundError:
                stamp = None
        cached = self._inputs
        if cached is None or cached[0] != stamp:
            cached = (stamp, (load_catalogue(), load_policy(), data_coverage(home)))
            self._inputs = cached
        return cached[1]

    def account(self, key_name: str) -> Any:
        """The account row of `key_name` (or None), reused for `account_max_age` seconds:
        it holds only the e-mail address and OIDC subject (role, person and organisation
        come from the signed log, read on every request)."""
        from primex.service.db import Account

        now = time.monotonic()
        hit = self._accounts.get(key_name)
        if hit is not None and now - hit[0] < self.account_max_age:
            return hit[1]
        with self.sessions() as db:
            row = db.get(Account, key_name)
            if row is not None:
                db.expunge(row)
        if len(self._accounts) > 10_000:
            self._accounts.clear()
        self._accounts[key_name] = (now, row)
        return row

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
        self._generation += 1

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
