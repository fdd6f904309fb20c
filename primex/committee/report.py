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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import Environment

from primex.audit.keys import ROLES
from primex.audit.log import Entry, open_log, utc_now
from primex.audit.phrases import Text, phrase, render
from primex.audit.reasons import Untrusted
from primex.committee.verify import Failure, VerifyResult, verify_log
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


# The report's sentences, keyed by what they say (primex.audit.phrases); the portal's audit
# page has the same keys in French and Dutch (primex/service/pages/history_words.py).
WORDS: dict[str, str] = {
    **{f"event.{kind}": title for kind, title in EVENT_TITLES.items()},
    **{f"role.{role}": role for role in ROLES},  # the log's own names, as before
    "who": "{actor} ({role})",
    "asked": "{who} on {when}: {details}",
    "approved": "{who} on {when}",
    "decided": "{event} by {who} on {when}",
    "signed": "{who} on {when}, manifest {manifest}",
    "released": "on {when}, {details}",
    "none": "none",
    "no_summary": "(no summary recorded)",
    "not_trusted": "its history holds an entry that does not verify: {reason}",
    "verified": "verified: {size} entries, signatures, chains, workflow and checkpoints",
    "verified_witnessed": "verified: {size} entries, signatures, chains, workflow and "
                          "checkpoints; the witness cosigned size {witnessed}",
    "verification_failed": "VERIFICATION FAILED: {reason}",
    "period": "{since} to {until}",
    "period.start": "start",
    "period.now": "now",
    "details.submission": "“{title}”, spec {spec}",
    "details.reasons": "reasons: {reasons}",
    "details.approval": "conditions: {conditions}",
    "details.amendment": "conditions: {conditions}; reason: {reason}",
    "details.extraction": "manifest {manifest}",
    "details.extraction_snapshot": "manifest {manifest}, snapshot {snapshot}",
    "details.coding": "key {key}, coded output {manifest}",
    "details.disclosure": "{verdict}, files {manifest}",
    "details.disclosure_summary": "{verdict}, files {manifest}; {summary}",
    "verdict.passed": "passed",
    "verdict.failed": "FAILED",
    "details.output_check": "decision: {decision}",
    "details.output_check_comment": "decision: {decision}; {comment}",
    "decision.approve": "approve",
    "decision.return": "return",
    "details.signoff": "manifest {manifest} ({files} files)",
    "details.release": "to {recipient}, package {package}, witnessed checkpoint size {size}",
    "details.access": "file {name} {sha256}",
    "details.closure": "{reasons}; {destroyed}",
    "details.destroyed": "{files} work file(s) destroyed",
    "details.key_add": "{name} as {role} (person {person})",
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
    untrusted: Untrusted | None = None  # why it is NOT TRUSTED (typed: the portal says it)


@dataclass
class Report:
    generated: str
    origin: str
    size: int
    verification: str
    period: str
    requests: list[RequestReport]
    keys: list[Event]
    failure: Failure | None = None  # the first failure (typed: the portal says it)


def _detail_phrase(e: Entry) -> Text:
    """What one entry says, as a phrase of the report's catalogue (WORDS)."""
    b = e.body
    if e.type == "submission":
        return phrase("details.submission", title=str(b.get("title")),
                      spec=_short(b.get("spec_sha256")))
    if e.type in ("return", "rejection"):
        return phrase("details.reasons", reasons=_flat(b.get("reasons")))
    if e.type == "approval":
        return phrase("details.approval",
                      conditions=_flat(b.get("conditions")) or phrase("none"))
    if e.type == "amendment":
        return phrase("details.amendment", conditions=_flat(b.get("conditions")),
                      reason=_flat(b.get("reason")))
    if e.type == "extraction":
        if b.get("snapshot"):
            return phrase("details.extraction_snapshot", manifest=_short(b.get("manifest_sha256")),
                          snapshot=_flat(b.get("snapshot")))
        return phrase("details.extraction", manifest=_short(b.get("manifest_sha256")))
    if e.type == "coding":
        return phrase("details.coding", key=str(b.get("key_id")),
                      manifest=_short(b.get("manifest_sha256")))
    if e.type == "disclosure_result":
        verdict = phrase("verdict.passed" if b.get("passed") else "verdict.failed")
        summary = _flat(b.get("summary")) if b.get("summary") is not None else ""
        files = _short(b.get("manifest_sha256"))
        if summary:
            return phrase("details.disclosure_summary", verdict=verdict, manifest=files,
                          summary=summary)
        return phrase("details.disclosure", verdict=verdict, manifest=files)
    if e.type == "output_check":
        decision = b.get("decision")
        said: Text = (phrase(f"decision.{decision}") if decision in ("approve", "return")
                      else str(decision))
        if b.get("comment"):
            return phrase("details.output_check_comment", decision=said,
                          comment=_flat(b.get("comment")))
        return phrase("details.output_check", decision=said)
    if e.type == "signoff":
        files = (b.get("manifest") or {}).get("files") or []
        return phrase("details.signoff", manifest=_short(b.get("manifest_sha256")),
                      files=len(files))
    if e.type == "release":
        cp = b.get("checkpoint") or {}
        return phrase("details.release", recipient=_flat(b.get("recipient")),
                      package=_short(b.get("package_sha256")), size=str(cp.get("size")))
    if e.type == "access":
        return phrase("details.access", name=str(b.get("name", "")),
                      sha256=_short(b.get("sha256")))
    if e.type == "closure":
        why = b.get("reasons") or b.get("reason")
        text = _flat(why) if why else ""
        if isinstance(b.get("destroyed"), list):
            destroyed = phrase("details.destroyed", files=len(b["destroyed"]))
            return phrase("details.closure", reasons=text, destroyed=destroyed) if text \
                else destroyed
        return text
    if e.type == "key_add":
        return phrase("details.key_add", name=str(b.get("name")), role=_role(b.get("role")),
                      person=str(b.get("person")))
    if e.type == "linkage_key_rotation":
        return f"{b.get('old_master_key_id')} -> {b.get('new_master_key_id')}"
    if e.type == "key_revoke":
        return f"{b.get('name')}: {b.get('reason')}"
    return ""


def _role(role: Any) -> Text:
    return phrase(f"role.{role}") if role in ROLES else str(role)


def _details(e: Entry, words: Mapping[str, str] = WORDS) -> str:
    text = render(_detail_phrase(e), words)
    # (an access entry without a file name reads "file <hash>")
    return text.replace("  ", " ") if e.type == "access" else text


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
    words: Mapping[str, str] = WORDS,
) -> Report:
    """Collect the history (see the module docstring); `since`/`until` are YYYY-MM-DD;
    `words`: the catalogue its sentences are said with (WORDS, English, by default)."""
    lo, hi = _parse_day(since, "--from"), _parse_day(until, "--to")
    if lo is not None and hi is not None and lo > hi:  # an empty report would look clean
        raise ValidationError(f"--from {since} is after --to {until}", where="--from",
                              hint="give the earlier day to --from")
    log = open_log(home, create=False)
    if request is not None:
        log.state(request)  # a clear error for an unknown request
    vr = verification if verification is not None else verify_log(home, record=False)
    verdict: Text
    if vr.ok:
        verdict = phrase("verified", size=vr.size) if vr.witnessed_size is None else \
            phrase("verified_witnessed", size=vr.size, witnessed=vr.witnessed_size)
    else:
        first = vr.first_failure
        verdict = phrase("verification_failed", reason=first.line() if first else "?")

    def say(text: Text) -> str:
        return render(text, words)

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
                asked=say(phrase("not_trusted", reason=exc.one_line())), untrusted=exc,
            ))
            continue
        entries = [e for e in st.history if keep(e)]
        if not entries:
            continue
        rr = RequestReport(rid, st.title, st.organisation, st.requester, st.state)
        for e in entries:
            role = roles.get(e.actor, "?")
            who = phrase("who", actor=e.actor, role=_role(role))
            rr.events.append(Event(
                e.seq, e.time, say(_event(e.type)), e.actor, say(_role(role)),
                _details(e, words),
            ))
            when = e.time[:19].replace("T", " ") + " UTC"
            if e.type == "submission":
                rr.asked = say(phrase("asked", who=who, when=when, details=_detail_phrase(e)))
            elif e.type == "approval":
                rr.approved = say(phrase("approved", who=who, when=when))
                rr.conditions = _flat(e.body.get("conditions")) or say(phrase("none"))
            elif e.type == "amendment":  # the latest version is the one in force
                rr.conditions = _flat(e.body.get("conditions")) or say(phrase("none"))
            elif e.type in ("rejection", "return"):
                rr.approved = say(phrase("decided", event=_event(e.type), who=who, when=when))
            elif e.type == "disclosure_result" and e.body.get("passed"):
                rr.suppressed = _flat(e.body.get("summary")) or say(phrase("no_summary"))
            elif e.type == "signoff":
                rr.signed = say(phrase("signed", who=who, when=when,
                                       manifest=str(e.body.get("manifest_sha256"))))
                rr.files = [
                    f for f in (e.body.get("manifest") or {}).get("files") or []
                    if isinstance(f, dict)
                ]
            elif e.type == "release":
                rr.released = say(phrase("released", when=when, details=_detail_phrase(e)))
        out.append(rr)
    keys = [
        Event(e.seq, e.time, say(_event(e.type)), e.actor,
              say(_role(roles.get(e.actor, "?"))), _details(e, words))
        for e in log.key_events() if keep(e)
    ] if request is None else []
    period = say(phrase("period", since=lo or phrase("period.start"),
                        until=hi or phrase("period.now")))
    return Report(utc_now()[:19] + "Z", log.origin, len(log), say(verdict), period, out, keys,
                  vr.first_failure)


def _event(kind: str) -> Text:
    return phrase(f"event.{kind}") if kind in EVENT_TITLES else kind


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
