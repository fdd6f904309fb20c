"""Risk pre-assessment of a request on the current PRIMA data, before anything is extracted.

For microdata (and synthetic) requests, the requested quasi-identifiers (catalogue role
`quasi_identifier`) are computed per person and spell on the current data, and the usual
sdcMicro measures are reported for that key (unweighted: the extract is the population):

* sample uniques: records whose key combination occurs once (fk = 1);
* records violating k: fk < k (sdcMicro `kAnon_violations`);
* expected re-identifications: Σ 1/fk (sdcMicro `global_risk_ER` without weights).

The target is met when the records violating k fit in the local-suppression budget
(`max_suppression` × records). Otherwise the generalisation lattice of the catalogue
hierarchies is searched cheapest first (cost = the sum over quasi-identifiers of the height
of the chosen level, each hierarchy scaled to 0..1) and the cheapest few combinations that
meet the target are suggested.

For tables, each table's cells are counted and the cells under the threshold (`min_count`)
are reported, with the cheapest generalisations of its dimensions that bring the share of
small cells under TABLE_SMALL_CELL_TARGET.

This is an estimate on today's data: missing values (e.g. the exit quarter of a running
spell) count as a category of their own, which overstates the risk slightly compared with
sdcMicro's wildcard treatment; the spell table here is a light re-computation of the
catalogue's derived variables (the extraction step computes the authoritative ones). The
disclosure step measures the real output again after protection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from primex.audit.phrases import Text, phrase
from primex.audit.phrases import render as say
from primex.catalogue import Catalogue, Policy, load_catalogue, load_policy
from primex.errors import PrimexError
from primex.home import Home
from primex.requests import population
from primex.requests.conditions import PRIORITY_WEIGHTS
from primex.requests.spec import RequestSpec
from primex.sdc.micro.lattice import cheapest_nodes, node_cost
from primex.sdc.micro.risk import KeyRisk, combination_ids, key_frequencies
from primex.sdc.micro.risk import key_risk as measure

# Above this share of small cells, secondary suppression hides much of a table (rule of thumb).
TABLE_SMALL_CELL_TARGET = 0.10
MAX_EVALUATIONS = 3000
TIME_BUDGET_S = 20.0
SUGGESTIONS = 3

# The assessment's notes, said as phrases (primex.audit.phrases): the CLI prints them with
# these English words, the portal with the same keys in French and Dutch.
NOTES_EN: dict[str, str] = {
    "assess.no_hierarchy": "{variable}: no usable hierarchy on these data ({problem}); only "
                           "all-or-nothing",
    "assess.not_derivable": "not derivable before extraction, left out of the key: {variables}",
    "assess.no_record": "no record of the current data matches the population",
    "assess.no_generalisation": "no generalisation of these quasi-identifiers reaches the "
                                "target within the search budget; drop a variable or narrow "
                                "the request",
    "assess.linked_sensitive": "linked warehouse variables are sensitive: l-diversity is "
                               "checked after linkage, not in this pre-assessment",
    "assess.groups": "groups: study {study} spells, comparison {comparison} spells",
    "assess.running": "{running} of {spells} spells are still running: their {variables} at "
                      "{at} cannot be observed, {action}; spells whose outcome quarter lies "
                      "after the warehouse's last quarter are known after linkage",
    "assess.censored_drop": "dropped before protection (censored: drop)",
    "assess.censored_keep": "kept with the code not_observed_running (censored: keep)",
    "assess.table_not_derivable": "dimensions not derivable before extraction, left out: "
                                  "{dimensions}",
}


# The screen's risk figures and search come from the SDC library (one implementation).
Risk = KeyRisk


@dataclass(frozen=True)
class Suggestion:
    """A combination of hierarchy levels (only the generalised variables are listed)."""

    levels: dict[str, str]
    cost: float
    risk: Risk | None = None
    small_cells: int | None = None
    cells: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"generalise": self.levels, "cost": round(self.cost, 4)}
        if self.risk is not None:
            out["risk"] = self.risk.to_json()
        if self.cells is not None:
            out["cells"] = self.cells
            out["small_cells"] = self.small_cells
        return out


@dataclass
class TableAssessment:
    name: str
    dimensions: list[str]
    cells: int
    small_cells: int
    min_count: int
    within_target: bool
    suggestions: list[Suggestion] = field(default_factory=list)
    note: str | None = None
    said: Text | None = None  # the note as a phrase (NOTES_EN)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dimensions": self.dimensions,
            "cells": self.cells,
            "small_cells": self.small_cells,
            "share_small_cells": round(self.small_cells / self.cells, 6) if self.cells else 0.0,
            "min_count": self.min_count,
            "within_target": self.within_target,
            "suggestions": [s.to_json() for s in self.suggestions],
            "note": self.note,
        }


@dataclass
class Assessment:
    title: str
    kind: str
    period: str
    records: int
    quasi_identifiers: list[str]
    k: int
    max_suppression: float
    risk: Risk | None
    within_target: bool
    suggestions: list[Suggestion]
    tables: list[TableAssessment]
    notes: list[str]
    snapshot: dict[str, Any]
    said: list[Text] = field(default_factory=list)  # the notes as phrases (NOTES_EN)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "period": self.period,
            "records": self.records,
            "quasi_identifiers": self.quasi_identifiers,
            "targets": {
                "k": self.k,
                "max_suppression": self.max_suppression,
                "table_small_cell_share": TABLE_SMALL_CELL_TARGET,
            },
            "risk": self.risk.to_json() if self.risk else None,
            "within_target": self.within_target,
            "suggestions": [s.to_json() for s in self.suggestions],
            "tables": [t.to_json() for t in self.tables],
            "notes": self.notes,
            "snapshot": self.snapshot,
        }


# --- risk on encoded keys --------------------------------------------------------------------


@dataclass
class _Ladder:
    """One variable's codes at each level of its hierarchy (finest first, `total` last)."""

    name: str
    levels: list[str]
    codes: list[np.ndarray]

    @property
    def height(self) -> int:
        return len(self.levels) - 1


