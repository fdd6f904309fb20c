"""Protect a request's microdata extract with the catalogue's hierarchies: data + report.

Hierarchies come from the variable catalogue for the quasi-identifiers it knows (explicit
ones win); a variable unknown to the catalogue can only be kept or blanked (value -> *).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from primex.catalogue import load_catalogue, load_policy
from primex.errors import PrimexError
from primex.protection.micro_report import build_report
from primex.requests.conditions import PRIORITY_WEIGHTS
from primex.sdc.micro.anonymize import anonymize
from primex.sdc.micro.hierarchy import GeneralisationHierarchy
from primex.sdc.micro.perturb import perturb_variables
from primex.sdc.micro.problem import MicroProblem
from primex.sdc.params import PerturbationPolicy


def from_catalogue(name: str, values: Iterable[object]) -> GeneralisationHierarchy:
    """The catalogue's hierarchy of variable `name` for these values, in ARX form."""
    table = load_catalogue().hierarchy_table(name, list(values))
    return GeneralisationHierarchy.from_frame(name, table, where=f"catalogue hierarchy {name}")


def catalogue_hierarchies(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> tuple[
    dict[str, GeneralisationHierarchy], list[str]
]:
    """Catalogue hierarchies for the QIs it knows; returns (hierarchies, QIs without one)."""
    out: dict[str, GeneralisationHierarchy] = {}
    without: list[str] = []
    for q in quasi_identifiers:
        try:
            out[q] = from_catalogue(q, df[q].dropna().unique())
        except PrimexError:
            without.append(q)
    return out, without


def catalogue_quasi_identifiers(columns: Sequence[str]) -> list[str]:
    """The columns whose catalogue role is quasi_identifier (in the data's column order)."""
    qi = {v.name for v in load_catalogue().by_role("quasi_identifier")}
    return [c for c in columns if c in qi]


def protect_microdata(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str] | None,
    k: int,
    *,
    l: int | None = None,  # noqa: E741
    sensitive: str | None = None,
    max_suppression: float,
    hierarchies: dict[str, Any] | None = None,
    weight: str | None = None,
    importance: Sequence[int] | None = None,
    request_id: str | None = None,
    perturbations: Sequence[dict[str, Any]] | None = None,
    priorities: dict[str, str] | None = None,
    min_levels: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """k-anonymise (and l-diversify) an extract, then perturb other variables.

    `quasi_identifiers=None` takes the columns the catalogue marks `quasi_identifier`.
    `perturbations`: e.g. [{"method": "mdav", "variables": ["amount"], "k": 3},
    {"method": "noise", "variables": ["wage"], "noise": 150},
    {"method": "pram", "variables": ["position_group"], "pd": 0.8, "alpha": 0.5}];
    seeds default to a hash of the request id, so a re-run gives the same release.
    `priorities`: {QI: keep | high | normal | low} (the request's, possibly overridden by the
    officer): the weight of the QI's information loss, and `keep` = never its total while
    any other generalisation fits. No QI goes to its total while levels below reach k.
    The report has `passed: bool`.
    """
    qis = (catalogue_quasi_identifiers(list(df.columns)) if quasi_identifiers is None
           else list(quasi_identifiers))
    if not qis:
        raise PrimexError("the extract has no quasi-identifier", where=request_id or "extract",
                          hint="name them, or use variables the catalogue marks quasi_identifier")
    missing = [q for q in qis if q not in df.columns]
    if missing:
        raise PrimexError(f"quasi-identifier(s) {missing!r} not in the extract",
                          where=request_id or "extract", hint="check the request's variables")
    # The roles are checked once, here (sdcMicro's sdcMicroObj).
    problem = MicroProblem.of(df, qis, sensitive=[sensitive] if sensitive else [],
                              weight=weight)
    cat, without = catalogue_hierarchies(df, [q for q in qis if q not in (hierarchies or {})])
    merged: dict[str, Any] = {**cat, **(hierarchies or {})}
    prio = {q: (priorities or {}).get(q, "normal") for q in problem.keys}
    unknown = sorted({v for v in prio.values() if v not in PRIORITY_WEIGHTS})
    if unknown:
        raise PrimexError(f"unknown priority {unknown[0]!r}", where=request_id or "priorities",
                          hint=f"one of {', '.join(PRIORITY_WEIGHTS)}")
    if importance is None:  # local suppression blanks the least important QIs first
        order = sorted(problem.keys, key=lambda q: -PRIORITY_WEIGHTS[prio[q]])
        importance = [order.index(q) + 1 for q in problem.keys]
    res = anonymize(problem.data, problem.keys, merged, k, max_suppression=max_suppression,
                    sensitive=sensitive, l=l, weight=problem.weight, importance=importance,
                    loss_weights=[PRIORITY_WEIGHTS[prio[q]] for q in problem.keys],
                    keep=[prio[q] == "keep" for q in problem.keys], avoid_total=True,
                    min_levels=_floors(problem.keys, min_levels or {}))
    data = res.data
    reports: list[dict[str, Any]] = []
    for i, spec in enumerate(perturbations or []):
        data, reps = _perturb(data, spec, request_id, i, qis)
        reports.extend(reps)
    report = build_report(res, reports, request_id=request_id)
    report["priorities"] = prio
    n = max(int(res.risk_before.n), 1)
    report["utility"] = {  # what protection cost, for the officer (issue 16)
        "records_without_suppression": round(1 - res.records_suppressed / n, 4),
        "information_loss": {q: round(float(res.information_loss.get(f"loss_{q}", 0.0)), 4)
                             for q in problem.keys},
        "generalised_to_total": [q for q in problem.keys
                                 if res.levels.get(q) == res.params["hierarchy_heights"][q]],
    }
    report["removed"] = dict(res.removed)  # QI -> what removing instead would keep it
    report["notices"] = removal_notices(res.removed, prio, k, max_suppression)
    report["released_as"] = released_names(res.levels, res.params["hierarchy_heights"],
                                           list(data.columns))
    report["hierarchy_sources"] = {
        q: ("explicit" if q in (hierarchies or {}) else
            "catalogue" if q in cat else "value → * (not in the catalogue)") for q in qis}
    if without:
        report["notes"] = [f"{q}: no catalogue hierarchy; it can only be kept or blanked"
                           for q in without]
    return data, report


def released_names(levels: dict[str, int], heights: dict[str, int],
                   columns: Sequence[str]) -> dict[str, str]:
    """{QI: name of its released column} for the QIs generalised to a named level below the
    total: the column is named after the level it holds (`age_5y` generalised to ten-year
    bands is released as `age_10y`), so that nobody reads 10-year bands under a 5-year name.
    A QI whose level name is already another column keeps its name (the codebook states its
    level); a QI at its total keeps its name (every value `*`, see `removal_notices`)."""
    cat = load_catalogue()
    taken = set(columns)
    out: dict[str, str] = {}
    for q, level in levels.items():
        if q not in cat or cat.get(q).hierarchy is None or not 0 < level < heights.get(q, 0):
            continue
        names = cat.hierarchy_levels(q)
        if level >= len(names) - 1 or names[level] in taken:
            continue
        out[q] = names[level]
        taken.add(names[level])
    return out


def removal_notices(removed: dict[str, list[str] | None], priorities: dict[str, str],
                    k: int, max_suppression: float) -> list[str]:
    """One plain line per requested variable released as `*` in every record: why, and what
    the researcher could change (issue 16: a variable is removed only when no level below
    its total reaches k within the suppression budget, given the others as requested)."""
    lines = []
    budget = f"{100 * max_suppression:g} %"
    for q, others in removed.items():
        head = (f"{q} is `*` in every record (removed): no level of {q} below its total "
                f"reaches k = {k} with at most {budget} of the records suppressed")
        if others is None:
            lines.append(f"{head}, even with every other variable removed; a larger "
                         "population (a longer period, more benefits or regions) could keep it.")
            continue
        kept = [o for o in others if priorities.get(o) == "keep"]
        change = (f"lower the priority `keep` of {', '.join(kept)}" if kept else
                  "mark it `keep` in disclosure.priorities")
        lines.append(f"{head} unless {', '.join(others)} "
                     f"{'is' if len(others) == 1 else 'are'} removed instead; to keep {q}, "
                     f"{change} (or leave those out of the request), or ask for a larger "
                     "population (a longer period, more benefits or regions).")
    return lines


def _floors(qis: Sequence[str], levels: dict[str, str]) -> list[int] | None:
    """Catalogue level names ({age: age_10y}) as the lowest level index per QI."""
    if not levels:
        return None
    cat = load_catalogue()
    out = []
    for q in qis:
        if q not in levels:
            out.append(0)
            continue
        hierarchy = cat.get(q).hierarchy if q in cat else None
        names = list(hierarchy.levels) if hierarchy is not None else []
        if levels[q] not in names:
            raise PrimexError(f"{levels[q]!r} is not a level of {q!r}", where="conditions",
                              hint=f"one of {', '.join(names[1:-1]) or '(none)'}")
        out.append(names.index(levels[q]))
    return out


def _seed(request_id: str | None, index: int, spec: dict[str, Any]) -> int:
    if "seed" in spec:
        return int(spec["seed"])
    text = f"{request_id or ''}|{index}|{spec.get('method')}|{spec.get('variables')}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _perturb(data: pd.DataFrame, spec: dict[str, Any], request_id: str | None, index: int,
             qis: list[str]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    where = f"perturbations[{index}]"
    method = spec.get("method")
    variables = list(spec.get("variables") or [])
    if not variables:
        raise PrimexError("no variables to perturb", where=where, hint='give "variables": [...]')
    clash = sorted(set(variables) & set(qis))
    if clash:
        raise PrimexError(f"{clash} are quasi-identifiers; they are protected by k-anonymity",
                          where=where, hint="perturb only other variables")
    return perturb_variables(data, str(method), variables, _perturbation(spec, where),
                             seed=_seed(request_id, index, spec), where=where)


# a condition's names (sdcMicro's) for the fields of PerturbationPolicy, and their types
_SPEC_NAMES: dict[str, tuple[str, type]] = {
    "k": ("mdav_k", int), "noise": ("noise", float), "pd": ("pram_pd", float),
    "alpha": ("pram_alpha", float), "invariant": ("pram_invariant", bool)}


def _perturbation(spec: dict[str, Any], where: str) -> PerturbationPolicy:
    """policy.yaml's perturbation parameters with those the condition states (checked)."""
    stated = {field: kind(spec[name]) for name, (field, kind) in _SPEC_NAMES.items()
              if name in spec}
    try:
        return dataclasses.replace(load_policy().perturbation, **stated)
    except PrimexError as exc:
        raise PrimexError(exc.what, where=f"{where} ({exc.where})", hint=exc.hint) from None
