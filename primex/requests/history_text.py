"""What each entry of a request's history says (`request status`, the portal's timeline),
as phrases (`primex.audit.phrases`) keyed by event kind, and the English catalogue the CLI
prints them with. The portal has the same keys in French and Dutch.

Parameters that are the officer's own notation (`k=6`, `age=age_10y`, `drop=category`,
`priority.region=low`) and text from the log (reasons, notes) are the same in every
language; only the words around them are in the catalogue."""

from __future__ import annotations

from typing import Any

from primex.audit.phrases import Phrase, Text, phrase, render
from primex.requests.conditions import parameters_in_force

EN: dict[str, str] = {
    "history.submission": "spec sha256 {sha256}…",
    "history.conditions": "conditions: {conditions}",
    "history.no_conditions": "no extra conditions",
    "history.decision.approve": "decision: approve",
    "history.decision.return": "decision: return",
    "history.decision": "decision: {decision}",  # a decision the log does not know
    "history.passed": "passed",
    "history.not_passed": "not passed",
    "conditions.tightened": "{condition} (tightened)",
    "conditions.four_eyes": "four eyes: {checkers} different officers check the output",
    "conditions.with_notes": "{conditions}; notes: {notes}",
    "conditions.notes": "notes: {notes}",
}


def condition_phrase(conditions: dict[str, Any]) -> Text:
    """The conditions of an approval or amendment, in the words of `describe_conditions`
    (tests/test_portal_i18n_history.py checks that the English is the same)."""
    parts: list[Text] = []
    for name, value, tightened in parameters_in_force(conditions):
        if value is not None:
            text = f"{name}={value}"
            parts.append(phrase("conditions.tightened", condition=text) if tightened else text)
    parts += [f"{var}={level}" for var, level in (conditions.get("generalise") or {}).items()]
    parts += [f"drop={var}" for var in conditions.get("drop") or []]
    parts += [f"priority.{var}={p}" for var, p in (conditions.get("priorities") or {}).items()]
    checks = conditions.get("output_checks", 1)
    if isinstance(checks, int) and checks > 1:
        parts.append(phrase("conditions.four_eyes", checkers=checks))
    notes = " / ".join(str(n) for n in conditions.get("notes") or [])
    if notes and parts:
        return phrase("conditions.with_notes", conditions=parts, notes=notes)
    if notes:
        return phrase("conditions.notes", notes=notes)
    return parts  # a list renders joined by ", "


def history_phrase(entry: Any) -> Text:
    """The details of one history entry ("" when there is nothing to add)."""
    body = entry.body if isinstance(entry.body, dict) else {}
    if entry.type in ("return", "rejection"):
        reasons = body.get("reasons")
        if isinstance(reasons, list):
            return "; ".join(str(r) for r in reasons)
        return str(reasons or "")
    if entry.type in ("approval", "amendment"):
        conditions = body.get("conditions") or {}
        described = condition_phrase(conditions) if isinstance(conditions, dict) else ""
        if described:
            return phrase("history.conditions", conditions=described)
        return phrase("history.no_conditions")
    if entry.type == "submission":
        return phrase("history.submission", sha256=str(body.get("spec_sha256", ""))[:16])
    if entry.type == "output_check":
        decision = body.get("decision")
        if decision in ("approve", "return"):
            return phrase(f"history.decision.{decision}")
        return phrase("history.decision", decision=str(decision))
    if entry.type == "disclosure_result":
        return phrase("history.passed" if body.get("passed") else "history.not_passed")
    return ""


def summary(entry: Any, words: dict[str, str] | None = None) -> str:
    """One entry's details in the language of `words` (English by default)."""
    return render(history_phrase(entry), words or EN)


__all__ = ["EN", "Phrase", "condition_phrase", "history_phrase", "summary"]
