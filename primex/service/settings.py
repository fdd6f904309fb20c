"""The service's settings: one typed object, read from PRIMEX_* environment variables by
`primex serve` (docs/service.md lists them) or built directly by tests."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from primex.errors import ConfigError


class OidcSettings(BaseModel):
    issuer: str  # exactly as the provider's discovery document states it
    client_id: str
    client_secret: str
    # where the provider sends the browser back (must be registered with the provider)
    redirect_uri: str


class SmtpSettings(BaseModel):
    host: str
    port: int = 25
    sender: str = "primex@localhost"
    starttls: bool = False


class ServiceSettings(BaseModel):
    home: Path
    database_url: str  # sqlite:///<file> (default, embedded) or postgresql+psycopg://...
    public_url: str = "http://127.0.0.1:8000"  # the origin browsers use (CSRF origin check)
    operator_key: str | None = None  # the service's spp_operator key (signs automated steps)
    oidc: OidcSettings | None = None
    smtp: SmtpSettings | None = None
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=8, ge=1, le=72)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    signature_window_seconds: int = Field(default=300, ge=10, le=3600)
    login_attempts_per_minute: int = Field(default=10, ge=1)
    signature_failures_per_minute: int = Field(default=20, ge=1)
    cookie_secure: bool = True
    job_workers: int = Field(default=1, ge=1, le=8)
    # the committee's witness service: each new checkpoint is pushed to it (add-checkpoint)
    witness_url: str | None = None
    witness_ca: str | None = None  # the CA of the witness's TLS certificate

    @classmethod
    def from_env(cls, home: Path, environ: dict[str, str] | None = None) -> ServiceSettings:
        env = dict(os.environ if environ is None else environ)
        db = env.get("PRIMEX_DB_URL") or f"sqlite:///{home / 'spp' / 'service.sqlite'}"
        oidc = None
        if env.get("PRIMEX_OIDC_ISSUER"):
            missing = [n for n in ("PRIMEX_OIDC_CLIENT_ID", "PRIMEX_OIDC_CLIENT_SECRET",
                                   "PRIMEX_OIDC_REDIRECT_URI") if not env.get(n)]
            if missing:
                raise ConfigError(f"OIDC is configured but {', '.join(missing)} is not set",
                                  where="environment", hint="see docs/service.md")
            oidc = OidcSettings(
                issuer=env["PRIMEX_OIDC_ISSUER"], client_id=env["PRIMEX_OIDC_CLIENT_ID"],
                client_secret=env["PRIMEX_OIDC_CLIENT_SECRET"],
                redirect_uri=env["PRIMEX_OIDC_REDIRECT_URI"],
            )
        smtp = None
        if env.get("PRIMEX_SMTP_HOST"):
            smtp = SmtpSettings(host=env["PRIMEX_SMTP_HOST"],
                                port=int(env.get("PRIMEX_SMTP_PORT", "25")),
                                sender=env.get("PRIMEX_SMTP_FROM", "primex@localhost"),
                                starttls=env.get("PRIMEX_SMTP_STARTTLS") == "1")
        return cls(
            home=home, database_url=db,
            public_url=env.get("PRIMEX_PUBLIC_URL", "http://127.0.0.1:8000"),
            operator_key=env.get("PRIMEX_OPERATOR_KEY") or None, oidc=oidc, smtp=smtp,
            cookie_secure=env.get("PRIMEX_COOKIE_INSECURE") != "1",
            witness_url=env.get("PRIMEX_WITNESS_URL") or None,
            witness_ca=env.get("PRIMEX_WITNESS_CA") or None,
        )
