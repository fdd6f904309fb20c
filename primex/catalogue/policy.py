"""The service's disclosure minimums (policy.yaml), built from the typed parameters of
`primex.sdc.params`, and the rule that requests and officers only tighten them.

Privacy parameters are explicit objects checked at the API boundary (the Tumult style): a
request that asks for k = 3 when the service minimum is 5 is refused with a clear error,
never silently raised or lowered. policy.yaml declares every parameter — the cell-key ones
included —; a missing or unknown one is refused, nothing comes from a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from primex.errors import ConfigError, PrimexError
from primex.sdc.params import (
    CellKeyPolicy,
    Dominance,
    MicrodataPolicy,
    OutputCheckPolicy,
    Params,
    PerturbationPolicy,
    SyntheticPolicy,
    TablePolicy,
    build,
    register,
    tighten,
)

POLICY_PATH = Path(__file__).with_name("policy.yaml")

__all__ = [
    "POLICY_PATH",
    "CellKeyPolicy",
    "Dominance",
    "MicrodataPolicy",
    "OutputCheckPolicy",
    "PerturbationPolicy",
    "Policy",
    "SyntheticPolicy",
    "TablePolicy",
    "load_policy",
]


@register
@dataclass(frozen=True)
class Policy(Params):
    """The parameters in force: the service minimums, or those tightened for one release."""

    version: int
    microdata: MicrodataPolicy
    tables: TablePolicy
    cell_key: CellKeyPolicy
    perturbation: PerturbationPolicy
    synthetic: SyntheticPolicy
    output_check: OutputCheckPolicy

    def tighten(self, overrides: dict[str, Any] | None = None, *,
                where: str = "request") -> Policy:
        """A copy with `overrides` applied, refusing anything looser than this policy.

        `overrides` uses the YAML's nesting: {"microdata": {"k": 10}, "tables":
        {"dominance": {"n": 3}}}. Each name is checked in its own direction (see
        `primex.sdc.params`: k, l, min_count, dominance n, p_percent, D, V, js: larger is
        tighter; max_suppression, dominance k and the synthetic limits: smaller)."""
        return tighten(self, overrides, where=where)

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        """The parameters as a JSON-ready mapping (recorded in the disclosure report)."""
        return self.as_dict()


@cache
def _load(path: str) -> Policy:
    try:
        data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ConfigError(
            f"cannot read the disclosure policy ({exc})",
            where=path,
            hint="restore primex/catalogue/policy.yaml",
        ) from None
    try:
        return build(Policy, data, where="policy")
    except PrimexError as exc:
        raise ConfigError(
            f"disclosure policy {exc.where}: {exc.what}", where=path,
            hint=exc.hint or "fix policy.yaml") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """The service's disclosure minimums (validated, cached)."""
    return _load(str(Path(path or POLICY_PATH).resolve()))
