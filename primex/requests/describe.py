"""One-line descriptions of what a request covers and what it asks to release, for the
people who decide on it (`primex review show`, the portal's request page): the population's
filters and groups, the tables, the proposed priorities. A reviewer who is not shown a
filter (`region: ["04000"]`) cannot judge the request."""

from __future__ import annotations

import json
from typing import Any

from primex.requests.spec import FilterValue, RangeFilter, RequestSpec


def _filter(name: str, value: FilterValue) -> str:
    if isinstance(value, RangeFilter):
        low = "" if value.min is None else f"{value.min} ≤ "
        high = "" if value.max is None else f" ≤ {value.max}"
        return f"{low}{name}{high}"
    return f"{name} in {json.dumps(value, ensure_ascii=False)}"


def _filters(filters: dict[str, FilterValue]) -> str:
    return ", ".join(_filter(name, value) for name, value in filters.items()) or "all spells"


def population(spec: RequestSpec) -> str:
    """`RI, 2022-01 – 2023-06; filters: 18 ≤ age ≤ 64; groups: study …, comparison …`."""
    pop = spec.population
    text = f"{', '.join(pop.benefits)}, {pop.period.start} – {pop.period.end}"
    if pop.filters:
        text += f"; filters: {_filters(pop.filters)}"
    if pop.groups is not None:
        comparison = pop.groups.comparison
        text += (f"; groups: study = {_filters(pop.groups.study)}, comparison = "
                 f"{_filters(comparison) if comparison else 'every other spell'}")
    return text


def output(spec: RequestSpec) -> str:
    """`tables (csv, suppression): name = a × b (count); …` or `microdata (parquet)`."""
    out = spec.output
    method = f", {out.method}" if out.method else ""
    text = f"{out.kind} ({out.format}{method})"
    tables = [f"{t.name} = {' × '.join(t.dimensions)} ({t.measure}"
              + (f", weights {t.weights}" if t.weights else "") + ")" for t in out.tables]
    return text + (": " + "; ".join(tables) if tables else "")


def priorities(spec: RequestSpec) -> str | None:
    """`age_5y keep, household_type low` (microdata), or None when none are stated."""
    stated: dict[str, Any] = dict(spec.disclosure.priorities or {})
    return ", ".join(f"{name} {p}" for name, p in stated.items()) or None
