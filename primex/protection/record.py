"""`protect_and_record`: the whole protection step of one request as one library call, as
`primex disclosure protect` and the service's protect job both run it (no child `primex`
process, no CLI in between).

It checks the request's state and the operator's role before any work, refuses a coded
extract that is not a readable Parquet file or whose SHA-256 the log did not record (C1),
protects (:func:`primex.protection.step.protect_request`) and appends the signed
`disclosure_result` entry that binds the report to the manifest of the files that may leave.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primex.audit import canonical
from primex.audit.keys import Signer
from primex.audit.log import open_log
from primex.errors import PermissionDenied, PrimexError
from primex.exchange.layout import REPORT_JSON
from primex.home import Home

EMPTY_MANIFEST_SHA256 = hashlib.sha256(canonical.dumps({"files": []})).hexdigest()


@dataclass(frozen=True)
class Recorded:
    outcome: Any  # primex.protection.step.Outcome
    seq: int  # the disclosure_result entry
    work: Path


def check_parquet(path: Path) -> None:
    """Refuse a missing file, a folder or a non-Parquet file (a CSV, a truncated copy) with
    one line, before anything is written: reading only its footer is cheap."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.exists():
        return  # the protection step names the missing coded extract itself
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise PrimexError(
            f"not a readable Parquet file ({type(exc).__name__})", where=str(path),
            hint="give the coded.parquet the BCSS returned (`primex linkage code`)",
        ) from exc


def protect_and_record(home: Home, request_id: str, get_signer: Callable[[], Signer],
                       manifest_fn: Callable[[Path], Any], *,
                       coded: Path | None = None) -> Recorded:
    """Protect `request_id`'s coded extract and append the signed disclosure_result.

    `get_signer` is called once the request's state allows the step (a CLI asks for the
    passphrase only then); `manifest_fn` is the release side's manifest of the protected
    files (passed in: the flow's imports go one way, protection never imports release)."""
    from primex.protection.custody import check_input
    from primex.protection.step import protect_request
    from primex.requests.store import load_submitted

    log = open_log(home, create=False)
    try:
        state = log.state(request_id)
        if state.state not in ("coded", "protected", "extracted"):
            raise PrimexError(
                f"request is {state.state}; protection needs the coded extract",
                where=request_id,
                hint="the BCSS operator codes the extract first (`primex linkage code`)",
            )
        signer = get_signer()
        if signer.role != "spp_operator":  # checked before any work, not at the append
            raise PermissionDenied(
                f"key {signer.name!r} has role {signer.role}, not spp_operator", where="--as",
                hint="the protection step is signed by an SPP operator")
        spec, _raw, _sha = load_submitted(home, request_id)
        work = home.spp_work / request_id
        coded = coded or work / "coded.parquet"
        check_parquet(coded)
        entries = log.entries(request_id)
        outcome = protect_request(
            home, request_id, spec, state.conditions, coded, work,
            manifest_fn=manifest_fn,
            check_input=lambda name, sha: check_input(entries, request_id, name, sha),
        )
        report_sha = hashlib.sha256((work / "protected" / REPORT_JSON).read_bytes()).hexdigest()
        entry = log.append(
            "disclosure_result",
            request_id,
            {
                "manifest_sha256": outcome.manifest_sha256 or EMPTY_MANIFEST_SHA256,
                "passed": outcome.passed,
                "report_sha256": report_sha,
                "summary": outcome.report["summary"],
                "kind": outcome.kind,
                # C1: the bytes this step read and protected, checked link by link by
                # `audit verify`
                "inputs": outcome.inputs,
            },
            signer,
        )
    finally:
        log.close()
    return Recorded(outcome, entry.seq, work)
