"""Build the static barometer site under `<home>/site`, in French, Dutch, German and English.

`build_site()` runs (or reuses) the quarterly protocol, and the annual one when a year is
asked, protects every cell with the chosen dissemination profile (primex.dashboard.protect),
and renders plain HTML pages with inline SVG charts and maps: no JavaScript, no web font, no
CDN, so the site works offline and from a file:// URL. Only protected values are ever
formatted into a page, a download or the open-data package; everything else prints as `x`.

Layout: `index.html` (language choice), `<lang>/…` (the same pages in each language, each
with a language switch), `<lang>/downloads/` (CSV and XLSX with headers and labels in that
language), `opendata/<period>/<snapshot>/` (primex.dashboard.opendata), `manifest.json`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from primex import atomic
from primex.dashboard import charts, exports, geomap, i18n, opendata
from primex.dashboard.protect import protect_cells
from primex.dashboard.sheets import sheet
from primex.errors import PrimexError
from primex.extract import profiles as profiles_mod
from primex.extract.indicators import GEO_LEVELS, INDICATORS, Indicator
from primex.extract.manifest import atomic_write, dumps, file_entries, sha256_file
from primex.extract.profiles import Profile
from primex.extract.protocol import Protocol, load_protocol
from primex.extract.run import RunResult, existing_run, load_indicators, plan, run_protocol
from primex.home import Home

SITE_KIND = "primex.dashboard.site"
BREAKDOWN_ORDER = [*GEO_LEVELS, "category", "sex", "age_band", "nationality_group", "benefit",
                   "duration_band", "position_group", "piis_type", "outcome", "transition"]
OVERVIEW_CARDS = ("stock_total", "stock_ri", "stock_eris", "rate_18_64", "long_rights",
                  "exits", "piis_coverage", "art60_persons")
# (indicator, level) of the maps page, in order
MAP_SPECS = (("stock_total", "commune"), ("rate_18_64", "commune"),
             ("stock_total", "arrondissement"), ("rate_18_64", "arrondissement"),
             ("rate_18_64", "province"))
THEMES = {
    "volume": ("stock_total", "stock_ri", "stock_eris", "rate_18_64", "rate_ri_18_64",
               "rate_eris_18_64", "persons_year_ri", "persons_year_eris"),
    "profile": ("share_women", "share_18_24", "share_50_64", "share_non_eu", "share_eu",
                "share_cohabitant", "share_isolated", "share_family", "share_eris",
                "share_students"),
    "flows": ("entries", "exits", "reentries_12m", "spell_duration", "long_rights"),
    "piis": ("piis_coverage", "piis_new", "piis_running", "piis_type_share", "piis_success",
             "piis_duration", "piis_outcome"),
    "activation": ("art60_share", "art61_share", "art60_persons", "art61_persons",
                   "art60_starts", "art61_starts", "art60_completed"),
    "labour": ("outcome_work_4q", "outcome_work_8q", "position_4q", "position_8q",
               "transition_from_cpas", "transition_to_cpas"),
}
THEME_NAMES = {
    "volume": {"fr": "Volume et taux", "nl": "Volume en ratio's", "de": "Umfang und Quoten",
               "en": "Volume and rates"},
    "profile": {"fr": "Profil des bénéficiaires", "nl": "Profiel van de gerechtigden",
                "de": "Profil der Leistungsempfänger", "en": "Profile of the beneficiaries"},
    "flows": {"fr": "Entrées, sorties, durées", "nl": "Instroom, uitstroom, duur",
              "de": "Zugänge, Abgänge, Dauer", "en": "Entries, exits, durations"},
    "piis": {"fr": "Trajet d'intégration (PIIS)", "nl": "Integratietraject (GPMI)",
             "de": "Eingliederungsweg (PIIS)", "en": "Integration trajectory (PIIS)"},
    "activation": {"fr": "Mise à l'emploi (art. 60 §7, art. 61)",
                   "nl": "Tewerkstelling (art. 60 §7, art. 61)",
                   "de": "Beschäftigung (Art. 60 §7, Art. 61)",
                   "en": "Employment measures (art. 60 §7, art. 61)"},
    "labour": {"fr": "Marché du travail (BCSS)", "nl": "Arbeidsmarkt (KSZ)",
               "de": "Arbeitsmarkt (ZDSS)", "en": "Labour market (BCSS)"},
}


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


def _decimals(ind: Indicator, profile: Profile) -> int:
    return 1 if ind.is_ratio else profile.decimals


def _shown(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def lower(text: str, lang: str) -> str:
    """A breakdown name inside a sentence: lower-case first letter, except German nouns."""
    return text if lang == "de" or not text else text[0].lower() + text[1:]


def _key_order(breakdown: str, key: str) -> tuple[int, str]:
    if breakdown == "age_band":
        return (int(key.split("-")[0].rstrip("+")) if key[0].isdigit() else 999, key)
    return (0, key)


Row = tuple[str, float | None, str, bool]  # label, shown value, status, revised


class Page:
    """What one language's pages need: the language, its texts and number format."""

    def __init__(self, lang: str, profile: Profile) -> None:
        self.lang = lang
        self.profile = profile
        self.t = {k: v[lang] for k, v in i18n.UI.items()}

    def num(self, value: float | None, decimals: int) -> str:
        return "x" if value is None else i18n.number(value, decimals, self.lang)

    def unit(self, ind: Indicator) -> str:
        return i18n.UNITS[ind.unit][self.lang]

    def bname(self, breakdown: str) -> str:
        return i18n.BREAKDOWNS[breakdown][self.lang]

    def table(self, caption: str, head: tuple[str, str], rows: list[Row], decimals: int) -> str:
        out = [f"<table><caption>{escape(caption)}</caption><thead><tr>"
               f'<th scope="col">{escape(head[0])}</th><th scope="col">{escape(head[1])}</th>'
               "</tr></thead><tbody>"]
        for label, value, _status, revised in rows:
            if value is None:
                cell = (f'<td class="num status-x" title="{escape(self.t["not_shown"])}">x'
                        "</td>")
            else:
                mark = (f' <abbr class="revised" title="{escape(self.t["revised"])}">R</abbr>'
                        if revised else "")
                cell = f'<td class="num">{self.num(value, decimals)}{mark}</td>'
            out.append(f'<tr><th scope="row">{escape(label)}</th>{cell}</tr>')
        out.append("</tbody></table>")
        html = "".join(out)
        if len(rows) <= 15:
            return html
        # long tables stay one click away (no script: <details> is native and accessible)
        return (f"<details><summary>{escape(self.t['table'])}: {escape(caption)}</summary>"
                f"{html}</details>")


