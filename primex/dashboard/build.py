"""Build the static dashboard site under `<home>/site`.

`build_site()` runs (or reuses) the quarterly protocol, and the annual one when a year is
asked, protects every cell with the chosen dissemination profile (primex.dashboard.protect),
and renders plain HTML pages with inline SVG charts: no JavaScript, no web font, no CDN, so the
site works offline and from a file:// URL. Only protected values are ever formatted into a
page or a download; everything else prints as `x`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook

from primex.catalogue import geography
from primex.dashboard import charts, geomap
from primex.dashboard.protect import protect_cells
from primex.errors import PrimexError
from primex.extract import profiles as profiles_mod
from primex.extract.indicators import (
    BREAKDOWN_LABELS,
    GEO_LEVELS,
    INDICATORS,
    KEY_LABELS,
    Indicator,
)
from primex.extract.manifest import atomic_write, dumps, file_entries, sha256_file
from primex.extract.profiles import Profile
from primex.extract.protocol import Protocol, load_protocol
from primex.extract.run import RunResult, existing_run, load_indicators, plan, run_protocol
from primex.home import Home

SITE_KIND = "primex.dashboard.site"
BREAKDOWN_ORDER = [*GEO_LEVELS, "category", "sex", "age_band", "nationality_group", "benefit",
                   "duration_band", "position_group"]
OVERVIEW_CARDS = ("stock_ri", "stock_eris", "rate_18_64", "long_rights", "exits")
MAP_INDICATORS = ("rate_18_64", "stock_ri")
EXPORT_COLUMNS = ["indicator", "period_type", "period", "breakdown", "key", "label", "value",
                  "unit", "status", "revised"]


@dataclass(frozen=True)
class BuildResult:
    site: Path
    manifest: dict[str, Any]
    runs: dict[str, RunResult]


def ensure_run(home: Home, protocol: Protocol, period: str | None,
               snapshot: date | None = None) -> RunResult:
    """The protocol's run for this period and snapshot; runs it when it was not run yet."""
    p = plan(home, protocol, period, snapshot)
    found = existing_run(home, protocol, p)
    return found or run_protocol(home, protocol, p.period, snapshot)


# --- formatting ----------------------------------------------------------------------------


def _label(breakdown: str, key: str) -> str:
    if breakdown == "total":
        return "Belgium"
    if breakdown in GEO_LEVELS:
        fr, nl = geography.names(breakdown).get(key, (key, key))
        return fr if fr == nl else f"{fr} / {nl}"
    if breakdown == "duration_band":
        return key.lstrip("0").replace("-0", "-") + " months"
    return KEY_LABELS.get(breakdown, {}).get(key, key)


def _decimals(ind: Indicator, profile: Profile) -> int:
    return 1 if ind.is_ratio else profile.decimals


