"""Problems found in a request file, and the translation of pydantic's errors into them.

A problem is printed as `file:line:column: field.path: what is wrong (hint: ...)`. pydantic
reports errors by location tuples and its own wording; this module maps each location back to
where it was written in the YAML and rewrites the message for a researcher, with a hint. For
unions (a filter is a range *or* a list) pydantic reports one error per alternative; only the
alternative that got furthest is kept, and alternatives that all failed on the type are merged
into one "expected A or B".
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from primex.requests.yaml_loader import LoadedYaml, PathKey


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a request, with the place it was written."""

    line: int
    column: int
    path: str
    what: str
    hint: str | None = None

    def format(self, source: str) -> str:
        text = f"{source}:{self.line}:{self.column}: {self.path or '(file)'}: {self.what}"
        text = f"{text} (hint: {self.hint})" if self.hint else text
        # one problem, one line: escape control characters a value may have brought in
        return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def path_text(path: Sequence[str | int]) -> str:
    """('output', 'tables', 0, 'dimensions', 1) → output.tables[0].dimensions[1]"""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):  # keep the path one token: quote odd keys
            out += "[" + json.dumps(part).replace(" ", "\\u0020") + "]"
        else:
            out += f".{part}" if out else str(part)
    return out


def problem_at(
    loaded: LoadedYaml,
    path: PathKey,
    what: str,
    hint: str | None = None,
    *,
    key: bool = False,
    position_of: PathKey | None = None,
) -> Problem:
    """A problem about `path`, placed where `position_of` (default: `path`) was written."""
    line, column = loaded.position(path if position_of is None else position_of, key=key)
    return Problem(line, column, path_text(path), what, hint)


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.5)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    names = closest(word, candidates)
    return "did you mean " + " or ".join(f"`{name}`" for name in names) + "?" if names else None


# --- pydantic errors → problems --------------------------------------------------------------

_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "date_type": "a date YYYY-MM-DD",
    "date_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_inexact": "a date YYYY-MM-DD (without a time)",
    "literal_error": "one of the allowed values",
    "none_required": "nothing",
}
_TAG_WORDS = {"RangeFilter": "a range {min: .., max: ..}", "str": "text", "int": "a whole number",
              "float": "a number", "bool": "true or false"}

# Pattern mismatches explained per field name (the last text part of the location).
_PATTERN_HELP: dict[str, tuple[str, str]] = {
    "start": ("expected a month YYYY-MM or a quarter YYYYQn", "write e.g. 2023-01 or 2023Q1"),
    "end": ("expected a month YYYY-MM or a quarter YYYYQn", "write e.g. 2024-06 or 2024Q2"),
    "at": (
        "expected an event and an offset in quarters",
        "write entry or exit, then +N or -N, then q: e.g. exit+4q, entry-4q",
    ),
    "measure": ("expected count, sum:VARIABLE or mean:VARIABLE", "e.g. measure: sum:amount"),
    "public_key": (
        "expected an X25519 public key primex-x25519:<base64 of 32 bytes>",
        "copy the line printed by `primex keys init --role researcher --name NAME`",
    ),
    "contact": ("expected an e-mail address", "e.g. contact: researcher@example.org"),
    "id": (
        "expected a request id such as REQ-2026-0001",
        "leave `id` out for a new request; it is assigned at submission",
    ),
    "name": ("expected a lower-case name (letters, digits, _)", "e.g. ri_by_arrondissement"),
}


def _describe(value: Any) -> str:
    """What the reader wrote, in YAML's words (`true`, not Python's `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the decimal number {value:g}"
    if isinstance(value, str):
        return f"text {short(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if hasattr(value, "isoformat"):
        return f"the date {value.isoformat()}"
    return type(value).__name__


# What the items of a list field are, so that `linkage: true` says what was expected.
_LIST_ITEMS = {
    "linkage": "linkage blocks ({variables: [...], at: [exit+4q]})",
    "variables": "catalogue variable names",
    "dimensions": "catalogue variable names",
    "benefits": "benefits (ri, eris, ...)",
    "at": "observation points such as exit+4q",
    "tables": "tables ({name: ..., dimensions: [...], measure: count})",
    "analyses": "analyses",
    "crosstab": "variable names",
    "x": "variable names",
}


def short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def _resolve(data: Any, loc: tuple[str | int, ...]) -> tuple[PathKey, list[tuple[int, str]]]:
    """Follow `loc` through the data; parts that are not in the data are union tags."""
    path: list[str | int] = []
    tags: list[tuple[int, str]] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and not tags and _is_field(part):
            path.append(part)  # a missing or extra field: keep its name in the path
            node = None
        else:
            tags.append((len(path), str(part)))
    return tuple(path), tags


def _is_field(part: str) -> bool:
    return part.isidentifier() and "[" not in part and part not in _TAG_WORDS


def _fields_at(model: type[BaseModel], path: PathKey) -> list[str]:
    """The field names a mapping at `path` may hold (for 'did you mean' on unknown fields)."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation, part)
        if annotation is None:
            return []
    annotation = _unwrap(annotation, None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any, part: str | int | None) -> Any:
    origin = get_origin(annotation)
    if origin is not None and origin is not list and origin is not dict:  # Union/Annotated
        for arg in get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                annotation = arg
                break
            if get_origin(arg) in (list, dict):
                annotation = arg
                break
        else:
            return None if part is not None else annotation
        origin = get_origin(annotation)
    if part is None:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    return None


