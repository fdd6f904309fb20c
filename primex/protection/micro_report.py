# ruff: noqa: E501  (the Markdown template below has long table rows)
"""The microdata disclosure report: JSON for machines, Markdown and HTML for the privacy officer.

The prose explains each number in plain words; the tables keep every figure an SDC expert
needs (sdcMicro vocabulary: fk, k-anonymity violations, expected re-identifications).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2

import primex
from primex.sdc.micro.anonymize import AnonymizationResult
from primex.sdc.micro.risk import MicroRisk


def risk_report(risk: MicroRisk, *, now: str | None = None) -> dict[str, Any]:
    """Report of a risk measurement alone (no protection applied)."""
    return {
        "kind": "microdata-risk",
        "code_version": primex.__version__,
        "generated_at": now or datetime.now(UTC).isoformat(timespec="seconds"),
        "risk": risk.summary(),
    }


def build_report(result: AnonymizationResult, perturbations: list[dict[str, Any]] | None = None,
                 *, request_id: str | None = None, now: str | None = None) -> dict[str, Any]:
    """The full disclosure report of one protection run (JSON-ready)."""
    rep = result.report()
    rep.update({
        "kind": "microdata-protection",
        "request_id": request_id,
        "code_version": primex.__version__,
        "generated_at": now or datetime.now(UTC).isoformat(timespec="seconds"),
        "n_records": result.risk_before.n,
        "perturbations": list(perturbations or []),
        "suppression_reason": (
            "After generalisation, these records still shared their combination of "
            "quasi-identifiers with fewer than k records. The fewest, least important values "
            "were blanked (a blank matches any value, sdcMicro's convention) so that each "
            "such record is indistinguishable from at least k records."),
    })
    return rep


_MD = """\
# Disclosure report — microdata{% if r.request_id %} ({{ r.request_id }}){% endif %}

**Verdict: {{ "PASSED" if r.passed else "NOT PASSED" }}**{% if not r.passed %} — {{ r.reasons | join("; ") }}{% endif %}

{% if r.get("notices") %}## Variables removed

{% for line in r.get("notices") %}* {{ line }}
{% endfor %}
{% endif %}{% if r.get("released_as") %}## Columns named after the level they hold

{% for q, name in r.get("released_as").items() %}* `{{ q }}` (requested) is released as `{{ name }}`.
{% endfor %}
{% endif %}## In plain words

