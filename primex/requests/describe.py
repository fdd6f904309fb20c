"""One-line descriptions of what a request covers and what it asks to release, for the
people who decide on it (`primex review show`, the portal's request page): the population's
filters and groups, the tables, the proposed priorities. A reviewer who is not shown a
filter (`region: ["04000"]`) cannot judge the request.

Each line is a phrase (`primex.audit.phrases`): the CLI says it with EN below, the portal
with the same keys in French and Dutch. Names and values of the request (variables,
benefits, periods, `csv`, `count`) are the request's own notation in every language."""

from __future__ import annotations

import json
from typing import Any

from primex.audit.phrases import Join, Text, phrase, render
from primex.requests.spec import FilterValue, RangeFilter, RequestSpec

EN: dict[str, str] = {
    "describe.in": "{name} in {values}",
    "describe.all_spells": "all spells",
    "describe.every_other_spell": "every other spell",
    "describe.filters": "filters: {filters}",
    "describe.groups": "groups: study = {study}, comparison = {comparison}",
    "describe.kind.microdata": "microdata",
    "describe.kind.tables": "tables",
    "describe.kind.synthetic": "synthetic",
    "describe.output": "{kind} ({format})",
    "describe.output_tables": "{kind} ({format}): {tables}",
    "describe.table": "{name} = {dimensions} ({measure})",
    "describe.table_weights": "{name} = {dimensions} ({measure}, weights {weights})",
    "describe.priority": "{name} {priority}",
    "describe.priority.keep": "keep",
    "describe.priority.high": "high",
    "describe.priority.normal": "normal",
    "describe.priority.low": "low",
}


def _filter(name: str, value: FilterValue) -> Text:
    if isinstance(value, RangeFilter):
        low = "" if value.min is None else f"{value.min} ≤ "
        high = "" if value.max is None else f" ≤ {value.max}"
        return f"{low}{name}{high}"
    return phrase("describe.in", name=name, values=json.dumps(value, ensure_ascii=False))


def _filters(filters: dict[str, FilterValue]) -> Text:
    said = [_filter(name, value) for name, value in filters.items()]
    return said or phrase("describe.all_spells")


def population_phrase(spec: RequestSpec) -> Text:
    pop = spec.population
    parts: list[Text] = [f"{', '.join(pop.benefits)}, {pop.period.start} – {pop.period.end}"]
    if pop.filters:
        parts.append(phrase("describe.filters", filters=_filters(pop.filters)))
    if pop.groups is not None:
        comparison = pop.groups.comparison
        parts.append(phrase("describe.groups", study=_filters(pop.groups.study),
                            comparison=_filters(comparison) if comparison
                            else phrase("describe.every_other_spell")))
    return Join("; ", tuple(parts))


def output_phrase(spec: RequestSpec) -> Text:
    out = spec.output
    kind = phrase(f"describe.kind.{out.kind}")
    fmt = f"{out.format}, {out.method}" if out.method else out.format
    tables = [phrase("describe.table_weights" if t.weights else "describe.table", name=t.name,
                     dimensions=" × ".join(t.dimensions), measure=t.measure,
                     weights=t.weights or "") for t in out.tables]
    if tables:
        return phrase("describe.output_tables", kind=kind, format=fmt,
                      tables=Join("; ", tuple(tables)))
    return phrase("describe.output", kind=kind, format=fmt)


def priorities_phrase(spec: RequestSpec) -> Text | None:
    stated: dict[str, Any] = dict(spec.disclosure.priorities or {})
    said = [phrase("describe.priority", name=name, priority=phrase(f"describe.priority.{p}"))
            for name, p in stated.items()]
    return said or None


def population(spec: RequestSpec, words: dict[str, str] | None = None) -> str:
    """`RI, 2022-01 – 2023-06; filters: 18 ≤ age ≤ 64; groups: study …, comparison …`."""
    return render(population_phrase(spec), words or EN)


def output(spec: RequestSpec, words: dict[str, str] | None = None) -> str:
    """`tables (csv, suppression): name = a × b (count); …` or `microdata (parquet)`."""
    return render(output_phrase(spec), words or EN)


def priorities(spec: RequestSpec, words: dict[str, str] | None = None) -> str | None:
    """`age_5y keep, household_type low` (microdata), or None when none are stated."""
    said = priorities_phrase(spec)
    return render(said, words or EN) if said is not None else None
