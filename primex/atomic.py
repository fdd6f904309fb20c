"""Durable, atomic file writes: nothing half-written is ever visible under the final name.

This is the ONE module that renames files into place (tests/test_architecture.py checks it).
Every variant does the same four things: write a temporary file in the target's folder,
fsync it, rename it over the target, fsync the folder so that the rename itself survives a
crash. On any error (or a KeyboardInterrupt) the temporary file is removed.

* `write_bytes` / `write_text`: data already in memory (reports, manifests, keys: `mode=0o600`).
* `writing`: a stream (an encrypted package, a large file) written through a file object.
* `replacing`: for libraries that write a path themselves (Parquet, DuckDB, XLSX, ZIP).
* `pending`: the file complete and on disk first, renamed only after something else
  succeeded (a signed log entry recording it).
* `move`: the final rename of a file already complete on disk.
* `publish_folder`: a whole folder built aside and swapped into place.
* `create_once`: a file written only if it does not exist yet (a key made on first use).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_DEFAULT_MODE = 0o644
_SUFFIX = ".tmp"


def fsync_dir(folder: Path) -> None:
    """The rename is durable only once the folder entry is on disk too."""
    _fsync_path(folder)


def _temp_beside(path: Path) -> Path:
    # pid and a random token: two writers (processes or threads) never share a temp name
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}")


def leftovers(path: Path) -> list[Path]:
    """Temporary files that killed writers of `path` left beside it (for cleaning up)."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    prefix = f".{path.name}."
    return sorted(p for p in path.parent.iterdir()
                  if p.name.startswith(prefix) and p.name.endswith(_SUFFIX) and p.is_file())


def _fsync_path(path: Path) -> None:
    """fsync of a file a library wrote, or of a folder."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _open_temp(path: Path, mode: int | None) -> tuple[Path, BinaryIO]:
    """A new temporary file beside `path`, open for writing. An explicit `mode` is exact from
    creation on (0o600 for keys: never readable by others, whatever the umask); otherwise
    0o644 minus the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                 _DEFAULT_MODE if mode is None else mode)
    handle = os.fdopen(fd, "wb")
    if mode is not None:
        try:
            os.fchmod(fd, mode)  # the umask may have removed bits asked for
        except BaseException:
            handle.close()
            tmp.unlink(missing_ok=True)
            raise
    return tmp, handle


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _on_disk(path: Path, data: bytes, mode: int | None) -> Path:
    """`data` in a new temporary file beside `path`, fsynced and closed; its path."""
    tmp, handle = _open_temp(path, mode)
    try:
        with handle:
            handle.write(data)
            _sync(handle)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _commit(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def writing(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file object on a new temporary file beside `path`; renamed over `path` when
    the block ends without an error (see `_open_temp` for `mode`)."""
    path = Path(path)
    tmp, handle = _open_temp(path, mode)
    try:
        with handle:
            yield handle
            _sync(handle)
        _commit(tmp, path)
    except BaseException:  # a full disk, a folder at `path`, a crash of the caller
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write `data` to `path` atomically (temp file, fsync, rename, fsync of the folder)."""
    with writing(path, mode=mode) as handle:
        handle.write(data)
    return Path(path)


def write_text(path: Path, text: str, *, mode: int | None = None) -> Path:
    """`write_bytes` for UTF-8 text."""
    return write_bytes(path, text.encode("utf-8"), mode=mode)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` (not created) for a library that writes a file itself;
    when the block ends without an error that file is fsynced and renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(path)
    try:
        yield tmp
        _fsync_path(tmp)
        _commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_via(path: Path, write: Callable[[Path], object]) -> Path:
    """Atomic write for libraries that write files themselves (Parquet, XLSX, ZIP):
    `write(tmp)` fills a temporary file in the same folder, which is then fsynced and
    renamed over `path`."""
    with replacing(path) as tmp:
        write(tmp)
    return Path(path)


@contextlib.contextmanager
def pending(path: Path, data: bytes, *, mode: int | None = None) -> Iterator[Path]:
    """`data` complete and on disk (fsync) under a temporary name before the block runs;
    renamed over `path` only if the block succeeds (e.g. the log recorded the new file),
    removed otherwise. Only a rename remains between the block and the new file."""
    path = Path(path)
    tmp = _on_disk(path, data, mode)
    try:
        yield tmp
        _commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def move(source: Path, target: Path) -> Path:
    """Rename a file already complete on disk over `target`, durably (fsync of the folder)."""
    source, target = Path(source), Path(target)
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)
    return target


@contextlib.contextmanager
def publish_folder(
    target: Path, *, fixed_staging: bool = False, mode: int = 0o700
) -> Iterator[Path]:
    """A new folder beside `target`, filled by the block, then swapped into place: an
    existing `target` is moved aside and removed only after the new folder took its name.
    On an error the staging folder is removed. The staging folder is `.<name>.<random>.tmp`,
    or with `fixed_staging` `.<name>.tmp` (a killed run's leftover is removed first). The
    folder keeps `mode`: 0o700 by default, as tempfile.mkdtemp (decrypted data stays private)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    if fixed_staging:
        folder = target.with_name(f".{target.name}{_SUFFIX}")
        shutil.rmtree(folder, ignore_errors=True)
    else:
        folder = _temp_beside(target)
    folder.mkdir(mode=mode)
    try:
        yield folder
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(folder, target)
        fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def create_once(path: Path, data: bytes, *, mode: int | None = None) -> bool:
    """Write `path` only if it does not exist yet, never half-written: the data is complete
    on disk under a temporary name, then hard-linked to `path` (the link fails if another
    process created it meanwhile, and theirs stays). True when this call created it."""
    path = Path(path)
    tmp = _on_disk(path, data, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return True
