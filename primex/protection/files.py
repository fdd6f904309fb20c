"""The files of the protection step: every read and write of a protected table, a microdata
report or a hierarchy CSV goes through here (and `primex.atomic`), so that the library under
it (`primex.sdc`) stays free of files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from primex.atomic import write_bytes, write_text, write_via
from primex.errors import PrimexError
from primex.exchange.layout import REPORT_HTML, REPORT_JSON, REPORT_MD
from primex.protection.micro_report import render_html, render_markdown
from primex.sdc.micro.hierarchy import GeneralisationHierarchy
from primex.sdc.tables.report import report_json, report_markdown
from primex.sdc.tables.result import ProtectedTable


def read_hierarchy_csv(name: str, path: str | os.PathLike[str]) -> GeneralisationHierarchy:
    """An ARX hierarchy CSV file (no header, `;` or `,` separated)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PrimexError(f"cannot read hierarchy file: {exc.strerror}", where=str(path),
                          hint="give an existing CSV file") from exc
    return GeneralisationHierarchy.from_text(name, text, where=str(path))


def write_frame(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """A data frame as CSV or Parquet under `path` with the format's suffix."""
    if fmt == "csv":
        return write_bytes(path.with_suffix(".csv"), df.to_csv(index=False).encode("utf-8"))
    # No pandas index, no creation time: the same data gives the same bytes.
    return write_via(path.with_suffix(".parquet"), lambda tmp: df.to_parquet(tmp, index=False))


def released_cells(pt: ProtectedTable) -> pd.DataFrame:
    """The cells of a protected table as a release publishes them, with ONE measure column:
    a count table its `count` (an integer; its value would be the same number again), a
    magnitude table its `value` in euro cents at most (float sums otherwise print long,
    spurious digits; its contributor counts stay out, see `ProtectedTable.published`).
    Suppressed cells are empty."""
    cells = pt.published()
    if pt.measure is None:
        return cells.drop(columns=["value"])
    cells["value"] = cells["value"].round(2)
    return cells


def write_table(pt: ProtectedTable, out: str | os.PathLike[str], fmt: str = "csv") -> list[Path]:
    """Write the tidy table (CSV or Parquet), the pivot of the first two dimensions and the
    disclosure report. Refuses a table that did not pass its audit."""
    if not pt.passed:
        raise PrimexError(
            "the table failed its disclosure audit and cannot be written for release",
            where="protect_table", hint="see report['audit'] for the failing cells",
        )
    if fmt not in ("csv", "parquet"):
        raise PrimexError(f"unknown format {fmt!r}", where="--format", hint="csv or parquet")
    folder = Path(out)
    written = [write_frame(pt.published(), folder / "table", fmt)]
    if len(pt.dimensions) >= 2:
        piv = pt.pivot(pt.dimensions[0], pt.dimensions[1])
        written.append(write_bytes(folder / "pivot.csv", piv.to_csv().encode()))
    written.append(write_text(folder / REPORT_JSON, report_json(pt)))
    written.append(write_text(folder / REPORT_MD, report_markdown(pt)))
    return written


REPORT_STEM = REPORT_JSON.removesuffix(".json")


def write_micro_report(report: dict[str, Any], folder: Path,
                       stem: str = REPORT_STEM) -> list[Path]:
    """Write <stem>.json, .md and .html of a microdata report into `folder`."""
    folder = Path(folder)
    names = (REPORT_JSON, REPORT_MD, REPORT_HTML) if stem == REPORT_STEM else (
        f"{stem}.json", f"{stem}.md", f"{stem}.html")
    paths = [folder / n for n in names]
    try:
        write_text(paths[0], json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
        if report.get("kind") == "microdata-protection":
            write_text(paths[1], render_markdown(report))
            write_text(paths[2], render_html(report))
            return paths
        return paths[:1]
    except OSError as exc:
        raise PrimexError(f"cannot write the disclosure report: {exc.strerror}",
                          where=str(folder),
                          hint="check the folder exists and is writable") from exc
