"""Typed privacy parameters (issue 15 item 2): frozen, self-validating, no hidden defaults;
the service policy declares every one of them, cell-key ones included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from primex.catalogue import load_policy
from primex.errors import ConfigError, PrimexError
from primex.requests.conditions import PARAMETERS
from primex.sdc.micro import MicrodataPolicy, MicroProblem, anonymize
from primex.sdc.params import (
    CellKeyPolicy,
    Dominance,
    TablePolicy,
    direction,
    is_looser,
    tighten,
)
from primex.sdc.tables import CellKeyParams, protect_table

POLICY = Path(__file__).resolve().parents[1] / "primex" / "catalogue" / "policy.yaml"


def test_parameters_are_frozen_and_check_themselves() -> None:
    m = MicrodataPolicy(k=5, l=2, max_suppression=0.05)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.k = 3  # type: ignore[misc]
    with pytest.raises(PrimexError, match="k = 1 is outside"):
        MicrodataPolicy(k=1, l=2, max_suppression=0.05)
    with pytest.raises(PrimexError, match="must be an integer"):
        MicrodataPolicy(k=5.5, l=2, max_suppression=0.05)  # type: ignore[arg-type]
    with pytest.raises(PrimexError, match="must be a number"):
        TablePolicy(min_count=True, dominance=Dominance(n=2, k=85), p_percent=10,
                    safety_range=10, min_interval=1)
    with pytest.raises(PrimexError, match=r"js \(3\) cannot exceed D \(2\)"):
        CellKeyPolicy(D=2, V=1.0, js=3)
    with pytest.raises(TypeError):  # no defaults: every parameter is stated
        CellKeyPolicy(D=2, V=1.0)  # type: ignore[call-arg]


def test_the_service_policy_declares_every_parameter_cell_key_included() -> None:
    p = load_policy()
    assert (p.cell_key.D, p.cell_key.V, p.cell_key.js) == (2, 1.0, 2)
    assert isinstance(p.microdata, MicrodataPolicy) and isinstance(p.tables, TablePolicy)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  js: 2\n", "", r"missing \['js'\]"),
    ("  js: 2\n", "  js: 2\n  seed: 7\n", r"unknown \['seed'\]"),
    ("  D: 2\n", "  D: 0\n", "D = 0 is outside"),
])
def test_a_policy_file_missing_or_adding_a_parameter_is_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = POLICY.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_policy(bad)


def test_one_tighten_rule_for_the_policy_and_the_officer() -> None:
    p = load_policy()
    assert direction(p, "microdata.max_suppression") == "smaller"
    assert direction(p, "tables.dominance.n") == "larger"
    assert direction(p, "cell_key.D") == "larger"
    # the officer's command takes its directions from the same definition
    assert PARAMETERS["max_suppression"][1] == "lower" and PARAMETERS["k"][1] == "higher"
    assert PARAMETERS["dominance.k"][1] == "lower"
    assert is_looser("larger", 4, 5) and not is_looser("smaller", 0.01, 0.05)
    tighter = tighten(p, {"cell_key": {"D": 3, "V": 2.0}}, where="t")
    assert tighter.cell_key == CellKeyPolicy(D=3, V=2.0, js=2)
    with pytest.raises(PrimexError, match=r"cell_key.js = 1 \(service minimum 2\)"):
        tighten(p, {"cell_key": {"js": 1}}, where="t")


def test_no_hidden_defaults_at_the_library_boundary() -> None:
    import pandas as pd

    d = pd.DataFrame({"a": list("xxyyzz"), "pid": [f"P{i}" for i in range(6)]})
    with pytest.raises(TypeError, match="max_suppression"):
        anonymize(d, ["a"], {}, 2)  # type: ignore[call-arg]
    with pytest.raises(PrimexError, match="no table rules given"):
        protect_table(d, ["a"])
    with pytest.raises(PrimexError, match="missing"):
        CellKeyParams.parse({"key": b"k" * 32, "D": 2})


def test_micro_problem_checks_the_roles_once() -> None:
    import pandas as pd

    d = pd.DataFrame({"age": [20, 30, 40], "sex": ["F", "M", "F"], "w": [1.0, 2.0, 3.0]})
    with pytest.raises(PrimexError, match="both key and sensitive"):
        MicroProblem.of(d, ["age", "sex"], sensitive=["sex"])
    with pytest.raises(PrimexError, match="not in the data"):
        MicroProblem.of(d, ["age"], weight="weight")
    problem = MicroProblem.of(d, ["age", "sex"], weight="w")
    assert problem.risk().n == 3
