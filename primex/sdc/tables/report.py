"""The disclosure report of a protected table, as JSON (machine) and Markdown (people).

It records the rules applied and their convention, the counts of primary and secondary
suppressions, and the audit: the attacker's interval for every primary cell next to the
protection it needed. Values of cells are statistics, never identifiers, so the report may
travel with the release; it names no person.
"""

from __future__ import annotations

import json
import math
from typing import Any

from primex.sdc.tables.result import ProtectedTable


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return None
        return round(v, 6)
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def report_dict(pt: ProtectedTable) -> dict[str, Any]:
    out = dict(pt.report)
    if len(pt.audit):
        rows = pt.audit.to_dict(orient="records")
        out["audit_intervals"] = [{k: _clean(v) for k, v in r.items()} for r in rows]
    return out


def report_json(pt: ProtectedTable) -> str:
    return json.dumps(report_dict(pt), indent=2, sort_keys=True, default=_clean) + "\n"


def report_markdown(pt: ProtectedTable) -> str:
    r = pt.report
    lines = [
        "# Disclosure report: table",
        "",
        f"- Dimensions: {', '.join(r.get('dimensions', []))}",
        f"- Measure: {r.get('measure') or 'count of records'}",
        f"- Method: {r.get('method')}",
        f"- Passed: **{'yes' if r.get('passed') else 'NO — must not be released'}**",
        f"- Cells: {r.get('cells')}",
    ]
    if r.get("method") == "suppression":
        a = r["audit"]
        lines += [
            f"- Primary suppressions: {r['primary']} (by rule: {r['primary_by_rule']})",
            f"- Secondary suppressions: {r['secondary']}",
            f"- Empty cells published as structural zeros: {r['empty']}",
            f"- Audit: {a['primaries_audited']} primary cells, {a['failures']} failure(s); "
            f"{a['by_lp']} by attacker LP, {a['by_witness']} by verified witness; "
            f"{a['lp_solves']} LP solves",
            "",
            "## Rules",
            "",
        ]
        for k, v in r["rules"].items():
            if k != "convention":
                lines.append(f"- `{k}`: {v}")
        for k, v in r["rules"]["convention"].items():
            lines.append(f"- {k}: {v}")
        lines += ["", "## Audit (attacker interval per primary cell)", "",
                  "| cell | value | low | up | needs up ≥ | needs low ≤ | ok |",
                  "|---|---|---|---|---|---|---|"]
        for row in pt.audit.head(200).itertuples(index=False):
            d = row._asdict()
            cell = " × ".join(str(d[x]) for x in pt.dimensions)
            lines.append(
                f"| {cell} | {d['value']:.0f} | {d['low']:.0f} | {d['up']:.0f} | "
                f"{d['value'] + d['upl']:.0f} | {d['value'] - d['lpl']:.0f} | "
                f"{'yes' if d['passed'] else 'NO'} |")
        if len(pt.audit) > 200:
            lines.append(f"| … {len(pt.audit) - 200} more in the JSON report | | | | | | |")
    else:
        ck = r.get("cellkey", {})
        lines += [f"- `{k}`: {v}" for k, v in ck.items()]
    return "\n".join(lines) + "\n"
