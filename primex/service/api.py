"""The JSON API of the ad hoc flow (every route needs an authenticated actor, except
/api/health and /api/public/keys). Handlers are plain `def`: FastAPI runs them in its
thread pool, so the audit log, the database and the validator never block the event loop.

Per-object authorisation: a researcher sees only the requests of their organisation (any
other id is "unknown", as if it did not exist); staff roles see every request; decisions
are checked by the workflow of the signed log (role, state, separation of duties per
person) and signed by the person (primex.service.decisions).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from primex.audit.log import AuditLog, signed_bytes
from primex.audit.workflow import RequestState
from primex.errors import PermissionDenied, PrimexError
from primex.redact import redact
from primex.requests.yaml_loader import MAX_BYTES
from primex.service import decisions
from primex.service.db import Comment, Job
from primex.service.identity import Actor, current_actor, state_of
from primex.service.state import ServiceState

STAFF = ("privacy_officer", "president", "spp_operator", "committee")
SOURCE = "request.yaml"

router = APIRouter(prefix="/api")
Caller = Annotated[Actor, Depends(current_actor)]
RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


# --- models ---------------------------------------------------------------------------
class YamlIn(BaseModel):
    yaml: str = Field(max_length=MAX_BYTES, description="The request, as `request validate` "
                      "reads it (UTF-8 YAML; the YAML loader's limits apply).")


class Problem(BaseModel):
    line: int
    column: int
    path: str
    what: str
    hint: str | None = None


class ValidationOut(BaseModel):
    ok: bool
    problems: list[Problem]
    lines: list[str] = Field(description="The same problems as `primex request validate`.")


class ReasonsIn(BaseModel):
    reasons: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        min_length=1, max_length=20)


class ApprovalIn(BaseModel):
    conditions: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20,
        description="As `primex review approve --conditions`: NAME=VALUE for a disclosure "
        "parameter (k, l, max_suppression, min_count, p_percent, dominance.n, dominance.k), "
        "VARIABLE=LEVEL (generalise to a level of its catalogue hierarchy), drop=VARIABLE, "
        "priority.VARIABLE=keep|high|normal|low, or free-text notes (without '=').")


class OutputCheckIn(BaseModel):
    decision: Literal["approve", "return"]
    reasons: list[Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=list, max_length=20)


class SignoffIn(BaseModel):
    pass


class Signed(BaseModel):
    draft: dict[str, Any] = Field(description="The draft returned by prepare, unchanged.")
    signature: str = Field(max_length=200, description="base64 Ed25519 signature of "
                           "primex.audit.log.signed_bytes(draft) by your registered key.")


class DraftOut(BaseModel):
    draft: dict[str, Any]
    signing_input: str = Field(description="base64 of the exact bytes to sign (check "
                               "them against the draft before signing).")


class CommittedOut(BaseModel):
    request: str
    seq: int
    state: str | None


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class CommentOut(BaseModel):
    id: int
    author: str
    role: str
    text: str
    created: str


class JobIn(BaseModel):
    step: Literal["extract", "link", "protect", "build"]


class JobOut(BaseModel):
    id: str
    request: str
    step: str
    state: str
    progress: int
    message: str


class Me(BaseModel):
    key: str
    role: str
    organisation: str | None
    via: str
    csrf: str | None


# --- helpers --------------------------------------------------------------------------
def _service(request: Request) -> ServiceState:
    return state_of(request)


def _visible(actor: Actor, st: RequestState) -> bool:
    return _visible_org(actor, st.organisation)


def _visible_org(actor: Actor, organisation: str | None) -> bool:
    """Staff see every request; a researcher only those of the organisation the signed
    log registers for their key (contract C5; none registered: nothing)."""
    if actor.role in STAFF:
        return True
    if actor.role == "researcher":
        return bool(actor.organisation) and organisation == actor.organisation
    return False


def _seen(service: ServiceState, actor: Actor, request_id: str) -> dict[str, Any]:
    """`lifecycle.status` of a request the actor may see, from the read snapshot; 404 for
    any other id (as if it did not exist)."""
    snap = service.snapshot()
    found = snap.statuses.get(request_id)
    if found is None or not _visible_org(actor, found["organisation"]):
        raise HTTPException(404, f"unknown request {request_id}")
    return found


def _state(log: AuditLog, actor: Actor, request_id: str) -> RequestState:
    if request_id in log.requests():
        st = log.state(request_id)
        if _visible(actor, st):
            return st
    raise HTTPException(404, f"unknown request {request_id}")


def _require(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise PermissionDenied(f"this needs the role {' or '.join(roles)}, not {actor.role}",
                               where=actor.key_name)


_VALIDATED: OrderedDict[str, Any] = OrderedDict()  # sha256 -> Checked, newest last
_VALIDATED_LOCK = threading.Lock()
_VALIDATED_MAX = 256


def _checked(raw: str, service: ServiceState) -> Any:
    """Validate like `request validate`. The result of the same bytes is reused for a
    minute (a submission's commit follows its prepare: validating twice would double the
    cost of the slowest call); the data coverage it depends on changes quarterly."""
    from primex.requests.validate import validate_bytes

    data = raw.encode("utf-8")
    key = hashlib.sha256(data).hexdigest()
    now = time.monotonic()
    with _VALIDATED_LOCK:
        hit = _VALIDATED.get(key)
        if hit is not None and now - hit[0] < 60:
            return hit[1]
    catalogue, policy, coverage = service.validation_inputs()
    try:
        checked = validate_bytes(data, SOURCE, home=service.home, catalogue=catalogue,
                                 policy=policy, coverage=coverage)
    except PrimexError as exc:  # YAML that cannot be read at all: one problem
        raise HTTPException(422, {"ok": False, "problems": [],
                                  "lines": [exc.one_line()]}) from None
    with _VALIDATED_LOCK:
        _VALIDATED[key] = (now, checked)
        while len(_VALIDATED) > _VALIDATED_MAX:
            _VALIDATED.popitem(last=False)
    return checked


def _problems(checked: Any) -> ValidationOut:
    probs = sorted(set(checked.problems))
    return ValidationOut(
        ok=checked.ok,
        problems=[Problem(line=p.line, column=p.column, path=p.path, what=p.what,
                          hint=p.hint) for p in probs],
        lines=checked.lines(),
    )


# --- public ---------------------------------------------------------------------------
@router.get("/health", tags=["public"])
def health() -> dict[str, str]:
    """Liveness (no authentication)."""
    return {"status": "ok"}


@router.get("/public/keys", tags=["public"])
def public_keys(request: Request) -> dict[str, Any]:
    """The public verification keys the signed log registers (no authentication)."""
    with _service(request).view() as log:
        keys = [{"name": k.name, "role": k.role, "active": k.active,
                 "ed25519": base64.b64encode(k.public_key).decode()}
                for k in log.registry.keys.values()]
        return {"origin": log.origin, "keys": keys}


@router.get("/me", tags=["account"])
def me(actor: Caller) -> Me:
    """Who you are to the service (and your CSRF token, for a browser session)."""
    return Me(key=actor.key_name, role=actor.role, organisation=actor.organisation,
              via=actor.via, csrf=actor.csrf)


# --- researcher: validate, assess, submit ----------------------------------------------
@router.post("/validate", tags=["requests"])
def validate(body: YamlIn, request: Request, actor: Caller) -> ValidationOut:
    """Every problem of a request, positioned (line, column, field), as `request validate`."""
    return _problems(_checked(body.yaml, _service(request)))


@router.post("/assess", tags=["requests"])
def assess(body: YamlIn, request: Request, actor: Caller) -> dict[str, Any]:
    """The disclosure-risk pre-assessment of a valid request on the current data."""
    from primex.requests.assess import assess as run_assess

    _require(actor, "researcher", "privacy_officer")
    service = _service(request)
    checked = _checked(body.yaml, service)
    if not checked.ok:
        raise HTTPException(422, _problems(checked).model_dump())
    return run_assess(checked.spec, service.home).to_json()  # type: ignore[no-any-return]


def _valid_submission(body: YamlIn, service: ServiceState, actor: Actor) -> Any:
    """Validate (outside the log lock: it is the slow part) and check the organisation."""
    _require(actor, "researcher")
    checked = _checked(body.yaml, service)
    if not checked.ok:
        raise HTTPException(422, _problems(checked).model_dump())
    if actor.organisation is None or checked.spec.requester.organisation != actor.organisation:
        raise PermissionDenied(
            f"requester.organisation is not your organisation ({actor.organisation})",
            where=f"{SOURCE}: requester.organisation",
            hint="a researcher submits only for the organisation of their account",
        )
    return checked


def _submission_body(checked: Any, actor: Actor, log: AuditLog) -> dict[str, Any]:
    from primex.requests.lifecycle import submission_body

    if checked.spec.id is not None:
        _state(log, actor, checked.spec.id)
    return submission_body(log, checked.spec, checked.loaded.raw, SOURCE)  # type: ignore[no-any-return]


def _draft_out(draft: dict[str, Any]) -> DraftOut:
    return DraftOut(draft=draft, signing_input=base64.b64encode(signed_bytes(draft)).decode())


@router.post("/submissions/prepare", tags=["requests"])
def submission_prepare(body: YamlIn, request: Request, actor: Caller) -> DraftOut:
    """Validate a request and return the `submission` entry to sign (nothing stored)."""
    service = _service(request)
    checked = _valid_submission(body, service, actor)
    with service.slot.lease(actor.key_name), service.log() as log:
        entry_body = _submission_body(checked, actor, log)
        return _draft_out(decisions.prepare(log, "submission", checked.spec.id, entry_body,
                                            actor.key_name))


class SubmissionCommit(YamlIn, Signed):
    pass


@router.post("/submissions/commit", tags=["requests"], status_code=201)
def submission_commit(body: SubmissionCommit, request: Request,
                      actor: Caller) -> CommittedOut:
    """Store the request's bytes and append the signed `submission`."""
    from primex.requests import store

    service = _service(request)
    checked = _valid_submission(body, service, actor)
    raw = checked.loaded.raw
    with service.slot.commit(actor.key_name), service.log() as log:
        entry_body = _submission_body(checked, actor, log)
        digest, created = store.store_bytes(service.home, raw)
        try:
            entry = decisions.commit(log, body.draft, body.signature, actor.key_name,
                                     entry_body)
        except BaseException:
            if created:
                store.discard(service.home, digest)
            raise
    assert entry.request is not None  # the slot is free again: the rest is not urgent
    return _committed(service, entry.request, entry.seq)


