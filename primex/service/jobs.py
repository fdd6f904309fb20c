"""Long steps as background jobs: the HTTP call returns a job id at once, the step runs in
a separate process at a lower CPU priority (`os.nice`: an extraction never takes the CPU
from the requests the service answers, and it does not share the service's interpreter
lock), and its state is polled at /api/jobs/{id}. One request has at most one queued or
running job, across every service process (checked in one statement in the database).

Jobs are signed by the service's own spp_operator key (settings.operator_key: a service
identity, not a person; its private key lives in the service's home, encrypted, with its
passphrase in PRIMEX_PASSPHRASE_<NAME>). Steps are the library functions the CLI runs.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from sqlalchemy import select, text

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
    from primex.protection.record import protect_and_record
    from primex.release.manifest import collect_protected

    done = protect_and_record(home, request, lambda: signer, collect_protected)
    summary = done.outcome.report["summary"]
    if not done.outcome.passed:
        raise PrimexError(f"protection failed: {summary}", where=f"request {request}",
                          hint="see the disclosure report; the officer may amend conditions")
    return f"protected (log entry {done.seq}): {summary}"


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


def run_step(home: Home, request: str, step: str, operator_key: str) -> tuple[str, str]:
    """In the job process: ("done", message) or ("failed", one line); never raises (an
    exception would have to cross the process boundary)."""
    try:
        signer = load_signer(home, operator_key, env_passphrase(operator_key))
        return "done", STEPS[step](home, request, signer)
    except PrimexError as exc:
        return "failed", redact(exc.one_line())
    except Exception as exc:  # a job never dies silently: its state says why
        return "failed", f"internal error ({type(exc).__name__})"


def _background() -> None:
    """The job process: a lower CPU priority (the service answers first), and it ends when
    the service process that started it is gone (killed, not shut down): no orphan job
    process keeps running a step nobody polls."""
    import threading
    import time

    os.nice(10)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="primex-job-parent-watch", daemon=True).start()


class JobBusy(PrimexError):
    """The request already has a queued or running job."""


class JobRunner:
    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self._pool = ProcessPoolExecutor(
            max_workers=state.settings.job_workers, initializer=_background,
            mp_context=multiprocessing.get_context("spawn"))  # no fork of a threaded server

    def submit(self, request: str, step: str, actor: str) -> str:
        if step not in STEPS:
            raise PrimexError(f"unknown step {step!r}", where="step",
                              hint=f"one of {', '.join(STEPS)}")
        if self.state.settings.operator_key is None:
            raise PrimexError("the service has no operator key for automated steps",
                              where="PRIMEX_OPERATOR_KEY", hint="see docs/service.md")
        job_id = str(uuid.uuid4())
        if not self._claim(job_id, request, step, actor):
            raise JobBusy(f"request {request} already has a queued or running job",
                          where=f"request {request}", hint="wait for it (poll the job)")
        self._update(job_id, state="running", progress=10, message=f"{step} running")
        future = self._pool.submit(run_step, self.state.home, request, step,
                                   self.state.settings.operator_key)
        future.add_done_callback(lambda f: self._finished(job_id, request, f))
        return job_id

    def _claim(self, job_id: str, request: str, step: str, actor: str) -> bool:
        """Insert the job unless the request has an active one, atomically across service
        processes: on SQLite the transaction holds the write lock from its start (BEGIN
        IMMEDIATE, primex.service.db); PostgreSQL first takes a transaction lock on the
        request id."""
        table = Job.__table__
        active = select(table.c.id).where(table.c.request == request,
                                          table.c.state.in_(("queued", "running")))
        now = utcnow()
        with self.state.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:r))"),
                             {"r": request})
            if conn.execute(active.limit(1)).first() is not None:
                return False
            conn.execute(table.insert().values(
                id=job_id, request=request, step=step, state="queued", progress=0,
                message="queued", actor=actor, created=now, updated=now))
            return True

    def _update(self, job_id: str, **values: Any) -> None:
        with self.state.db() as db:
            job = db.get(Job, job_id)
            assert job is not None
            for k, v in values.items():
                setattr(job, k, v)
            job.updated = utcnow()

    def _finished(self, job_id: str, request: str, future: Future[tuple[str, str]]) -> None:
        try:
            outcome, message = future.result()
        except Exception as exc:  # the job process died (killed, out of memory)
            outcome, message = "failed", f"the job process ended ({type(exc).__name__})"
        self._update(job_id, state=outcome, progress=100, message=message)
        if outcome != "done":
            return
        self.state.appended()
        if self.state.notifier is not None:
            with self.state.log() as log:
                self.state.notifier.transition(log, request)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
