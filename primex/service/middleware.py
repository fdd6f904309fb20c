"""Pure ASGI middleware: request size limit, security headers, structured access log.

The access log is one JSON line per request with the route template (never the query, a
body or a header), the status, the duration and the caller's role; no IP address, name or
e-mail (personal data stays out of logs)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS = logging.getLogger("primex.service.access")

# No inline script or style, nothing from elsewhere; pages of the next issue ship their
# own static assets from 'self'.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class LimitsAndHeaders:
    def __init__(self, app: ASGIApp, max_body: int, hsts: bool) -> None:
        self.app, self.max_body, self.hsts = app, max_body, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _plain(send, 413, "request body too large")
            self._log(scope, 413, started)
            return
        app_receive = receive
        if declared is None and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            # no declared length (chunked): read the body up to the limit first, so an
            # oversized one is refused before any handler parses it
            chunks, seen, more = [], 0, True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                seen += len(chunks[-1])
                more = bool(message.get("more_body"))
                if seen > self.max_body:
                    await _plain(send, 413, "request body too large")
                    self._log(scope, 413, started)
                    return
            buffered: list[Message] = [{"type": "http.request", "body": b"".join(chunks),
                                        "more_body": False}]

            async def replay() -> Message:
                return buffered.pop() if buffered else await receive()

            app_receive = replay

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                    (b"cache-control", b"no-store"),
                ]
                if self.hsts:
                    headers.append((b"strict-transport-security",
                                    b"max-age=31536000; includeSubDomains"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, app_receive, send_with_headers)
        self._log(scope, status["code"], started)

    @staticmethod
    def _log(scope: Scope, code: int, started: float) -> None:
        route = scope.get("route")
        record: dict[str, Any] = {
            "method": scope.get("method"),
            "route": getattr(route, "path", None) or "unmatched",
            "status": code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "role": scope.get("state", {}).get("actor_role"),
        }
        ACCESS.info(json.dumps(record, sort_keys=True))


async def _plain(send: Send, code: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})
