"""The web portal of `primex serve` (issue 18): server-rendered pages for the researcher,
the privacy officer, the president and the committee. Jinja2 templates and two small
static files shipped in the package; no build chain, nothing fetched at run time, no
inline script (the service's Content-Security-Policy). Decisions are signed in the
browser with a non-extractable WebCrypto Ed25519 key (static/portal.js) through the same
prepare/commit API as the CLI: the pages never sign and never see a private key."""

from __future__ import annotations

from fastapi import FastAPI


def mount_portal(app: FastAPI) -> None:
    from primex.service.pages.views import root, router

    app.include_router(router)
    app.include_router(root)
