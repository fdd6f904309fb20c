"""The remote client of `primex serve`: what the CLI's `--server URL` uses.

Every call is signed with the actor's Ed25519 key (RFC 9421, primex.service.httpsig). A
decision is prepared by the service, checked here (it is the decision asked for, by this
key, with the body the service says it will record), signed here, and committed: the
private key never leaves this machine.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from primex.audit.keys import Signer
from primex.audit.log import signed_bytes
from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError
from primex.service.httpsig import sign_request

DECISION_PATHS = {
    "return": "return", "rejection": "reject", "approval": "approve",
    "output_check": "output-check", "signoff": "signoff",
}


class RemoteError(PrimexError):
    """The service refused a call; carries its one-line reason and the HTTP status."""

    def __init__(self, status: int, detail: Any, lines: list[str] | None = None) -> None:
        self.status = status
        self.lines = list(lines or [])
        text = detail if isinstance(detail, str) else json.dumps(detail)[:500]
        super().__init__(text, where=f"server (HTTP {status})")


class RemoteClient:
    def __init__(self, base_url: str, signer: Signer, *, timeout: float = 60.0,
                 http: httpx.Client | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.signer = signer
        self.http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, payload: Any = None, *,
             raw: bool = False) -> Any:
        body = b"" if payload is None else json.dumps(payload).encode()
        request = self.http.build_request(method, self.base + path, content=body)
        # sign the path and query as they go on the wire (percent-encoded)
        signed = sign_request(method, request.url.raw_path.decode("ascii"), body,
                              self.signer.name, self.signer, time.time())
        request.headers.update(signed.headers)
        if payload is not None:
            request.headers["Content-Type"] = "application/json"
        try:
            reply = self.http.send(request)
        except httpx.HTTPError as exc:
            raise PrimexError(f"cannot reach the service ({type(exc).__name__})",
                              where=self.base, hint="check --server and the network") from None
        if reply.status_code >= 400:
            try:
                data = reply.json()
            except ValueError:
                data = {"detail": reply.text[:200]}
            detail = data.get("detail", data) if isinstance(data, dict) else data
            lines = data.get("lines") if isinstance(data, dict) else None
            if isinstance(detail, dict) and "lines" in detail:
                lines = detail["lines"]
            raise RemoteError(reply.status_code, detail, lines)
        return reply if raw else reply.json()

    # --- decisions ------------------------------------------------------------------
    def _sign(self, prepared: dict[str, Any], event: str, request: str | None) -> str:
        draft = prepared["draft"]
        if draft.get("actor") != self.signer.name or draft.get("type") != event:
            raise IntegrityError("the service prepared another decision than asked",
                                 where="draft", hint="do not sign; report it")
        if request is not None and draft.get("request") != request:
            raise IntegrityError("the service prepared a decision on another request",
                                 where="draft.request")
        data = signed_bytes(draft)  # computed here, not taken from the service
        if base64.b64decode(prepared["signing_input"]) != data:
            raise IntegrityError("the service's signing input is not its draft",
                                 where="draft")
        return base64.b64encode(self.signer.sign(data)).decode()

    def _decide(self, prefix: str, event: str, request: str | None,
                payload: dict[str, Any], attempts: int = 3,
                confirm: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        shown: Any = None
        for _ in range(attempts):
            prepared = self.call("POST", f"{prefix}/prepare", payload)
            if confirm is not None:
                body = prepared["draft"].get("body")
                if shown is None:
                    confirm(prepared["draft"])  # raises to stop; nothing is signed before
                    shown = body
                elif body != shown:  # a retry may not change what the person agreed to
                    raise IntegrityError("the decision changed since it was shown",
                                         where="draft.body", hint="run the command again")
            signature = self._sign(prepared, event, request)
            try:
                return dict(self.call("POST", f"{prefix}/commit",
                                      {**payload, "draft": prepared["draft"],
                                       "signature": signature}))
            except RemoteError as exc:
                if exc.status != 409 or "changed since" not in str(exc):
                    raise
        raise PrimexError("the audit log kept moving; try again", where=self.base)

    def submit(self, yaml_text: str) -> dict[str, Any]:
        try:
            return self._decide("/api/submissions", "submission", None, {"yaml": yaml_text})
        except RemoteError as exc:
            if exc.status == 422 and exc.lines:
                raise ValidationError(f"{len(exc.lines)} problem(s) in the request",
                                      problems=exc.lines, where="server") from None
            raise

    def decide(self, request: str, event: str, payload: dict[str, Any],
               confirm: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Prepare, (show and confirm,) sign here and commit one decision."""
        if event not in DECISION_PATHS:
            raise PermissionDenied(f"{event} is not a decision a person signs", where=event)
        return self._decide(f"/api/requests/{request}/{DECISION_PATHS[event]}", event,
                            request, payload, confirm=confirm)

    # --- reading and jobs -------------------------------------------------------------
    def status(self, request: str | None = None) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/requests/{request}" if request else
                              "/api/requests"))

    def validate(self, yaml_text: str) -> dict[str, Any]:
        return dict(self.call("POST", "/api/validate", {"yaml": yaml_text}))

    def comment(self, request: str, text: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/api/requests/{request}/comments", {"text": text}))

    def comments(self, request: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/requests/{request}/comments"))

    def start_job(self, request: str, step: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/api/requests/{request}/jobs", {"step": step}))

    def download(self, request: str) -> bytes:
        """The encrypted release package of `request` (open it with `primex release open`)."""
        return bytes(self.call("GET", f"/api/requests/{request}/package", raw=True).content)

    def wait_job(self, job_id: str, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = dict(self.call("GET", f"/api/jobs/{job_id}"))
            if job["state"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.2)
