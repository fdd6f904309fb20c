"""Browser login with OpenID Connect: authorization code flow with PKCE (S256), state and
nonce, and full validation of the ID token (signature through the provider's JWKS, issuer,
audience, authorised party, expiry, issued-at, nonce) with joserfc, Authlib's JOSE library.
The OIDC subject then maps to one account (and its registered key); an unknown subject
gets no session."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool

from primex.service.db import LoginState, utcnow
from primex.service.identity import (
    account_by_subject,
    client_of,
    cookie_name,
    end_session,
    new_session,
    state_of,
)
from primex.service.settings import OidcSettings
from primex.service.state import ServiceState

LOGIN_COOKIE = "primex-login"
LOGIN_TTL = timedelta(minutes=10)
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]

router = APIRouter(prefix="/auth", tags=["login"])


class Provider:
    """The provider's discovery document and keys, fetched once and cached (keys again
    when a token names an unknown kid: key rotation)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._meta: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def meta(self) -> dict[str, Any]:
        with self._lock:
            if self._meta is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                meta = httpx.get(url, timeout=10).raise_for_status().json()
                if meta.get("issuer") != self.settings.issuer:
                    raise HTTPException(502, "the provider's issuer is not the configured one")
                self._meta = meta
            return self._meta

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                assert self._meta is not None
                data = httpx.get(self._meta["jwks_uri"], timeout=10).raise_for_status().json()
                self._keys = KeySet.import_key_set(data)
            return self._keys

    def validate_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        s = self.settings
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=ALGORITHMS)
            except JoseError:
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=ALGORITHMS)
            claims = token.claims
            jwt.JWTClaimsRegistry(
                leeway=30,
                iss={"essential": True, "value": s.issuer},
                aud={"essential": True, "value": s.client_id},
                exp={"essential": True},
                iat={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            raise HTTPException(401, f"ID token refused ({type(exc).__name__})") from None
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != s.client_id:
            raise HTTPException(401, "ID token refused (azp is not this client)")
        if claims["iat"] > time.time() + 60:
            raise HTTPException(401, "ID token refused (issued in the future)")
        return claims


def provider_of(state: ServiceState) -> Provider:
    if state.settings.oidc is None:
        raise HTTPException(404, "browser login is not configured on this service")
    cached = getattr(state, "_oidc", None)
    if cached is None:
        cached = Provider(state.settings.oidc)
        state._oidc = cached  # type: ignore[attr-defined]
    return cached


def _rate(state: ServiceState, request: Request) -> None:
    client = client_of(request)
    if state.limiter.exceeded("login", client, state.settings.login_attempts_per_minute):
        raise HTTPException(429, "too many login attempts; wait a minute")
    state.limiter.hit("login", client)


@router.get("/login", status_code=302, response_class=RedirectResponse,
            responses={302: {"description": "to the OpenID Provider"}})
async def login(request: Request) -> RedirectResponse:
    """Start a login at the OpenID Provider (authorization code + PKCE)."""
    state = state_of(request)
    provider = provider_of(state)
    _rate(state, request)
    meta = await run_in_threadpool(provider.meta)
    st, nonce, verifier = (secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                           secrets.token_urlsafe(64))

    def store() -> None:
        with state.db() as db:
            db.add(LoginState(state=st, nonce=nonce, code_verifier=verifier))

    await run_in_threadpool(store)
    s = provider.settings
    query = urlencode({
        "response_type": "code", "client_id": s.client_id, "redirect_uri": s.redirect_uri,
        "scope": "openid", "state": st, "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    })
    response = RedirectResponse(f"{meta['authorization_endpoint']}?{query}", status_code=302)
    response.set_cookie(LOGIN_COOKIE, st, max_age=int(LOGIN_TTL.total_seconds()),
                        httponly=True, secure=state.settings.cookie_secure, samesite="lax",
                        path="/auth")
    return response


def _finish(state: ServiceState, provider: Provider, code: str, st: str) -> tuple[str, str]:
    with state.db() as db:
        pending = db.get(LoginState, st)
        if pending is None:
            raise HTTPException(401, "unknown or used login state; start again")
        db.delete(pending)  # one use
        nonce, verifier, created = pending.nonce, pending.code_verifier, pending.created
    created = created if created.tzinfo else created.replace(tzinfo=utcnow().tzinfo)
    if utcnow() - created > LOGIN_TTL:
        raise HTTPException(401, "the login took too long; start again")
    s = provider.settings
    meta = provider.meta()
    try:  # the token request of RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5)
        reply = httpx.post(
            meta["token_endpoint"], auth=(s.client_id, s.client_secret), timeout=10,
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": s.redirect_uri, "code_verifier": verifier},
        )
        reply.raise_for_status()
        token = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise HTTPException(401, f"the provider refused the code ({type(exc).__name__})"
                            ) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise HTTPException(401, "the provider returned no ID token")
    claims = provider.validate_id_token(id_token, nonce)
    key_name = account_by_subject(state, str(claims["sub"]))
    if key_name is None:
        raise HTTPException(403, "this identity has no account on the service; ask the "
                                 "privacy officer")
    return new_session(state, key_name)


@router.get("/callback", status_code=303, response_class=RedirectResponse,
            responses={303: {"description": "logged in"}, 401: {"description": "refused"}})
async def callback(request: Request, code: str = "", state: str = "") -> RedirectResponse:
    """The provider sends the browser back here with a code; a session cookie results."""
    service = state_of(request)
    provider = provider_of(service)
    if not code or not state or request.cookies.get(LOGIN_COOKIE) != state:
        _rate(service, request)
        raise HTTPException(401, "login state missing or not from this browser")
    try:
        token, _csrf = await run_in_threadpool(_finish, service, provider, code, state)
    except HTTPException:
        _rate(service, request)
        raise
    # a login started from the web pages (issue 18) lands back on them
    portal = request.cookies.get("primex-portal-login") == "1"
    response = RedirectResponse("/portal/" if portal else "/api/me", status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/auth")
    response.set_cookie(cookie_name(service), token, httponly=True,
                        secure=service.settings.cookie_secure, samesite="lax", path="/",
                        max_age=service.settings.session_absolute_hours * 3600)
    return response


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response) -> None:
    """End the browser session (the cookie and its server record)."""
    from primex.service.identity import current_actor

    service = state_of(request)
    await current_actor(request)  # CSRF-checked like every write
    token = request.cookies.get(cookie_name(service))
    if token:
        await run_in_threadpool(end_session, service, token)
    response.delete_cookie(cookie_name(service), path="/", secure=service.settings.cookie_secure,
                           httponly=True, samesite="lax")
