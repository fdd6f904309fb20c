"""CSV and XLSX downloads of the published cells, in one language: headers, labels, units and
period types in that language; a value only where the figure is published (`x` in the status
column otherwise); `R` where it was revised since the previous publication."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from primex.dashboard import i18n
from primex.dashboard.sheets import sheet
from primex.extract.indicators import INDICATORS
from primex.extract.profiles import Profile

COLUMNS = ("indicator", "name", "period_type", "period", "breakdown", "key", "label", "value",
           "unit", "status", "revised")


def _decimals(ind_id: str, profile: Profile) -> int:
    return 1 if INDICATORS[ind_id].is_ratio else profile.decimals


def table(cells: pd.DataFrame, profile: Profile, lang: str) -> list[list[object]]:
    """The rows of a download (codes kept beside the labels, values rounded as shown)."""
    out: list[list[object]] = []
    names = {i: sheet(INDICATORS[i], lang).name for i in set(cells["indicator"])}
    for ind, ptype, period, b, key, shown, revised in zip(
            cells["indicator"], cells["period_type"], cells["period"], cells["breakdown"],
            cells["key"], cells["shown"].astype("float64"), cells["revised"].astype(bool),
            strict=True):
        published = not math.isnan(shown)
        dec = _decimals(ind, profile)
        value: object = ""
        if published:
            value = round(shown, dec) if dec else round(shown)
            if value == 0:
                value = 0  # never "-0.0"
        out.append([ind, names[ind], i18n.PERIOD_TYPES[ptype][lang], period,
                    i18n.BREAKDOWNS[b][lang], key, i18n.label(b, str(key), lang), value,
                    i18n.UNITS[INDICATORS[ind].unit][lang], "" if published else "x",
                    "R" if published and revised else ""])
    return out


def write(cells: pd.DataFrame, target: Path, stem: str, stamp: datetime, profile: Profile,
          lang: str) -> list[str]:
    target.mkdir(parents=True, exist_ok=True)
    header = [i18n.EXPORT_HEADERS[c][lang] for c in COLUMNS]
    body = table(cells, profile, lang)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    (target / f"{stem}.csv").write_text(buf.getvalue(), encoding="utf-8")
    # XlsxWriter (in memory, several times faster than openpyxl for 4 x 43 workbooks); the
    # creation date is the snapshot's, so a rebuild writes the same bytes
    wb = xlsxwriter.Workbook(str(target / f"{stem}.xlsx"), {"in_memory": True})
    wb.set_properties({"author": "primex", "created": stamp, "language": lang})
    ws = wb.add_worksheet(stem[:31])
    ws.write_row(0, 0, header)
    for i, row in enumerate(body, start=1):
        ws.write_row(i, 0, row)
    wb.close()
    return [f"{lang}/downloads/{stem}.csv", f"{lang}/downloads/{stem}.xlsx"]