def _committed(service: ServiceState, rid: str, seq: int) -> CommittedOut:
    """After an append, outside the commit slot (the next decision need not wait for it)."""
    service.appended()
    with service.log() as log:
        if service.notifier is not None:
            service.notifier.transition(log, rid)
        return CommittedOut(request=rid, seq=seq, state=log.state(rid).state)


# --- privacy officer and president: decisions on a request ------------------------------
def _reasons_body(data: ReasonsIn, *_: Any) -> dict[str, Any]:
    return {"reasons": [r.strip() for r in data.reasons if r.strip()] or ["(no reason)"]}


def _approval_body(data: ApprovalIn, service: ServiceState, log: AuditLog,
                   rid: str) -> dict[str, Any]:
    from primex.requests.conditions import conditions_for
    from primex.requests.store import load_submitted

    spec, _raw, sha = load_submitted(service.home, rid)
    items = list(data.conditions)
    try:  # the same function as `review approve` and `review amend`
        return {"spec_sha256": sha, "conditions": conditions_for(items, spec)}
    except PrimexError as exc:
        # the portal shows its one line beside the form field of the first condition that
        # makes it fail
        culprit = next((item for n, item in enumerate(items, 1)
                        if _fails(items[:n], spec)), None)
        # beside a form field, the CLI option the parser names (`--conditions: …`) means
        # nothing to the officer: the field is the place
        line = PrimexError(exc.what, hint=exc.hint).one_line() if (
            exc.where == "--conditions") else exc.one_line()
        raise HTTPException(422, {"lines": [redact(line)],
                                  "field": _condition_field(culprit)}) from None


