"""Socio-economic positions per person and quarter (BCSS data-warehouse style).

The position on the last day of each quarter follows the warehouse's ordering rule: on RI or
ERIS that month -> CPAS (3xx); in an art. 60 §7 / art. 61 contract, or partial RI on top of
part-time work -> employee (1xx). Between spells a small Markov chain moves people between
work, job seeking and inactivity, with the destinations that matter at exit (work,
unemployment benefits after an art. 60 contract). The loop runs over quarters; each step is
vectorised over all persons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from primex.synthetic.spells import Measures, Spells

GROUPS = np.array(["employee", "self_employed", "job_seeker", "cpas", "inactive", "other"])
EMPLOYEE, SELF, JOB_SEEKER, CPAS, INACTIVE, OTHER = range(6)

# off-RI states of beneficiaries before their first spell and between spells
_PRE_ENTRY = np.array([0.20, 0.02, 0.33, 0.0, 0.30, 0.15])
_PRE_ENTRY_STUDENT = np.array([0.05, 0.0, 0.05, 0.0, 0.75, 0.15])
_AFTER_RI = np.array([0.30, 0.03, 0.27, 0.0, 0.25, 0.15])
_AFTER_RI_STUDENT = np.array([0.45, 0.02, 0.33, 0.0, 0.10, 0.10])
_AFTER_MEASURE = np.array([0.35, 0.0, 0.60, 0.0, 0.0, 0.05])  # the contract opens UB rights
_AFTER_DROPPED = np.array([0.15, 0.0, 0.40, 0.0, 0.25, 0.20])
_DRIFT = np.array([0.25, 0.03, 0.30, 0.0, 0.27, 0.15])
_STAY = 0.88
# comparison population (never on RI)
_COMPARISON = np.array([0.62, 0.09, 0.06, 0.0, 0.20, 0.03])
_COMPARISON_STAY = 0.95

# leaf codes per group (first entries are the BCSS codes 111/112, 121-123; the rest synthetic)
_LEAVES: dict[int, tuple[list[int], list[float]]] = {
    EMPLOYEE: ([111, 112], [0.6, 0.4]),
    SELF: ([121, 122, 123], [0.6, 0.25, 0.15]),
    JOB_SEEKER: ([211, 212, 213, 219], [0.45, 0.15, 0.15, 0.25]),
    CPAS: ([311], [1.0]),
    INACTIVE: ([331, 341, 391], [0.35, 0.25, 0.40]),
    OTHER: ([411], [1.0]),
}


@dataclass
class Positions:
    quarters: np.ndarray  # absolute quarter indices (year*4 + q-1), in order
    group: np.ndarray  # int8 (n_quarters, n_persons)
    code: np.ndarray  # int16 (n_quarters, n_persons)
    wage_class: np.ndarray  # int8 (n_quarters, n_persons), 0 = NULL


def quarter_range(first_month: int, last_month: int, margin: int = 4) -> np.ndarray:
    """Quarters covered by the warehouse: the period's quarters +/- `margin` quarters."""
    return np.arange(first_month // 3 - margin, last_month // 3 + margin + 1)


def _covering(
    person: np.ndarray, start: np.ndarray, end: np.ndarray, month: int, n: int
) -> np.ndarray:
    """Per person: does any of their intervals [start, end] contain `month`?"""
    hit = (start <= month) & (end >= month)
    return np.bincount(person[hit], minlength=n) > 0


def _draw(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(probs / probs.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(probs) - 1)


def positions(
    rng: np.random.Generator,
    n_beneficiaries: int,
    n_comparison: int,
    spells: Spells,
    measures: Measures,
    student: np.ndarray,
    birth_month: np.ndarray,
    quarters: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> Positions:
    n = n_beneficiaries + n_comparison
    is_comp = np.arange(n) >= n_beneficiaries
    stud = np.concatenate([student, np.zeros(n_comparison, dtype=bool)])
    # per-person fixed draws keep leaf codes and wage classes stable over time
    u_leaf = rng.random(n)
    base_wage = np.where(is_comp, 1 + rng.binomial(9, 0.5, n), 1 + rng.binomial(9, 0.2, n)).astype(
        np.int8
    )
    pt_spells = spells.part_time_work
    measure_dropped = np.zeros(n, dtype=bool)
    measure_dropped[measures.person] = measures.dropped

    q_count = len(quarters)
    group = np.empty((q_count, n), dtype=np.int8)
    code = np.empty((q_count, n), dtype=np.int16)
    wage = np.zeros((q_count, n), dtype=np.int8)

    pre = np.where(stud[:, None], _PRE_ENTRY_STUDENT, _PRE_ENTRY)  # (n, 6) rows
    comp_draw = _draw(rng, _COMPARISON, n)
    state = np.where(is_comp, comp_draw, _draw_rows(rng, pre))
    prev_program = np.zeros(n, dtype=bool)
    prev_measure = np.zeros(n, dtype=bool)
    for qi, quarter in enumerate(quarters):
        month = int(quarter) * 3 + 2  # last month of the quarter
        on_ri = np.zeros(n, dtype=bool)
        on_ri[:n_beneficiaries] = _covering(
            spells.person, spells.start, spells.end, month, n_beneficiaries
        )
        pt_work = np.zeros(n, dtype=bool)
        pt_work[:n_beneficiaries] = _covering(
            spells.person[pt_spells],
            spells.start[pt_spells],
            spells.end[pt_spells],
            month,
            n_beneficiaries,
        )
        in_measure = np.zeros(n, dtype=bool)
        in_measure[:n_beneficiaries] = _covering(
            measures.person, measures.start, measures.end, month, n_beneficiaries
        )
        program = on_ri | in_measure

        # off-programme state: exit destination on leaving, otherwise a sticky chain
        just_left = prev_program & ~program
        after = np.where(
            prev_measure[:, None],
            np.where(measure_dropped[:, None], _AFTER_DROPPED, _AFTER_MEASURE),
            np.where(stud[:, None], _AFTER_RI_STUDENT, _AFTER_RI),
        )
        exit_state = _draw_rows(rng, after)
        move = rng.random(n) >= np.where(is_comp, _COMPARISON_STAY, _STAY)
        drift_state = np.where(is_comp, _draw(rng, _COMPARISON, n), _draw(rng, _DRIFT, n))
        state = np.where(just_left, exit_state, np.where(move, drift_state, state))

        g = np.where(in_measure | pt_work, EMPLOYEE, np.where(on_ri, CPAS, state)).astype(np.int8)
        age = (month - birth_month) // 12
        group[qi] = g
        code[qi] = _leaf_codes(g, u_leaf, stud, age)
        noise = np.where(rng.random(n) < 0.1, rng.choice(np.array([-1, 1]), n), 0)
        w = np.clip(base_wage + noise, 1, 10)
        w = np.where(in_measure | pt_work, np.minimum(w, 3), w)
        wage[qi] = np.where(g == EMPLOYEE, w, 0)

        prev_program = program
        prev_measure = in_measure
        if progress is not None:
            progress((qi + 1) / q_count)
    return Positions(quarters, group, code, wage)


def _draw_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _leaf_codes(
    group: np.ndarray, u: np.ndarray, student: np.ndarray, age: np.ndarray
) -> np.ndarray:
    out = np.zeros(len(group), dtype=np.int16)
    for g, (codes, weights) in _LEAVES.items():
        mask = group == g
        cum = np.cumsum(weights)
        pick = np.minimum(np.searchsorted(cum, u[mask], side="right"), len(codes) - 1)
        out[mask] = np.array(codes, dtype=np.int16)[pick]
    inactive = group == INACTIVE
    out[inactive & student] = 391
    out[inactive & (age >= 65)] = 321
    out[(group == JOB_SEEKER) & student] = 213
    return out


GROUP_OF_CODE = {code: str(GROUPS[g]) for g, (codes, _w) in _LEAVES.items() for code in codes} | {
    321: "inactive"
}
