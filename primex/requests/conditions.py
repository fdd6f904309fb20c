"""The conditions a privacy officer attaches to an approval (`review approve --conditions`,
and the service's approval route): one definition of what may be set and how.

Conditions are either exactly `NAME=VALUE` for a disclosure parameter of the request's
`disclosure:` block (k, l, max_suppression, min_count, p_percent, dominance.n, dominance.k) or
free text. Free text is never enforced, so a text that contains `=` is refused (it would read
as a parameter that nothing applies): parameters go one per condition, notes are written
without `=`. The `approval` (and each later `amendment`, `review amend`) body then carries::

    "conditions": {"disclosure": {<every parameter, effective value>},
                   "tightened": [<names the officer changed>], "notes": [<free text>]}

Conditions that change the output are enforced too (the protection step applies them) and
recorded in the same body, only when given: `VARIABLE=LEVEL` generalises a variable to a
level of its catalogue hierarchy, at least (`age=age_10y`: "generalise"), `drop=VARIABLE`
removes a variable from the release ("drop"), `priority.VARIABLE=keep|high|normal|low`
overrides the researcher's priority of a microdata key ("priorities").

Every body also carries `"output_checks": N`, the number of different privacy officers who
must approve the protected output (policy.yaml `output_check.checkers`; 2 = four eyes),
pinned at approval so that the log's replay never depends on a later policy file.

The effective value of a parameter is the officer's if given, else the researcher's
proposal, else the service minimum (policy.yaml); each is checked never to be looser than
the service minimum nor than the researcher's proposal; an amendment may besides not loosen
the conditions in force. Which direction is tighter comes from the policy's typed parameters
(`primex.sdc.params`), written once. Canonical JSON has no floats, so a non-integer value is
written as a decimal string ("0.02").
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from primex.catalogue import Policy, load_catalogue, load_policy
from primex.errors import PrimexError
from primex.sdc.params import LARGER, direction, is_looser

# request parameter -> (integer only?, its place in the service policy)
POLICY_NAMES: dict[str, tuple[bool, str]] = {
    "k": (True, "microdata.k"),
    "l": (True, "microdata.l"),
    "max_suppression": (False, "microdata.max_suppression"),
    "min_count": (True, "tables.min_count"),
    "p_percent": (False, "tables.p_percent"),
    "dominance.n": (True, "tables.dominance.n"),
    "dominance.k": (False, "tables.dominance.k"),
}
# parameter -> (integer only?, stricter direction)
PARAMETERS: dict[str, tuple[bool, str]] = {
    name: (integer, "higher" if direction(Policy, path) == LARGER else "lower")
    for name, (integer, path) in POLICY_NAMES.items()
}
# The parameters each output kind's protection applies (primex.protection.step): min_count
# on a microdata request, or k on a table request, would be a condition nothing enforces.
# Synthetic output is judged by its own thresholds (policy.yaml `synthetic`), none of these.
APPLIES: dict[str, frozenset[str]] = {
    "microdata": frozenset({"k", "l", "max_suppression"}),
    "tables": frozenset({"min_count", "p_percent", "dominance.n", "dominance.k"}),
    "synthetic": frozenset(),
}
# `priority.VARIABLE=...` weighs the microdata generalisation search only
PRIORITY_KINDS = frozenset({"microdata"})
# What each parameter can mean (the disclosure steps' own limits); outside them a value is a
# typo, and a huge exponent like k=1e999999 would also stall the canonical JSON encoding.
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "k": (Decimal(1), Decimal(10**9)),
    "l": (Decimal(1), Decimal(10**9)),
    "max_suppression": (Decimal(0), Decimal(1)),
    "min_count": (Decimal(1), Decimal(10**9)),
    "p_percent": (Decimal("1e-9"), Decimal(100)),
    "dominance.n": (Decimal(1), Decimal(10**9)),
    "dominance.k": (Decimal("1e-9"), Decimal(100)),
}
_ASSIGNMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)")


def _number(text: str, name: str, integer: bool) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or (integer and value != value.to_integral_value()):
        kind = "an integer" if integer else "a number"
        raise PrimexError(
            f"condition {name}={text!r} is not {kind}", where="--conditions",
            hint=f"e.g. --conditions {name}={'10' if integer else '0.02'}",
        )
    low, high = RANGES[name]
    if not low <= value <= high or (value and value.normalize().as_tuple().exponent < -9):
        raise PrimexError(
            f"condition {name}={text.strip()} is not in {low}..{high} with at most 9 "
            "decimals", where="--conditions",
            hint=f"e.g. --conditions {name}={'10' if integer else '0.02'}",
        )
    return value


def json_number(value: Decimal) -> int | str:
    """Canonical JSON carries no floats: integers stay integers, others become "0.02"."""
    if value == value.to_integral_value():
        return int(value)
    return format(value.normalize(), "f")


def service_minimums() -> dict[str, Decimal]:
    p = load_policy()
    return {
        "k": Decimal(p.microdata.k),
        "l": Decimal(p.microdata.l),
        "max_suppression": Decimal(str(p.microdata.max_suppression)),
        "min_count": Decimal(p.tables.min_count),
        "p_percent": Decimal(str(p.tables.p_percent)),
        "dominance.n": Decimal(p.tables.dominance.n),
        "dominance.k": Decimal(str(p.tables.dominance.k)),
    }


def proposed_parameters(disclosure: Any) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for name in PARAMETERS:
        node = disclosure
        for part in name.split("."):
            node = getattr(node, part, None) if node is not None else None
        if node is not None:
            out[name] = Decimal(str(node))
    return out


def _looser(name: str, value: Decimal, than: Decimal) -> bool:
    return is_looser(direction(Policy, POLICY_NAMES[name][1]), value, than)


PRIORITIES = ("keep", "high", "normal", "low")
# Weight of a QI's information loss in the generalisation search, per priority (like
# sdcMicro's importance and ARX's attribute weights: relative, only the ratios matter). The
# pre-assessment ranks its suggestions with the same weights as the protection step.
PRIORITY_WEIGHTS: dict[str, float] = {"keep": 4.0, "high": 2.0, "normal": 1.0, "low": 0.5}


def _output_condition(name: str, text: str, output: dict[str, Any]) -> bool:
    """Record a generalise / drop / priority condition; False if `name` is none of them."""
    cat = load_catalogue()
    if name == "drop":
        if text not in cat:
            raise PrimexError(f"drop={text}: not a catalogue variable", where="--conditions",
                              hint="e.g. --conditions drop=nationality_group")
        output.setdefault("drop", []).append(text)
        return True
    if name.startswith("priority."):
        var = name.removeprefix("priority.")
        if var not in cat or text not in PRIORITIES:
            raise PrimexError(f"condition {name}={text}: expected priority.VARIABLE=one of "
                              f"{', '.join(PRIORITIES)}", where="--conditions",
                              hint="e.g. --conditions priority.age=keep")
        output.setdefault("priorities", {})[var] = text
        return True
    if name in cat and name not in PARAMETERS:
        hierarchy = cat.get(name).hierarchy
        levels = list(hierarchy.levels[1:-1]) if hierarchy is not None else []
        if text not in levels:
            raise PrimexError(
                f"condition {name}={text}: not a level of {name}'s hierarchy below its total",
                where="--conditions",
                hint=(f"one of {', '.join(levels)}" if levels else
                      f"{name} has no intermediate level; use drop={name} to remove it"))
        output.setdefault("generalise", {})[name] = text
        return True
    return False


def check_applies(items: list[str], kind: str) -> None:
    """Refuse a parameter or priority condition that the request's output kind does not
    use (the portal offers only those that apply; a hand-made call may still send one)."""
    for item in items:
        match = _ASSIGNMENT.fullmatch(item)
        if match is None:
            continue
        name = match.group(1)
        applies = sorted(APPLIES.get(kind, ()), key=list(PARAMETERS).index)
        if name in PARAMETERS and name not in APPLIES.get(kind, ()):
            raise PrimexError(
                f"condition {name} does not apply to {kind} output: nothing would enforce it",
                where="--conditions",
                hint=(f"{kind} output takes {', '.join(applies)}" if applies else
                      f"{kind} output takes no disclosure parameter") + "; or write a note")
        if name.startswith("priority.") and kind not in PRIORITY_KINDS:
            raise PrimexError(
                f"condition {name} does not apply to {kind} output: priorities weigh the "
                "generalisation of microdata only", where="--conditions",
                hint="use VARIABLE=LEVEL or drop=VARIABLE")


def build_conditions(
    items: list[str], proposed: dict[str, Decimal], minimums: dict[str, Decimal]
) -> dict[str, Any]:
    """The approval's `conditions` from `--conditions` items (see the module docstring)."""
    officer: dict[str, Decimal] = {}
    output: dict[str, Any] = {}
    notes: list[str] = []
    for item in items:
        match = _ASSIGNMENT.fullmatch(item)
        if match is None:
            if "=" in item:
                shown = item.strip() if len(item.strip()) <= 60 else item.strip()[:57] + "..."
                raise PrimexError(
                    f"condition {shown!r} contains '=' but is not one NAME=VALUE parameter: "
                    "it would be kept as text that nothing enforces", where="--conditions",
                    hint="give each parameter as its own --conditions NAME=VALUE "
                    f"({', '.join(PARAMETERS)}, VARIABLE=LEVEL, drop=VARIABLE, "
                    "priority.VARIABLE=keep); write free-text conditions without '='")
            if item.strip():
                notes.append(item.strip())
            continue
        name, text = match.groups()
        if _output_condition(name, text.strip(), output):
            continue
        if name not in PARAMETERS:
            raise PrimexError(
                f"unknown disclosure parameter {name!r} in --conditions", where="--conditions",
                hint=f"one of {', '.join(PARAMETERS)}, a catalogue VARIABLE=LEVEL, "
                "drop=VARIABLE or priority.VARIABLE=keep; free-text conditions contain no '='",
            )
        if name in officer:
            raise PrimexError(f"{name} is given twice", where="--conditions")
        officer[name] = _number(text, name, PARAMETERS[name][0])
    problems = []
    effective: dict[str, Decimal] = {}
    for name in PARAMETERS:
        base = proposed.get(name, minimums[name])
        if _looser(name, base, minimums[name]):  # a spec validated before a policy change
            base = minimums[name]
        value = officer.get(name, base)
        if _looser(name, value, minimums[name]):
            problems.append(f"{name}={value} is looser than the service minimum {minimums[name]}")
        elif _looser(name, value, base):
            problems.append(f"{name}={value} is looser than the researcher's proposal {base}")
        effective[name] = value
    if problems:
        raise PrimexError(
            "conditions may only tighten: " + "; ".join(problems), where="--conditions",
            hint="k, l, min_count, p_percent, dominance.n: higher is tighter; "
            "max_suppression, dominance.k: lower is tighter",
        )
    nested: dict[str, Any] = {}
    for name, value in effective.items():
        head, _, tail = name.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = json_number(value)
        else:
            nested[name] = json_number(value)
    # four eyes (contract C6): how many officers check the output, pinned in the signed
    # approval so that the log's replay never depends on a later policy.yaml
    checks = load_policy().output_check.checkers
    return {"disclosure": nested, "tightened": sorted(officer), "notes": notes,
            "output_checks": checks, **output}


