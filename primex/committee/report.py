"""The committee's readable history of requests, from the log alone (markdown or HTML).

``build_report(home, request=None, since=None, until=None) -> Report`` collects, per
request: who asked what (submission), who returned/rejected/approved it and with which
conditions, what the disclosure step suppressed (its summary), who checked the output, who
signed which manifest, what left (the files of the released manifest, the recipient, the
witnessed checkpoint) and who opened it, each with its time and log entry number; plus the
key registry changes and the result of the verification. ``render_markdown`` and
``render_html`` (Jinja2, autoescaped) print it. Nothing here reads data files: the report
holds only what the log holds (no NISS is ever in the log).

Only verified entries are reported as facts: a request whose history holds an entry whose
signature does not verify is listed as NOT TRUSTED with that entry, never with its story.
Text from the log (titles, conditions, reasons, names) cannot carry markup into the
report: ``<`` ``>`` and backticks are escaped in Markdown (HTML is autoescaped), and
bidirectional-override and other control characters, which can make a reader see another
text than the one recorded, are shown as visible ``\\uXXXX`` codes in both forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import Environment

from primex.audit.log import Entry, open_log, utc_now
from primex.audit.reasons import Untrusted
from primex.committee.verify import VerifyResult, verify_log
from primex.errors import ValidationError
from primex.home import Home

EVENT_TITLES = {
    "submission": "submitted",
    "return": "returned for changes",
    "rejection": "rejected",
    "approval": "approved",
    "amendment": "conditions amended",
    "extraction": "extracted",
    "coding": "coded (BCSS)",
    "disclosure_result": "disclosure control",
    "output_check": "output checked",
    "signoff": "signed off",
    "release": "released",
    "access": "opened",
    "closure": "closed",
    "key_add": "key registered",
    "key_revoke": "key revoked",
    "linkage_key_rotation": "linkage master key rotated (BCSS)",
}


# Bidi embeddings/overrides/isolates and marks, and every other control character but
# newline and tab: shown as a visible code, never passed through.
_INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2069\ufeff]"
)


def visible(text: Any) -> Any:
    """`text` with bidi-override and control characters replaced by visible codes."""
    if not isinstance(text, str):
        return text
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _short(h: Any) -> str:
    return f"{h[:12]}…" if isinstance(h, str) and len(h) > 12 else str(h)


def _flat(value: Any, prefix: str = "") -> str:
    """A dict/list as short readable text (no JSON punctuation for the committee). Nested
    keys are dotted (`disclosure.dominance.k: 85; disclosure.k: 6`): flattened side by side,
    the dominance rule's k and k-anonymity's k read the same."""
    if isinstance(value, dict):
        return "; ".join(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) and v
                         else f"{prefix}{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    if value is None:
        return "—"
    return str(value)


@dataclass
class Event:
    seq: int
    time: str
    what: str
    actor: str
    role: str
    details: str


@dataclass
class RequestReport:
    request: str
    title: str | None
    organisation: str | None
    requester: str | None
    state: str | None
    asked: str = "—"
    approved: str = "—"
    conditions: str = "—"
    suppressed: str = "—"
    signed: str = "—"
    released: str = "—"
    files: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class Report:
    generated: str
    origin: str
    size: int
    verification: str
    period: str
    requests: list[RequestReport]
    keys: list[Event]


def _details(e: Entry) -> str:
    b = e.body
    if e.type == "submission":
        return f"“{b.get('title')}”, spec {_short(b.get('spec_sha256'))}"
    if e.type in ("return", "rejection"):
        return f"reasons: {_flat(b.get('reasons'))}"
    if e.type == "approval":
        return f"conditions: {_flat(b.get('conditions')) or 'none'}"
    if e.type == "amendment":
        return f"conditions: {_flat(b.get('conditions'))}; reason: {_flat(b.get('reason'))}"
    if e.type == "extraction":
        return f"manifest {_short(b.get('manifest_sha256'))}" + (
            f", snapshot {_flat(b.get('snapshot'))}" if b.get("snapshot") else ""
        )
    if e.type == "coding":
        return f"key {b.get('key_id')}, coded output {_short(b.get('manifest_sha256'))}"
    if e.type == "disclosure_result":
        verdict = "passed" if b.get("passed") else "FAILED"
        summary = _flat(b.get("summary")) if b.get("summary") is not None else ""
        return f"{verdict}, files {_short(b.get('manifest_sha256'))}" + (
            f"; {summary}" if summary else ""
        )
    if e.type == "output_check":
        return f"decision: {b.get('decision')}" + (
            f"; {_flat(b.get('comment'))}" if b.get("comment") else ""
        )
    if e.type == "signoff":
        files = (b.get("manifest") or {}).get("files") or []
        return f"manifest {_short(b.get('manifest_sha256'))} ({len(files)} files)"
    if e.type == "release":
        cp = b.get("checkpoint") or {}
        return (
            f"to {_flat(b.get('recipient'))}, package {_short(b.get('package_sha256'))}, "
            f"witnessed checkpoint size {cp.get('size')}"
        )
    if e.type == "access":
        return f"file {b.get('name', '')} {_short(b.get('sha256'))}".replace("  ", " ")
    if e.type == "closure":
        why = b.get("reasons") or b.get("reason")
        text = _flat(why) if why else ""
        if isinstance(b.get("destroyed"), list):
            text += f"{'; ' if text else ''}{len(b['destroyed'])} work file(s) destroyed"
        return text
    if e.type == "key_add":
        return f"{b.get('name')} as {b.get('role')} (person {b.get('person')})"
    if e.type == "linkage_key_rotation":
        return f"{b.get('old_master_key_id')} -> {b.get('new_master_key_id')}"
    if e.type == "key_revoke":
        return f"{b.get('name')}: {b.get('reason')}"
    return ""


def _parse_day(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise ValidationError(
            f"{name} is not a date", where=name, hint="use YYYY-MM-DD"
        ) from exc


def build_report(
    home: Home, request: str | None = None, since: str | None = None,
    until: str | None = None, verification: VerifyResult | None = None,
) -> Report:
    """Collect the history (see the module docstring); `since`/`until` are YYYY-MM-DD."""
    lo, hi = _parse_day(since, "--from"), _parse_day(until, "--to")
    if lo is not None and hi is not None and lo > hi:  # an empty report would look clean
        raise ValidationError(f"--from {since} is after --to {until}", where="--from",
                              hint="give the earlier day to --from")
    log = open_log(home, create=False)
    if request is not None:
        log.state(request)  # a clear error for an unknown request
    vr = verification if verification is not None else verify_log(home, record=False)
    if vr.ok:
        verdict = f"verified: {vr.size} entries, signatures, chains, workflow and checkpoints"
        if vr.witnessed_size is not None:
            verdict += f"; the witness cosigned size {vr.witnessed_size}"
    else:
        first = vr.first_failure
        verdict = f"VERIFICATION FAILED: {first.line() if first else '?'}"

    def keep(e: Entry) -> bool:
        day = e.time[:10]
        return (lo is None or day >= lo) and (hi is None or day <= hi)

    roles = {k.name: k.role for k in log.registry.keys.values()}
    out: list[RequestReport] = []
    for rid in log.requests():
        if request is not None and rid != request:
            continue
        try:
            st = log.state(rid)  # every signature of its history verified
        except Untrusted as exc:  # never tell a forged story as a fact
            out.append(RequestReport(
                rid, None, None, None, "NOT TRUSTED",
                asked=f"its history holds an entry that does not verify: {exc.one_line()}",
            ))
            continue
        entries = [e for e in st.history if keep(e)]
        if not entries:
            continue
        rr = RequestReport(rid, st.title, st.organisation, st.requester, st.state)
        for e in entries:
            who = f"{e.actor} ({roles.get(e.actor, '?')})"
            rr.events.append(Event(
                e.seq, e.time, EVENT_TITLES.get(e.type, e.type), e.actor,
                roles.get(e.actor, "?"), _details(e),
            ))
            when = e.time[:19].replace("T", " ") + " UTC"
            if e.type == "submission":
                rr.asked = f"{who} on {when}: {_details(e)}"
            elif e.type == "approval":
                rr.approved = f"{who} on {when}"
                rr.conditions = _flat(e.body.get("conditions")) or "none"
            elif e.type == "amendment":  # the latest version is the one in force
                rr.conditions = _flat(e.body.get("conditions")) or "none"
            elif e.type in ("rejection", "return"):
                rr.approved = f"{EVENT_TITLES[e.type]} by {who} on {when}"
            elif e.type == "disclosure_result" and e.body.get("passed"):
                rr.suppressed = _flat(e.body.get("summary")) or "(no summary recorded)"
            elif e.type == "signoff":
                rr.signed = f"{who} on {when}, manifest {e.body.get('manifest_sha256')}"
                rr.files = [
                    f for f in (e.body.get("manifest") or {}).get("files") or []
                    if isinstance(f, dict)
                ]
            elif e.type == "release":
                rr.released = f"on {when}, {_details(e)}"
        out.append(rr)
    keys = [
        Event(e.seq, e.time, EVENT_TITLES[e.type], e.actor, roles.get(e.actor, "?"),
              _details(e))
        for e in log.key_events() if keep(e)
    ] if request is None else []
    period = f"{lo or 'start'} to {hi or 'now'}"
    return Report(utc_now()[:19] + "Z", log.origin, len(log), verdict, period, out, keys)


def _md_cell(text: Any) -> str:
    """One table cell or list value: no markup, no hidden characters, no line breaks."""
    return (
        visible(str(text)).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
        .replace("<", "&lt;").replace(">", "&gt;").replace("`", "\\`")
    )


def _md_code(text: Any) -> str:
    """Text inside a `code span`: a backtick would end it, so it is dropped."""
    return str(visible(str(text))).replace("`", "").replace("\n", " ")


def render_markdown(report: Report) -> str:
    lines = [
        "# Audit report",
        "",
        f"- Log: `{_md_code(report.origin)}`, {report.size} entries; period "
        f"{_md_cell(report.period)}",
        f"- Generated: {report.generated}",
        f"- **{_md_cell(report.verification)}**",
        "",
    ]
    for r in report.requests:
        lines += [
            f"## {_md_cell(r.request)}: {_md_cell(r.title or '')}",
            "",
            f"- **Who asked what:** {_md_cell(r.asked)} (organisation: "
            f"{_md_cell(r.organisation or '—')})",
            f"- **Decision:** {_md_cell(r.approved)}",
            f"- **Conditions:** {_md_cell(r.conditions)}",
            f"- **What was suppressed:** {_md_cell(r.suppressed)}",
            f"- **Who signed:** {_md_cell(r.signed)}",
            f"- **What left:** {_md_cell(r.released)}",
            f"- **Current state:** {_md_cell(r.state)}",
            "",
        ]
        if r.files:
            lines += ["| file | bytes | SHA-256 |", "| --- | ---: | --- |"]
            lines += [
                f"| {_md_cell(f.get('name'))} | {_md_cell(f.get('bytes'))} | "
                f"`{_md_code(f.get('sha256'))}` |"
                for f in r.files
            ]
            lines.append("")
        lines += ["| # | time (UTC) | event | by | details |", "| ---: | --- | --- | --- | --- |"]
        lines += [
            f"| {e.seq} | {e.time[:19].replace('T', ' ')} | {_md_cell(e.what)} | "
            f"{_md_cell(e.actor)} ({_md_cell(e.role)}) | {_md_cell(e.details)} |"
            for e in r.events
        ]
        lines.append("")
    if not report.requests:
        lines += ["No request activity in this period.", ""]
    if report.keys:
        lines += ["## Key registry", "", "| # | time (UTC) | event | by | details |",
                  "| ---: | --- | --- | --- | --- |"]
        lines += [
            f"| {e.seq} | {e.time[:19].replace('T', ' ')} | {_md_cell(e.what)} | "
            f"{_md_cell(e.actor)} | {_md_cell(e.details)} |"
            for e in report.keys
        ]
        lines.append("")
    return "\n".join(lines)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Audit report – {{ r.origin }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2} td.n{text-align:right} code{font-size:.85em}
.ok{color:#0a6b2d;font-weight:bold} .bad{color:#b00020;font-weight:bold}
dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem 1rem} dt{font-weight:bold}
</style></head><body>
<h1>Audit report</h1>
<p>Log <code>{{ r.origin }}</code>, {{ r.size }} entries; period {{ r.period }};
generated {{ r.generated }}.</p>
<p class="{{ 'ok' if r.verification.startswith('verified') else 'bad' }}">
{{ r.verification }}</p>
{% for q in r.requests %}
<h2>{{ q.request }}: {{ q.title or '' }}</h2>
<dl>
<dt>Who asked what</dt><dd>{{ q.asked }} (organisation: {{ q.organisation or '—' }})</dd>
<dt>Decision</dt><dd>{{ q.approved }}</dd>
<dt>Conditions</dt><dd>{{ q.conditions }}</dd>
<dt>What was suppressed</dt><dd>{{ q.suppressed }}</dd>
<dt>Who signed</dt><dd>{{ q.signed }}</dd>
<dt>What left</dt><dd>{{ q.released }}</dd>
<dt>Current state</dt><dd>{{ q.state }}</dd>
</dl>
{% if q.files %}<table><tr><th>file</th><th>bytes</th><th>SHA-256</th></tr>
{% for f in q.files %}<tr><td>{{ f.name }}</td><td class="n">{{ f.bytes }}</td>
<td><code>{{ f.sha256 }}</code></td></tr>{% endfor %}</table>{% endif %}
<table><tr><th>#</th><th>time (UTC)</th><th>event</th><th>by</th><th>details</th></tr>
{% for e in q.events %}<tr><td class="n">{{ e.seq }}</td>
<td>{{ e.time[:19].replace('T', ' ') }}</td><td>{{ e.what }}</td>
<td>{{ e.actor }} ({{ e.role }})</td><td>{{ e.details }}</td></tr>{% endfor %}
</table>
{% else %}<p>No request activity in this period.</p>{% endfor %}
{% if r.keys %}<h2>Key registry</h2>
<table><tr><th>#</th><th>time (UTC)</th><th>event</th><th>by</th><th>details</th></tr>
{% for e in r.keys %}<tr><td class="n">{{ e.seq }}</td>
<td>{{ e.time[:19].replace('T', ' ') }}</td><td>{{ e.what }}</td><td>{{ e.actor }}</td>
<td>{{ e.details }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def render_html(report: Report) -> str:
    env = Environment(autoescape=True, finalize=visible)
    return env.from_string(_HTML).render(r=report)
