"""Submitted request specs, kept byte for byte under `Home.requests`.

Files are stored by content: `<home>/requests/<sha256>.yaml` holds exactly the bytes that
were submitted, and the audit log's `submission` entry names that sha256 for the request id.
Which version is current for a request is therefore read from the log (the system of record),
never from a second index that could disagree with it.

    load_submitted(home, request_id) -> (spec, raw_bytes, sha256)

is what every later step (review, extraction, linkage, disclosure, release) uses to read the
spec that was submitted, and checks the bytes still hash to what the log says.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from primex import atomic
from primex.errors import IntegrityError, PrimexError
from primex.home import Home
from primex.requests.spec import RequestSpec
from primex.requests.yaml_loader import load_yaml


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def spec_path(home: Home, sha256: str) -> Path:
    return home.requests / f"{sha256}.yaml"


def store_bytes(home: Home, raw: bytes) -> tuple[str, bool]:
    """Store `raw` by its sha256 (atomically); returns (sha256, created)."""
    digest = sha256_hex(raw)
    target = spec_path(home, digest)
    if target.exists() and target.read_bytes() == raw:
        return digest, False
    home.ensure(home.requests)
    try:
        atomic.write_bytes(target, raw, mode=0o444)
    except OSError as exc:
        raise PrimexError(f"cannot store the request ({exc.strerror})", where=str(target),
                          hint="check disk space and permissions") from None
    return digest, True


def discard(home: Home, sha256: str) -> None:
    """Remove a stored spec that was never recorded in the log (a refused submission)."""
    spec_path(home, sha256).unlink(missing_ok=True)


def read_stored(home: Home, sha256: str, *, request_id: str = "?") -> bytes:
    path = spec_path(home, sha256)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IntegrityError(
            f"the submitted spec of {request_id} is missing", where=str(path),
            hint="restore the requests folder from a backup; the log records its sha256",
        ) from None
    if sha256_hex(raw) != sha256:
        raise IntegrityError(
            f"the stored spec of {request_id} does not match the sha256 in the audit log",
            where=str(path), hint="the file was altered; restore it from a backup",
        )
    return raw


def load_submitted(home: Home, request_id: str) -> tuple[RequestSpec, bytes, str]:
    """The spec the audit log says is current for `request_id`, its exact bytes and sha256."""
    from primex.audit.log import open_log

    state = open_log(home, create=False).state(request_id)
    if state.spec_sha256 is None:
        raise PrimexError(f"request {request_id} has no submitted spec", where=request_id)
    raw = read_stored(home, state.spec_sha256, request_id=request_id)
    loaded = load_yaml(raw, f"{request_id}.yaml")
    try:
        spec = RequestSpec.model_validate(loaded.data)
    except PydanticValidationError as exc:  # the spec model changed since the submission
        raise PrimexError(
            f"the submitted spec of {request_id} no longer fits the request model "
            f"({exc.error_count()} problem(s))", where=str(spec_path(home, state.spec_sha256)),
            hint="the researcher must submit the request again",
        ) from None
    return spec, raw, state.spec_sha256
