"""Chain of custody for the protection step (CONTRACTS C1): its input must be a file the log
recorded as the previous step's output.

The previous step is the latest `coding` (BCSS) or, when the request was extracted again
after it (or never coded), the latest `extraction`. The input's SHA-256 must be among the
`manifest.files` of that entry; anything else — a coded file edited by hand, an older
extract, a file from another request — is refused before it is read for protection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from primex.errors import IntegrityError

STEPS = ("extraction", "coding")


def recorded_outputs(entries: Iterable[Any], request_id: str) -> tuple[str, set[str]]:
    """(event type, SHA-256 of every file it recorded) of the request's latest extraction
    or coding entry. Refuses when there is none or it recorded no manifest (fail closed)."""
    latest = None
    for entry in entries:
        if entry.type in STEPS:
            latest = entry
    if latest is None:
        raise IntegrityError(
            "the log records no extraction or coding of this request, so no input can be "
            "proven", where=request_id, hint="extract and code the request first")
    manifest = latest.body.get("manifest")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    hashes = {f.get("sha256") for f in files or [] if isinstance(f, dict)}
    hashes.discard(None)
    if not hashes:
        raise IntegrityError(
            f"the latest {latest.type} entry of the request records no output files, so the "
            "protection input cannot be checked", where=request_id,
            hint="rerun the step so that it records its manifest")
    return str(latest.type), {str(h) for h in hashes}


def check_input(entries: Iterable[Any], request_id: str, name: str, sha256: str) -> None:
    """Refuse an input whose SHA-256 is not an output the log recorded for the request."""
    step, hashes = recorded_outputs(entries, request_id)
    if sha256 not in hashes:
        raise IntegrityError(
            f"{name} is not the file the latest {step} recorded (SHA-256 differs): it was "
            "changed after that step, or belongs to another run", where=request_id,
            hint="protect the exact file the BCSS returned (`primex linkage code`)")
