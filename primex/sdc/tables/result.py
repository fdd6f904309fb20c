"""The result of protecting a table: cells with their status, the audit and the report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.tables.build import TOTAL, Table
from primex.sdc.tables.optimal import SuppressionProblem

MARKER = "x"


@dataclass
class ProtectedTable:
    """A protected table: `.cells` (one column per dimension, value, count, status),
    `.audit` (interval per primary cell), `.report` (dict, `passed` is the release gate)."""

    cells: pd.DataFrame
    audit: pd.DataFrame
    report: dict[str, Any]
    dimensions: list[str]
    measure: str | None = None
    table: Table | None = field(default=None, repr=False)
    record_cells: np.ndarray | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    # the secondary-suppression problem of the (cover) table, for distance_to_optimum
    problem: SuppressionProblem | None = field(default=None, repr=False)
    # the exact search's figures when protect ran it (`exact=`): JSON-ready, with `released`
    optimum: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return bool(self.report.get("passed"))

    def published(self) -> pd.DataFrame:
        """The cells as they may leave: suppressed values and counts blanked."""
        out = self.cells.copy()
        hidden = out["status"].isin(["u", "x"])
        out["value"] = out["value"].astype("float64").where(~hidden)
        out["count"] = out["count"].astype("Int64").where(~hidden)
        if self.measure is not None:
            # Magnitude tables publish values only: contributor counts of published cells
            # would give the attacker a second, unaudited table (make a count table instead).
            out = out.drop(columns=["count"])
        return out

    def pivot(self, rows: str | Sequence[str], columns: str | Sequence[str],
              marker: str = MARKER) -> pd.DataFrame:
        """A readable cross-tabulation: suppressed cells shown as `marker`. Dimensions not in
        rows/columns are taken at their total `*`."""
        rows = [rows] if isinstance(rows, str) else list(rows)
        columns = [columns] if isinstance(columns, str) else list(columns)
        for d in rows + columns:
            if d not in self.dimensions:
                raise PrimexError(f"{d!r} is not a dimension of this table", where="pivot",
                                  hint=f"dimensions: {self.dimensions}")
        df = self.cells
        for d in self.dimensions:
            if d not in rows + columns:
                df = df[df[d].astype(str) == TOTAL]
        shown = df["value"].map(_fmt).where(~df["status"].isin(["u", "x"]), marker)
        df = df.assign(shown=shown)
        return df.pivot_table(index=rows, columns=columns, values="shown", aggfunc="first",
                              sort=False, observed=True)


def _fmt(v: float) -> str:
    return str(round(v)) if float(v).is_integer() else f"{v:.2f}"
