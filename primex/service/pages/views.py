"""The portal's routes (under /portal, outside the OpenAPI description: they are pages, the
API is /api). Every page but the login start and the key enrolment needs a session; the
per-object checks are the API's own (`api._state`: a researcher asking for another
organisation's request gets the same 404 as for one that does not exist)."""

from __future__ import annotations

import csv
import difflib
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from primex.audit.phrases import phrase, render
from primex.errors import PrimexError
from primex.redact import redact
from primex.requests import describe
from primex.requests.conditions import APPLIES, PRIORITY_KINDS
from primex.requests.history_text import condition_phrase, summary
from primex.service import api
from primex.service.identity import Actor, current_actor, state_of
from primex.service.pages.assessment_cache import CACHE, AssessmentKey, prima_identity
from primex.service.pages.disclosure_view import disclosure_view
from primex.service.pages.history_words import (
    ASSESS,
    DESCRIBE,
    HISTORY,
    REPORT,
    REPORT_ROLES_EN,
)
from primex.service.pages.i18n import LANGUAGES, NAMES, pick_language, term, translator
from primex.service.pages.reason_words import failure_said, refusal_codes, refusal_said
from primex.service.state import ServiceState

if TYPE_CHECKING:
    from primex.home import Home
    from primex.requests.spec import RequestSpec

LANG_COOKIE = "primex-lang"
PORTAL_LOGIN_COOKIE = "primex-portal-login"  # the OIDC callback then lands on the portal
PREVIEW_ROWS = 10
# blanked values (sdcMicro's local suppression); "*" is a generalisation level, shown as is
SUPPRESSED_MARKS = frozenset({"", "NA", "NaN", "nan", "None", "<NA>"})
# a protected table's own columns: an empty `reason` is a published cell, not a hidden one
TABLE_TECHNICAL = frozenset({"status", "reason"})
# what waits for whom (the request states in primex.audit.workflow.STATES)
WAITING: dict[str, tuple[str, ...]] = {
    "researcher": ("returned", "released"),
    "privacy_officer": ("submitted", "protected"),
    "president": ("output_checked",),
    "spp_operator": ("approved", "extracted", "coded", "signed_off"),
    "committee": (),
}
# the conditions the approval form offers, as primex.requests.conditions parses them
CONDITION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("k", "k-anonymity k", "1"),
    ("l", "l-diversity l", "1"),
    ("max_suppression", "max suppression (share)", "0.001"),
    ("min_count", "min cell count", "1"),
    ("p_percent", "p%", "1"),
    ("dominance.n", "dominance n", "1"),
    ("dominance.k", "dominance k (%)", "1"),
)
STATIC = {"portal.css": "text/css; charset=utf-8",
          "portal.js": "text/javascript; charset=utf-8",
          "complete.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"}

