"""Every privacy parameter is a field of a typed, frozen policy object that policy.yaml
declares (issue 15 #2): the table audit's protection levels and the perturbation parameters
included; nothing is filled in from a default in code."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from primex.catalogue import Policy, load_policy
from primex.errors import ConfigError, PrimexError
from primex.sdc import params as params_mod
from primex.sdc.micro import perturb
from primex.sdc.params import Params, PerturbationPolicy, TablePolicy
from primex.sdc.tables import build_table
from primex.sdc.tables.cellkey import cellkey_ptable
from primex.sdc.tables.primary import Rules, apply_rules

POLICY = Path(__file__).resolve().parents[1] / "primex" / "catalogue" / "policy.yaml"


def _leaves(cls: type[Params], prefix: str = "") -> list[str]:
    """Dotted names of every parameter of `cls`, nested policy objects walked into."""
    out: list[str] = []
    for f in dataclasses.fields(cls):
        nested = params_mod._TYPES.get(str(f.type))
        out += _leaves(nested, f"{prefix}{f.name}.") if nested else [f"{prefix}{f.name}"]
    return out


def _reachable(cls: type[Params]) -> set[type[Params]]:
    found = {cls}
    for f in dataclasses.fields(cls):
        nested = params_mod._TYPES.get(str(f.type))
        if nested:
            found |= _reachable(nested)
    return found


def _lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        assert isinstance(data, dict) and part in data, f"policy.yaml does not declare {dotted}"
        data = data[part]
    return data


def test_every_parameter_of_every_policy_class_is_declared_in_policy_yaml() -> None:
    raw = YAML(typ="safe").load(POLICY.read_text(encoding="utf-8"))
    leaves = _leaves(Policy)
    # the audit's protection levels and the perturbation parameters are among them
    assert {"tables.safety_range", "tables.min_interval", "perturbation.mdav_k",
            "perturbation.noise", "perturbation.pram_pd", "perturbation.pram_alpha",
            "perturbation.pram_invariant"} <= set(leaves)
    for dotted in leaves:
        _lookup(raw, dotted)
    # every policy class of the library is part of the service policy, and none has a default
    library = {c for c in vars(params_mod).values()
               if isinstance(c, type) and issubclass(c, Params) and c is not Params}
    assert library <= _reachable(Policy), library - _reachable(Policy)
    for cls in _reachable(Policy):
        defaulted = [f.name for f in dataclasses.fields(cls)
                     if f.default is not dataclasses.MISSING
                     or f.default_factory is not dataclasses.MISSING]
        assert not defaulted, f"{cls.__name__} has defaults: {defaulted}"
    loaded = load_policy()
    assert (loaded.tables.safety_range, loaded.tables.min_interval) == (10, 1)
    assert loaded.perturbation == PerturbationPolicy(
        mdav_k=3, noise=150, pram_pd=0.8, pram_alpha=0.5, pram_invariant=True)  # sdcMicro's


@pytest.mark.parametrize("dotted", _leaves(Policy))
def test_a_parameter_missing_from_policy_yaml_is_one_line_naming_it(
    tmp_path: Path, dotted: str
) -> None:
    raw = YAML(typ="safe").load(POLICY.read_text(encoding="utf-8"))
    *parents, name = dotted.split(".")
    holder = _lookup(raw, ".".join(parents)) if parents else raw
    del holder[name]
    bad = tmp_path / "policy.yaml"
    with bad.open("w", encoding="utf-8") as fh:
        YAML(typ="safe").dump(raw, fh)
    with pytest.raises(ConfigError) as caught:
        load_policy(bad)
    line = str(caught.value)
    assert "\n" not in line
    assert f"missing ['{name}']" in line and str(bad) in line
    assert "hint: declare exactly" in line


def test_the_audit_takes_its_protection_levels_from_the_policy_object() -> None:
    # One threshold cell of a magnitude table (value 1000, 3 contributors < min_count 10):
    # tau-Argus' frequency safety range asks the attacker's interval to reach
    # safety_range % of the value each way.
    micro = pd.DataFrame({"g": ["x"] * 3 + ["y"] * 30, "v": [400.0, 350.0, 250.0] + [1.0] * 30})
    table = build_table(micro, ["g"], "v", n_top=3)
    i = int(np.flatnonzero(table.frame().g == "x")[0])
    base = load_policy().tables
    for safety in (10, 30):
        policy = dataclasses.replace(base, safety_range=safety)
        primary = apply_rules(table, Rules.parse(policy))
        assert primary.unsafe[i]
        assert primary.upl[i] == pytest.approx(safety / 100 * 1000)
    with pytest.raises(PrimexError, match=r"TablePolicy.safety_range.*safety_range = 120"):
        dataclasses.replace(base, safety_range=120)


def test_rules_without_protection_levels_are_refused_not_defaulted() -> None:
    with pytest.raises(PrimexError, match="no safety_range or min_interval given") as caught:
        Rules.parse({"min_count": 10})
    assert "TablePolicy" in str(caught.value)  # the fix: pass the service's TablePolicy
    with pytest.raises(PrimexError, match="no min_interval given"):
        Rules.parse({"min_count": 10, "safety_range": 10})
    with pytest.raises(TypeError):
        TablePolicy(min_count=10, dominance=load_policy().tables.dominance,  # type: ignore
                    p_percent=10)


def test_perturbation_functions_take_every_parameter_explicitly() -> None:
    """The perturbation methods and the cell-key table default none of their parameters."""
    for fn, names in [(perturb.microaggregate, {"k"}),
                      (perturb.add_noise, {"noise", "method", "seed"}),
                      (perturb.pram, {"pd_min", "alpha", "invariant", "seed"}),
                      (perturb.perturb_variables, {"params", "seed"}),
                      (cellkey_ptable, {"D", "V", "js"})]:
        sig = inspect.signature(fn)
        defaulted = [n for n in names
                     if sig.parameters[n].default is not inspect.Parameter.empty]
        assert not defaulted, f"{fn.__name__} has defaults for {defaulted}"
    with pytest.raises(PrimexError, match=r"PerturbationPolicy.pram_pd.*pram_pd = 1.5"):
        dataclasses.replace(load_policy().perturbation, pram_pd=1.5)


def test_a_perturbation_condition_out_of_range_names_the_condition_and_the_field() -> None:
    from primex.protection.microdata import protect_microdata

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], 200), "amount": rng.normal(900, 50, 200)})
    with pytest.raises(PrimexError) as caught:
        protect_microdata(df, quasi_identifiers=["sex"], k=2, max_suppression=0.05,
                          perturbations=[{"method": "noise", "variables": ["amount"],
                                          "noise": -5}])
    line = str(caught.value)
    assert "perturbations[0]" in line and "PerturbationPolicy.noise" in line
    assert "noise = -5.0 is outside" in line
    out, _ = protect_microdata(df, quasi_identifiers=["sex"], k=2, max_suppression=0.05,
                               perturbations=[{"method": "noise", "variables": ["amount"],
                                               "seed": 1}])
    # policy.yaml's noise (150 % of the sd) was applied: the noise sd is about 1.5 x 50
    assert float((out["amount"] - df["amount"]).std()) == pytest.approx(75, rel=0.2)
