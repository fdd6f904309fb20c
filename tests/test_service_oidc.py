"""Browser login against a REAL OpenID Provider (node-oidc-provider on loopback): the
authorization code flow with PKCE, full ID-token validation, sessions, CSRF, expiry,
logout and login rate limits."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import HTTPException
from joserfc import jwt
from joserfc.jwk import RSAKey
from release_chain import PASS, no_fsync  # noqa: F401
from service_fixtures import (
    OIDC_CLIENT,
    OIDC_PASSWORDS,
    OidcProvider,
    ServerThread,
    Stack,
    browser_login,
    make_stack,
    oidc_provider_fixture,  # noqa: F401
    session_cookie,
)

from primex.service.app import create_app
from primex.service.db import WebSession, utcnow
from primex.service.oidc import Provider


@pytest.fixture
def web(request: pytest.FixtureRequest, tmp_path: Path, provider: OidcProvider,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("PRIMEX_PASSPHRASE_SPP", PASS)
    state, chain, port = make_stack(tmp_path, request, "sqlite", oidc=provider.settings,
                                    port=provider.service_port,  # type: ignore[attr-defined]
                                    login_attempts_per_minute=8)
    with ServerThread(create_app(state.settings, state), port) as server:
        yield Stack(server.url, chain, state, "sqlite")
    state.close()


def test_login_session_csrf_and_logout(web: Stack, provider: OidcProvider) -> None:
    reply = browser_login(web.url, provider, "sub-alice")
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/api/me"
    header = next(h for h in reply.headers.get_list("set-cookie")
                  if h.startswith("__Host-primex-session="))
    attributes = {a.strip().lower() for a in header.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=lax"} <= attributes
    cookie = {"Cookie": session_cookie(reply)}
    me = httpx.get(web.url + "/api/me", headers=cookie).json()
    assert (me["key"], me["role"], me["organisation"]) == ("alice", "researcher",
                                                           "HIVA - KU Leuven")
    web.chain.submit()
    rid = web.chain.request
    url = f"{web.url}/api/requests/{rid}/comments"
    assert httpx.get(url, headers=cookie).status_code == 200
    # a write with the session cookie but without the CSRF token: refused
    assert httpx.post(url, json={"text": "x"}, headers=cookie).status_code == 403
    csrf = {**cookie, "X-CSRF-Token": me["csrf"]}
    evil = httpx.post(url, json={"text": "x"}, headers={**csrf, "Origin": "https://evil.test"})
    assert evil.status_code == 403
    assert httpx.post(url, json={"text": "from the browser"}, headers=csrf).status_code == 201
    # logout ends the session on the server (the old cookie is worthless)
    assert httpx.post(web.url + "/auth/logout", headers=csrf).status_code == 204
    assert httpx.get(web.url + "/api/me", headers=cookie).status_code == 401


def test_unknown_subject_wrong_password_and_replayed_callback(
        web: Stack, provider: OidcProvider) -> None:
    # a person the provider knows but the service has no account for
    assert browser_login(web.url, provider, "sub-mallory").status_code == 403
    # a wrong password never reaches the service
    assert browser_login(web.url, provider, "sub-alice", "wrong").status_code == 401
    # a callback without the browser's login cookie (login CSRF) is refused
    assert httpx.get(web.url + "/auth/callback?code=x&state=y").status_code == 401


def test_session_expiry(web: Stack, provider: OidcProvider) -> None:
    cookie = {"Cookie": session_cookie(browser_login(web.url, provider, "sub-olivia"))}
    assert httpx.get(web.url + "/api/me", headers=cookie).status_code == 200
    with web.state.db() as db:
        for row in db.query(WebSession).all():
            row.last_seen = utcnow() - timedelta(minutes=31)
    reply = httpx.get(web.url + "/api/me", headers=cookie)
    assert reply.status_code == 401 and "expired" in reply.json()["detail"]


def test_login_rate_limit(web: Stack) -> None:
    codes = [httpx.get(web.url + "/auth/login").status_code for _ in range(10)]
    assert codes[:8] == [302] * 8 and codes[8:] == [429, 429]


def _id_token(provider: OidcProvider, nonce: str) -> str:
    """A genuine ID token from the provider, obtained as the service would (PKCE)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"response_type": "code", "client_id": OIDC_CLIENT[0],
                       "redirect_uri": provider.redirect_uri, "scope": "openid",
                       "state": "s" * 16, "nonce": nonce, "code_challenge_method": "S256",
                       "code_challenge": challenge.rstrip(b"=").decode()})
    with httpx.Client(timeout=10) as browser:
        page = browser.get(f"{provider.issuer}/auth?{query}", follow_redirects=True)
        answer = browser.post(provider.issuer + page.url.path + "/login", data={
            "login": "sub-alice", "password": OIDC_PASSWORDS["sub-alice"]})
        while not answer.headers["location"].startswith(provider.redirect_uri):
            answer = browser.get(answer.headers["location"])
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        without_verifier = browser.post(f"{provider.issuer}/token", auth=OIDC_CLIENT, data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": provider.redirect_uri})
        assert without_verifier.status_code == 400  # PKCE is required by the provider
    return _token_with_pkce(provider, nonce)


def _token_with_pkce(provider: OidcProvider, nonce: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"response_type": "code", "client_id": OIDC_CLIENT[0],
                       "redirect_uri": provider.redirect_uri, "scope": "openid",
                       "state": "t" * 16, "nonce": nonce, "code_challenge_method": "S256",
                       "code_challenge": challenge.rstrip(b"=").decode()})
    with httpx.Client(timeout=10) as browser:
        page = browser.get(f"{provider.issuer}/auth?{query}", follow_redirects=True)
        answer = browser.post(provider.issuer + page.url.path + "/login", data={
            "login": "sub-alice", "password": OIDC_PASSWORDS["sub-alice"]})
        while not answer.headers["location"].startswith(provider.redirect_uri):
            answer = browser.get(answer.headers["location"])
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        token = browser.post(f"{provider.issuer}/token", auth=OIDC_CLIENT, data={
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": provider.redirect_uri}).json()
    return str(token["id_token"])


def test_id_token_validation_refuses_every_forgery(provider: OidcProvider) -> None:
    nonce = secrets.token_urlsafe(16)
    genuine = _id_token(provider, nonce)
    validator = Provider(provider.settings)
    validator.meta()
    assert validator.validate_id_token(genuine, nonce)["sub"] == "sub-alice"

    def refused(token: str, expected_nonce: str = nonce, **settings: str) -> bool:
        other = Provider(provider.settings.model_copy(update=settings))
        other.meta() if not settings.get("issuer") else None
        other._meta = validator._meta
        try:
            other.validate_id_token(token, expected_nonce)
        except HTTPException as exc:
            return exc.status_code == 401
        return False

    assert refused(genuine, "another-nonce")  # replayed into another login
    assert refused(genuine, client_id="another-client")  # audience
    assert refused(genuine, issuer="http://127.0.0.1:1")  # issuer
    claims = json.loads(base64.urlsafe_b64decode(genuine.split(".")[1] + "=="))
    # same claims, signed by a key that is not in the provider's JWKS (same kid)
    forger = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                               parameters={"kid": "k1"})
    assert refused(jwt.encode({"alg": "RS256", "kid": "k1"}, claims, forger))
    # an expired token, properly signed by the forger: refused for both reasons
    assert refused(jwt.encode({"alg": "RS256", "kid": "k1"},
                              {**claims, "exp": int(time.time()) - 3600}, forger))
    # alg none / a tampered payload with the genuine signature
    head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = genuine.split(".")[1]
    assert refused(f"{head}.{body}.")
    tampered = dict(claims, sub="sub-olivia")
    payload = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    h, _, s = genuine.split(".")
    assert refused(f"{h}.{payload}.{s}")