def _fails(items: list[str], spec: Any) -> bool:
    from primex.requests.conditions import conditions_for

    try:
        conditions_for(items, spec)
    except PrimexError:
        return True
    return False


def _condition_field(item: str | None) -> str:
    """The approval form's field of a `--conditions` item (k, dominance.n,
    generalise.VAR, drop.VAR, priority.VAR, or notes)."""
    from primex.requests.conditions import PARAMETERS

    name, sep, value = (item or "").partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name.replace(".", "").replace("_", "").isalnum():
        return "notes"
    if name == "drop":
        return f"drop.{value}"
    if name in PARAMETERS or name.startswith("priority."):
        return name
    return f"generalise.{name}"


def _protected_manifest(service: ServiceState, log: AuditLog, rid: str) -> Any:
    from primex.errors import IntegrityError
    from primex.release.gate import protected_dir
    from primex.release.manifest import collect_protected

    st = log.state(rid)
    if st.state != "protected" or st.manifest_sha256 is None:
        raise PermissionDenied(f"the request is {st.state}; only a protected output can be "
                               "checked", where=f"request {rid}")
    manifest = collect_protected(protected_dir(service.home, rid).parent)
    if manifest.sha256 != st.manifest_sha256:
        raise IntegrityError("the protected files differ from those the disclosure result "
                             "passed", where=f"request {rid}",
                             hint="protect the output again; never edit protected files")
    return manifest


