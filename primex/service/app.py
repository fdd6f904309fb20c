"""`create_app(settings)`: the ASGI application of `primex serve`."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from primex import __version__
from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError
from primex.redact import redact
from primex.service import api, oidc, tlog_tiles
from primex.service.db import make_engine, migrate, session_factory
from primex.service.decisions import StaleDraft
from primex.service.identity import Actor, current_actor
from primex.service.jobs import JobBusy, JobRunner
from primex.service.middleware import LimitsAndHeaders
from primex.service.notify import Notifier
from primex.service.settings import ServiceSettings
from primex.service.state import CommitSlot, ServiceState

LOG = logging.getLogger("primex.service")


def build_state(settings: ServiceSettings) -> ServiceState:
    engine = make_engine(settings.database_url)
    migrate(engine)
    state = ServiceState(settings, engine, session_factory(engine), slot=CommitSlot(engine))
    state.jobs = JobRunner(state)
    state.notifier = Notifier(state)
    return state


def app_from_env() -> FastAPI:
    """The application of one worker process of `primex serve --workers N` (uvicorn's
    factory): settings from the PRIMEX_* environment, the home from PRIMEX_HOME."""
    import os
    from pathlib import Path

    from primex.home import ENV_VAR

    return create_app(ServiceSettings.from_env(Path(os.environ[ENV_VAR])))


def _status_of(exc: PrimexError) -> int:
    if isinstance(exc, StaleDraft | IntegrityError | JobBusy):
        return 409
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, ValidationError):
        return 422
    if exc.what.startswith("unknown request"):
        return 404
    return 400


def create_app(settings: ServiceSettings, state: ServiceState | None = None) -> FastAPI:
    service = state or build_state(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # handlers are sync (thread pool); a prepare may wait for the commit slot, so give
        # the pool room for the reads meanwhile
        anyio.to_thread.current_default_thread_limiter().total_tokens = 100
        # hand the interpreter lock over every 1 ms, not 5: a handler that got its answer
        # from SQLite or the disk waits less for the lock behind CPU-bound neighbours
        sys.setswitchinterval(0.001)
        pusher = None
        if settings.witness_url:  # push each new checkpoint to the committee's witness
            from primex.service.witness_push import WitnessPusher

            pusher = WitnessPusher(service.home, settings.witness_url,
                                   ca=settings.witness_ca).start()
        yield
        if pusher is not None:
            pusher.stop()
        if state is None:  # the app built it, the app closes it
            service.close()

    app = FastAPI(
        title="primex service", version=__version__, lifespan=lifespan,
        description="The SPP's research-extract service: every step of the ad hoc flow a "
        "person triggers. Every route needs a signed request (RFC 9421, Ed25519) or a "
        "browser session (OIDC), except /api/health and /api/public/keys.",
        # no Swagger/ReDoc pages: they load scripts from a CDN (CSP forbids it)
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.service = service
    app.include_router(api.router)
    app.include_router(oidc.router)
    app.include_router(tlog_tiles.router)  # the log as tlog-tiles, for the committee
    from primex.service.pages import mount_portal  # the web pages (issue 18)

    mount_portal(app)

    @app.get("/openapi.json", tags=["public"], include_in_schema=False)
    def openapi(actor: Actor = Depends(current_actor)) -> dict[str, Any]:
        return app.openapi()

    @app.exception_handler(PrimexError)
    async def primex_error(_request: Request, exc: PrimexError) -> JSONResponse:
        body: dict[str, Any] = {"detail": redact(exc.one_line())}
        if isinstance(exc, ValidationError) and exc.problems:
            body["lines"] = [redact(p) for p in exc.problems]
        # a typed refusal (the log's Reason, the gate's code): the portal says it by code
        code = getattr(getattr(exc, "reason", None), "name", getattr(exc, "reason", None))
        if isinstance(code, str) and code.isidentifier() and len(code) <= 40:
            body["reason"] = code
        return JSONResponse(body, status_code=_status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # field paths and messages only: never echo the input (it may hold anything)
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))}
                  for e in exc.errors()][:20]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception) -> JSONResponse:
        LOG.error("internal error: %s", type(exc).__name__)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    hsts = settings.public_url.startswith("https://")
    app.add_middleware(LimitsAndHeaders, max_body=settings.max_body_bytes, hsts=hsts)
    return app
