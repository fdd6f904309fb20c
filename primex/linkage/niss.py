"""National numbers (NISS / INSZ): normalisation to `nn11` and validation with a reason.

`nn11` is the number as exactly 11 ASCII digits, separators (dots, dashes, spaces) removed and
leading zeros kept. A number is valid when python-stdnum accepts it as a national number or a
BIS number (`stdnum.be.ssn`: mod-97 check with the 2000+ rule, birth month in the ranges of
its kind) AND its serial is in 001–998 (men 001–997 odd, women 002–998 even; stdnum does not
check the serial range, so we do).

Every failure has exactly one reason, checked in this order:

| reason | meaning |
| --- | --- |
| `missing` | the cell is empty (NULL or blank) |
| `wrong_length` | not exactly 11 digits after removing separators (letters count here too) |
| `bad_check_digits` | the mod-97 check fails for both the 1900 and the 2000 rule |
| `bad_date` | the birth month is impossible for a national number and for a BIS number |
| `bad_serial` | the serial (digits 7–9) is 000 or 999 |

Nothing here ever puts a number into a message: callers count reasons, never print values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from enum import StrEnum

from stdnum.be import bis, nn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from primex.errors import PrimexError


class Reason(StrEnum):
    """Why a national number is rejected (the order is the order of the checks)."""

    MISSING = "missing"
    WRONG_LENGTH = "wrong_length"
    BAD_CHECK_DIGITS = "bad_check_digits"
    BAD_DATE = "bad_date"
    BAD_SERIAL = "bad_serial"


REASON_LABELS: dict[Reason, str] = {
    Reason.MISSING: "missing (empty cell)",
    Reason.WRONG_LENGTH: "wrong length (not 11 digits)",
    Reason.BAD_CHECK_DIGITS: "bad check digits (mod 97)",
    Reason.BAD_DATE: "bad date (impossible birth month)",
    Reason.BAD_SERIAL: "bad serial (000 or 999)",
}

_SEPARATORS = str.maketrans("", "", ".- ")


def normalise(value: object) -> str | None:
    """The value with dots, dashes and spaces removed (not validated); None when empty."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        # A number read from a spreadsheet lost its leading zero(s): put them back.
        text = f"{value:011d}" if 0 <= value < 10**11 else str(value)
    else:
        text = str(value).strip().translate(_SEPARATORS)
    return text or None


def check(value: object) -> tuple[str | None, Reason | None]:
    """`(nn11, None)` for a valid number, `(None, reason)` otherwise."""
    text = normalise(value)
    if text is None:
        return None, Reason.MISSING
    if len(text) != 11 or not text.isascii() or not text.isdigit():
        return None, Reason.WRONG_LENGTH
    try:
        _validate_ssn(text)
    except InvalidChecksum:
        return None, Reason.BAD_CHECK_DIGITS
    except InvalidComponent:
        return None, Reason.BAD_DATE
    except (InvalidLength, InvalidFormat):
        # InvalidFormat here means all zeros: not a number anyone holds.
        return None, Reason.WRONG_LENGTH
    except ValidationError:  # any future stdnum failure: still a refusal, never a crash
        return None, Reason.BAD_CHECK_DIGITS
    serial = int(text[6:9])
    if not 1 <= serial <= 998:
        return None, Reason.BAD_SERIAL
    return text, None


def _validate_ssn(text: str) -> None:
    """`stdnum.be.ssn.validate` with the two tries swapped: ssn tries BIS first and falls
    back to the national number on InvalidComponent; most people hold a national number, so
    trying it first halves the work. Same decision either way (a test checks it)."""
    try:
        nn.validate(text)
    except InvalidComponent:
        bis.validate(text)


def is_valid(value: object) -> bool:
    return check(value)[1] is None


def to_nn11(value: object, *, where: str | None = None) -> str:
    """The validated `nn11`, or a PrimexError naming the reason (never the number)."""
    nn11, reason = check(value)
    if reason is not None:
        raise PrimexError(
            f"invalid national number: {REASON_LABELS[reason]}",
            where=where,
            hint="check the source record; the number itself is not shown on purpose",
        )
    assert nn11 is not None
    return nn11


def check_many(values: Iterable[object]) -> tuple[list[str | None], list[Reason | None]]:
    """Validate a column. Each distinct value is checked once (people recur across spells)."""
    values = list(values)
    cache: dict[object, tuple[str | None, Reason | None]] = {}
    nn11s: list[str | None] = []
    reasons: list[Reason | None] = []
    for value in values:
        hit = cache.get(value)
        if hit is None:
            hit = check(value)
            cache[value] = hit
        nn11s.append(hit[0])
        reasons.append(hit[1])
    return nn11s, reasons


def count_reasons(reasons: Sequence[Reason | None]) -> dict[str, int]:
    """Counts per reason (every reason listed, zeros included, in the order of the checks)."""
    counts = Counter(r for r in reasons if r is not None)
    return {reason.value: counts.get(reason, 0) for reason in Reason}


def mod97_valid(digits: str) -> bool:
    """True when 11 digits pass the NISS mod-97 check under the 1900 or the 2000 rule.

    Used by leak scans: any such run of digits in an output file is treated as a NISS.
    """
    if len(digits) != 11 or not digits.isdigit():
        return False
    body, check_digits = int(digits[:9]), int(digits[9:])
    return 97 - body % 97 == check_digits or 97 - int("2" + digits[:9]) % 97 == check_digits
