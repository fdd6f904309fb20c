"""One microdata protection problem, built once (sdcMicro's `sdcMicroObj`): the data and the
roles of its variables — key variables (quasi-identifiers), sensitive variables, sampling
weight, household id — checked when it is built, then used by every measure and method."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from primex.errors import PrimexError
from primex.sdc.micro.anonymize import AnonymizationResult, anonymize
from primex.sdc.micro.ldiversity import LDiversity, ldiversity_many
from primex.sdc.micro.risk import MicroRisk, measure_risk
from primex.sdc.params import MicrodataPolicy


@dataclass(frozen=True)
class MicroProblem:
    data: pd.DataFrame
    keys: tuple[str, ...]
    sensitive: tuple[str, ...]
    weight: str | None
    household: str | None

    def __post_init__(self) -> None:
        roles = {"keys": self.keys, "sensitive": self.sensitive}
        if not self.keys:
            raise PrimexError("no key variables (quasi-identifiers) given", where="keys",
                              hint="name the variables an intruder could know")
        for role, names in roles.items():
            if len(set(names)) != len(names):
                raise PrimexError(f"a variable is listed twice in {role}", where=role)
        named = [*self.keys, *self.sensitive, *[v for v in (self.weight, self.household) if v]]
        missing = [v for v in named if v not in self.data.columns]
        if missing:
            raise PrimexError(f"variable(s) {missing!r} not in the data", where="data",
                              hint="check the column names")
        both = sorted(set(self.keys) & set(self.sensitive))
        if both:
            raise PrimexError(f"{both} are both key and sensitive variables", where="sensitive",
                              hint="a sensitive variable is not a quasi-identifier")

    @classmethod
    def of(cls, data: pd.DataFrame, keys: Sequence[str], *, sensitive: Sequence[str] = (),
           weight: str | None = None, household: str | None = None) -> MicroProblem:
        return cls(data, tuple(keys), tuple(sensitive), weight, household)

    def risk(self, alpha: float = 1.0) -> MicroRisk:
        """sdcMicro's measure_risk on the key variables (weights and households included)."""
        return measure_risk(self.data, self.keys, weight=self.weight, hid=self.household,
                            alpha=alpha)

    def anonymize(self, policy: MicrodataPolicy, hierarchies: Mapping[str, Any],
                  importance: Sequence[int] | None = None) -> AnonymizationResult:
        """Optimal generalisation and local suppression to `policy` (k, budget; l on the
        first sensitive variable, the others are measured with `ldiversity`)."""
        first = self.sensitive[0] if self.sensitive else None
        return anonymize(self.data, self.keys, dict(hierarchies), policy.k,
                         max_suppression=policy.max_suppression, sensitive=first,
                         l=policy.l if first else None, weight=self.weight,
                         importance=importance)

    def ldiversity(self, data: pd.DataFrame | None = None) -> dict[str, LDiversity]:
        """Distinct and entropy l-diversity of every sensitive variable (of `data`, e.g. the
        protected file, else of the problem's data)."""
        return ldiversity_many(self.data if data is None else data, list(self.keys),
                               list(self.sensitive))
