"""Recording that a researcher opened a release: which files, as the folder holds them now.

`primex release open` never touches the audit log. A researcher who is online may add one
`access` entry per file of an opened release folder, signed with their key; the log accepts
it only from the requester, only after the release, and only for a file whose SHA-256 is in
the released manifest. This module only reads the folder and hashes the files again (so what
is recorded is what the folder holds now); the command appends the entries, so nothing on
the researcher's side imports the log writer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from primex.errors import IntegrityError, PrimexError
from primex.exchange.layout import DATA_PREFIX, MANIFEST, META
from primex.exchange.manifest import Manifest, manifest_from_dict, manifest_of_files


@dataclass(frozen=True)
class OpenedFolder:
    request: str
    manifest: Manifest  # the signed manifest, checked against the files in data/


def read_opened_folder(folder: Path) -> OpenedFolder:
    """The request and the released files of an opened folder, re-hashed now."""
    try:
        meta = json.loads((folder / META).read_text("utf-8"))
        signed = manifest_from_dict(json.loads((folder / MANIFEST).read_text("utf-8")))
        if not isinstance(meta, dict) or not isinstance(meta.get("request"), str):
            raise ValueError(f"{META} names no request")
    except (OSError, ValueError) as exc:
        raise PrimexError(
            f"not an opened release folder ({exc})", where=str(folder),
            hint="give the folder `primex release open` wrote",
        ) from None
    data = folder / DATA_PREFIX.rstrip("/")
    present = manifest_of_files(data, signed.names)
    if present != signed:
        raise IntegrityError(
            "the files in the folder are no longer the released ones: "
            + "; ".join(signed.differences(present)),
            where=str(data),
        )
    return OpenedFolder(str(meta["request"]), signed)
