"""Vectorised generation of valid Belgian national numbers (NISS) and BIS numbers.

Rules (docs/glossary.md): YYMMDD + serial SSS + check CC = 97 - (N mod 97), where N is
YYMMDDSSS, prefixed by 2 for people born in 2000 or later. Serial odd for men (001-997), even
for women (002-998). A BIS number adds 40 to the month (sex known at assignment). python-stdnum
validates single numbers; generating millions needs array arithmetic, hence this module.
Generated numbers are checked against stdnum in the tests.
"""

from __future__ import annotations

import numpy as np

from primex.errors import PrimexError

SLOTS = 499  # serials per sex and day: 001..997 (men), 002..998 (women); 499 is prime
_STEP = 211  # coprime with 499: consecutive ranks land on scattered, distinct slots


def assign_serials(
    rng: np.random.Generator, birth: np.ndarray, male: np.ndarray, bis: np.ndarray
) -> np.ndarray:
    """Serial numbers, unique within (birth date, sex, NISS or BIS), random-looking."""
    n = len(birth)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = (birth.astype("datetime64[D]").astype(np.int64) * 2 + male) * 2 + bis
    order = np.lexsort((rng.random(n), key))
    k_sorted = key[order]
    first = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.arange(n) - group_start
    if rank.max() >= SLOTS:
        raise PrimexError(
            f"more than {SLOTS} synthetic persons of one sex share a birth date",
            hint="generate fewer persons or widen the birth-date range",
        )
    offset = rng.integers(0, SLOTS, n)[group_start]
    slot = (offset + rank * _STEP) % SLOTS
    serial_sorted = slot * 2 + np.where(male[order], 1, 2)
    serial = np.empty(n, dtype=np.int64)
    serial[order] = serial_sorted
    return serial


def build_numbers(birth: np.ndarray, serial: np.ndarray, bis: np.ndarray) -> np.ndarray:
    """The 11-digit numbers as int64 (print with 11 digits, leading zeros kept)."""
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    mm = month + np.where(bis, 40, 0)
    base = ((year % 100) * 10_000 + mm * 100 + day) * 1000 + serial
    prefixed = np.where(year >= 2000, base + 2_000_000_000, base)
    check = 97 - prefixed % 97
    return base * 100 + check


def format_numbers(numbers: np.ndarray) -> np.ndarray:
    """int64 numbers -> 11-character strings (small arrays only: tests, samples)."""
    return np.char.zfill(numbers.astype(str), 11)


def serial_in_range(niss: str) -> bool:
    """stdnum does not check it: serial 001-997 for men (odd), 002-998 for women (even)."""
    serial = int(niss[6:9])
    return 1 <= serial <= 998
