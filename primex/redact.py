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


def niss_like_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a number that passes the NISS check digits (mod 97, born before or
    after 2000; BIS numbers use the same rule), with or without separators. Stricter than
    `redact` (which hides any 11 digits): this one decides whether free text is refused, so a
    reference like an invoice number must not trip it by chance."""
    spans = []
    for match in _NISS_LIKE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        base, check = int(digits[:9]), int(digits[9:])
        if check in (97 - base % 97, 97 - (2_000_000_000 + base) % 97):
            spans.append(match.span())
    return spans