def _shown(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def _text(value: float | None, decimals: int) -> str:
    return "x" if value is None else charts.fmt(value, decimals)


def _key_order(breakdown: str, key: str) -> tuple[int, str]:
    if breakdown == "age_band":
        return (int(key.split("-")[0].rstrip("+")) if key[0].isdigit() else 999, key)
    return (0, key)


def _table(caption: str, head: tuple[str, str], rows: list[tuple[str, float | None, str, bool]],
           decimals: int) -> str:
    html = _table_only(caption, head, rows, decimals)
    if len(rows) <= 15:
        return html
    # long tables stay one click away (no script: <details> is native and keyboard-accessible)
    return f"<details><summary>Table: {escape(caption)}</summary>{html}</details>"


def _table_only(caption: str, head: tuple[str, str],
                rows: list[tuple[str, float | None, str, bool]], decimals: int) -> str:
    out = [f"<table><caption>{escape(caption)}</caption><thead><tr>"
           f'<th scope="col">{escape(head[0])}</th><th scope="col">{escape(head[1])}</th>'
           "</tr></thead><tbody>"]
    for label, value, status, revised in rows:
        if value is None:
            why = "too small to show" if status == "r" else "confidential"
            cell = f'<td class="num status-x" title="not shown: {why}">x</td>'
        else:
            mark = ' <span class="revised" title="revised since the previous publication">R' \
                   "</span>" if revised else ""
            cell = f'<td class="num">{_text(value, decimals)}{mark}</td>'
        out.append(f'<tr><th scope="row">{escape(label)}</th>{cell}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


# --- pages ---------------------------------------------------------------------------------


class _Site:
    def __init__(self, out: Path, profile: Profile, method: str, common: dict[str, Any]) -> None:
        self.out = out
        self.profile = profile
        self.method = method
        self.common = common
        self.env = Environment(loader=PackageLoader("primex.dashboard", "templates"),
                               autoescape=select_autoescape(["j2", "html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.pages: list[str] = []

    def render(self, template: str, target: str, **ctx: Any) -> None:
        depth = target.count("/")
        html = self.env.get_template(template).render(
            **self.common, **ctx, root="../" * depth, profile=self.profile, method=self.method)
        path = self.out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.pages.append(target)


def _rows(published: pd.DataFrame, ind_id: str, ptype: str, period: str | None,
          breakdown: str) -> list[tuple[str, float | None, str, bool]]:
    sel = published[(published["indicator"] == ind_id) & (published["period_type"] == ptype)
                    & (published["breakdown"] == breakdown)]
    if period is not None:
        sel = sel[sel["period"] == period]
    key = "period" if period is None else "key"
    sel = sel.assign(_o=[_key_order(breakdown, k) for k in sel[key]]).sort_values("_o") \
        if key == "key" else sel.sort_values("period")
    labels = sel["period"].tolist() if period is None else \
        [_label(breakdown, k) for k in sel["key"]]
    shown = [_shown(v) for v in sel["shown"]]
    return [(lab, v, st, bool(rv) and v is not None)
            for lab, v, st, rv in zip(labels, shown, sel["status"], sel["revised"], strict=True)]


def _headline(published: pd.DataFrame, ind: Indicator, grain: str, period: str,
              profile: Profile) -> dict[str, Any] | None:
    rows = _rows(published, ind.id, grain, None, "total")
    values = {p: v for p, v, _, _ in rows}
    if period not in values:
        return None
    cur = values[period]
    labels = [p for p, *_ in rows]
    i = labels.index(period)
    prev = values.get(labels[i - 1]) if i > 0 else None
    change = ""
    if cur is not None and prev is not None:
        what = "previous quarter" if grain == "quarter" else "previous year"
        if ind.is_ratio:
            change = f"{cur - prev:+.1f} points on the {what}"
        elif prev:
            change = f"{(cur - prev) / prev * 100:+.1f}% on the {what}"
    revised = next((rv for p, _, _, rv in rows if p == period), False)
    return {"id": ind.id, "name": ind.name_en, "text": _text(cur, _decimals(ind, profile)),
            "unit": ind.unit, "change": change, "revised": revised}


def _breakdown_sections(published: pd.DataFrame, ind: Indicator, grain: str, period: str,
                        profile: Profile, prefix: str) -> list[dict[str, Any]]:
    """One section per breakdown, for `period` or, where the indicator has no figure for it
    yet (exits are known a month late), for its latest period with one."""
    mine = published[(published["indicator"] == ind.id) & (published["period_type"] == grain)
                     & (published["breakdown"] != "total")]
    out = []
    dec = _decimals(ind, profile)
    for b in BREAKDOWN_ORDER:
        periods = sorted(set(mine.loc[mine["breakdown"] == b, "period"]))
        periods = [p for p in periods if p <= period]
        if not periods:
            continue
        at = period if period in periods else periods[-1]
        rows = _rows(published, ind.id, grain, at, b)
        title = BREAKDOWN_LABELS.get(b, b)
        svg = "" if len(rows) > 60 else charts.bar_chart(
            f"{prefix}-{b}", f"{ind.name_en} by {title.lower()}, {at}",
            [r[0] for r in rows], [r[1] for r in rows], ind.unit, dec)
        out.append({"id": f"{prefix}-{b}", "title": title, "svg": svg, "period": at,
                    "table": _table(f"{ind.name_en} by {title.lower()}, {at} ({ind.unit})",
                                    (title, ind.unit), rows, dec)})
    return out


def _export(published: pd.DataFrame, target: Path, stem: str, stamp: datetime,
            profile: Profile) -> list[str]:
    """CSV and XLSX of the published cells: a value only where it is shown."""
    labels = {(b, k): _label(b, k) for b, k in
              set(zip(published["breakdown"], published["key"], strict=True))}
    dec = published["indicator"].map(lambda i: _decimals(INDICATORS[i], profile))
    shown = published["shown"].astype("float64")
    value = [("" if math.isnan(v) else (round(v, d) if d else round(v)))
             for v, d in zip(shown, dec, strict=True)]
    frame = pd.DataFrame({
        "indicator": published["indicator"], "period_type": published["period_type"],
        "period": published["period"], "breakdown": published["breakdown"],
        "key": published["key"],
        "label": [labels[(b, k)] for b, k in zip(published["breakdown"], published["key"],
                                                 strict=True)],
        "value": value,
        "unit": published["indicator"].map(lambda i: INDICATORS[i].unit),
        "status": np.where(shown.notna(), "s", "x"),
        "revised": np.where(shown.notna() & published["revised"].astype(bool), "yes", ""),
    })
    target.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    rows = frame[EXPORT_COLUMNS].to_numpy().tolist()
    writer.writerows(rows)
    (target / f"{stem}.csv").write_text(buf.getvalue(), encoding="utf-8")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(stem[:31])
    ws.append(EXPORT_COLUMNS)
    for row in rows:
        ws.append(row)
    wb.properties.creator = "primex"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.save(target / f"{stem}.xlsx")
    return [f"downloads/{stem}.csv", f"downloads/{stem}.xlsx"]


# --- the build -----------------------------------------------------------------------------


def build_site(home: Home, period: str | None = None, profile: str = "public",
               year: int | None = None, snapshot: date | None = None,
               quarterly: str = "quarterly", annual: str = "annual") -> BuildResult:
    prof = profiles_mod.get_profile(profile)
    if not prof.dashboard:
        raise PrimexError(
            f"profile {profile!r} has no dashboard", where="--profile",
            hint="research data are only released through ad hoc requests (`primex request`); "
                 "build with --profile public or internal")
    qproto = load_protocol(quarterly)
    qrun = ensure_run(home, qproto, period, snapshot)
    runs = {"quarterly": qrun}
    grain = qproto.grain
    cur = qrun.manifest["period"]
    published = protect_cells(load_indicators(qrun.folder), prof, qproto.method)
    annual_pub = None
    aproto = None
    if year is not None:
        aproto = load_protocol(annual)
        arun = ensure_run(home, aproto, str(year), snapshot)
        runs["annual"] = arun
        annual_pub = protect_cells(load_indicators(arun.folder), prof, aproto.method)

    stamp = datetime.fromisoformat(qrun.manifest["snapshot_date"])
    prev = qrun.manifest.get("previous_run")
    common = {
        "period": cur, "snapshot_date": qrun.manifest["snapshot_date"], "year": year,
        "annual_href": f"annual-{year}.html" if year is not None else None,
        "geo_source": geomap.SOURCE,
    }
    home.ensure(home.site.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".site-", dir=home.site.parent))
    try:
        site = _Site(tmp, prof, qproto.method, common)
        _write_site(site, published, grain, cur, prof, annual_pub, year, prev, qrun, qproto,
                    runs["annual"].manifest["snapshot_date"] if "annual" in runs else None)
        if annual_pub is not None:
            site.pages += _export(annual_pub, tmp / "downloads", f"annual-{year}", stamp, prof)
        manifest = {
            "kind": SITE_KIND,
            "period": cur,
            "year": year,
            "profile": prof.as_dict(),
            "profiles_sha256": profiles_mod.file_sha256(),
            "protection_method": qproto.method,
            "runs": {k: {"manifest": str(r.manifest_path),
                         "sha256": sha256_file(r.manifest_path),
                         "snapshot_date": r.manifest["snapshot_date"],
                         "period": r.manifest["period"]} for k, r in runs.items()},
        }
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        manifest["files"] = file_entries(tmp, files)
        atomic_write(tmp / "manifest.json", dumps(manifest))
        old = home.site.with_name(".site-old")
        shutil.rmtree(old, ignore_errors=True)
        if home.site.exists():
            home.site.rename(old)
        tmp.rename(home.site)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildResult(home.site, json.loads((home.site / "manifest.json").read_text()), runs)


def _write_site(site: _Site, published: pd.DataFrame, grain: str, cur: str, prof: Profile,
                annual_pub: pd.DataFrame | None, year: int | None, prev: dict[str, Any] | None,
                qrun: RunResult, qproto: Protocol, annual_snapshot: str | None) -> None:
    stamp = datetime.fromisoformat(qrun.manifest["snapshot_date"])
    present = [i for i in INDICATORS if i in set(published["indicator"])]
    inds = [INDICATORS[i] for i in present]
    levels = {i.id: ", ".join(sorted(
        {b for b in set(published.loc[published["indicator"] == i.id, "breakdown"])
         if b in GEO_LEVELS}, key=GEO_LEVELS.index)) or "Belgium only" for i in inds}
    # indicator pages
    for ind in inds:
        dec = _decimals(ind, prof)
        series = _rows(published, ind.id, grain, None, "total")
        svg = charts.line_chart(f"series-{ind.id}", f"{ind.name_en}, Belgium",
                                [r[0] for r in series], [(ind.name_en, [r[1] for r in series])],
                                ind.unit, dec) if len(series) > 1 else ""
        monthly = _rows(published, ind.id, "month", None, "total")
        msvg = charts.line_chart(f"monthly-{ind.id}", f"{ind.name_en}, monthly",
                                 [r[0] for r in monthly], [(ind.name_en, [r[1] for r in monthly])],
                                 ind.unit, dec) if monthly else ""
        head = _headline(published, ind, grain, cur, prof)
        rules = (f"a figure rests on at least {prof.min_count} persons"
                 + (f"; shares need a denominator of {prof.min_denominator} persons"
                    if ind.unit == "%" else "")
                 + (f"; rates need a population of {prof.min_population}"
                    if ind.unit == "per 1 000" else "")
                 + f"; finest geography: {prof.geography[-1]}")
        site.render("indicator.html.j2", f"indicators/{ind.id}.html", title=ind.name_en, ind=ind,
                    headline=(head["text"] + " " + ind.unit) if head else "",
                    series_svg=svg,
                    series_table=_table(f"{ind.name_en}, Belgium, by period", ("Period", ind.unit),
                                        series, dec),
                    monthly_svg=msvg,
                    monthly_table=_table(f"{ind.name_en}, Belgium, by month", ("Month", ind.unit),
                                         monthly, dec) if monthly else "",
                    breakdowns=_breakdown_sections(published, ind, grain, cur, prof, ind.id),
                    levels=levels[ind.id], rules=rules)
        site.pages += _export(published[published["indicator"] == ind.id], site.out / "downloads",
                              ind.id, stamp, prof)
    # overview
    cards = [c for c in (_headline(published, INDICATORS[i], grain, cur, prof)
                         for i in OVERVIEW_CARDS if i in present) if c]
    trends = []
    monthly_ids = [i for i in ("stock_ri", "stock_eris") if i in present]
    if monthly_ids:
        rows = {i: _rows(published, i, "month", None, "total") for i in monthly_ids}
        labels = [r[0] for r in rows[monthly_ids[0]]]
        series = [(INDICATORS[i].name_en, [dict((r[0], r[1]) for r in rows[i]).get(m)
                                           for m in labels]) for i in monthly_ids]
        trends.append({
            "svg": charts.line_chart("trend-stock", "Monthly RI and ERIS beneficiaries, Belgium",
                                     labels, series, "persons", prof.decimals),
            "caption": "Monthly number of beneficiaries of RI and ERIS, Belgium.",
            "table": "".join(_table(f"{INDICATORS[i].name_en}, by month", ("Month", "persons"),
                                    rows[i], prof.decimals) for i in monthly_ids),
        })
    if "rate_18_64" in present:
        ind = INDICATORS["rate_18_64"]
        rows_r = _rows(published, ind.id, grain, None, "total")
        trends.append({
            "svg": charts.line_chart("trend-rate", ind.name_en, [r[0] for r in rows_r],
                                     [(ind.name_en, [r[1] for r in rows_r])], ind.unit, 1),
            "caption": ind.name_en + ", Belgium.",
            "table": _table(ind.name_en, ("Period", ind.unit), rows_r, 1),
        })
    revisions = int((published["revised"].astype(bool) & published["shown"].notna()).sum())
    site.render("overview.html.j2", "index.html", title="Overview", cards=cards, trends=trends,
                indicators=inds, revisions=revisions,
                previous_snapshot=prev["snapshot_date"] if prev else "")
    site.render("indicators.html.j2", "indicators.html", title="Indicators", indicators=inds,
                levels=levels)
    # map
    maps = []
    names = {k: (fr if fr == nl else f"{fr} / {nl}")
             for k, (fr, nl) in geography.names("province").items()}
    for mid in MAP_INDICATORS:
        if mid not in present:
            continue
        ind = INDICATORS[mid]
        rows = _rows(published, mid, grain, cur, "province")
        if not rows:
            continue
        sel = published[(published["indicator"] == mid) & (published["period"] == cur)
                        & (published["period_type"] == grain)
                        & (published["breakdown"] == "province")]
        values = {r["key"]: _shown(r["shown"]) for _, r in sel.iterrows()}
        dec = _decimals(ind, prof)
        maps.append({"id": mid, "title": f"{ind.name_en}, {cur}",
                     "svg": geomap.choropleth(f"map-{mid}", f"{ind.name_en} by province, {cur}",
                                              values, names, ind.unit, dec),
                     "caption": f"{ind.name_en} by province ({ind.unit}).",
                     "table": _table(f"{ind.name_en} by province, {cur}", ("Province", ind.unit),
                                     rows, dec)})
    site.render("map.html.j2", "map.html", title="Map", maps=maps)
    # annual report
    if annual_pub is not None and year is not None:
        ystr = str(year)
        a_present = [i for i in INDICATORS if i in set(annual_pub["indicator"])]
        a_cards = [c for c in (_headline(annual_pub, INDICATORS[i], "year", ystr, prof)
                               for i in ("persons_year_ri", "persons_year_eris", "stock_ri",
                                         "stock_eris", "rate_18_64") if i in a_present) if c]
        sections = []
        for i in a_present:
            ind = INDICATORS[i]
            bds = [b for b in _breakdown_sections(annual_pub, ind, "year", ystr, prof, f"a-{i}")
                   if b["id"].split("-")[-1] in ("region", "sex", "age_band", "duration_band",
                                                 "nationality_group", "position_group")]
            sections.append({"id": i, "title": ind.name_en, "definition": ind.definition,
                             "breakdowns": bds})
        site.render("annual.html.j2", f"annual-{year}.html", title=f"Annual report {year}",
                    cards=a_cards, sections=sections,
                    annual_snapshot=annual_snapshot or qrun.manifest["snapshot_date"])
    m = qrun.manifest
    site.render("method.html.j2", "method.html", title="Method", protocol_name=qproto.name,
                protocol_version=qproto.version, protocol_sha=qproto.sha256,
                data_first=m["data_months"]["first"], data_last=m["data_months"]["last_stable"])
    (site.out / "style.css").write_bytes(
        (Path(__file__).parent / "templates" / "style.css").read_bytes())
    site.pages.append("style.css")
