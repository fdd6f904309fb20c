"""Who is calling: a signed request (RFC 9421, the CLI) or a browser session (after an
OIDC login). Either way the caller becomes an `Actor`: a key registered in the signed
audit log (its role, person and organisation come from the log's registry, never from the
client nor from the service's database: contract C5), with an account in the service's
database (its e-mail and OIDC subject). Anything else is 401; a researcher whose key_add
carries no organisation is refused (403, re-register with `--organisation`).

Cookie-authenticated writes need the session's CSRF token (header X-CSRF-Token) and, when
the browser sends one, an Origin equal to the service's own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from starlette.concurrency import run_in_threadpool

from primex.service import httpsig
from primex.service.db import Account, SeenNonce, WebSession, utcnow
from primex.service.state import ServiceState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Actor:
    key_name: str
    role: str
    person: str
    organisation: str | None
    email: str | None
    via: str  # "signature" or "session"
    csrf: str | None = None


def state_of(request: Request) -> ServiceState:
    return request.app.state.service  # type: ignore[no-any-return]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Signature"})


def cookie_name(state: ServiceState) -> str:
    # __Host-: the browser refuses it unless Secure, Path=/ and no Domain (no subdomain
    # can plant or read it)
    return "__Host-primex-session" if state.settings.cookie_secure else "primex-session"


def _actor_for(state: ServiceState, key_name: str, via: str,
               csrf: str | None = None) -> Actor | None:
    """The active registered key with an account, as an Actor (None otherwise). Role,
    person and organisation come from the signed log's registry (contract C5); the
    database only says the key may use the service and where its e-mail goes."""
    info = state.snapshot().active_key(key_name)
    if info is None:
        return None
    account = state.account(key_name)
    if account is None:
        return None
    return Actor(key_name, info.role, info.person, info.organisation, account.email, via,
                 csrf)


def _signed_actor(state: ServiceState, request: Request, body: bytes) -> Actor:
    s = state.settings
    client = client_of(request)
    if state.limiter.exceeded("signature", client, s.signature_failures_per_minute):
        raise HTTPException(429, detail="too many failed signed requests; wait a minute")

    def fail(detail: str) -> HTTPException:
        state.limiter.hit("signature", client)
        return unauthorized(detail)

    # the path and query exactly as sent (percent-encoded), as the client signed them
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    try:
        parsed = httpsig.parse_signed_request(request.method, url, body, request.headers)
    except httpsig.SignatureProblem as exc:
        raise fail(str(exc)) from None
    now = time.time()
    try:
        date = parsedate_to_datetime(request.headers.get("date", "")).timestamp()
    except (TypeError, ValueError):
        raise fail("the Date header is missing or malformed") from None
    window = s.signature_window_seconds
    if abs(now - parsed.created) > window or abs(now - date) > window:
        raise fail(f"the signature is older or newer than {window} s (check the clock)")
    info = state.snapshot().active_key(parsed.keyid)
    if info is None or not httpsig.verify(parsed, info.public_key):
        raise fail("the signature does not verify with an active registered key")
    actor = _actor_for(state, parsed.keyid, "signature")
    if actor is None:
        raise fail("this key has no account on the service")
    if parsed.created < state.started - 1 and state.settings.workers == 1:
        # the nonces of this process are in memory: a request signed before it started
        # could be a replay of one the previous process accepted
        raise fail("the signature predates the service's start; sign the request again")
    if not state.nonces.add(parsed.keyid, parsed.nonce, now + 2 * window):
        raise fail("replayed request (this nonce was already used)")
    if state.settings.workers > 1:  # shared by every process: one INSERT, no ORM
        try:
            with state.engine.begin() as conn:
                conn.execute(insert(SeenNonce).values(key_name=parsed.keyid,
                                                      nonce=parsed.nonce, created=utcnow()))
        except DbIntegrityError:
            raise fail("replayed request (this nonce was already used)") from None
        if time.monotonic() - state.nonces_purged > 60:  # older nonces are refused by time
            state.nonces_purged = time.monotonic()
            purge_nonces(state)
    return actor


def purge_nonces(state: ServiceState) -> None:
    cutoff = utcnow() - timedelta(seconds=2 * state.settings.signature_window_seconds)
    with state.db() as db:
        db.execute(delete(SeenNonce).where(SeenNonce.created < cutoff))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _session_actor(state: ServiceState, request: Request, token: str) -> Actor:
    s = state.settings
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = utcnow()
    with state.db() as db:
        row = db.get(WebSession, digest)
        if row is None:
            raise unauthorized("no valid session; log in again")
        idle = now - _aware(row.last_seen) > timedelta(minutes=s.session_minutes)
        old = now - _aware(row.created) > timedelta(hours=s.session_absolute_hours)
        if idle or old:
            db.delete(row)
            raise unauthorized("the session expired; log in again")
        if now - _aware(row.last_seen) > timedelta(seconds=60):  # one write a minute at most
            row.last_seen = now
        key_name, csrf = row.key_name, row.csrf
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise HTTPException(403, detail="missing or wrong X-CSRF-Token")
        origin = request.headers.get("origin")
        own = urlsplit(s.public_url)
        if origin is not None and origin != f"{own.scheme}://{own.netloc}":
            raise HTTPException(403, detail="cross-origin request refused")
    actor = _actor_for(state, key_name, "session", csrf)
    if actor is None:
        raise unauthorized("the account or its key is no longer active")
    return actor


async def current_actor(request: Request) -> Actor:
    """FastAPI dependency: the authenticated caller, or 401."""
    state = state_of(request)
    if "signature-input" in request.headers or "signature" in request.headers:
        body = await request.body()
        actor = await run_in_threadpool(_signed_actor, state, request, body)
    elif token := request.cookies.get(cookie_name(state)):
        actor = await run_in_threadpool(_session_actor, state, request, token)
    else:
        raise unauthorized("authentication required: a signed request or a session")
    request.state.actor_role = actor.role  # for the access log (the role, not the person)
    if actor.role == "researcher" and not actor.organisation:
        raise HTTPException(403, detail=f"key {actor.key_name}: the signed log registers no "
                            "organisation for this researcher; the committee re-registers "
                            "the key with `primex keys register --organisation ORG`")
    return actor


def new_session(state: ServiceState, key_name: str) -> tuple[str, str]:
    """Create a session; returns (cookie token, csrf token). Only the token's hash is kept."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with state.db() as db:
        db.add(WebSession(id_hash=hashlib.sha256(token.encode()).hexdigest(),
                          key_name=key_name, csrf=csrf))
    return token, csrf


def end_session(state: ServiceState, token: str) -> None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with state.db() as db:
        db.execute(delete(WebSession).where(WebSession.id_hash == digest))


def account_by_subject(state: ServiceState, subject: str) -> str | None:
    with state.db() as db:
        return db.scalar(select(Account.key_name).where(Account.oidc_subject == subject))
