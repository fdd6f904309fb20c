"""Long steps as background jobs: the HTTP call returns a job id at once, the step runs in
a worker thread (never on the event loop), and its state is polled at /api/jobs/{id}.

Jobs are signed by the service's own spp_operator key (settings.operator_key: a service
identity, not a person; its private key lives in the service's home, encrypted, with its
passphrase in PRIMEX_PASSPHRASE_<NAME>). Steps are the library functions the CLI runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from primex.audit.keys import env_passphrase, load_signer
from primex.errors import PrimexError
from primex.home import Home
from primex.redact import redact
from primex.service.db import Job, utcnow
from primex.service.state import ServiceState


def _extract(home: Home, request: str, signer: Any) -> str:
    from primex.extract.adhoc import extract_request

    result, seq = extract_request(home, request, signer)
    return f"extracted {result.rows} rows (log entry {seq})"


def _build(home: Home, request: str, signer: Any) -> str:
    from primex.release.package import build_release

    released = build_release(home, request, signer)
    return f"released (log entry {released.seq}, package sha256 {released.package_sha256[:16]}…)"


def _protect(home: Home, request: str, signer: Any) -> str:
    """The protection step runs as `primex disclosure protect` in a child process: its logic
    lives in that command (not yet in a library function), and a child keeps pandas' memory
    and any crash out of the service."""
    import os
    import subprocess
    import sys

    from primex.audit.keys import env_passphrase

    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMEX_PASSPHRASE")}
    passphrase = env_passphrase(signer.name)
    if passphrase:
        env["PRIMEX_PASSPHRASE"] = passphrase
    done = subprocess.run(
        [sys.executable, "-m", "primex.cli", "--home", str(home.root), "disclosure",
         "protect", request, "--as", signer.name],
        capture_output=True, text=True, env=env, timeout=3600, stdin=subprocess.DEVNULL,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if done.returncode != 0:
        raise PrimexError(last.removeprefix("error: ") or "the protection step failed",
                          where=f"request {request}")
    return last or "protected"


def _link(home: Home, request: str, signer: Any) -> str:
    """Send the extract to the BCSS service (PRIMEX_BCSS_URL, PRIMEX_BCSS_KEY, optional
    PRIMEX_BCSS_CA, PRIMEX_BCSS_CLIENT_CERT/_KEY for mutual TLS) and record its signed
    receipt as the coding entry."""
    import os

    from primex.service.bcss_client import BcssEndpoint, send_for_coding

    url, key = os.environ.get("PRIMEX_BCSS_URL"), os.environ.get("PRIMEX_BCSS_KEY")
    if not url or not key:
        raise PrimexError("the service has no BCSS linkage service configured",
                          where="PRIMEX_BCSS_URL", hint="set PRIMEX_BCSS_URL and PRIMEX_BCSS_KEY")
    cert, cert_key = (os.environ.get("PRIMEX_BCSS_CLIENT_CERT"),
                      os.environ.get("PRIMEX_BCSS_CLIENT_KEY"))
    endpoint = BcssEndpoint(url, key, ca=os.environ.get("PRIMEX_BCSS_CA"),
                            client_cert=(cert, cert_key) if cert and cert_key else None)
    out = send_for_coding(home, request, endpoint, signer)
    return f"coded by the BCSS (log entry {out.audit_seq})"


STEPS: dict[str, Callable[[Home, str, Any], str]] = {
    "extract": _extract, "link": _link, "protect": _protect, "build": _build,
}


class JobRunner:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=state.settings.job_workers,
                                        thread_name_prefix="primex-job")

    def submit(self, request: str, step: str, actor: str) -> str:
        if step not in STEPS:
            raise PrimexError(f"unknown step {step!r}", where="step",
                              hint=f"one of {', '.join(STEPS)}")
        if self.state.settings.operator_key is None:
            raise PrimexError("the service has no operator key for automated steps",
                              where="PRIMEX_OPERATOR_KEY", hint="see docs/service.md")
        job_id = str(uuid.uuid4())
        with self.state.db() as db:
            db.add(Job(id=job_id, request=request, step=step, state="queued", progress=0,
                       message="queued", actor=actor))
        self._pool.submit(self._run, job_id, request, step)
        return job_id

    def _update(self, job_id: str, **values: Any) -> None:
        with self.state.db() as db:
            job = db.get(Job, job_id)
            assert job is not None
            for k, v in values.items():
                setattr(job, k, v)
            job.updated = utcnow()

    def _run(self, job_id: str, request: str, step: str) -> None:
        self._update(job_id, state="running", progress=10, message=f"{step} running")
        try:
            name = self.state.settings.operator_key
            assert name is not None
            home = self.state.home
            signer = load_signer(home, name, env_passphrase(name))
            message = STEPS[step](home, request, signer)
        except PrimexError as exc:
            self._update(job_id, state="failed", progress=100,
                         message=redact(exc.one_line()))
            return
        except Exception as exc:  # a job never dies silently: its state says why
            self._update(job_id, state="failed", progress=100,
                         message=f"internal error ({type(exc).__name__})")
            return
        self._update(job_id, state="done", progress=100, message=message)
        self.state.appended()
        if self.state.notifier is not None:
            with self.state.log() as log:
                self.state.notifier.transition(log, request)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
