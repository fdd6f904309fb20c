"""Manifests of protocol runs: what went in, what came out, and how to prove it again.

A manifest names the source snapshot (file hashes and PRIMA's `snapshot` row), the protocol
(its own copy and hash), the parameters, the code version and every output file with its
SHA-256. It holds no wall-clock time: two runs of the same inputs give the same manifest.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import primex
from primex.atomic import write_bytes as atomic_write  # noqa: F401  (used by the steps)
from primex.errors import IntegrityError
from primex.exchange.manifest import hash_file

MANIFEST = "manifest.json"
KIND = "primex.extract.protocol-run"
PROTOCOL_CODE = ("engine.py", "indicators.py", "manifest.py", "outcomes.py", "protocol.py",
                 "run.py")


def sha256_file(path: Path) -> str:
    return hash_file(Path(path)).sha256


def file_entries(folder: Path, names: list[str]) -> list[dict[str, Any]]:
    """`{name, bytes, sha256}` per file: the entries of the one manifest format."""
    return [{**hash_file(folder / n).as_dict(), "name": n} for n in sorted(names)]


def code_version() -> dict[str, str]:
    """The primex version, a hash of the extraction code itself, and the engine libraries."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for name in PROTOCOL_CODE:  # the modules a protocol run executes (not ad hoc extraction)
        src = pkg / name
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    version = {"primex": primex.__version__, "extract_sha256": h.hexdigest()}
    for lib in ("duckdb", "pyarrow", "pandas"):
        try:
            version[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:  # pragma: no cover - they are pinned deps
            version[lib] = "unknown"
    return version


def dumps(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IntegrityError("manifest not found", where=str(path),
                             hint="give the manifest.json written by `primex extract run`",
                             ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"manifest is not valid JSON ({exc})", where=str(path)) from None
    except OSError as exc:  # a folder, an unreadable file
        raise IntegrityError(f"cannot read the manifest ({exc.strerror})", where=str(path),
                             hint="give the manifest.json written by `primex extract run`",
                             ) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise IntegrityError(
            "not a protocol-run manifest", where=str(path),
            hint=f"expected \"kind\": \"{KIND}\" (written by `primex extract run`)",
        )
    return data
