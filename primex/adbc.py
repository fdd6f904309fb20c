"""PostgreSQL through ADBC: recognising a server URL, redacting it, connecting to it.

Shared by the SPP's PRIMA reader (`primex.requests.prima_source`, on which
`primex.extract.postgres` builds its engine) and the synthetic PRIMA loader
(`primex.synthetic.postgres`): neither side may import the other, both import this.
ADBC's PostgreSQL driver reads results with binary COPY straight into Arrow.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from primex.errors import PrimexError

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(value: str | None) -> bool:
    return bool(value) and urlsplit(str(value)).scheme in SCHEMES


def redact_url(url: str) -> str:
    """The URL without a password or query (what manifests and messages may show)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def connect(url: str, *, what: str) -> Any:
    """An ADBC DB-API connection to `url`; a failure is one line naming `what` (e.g. PRIMA)
    and the redacted URL, never the driver's text (it may quote the password)."""
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:  # pragma: no cover - a pinned dependency
        raise PrimexError("the PostgreSQL driver is not installed",
                          hint="pip install adbc-driver-postgresql") from None
    try:
        return adbc.connect(url)
    except Exception as exc:  # the driver's text may quote the URL: name the kind only
        raise PrimexError(
            f"cannot connect to {what} ({type(exc).__name__})", where=redact_url(url),
            hint="check the server, the database name and the password (PGPASSWORD or "
                 "~/.pgpass)",
        ) from None
