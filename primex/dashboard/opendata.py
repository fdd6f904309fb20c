"""The open-data package of one quarterly publication: CSV, datapackage.json (Frictionless
tabular data package) and DCAT-AP metadata in RDF/XML (catalog.rdf, the form the data.gov.be
harvester reads). Versioned by the PRIMA snapshot date: `opendata/<period>/<snapshot>/`. A
figure revised since the previous publication carries `revised = true`; the DCAT version
notes count them. Only published values are written (empty value and status `x` otherwise).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from primex.dashboard import i18n
from primex.errors import ConfigError
from primex.extract.indicators import INDICATORS
from primex.extract.profiles import Profile
from primex.extract.run import RunResult

# Where the SPP serves the packages (DCAT needs absolute IRIs): a setting of the deployment,
# `PRIMEX_OPENDATA_BASE_URL` or `primex dashboard build --opendata-base-url`. The demo's
# default is under `.invalid` (RFC 2606): it can never resolve, so a demo build cannot pass
# for a publication of the SPP.
BASE_URL_ENV = "PRIMEX_OPENDATA_BASE_URL"
DEMO_BASE_URL = "https://opendata.primex.invalid/barometer/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CSV_NAME = "barometer.csv"
FIELDS = (
    ("indicator", "string", "Indicator code"), ("period_type", "string", "quarter, year or month"),
    ("period", "string", "2025Q2, 2024 or 2025-06"),
    ("breakdown", "string", "Breakdown code (total, region, ..., commune, sex, ...)"),
    ("key", "string", "Code within the breakdown (REFNIS code for places)"),
    ("label_fr", "string", "Label in French"), ("label_nl", "string", "Label in Dutch"),
    ("label_de", "string", "Label in German"), ("label_en", "string", "Label in English"),
    ("value", "number", "Published value; empty when not published"),
    ("unit", "string", "persons, per 1 000 or %"),
    ("status", "string", "empty: published; x: not published (statistical confidentiality)"),
    ("revised", "boolean", "true when the figure changed since the previous publication"),
    ("version", "string", "PRIMA snapshot date of this publication"),
)
_EU = "http://publications.europa.eu/resource/authority/"


def base_url(value: str | None = None) -> str:
    """The publication base URL: `value` (the command's option) or the environment setting,
    else the demo default; an absolute https URL without query, fragment or credentials,
    returned with a trailing slash."""
    where = "--opendata-base-url" if value is not None else BASE_URL_ENV
    raw = value if value is not None else os.environ.get(BASE_URL_ENV) or DEMO_BASE_URL
    text = raw.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts, host = None, None
    if (parts is None or parts.scheme != "https" or not host or parts.query or parts.fragment
            or parts.username is not None or parts.password is not None or " " in text):
        raise ConfigError(
            f"the open-data base URL must be an https:// URL without query, fragment or "
            f"credentials, not {raw!r}", where=where,
            hint="e.g. https://opendata.example.be/barometer/ (where the SPP serves the "
                 f"packages); unset {BASE_URL_ENV} for the demo default {DEMO_BASE_URL}")
    return text if text.endswith("/") else text + "/"


def rows(cells: pd.DataFrame, profile: Profile, version: str) -> list[list[object]]:
    out: list[list[object]] = []
    for ind, ptype, period, b, key, shown, revised in zip(
            cells["indicator"], cells["period_type"], cells["period"], cells["breakdown"],
            cells["key"], cells["shown"].astype("float64"), cells["revised"].astype(bool),
            strict=True):
        published = not math.isnan(shown)
        dec = 1 if INDICATORS[ind].is_ratio else profile.decimals
        value: object = ""
        if published:
            value = round(shown, dec) if dec else round(shown)
            if value == 0:
                value = 0
        out.append([ind, ptype, period, b, key,
                    *(i18n.label(b, str(key), lang) for lang in ("fr", "nl", "de", "en")),
                    value, INDICATORS[ind].unit, "" if published else "x",
                    "true" if published and revised else "false", version])
    return out


def write_package(root: Path, published: pd.DataFrame, annual: pd.DataFrame | None,
                  qrun: RunResult, profile: Profile,
                  manifests: list[dict[str, Any]], base: str = DEMO_BASE_URL) -> dict[str, Any]:
    """Write the package under `root/<period>/<snapshot>/`; `base` is the checked
    publication base URL (`base_url()`), the root of every IRI and link."""
    period = qrun.manifest["period"]
    version = qrun.manifest["snapshot_date"]
    folder = root / period / version
    folder.mkdir(parents=True, exist_ok=True)
    cells = pd.concat([published, annual], ignore_index=True) if annual is not None \
        else published
    body = rows(cells, profile, version)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([f[0] for f in FIELDS])
    writer.writerows(body)
    (folder / CSV_NAME).write_text(buf.getvalue(), encoding="utf-8")
    revised = sum(1 for r in body if r[-2] == "true")
    first = min(m["data_months"]["first"] for m in manifests)
    last = max(m["data_months"]["last_stable"] for m in manifests)
    home_page = f"{base}{period}/{version}/"
    package = {
        "profile": "tabular-data-package",
        "id": home_page,
        "homepage": home_page,
        "name": f"primex-barometer-{period.lower()}",
        "title": i18n.UI["site"]["en"] + f" {period}",
        "version": version,
        "description": i18n.ui("rule", "en", n=profile.min_count),
        "created": f"{version}T00:00:00Z",
        "licenses": [{"name": "CC-BY-4.0", "path": LICENSE,
                      "title": "Creative Commons Attribution 4.0"}],
        "sources": [{"title": "PRIMA (SPP Social Integration)"},
                    {"title": "BCSS labour market and social protection data warehouse"}],
        "keywords": ["RI", "ERIS", "CPAS", "OCMW", "PIIS", "social integration"],
        "primex": {"profile": profile.name, "threshold": profile.min_count,
                   "revised_figures": revised, "indicators": len(set(cells["indicator"]))},
        "resources": [{
            "name": "barometer", "path": CSV_NAME, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {"fields": [{"name": n, "type": t, "description": d}
                                  for n, t, d in FIELDS],
                       "missingValues": [""]},
        }],
    }
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8")
    (folder / "catalog.rdf").write_text(
        _dcat(base, period, version, revised, first, last, sorted(set(cells["indicator"]))),
        encoding="utf-8")
    rel = f"opendata/{period}/{version}"
    return {"path": rel, "version": version, "revised_figures": revised, "base_url": base,
            "files": [f"{rel}/{CSV_NAME}", f"{rel}/datapackage.json", f"{rel}/catalog.rdf"]}


_DESC = {
    "fr": "Indicateurs trimestriels sur les bénéficiaires du RI et de l'ERIS, les PIIS et la "
          "mise à l'emploi, par région, province, arrondissement et commune (chiffres "
          "protégés par le secret statistique).",
    "nl": "Driemaandelijkse indicatoren over RI- en ERIS-gerechtigden, GPMI's en "
          "tewerkstelling, per gewest, provincie, arrondissement en gemeente (cijfers "
          "beschermd door het statistisch geheim).",
    "de": "Vierteljährliche Indikatoren zu RI- und ERIS-Beziehern, PIIS und Beschäftigung, "
          "nach Region, Provinz, Bezirk und Gemeinde (Zahlen durch statistische "
          "Geheimhaltung geschützt).",
    "en": "Quarterly indicators on RI and ERIS beneficiaries, PIIS and employment measures, "
          "by region, province, arrondissement and commune (figures protected by statistical "
          "confidentiality).",
}
_NOTES = {
    "fr": "{n} chiffre(s) révisé(s) depuis la publication précédente (colonne revised).",
    "nl": "{n} cijfer(s) herzien sinds de vorige publicatie (kolom revised).",
    "de": "{n} Zahl(en) seit der vorigen Veröffentlichung revidiert (Spalte revised).",
    "en": "{n} figure(s) revised since the previous publication (column revised).",
}
_LANG_CODES = {"fr": "FRA", "nl": "NLD", "de": "DEU", "en": "ENG"}


def _dcat(base: str, period: str, version: str, revised: int, first: str, last: str,
          indicators: list[str]) -> str:
    ds = f"{base}{period}/{version}/"
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
           '  xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/"',
           '  xmlns:foaf="http://xmlns.com/foaf/0.1/" xmlns:owl="http://www.w3.org/2002/07/owl#"',
           '  xmlns:adms="http://www.w3.org/ns/adms#" xmlns:vcard="http://www.w3.org/2006/vcard/ns#"',
           '  xmlns:xsd="http://www.w3.org/2001/XMLSchema#">',
           f"<dcat:Catalog rdf:about={quoteattr(base)}>"]
    for lang in i18n.LANGS:
        out.append(f'  <dct:title xml:lang="{lang}">{escape(i18n.UI["site"][lang])}'
                   "</dct:title>")
    out.append(f"  <dct:publisher rdf:resource={quoteattr(base + '#publisher')}/>")
    out.append(f"  <dcat:dataset rdf:resource={quoteattr(ds)}/>")
    out.append("</dcat:Catalog>")
    out.append(f"<foaf:Agent rdf:about={quoteattr(base + '#publisher')}>")
    for lang, name in (("fr", "SPP Intégration sociale"), ("nl", "POD Maatschappelijke "
                       "Integratie"), ("de", "ÖPD Soziale Eingliederung"),
                       ("en", "SPP Social Integration")):
        out.append(f'  <foaf:name xml:lang="{lang}">{escape(name)}</foaf:name>')
    out.append("</foaf:Agent>")
    out.append(f"<dcat:Dataset rdf:about={quoteattr(ds)}>")
    for lang in i18n.LANGS:
        out.append(f'  <dct:title xml:lang="{lang}">{escape(i18n.UI["site"][lang])} {period}'
                   "</dct:title>")
        out.append(f'  <dct:description xml:lang="{lang}">{escape(_DESC[lang])}'
                   "</dct:description>")
        out.append(f'  <adms:versionNotes xml:lang="{lang}">'
                   f"{escape(_NOTES[lang].format(n=revised))}</adms:versionNotes>")
        code = _EU + "language/" + _LANG_CODES[lang]
        out.append(f"  <dct:language rdf:resource={quoteattr(code)}/>")
    out += [
        f"  <dct:identifier>primex-barometer-{period}-{version}</dct:identifier>",
        f"  <owl:versionInfo>{version}</owl:versionInfo>",
        f'  <dct:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#date">{version}'
        "</dct:issued>",
        f"  <dct:publisher rdf:resource={quoteattr(base + '#publisher')}/>",
        f"  <dct:accrualPeriodicity rdf:resource={quoteattr(_EU + 'frequency/QUARTERLY')}/>",
        f"  <dcat:theme rdf:resource={quoteattr(_EU + 'data-theme/SOCI')}/>",
        f"  <dct:spatial rdf:resource={quoteattr(_EU + 'country/BEL')}/>",
        "  <dct:temporal><dct:PeriodOfTime>",
        f'    <dcat:startDate rdf:datatype="http://www.w3.org/2001/XMLSchema#gYearMonth">'
        f"{first}</dcat:startDate>",
        f'    <dcat:endDate rdf:datatype="http://www.w3.org/2001/XMLSchema#gYearMonth">'
        f"{last}</dcat:endDate>",
        "  </dct:PeriodOfTime></dct:temporal>",
        "  <dcat:contactPoint><vcard:Organization>"
        "<vcard:fn>SPP IS / POD MI</vcard:fn></vcard:Organization></dcat:contactPoint>",
    ]
    for k in ("RI", "ERIS", "CPAS", "OCMW", "PIIS"):
        out.append(f"  <dcat:keyword>{k}</dcat:keyword>")
    out.append(f"  <dcat:keyword>{len(indicators)} indicators</dcat:keyword>")
    for name, media, ftype in ((CSV_NAME, "text/csv", "CSV"),
                               ("datapackage.json", "application/json", "JSON")):
        out += [
            "  <dcat:distribution><dcat:Distribution rdf:about="
            f"{quoteattr(ds + name)}>",
            f"    <dct:title>{escape(name)}</dct:title>",
            f"    <dcat:accessURL rdf:resource={quoteattr(ds + name)}/>",
            f"    <dcat:downloadURL rdf:resource={quoteattr(ds + name)}/>",
            f"    <dcat:mediaType>{media}</dcat:mediaType>",
            f"    <dct:format rdf:resource={quoteattr(_EU + 'file-type/' + ftype)}/>",
            f"    <dct:license rdf:resource={quoteattr(LICENSE)}/>",
            "  </dcat:Distribution></dcat:distribution>",
        ]
    out += ["</dcat:Dataset>", "</rdf:RDF>", ""]
    return "\n".join(out)


