"""The BCSS's signed coding receipt: the contract between `primex bcss serve` and the SPP.

A receipt is canonical JSON (primex.audit.canonical) signed with the BCSS operator's
Ed25519 key, the same key the SPP's audit log registers for the `coding` event::

    {"v": 1, "kind": "primex.bcss.receipt", "job": ..., "request": ..., "key_id": ...,
     "received": {"name", "bytes", "sha256"},      # the extract the BCSS received
     "sent": [{"name", "bytes", "sha256"}, ...],     # coded.parquet, report, manifest
     "counts": {"rows_in", "valid", "invalid", "matched_in_warehouse"},
     "manifest_sha256": ..., "extract_destroyed": true, "time": ...,
     "signer": <key name>}

The signature is over ``DOMAIN || canonical bytes`` so that it can never pass for a log entry
or a checkpoint signed by the same key.
"""

from __future__ import annotations

import base64
from typing import Any

from primex.audit.canonical import dumps
from primex.audit.keys import Signer, verify_signature
from primex.errors import IntegrityError

DOMAIN = b"primex-bcss-receipt-v1\n"
KIND = "primex.bcss.receipt"


def sign_receipt(receipt: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """`{"receipt": ..., "signature": base64}`."""
    sig = signer.sign(DOMAIN + dumps(receipt))
    return {"receipt": receipt, "signature": base64.b64encode(sig).decode()}


def verify_receipt(signed: Any, public_key: bytes, *, where: str = "receipt") -> dict[str, Any]:
    """The receipt if its signature verifies with `public_key`; IntegrityError otherwise."""
    if not isinstance(signed, dict) or not isinstance(signed.get("receipt"), dict):
        raise IntegrityError("the BCSS answer carries no receipt", where=where)
    receipt = signed["receipt"]
    try:
        sig = base64.b64decode(str(signed.get("signature", "")), validate=True)
        data = DOMAIN + dumps(receipt)
    except (ValueError, IntegrityError):
        raise IntegrityError("the receipt or its signature is malformed", where=where) from None
    if len(sig) != 64 or not verify_signature(public_key, sig, data):
        raise IntegrityError("the BCSS receipt's signature does not verify", where=where,
                             hint="the answer did not come from the registered BCSS key")
    if receipt.get("kind") != KIND or receipt.get("v") != 1:
        raise IntegrityError("not a BCSS coding receipt", where=where)
    if receipt.get("extract_destroyed") is not True:
        raise IntegrityError("the BCSS does not confirm it destroyed the extract", where=where)
    return receipt


def coding_body(receipt: dict[str, Any], manifest: dict[str, Any],
                signed: dict[str, Any]) -> dict[str, Any]:
    """The body of the `coding` log entry the SPP appends and the BCSS key signs."""
    report = next((f for f in receipt["sent"] if f["name"] == "linkage-report.json"), None)
    if report is None:
        raise IntegrityError("the receipt lists no linkage report", where="receipt.sent")
    return {
        "key_id": receipt["key_id"],
        "manifest_sha256": receipt["manifest_sha256"],
        "manifest": manifest,
        "report_sha256": report["sha256"],
        "summary": receipt["summary"],
        "receipt": signed,
    }