_INDEX: dict[int, dict[tuple[str, str, str], pd.DataFrame]] = {}


def _part(published: pd.DataFrame, ind_id: str, ptype: str, breakdown: str) -> pd.DataFrame:
    """The cells of one indicator, period type and breakdown (indexed once per frame: the
    pages ask thousands of times)."""
    key = id(published)
    if key not in _INDEX or _INDEX[key].get(("", "", "")) is not published:
        groups = {k: g for k, g in published.groupby(
            ["indicator", "period_type", "breakdown"], sort=False)}
        groups[("", "", "")] = published
        if len(_INDEX) > 4:  # a build holds two frames (quarterly, annual)
            _INDEX.clear()
        _INDEX[key] = groups
    return _INDEX[key].get((ind_id, ptype, breakdown), published.iloc[0:0])


def rows(published: pd.DataFrame, ind_id: str, ptype: str, period: str | None,
         breakdown: str, lang: str) -> list[Row]:
    sel = _part(published, ind_id, ptype, breakdown)
    if period is not None:
        sel = sel[sel["period"] == period]
        sel = sel.assign(_o=[_key_order(breakdown, k) for k in sel["key"]]).sort_values("_o")
        labels = [i18n.label(breakdown, k, lang) for k in sel["key"]]
    else:
        sel = sel.sort_values("period")
        labels = sel["period"].tolist()
    shown = [_shown(v) for v in sel["shown"]]
    return [(lab, v, st, bool(rv) and v is not None)
            for lab, v, st, rv in zip(labels, shown, sel["status"], sel["revised"], strict=True)]


