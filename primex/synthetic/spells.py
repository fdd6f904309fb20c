"""Spells of RI/ERIS, employment measures (art. 60 §7 / art. 61), PIIS, and monthly payments.

The model, per person (all persons at once): a career that starts in the BURN_IN months
before the period or in the period, made of up to MAX_SPELLS spells separated by gaps, each
spell possibly followed by an art. 60 §7 / art. 61 contract (which replaces the RI). Durations are
discretised log-normals (mean about 11 months, long tail); months are absolute indices
(year*12 + month-1). Spells outside the period are kept: the warehouse needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from primex.synthetic.amounts import amount_table
from primex.synthetic.config import SynthConfig, month_days
from primex.synthetic.persons import People

# log-normal durations: months = ceil(exp(mu + SIGMA z)); mu grows for the groups that stay
# longer (young people, non-EU nationals, refugees: SPP IS study, "environ 11 mois")
MU0 = 1.73
SIGMA = 1.0
MU_REFUGEE, MU_NON_EU, MU_YOUNG = 0.25, 0.10, 0.15
MAX_MONTHS = 240
BURN_IN = 120  # months of career history simulated before the period
MAX_SPELLS = 5  # spells per career
P_REENTRY = 0.35  # another spell after each exit (students: 0.5)
P_REENTRY_STUDENT = 0.5
MEAN_GAP = 8.0  # months between two spells (geometric, at least 1)
P_ART60, P_ART61 = 0.16, 0.03
P_DROPPED = 0.22
P_FULL = 0.55  # spells paid at the full category amount; the rest are partial
P_PRORATA = 0.4  # first month paid pro rata (the right opened during the month)
P_LATE = 0.03  # records corrected late (recorded_on months after the month)
P_PIIS = 0.55  # non-students with a PIIS for a new spell (students: always)
P_PIIS_FAILURE = 0.35
PIIS_TYPES = np.array(["student", "employment", "social", "training"])
_PIIS_TYPE_WEIGHTS = np.array([0.35, 0.45, 0.20])  # employment, social, training
MEASURES = np.array(["art60", "art61"])
MEASURE_OUTCOMES = np.array(["completed", "dropped", "ongoing"])
PIIS_OUTCOMES = np.array(["success", "failure", "ongoing"])


def durations(rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
    months = np.ceil(np.exp(mu + SIGMA * rng.standard_normal(len(mu))))
    return np.clip(months, 1, MAX_MONTHS).astype(np.int32)


def duration_mu(people: People) -> np.ndarray:
    return (
        MU0
        + MU_REFUGEE * people.refugee
        + MU_NON_EU * (people.nat_group == 2)
        + MU_YOUNG * (people.age < 25)
    )


@dataclass
class Spells:
    person: np.ndarray  # int32 person index
    start: np.ndarray  # int32 absolute month of the first payment
    end: np.ndarray  # int32 absolute month of the last payment
    fraction: np.ndarray  # float share of the legal amount paid
    prorata: np.ndarray  # float share paid in the first month (1.0 = full month)
    part_time_work: np.ndarray  # bool: partial RI on top of part-time work (DWH: worker)
    spell_id: np.ndarray  # int64 unique, random order


@dataclass
class Measures:
    person: np.ndarray
    kind: np.ndarray  # int8 index into MEASURES
    start: np.ndarray  # absolute month
    end: np.ndarray  # absolute month (last month worked)
    dropped: np.ndarray  # bool


@dataclass
class Timeline:
    spells: Spells
    measures: Measures
    reference_month: np.ndarray  # per person: first month paid within the period


def _careers(
    rng: np.random.Generator,
    mu: np.ndarray,
    eligible: np.ndarray,
    p_re: np.ndarray,
    cfg: SynthConfig,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray], list[np.ndarray], Measures]:
    """One candidate career per entry: spells separated by gaps, an employment contract
    possibly replacing the RI after a spell. Returns (overlaps the period, spell person
    indices, starts, ends, measures) with indices local to the arrays passed in."""
    n = len(mu)
    start = (
        cfg.first_month
        - BURN_IN
        + np.floor(rng.random(n) * (BURN_IN + cfg.months)).astype(np.int64)
    )
    release = start
    alive = np.ones(n, dtype=bool)
    overlaps = np.zeros(n, dtype=bool)
    persons, starts, ends = [], [], []
    m_parts: dict[str, list[np.ndarray]] = {"person": [], "kind": [], "start": [], "end": []}
    m_dropped: list[np.ndarray] = []
    for k in range(MAX_SPELLS):  # a loop over the spells of a career, not over persons
        if k:
            alive &= rng.random(n) < p_re
            start = release + rng.geometric(1 / MEAN_GAP, n)
        end = start + durations(rng, mu) - 1
        idx = np.flatnonzero(alive)
        persons.append(idx)
        starts.append(start[idx])
        ends.append(end[idx])
        overlaps |= alive & (end >= cfg.first_month) & (start <= cfg.last_month)
        # an art. 60 §7 / art. 61 contract right after the spell (it replaces the RI)
        u = rng.random(n)
        kind = np.where(u < P_ART60, 0, np.where(u < P_ART60 + P_ART61, 1, -1))
        kind = np.where(alive & eligible & (end >= start + 2), kind, -1)
        planned = np.where(kind == 0, rng.integers(12, 25, n), rng.integers(6, 25, n))
        dropped = rng.random(n) < P_DROPPED
        worked = np.where(dropped, np.maximum(1, planned * rng.uniform(0.15, 0.8, n)), planned)
        m_end = end + worked.astype(np.int64)
        has = np.flatnonzero(kind >= 0)
        m_parts["person"].append(has)
        m_parts["kind"].append(kind[has])
        m_parts["start"].append(end[has] + 1)
        m_parts["end"].append(m_end[has])
        m_dropped.append(dropped[has])
        release = np.where(kind >= 0, m_end, end) + 1
    measures = Measures(
        person=np.concatenate(m_parts["person"]).astype(np.int32),
        kind=np.concatenate(m_parts["kind"]).astype(np.int8),
        start=np.concatenate(m_parts["start"]).astype(np.int32),
        end=np.concatenate(m_parts["end"]).astype(np.int32),
        dropped=np.concatenate(m_dropped),
    )
    return overlaps, persons, starts, ends, measures


def timeline(rng: np.random.Generator, people: People, cfg: SynthConfig) -> Timeline:
    """Careers for every person, redrawn until each has a payment in the period.

    Careers start uniformly over BURN_IN months before the period and the period itself, so
    the monthly stock is about stationary; keeping only careers that reach the period is
    what favours long spells among the persons present (as in reality), while the spells
    that start in the period keep the plain duration distribution."""
    n = len(people)
    mu = duration_mu(people)
    eligible = ~people.student & (people.age < 60)
    p_re = np.where(people.student, P_REENTRY_STUDENT, P_REENTRY)
    todo = np.arange(n)
    persons, starts, ends = [], [], []
    measure_parts: list[Measures] = []
    while len(todo):  # rejection rounds; each round is vectorised over the remaining persons
        ok, sp, ss, se, ms = _careers(rng, mu[todo], eligible[todo], p_re[todo], cfg)
        keep_person = np.flatnonzero(ok)
        for p_local, st, en in zip(sp, ss, se, strict=True):
            sel = ok[p_local]
            persons.append(todo[p_local[sel]])
            starts.append(st[sel])
            ends.append(en[sel])
        sel = ok[ms.person]
        measure_parts.append(
            Measures(todo[ms.person[sel]].astype(np.int32), ms.kind[sel], ms.start[sel],
                     ms.end[sel], ms.dropped[sel])
        )  # fmt: skip
        done = np.zeros(len(todo), dtype=bool)
        done[keep_person] = True
        todo = todo[~done]
    measures = Measures(
        *(np.concatenate([getattr(m, f) for m in measure_parts]) for f in
          ("person", "kind", "start", "end", "dropped"))
    )  # fmt: skip

    person = np.concatenate(persons).astype(np.int32)
    start = np.concatenate(starts).astype(np.int32)
    end = np.concatenate(ends).astype(np.int32)
    order = np.lexsort((start, person))
    person, start, end = person[order], start[order], end[order]
    k = len(person)
    full = rng.random(k) < P_FULL
    fraction = np.where(full, 1.0, rng.uniform(0.15, 0.95, k))
    prorata = np.where(rng.random(k) < P_PRORATA, rng.uniform(0.1, 1.0, k), 1.0)
    part_time = ~full & (fraction < 0.6) & (rng.random(k) < 0.3)
    spell_id = rng.permutation(k).astype(np.int64) + 1

    t0 = cfg.first_month
    ref = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    in_period = (end >= t0) & (start <= cfg.last_month)
    np.minimum.at(ref, person[in_period], np.maximum(start[in_period], t0))
    spells = Spells(person, start, end, fraction, prorata, part_time, spell_id)
    return Timeline(spells, measures, ref.astype(np.int32))


@dataclass
class BenefitRows:
    person: np.ndarray
    month: np.ndarray  # absolute month
    cents: np.ndarray  # int64 amount in cents
    spell_id: np.ndarray
    recorded_on: np.ndarray  # datetime64[D]


def benefit_rows(
    rng: np.random.Generator, people: People, spells: Spells, cfg: SynthConfig
) -> BenefitRows:
    t0, t1 = cfg.first_month, cfg.last_month
    cs = np.maximum(spells.start, t0)
    ce = np.minimum(spells.end, t1)
    keep = cs <= ce
    idx = np.flatnonzero(keep)
    length = (ce - cs + 1)[idx]
    row_spell = np.repeat(idx, length)
    offsets = np.repeat(np.cumsum(length) - length, length)
    month = cs[row_spell] + (np.arange(len(row_spell)) - offsets).astype(np.int32)
    person = spells.person[row_spell]

    category = people.category[person].astype(np.int64)
    legal = amount_table(month)[np.arange(len(month)), category - 1]
    share = spells.fraction[row_spell] * np.where(
        month == spells.start[row_spell], spells.prorata[row_spell], 1.0
    )
    cents = np.maximum(1, np.floor(legal * 100 * share + 0.5)).astype(np.int64)
    cents = np.minimum(cents, np.round(legal * 100).astype(np.int64))

    first_of_next = month_days(month + 1)
    delay = rng.integers(3, 29, len(month))
    late = rng.random(len(month)) < P_LATE
    delay = np.where(late, rng.integers(60, 421, len(month)), delay)
    snapshot = np.datetime64(cfg.snapshot_date, "D")
    recorded = np.minimum(first_of_next + delay.astype("timedelta64[D]"), snapshot)
    return BenefitRows(person, month, cents, spells.spell_id[row_spell], recorded)


@dataclass
class MeasureRows:
    person: np.ndarray
    kind: np.ndarray
    start_date: np.ndarray  # datetime64[D]
    end_date: np.ndarray  # datetime64[D], NaT while running
    outcome: np.ndarray  # int8 index into MEASURE_OUTCOMES


def measure_rows(rng: np.random.Generator, measures: Measures, cfg: SynthConfig) -> MeasureRows:
    snapshot = np.datetime64(cfg.snapshot_date, "D")
    start_date = month_days(measures.start) + rng.integers(0, 21, len(measures.start)).astype(
        "timedelta64[D]"
    )
    end_date = month_days(measures.end + 1) - np.timedelta64(1, "D")
    # keep contracts that started by the snapshot and overlap the period (or 2 years before)
    keep = (start_date <= snapshot) & (measures.end >= cfg.first_month - 24)
    running = end_date > snapshot
    outcome = np.where(running, 2, np.where(measures.dropped, 1, 0)).astype(np.int8)
    end_date = np.where(running, np.datetime64("NaT"), end_date)
    return MeasureRows(
        measures.person[keep],
        measures.kind[keep],
        start_date[keep],
        end_date[keep],
        outcome[keep],
    )


@dataclass
class PiisRows:
    person: np.ndarray
    piis_type: np.ndarray  # int8 index into PIIS_TYPES
    start_date: np.ndarray
    end_date: np.ndarray  # NaT while running
    outcome: np.ndarray  # int8 index into PIIS_OUTCOMES


def piis_rows(
    rng: np.random.Generator, people: People, spells: Spells, cfg: SynthConfig
) -> PiisRows:
    """A PIIS for new spells (general since Nov 2016; always for students)."""
    k = len(spells.person)
    student = people.student[spells.person]
    has = (student | (rng.random(k) < P_PIIS)) & (spells.start >= cfg.first_month - 12)
    cumw = np.cumsum(_PIIS_TYPE_WEIGHTS)
    other_type = 1 + np.minimum(np.searchsorted(cumw, rng.random(k), side="right"), 2)
    piis_type = np.where(student, 0, other_type).astype(np.int8)
    start_date = month_days(spells.start) + rng.integers(0, 61, k).astype("timedelta64[D]")
    planned = np.where(student, rng.integers(9, 13, k), 12).astype(float)
    failure = rng.random(k) < P_PIIS_FAILURE
    lasted = np.where(failure, planned * rng.uniform(0.2, 0.8, k), planned)
    end_date = start_date + np.round(lasted * 30.44).astype("timedelta64[D]")
    snapshot = np.datetime64(cfg.snapshot_date, "D")
    has &= start_date <= snapshot
    running = end_date > snapshot
    outcome = np.where(running, 2, np.where(failure, 1, 0)).astype(np.int8)
    end_date = np.where(running, np.datetime64("NaT"), end_date)
    return PiisRows(
        spells.person[has], piis_type[has], start_date[has], end_date[has], outcome[has]
    )
