"""The log's storage: the entries file, its lock, fsync, the torn tail, and the checkpoint
files. No rules and no state here (those are :mod:`primex.audit.state` and
:mod:`primex.audit.trust`).

* :class:`LogFile`: ``<home>/audit/entries.jsonl``. Readers take a shared lock and never
  write (a read-only home works: without a lock file and without write access nobody can
  append either, so reading unlocked is safe); writers take the exclusive lock on
  ``.lock``, append one line with one ``write`` on an ``O_APPEND`` descriptor and fsync.
  A failed write is cut back to where it started, so nothing half-written stays.
* A last line without its newline is either a complete entry whose newline never made it
  to disk (kept: the writer adds the newline) or the start of an append that never
  returned (cut by the next writer and saved under ``torn/``). Readers just leave it out
  until a writer decides.
* :class:`CheckpointFiles`: ``checkpoints/<size>`` and the latest in ``checkpoint``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from primex.audit import files
from primex.audit.checkpoint import Checkpoint, read_checkpoint
from primex.errors import IntegrityError, PrimexError

ENTRIES = "entries.jsonl"
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


class LogFile:
    """The entries file of one log folder."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.path = folder / ENTRIES
        self._read_fd: int | None = None
        self._append_fd: int | None = None
        self._lock_fd: int | None = None
        self._depth = 0
        self._exclusive = False

    # --- descriptors --------------------------------------------------------------------
    def _reader(self) -> int:
        if self._read_fd is None:
            self._read_fd = os.open(self.path, os.O_RDONLY)
        return self._read_fd

    def _appender(self) -> int:
        if self._append_fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._append_fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self._append_fd

    def close(self) -> None:
        for attr in ("_read_fd", "_append_fd", "_lock_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)

    def exists(self) -> bool:
        return self.path.exists()

    # --- locking ------------------------------------------------------------------------
    def _lock_file(self, exclusive: bool) -> int | None:
        if self._lock_fd is not None:
            return self._lock_fd
        lock = self.dir / ".lock"
        try:
            if exclusive:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            else:
                self._lock_fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            if exclusive:
                raise
            try:  # a writable folder: create the lock file so readers and writers meet
                self._lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                if exc.errno in _READ_ONLY:
                    return None  # read-only evidence copy: nobody can append, read unlocked
                raise
        except OSError as exc:
            if exclusive or exc.errno not in _READ_ONLY:
                raise
            return None
        return self._lock_fd

    @contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the lock (re-entrant); a shared hold cannot be upgraded inside itself."""
        if self._depth:
            if exclusive and not self._exclusive:
                raise PrimexError("internal: write inside a read lock", where=str(self.path))
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            fd = self._lock_file(exclusive)
        except OSError as exc:
            raise PrimexError(
                f"cannot lock the audit log for writing ({exc.strerror})",
                where=str(self.dir / ".lock"),
                hint="this home is read-only: only read-only commands work on it",
            ) from exc
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        self._depth, self._exclusive = 1, exclusive
        try:
            yield
        finally:
            self._depth, self._exclusive = 0, False
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    # --- reading ------------------------------------------------------------------------
    def read_from(self, offset: int) -> tuple[bytes, bytes]:
        """The bytes after `offset`: (complete lines, unterminated tail)."""
        if self._read_fd is None and not self.path.exists():
            return b"", b""
        fd = self._reader()
        size = os.fstat(fd).st_size
        if size < offset:
            raise IntegrityError(
                f"the log shrank from {offset} to {size} bytes while open "
                "(truncation or rollback)", where=str(self.path),
            )
        data = os.pread(fd, size - offset, offset) if size > offset else b""
        cut = data.rfind(b"\n") + 1
        return data[:cut], data[cut:]

    # --- writing (exclusive lock held) --------------------------------------------------
    def cut_tail(self, tail: bytes, keep: int) -> None:
        """Cut a half-written last line (an append that never returned); keep its bytes."""
        torn = self.dir / "torn"
        torn.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        files.atomic_write(torn / f"at-byte-{keep}-{stamp}.bin", tail)
        fd = self._appender()
        os.ftruncate(fd, keep)
        files.fsync(fd)

    def write(self, line: bytes, *, sync: bool) -> None:
        """Append `line` with one write; on failure cut the file back (nothing half-written)."""
        fd = self._appender()
        start = os.fstat(fd).st_size
        view = memoryview(line)
        try:
            while view:
                n = os.write(fd, view)
                if n <= 0:
                    raise OSError(errno.EIO, "short write")
                view = view[n:]
            if sync:
                files.fsync(fd)
        except OSError:
            # if even that fails, readers see a torn tail and the next writer cuts it
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise

    def sync(self) -> None:
        if self._append_fd is not None:
            files.fsync(self._append_fd)

    def sync_dir(self) -> None:
        files.fsync_dir(self.dir)


class CheckpointFiles:
    """The checkpoints a log issued (and the cosignatures attached to them)."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder / "checkpoints"
        self.latest_path = folder / "checkpoint"

    def get(self, size: int) -> Checkpoint | None:
        path = self.dir / str(size)
        if not path.exists():
            return None
        return read_checkpoint(path)

    def sizes(self, above: int = -1) -> list[int]:
        if not self.dir.is_dir():
            return []
        return sorted(
            int(p.name) for p in self.dir.iterdir() if p.name.isdigit() and int(p.name) > above
        )

    def all(self) -> list[Checkpoint]:
        return [cp for s in self.sizes() if (cp := self.get(s)) is not None]

    def latest(self) -> Checkpoint | None:
        if not self.latest_path.exists():
            return None
        return read_checkpoint(self.latest_path)

    def store(self, cp: Checkpoint) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        files.atomic_write(self.dir / str(cp.size), cp.text.encode())
        latest = self.latest()
        if latest is None or latest.size <= cp.size:
            files.atomic_write(self.latest_path, cp.text.encode())