def _headline(published: pd.DataFrame, ind: Indicator, grain: str, period: str,
              pg: Page) -> dict[str, Any] | None:
    series = rows(published, ind.id, grain, None, "total", pg.lang)
    values = {p: v for p, v, _, _ in series}
    if period not in values:
        return None
    cur = values[period]
    labels = [p for p, *_ in series]
    i = labels.index(period)
    prev = values.get(labels[i - 1]) if i > 0 else None
    change = ""
    dec = _decimals(ind, pg.profile)
    if cur is not None and prev is not None:
        what = pg.t["prev_quarter"] if grain == "quarter" else pg.t["prev_year"]
        diff = cur - prev if ind.is_ratio else ((cur - prev) / prev * 100 if prev else None)
        if diff is not None:
            if round(diff, 1) == 0:
                change = f"{pg.t['no_change']} {what}"
            else:
                sign = "+" if diff > 0 else "−"
                amount = i18n.number(abs(diff), 1, pg.lang)
                change = (f"{sign}{amount} {pg.t['points']} {what}" if ind.is_ratio
                          else f"{sign}{amount} % {what}")
    revised = next((rv for p, _, _, rv in series if p == period), False)
    return {"id": ind.id, "name": sheet(ind, pg.lang).name, "text": pg.num(cur, dec),
            "unit": pg.unit(ind), "change": change, "revised": revised}


def _breakdown_sections(published: pd.DataFrame, ind: Indicator, grain: str, period: str,
                        pg: Page, prefix: str, only: tuple[str, ...] | None = None,
                        ) -> list[dict[str, Any]]:
    """One section per breakdown, for `period` or, where the indicator has no figure for it
    yet (exits are known a month late), for its latest period with one."""
    out = []
    dec = _decimals(ind, pg.profile)
    name = sheet(ind, pg.lang).name
    for b in BREAKDOWN_ORDER:
        if only is not None and b not in only:
            continue
        periods = [p for p in sorted(set(_part(published, ind.id, grain, b)["period"]))
                   if p <= period]
        if not periods:
            continue
        at = period if period in periods else periods[-1]
        part = rows(published, ind.id, grain, at, b, pg.lang)
        title = pg.bname(b)
        caption = f"{name}, {pg.t['by']} {lower(title, pg.lang)}, {at} ({pg.unit(ind)})"
        svg = "" if len(part) > 60 else charts.bar_chart(
            f"{prefix}-{b}", caption, [r[0] for r in part], [r[1] for r in part],
            pg.unit(ind), dec, lang=pg.lang, missing=f"x ({pg.t['not_shown']})",
            describe=i18n.describer(pg.lang))
        table = _matrix(published, ind, grain, at, pg, caption) if b == "transition" \
            else pg.table(caption, (title, pg.unit(ind)), part, dec)
        out.append({"id": f"{prefix}-{b}", "title": title, "svg": svg, "period": at,
                    "table": table})
    return out


POSITIONS = ("employee", "self_employed", "job_seeker", "cpas", "inactive", "other")