def _output_check_body(data: OutputCheckIn, service: ServiceState, log: AuditLog,
                       rid: str) -> dict[str, Any]:
    manifest = _protected_manifest(service, log, rid)
    body: dict[str, Any] = {"manifest_sha256": manifest.sha256, "decision": data.decision}
    reasons = [r.strip() for r in data.reasons if r.strip()]
    if reasons:
        body["reasons"] = reasons
    return body


def _signoff_body(_data: SignoffIn, service: ServiceState, log: AuditLog,
                  rid: str) -> dict[str, Any]:
    from primex.release.signoff import prepare_signoff, signoff_body

    # The same body the CLI signs: data files, readable reports and the recipient.
    view = prepare_signoff(service.home, log, rid)
    return signoff_body(view.manifest, view.reports, view.recipient.fingerprint)


# (url part, event, input model, body builder)
DECISION_ROUTES: list[tuple[str, str, type[BaseModel], Any]] = [
    ("return", "return", ReasonsIn, _reasons_body),
    ("reject", "rejection", ReasonsIn, _reasons_body),
    ("approve", "approval", ApprovalIn, _approval_body),
    ("output-check", "output_check", OutputCheckIn, _output_check_body),
    ("signoff", "signoff", SignoffIn, _signoff_body),
]


def _add_decision(part: str, event: str, model: type[BaseModel], build: Any) -> None:
    role = decisions.DECISIONS[event]
    commit_model = type(f"{model.__name__}Signed{event.title().replace('_', '')}",
                        (model, Signed), {})

    def _body(data: BaseModel, service: ServiceState, actor: Actor, log: AuditLog,
              rid: str) -> dict[str, Any]:
        _require(actor, role)
        _state(log, actor, rid)
        return build(data, service, log, rid)  # type: ignore[no-any-return]

    def prepare_route(request_id: str, data: model, request: Request,  # type: ignore[valid-type]
                      actor: Caller) -> DraftOut:
        service = _service(request)
        with service.slot.lease(actor.key_name), service.log() as log:
            body = _body(data, service, actor, log, request_id)
            return _draft_out(decisions.prepare(log, event, request_id, body, actor.key_name))

    def commit_route(request_id: str, data: commit_model, request: Request,  # type: ignore[valid-type]
                     actor: Caller) -> CommittedOut:
        service = _service(request)
        with service.slot.commit(actor.key_name), service.log() as log:
            body = _body(data, service, actor, log, request_id)
            entry = decisions.commit(log, data.draft, data.signature,  # type: ignore[attr-defined]
                                     actor.key_name, body)
        return _committed(service, request_id, entry.seq)

    # the module's annotations are strings (PEP 563); these two name local classes
    prepare_route.__annotations__ = {"request_id": str, "data": model, "request": Request,
                                     "actor": Caller, "return": DraftOut}
    commit_route.__annotations__ = {"request_id": str, "data": commit_model,
                                    "request": Request, "actor": Caller,
                                    "return": CommittedOut}
    doc = f"the `{event}` entry ({role})"
    router.add_api_route(f"/requests/{{request_id}}/{part}/prepare", prepare_route,
                         methods=["POST"], tags=["decisions"], name=f"{event}_prepare",
                         summary=f"Prepare {doc} to sign")
    router.add_api_route(f"/requests/{{request_id}}/{part}/commit", commit_route,
                         methods=["POST"], tags=["decisions"], name=f"{event}_commit",
                         status_code=201, summary=f"Append {doc}, signed by you")