def _ladder(catalogue: Catalogue, name: str, values: pd.Series) -> tuple[_Ladder, Text | None]:
    variable = catalogue.get(name)
    # Each distinct value is formatted and mapped once, then spread to the rows: a 1 M-row
    # extract has a few hundred distinct values per variable.
    row_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = bool((row_codes < 0).any())
    distinct = pd.Series([variable.format_value(v) for v in uniques] + [""], dtype="object")
    if not missing:
        distinct = distinct.iloc[:-1]
    row_codes = np.where(row_codes < 0, len(uniques), row_codes)  # missing -> the "" slot
    texts = pd.Series(distinct.to_numpy()[row_codes], dtype="object")
    note = None
    try:
        table = catalogue.hierarchy_table(name, [v for v in values.dropna().unique()])
        levels = list(table.columns)
        lookup = table.set_index(table.columns[0], drop=False)
    except PrimexError as exc:  # values the hierarchy does not know: only value or total
        note = phrase("assess.no_hierarchy", variable=name, problem=exc.what)
        levels = [name, "total"]
        lookup = pd.DataFrame({name: texts.unique(), "total": "*"}).set_index(name, drop=False)
    codes = []
    for level in levels:
        mapped = distinct.map(lookup[level].astype("object").to_dict()).fillna(distinct)
        mapped = mapped.where(distinct != "", "")  # a missing value stays missing at every level
        if level == "total":
            mapped = pd.Series("*", index=distinct.index)
        _, inverse = np.unique(mapped.to_numpy(dtype=str), return_inverse=True)
        codes.append(inverse.astype(np.int64)[row_codes])
    return _Ladder(name, levels, codes), note


def _cost(node: tuple[int, ...], ladders: list[_Ladder],
          priorities: dict[str, str] | None = None) -> float:
    """The lattice cost, each variable weighted by the request's priority for it (the
    protection step's weights): generalising a `keep` variable is the last suggestion."""
    return node_cost(node, [ladder.height for ladder in ladders],
                     _weights(ladders, priorities))


def _weights(ladders: list[_Ladder], priorities: dict[str, str] | None) -> list[float]:
    return [PRIORITY_WEIGHTS.get((priorities or {}).get(ladder.name, "normal"), 1.0)
            for ladder in ladders]