The file has {{ r.n_records }} records. Someone who knows a person's
{{ r.parameters.quasi_identifiers | join(", ") }} could single that person out when fewer
than {{ r.parameters.k }} records share the same combination.
Before protection **{{ r.kanon_violations_before }}** records were in that situation;
after protection **{{ r.kanon_violations_after }}** are.
The expected number of correct re-identifications (sdcMicro's global risk) went from
{{ "%.4f" | format(r.risk_before.global_risk_ER) }} to {{ "%.4f" | format(r.risk_after.global_risk_ER) }}.
{% if r.records_suppressed %}{{ r.records_suppressed }} records ({{ "%.2f" | format(100 * r.records_suppressed / r.n_records) }} %) had
{{ r.values_suppressed }} values blanked in total; the limit was {{ r.parameters.suppression_budget_records }} records
({{ "%.2f" | format(100 * r.parameters.max_suppression) }} %).{% else %}No value had to be blanked.{% endif %}

## Parameters

| parameter | value |
| --- | --- |
| quasi-identifiers | {{ r.parameters.quasi_identifiers | join(", ") }} |
| k (minimum group size) | {{ r.parameters.k }} |
| suppression limit | {{ "%.2f" | format(100 * r.parameters.max_suppression) }} % of records ({{ r.parameters.suppression_budget_records }} records) |
| sensitive variable / l | {{ r.parameters.sensitive or "—" }} / {{ r.parameters.l or "—" }} |
| weight | {{ r.parameters.weight or "— (unweighted: risk = 1/fk)" }} |
| information-loss metric | {{ r.parameters.metric }} |

## Risk before and after

| measure | before | after |
| --- | ---: | ---: |
{% for key in ["2", "3", "5"] %}| records violating {{ key }}-anonymity | {{ r.risk_before.kanon_violations[key] }} | {{ r.risk_after.kanon_violations[key] }} |
{% endfor %}{% if r.parameters.k not in [2, 3, 5] %}| records violating {{ r.parameters.k }}-anonymity | {{ r.kanon_violations_before }} | {{ r.kanon_violations_after }} |
{% endif %}| sample uniques (fk = 1) | {{ r.risk_before.sample_uniques }} | {{ r.risk_after.sample_uniques }} |
| expected re-identifications (global_risk_ER) | {{ "%.6f" | format(r.risk_before.global_risk_ER) }} | {{ "%.6f" | format(r.risk_after.global_risk_ER) }} |
| global risk | {{ "%.4f" | format(r.risk_before.global_risk_pct) }} % | {{ "%.4f" | format(r.risk_after.global_risk_pct) }} % |
| highest individual risk | {{ "%.6f" | format(r.risk_before.max_individual_risk) }} | {{ "%.6f" | format(r.risk_after.max_individual_risk) }} |
{% if r.ldiversity_before %}| records with fewer than {{ r.parameters.l }} distinct {{ r.parameters.sensitive }} values | {{ r.ldiversity_before.violations_l }} | {{ r.ldiversity_after.violations_l }} |
{% endif %}
## Generalisation chosen

Each variable was coarsened to the level below (0 = original values). The search tried
{{ r.search.evaluated_nodes }} of {{ r.search.lattice_size }} combinations of levels and
kept the one losing the least information.{% if r.search.note %}
Note: {{ r.search.note }}.{% endif %}

| variable | level | meaning |
| --- | ---: | --- |
{% for q, lv in r.levels.items() %}| {{ q }} | {{ lv }} | {{ r.level_labels[q] }} |
{% endfor %}
## Suppressions per variable

{{ r.suppression_reason }}

| variable | values blanked | importance (1 = kept longest) |
| --- | ---: | ---: |
{% for q, c in r.suppressions.items() %}| {{ q }} | {{ c }} | {{ r.parameters.importance[q] }} |
{% endfor %}| **total** | **{{ r.values_suppressed }}** values in {{ r.records_suppressed }} records | |

## Information loss

Share of detail lost per value (0 = kept exactly, 1 = fully blanked), averaged:
**{{ "%.4f" | format(r.information_loss.loss) }}**
(blanking whole records, as ARX does, would give {{ "%.4f" | format(r.information_loss.loss_if_records_suppressed) }}).
{% for p in r.perturbations %}
## Perturbation: {{ p.method }}

| figure | value |
| --- | --- |
{% for key, val in p.items() if key not in ("transition_matrix",) %}| {{ key }} | {{ val }} |
{% endfor %}{% endfor %}
---
primex {{ r.code_version }}, generated {{ r.generated_at }}.
"""

_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Disclosure report</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:.2em .6em}
</style></head><body>
{{ body }}
</body></html>
"""


def render_markdown(report: dict[str, Any]) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=False, keep_trailing_newline=True)
    return env.from_string(_MD).render(r=_Dot(report))


def render_html(report: dict[str, Any]) -> str:
    """The Markdown report as a standalone HTML page (markdown-it, which rich already uses;
    raw HTML in values is escaped because html is off)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(
        render_markdown(report))
    env = jinja2.Environment(autoescape=False)
    return env.from_string(_HTML).render(body=body)


class _Dot(dict):  # type: ignore[type-arg]
    """Attribute access for the template (report.key)."""

    def __getattr__(self, name: str) -> Any:
        try:
            v = self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc
        return _Dot(v) if isinstance(v, dict) else v
