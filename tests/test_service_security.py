"""Security properties of the service over HTTP: a bounded schemathesis run over the
OpenAPI description (no 5xx; no operation answers without credentials), security headers,
request size limits, signed-request failure rate limit, access logs without personal
data, and the database schema of the migrations equals the models."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from release_chain import no_fsync  # noqa: F401
from service_fixtures import Stack, pg_url, service_stack_fixture  # noqa: F401

from primex.service.db import Base, make_engine, migrate
from primex.service.httpsig import sign_request

ANONYMOUS = {"/api/health", "/api/public/keys", "/auth/login", "/auth/callback"}
EXAMPLES = 4  # per operation: bounded


def _signed(stack: Stack, method: str, url: str, body: bytes) -> dict[str, str]:
    path = url[len(stack.url):]
    signer = stack.chain.signers["olivia"]
    return dict(sign_request(method, path, body, signer.name, signer, time.time()).headers)


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_schemathesis_no_5xx_and_nothing_anonymous(stack: Stack) -> None:
    stack.chain.submit()
    with stack.client("olivia") as olivia:
        raw = olivia.call("GET", "/openapi.json")
    schema = schemathesis.openapi.from_dict(raw)
    failures: list[str] = []
    calls = {"n": 0}

    def runner(operation: schemathesis.APIOperation) -> object:
        anonymous = operation.path in ANONYMOUS

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url=stack.url)
            method, url = kwargs["method"].upper(), kwargs["url"]
            params = kwargs.get("params") or None
            request = httpx.Request(method, url, params=params)
            full = str(request.url)
            body = b""
            if kwargs.get("json") is not None:
                body = json.dumps(kwargs["json"]).encode()
            elif isinstance(kwargs.get("data"), str | bytes):
                body = kwargs["data"] if isinstance(kwargs["data"], bytes) else (
                    kwargs["data"].encode())
            headers = {"Content-Type": "application/json"}
            bare = httpx.request(method, full, content=body, headers=headers)
            calls["n"] += 1
            if bare.status_code >= 500:
                failures.append(f"{method} {full} anonymous -> {bare.status_code}")
            if not anonymous and bare.status_code != 401:
                failures.append(f"{method} {full} answered {bare.status_code} without "
                                "credentials")
            if anonymous:
                return
            signed = httpx.request(method, full, content=body, headers={
                **headers, **_signed(stack, method, full, body)})
            calls["n"] += 1
            if signed.status_code >= 500:
                failures.append(f"{method} {full} -> {signed.status_code}")
            if signed.status_code == 401:
                failures.append(f"{method} {full}: a valid signature was refused")

        return check

    for result in schema.get_all_operations():
        runner(result.ok())()  # type: ignore[operator]
    assert calls["n"] > 100
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
def test_headers_size_limit_and_signature_failure_rate_limit(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="primex.service.access")
    reply = httpx.get(stack.url + "/api/health")
    csp = reply.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["cache-control"] == "no-store"
    # a body over the limit is refused before it is read or parsed
    big = json.dumps({"yaml": "x" * (300 * 1024)}).encode()
    with stack.client("alice") as alice:
        too_big = httpx.post(stack.url + "/api/validate", content=big, headers={
            "Content-Type": "application/json",
            **_signed(stack, "POST", stack.url + "/api/validate", big)})
        assert too_big.status_code == 413
        # also when the client lies about the length (chunked upload)
        chunked = httpx.post(stack.url + "/api/validate",
                             content=iter([big[:1000], big[1000:]]),
                             headers={"Content-Type": "application/json"})
        assert chunked.status_code in (401, 413)
        # a YAML over the loader's own limit (64 KiB) is one clear problem, not a crash
        with pytest.raises(Exception) as err:
            alice.validate("title: x\n" + "#" * (70 * 1024))
        assert getattr(err.value, "status", None) == 422
    # repeated bad signatures from one client: 429 after the limit (20 a minute)
    bad = {**_signed(stack, "GET", stack.url + "/api/me", b""), "Signature": "sig=:AAAA:"}
    codes = [httpx.get(stack.url + "/api/me", headers=bad).status_code for _ in range(22)]
    assert codes[:20] == [401] * 20 and codes[20:] == [429, 429]
    # access log: JSON lines with route templates, no key names, e-mails or addresses
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "primex.service.access"]
    assert lines and all(set(line) == {"method", "route", "status", "ms", "role"}
                         for line in lines)
    assert {"researcher", None} <= {line["role"] for line in lines}
    text = " ".join(r.getMessage() for r in caplog.records)
    for personal in ("alice", "olivia", "example.org", "127.0.0.1"):
        assert personal not in text


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_the_models(kind: str, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    from service_fixtures import database_url

    engine = make_engine(database_url(kind, tmp_path, request))
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
