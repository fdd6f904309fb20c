"""Parameters of one synthetic generation, checked at the boundary."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from primex.errors import PrimexError

GENERATOR_VERSION = "primex-synth/1"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
EPOCH_MONTH = 1970 * 12  # absolute month index of 1970-01 (index = year*12 + month-1)


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. `persons` counts PRIMA beneficiaries (at least one month paid in
    the period); the warehouse adds `comparison` x persons who never had RI."""

    persons: int = 20_000
    start: str = "2022-01"
    months: int = 24
    seed: int = 1
    comparison: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.persons <= 20_000_000:
            raise PrimexError(
                f"--persons {self.persons} is out of range",
                where="--persons",
                hint="give between 1 and 20000000",
            )
        if not 1 <= self.months <= 240:
            raise PrimexError(
                f"--months {self.months} is out of range",
                where="--months",
                hint="give between 1 and 240",
            )
        m = _MONTH.match(self.start)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise PrimexError(
                f"--start {self.start!r} is not a month", where="--start", hint="write YYYY-MM"
            )
        if not 2003 <= int(m.group(1)) <= 2030:
            raise PrimexError(
                f"--start {self.start} is outside 2003-2030",
                where="--start",
                hint="PRIMA data start in 2003; the amount table ends in 2025",
            )
        if not 0 <= self.comparison <= 10:
            raise PrimexError(
                f"--comparison {self.comparison} is out of range",
                where="--comparison",
                hint="give a ratio between 0 and 10 (comparison persons per beneficiary)",
            )
        if not 0 <= self.seed < 2**63:
            raise PrimexError("--seed must be a non-negative integer", where="--seed")

    @property
    def first_month(self) -> int:
        """Absolute month index (year*12 + month-1) of the first month of the period."""
        year, month = self.start.split("-")
        return int(year) * 12 + int(month) - 1

    @property
    def last_month(self) -> int:
        return self.first_month + self.months - 1

    @property
    def snapshot_month(self) -> int:
        """PRIMA is read two months after the period: the snapshot is the 1st of that month."""
        return self.last_month + 2

    @property
    def start_date(self) -> dt.date:
        return month_date(self.first_month)

    @property
    def snapshot_date(self) -> dt.date:
        return month_date(self.snapshot_month)


def month_date(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_days(index: np.ndarray) -> np.ndarray:
    """Absolute month indices -> datetime64[D] of the first day of each month."""
    return (np.datetime64("1970-01", "M") + (index - EPOCH_MONTH)).astype("datetime64[D]")