def _search(
    ladders: list[_Ladder],
    ok: Any,
    evaluate: Any,
    priorities: dict[str, str] | None = None,
) -> list[tuple[tuple[int, ...], Any]]:
    """Cheapest lattice nodes that satisfy `ok`, skipping generalisations of found ones;
    cheapest with the request's priorities, so a `keep` variable is generalised last."""
    return cheapest_nodes([ladder.height for ladder in ladders], ok, evaluate,
                          wanted=SUGGESTIONS, max_evaluations=MAX_EVALUATIONS,
                          time_budget_s=TIME_BUDGET_S, weights=_weights(ladders, priorities))


def _levels(node: tuple[int, ...], ladders: list[_Ladder]) -> dict[str, str]:
    return {
        ladder.name: ladder.levels[level]
        for level, ladder in zip(node, ladders, strict=True)
        if level > 0
    }


# --- the spell table -------------------------------------------------------------------------


def _connect(home: Home) -> Any:
    import duckdb

    from primex.requests.prima_source import open_prima

    if home.prima_url:  # PRIMA on PostgreSQL: its tables in an in-memory DuckDB
        return open_prima(home)
    if not home.prima_db.exists():
        raise PrimexError(
            "no PRIMA data to assess the request on",
            where=str(home.prima_db),
            hint="generate the synthetic data with `primex synth generate` (or check --home)",
        )
    try:
        return duckdb.connect(str(home.prima_db), read_only=True)
    except duckdb.Error as exc:
        raise PrimexError(f"cannot open PRIMA ({str(exc).splitlines()[0]})",
                          where=str(home.prima_db)) from None


