"""Durable file writes shared by the audit modules: fsync, and the one atomic write."""

from __future__ import annotations

import os
from pathlib import Path

from primex.atomic import write_bytes as atomic_write  # noqa: F401  (the audit modules' name)


def fsync(fd: int) -> None:
    """One place for fsync, so tests of rules (not of durability) can skip the disk wait."""
    os.fsync(fd)


def fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable (through :func:`fsync`, see above)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)
