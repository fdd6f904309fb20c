"""Recording that a researcher opened a release (optional, online).

`primex release open` never touches the audit log. A researcher who is online may add one
`access` entry per file of an opened release folder, signed with their key; the log accepts
it only from the requester, only after the release, and only for a file whose SHA-256 is in
the released manifest. The files are hashed again here, so what is recorded is what the
folder holds now.
"""

from __future__ import annotations

import json
from pathlib import Path

from primex.audit.keys import Signer
from primex.audit.log import Entry, open_log
from primex.errors import IntegrityError, PrimexError
from primex.home import Home
from primex.release.manifest import manifest_from_dict, manifest_of_files
from primex.release.open import META


def record_access(home: Home, folder: Path, signer: Signer) -> list[Entry]:
    """Append an `access` entry for each data file of an opened release folder."""
    try:
        meta = json.loads((folder / META).read_text("utf-8"))
        signed = manifest_from_dict(json.loads((folder / "manifest.json").read_text("utf-8")))
        if not isinstance(meta, dict) or not isinstance(meta.get("request"), str):
            raise ValueError(f"{META} names no request")
    except (OSError, ValueError) as exc:
        raise PrimexError(
            f"not an opened release folder ({exc})", where=str(folder),
            hint="give the folder `primex release open` wrote",
        ) from None
    present = manifest_of_files(folder / "data", signed.names)
    if present != signed:
        raise IntegrityError(
            "the files in the folder are no longer the released ones: "
            + "; ".join(signed.differences(present)),
            where=str(folder / "data"),
        )
    log = open_log(home, create=False)
    with log.batch():
        return [
            log.append("access", str(meta["request"]), {"name": f.name, "sha256": f.sha256},
                       signer)
            for f in signed.files
        ]