def conditions_for(items: list[str], spec: Any) -> dict[str, Any]:
    """The `conditions` body of an approval or amendment of `spec` from `--conditions`
    items: refused first when one does not apply to the request's output kind
    (`check_applies`), then built against the researcher's proposal and the service
    minimums. `review approve`, `review amend` and the service's approval route share it."""
    check_applies(items, spec.output.kind)
    return build_conditions(items, proposed_parameters(spec.disclosure), service_minimums())


def flat_parameters(disclosure: dict[str, Any]) -> dict[str, Decimal]:
    """{"dominance": {"n": 3}} -> {"dominance.n": Decimal(3)} (decimal strings included)."""
    out: dict[str, Decimal] = {}
    for name in PARAMETERS:
        head, _, tail = name.partition(".")
        value = disclosure.get(head)
        value = value.get(tail) if tail and isinstance(value, dict) else value
        if isinstance(value, int | str) and not isinstance(value, bool):
            try:
                out[name] = Decimal(str(value))
            except InvalidOperation:
                continue
    return out


def check_amendment(in_force: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """An amendment may only tighten the conditions in force (both `conditions` bodies)."""
    current = flat_parameters((in_force or {}).get("disclosure") or {})
    problems = [
        f"{name}={json_number(value)} is looser than the {json_number(current[name])} in force"
        for name, value in flat_parameters(new["disclosure"]).items()
        if name in current and _looser(name, value, current[name])
    ]
    before = (in_force or {}).get("output_checks", 1)
    if isinstance(before, int) and new.get("output_checks", 1) < before:
        problems.append(f"output_checks={new.get('output_checks', 1)} is fewer than the "
                        f"{before} in force")
    if problems:
        raise PrimexError(
            "an amendment may only tighten the conditions in force: " + "; ".join(problems),
            where="--conditions", hint="repeat every condition that stays, tightened or equal")


def parameters_in_force(conditions: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(name, value, tightened by the officer) of every disclosure parameter of an approval
    or amendment, dotted names (`dominance.k`) read from the nested `disclosure` body; the
    value is None for a parameter the body lacks."""
    tightened = set(conditions.get("tightened") or [])
    disclosure = conditions.get("disclosure") or {}
    out = []
    for name in PARAMETERS:
        head, _, tail = name.partition(".")
        value = disclosure.get(head)
        value = value.get(tail) if tail and isinstance(value, dict) else value
        out.append((name, value, name in tightened))
    return out


def describe_conditions(conditions: dict[str, Any]) -> str:
    """The conditions of an approval or amendment in the CLI's own words (`k=6`,
    `age=age_10y`, `drop=category`), for the request's history in `request status` and the
    portal: never a Python or JSON dump of the log entry's body."""
    parts = [f"{name}={value}" + (" (tightened)" if tightened else "")
             for name, value, tightened in parameters_in_force(conditions) if value is not None]
    parts += [f"{var}={level}" for var, level in (conditions.get("generalise") or {}).items()]
    parts += [f"drop={var}" for var in conditions.get("drop") or []]
    parts += [f"priority.{var}={p}" for var, p in (conditions.get("priorities") or {}).items()]
    checks = conditions.get("output_checks", 1)
    if isinstance(checks, int) and checks > 1:
        parts.append(f"four eyes: {checks} different officers check the output")
    text = ", ".join(parts)
    notes = [str(n) for n in conditions.get("notes") or []]
    if notes:
        text += ("; " if text else "") + "notes: " + " / ".join(notes)
    return text
