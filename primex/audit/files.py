"""Durable file writes shared by the audit modules: fsync and write-then-rename."""

from __future__ import annotations

import os
from pathlib import Path


def fsync(fd: int) -> None:
    """One place for fsync, so tests of rules (not of durability) can skip the disk wait."""
    os.fsync(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:  # a full disk or a folder at `path`: leave no stray temp file
        tmp.unlink(missing_ok=True)
        raise