for _route in DECISION_ROUTES:
    _add_decision(*_route)


# --- reading ----------------------------------------------------------------------------
@router.get("/requests", tags=["requests"])
def list_requests(request: Request, actor: Caller,
                  state: Annotated[str | None, Field(max_length=32)] = None) -> dict[str, Any]:
    """The requests you may see (researchers: your organisation's), optionally by state."""
    snap = _service(request).snapshot()
    rows = [snap.row(rid) for rid in snap.order
            if _visible_org(actor, snap.organisation(rid))]
    return {"requests": [r for r in rows if state is None or r["state"] == state]}


@router.get("/requests/{request_id}", tags=["requests"])
def request_status(request_id: str, request: Request, actor: Caller) -> dict[str, Any]:
    """State, next step and history (from the signed log) of one request."""
    info = _seen(_service(request), actor, request_id)
    hidden = _hidden_checks(info["state"], [(h["seq"], h["event"], h["actor"])
                                            for h in info["history"]], actor)
    if hidden:  # a copy: the snapshot's dict is shared by every reader
        info = {**info, "history": [h for h in info["history"] if h["seq"] not in hidden]}
    return info


def hidden_output_checks(st: RequestState, actor: Actor) -> set[int]:
    """Four eyes (C6): the checks of the current output that an officer who has not decided
    on it yet does not see (independent decisions, as in OpenSAFELY Airlock)."""
    return _hidden_checks(st.state, [(e.seq, e.type, e.actor) for e in st.history], actor)


def _hidden_checks(state: str | None, history: list[tuple[int, str, str]],
                   actor: Actor) -> set[int]:
    """`hidden_output_checks` on (seq, event, actor) triples (a RequestState's history or
    the read snapshot's status)."""
    if actor.role != "privacy_officer" or state != "protected":
        return set()
    results = [seq for seq, event, _a in history if event == "disclosure_result"]
    checks = [(seq, who) for seq, event, who in history
              if event == "output_check" and seq > (results[-1] if results else -1)]
    if any(who == actor.key_name for _s, who in checks):
        return set()
    return {seq for seq, _w in checks}


@router.get("/requests/{request_id}/comments", tags=["comments"])
def comments(request_id: str, request: Request, actor: Caller) -> list[CommentOut]:
    """The comment thread of a request (officer and researcher), oldest first."""
    service = _service(request)
    _seen(service, actor, request_id)
    with service.db() as db:
        rows = db.scalars(select(Comment).where(Comment.request == request_id)
                          .order_by(Comment.id)).all()
        return [CommentOut(id=c.id, author=c.author, role=c.role, text=c.text,
                           created=c.created.isoformat()) for c in rows]


