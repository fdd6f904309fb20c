"""The file names of the disclosure report, shared by the step that writes it (protection)
and the one that packages it (release), so the two can never disagree."""

from __future__ import annotations

REPORT_STEM = "disclosure-report"
REPORT_JSON = f"{REPORT_STEM}.json"
REPORT_MD = f"{REPORT_STEM}.md"
REPORT_HTML = f"{REPORT_STEM}.html"
