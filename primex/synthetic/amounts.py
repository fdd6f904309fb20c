"""Dated monthly amounts of the integration income (RI) per category, EUR, net.

Sourced rows (see the domain notes; loi du 26 mai 2002, art. 14, indexed):
    from 2017-06-01: 589.82 / 884.74 / 1179.65   (luttepauvrete.be)
    from 2024-05-01: 858.97 / 1288.46 / 1741.29  (bruxelles-j.be; creno.be)
    from 2025-02-01: 876.13 / 1314.20 / 1776.07  (CPAS Sivry-Rance)
The many index jumps between mid-2017 and May 2024 were not available as a sourced table, so
the generator steps through them on each 1 January by straight-line interpolation between
the two sourced rows. Those rows are marked `sourced=False`: synthetic, not legal amounts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AmountRow:
    start: dt.date
    cohabitant: float  # category 1
    isole: float  # category 2
    family: float  # category 3
    sourced: bool


_SOURCED = [
    AmountRow(dt.date(2017, 6, 1), 589.82, 884.74, 1179.65, True),
    AmountRow(dt.date(2024, 5, 1), 858.97, 1288.46, 1741.29, True),
    AmountRow(dt.date(2025, 2, 1), 876.13, 1314.20, 1776.07, True),
]


def _interpolated() -> list[AmountRow]:
    a, b = _SOURCED[0], _SOURCED[1]
    span = (b.start - a.start).days
    rows = []
    for year in range(2018, 2025):
        day = dt.date(year, 1, 1)
        w = (day - a.start).days / span
        rows.append(
            AmountRow(
                day,
                round(a.cohabitant + w * (b.cohabitant - a.cohabitant), 2),
                round(a.isole + w * (b.isole - a.isole), 2),
                round(a.family + w * (b.family - a.family), 2),
                False,
            )
        )
    return rows


AMOUNTS: tuple[AmountRow, ...] = tuple(sorted(_SOURCED + _interpolated(), key=lambda r: r.start))


def legal_amount(category: int, month: dt.date) -> float:
    """The full monthly amount of a category (1, 2, 3) in force on the first of `month`."""
    row = AMOUNTS[0]
    for candidate in AMOUNTS:
        if candidate.start <= month:
            row = candidate
    return (row.cohabitant, row.isole, row.family)[category - 1]


def amount_table(month_index: np.ndarray) -> np.ndarray:
    """Legal amounts for absolute month indices (year*12 + month-1): array (len, 3)."""
    starts = np.array([r.start.year * 12 + r.start.month - 1 for r in AMOUNTS])
    values = np.array([(r.cohabitant, r.isole, r.family) for r in AMOUNTS])
    pos = np.clip(np.searchsorted(starts, month_index, side="right") - 1, 0, None)
    return values[pos]