router = APIRouter(prefix="/portal", include_in_schema=False)
root = APIRouter(include_in_schema=False)  # what browsers ask for by themselves
_ENV = Environment(loader=PackageLoader("primex.service.pages", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True,
                   lstrip_blocks=True, undefined=StrictUndefined)  # a missing word fails
# free text (comments, purposes, previews, reports) goes through `redact` in the templates;
# hashes and keys do not (a hex digest can hold 11 digits in a row)
_ENV.filters["redact"] = lambda value: redact(str(value))


def utc_minute(value: Any) -> str:
    """A log or database time as a person reads it, "2026-12-06 18:01 UTC" (the page keeps
    the exact value in its <time datetime> attribute); a database time without a zone is
    UTC (primex.service.db stores utcnow); what is not a time is shown as it is."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_ENV.filters["utc"] = utc_minute


def number(value: Any, lang: str, decimals: int = 0) -> str:
    """A figure as the page's language writes it (12.5 / 12,5), the dashboard's rule."""
    from primex.dashboard.i18n import number as written

    return written(float(value), decimals, lang)


def percent(share: Any, lang: str) -> str:
    """12.5% (en), 12,5 % (fr, with a narrow no-break space), 12,5% (nl)."""
    return number(float(share) * 100, lang, 1) + ("\u202f%" if lang == "fr" else "%")


_ENV.filters["number"] = number
_ENV.filters["percent"] = percent


@functools.cache
def _refusals(lang: str) -> str:
    """The typed refusal codes in `lang` (reason_words.refusal_codes), as the JSON the page's
    script reads from a meta tag (no inline script: the CSP forbids it)."""
    return json.dumps(refusal_codes(lang), ensure_ascii=False, sort_keys=True)


def _lang(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE),
                         request.headers.get("accept-language"))


def _render(request: Request, template: str, actor: Actor | None, status: int = 200,
            **context: Any) -> HTMLResponse:
    lang = _lang(request)
    html = _ENV.get_template(template).render(
        t=translator(lang), lang=lang, languages=[(c, NAMES[c]) for c in LANGUAGES],
        here=quote(request.url.path), actor=actor,
        term=lambda name: term(lang, name), refusals=_refusals(lang), **context)
    return HTMLResponse(html, status_code=status)


async def _actor(request: Request) -> Actor | None:
    try:
        return await current_actor(request)
    except HTTPException as exc:
        if exc.status_code == 401:
            return None
        raise


def _to_login() -> RedirectResponse:
    return RedirectResponse("/portal/login", status_code=303)


# --- public pages -----------------------------------------------------------------------
@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, "not found")
    data = files("primex.service.pages").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC[name])


@router.get("/request.schema.json")
def request_schema() -> Response:
    """The request's JSON Schema (as `primex request schema` prints it), for the editor's
    completion (static/complete.js); public like the CLI's, it holds no data."""
    from primex.requests.spec import json_schema

    return Response(json.dumps(json_schema(), ensure_ascii=False),
                    media_type="application/schema+json")


@root.get("/favicon.ico")
def favicon() -> Response:
    return static("favicon.svg")


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/portal/") -> RedirectResponse:
    if code not in LANGUAGES:
        raise HTTPException(404, "unknown language")
    # only a path of the portal (no open redirect)
    target = next if next.startswith("/portal/") and "//" not in next else "/portal/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/login")
def login(request: Request) -> Response:
    response = RedirectResponse("/auth/login", status_code=303)
    response.set_cookie(PORTAL_LOGIN_COOKIE, "1", max_age=600, httponly=True,
                        samesite="lax", path="/auth",
                        secure=state_of(request).settings.cookie_secure)
    return response


@router.get("/enrol")
async def enrol(request: Request) -> HTMLResponse:
    """Key enrolment: the browser creates its key pair (no account needed yet: the
    committee registers the public key, then the account can log in)."""
    return _render(request, "enrol.html", await _actor(request))


