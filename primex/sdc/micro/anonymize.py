"""k-anonymity (and l-diversity) by optimal full-domain generalisation + local suppression.

1. Every QI is mapped to its hierarchy; the data are reduced to distinct key rows.
2. `lattice.search` finds the generalisation levels of minimal information loss among those
   whose outlying records (classes < k, or < l distinct sensitive values) fit the budget.
3. `local_suppression` blanks, per outlying record, the fewest and least important values
   that make it k-anonymous under sdcMicro's missing-value semantics.
4. The result is verified with the exact sdcMicro fk (alpha = 1) and l-diversity.

Suppression budget (`max_suppression`): a fraction of *records*.  A record counts once when
any of its QI values is blanked.  This is the same unit as ARX's and anjana's suppression
limit (they blank every QI of such a record), so the levels chosen are comparable; we
blank fewer values per record.  Both counts are reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from primex.errors import PrimexError
from primex.sdc.micro._encode import combine, distinct_rows, encode_column, group_ids
from primex.sdc.micro.hierarchy import GeneralisationHierarchy, resolve
from primex.sdc.micro.lattice import LatticeProblem, SearchResult, search
from primex.sdc.micro.ldiversity import LDiversity, ldiversity_codes
from primex.sdc.micro.local_suppression import (
    apply_bits,
    choose_suppressions,
    fk_of_rows,
    restore_pass,
)
from primex.sdc.micro.risk import MicroRisk, risk_from_rows, weights_of


@dataclass
class AnonymizationResult:
    """Protected data plus everything the disclosure report needs."""

    data: pd.DataFrame
    levels: dict[str, int]
    suppressions: dict[str, int]
    records_suppressed: int
    values_suppressed: int
    passed: bool
    reasons: list[str]
    params: dict[str, Any]
    risk_before: MicroRisk
    risk_after: MicroRisk
    information_loss: dict[str, float]
    search: dict[str, Any]
    level_labels: dict[str, str] = field(default_factory=dict)
    ldiversity_before: dict[str, Any] | None = None
    ldiversity_after: dict[str, Any] | None = None
    # QI generalised to its total -> the QIs whose removal instead would keep it below its
    # total, or None when no such generalisation reaches k within the budget
    removed: dict[str, list[str] | None] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        """JSON-ready summary (see micro_report for the full disclosure report)."""
        k = int(self.params["k"])
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "parameters": dict(self.params),
            "levels": dict(self.levels),
            "level_labels": dict(self.level_labels),
            "suppressions": dict(self.suppressions),
            "records_suppressed": self.records_suppressed,
            "values_suppressed": self.values_suppressed,
            "kanon_violations_before": self.risk_before.kanon_violations(k),
            "kanon_violations_after": self.risk_after.kanon_violations(k),
            "risk_before": self.risk_before.summary(),
            "risk_after": self.risk_after.summary(),
            "information_loss": dict(self.information_loss),
            "search": dict(self.search),
            "ldiversity_before": self.ldiversity_before,
            "ldiversity_after": self.ldiversity_after,
            "removed": {q: (None if alt is None else list(alt))
                        for q, alt in self.removed.items()},
        }


def _check_params(df: pd.DataFrame, qis: Sequence[str], k: int, max_suppression: float,
                  sensitive: str | None, l: int | None) -> None:  # noqa: E741
    if len(df) == 0:
        raise PrimexError("the data have no records", where="data",
                          hint="protect a non-empty extract")
    if not qis:
        raise PrimexError("no quasi-identifiers given", where="quasi_identifiers",
                          hint="name the variables an intruder could know, e.g. age,sex,region")
    missing = [q for q in qis if q not in df.columns]
    if missing:
        raise PrimexError(f"quasi-identifier(s) {missing!r} not in the data",
                          where="quasi_identifiers", hint="check the column names")
    if len(qis) > 20:
        raise PrimexError(f"{len(qis)} quasi-identifiers: too many for a full lattice search",
                          where="quasi_identifiers", hint="use at most 20")
    if not isinstance(k, int | np.integer) or k < 1:
        raise PrimexError(f"k must be a positive integer, got {k!r}", where="k", hint="e.g. k=3")
    if not 0.0 <= max_suppression <= 1.0:
        raise PrimexError(f"max_suppression must be in [0, 1], got {max_suppression}",
                          where="max_suppression", hint="a fraction of records, e.g. 0.05")
    if (l is None) != (sensitive is None):
        raise PrimexError("l-diversity needs both `sensitive` and `l`", where="l",
                          hint="give both, or neither")
    if sensitive is not None:
        if sensitive not in df.columns:
            raise PrimexError(f"sensitive variable {sensitive!r} not in the data",
                              where="sensitive", hint="check the column name")
        if sensitive in qis:
            raise PrimexError(f"{sensitive!r} is both a QI and the sensitive variable",
                              where="sensitive", hint="a sensitive variable is not a QI")
        if l is None or l < 1:
            raise PrimexError(f"l must be a positive integer, got {l!r}", where="l",
                              hint="e.g. l=2")


def _default_importance(cards: np.ndarray) -> list[int]:
    """sdcMicro-like default: variables with more categories are suppressed first."""
    order = np.argsort(cards, kind="stable")  # fewest categories = most important = 1
    imp = np.empty(len(cards), dtype=np.int64)
    imp[order] = np.arange(1, len(cards) + 1)
    return [int(x) for x in imp]


def _output_column(
    orig: pd.Series, h: GeneralisationHierarchy, level: int, row_codes: np.ndarray,
    rid: np.ndarray,
) -> pd.Series:
    """Generalised column: original values at level 0, hierarchy labels above; NA = blanked.
    `row_codes` per distinct row, `rid` the row of each record."""
    if level == 0:
        row_blank = row_codes < 0
        if not row_blank.any():
            return orig  # copy-on-write: shares memory until someone writes
        blank = row_blank[rid]
        if isinstance(orig.dtype, np.dtype) and orig.dtype.kind in "iu":
            # = orig.astype("Int64").mask(blank), without the two passes over the records
            ints = pd.arrays.IntegerArray(orig.to_numpy().astype(np.int64, copy=False), blank)
            return pd.Series(ints, index=orig.index, name=orig.name)
        col = orig.astype("Int64") if pd.api.types.is_integer_dtype(orig.dtype) else orig
        return col.mask(pd.Series(blank, index=orig.index))
    _, labels = h.level_codes(level)
    cat = pd.Categorical.from_codes(row_codes[rid], categories=pd.Index(labels, dtype=object))
    return pd.Series(cat, index=orig.index, name=orig.name)


def _ldiversity_rows(codes: np.ndarray, cards: np.ndarray, sens: np.ndarray, s_card: int,
                     count: np.ndarray, rid: np.ndarray, sensitive: str) -> LDiversity:
    """Per-record l-diversity from distinct rows (`count` records each; `rid` maps back)."""
    d, e = ldiversity_codes(codes, cards, sens, int(s_card), w=count)
    return LDiversity(sensitive, d[rid], e[rid])


# The cost of removing a variable (its total) in the search: above the largest loss (1), so
# that fewer removals always win over less loss; a `keep` variable's above any number of the
# others' (sdcMicro's importance taken to its limit).
REMOVAL_COST = 2.0


def removal_costs(heights: Sequence[int], keep: Sequence[bool]) -> list[float]:
    """Per QI, what removing it costs in `lattice.search`: REMOVAL_COST, a `keep` variable
    more than every other variable together."""
    others = sum(1 for h, k in zip(heights, keep, strict=True) if h and not k)
    return [REMOVAL_COST * (others + 1) if k else REMOVAL_COST for k in keep]


def _search_keeping(
    prob: LatticeProblem, keep: Sequence[bool], avoid_total: bool,
    floors: Sequence[int] | None,
) -> tuple[SearchResult, str | None]:
    """The optimum that removes the fewest requested variables entirely.

    With `avoid_total`, one exact search of the whole lattice whose objective is (variables
    marked `keep` removed, other variables removed, loss), in that order: a variable is
    generalised to its total only when no node with fewer removals reaches k within the
    budget, a `keep` variable only when no node without it does. Without it, the optimum of
    the loss alone."""
    if not avoid_total:
        return search(prob, floors=floors), None
    res = search(prob, floors=floors, total_costs=removal_costs(prob.heights, keep))
    if res.node is None:
        return res, None
    gone = [j for j, (lv, h) in enumerate(zip(res.node, prob.heights, strict=True))
            if h and lv == h and (floors is None or floors[j] < h)]
    if not gone:
        return res, None
    return res, ("no generalisation below the total of every variable reaches k within the "
                 "budget; the fewest variables were generalised to their total"
                 + (" (including a variable marked keep)" if any(keep[j] for j in gone)
                    else ""))


def alternative_removals(
    prob: LatticeProblem, node: Sequence[int], keep: Sequence[bool],
    floors: Sequence[int] | None,
) -> dict[int, list[int] | None]:
    """For each QI removed at `node` (at its total), the other QIs whose removal would let it
    stay at a level below its total (the fewest, then the least loss), or None when no such
    node reaches k within the budget: what a researcher could change to keep it."""
    heights = prob.heights
    out: dict[int, list[int] | None] = {}
    for j, (lv, h) in enumerate(zip(node, heights, strict=True)):
        if not h or lv < h:
            continue
        caps = [hh if i != j else h - 1 for i, hh in enumerate(heights)]
        # the variable kept below its total; the others as cheap to remove as each other
        res = search(prob, caps=caps, floors=floors,
                     total_costs=removal_costs(heights, [False] * len(heights)))
        out[j] = None if res.node is None else [
            i for i, (a, t) in enumerate(zip(res.node, heights, strict=True)) if t and a == t]
    return out


def anonymize(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    hierarchies: dict[str, Any] | None,
    k: int,
    *,
    max_suppression: float,
    sensitive: str | None = None,
    l: int | None = None,  # noqa: E741
    weight: str | None = None,
    importance: Sequence[int] | None = None,
    alpha: float = 1.0,
    loss_weights: Sequence[float] | None = None,
    keep: Sequence[bool] | None = None,
    avoid_total: bool = False,
    min_levels: Sequence[int] | None = None,
) -> AnonymizationResult:
    """Optimal full-domain generalisation then local suppression; deterministic.

    `hierarchies`: {QI: ARX-form DataFrame | GeneralisationHierarchy}; a QI without one gets
    value -> *.  `max_suppression` (no default: the caller's policy states it): fraction of
    records that may have a value blanked.
    `importance`: one number per QI, lower = more important (blanked last).
    `loss_weights`: one weight per QI of its information loss in the search (default 1).
    `avoid_total`: search first the levels below each hierarchy's total (no requested
    variable removed entirely) and take the whole lattice only if none fits the budget;
    `keep`: per QI, never its total when any node below it fits (still searched last).
    `min_levels`: per QI, the lowest hierarchy level allowed (officer's conditions).
    """
    qis = list(quasi_identifiers)
    _check_params(df, qis, k, max_suppression, sensitive, l)
    hs = resolve(qis, hierarchies, df)
    n = len(df)
    p = len(qis)
    w = weights_of(df, weight)
    leaf = np.empty((n, p), dtype=np.int32, order="F")  # columns contiguous
    for j, (q, h) in enumerate(zip(qis, hs, strict=True)):
        leaf[:, j] = h.encode(df[q])
    leaf_cards = np.array([len(h.table) for h in hs], dtype=np.int64)
    # Distinct rows (with the sensitive value when l is asked): all later work is on these.
    s_codes = None
    s_card = 0
    if sensitive is None:
        rid, leaf_d, count = distinct_rows([leaf[:, j] for j in range(p)], leaf_cards)
        D = len(count)
        sens_d = None
    else:
        key, rng = combine(leaf + 1, leaf_cards + 1)
        sc, s_card = encode_column(df[sensitive])
        s_codes = np.where(sc < 0, s_card, sc).astype(np.int64)
        key, rng = combine(np.column_stack([key, s_codes]).astype(np.int64),
                           np.array([rng, s_card + 1], dtype=np.int64))
        rid, D = group_ids(key, rng)
        count = np.bincount(rid, minlength=D).astype(np.float64)
        first = np.empty(D, dtype=np.int64)
        first[rid[::-1]] = np.arange(n - 1, -1, -1)
        leaf_d = leaf[first]
        sens_d = s_codes[first]
    del leaf
    w_d = None if w is None else np.bincount(rid, weights=w, minlength=D)
    # Distinct data values have distinct hierarchy rows, so these codes give sdcMicro's fk.
    risk_before = risk_from_rows(leaf_d, leaf_cards, count, w_d, rid, qis, alpha,
                                 distinct=sensitive is None)

    budget = math.floor(max_suppression * n + 1e-9)
    wts = None if loss_weights is None else np.asarray(list(loss_weights), dtype=np.float64)
    if wts is not None and (len(wts) != p or not np.all(wts > 0)):
        raise PrimexError(f"loss_weights needs {p} positive numbers", where="loss_weights",
                          hint="one weight per quasi-identifier, e.g. 1")
    prob = LatticeProblem(leaf_d, count, hs, int(k), float(budget), sens_d, l, wts)
    res, search_note = _search_keeping(prob, keep if keep is not None else [False] * p,
                                       avoid_total, min_levels)
    reasons: list[str] = []
    node = res.node
    note = search_note
    removed: dict[str, list[str] | None] = {}
    if node is not None and avoid_total:
        alternatives = alternative_removals(prob, node, keep or [False] * p, min_levels)
        removed = {qis[j]: (None if alt is None else [qis[i] for i in alt])
                   for j, alt in alternatives.items()}
    if node is None:
        # No level combination fits the budget when blanks are counted as their own class;
        # the wildcard rule may still make the most general one pass (checked below).
        node = prob.heights
        if avoid_total:  # every variable removed: each gets its line in the report
            removed = {q: None for q, h in zip(qis, node, strict=True) if h}
        note = (f"no generalisation reaches k={k}{'' if l is None else f', l={l}'} within "
                f"{budget} records when missing values count as their own class; the most "
                "general levels were used")
    bad, _ = prob.outliers(node)
    gen, _ = prob.generalise(node)
    gen = np.where(leaf_d < 0, -1, gen).astype(np.int32)
    cards = np.array([len(h.level_codes(lv)[1]) for h, lv in zip(hs, node, strict=True)],
                     dtype=np.int64)
    imp = list(importance) if importance is not None else _default_importance(cards)
    if len(imp) != p:
        raise PrimexError(f"importance has {len(imp)} entries for {p} quasi-identifiers",
                          where="importance", hint="one number per QI, lower = keep longer")
    bits = choose_suppressions(gen, cards, count, bad, int(k), imp, sens_d, l)
    final = apply_bits(gen, bits)
    if l is None:  # give back blanks made unnecessary by the wildcards of other blanks
        final = restore_pass(final, gen, cards, count, int(k), imp)
        bits = np.zeros(len(final), dtype=np.int64)
        for j in range(p):
            bits |= ((final[:, j] < 0) & (gen[:, j] >= 0)).astype(np.int64) << j
    # Verify with the exact semantics; blank whole keys of any record still short (rare).
    for _ in range(3):
        short = fk_of_rows(final, cards, count) < k
        if sens_d is not None and l is not None:
            dl, _e = ldiversity_codes(final, cards, sens_d, int(s_card), w=count)
            short |= dl < l
        short &= (final >= 0).any(axis=1)
        if not short.any():
            break
        bits[short] = ((1 << p) - 1) & ~(((gen[short] < 0).astype(np.int64)
                                           << np.arange(p)).sum(axis=1))
        final = apply_bits(gen, bits)

    # Build the protected data.
    # One new frame from columns (setting columns one by one on a copy copies blocks).
    columns = {c: df[c] for c in df.columns}
    for j, (q, h) in enumerate(zip(qis, hs, strict=True)):
        columns[q] = _output_column(df[q], h, node[j], np.ascontiguousarray(final[:, j]), rid)
    out = pd.DataFrame(columns, index=df.index, copy=False)
    new_blank = [((bits >> j) & 1) == 1 for j in range(p)]
    suppressions = {q: int(count[new_blank[j]].sum()) for j, q in enumerate(qis)}
    records_supp = int(count[bits != 0].sum())
    values_supp = int(sum(suppressions.values()))
    risk_after = risk_from_rows(final, cards, count, w_d, rid, qis, alpha)
    if risk_after.kanon_violations(k) > 0:
        reasons.append(f"{risk_after.kanon_violations(k)} records still violate {k}-anonymity")
    if records_supp > budget:
        reasons.append(f"{records_supp} records have a blanked value, more than the limit "
                       f"of {budget} ({max_suppression:.2%})")
    ld_before = ld_after = None
    if sensitive is not None and l is not None and sens_d is not None:
        # Same result as ldiversity(df | out, qis, sensitive) (the codes partition the
        # records like the values do), from the distinct rows instead of every record.
        lb = _ldiversity_rows(leaf_d, leaf_cards, sens_d, s_card, count, rid, sensitive)
        la = _ldiversity_rows(final, cards, sens_d, s_card, count, rid, sensitive)
        ld_before = {**lb.summary(), "violations_l": lb.violations(l)}
        ld_after = {**la.summary(), "violations_l": la.violations(l)}
        if la.violations(l) > 0:
            reasons.append(f"{la.violations(l)} records still violate {l}-diversity")
    # Information loss: per value (g-1)/(m-1) of its group, 1 when blanked; mean over all.
    loss_sum = 0.0
    per_var: dict[str, float] = {}
    for j, q in enumerate(qis):
        lo = np.append(hs[j].level_loss(node[j]), 1.0)[leaf_d[:, j]]
        lo = np.where(final[:, j] < 0, 1.0, lo)
        per_var[q] = float((lo * count).sum() / n) if n else 0.0
        loss_sum += per_var[q]
    info = {
        "loss": loss_sum / p if p else 0.0,
        "loss_if_records_suppressed": float(res.loss) if res.node is not None else float("nan"),
        **{f"loss_{q}": v for q, v in per_var.items()},
    }
    levels = {q: int(node[j]) for j, q in enumerate(qis)}
    labels = {}
    for j, q in enumerate(qis):
        t = hs[j].table
        lv = node[j]
        groups = t[f"level{lv}"].nunique()
        if lv == 0:
            labels[q] = f"original values ({len(t)} in the hierarchy)"
        elif groups == 1:
            labels[q] = f"fully generalised ({t[f'level{lv}'].iloc[0]})"
        else:
            ex = t.iloc[len(t) // 2]
            labels[q] = f"{groups} groups, e.g. {ex['level0']} → {ex[f'level{lv}']}"
    params = {
        "quasi_identifiers": qis, "k": int(k), "max_suppression": float(max_suppression),
        "suppression_budget_records": budget, "sensitive": sensitive, "l": l,
        "weight": weight, "alpha": alpha, "importance": dict(zip(qis, imp, strict=True)),
        "hierarchy_heights": {q: h.height for q, h in zip(qis, hs, strict=True)},
        "metric": "loss (normalised certainty penalty; blanked value = 1)",
    }
    search_info = {"evaluated_nodes": res.evaluated, "pruned_nodes": res.pruned,
                   "feasible_nodes_evaluated": res.feasible_nodes,
                   "lattice_size": int(np.prod([h + 1 for h in prob.heights])),
                   "outlier_records_at_optimum": float(res.outliers), "note": note}
    return AnonymizationResult(
        out, levels, suppressions, records_supp, values_supp, not reasons, reasons, params,
        risk_before, risk_after, info, search_info, labels, ld_before, ld_after, removed)
