"""Scrub national numbers out of any text that may reach a user, a log line or a report.

A last line of defence: code must not put a NISS into a message in the first place, but an
unexpected exception (a KeyError on a value, a driver message) could carry one.
"""

from __future__ import annotations

import re

# 11 digits, optionally printed as YY.MM.DD-SSS.CC (dots, dashes, spaces between groups).
_NISS_LIKE = re.compile(r"(?<!\d)\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?!\d)")


def redact(text: str) -> str:
    """Replace every national-number-looking run of digits by a marker."""
    return _NISS_LIKE.sub("[redacted-number]", text)