@router.post("/requests/{request_id}/comments", tags=["comments"], status_code=201)
def add_comment(request_id: str, body: CommentIn, request: Request,
                actor: Caller) -> CommentOut:
    """Add to the thread (the officer and the researchers of the request's organisation)."""
    _require(actor, "researcher", "privacy_officer")
    service = _service(request)
    _seen(service, actor, request_id)
    with service.db() as db:
        row = Comment(request=request_id, author=actor.key_name, role=actor.role,
                      text=body.text)
        db.add(row)
        db.flush()
        return CommentOut(id=row.id, author=row.author, role=row.role, text=row.text,
                          created=row.created.isoformat())


@router.get("/requests/{request_id}/output", tags=["decisions"])
def output_review(request_id: str, request: Request, actor: Caller) -> dict[str, Any]:
    """What the output check and the sign-off are about: the manifest of the protected
    files and the disclosure report (risk before/after, suppressions)."""
    import json

    from primex.release.gate import protected_dir
    from primex.release.manifest import REPORT_JSON

    _require(actor, "privacy_officer", "president")
    service = _service(request)
    with service.log() as log:
        st = _state(log, actor, request_id)
        manifest = _protected_manifest(service, log, request_id) if (
            st.state == "protected") else None
        if st.state == "output_checked":
            from primex.release.signoff import prepare_signoff

            manifest = prepare_signoff(service.home, log, request_id).manifest
    if manifest is None:
        raise PermissionDenied(f"the request is {st.state}: no output to review",
                               where=f"request {request_id}")
    path = protected_dir(service.home, request_id) / REPORT_JSON
    report = json.loads(path.read_text("utf-8")) if path.exists() else None
    return {"request": request_id, "state": st.state, "manifest": manifest.as_dict(),
            "manifest_sha256": manifest.sha256, "report": report}


# --- jobs -----------------------------------------------------------------------------
@router.post("/requests/{request_id}/jobs", tags=["jobs"], status_code=202)
def start_job(request_id: str, body: JobIn, request: Request, actor: Caller) -> JobOut:
    """Start a long step (extract, protect, build the release) in the background; poll
    the job."""
    _require(actor, "spp_operator")
    service = _service(request)
    _seen(service, actor, request_id)
    job_id = service.jobs.submit(request_id, body.step, actor.key_name)
    return job(job_id, request, actor)


@router.get("/jobs/{job_id}", tags=["jobs"])
def job(job_id: str, request: Request, actor: Caller) -> JobOut:
    """A job's state (queued, running, done, failed), progress and message."""
    _require(actor, "spp_operator", "privacy_officer")
    with _service(request).db() as db:
        row = db.get(Job, job_id)
        if row is None:
            raise HTTPException(404, "unknown job")
        return JobOut(id=row.id, request=row.request, step=row.step, state=row.state,
                      progress=row.progress, message=row.message)


# --- release and audit -----------------------------------------------------------------
@router.get("/requests/{request_id}/package", tags=["release"],
            response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
def package(request_id: str, request: Request, actor: Caller) -> FileResponse:
    """The encrypted release package (the requester's organisation only; opened with
    `primex release open`)."""
    from primex.release.package import default_path

    _require(actor, "researcher")
    service = _service(request)
    current = _seen(service, actor, request_id)["state"]
    if current != "released":
        raise PermissionDenied(f"the request is {current}; nothing is released yet",
                               where=f"request {request_id}")
    path: Path = default_path(service.home, request_id)
    if not path.is_file():
        raise HTTPException(404, "the package is not on the service any more")
    return FileResponse(path, media_type="application/octet-stream",
                        filename=path.name)


@router.get("/audit/report", tags=["audit"])
def audit_report(request: Request, actor: Caller,
                 request_id: Annotated[str | None, Field(max_length=64)] = None
                 ) -> dict[str, Any]:
    """The committee's readable history (from the log alone, verified)."""
    from dataclasses import asdict

    from primex.committee.report import build_report

    _require(actor, "committee", "privacy_officer")
    service = _service(request)
    if request_id is not None:
        _seen(service, actor, request_id)
    report = build_report(service.home, request=request_id)
    return asdict(report)
