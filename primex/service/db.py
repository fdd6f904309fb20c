"""The service's relational state (SQLAlchemy 2): accounts, sessions, comments, jobs, the
notification outbox and the nonces of signed requests. The signed audit log stays the
system of record of every decision; nothing here can change a request's state.

SQLite is the embedded default; PostgreSQL (psycopg 3) in production. The schema is
created and upgraded only by the Alembic migrations in primex/service/migrations.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class Account(Base):
    """Who may use the service: a registered key (its role, person and organisation come
    from the signed log's registry), its OIDC subject and e-mail address."""

    __tablename__ = "accounts"
    key_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # not read any more: a researcher's organisation is the one the signed log registers
    # (contract C5); kept so that databases from before migrate without loss
    organisation: Mapped[str | None] = mapped_column(String(200))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    created: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    key_name: Mapped[str] = mapped_column(ForeignKey("accounts.key_name"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class LoginState(Base):
    """One pending OIDC authorization (state, nonce and PKCE verifier), used once."""

    __tablename__ = "login_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(64))  # key name
    role: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    sent: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class CommitSlotRow(Base):
    """The one row of the commit slot shared by every service process (see
    primex.service.state.CommitSlot)."""

    __tablename__ = "commit_slot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires: Mapped[float] = mapped_column(Float)


class SeenNonce(Base):
    """Nonces of accepted signed requests, kept for the signature window: a replay fails
    on the primary key (key, nonce), in every worker process at once."""

    __tablename__ = "seen_nonces"
    key_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # isolation_level=None: the driver emits no BEGIN of its own; ours below does
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                  "isolation_level": None})
        _serialise_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _serialise_sqlite(engine: Engine) -> None:
    """One SQLite transaction at a time in this process, each BEGIN IMMEDIATE.

    SQLite has one writer; two writers that meet wait in SQLite's busy handler, which
    sleeps 1, 2, 5, 10 … 100 ms between tries: under load that sleep was the tail latency
    of every signed request (each records its nonce). Threads of one process now queue on a
    lock instead (woken at once), and a transaction takes the write lock when it begins, so
    it never has to wait half-way (only other processes meet the busy handler)."""
    lock = threading.RLock()

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        lock.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            lock.release()
            raise
        conn.info["primex_locked"] = True

    def _end(conn):  # type: ignore[no-untyped-def]
        if conn.info.pop("primex_locked", False):
            lock.release()

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