def _matrix(published: pd.DataFrame, ind: Indicator, grain: str, period: str, pg: Page,
            caption: str) -> str:
    """A transition matrix: position a year before (rows) by position now (columns). An
    empty cell of the data is a true zero (nobody made that move)."""
    sel = _part(published, ind.id, grain, "transition")
    sel = sel[sel["period"] == period]
    cells = {str(k): (_shown(v), bool(r)) for k, v, r in
             zip(sel["key"], sel["shown"], sel["revised"], strict=True)}
    keys = [k.split(">") for k in cells]
    rows_ = [p for p in POSITIONS if any(a == p for a, _ in keys)]
    cols = [p for p in POSITIONS if any(b == p for _, b in keys)]
    head = "".join(f'<th scope="col">{escape(i18n.label("position_group", c, pg.lang))}</th>'
                   for c in cols)
    corner = escape(f"{pg.bname('transition')}")
    out = [f'<table class="matrix"><caption>{escape(caption)}</caption><thead><tr>'
           f'<th scope="col">{corner}</th>{head}</tr></thead><tbody>']
    for a in rows_:
        tds = []
        for b in cols:
            value, revised = cells.get(f"{a}>{b}", (0.0, False))
            if f"{a}>{b}" in cells and value is None:
                tds.append(f'<td class="num status-x" title="{escape(pg.t["not_shown"])}">x'
                           "</td>")
            else:
                mark = (f' <abbr class="revised" title="{escape(pg.t["revised"])}">R</abbr>'
                        if revised else "")
                tds.append(f'<td class="num">{pg.num(value, 1)}{mark}</td>')
        label = escape(i18n.label("position_group", a, pg.lang))
        out.append(f'<tr><th scope="row">{label}</th>{"".join(tds)}</tr>')
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

    def render(self, pg: Page, template: str, target: str, **ctx: Any) -> None:
        depth = target.count("/")
        up = "../" * depth
        switch = [{"lang": lang, "name": i18n.LANG_NAMES[lang],
                   "href": f"{up}../{lang}/{target}", "current": lang == pg.lang}
                  for lang in i18n.LANGS]
        html = self.env.get_template(template).render(
            **self.common, **ctx, root=up, top=up + "../", profile=self.profile,
            method=self.method, t=pg.t, lang=pg.lang, switch=switch,
            rule=i18n.ui("rule", pg.lang, n=self.profile.min_count))
        path = self.out / pg.lang / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.pages.append(f"{pg.lang}/{target}")


def build_site(home: Home, period: str | None = None, profile: str = "public",
               year: int | None = None, snapshot: date | None = None,
               quarterly: str = "quarterly", annual: str = "annual",
               base_url: str | None = None) -> BuildResult:
    """`base_url`: where the SPP serves the open-data packages (default: the
    PRIMEX_OPENDATA_BASE_URL setting, else the demo's; see primex.dashboard.opendata)."""
    base = opendata.base_url(base_url)  # checked before any work: one clear error
    prof = profiles_mod.get_profile(profile)
    if not prof.dashboard:
        raise PrimexError(
            f"profile {profile!r} has no dashboard", where="--profile",
            hint="research data are only released through ad hoc requests (`primex request`); "
                 "build with --profile public or internal")
    qproto = load_protocol(quarterly)
    qrun = ensure_run(home, qproto, period, snapshot)
    runs = {"quarterly": qrun}
    cur = qrun.manifest["period"]
    published = protect_cells(load_indicators(qrun.folder), prof, qproto.method)
    annual_pub = None
    if year is not None:
        aproto = load_protocol(annual)
        arun = ensure_run(home, aproto, str(year), snapshot)
        runs["annual"] = arun
        annual_pub = protect_cells(load_indicators(arun.folder), prof, aproto.method)

    prev = qrun.manifest.get("previous_run")
    common = {
        "period": cur, "snapshot_date": qrun.manifest["snapshot_date"], "year": year,
        "annual_href": f"annual-{year}.html" if year is not None else None,
    }
    home.ensure(home.site.parent)
    with atomic.publish_folder(home.site) as tmp:
        site = _Site(tmp, prof, qproto.method, common)
        for lang in i18n.LANGS:
            _write_language(site, Page(lang, prof), published, qproto.grain, cur, annual_pub,
                            year, prev, qrun, qproto,
                            runs["annual"].manifest["snapshot_date"] if "annual" in runs
                            else None)
        site.env.get_template("choose.html.j2").stream(
            period=cur, langs=[(lang, i18n.LANG_NAMES[lang], i18n.UI["choose_language"][lang],
                                i18n.UI["site"][lang]) for lang in i18n.LANGS],
        ).dump(str(tmp / "index.html"), encoding="utf-8")
        (tmp / "style.css").write_bytes(
            (Path(__file__).parent / "templates" / "style.css").read_bytes())
        package = opendata.write_package(tmp / "opendata", published, annual_pub, qrun, prof,
                                         [r.manifest for r in runs.values()], base)
        manifest = {
            "kind": SITE_KIND,
            "period": cur,
            "year": year,
            "languages": list(i18n.LANGS),
            "profile": prof.as_dict(),
            "profiles_sha256": profiles_mod.file_sha256(),
            "protection_method": qproto.method,
            "opendata": package,
            "runs": {k: {"manifest": str(r.manifest_path),
                         "sha256": sha256_file(r.manifest_path),
                         "snapshot_date": r.manifest["snapshot_date"],
                         "period": r.manifest["period"]} for k, r in runs.items()},
        }
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        manifest["files"] = file_entries(tmp, files)
        atomic_write(tmp / "manifest.json", dumps(manifest))
    return BuildResult(home.site, json.loads((home.site / "manifest.json").read_text()), runs)


