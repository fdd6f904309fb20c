"""Censored linked outcomes in the protection step: keep them with their codes, or drop them.

A linked outcome that could not be observed (the spell still runs; the quarter lies after the
data's end) carries an explicit code from the BCSS coding (`primex.catalogue.censoring`).
Whether those rows belong in the release is the request's decision, per linkage block
(`censored: keep | drop`, default keep): a study of where leavers are a year later drops
them, a description of every spell keeps them. `no_warehouse_record` and `not_applicable`
are observations (the person had no position, or no wage class), so they are always kept.
The step's report says, per linked column, how many rows carry each code and how many rows
were dropped; the codebook repeats it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from primex.catalogue.censoring import CENSORING_CODES, NOT_APPLICABLE, NOT_OBSERVED
from primex.requests.spec import linked_column

CODES = (*CENSORING_CODES, NOT_APPLICABLE)


def apply_censoring(data: pd.DataFrame, spec: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(the rows the request keeps, the censoring report). Refuses nothing: a request
    without linkage gets an empty report."""
    blocks = []
    drop = np.zeros(len(data), dtype=bool)
    for block in getattr(spec, "linkage", None) or []:
        rule = getattr(block, "censored", "keep")
        columns: dict[str, dict[str, int]] = {}
        block_drop = np.zeros(len(data), dtype=bool)
        for variable in block.variables:
            for at in block.at:
                column = linked_column(variable, at)
                if column not in data.columns:
                    continue
                values = data[column].astype("object")
                counts = values.value_counts()
                columns[column] = {code: int(counts.get(code, 0)) for code in CODES
                                   if int(counts.get(code, 0))}
                block_drop |= values.isin(NOT_OBSERVED).to_numpy(dtype=bool)
        entry: dict[str, Any] = {"variables": list(block.variables), "at": list(block.at),
                                 "censored": rule, "codes": columns,
                                 "rows_not_observed": int(block_drop.sum())}
        if rule == "drop":
            drop |= block_drop
        blocks.append(entry)
    report = {"blocks": blocks, "rows_before": len(data), "rows_dropped": int(drop.sum()),
              "rows_after": int(len(data) - drop.sum())}
    if not drop.any():
        return data, report
    return data.loc[~drop].reset_index(drop=True), report


def render_markdown(report: dict[str, Any]) -> list[str]:
    """The report's lines about censored outcomes (none for a request without linkage)."""
    if not report.get("blocks"):
        return []
    lines = ["## Linked outcomes not observed", ""]
    for block in report["blocks"]:
        points = ", ".join(block["at"])
        action = ("dropped before protection" if block["censored"] == "drop"
                  else "kept, with their code")
        lines.append(f"* {', '.join(block['variables'])} at {points}: "
                     f"{block['rows_not_observed']} rows not observed ({action}).")
        for column, codes in block["codes"].items():
            shown = ", ".join(f"{code} {n}" for code, n in codes.items()) or "none"
            lines.append(f"  `{column}`: {shown}.")
    lines += ["", f"Rows before: {report['rows_before']}; dropped: {report['rows_dropped']}; "
              f"protected: {report['rows_after']}.", ""]
    return lines