def spell_table(spec: RequestSpec, home: Home) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The spells the request covers, with its variables: the extraction's own population
    query (`primex.requests.population`) on the current data, so that the records assessed
    are the records extracted. The NISS is dropped before the frame leaves this function."""
    parts = population.spec_parts(spec)
    population.check_parts(parts)
    with _connect(home) as con:
        rows = con.execute("SELECT snapshot_date FROM snapshot LIMIT 1").fetchall()
        coverage = population.coverage_from(con.execute(population.COVERAGE_SQL).fetchall()[0]
                                            if rows else None)
        snapshot: dict[str, Any] = {}
        if coverage is not None:
            snapshot = {"snapshot_date": str(rows[0][0]),
                        "first_month": str(coverage.first_month),
                        "last_month": str(coverage.last_month)}
        data_last = population.data_last_from(
            con.execute(population.DATA_LAST_SQL).fetchall()[0][0])
        sql, params = population.build_sql(parts, data_last)
        table = con.sql(population.with_geo(sql), params=params).to_arrow_table()
    table = population.finish(table.drop_columns(["niss", "record_id"]), parts)
    frame = table.to_pandas()
    if "category" in frame.columns:
        frame["category"] = frame["category"].astype("Int64").astype("string")
    frame.attrs["data_last"] = data_last
    return frame, snapshot


# --- assessment ------------------------------------------------------------------------------


def assess(
    spec: RequestSpec,
    home: Home,
    *,
    catalogue: Catalogue | None = None,
    policy: Policy | None = None,
) -> Assessment:
    catalogue = catalogue or load_catalogue()
    policy = policy or load_policy()
    frame, snapshot = spell_table(spec, home)
    # The parameters in force: the service policy tightened by the proposal (one rule).
    in_force = policy.tighten(spec.policy_overrides(), where="request disclosure")
    k = in_force.microdata.k
    budget = in_force.microdata.max_suppression
    min_count = in_force.tables.min_count
    notes: list[Text] = []
    # the extract's `group` column comes with population.groups, listed or not
    named = [*spec.variables, *(["group"] if spec.population.groups is not None else [])]
    qis = list(dict.fromkeys(
        name for name in named
        if name in catalogue and catalogue.get(name).role == "quasi_identifier"
    ))
    missing = [name for name in qis if name not in frame.columns]
    if missing:
        notes.append(phrase("assess.not_derivable", variables=str(missing)))
    qis = [name for name in qis if name in frame.columns]
    period = f"{spec.population.period.start} to {spec.population.period.end}"
    risk = None
    within = True
    suggestions: list[Suggestion] = []
    tables: list[TableAssessment] = []
    if len(frame) == 0:
        notes.append(phrase("assess.no_record"))
    if spec.output.kind in ("microdata", "synthetic") and len(frame):
        ladders = []
        for name in qis:
            ladder, note = _ladder(catalogue, name, frame[name])
            ladders.append(ladder)
            if note:
                notes.append(note)
        fk = key_frequencies([ladder.codes[0] for ladder in ladders], len(frame))
        risk = measure(fk, k)
        allowed = int(np.floor(budget * risk.records))
        within = risk.violating_k <= allowed

        def evaluate(node: tuple[int, ...]) -> Risk:
            cols = [ladder.codes[level] for level, ladder in zip(node, ladders, strict=True)]
            return measure(key_frequencies(cols, len(frame)), k)

        if not within and ladders:
            found = _search(ladders, lambda r: r.violating_k <= allowed, evaluate,
                            dict(spec.disclosure.priorities))
            suggestions = sorted(
                (Suggestion(_levels(node, ladders),
                            _cost(node, ladders, dict(spec.disclosure.priorities)), result)
                 for node, result in found),
                key=lambda s: (round(s.cost, 9), s.risk.violating_k if s.risk else 0),
            )
            if not found:
                notes.append(phrase("assess.no_generalisation"))
        if spec.linkage:
            notes.append(phrase("assess.linked_sensitive"))
    notes.extend(_population_notes(spec, frame))
    if spec.output.kind == "tables" and len(frame):
        for table in spec.output.tables:
            tables.append(_assess_table(table.name, table.dimensions, frame, catalogue,
                                        min_count))
        within = all(t.within_target for t in tables)
    return Assessment(
        title=spec.title, kind=spec.output.kind, period=period, records=len(frame),
        quasi_identifiers=qis, k=k, max_suppression=budget, risk=risk, within_target=within,
        suggestions=suggestions, tables=tables, notes=[say(n, NOTES_EN) for n in notes],
        snapshot=snapshot, said=notes,
    )


def _population_notes(spec: RequestSpec, frame: pd.DataFrame) -> list[Text]:
    """What the population query says about groups and linked outcomes, before linkage."""
    notes: list[Text] = []
    if spec.population.groups is not None and "group" in frame.columns:
        counts = frame["group"].value_counts()
        notes.append(phrase("assess.groups", study=int(counts.get("study", 0)),
                            comparison=int(counts.get("comparison", 0))))
    running = int(frame["spell_end"].isna().sum()) if "spell_end" in frame.columns else 0
    for link in spec.linkage:
        exits = [at for at in link.at if at.startswith("exit")]
        if not exits or not running:
            continue
        action = phrase("assess.censored_drop" if link.censored == "drop"
                        else "assess.censored_keep")
        notes.append(phrase("assess.running", running=running, spells=len(frame),
                            variables=", ".join(link.variables), at=", ".join(exits),
                            action=action))
    return notes


def _assess_table(name: str, dims: list[str], frame: pd.DataFrame, catalogue: Catalogue,
                  min_count: int) -> TableAssessment:
    usable = [d for d in dims if d in frame.columns]
    note: Text | None = None
    if len(usable) < len(dims):
        note = phrase("assess.table_not_derivable",
                      dimensions=str([d for d in dims if d not in usable]))
    ladders = []
    for dim in usable:
        variable = catalogue.get(dim)
        if variable.hierarchy is not None:
            ladder, _note = _ladder(catalogue, dim, frame[dim])
        else:
            _, codes = np.unique(frame[dim].astype("string").fillna("").to_numpy(dtype=str),
                                 return_inverse=True)
            ladder = _Ladder(dim, [dim], [codes.astype(np.int64)])
        ladders.append(ladder)

    def evaluate(node: tuple[int, ...]) -> tuple[int, int]:
        cols = [ladder.codes[level] for level, ladder in zip(node, ladders, strict=True)]
        ids = combination_ids(cols, len(frame))
        fk = np.bincount(ids)[ids]
        _, first = np.unique(ids, return_index=True)
        counts = fk[first]
        return len(counts), int(np.count_nonzero(counts < min_count))

    def ok(result: tuple[int, int]) -> bool:
        cells, small = result
        return cells > 0 and small / cells <= TABLE_SMALL_CELL_TARGET

    cells, small = evaluate(tuple(0 for _ in ladders))
    within = ok((cells, small))
    suggestions = []
    if not within and any(ladder.height for ladder in ladders):
        for node, (c, s) in _search(ladders, ok, evaluate):
            suggestions.append(Suggestion(_levels(node, ladders), _cost(node, ladders),
                                          cells=c, small_cells=s))
        suggestions.sort(key=lambda s: (round(s.cost, 9), s.small_cells or 0))
    return TableAssessment(name, dims, cells, small, min_count, within, suggestions,
                           say(note, NOTES_EN) if note is not None else None, note)


# --- rendering -------------------------------------------------------------------------------


def render(result: Assessment, console: Any) -> None:
    from rich.table import Table

    console.print(f"[bold]{result.title}[/] ({result.kind}, {result.period}, "
                  f"{result.records} person-spells on the current data)", highlight=False)
    if result.risk is not None:
        r = result.risk
        table = Table(title=f"Risk of the key {', '.join(result.quasi_identifiers) or '(none)'}")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_column("share", justify="right")
        table.add_row("records", str(r.records), "")
        table.add_row("sample uniques (fk = 1)", str(r.sample_uniques), f"{r.share_uniques:.1%}")
        table.add_row(f"records violating k = {result.k}", str(r.violating_k),
                      f"{r.share_violating:.1%}")
        table.add_row("expected re-identifications", f"{r.expected_reidentifications:.1f}",
                      f"{r.expected_reidentifications / r.records:.1%}" if r.records else "")
        table.add_row("suppression budget", str(int(result.max_suppression * r.records)),
                      f"{result.max_suppression:.1%}")
        console.print(table)
    for t in result.tables:
        share = t.small_cells / t.cells if t.cells else 0.0
        console.print(f"table [bold]{t.name}[/] ({' × '.join(t.dimensions)}): {t.cells} cells, "
                      f"{t.small_cells} under {t.min_count} ({share:.1%})"
                      + ("" if t.within_target else " [yellow]above target[/]"), highlight=False)
        if t.suggestions:
            _render_suggestions(console, t.suggestions, table_mode=True)
        if t.note:
            console.print(f"  note: {t.note}", highlight=False)
    if result.within_target:
        console.print("[green]within target[/]: the disclosure step should reach it without "
                      "generalising further", highlight=False)
    elif result.suggestions:
        console.print("[yellow]above target[/]: cheapest generalisations that would reach it:")
        _render_suggestions(console, result.suggestions, table_mode=False)
    elif result.risk is not None:
        console.print("[yellow]above target[/]: no generalisation found; drop a variable")
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)


def _render_suggestions(console: Any, suggestions: list[Suggestion], *, table_mode: bool) -> None:
    from rich.table import Table

    table = Table()
    table.add_column("#", justify="right")
    table.add_column("generalise")
    table.add_column("cost", justify="right")
    if table_mode:
        table.add_column("cells", justify="right")
        table.add_column("small cells", justify="right")
    else:
        table.add_column("violating k", justify="right")
        table.add_column("sample uniques", justify="right")
        table.add_column("expected re-id.", justify="right")
    for i, s in enumerate(suggestions, 1):
        change = ", ".join(f"{var} → {level}" for var, level in s.levels.items())
        if table_mode:
            table.add_row(str(i), change, f"{s.cost:.2f}", str(s.cells), str(s.small_cells))
        else:
            assert s.risk is not None
            table.add_row(str(i), change, f"{s.cost:.2f}", str(s.risk.violating_k),
                          str(s.risk.sample_uniques), f"{s.risk.expected_reidentifications:.1f}")
    console.print(table)


__all__ = ["Assessment", "Risk", "Suggestion", "assess", "key_frequencies", "measure", "render",
           "spell_table"]
