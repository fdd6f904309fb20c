"""Primary suppression rules and the protection level each one demands.

One convention for all tables (sdcTable's operators for the magnitude rules, ACRO-style
"publish iff" wording for the threshold), written so that every rule reads "publish iff ...":

* ``min_count: t``            publish iff count >= t (so sdcTable's ``freq(maxN=2)`` is t = 3,
  ACRO's ``safe_threshold: 10`` is t = 10). Empty cells (count 0) are never primary.
* ``dominance: {n, k}``       publish iff x1 + ... + xn <= k/100 * T (unsafe when strictly above;
  sdcTable's ``nk``; ACRO flags at >=, so its 0.90 is slightly stricter at the boundary).
* ``p_percent: p``            publish iff T - x1 - x2 >= p/100 * x1 (sdcTable's ``p``; a cell whose
  contributions are all 0 is safe).

T is the cell total, x1 >= x2 >= ... the contributions (one record = one contributor, weights
multiply the contribution). Dominance and p% apply to magnitude tables only and to cells with
count >= 1. Empty cells are published as structural zeros (status ``z``, sdcTable's default),
so they are never used as secondary suppressions either.

Protection levels (how wide the attacker's interval [low, up] around the true value x must be):

* p%:        upl = lpl = p/100 * x1 - (T - x1 - x2)           (Hundepool et al., 2012, §4.2)
* dominance: upl = lpl = 100/k * (x1 + ... + xn) - T
* threshold, frequency table: up >= t (the attacker cannot tell the cell from a publishable
  one): upl = t - x; from below the cell must not be pinned either (lpl = min_interval).
* threshold, magnitude table: upl = lpl = safety_range/100 * x (tau-Argus' "frequency safety
  range", TablePolicy.safety_range; tau-Argus' default is 10 %).

A cell hit by several rules needs the largest level; every primary needs at least
``min_interval`` (TablePolicy.min_interval, policy.yaml: 1 unit) each way, so no primary is
ever exactly disclosed. Both levels are stated by the caller: there is no default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from primex.errors import PrimexError
from primex.sdc.params import TablePolicy
from primex.sdc.tables.build import Table

_LEVELS = ("safety_range", "min_interval")
_KNOWN = {"min_count", "dominance", "p_percent", *_LEVELS}


@dataclass(frozen=True, kw_only=True)
class Rules:
    min_count: int | None = None
    dominance_n: int | None = None
    dominance_k: float | None = None
    p_percent: float | None = None
    # protection levels: no default, the caller states them (TablePolicy, policy.yaml)
    safety_range: float
    min_interval: float

    @property
    def n_top(self) -> int:
        return max(2, self.dominance_n or 0)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in asdict(self).items() if v is not None}
        out["convention"] = {
            "min_count": "publish iff count >= min_count",
            "dominance": "publish iff sum of the n largest contributions <= k% of the total",
            "p_percent": "publish iff total - x1 - x2 >= p% of x1",
        }
        return out

    @classmethod
    def parse(cls, rules: dict[str, Any] | Rules | TablePolicy | None) -> Rules:
        if isinstance(rules, Rules):
            return rules
        if isinstance(rules, TablePolicy):
            rules = rules.rules()
        if rules is None:  # no hidden threshold: the caller states its rules
            raise PrimexError("no table rules given", where="rules",
                              hint='pass a TablePolicy or e.g. {"min_count": 10}')
        if not isinstance(rules, dict):
            raise PrimexError("rules must be a mapping", where="rules",
                              hint='e.g. {"min_count": 10, "p_percent": 10}')
        unknown = set(rules) - _KNOWN
        if unknown:
            raise PrimexError(
                f"unknown rule(s) {sorted(unknown)}", where="rules",
                hint=f"known rules: {sorted(_KNOWN)}",
            )
        if not rules.keys() & {"min_count", "dominance", "p_percent"}:
            raise PrimexError("no primary rule given", where="rules",
                              hint="give at least min_count, dominance or p_percent")

        def num(key: str, v: Any, lo: float, hi: float, integer: bool = False) -> float:
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            if not ok or not (lo <= v <= hi) or (integer and int(v) != v):
                kind = "an integer" if integer else "a number"
                raise PrimexError(f"must be {kind} in [{lo:g}, {hi:g}], got {v!r}",
                                  where=f"rules.{key}")
            return v

        mc = rules.get("min_count")
        dn = dk = None
        if "dominance" in rules:
            dom = rules["dominance"]
            if not isinstance(dom, dict) or set(dom) != {"n", "k"}:
                raise PrimexError("dominance needs exactly n and k", where="rules.dominance",
                                  hint='e.g. {"n": 2, "k": 85}')
            dn = int(num("dominance.n", dom["n"], 1, 50, integer=True))
            dk = float(num("dominance.k", dom["k"], 1e-9, 100))
        pp = rules.get("p_percent")
        min_count = None if mc is None else int(num("min_count", mc, 1, 1e9, integer=True))
        p_percent = None if pp is None else float(num("p_percent", pp, 1e-9, 100))
        levels = [key for key in _LEVELS if key not in rules]
        if levels:
            raise PrimexError(
                f"no {' or '.join(levels)} given (the audit's protection levels)",
                where=f"rules.{levels[0]}",
                hint="pass the service's TablePolicy (policy.yaml tables) or state them, "
                'e.g. {"safety_range": 10, "min_interval": 1}')
        return cls(
            min_count=min_count,
            dominance_n=dn,
            dominance_k=dk,
            p_percent=p_percent,
            safety_range=float(num("safety_range", rules["safety_range"], 0, 100)),
            min_interval=float(num("min_interval", rules["min_interval"], 0, 1e18)),
        )


@dataclass
class Primary:
    """Result of the primary rules: which cells, why, and the protection they need."""

    unsafe: np.ndarray  # bool per cell
    empty: np.ndarray  # bool per cell (status z)
    reasons: np.ndarray  # object: comma-joined rule names, "" when safe
    upl: np.ndarray  # upper protection level per cell (0 when safe)
    lpl: np.ndarray  # lower protection level per cell (0 when safe)


def apply_rules(table: Table, rules: Rules) -> Primary:
    v, c, top = table.value, table.count, table.top
    n = v.size
    empty = c == 0
    upl = np.zeros(n)
    lpl = np.zeros(n)
    flags: list[tuple[str, np.ndarray]] = []
    if rules.min_count is not None:
        hit = (c >= 1) & (c < rules.min_count)
        flags.append(("min_count", hit))
        if table.magnitude:
            lvl = rules.safety_range / 100.0 * np.abs(v)
            upl = np.where(hit, np.maximum(upl, lvl), upl)
            lpl = np.where(hit, np.maximum(lpl, lvl), lpl)
        else:
            upl = np.where(hit, np.maximum(upl, rules.min_count - v), upl)
    if table.magnitude and rules.dominance_n is not None:
        assert rules.dominance_k is not None
        s = top[:, : rules.dominance_n].sum(axis=1)
        hit = (c >= 1) & (s > rules.dominance_k / 100.0 * v)
        flags.append(("dominance", hit))
        lvl = 100.0 / rules.dominance_k * s - v
        upl = np.where(hit, np.maximum(upl, lvl), upl)
    if table.magnitude and rules.p_percent is not None:
        x1, x2 = top[:, 0], top[:, 1]
        rest = v - x1 - x2
        hit = (c >= 1) & (rest < rules.p_percent / 100.0 * x1)
        flags.append(("p_percent", hit))
        lvl = rules.p_percent / 100.0 * x1 - rest
        upl = np.where(hit, np.maximum(upl, lvl), upl)
    unsafe = np.zeros(n, dtype=bool)
    for _, hit in flags:
        unsafe |= hit
    reasons = np.full(n, "", dtype=object)
    for name, hit in flags:
        reasons[hit] = np.where(reasons[hit] == "", name, reasons[hit] + "," + name)
    upl = np.where(unsafe, np.maximum(upl, rules.min_interval), 0.0)
    # The attacker can never push a non-negative cell below 0: cap the lower level at x.
    lpl = np.where(unsafe, np.minimum(np.maximum(lpl, rules.min_interval), np.abs(v)), 0.0)
    return Primary(unsafe=unsafe, empty=empty, reasons=reasons, upl=upl, lpl=lpl)