def _write_language(site: _Site, pg: Page, published: pd.DataFrame, grain: str, cur: str,
                    annual_pub: pd.DataFrame | None, year: int | None,
                    prev: dict[str, Any] | None, qrun: RunResult, qproto: Protocol,
                    annual_snapshot: str | None) -> None:
    lang, prof = pg.lang, pg.profile
    stamp = datetime.fromisoformat(qrun.manifest["snapshot_date"])
    present_set = set(published["indicator"])
    present = [i for i in INDICATORS if i in present_set]
    inds = [INDICATORS[i] for i in present]
    levels = {}
    for ind in inds:
        found = {b for b in set(published.loc[published["indicator"] == ind.id, "breakdown"])
                 if b in GEO_LEVELS}
        levels[ind.id] = ", ".join(pg.bname(b) for b in GEO_LEVELS if b in found) \
            or pg.t["belgium_only"]
    data_date = qrun.manifest["snapshot_date"]
    downloads = site.out / lang / "downloads"
    for ind in inds:
        dec = _decimals(ind, prof)
        sh = sheet(ind, lang)
        unit = pg.unit(ind)
        series = rows(published, ind.id, grain, None, "total", lang)
        belgium = pg.t["belgium"]
        svg = charts.line_chart(
            f"series-{ind.id}", f"{sh.name}, {belgium}", [r[0] for r in series],
            [(sh.name, [r[1] for r in series])], unit, dec, lang=lang,
            describe=i18n.describer(lang)) if len(series) > 1 else ""
        monthly = rows(published, ind.id, "month", None, "total", lang)
        msvg = charts.line_chart(
            f"monthly-{ind.id}", f"{sh.name}, {pg.t['by_month']}", [r[0] for r in monthly],
            [(sh.name, [r[1] for r in monthly])], unit, dec, lang=lang,
            describe=i18n.describer(lang)) if monthly else ""
        head = _headline(published, ind, grain, cur, pg)
        site.render(pg, "indicator.html.j2", f"indicators/{ind.id}.html", title=sh.name,
                    ind=ind, sheet=sh, unit=unit, data_date=data_date,
                    headline=(head["text"] + " " + unit) if head else "",
                    series_svg=svg,
                    series_table=pg.table(f"{sh.name}, {belgium}, {pg.t['by_period']}",
                                          (pg.t["period"], unit), series, dec)
                    if series else "",
                    monthly_svg=msvg,
                    monthly_table=pg.table(f"{sh.name}, {belgium}, {pg.t['by_month']}",
                                           (pg.t["month"], unit), monthly, dec)
                    if monthly else "",
                    breakdowns=_breakdown_sections(published, ind, grain, cur, pg, ind.id),
                    levels=levels[ind.id])
        site.pages += exports.write(published[published["indicator"] == ind.id], downloads,
                                    ind.id, stamp, prof, lang)
    # overview
    cards = [c for c in (_headline(published, INDICATORS[i], grain, cur, pg)
                         for i in OVERVIEW_CARDS if i in present_set) if c]
    trends = []
    monthly_ids = [i for i in ("stock_ri", "stock_eris") if i in present_set]
    if monthly_ids:
        by_id = {i: rows(published, i, "month", None, "total", lang) for i in monthly_ids}
        labels = [r[0] for r in by_id[monthly_ids[0]]]
        series_m = [(sheet(INDICATORS[i], lang).name,
                     [dict((r[0], r[1]) for r in by_id[i]).get(m) for m in labels])
                    for i in monthly_ids]
        caption = f"{pg.t['monthly']}: RI, ERIS"
        trends.append({
            "svg": charts.line_chart("trend-stock", caption, labels, series_m,
                                     i18n.UNITS["persons"][lang], prof.decimals, lang=lang,
                                     describe=i18n.describer(lang)),
            "caption": caption,
            "table": "".join(pg.table(f"{sheet(INDICATORS[i], lang).name}, {pg.t['by_month']}",
                                      (pg.t["month"], i18n.UNITS["persons"][lang]), by_id[i],
                                      prof.decimals) for i in monthly_ids),
        })
    if "rate_18_64" in present_set:
        ind = INDICATORS["rate_18_64"]
        name = sheet(ind, lang).name
        rows_r = rows(published, ind.id, grain, None, "total", lang)
        trends.append({
            "svg": charts.line_chart("trend-rate", name, [r[0] for r in rows_r],
                                     [(name, [r[1] for r in rows_r])], pg.unit(ind), 1,
                                     lang=lang, describe=i18n.describer(lang)),
            "caption": f"{name}, {pg.t['belgium']}.",
            "table": pg.table(name, (pg.t["period"], pg.unit(ind)), rows_r, 1),
        })
    revisions = int((published["revised"].astype(bool) & published["shown"].notna()).sum())
    themes = _themes(present, lang)
    site.render(pg, "overview.html.j2", "index.html", title=pg.t["overview"], cards=cards,
                trends=trends, themes=themes, revisions=revisions,
                previous_snapshot=prev["snapshot_date"] if prev else "")
    site.render(pg, "indicators.html.j2", "indicators.html", title=pg.t["indicators"],
                themes=themes, levels=levels,
                units={i.id: pg.unit(i) for i in inds})
    _write_maps(site, pg, published, grain, cur)
    if annual_pub is not None and year is not None:
        _write_annual(site, pg, annual_pub, year, annual_snapshot or data_date)
        site.pages += exports.write(annual_pub, downloads, f"annual-{year}", stamp, prof, lang)
    m = qrun.manifest
    fraction = next((s.get("sample_fraction", 1.0) for s in m.get("sources", [])
                     if s.get("name") == "prima"), 1.0)
    site.render(pg, "method.html.j2", "method.html", title=pg.t["method"],
                protocol_name=qproto.name, protocol_version=qproto.version,
                protocol_sha=qproto.sha256, data_first=m["data_months"]["first"],
                data_last=m["data_months"]["last_stable"],
                profiles=[_profile_row(p, pg) for p in profiles_mod.load_profiles().values()],
                fraction=i18n.number(float(fraction), 4, lang),
                sampled=float(fraction) < 1)