# --- pages behind a session -------------------------------------------------------------
@router.get("/")
async def home(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _render(request, "welcome.html", None)
    service = state_of(request)
    rows = await run_in_threadpool(_visible_rows, service, actor)
    waits = WAITING.get(actor.role, ())
    return _render(request, "home.html", actor, rows=rows,
                   waiting=[r for r in rows if r["state"] in waits])


def _visible_rows(service: ServiceState, actor: Actor) -> list[dict[str, Any]]:
    rows = []
    with service.view() as log:
        for rid in log.requests():
            st = log.state(rid)
            if api._visible(actor, st):
                last = st.history[-1] if st.history else None
                rows.append({"request": rid, "state": st.state, "title": st.title,
                             "organisation": st.organisation,
                             "updated": last.time if last else ""})
    return rows


@router.get("/new")
async def editor(request: Request, resubmit: str | None = None) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _to_login()
    text = ""
    if resubmit is not None:
        page = await run_in_threadpool(_request_page, state_of(request), actor, resubmit,
                                       _lang(request), False)
        text = f"id: {resubmit}\n" + "\n".join(
            line for line in page["yaml"].splitlines() if not line.startswith("id:"))
    return _render(request, "editor.html", actor, text=text)


@router.get("/requests/{request_id}")
async def request_page(request: Request, request_id: str) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _to_login()
    try:
        page = await run_in_threadpool(_request_page, state_of(request), actor, request_id,
                                       _lang(request))
    except HTTPException as exc:  # the API's 404: unknown, or not the caller's to see
        if exc.status_code != 404:
            raise
        # in the page's language; the same words whether the id does not exist or is
        # another organisation's
        return _render(request, "error.html", actor, status=404, request_id=request_id)
    except PrimexError as exc:  # e.g. protected files that differ from those recorded
        return _refused(request, actor, exc)
    return _render(request, "request.html", actor, **page)


def _refused(request: Request, actor: Actor | None, exc: PrimexError) -> HTMLResponse:
    """The server's one line on a page, not as the API's JSON: a typed refusal said by its
    code in the page's language, the line itself (English) after a translated lead-in."""
    from primex.errors import IntegrityError, PermissionDenied, ValidationError

    reason = getattr(exc, "reason", None)
    code = getattr(reason, "name", reason)
    said = refusal_codes(_lang(request)).get(code) if isinstance(code, str) else None
    status = (409 if isinstance(exc, IntegrityError) else 403 if isinstance(
        exc, PermissionDenied) else 422 if isinstance(exc, ValidationError) else 400)
    return _render(request, "refused.html", actor, status=status, said=said,
                   line=exc.one_line())


def condition_fields(kind: str | None) -> list[tuple[str, str, str]]:
    """The approval form's parameter fields that the request's output kind uses (k on
    microdata, min_count on tables …): the others would be conditions nothing enforces."""
    applies = APPLIES.get(kind or "", frozenset())
    return [field for field in CONDITION_FIELDS if field[0] in applies]


def variable_conditions(spec: Any) -> list[dict[str, Any]]:
    """The approval form's enforceable conditions per requested variable, as
    primex.requests.conditions parses them: `VAR=LEVEL` (a level of the variable's catalogue
    hierarchy below its total), `drop=VAR`, `priority.VAR=...` (the researcher's stated
    priority is the default)."""
    from primex.catalogue import load_catalogue

    cat = load_catalogue()
    stated = dict(getattr(spec.disclosure, "priorities", None) or {})
    rows = []
    for name in spec.variables:
        hierarchy = cat.get(name).hierarchy if name in cat else None
        rows.append({
            "name": name, "id": name.replace(".", "-"),
            "levels": list(hierarchy.levels[1:-1]) if hierarchy is not None else [],
            "priority": stated.get(name, "normal"), "stated": name in stated,
        })
    return rows


def _request_page(service: ServiceState, actor: Actor, rid: str, lang: str = "en",
                  with_assessment: bool = True) -> dict[str, Any]:
    from primex.requests.lifecycle import status
    from primex.requests.store import load_submitted, read_stored

    home = service.home
    with service.view() as log:
        st = api._state(log, actor, rid)
        info = status(home, rid, log=log)
        versions = [e.body.get("spec_sha256") for e in st.history
                    if e.type == "submission" and e.body.get("spec_sha256")]
        key_entries = [e for e in log.entries() if e.type == "key_add"]
        origin_key = _log_vkey(log)
    texts = [read_stored(home, sha, request_id=rid).decode("utf-8") for sha in versions]
    yaml_text = texts[-1] if texts else ""
    spec: RequestSpec | None = None
    load_error: str | None = None
    try:
        spec = load_submitted(home, rid)[0]
    except PrimexError as exc:
        spec, load_error = None, exc.one_line()
    diff: list[str] = []
    if len(texts) >= 2:
        diff = list(difflib.unified_diff(texts[-2].splitlines(), texts[-1].splitlines(),
                                         "previous", "current", lineterm="", n=2))
    recipient = None
    owner = None
    if spec is not None:
        owner = next((e.body for e in key_entries
                      if e.body.get("x25519") == spec.requester.public_key), None)
        recipient = {"organisation": spec.requester.organisation,
                     "key": spec.requester.public_key,
                     "owner": f"{owner['name']} ({owner['person']}, {owner['role']})"
                     if owner else None}
    with service.db() as db:
        from sqlalchemy import select

        from primex.service.db import Comment

        comments = [{"author": c.author, "role": c.role, "text": c.text,
                     "created": (c.created if c.created.tzinfo else
                                 c.created.replace(tzinfo=UTC)).isoformat()}
                    for c in db.scalars(select(Comment).where(Comment.request == rid)
                                        .order_by(Comment.id))]
    checks = _output_checks(st, actor)
    # each entry's details in the page's language (status() says them in English)
    entries = {e.seq: e for e in st.history}
    info = {**info, "history": [
        {**h, "summary": summary(entries[h["seq"]], HISTORY[lang])} for h in info["history"]
        if h["seq"] not in checks["hidden"]]}  # four eyes: decide first, then see the other's
    output = _output(service, actor, rid, st.state, lang) if st.state in (
        "protected", "output_checked") and actor.role in ("privacy_officer",
                                                          "president") else None
    counts: dict[str, int] = {}
    for row in info["history"]:
        counts[row["event"]] = counts.get(row["event"], 0) + 1
    variables = variable_conditions(spec) if spec is not None and actor.role == (
        "privacy_officer") and st.state == "submitted" else []
    words = DESCRIBE[lang]
    described = {"population": describe.population(spec, words),
                 "output": describe.output(spec, words),
                 "priorities": describe.priorities(spec, words)} if spec is not None else {}
    kind = spec.output.kind if spec is not None else None
    # the officer's pre-assessment, as `review show` prints it (researchers assess their
    # own draft in the editor)
    pre = _preassessment(home, PreassessmentInput(
        rid, versions[-1] if versions else None, spec, load_error), lang) if with_assessment \
        and actor.role == "privacy_officer" else None
    return {"rid": rid, "info": info, "spec": spec, "yaml": yaml_text, "diff": diff,
            "described": described, "condition_fields": condition_fields(kind),
            "show_priorities": kind in PRIORITY_KINDS,
            "variable_conditions": variables, "priorities": _priority_names(),
            "comments": comments, "output": output, "recipient": recipient,
            "counts": counts,
            # the key that decrypts is the one registered with the request's X25519 key
            # (made by `primex keys init` on the researcher's machine), not a browser key,
            # which has no decryption half
            "package_cmd": _open_command(rid, owner["name"] if owner else actor.key_name,
                                         origin_key),
            "checks": checks, "pre": pre}


@dataclass(frozen=True)
class PreassessmentInput:
    """What the officer's pre-assessment is computed from: the request, the submitted
    version (the log's `spec_sha256`) and the spec parsed from it, or why it cannot be read."""

    request: str
    spec_sha256: str | None
    spec: RequestSpec | None
    load_error: str | None


def _preassessment(home: Home, given: PreassessmentInput, lang: str) -> dict[str, Any]:
    """`primex.requests.assess.assess` on the current data, the one function behind
    `request assess` and `review show`; what stops it (no PRIMA data, a request that cannot
    be read) is said on the page, never hidden. Computed once per request version and PRIMA
    file (assessment_cache), not on every load of the page."""
    from primex.requests import assess as assessment

    spec = given.spec
    if spec is None:
        return {"error": given.load_error or "the submitted request cannot be read",
                "no_prima": False}
    if not home.prima_url and not home.prima_db.exists():  # known before assessing: said by code
        return {"error": None, "no_prima": True}
    prima = prima_identity(home)
    key = AssessmentKey(given.request, given.spec_sha256, prima) if (
        given.spec_sha256 is not None and prima is not None) else None
    try:
        result = CACHE.get_or_compute(key, lambda: assessment.assess(spec, home))
    except PrimexError as exc:
        return {"error": exc.one_line(), "no_prima": False}
    notes = ASSESS[lang]
    return {"error": None, "no_prima": False, "result": result,
            "priorities": describe.priorities(spec, DESCRIBE[lang]),
            "notes": [render(note, notes) for note in result.said],
            "table_notes": {t.name: render(t.said, notes) for t in result.tables
                            if t.said is not None}}


def _output_checks(st: Any, actor: Actor) -> dict[str, Any]:
    """Four eyes (C6) on the page: how many different officers approved the current output
    out of how many the policy asks; an officer who has not decided on it yet sees neither
    the other officer's decision nor the count (independent checks, as in Airlock)."""
    from primex.release.gate import required_checks

    since = [e for e in st.history if e.type == "disclosure_result"]
    after = since[-1].seq if since else -1
    mine = any(e.type == "output_check" and e.seq > after and e.actor == actor.key_name
               for e in st.history)
    undecided = actor.role == "privacy_officer" and st.state == "protected" and not mine
    return {"done": len(st.output_checkers), "needed": required_checks(st.conditions),
            "mine": mine, "undecided": undecided,
            "hidden": api.hidden_output_checks(st, actor)}


def _priority_names() -> tuple[str, ...]:
    from primex.requests.conditions import PRIORITIES

    return PRIORITIES


def _log_vkey(log: Any) -> str | None:
    from primex.audit.keys import vkey

    info = log.registry.keys.get("log")
    return vkey(log.origin, info.public_key) if info is not None else None


def _open_command(rid: str, key_name: str, log_key: str | None) -> str:
    from primex.release.package import SUFFIX

    cmd = f"primex release open {rid}{SUFFIX} --key {key_name}"
    return cmd + (f" --log-key '{log_key}'" if log_key else "")


def _output(service: ServiceState, actor: Actor, rid: str, state: str | None,
            lang: str) -> dict[str, Any]:
    from primex.release.gate import protected_dir
    from primex.release.manifest import REPORT_JSON

    with service.log() as log:
        if state == "protected":
            manifest = api._protected_manifest(service, log, rid)
        else:
            from primex.release.signoff import prepare_signoff

            manifest = prepare_signoff(service.home, log, rid).manifest
    folder = protected_dir(service.home, rid)
    report_path = folder / REPORT_JSON
    report = json.loads(report_path.read_text("utf-8")) if report_path.exists() else {}
    previews = [{"name": f.name, "bytes": f.bytes, "sha256": f.sha256,
                 "table": _preview(folder / f.name)} for f in manifest.files]
    return {"manifest_sha256": manifest.sha256, "files": previews, "report": report,
            "disclosure": disclosure_view(report, lang),
            "manifest_json": json.dumps(manifest.as_dict(), sort_keys=True)}


def _preview(path: Path) -> dict[str, Any] | None:
    """The first rows of a CSV or Parquet file, each cell (text, suppressed?)."""
    rows: list[list[str]] = []
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            rows = [row for _, row in zip(range(PREVIEW_ROWS + 1), reader, strict=False)]
    elif path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path).read_row_group(0) if path.stat().st_size else None
        if table is not None:
            head = table.slice(0, PREVIEW_ROWS).to_pylist()
            rows = [list(table.column_names)] + [
                ["" if v is None else str(v) for v in r.values()] for r in head]
    else:
        return None
    if not rows:
        return None
    header = rows[0]
    if "status" in header:  # a protected table: only the figures of a u/x cell are hidden
        status = header.index("status")
        return {"header": header, "rows": [
            [(cell, cell.strip() in SUPPRESSED_MARKS and name not in TABLE_TECHNICAL
              and len(row) > status and row[status].strip() in ("u", "x"))
             for name, cell in zip(header, row, strict=False)] for row in rows[1:]]}
    return {"header": header,
            "rows": [[(cell, cell.strip() in SUPPRESSED_MARKS) for cell in row]
                     for row in rows[1:]]}


