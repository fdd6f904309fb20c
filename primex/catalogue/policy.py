"""The service's disclosure minimums (policy.yaml) and the rule that requests only tighten.

Privacy parameters are explicit objects checked at the API boundary (the Tumult style): a
request that asks for k = 3 when the service minimum is 5 is refused with a clear error,
never silently raised or lowered.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from primex.errors import ConfigError, PrimexError

POLICY_PATH = Path(__file__).with_name("policy.yaml")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MicrodataPolicy(_Frozen):
    k: int = Field(ge=2)
    l: int = Field(ge=1)  # noqa: E741 - the l of l-diversity
    max_suppression: float = Field(ge=0, le=1)


class Dominance(_Frozen):
    n: int = Field(ge=1)
    k: float = Field(gt=0, le=100)


class TablePolicy(_Frozen):
    min_count: int = Field(ge=1)
    dominance: Dominance
    p_percent: float = Field(gt=0, le=100)


class SyntheticPolicy(_Frozen):
    """Limits for synthetic releases, as excesses over a real holdout's own values
    (see primex.sdc.synthetic.evaluate). Smaller is tighter for all four."""

    max_identical_all_excess: float = Field(ge=0, le=1)
    max_unique_match_excess: float = Field(ge=0, le=1)
    max_closer_to_train: float = Field(ge=0, le=1)
    max_cap_excess: float = Field(ge=0, le=1)


class Policy(_Frozen):
    version: int = 1
    microdata: MicrodataPolicy
    tables: TablePolicy
    synthetic: SyntheticPolicy

    def tighten(self, overrides: dict[str, Any] | None = None, *, where: str = "request") -> Policy:
        """A copy with `overrides` applied, refusing anything looser than this policy.

        `overrides` uses the YAML's nesting: {"microdata": {"k": 10}, "tables":
        {"dominance": {"n": 3}}}. Each name is checked in its own direction (k, l, min_count,
        dominance n, p_percent: larger is tighter; max_suppression, dominance k: smaller).
        """
        if not overrides:
            return self
        merged = self.model_dump()
        looser: list[str] = []

        def apply(base: dict[str, Any], new: dict[str, Any], path: str) -> None:
            for key, value in new.items():
                name = f"{path}.{key}" if path else key
                if key not in base or name == "version":
                    raise PrimexError(
                        f"unknown disclosure parameter {name!r}",
                        where=where,
                        hint="see primex/catalogue/policy.yaml for the parameter names",
                    )
                if isinstance(base[key], dict):
                    if not isinstance(value, dict):
                        raise PrimexError(f"{name} must be a mapping", where=where)
                    apply(base[key], value, name)
                    continue
                if name in _SMALLER_IS_TIGHTER:
                    if value > base[key]:
                        looser.append(f"{name} = {value} (service maximum {base[key]})")
                elif value < base[key]:
                    looser.append(f"{name} = {value} (service minimum {base[key]})")
                base[key] = value

        apply(merged, overrides, "")
        if looser:
            raise PrimexError(
                "disclosure parameters looser than the service policy: " + "; ".join(looser),
                where=where,
                hint="a request may only tighten the minimums of policy.yaml",
            )
        try:
            return Policy.model_validate(merged)
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise PrimexError(f"{field}: {err['msg']}", where=where) from None


_SMALLER_IS_TIGHTER = {
    "microdata.max_suppression",
    "tables.dominance.k",
    "synthetic.max_identical_all_excess",
    "synthetic.max_unique_match_excess",
    "synthetic.max_closer_to_train",
    "synthetic.max_cap_excess",
}


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
        return Policy.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"disclosure policy field {field}: {err['msg']}",
            where=path,
            hint="fix policy.yaml",
        ) from None


def load_policy(path: str | Path | None = None) -> Policy:
    """The service's disclosure minimums (validated, cached)."""
    return _load(str(Path(path or POLICY_PATH).resolve()))