def _profile_row(p: Profile, pg: Page) -> dict[str, str]:
    return {"name": p.name, "geo": pg.bname(p.geography[-1]),
            "min_count": str(p.min_count), "min_den": str(p.min_denominator),
            "min_pop": str(p.min_population),
            "dashboard": pg.t["yes"] if p.dashboard else pg.t["no"]}


def _themes(present: list[str], lang: str) -> list[dict[str, Any]]:
    have = set(present)
    out = []
    for theme, ids in THEMES.items():
        items = [{"id": i, "name": sheet(INDICATORS[i], lang).name} for i in ids if i in have]
        if items:
            out.append({"name": THEME_NAMES[theme][lang], "items": items})
    rest = [i for i in present if not any(i in ids for ids in THEMES.values())]
    if rest:
        out.append({"name": "…", "items": [{"id": i, "name": sheet(INDICATORS[i], lang).name}
                                           for i in rest]})
    return out


def _write_maps(site: _Site, pg: Page, published: pd.DataFrame, grain: str, cur: str) -> None:
    lang = pg.lang
    prov_names = {code: _short_province(code, lang)
                  for code in geomap.label_points("province")}
    maps = []
    for mid, level in MAP_SPECS:
        if not pg.profile.allows(level):
            continue
        sel = published[(published["indicator"] == mid) & (published["period"] == cur)
                        & (published["period_type"] == grain)
                        & (published["breakdown"] == level)]
        if sel.empty:
            continue
        ind = INDICATORS[mid]
        dec = _decimals(ind, pg.profile)
        values = {str(k): _shown(v) for k, v in zip(sel["key"], sel["shown"], strict=True)}
        for code in geomap.area_paths(level):
            values.setdefault(code, None)  # an area without a cell is not published either
        names = {code: i18n.place(level, code, lang) for code in values}
        name = sheet(ind, lang).name
        title = f"{name}, {pg.t['by']} {lower(pg.bname(level), lang)}, {cur}"
        text = geomap.MapText(
            title=title, desc=i18n.ui("map_desc", lang, lvl=lower(pg.bname(level), lang)),
            hatched=pg.t["hatched"], fmt=lambda v, d=dec: i18n.number(v, d, lang))
        svg, hatched = geomap.choropleth(f"map-{mid}-{level}", level, values, names,
                                         prov_names, text)
        table_rows = rows(published, mid, grain, cur, level, lang)
        maps.append({"id": f"{mid}-{level}", "title": title, "svg": svg,
                     "hatched": hatched,
                     "hatched_title": i18n.ui("hatched_list", lang, n=len(hatched)),
                     "table": pg.table(title + f" ({pg.unit(ind)})",
                                       (pg.bname(level), pg.unit(ind)), table_rows, dec)})
    site.render(pg, "map.html.j2", "map.html", title=pg.t["maps"], maps=maps)