@router.get("/audit")
async def audit(request: Request) -> Response:
    actor = await _actor(request)
    if actor is None:
        return _to_login()
    if actor.role not in ("committee", "privacy_officer"):
        lang = _lang(request)
        return _render(request, "refused.html", actor, status=403,
                       said=translator(lang)["audit_forbidden"], line="")
    try:
        page = await run_in_threadpool(_report, state_of(request), _lang(request))
    except PrimexError as exc:  # no log yet, a log that cannot be read
        return _refused(request, actor, exc)
    return _render(request, "audit.html", actor, **page)


def _report(service: ServiceState, lang: str) -> dict[str, Any]:
    """The committee's report, with what the log records in typed form said in the page's
    language: the conditions in force (the history's words), why the verification failed
    or a request is not trusted (by reason code; the verifier's English detail apart)."""
    from primex.committee.report import WORDS, build_report

    words = REPORT.get(lang) or {**WORDS, **REPORT_ROLES_EN}
    report = build_report(service.home, words=words)
    verification, detail = report.verification, ""
    if report.failure is not None:
        said, detail = failure_said(report.failure, lang)
        verification = render(phrase("verification_failed", reason=said), words)
    untrusted = {r.request: refusal_said(r.untrusted, lang) for r in report.requests
                 if r.untrusted is not None}
    return {"report": report, "verification": verification, "detail": detail,
            "untrusted": untrusted, "conditions": _conditions_in_force(service, report, lang)}


def _conditions_in_force(service: ServiceState, report: Any, lang: str) -> dict[str, str]:
    """Per trusted request with an approval, its conditions in force (the latest approval or
    amendment, as the report takes them) in the history's words: `k=6 (tightened)`, not
    the log's field names."""
    said: dict[str, str] = {}
    with service.view() as log:
        for row in report.requests:
            if row.untrusted is not None:
                continue
            decided = [e for e in log.state(row.request).history
                       if e.type in ("approval", "amendment")]
            if not decided:
                continue
            conditions = decided[-1].body.get("conditions")
            text = render(condition_phrase(conditions), HISTORY[lang]) if isinstance(
                conditions, dict) else ""
            said[row.request] = text or render(phrase("history.no_conditions"), HISTORY[lang])
    return said


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)


_ENV.filters["dump"] = dump
