"""The names inside a release package (`primex-release-package/v1`), shared by the SPP's
package builder and the researcher's opener (see docs/release.md)."""

from __future__ import annotations

FORMAT = "primex-release-package/v1"
META = "release.json"
MANIFEST = "manifest.json"
STEP_MANIFEST = MANIFEST
CODEBOOK = "datapackage.json"
REPORT_JSON = "disclosure-report.json"
REPORT_MD = "disclosure-report.md"
REPORT_HTML = "disclosure-report.html"
ENTRIES = "evidence/entries.jsonl"
CHECKPOINT = "evidence/checkpoint"
PROOFS = "evidence/proofs.json"
DATA_PREFIX = "data/"

# Readable forms of the disclosure report: optional, and each bound by its SHA-256 in the
# president's sign-off (`signoff.body.reports`), never shipped unbound.
READABLE_REPORTS = (REPORT_MD, REPORT_HTML)
FIXED_MEMBERS = frozenset(
    {META, MANIFEST, CODEBOOK, REPORT_JSON, *READABLE_REPORTS, ENTRIES, CHECKPOINT, PROOFS}
)
REQUIRED_MEMBERS = FIXED_MEMBERS - set(READABLE_REPORTS)
