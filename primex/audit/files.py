"""Durable file writes shared by the audit modules: fsync and write-then-rename."""

from __future__ import annotations

import os
from pathlib import Path

from primex.atomic import write_bytes


def fsync(fd: int) -> None:
    """One place for fsync, so tests of rules (not of durability) can skip the disk wait."""
    os.fsync(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    write_bytes(path, data, mode=mode)


def fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable (through :func:`fsync`, see above)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)
