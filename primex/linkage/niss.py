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

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


# Reason codes of check_column: 0 = valid, then Reason members in the order of the checks.
REASON_CODES: tuple[Reason | None, ...] = (None, *Reason)


def check_column(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """`check` for a whole column: (nn11 per row, null when invalid; reason code per row,
    an index into REASON_CODES, 0 = valid).

    Cells of exactly 11 ASCII digits (the normal case) are decided with numpy by the same
    rules as `check` (stdnum nn then bis: mod 97 under the 1900 rule or, for years not in
    the future, the 2000 rule; birth month; serial 001-998); any other cell goes through
    `check` itself, one by one."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    n = len(values)
    plain = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{11}$"), False)
    plain_np = plain.to_numpy(zero_copy_only=False)
    codes = np.zeros(n, dtype=np.int8)
    rows = np.flatnonzero(plain_np)
    if len(rows):
        sub = values.filter(plain)
        offsets = np.frombuffer(sub.buffers()[1], np.int32)[sub.offset: sub.offset + len(sub) + 1]
        data = np.frombuffer(sub.buffers()[2], np.uint8)[offsets[0]: offsets[-1]]
        d = (data.reshape(len(sub), 11) - ord("0")).astype(np.int64)
        body = d[:, :9] @ (10 ** np.arange(8, -1, -1, dtype=np.int64))
        check_digits = d[:, 9] * 10 + d[:, 10]
        yy, mm = d[:, 0] * 10 + d[:, 1], d[:, 2] * 10 + d[:, 3]
        serial = d[:, 6] * 100 + d[:, 7] * 10 + d[:, 8]
        ok = 97 - body % 97 == check_digits
        ok |= (yy + 2000 <= datetime.date.today().year) & (
            97 - (2_000_000_000 + body) % 97 == check_digits)
        # stdnum: the dates 1900/00/01, 2000/00/01 (nn) and 2000/20/01, 40/01 (bis) are
        # "unknown"; otherwise the month (mod 20) must be 0 or 1-12; then nn wants 0-12,
        # bis 20-32 or 40-52.
        unknown = np.isin(body // 1000, [1, 2001, 4001])
        parts = unknown | (mm % 20 <= 12)
        date_ok = parts & ((mm <= 12) | ((mm >= 20) & (mm <= 32)) | ((mm >= 40) & (mm <= 52)))
        sub_codes = np.zeros(len(sub), dtype=np.int8)
        sub_codes[(serial < 1) | (serial > 998)] = 5
        sub_codes[~date_ok] = 4
        sub_codes[~ok] = 3
        sub_codes[(body == 0) & (check_digits == 0)] = 2  # all zeros: nobody's number
        codes[rows] = sub_codes
    nn11 = values
    other = np.flatnonzero(~plain_np)
    if len(other):
        fixed: list[str | None] = values.to_pylist()  # rare path: odd cells only
        for i in other.tolist():
            value, reason = check(fixed[i])
            fixed[i] = value
            codes[i] = REASON_CODES.index(reason)
        nn11 = pa.array(fixed, pa.string())
    nn11 = pc.if_else(pa.array(codes == 0), nn11, pa.scalar(None, pa.string()))
    return nn11, codes


def count_reason_codes(codes: np.ndarray) -> dict[str, int]:
    """`count_reasons` for the reason codes of `check_column`."""
    counts = np.bincount(codes.astype(np.int64), minlength=len(REASON_CODES))
    return {reason.value: int(counts[i]) for i, reason in enumerate(REASON_CODES) if reason}