_SHORT_BRUSSELS = {"fr": "Bruxelles", "nl": "Brussel", "de": "Brüssel", "en": "Brussels"}


def _short_province(code: str, lang: str) -> str:
    """Map label: the province name without "Province de" / "Provincie" / "Provinz"."""
    if code == "04000":
        return _SHORT_BRUSSELS[lang]
    name = i18n.place("province", code, lang)
    for prefix in ("Province du ", "Province de ", "Province d’", "Province d'", "Provincie ",
                   "Provinz "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _write_annual(site: _Site, pg: Page, annual_pub: pd.DataFrame, year: int,
                  snapshot: str) -> None:
    lang = pg.lang
    ystr = str(year)
    present = [i for i in INDICATORS if i in set(annual_pub["indicator"])]
    cards = [c for c in (_headline(annual_pub, INDICATORS[i], "year", ystr, pg)
                         for i in ("persons_year_ri", "persons_year_eris", "stock_total",
                                   "stock_ri", "stock_eris", "rate_18_64") if i in present)
             if c]
    sections = []
    for i in present:
        ind = INDICATORS[i]
        sh = sheet(ind, lang)
        bds = _breakdown_sections(annual_pub, ind, "year", ystr, pg, f"a-{i}",
                                  only=("region", "sex", "age_band", "duration_band",
                                        "nationality_group", "position_group", "piis_type"))
        sections.append({"id": i, "title": sh.name, "definition": sh.definition,
                         "breakdowns": bds})
    site.render(pg, "annual.html.j2", f"annual-{year}.html",
                title=i18n.ui("annual_title", lang, y=year), cards=cards, sections=sections,
                annual_snapshot=snapshot)