def pydantic_problems(
    errors: list[ErrorDetails], loaded: LoadedYaml, model: type[BaseModel]
) -> list[Problem]:
    resolved = [(err, *_resolve(loaded.data, tuple(err["loc"]))) for err in errors]
    resolved = _best_union_branch(resolved)
    # Merge union alternatives that all failed on the type at the same place.
    by_path: dict[PathKey, list[ErrorDetails]] = {}
    for err, path, _tags in resolved:
        by_path.setdefault(path, []).append(err)
    problems: list[Problem] = []
    for path, errs in by_path.items():
        kinds = {e["type"] for e in errs}
        if len(errs) > 1 and kinds <= set(_TYPE_WORDS):
            words = sorted({_TYPE_WORDS[e["type"]] for e in errs})
            expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
            value = errs[0].get("input")
            what = f"expected {expected}, got {_describe(value)}"
            problems.append(problem_at(loaded, path, what))
            continue
        problems.extend(_one(err, path, loaded, model) for err in errs)
    return problems


def _best_union_branch(
    resolved: list[tuple[ErrorDetails, PathKey, list[tuple[int, str]]]],
) -> list[tuple[ErrorDetails, PathKey, list[tuple[int, str]]]]:
    """For each union, keep only the alternatives whose errors reach deepest into the data."""
    depth: dict[tuple[PathKey, str], int] = {}
    for _err, path, tags in resolved:
        if tags:
            at, tag = tags[0]
            key = (path[:at], tag)
            depth[key] = max(depth.get(key, -1), len(path))
    best: dict[PathKey, int] = {}
    for (point, _tag), d in depth.items():
        best[point] = max(best.get(point, -1), d)
    kept = []
    for err, path, tags in resolved:
        if tags:
            at, tag = tags[0]
            if depth[(path[:at], tag)] < best[path[:at]]:
                continue
        kept.append((err, path, tags))
    return kept


def _one(err: ErrorDetails, path: PathKey, loaded: LoadedYaml, model: type[BaseModel]) -> Problem:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    name = next((p for p in reversed(path) if isinstance(p, str)), "")
    if kind == "missing":
        return problem_at(
            loaded, path, f"required field `{name}` is missing", f"add `{name}:`", key=True,
            position_of=path[:-1],
        )
    if kind == "extra_forbidden":
        allowed = _fields_at(model, path[:-1])
        hint = did_you_mean(name, allowed) or (
            "allowed here: " + ", ".join(allowed) if allowed else None
        )
        return problem_at(loaded, path, f"unknown field `{name}`", hint, key=True)
    if kind == "literal_error":
        return problem_at(
            loaded,
            path,
            f"{short(value)} is not allowed",
            f"use one of {ctx.get('expected', '')}",
        )
    if kind == "string_pattern_mismatch":
        what, hint = _PATTERN_HELP.get(
            name, ("does not have the expected form", f"it must match {ctx.get('pattern')}")
        )
        names_a_variable = name in ("variables", "dimensions", "weights", "filters") or (
            isinstance(path[-1], int)
        )
        if names_a_variable and name != "at":
            what, hint = "expected a catalogue variable name", "lower-case letters, digits, _"
        return problem_at(loaded, path, f"{what}, got {short(value)}", hint)
    if kind in ("string_too_short", "string_too_long"):
        limit = ctx.get("min_length", ctx.get("max_length"))
        word = "at least" if kind == "string_too_short" else "at most"
        hint = "explain it in a few sentences" if name == "purpose" else None
        return problem_at(loaded, path, f"must be {word} {limit} characters", hint)
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length", ctx.get("max_length"))
        word = "at least" if kind == "too_short" else "at most"
        return problem_at(loaded, path, f"must list {word} {limit} item(s)")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "")
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤",
                "less_than": "<"}[kind]
        return problem_at(loaded, path, f"must be {sign} {bound}, got {short(value)}")
    if kind in _TYPE_WORDS:
        hint = None
        if kind == "string_type" and isinstance(value, int) and not isinstance(value, bool):
            hint = 'quote codes so that leading zeros are kept, e.g. "04000"'
        if kind == "string_type" and hasattr(value, "year") and name in ("start", "end"):
            hint = "write the month as YYYY-MM, e.g. 2023-01 (without the day)"
        expected = _TYPE_WORDS[kind]
        if kind == "list_type" and name in _LIST_ITEMS:
            expected = f"a list of {_LIST_ITEMS[name]}"
        return problem_at(loaded, path, f"expected {expected}, got {_describe(value)}", hint)
    return problem_at(loaded, path, str(err.get("msg", "invalid value")))
