"""`primex serve`: run the SPP's service (see docs/service.md)."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import console, home
from primex.errors import PrimexError

app = typer.Typer(
    help="Run the SPP's research-extract service (HTTP API; docs/service.md), manage its "
    "accounts, or start the local demo (`make serve`).",
    invoke_without_command=True,
)

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on.")]


@app.callback()
def serve(
    ctx: typer.Context, host: Host = "127.0.0.1", port: Port = 8000,
    certfile: Annotated[Path | None, typer.Option(
        "--ssl-certfile", help="Serve HTTPS with this certificate (PEM).")] = None,
    keyfile: Annotated[Path | None, typer.Option(
        "--ssl-keyfile", help="The certificate's private key (PEM).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=16, help="Worker processes (each with its own thread pool "
        "and job process; they share the log, its lock and the database).")] = 1,
) -> None:
    """Start the service with the settings of the PRIMEX_* environment variables."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from primex.home import ENV_VAR
    from primex.service.app import build_state, create_app
    from primex.service.settings import ServiceSettings

    if workers > 1:
        os.environ["PRIMEX_WORKERS"] = str(workers)  # shared nonces (settings.workers)
    settings = ServiceSettings.from_env(home().root)
    if (certfile is None) != (keyfile is None):
        raise PrimexError("give both --ssl-certfile and --ssl-keyfile, or neither",
                          where="--ssl-certfile")
    app: object = create_app(settings) if workers == 1 else "primex.service.app:app_from_env"
    if workers > 1:
        build_state(settings).close()  # migrate once, before the workers start
        os.environ[ENV_VAR] = str(settings.home)  # the workers' app_from_env reads it
    # a worker imports and migrates before it answers the supervisor's health check: on a
    # busy machine that takes longer than uvicorn's 5 s default, and it would be killed
    uvicorn.run(app, factory=workers > 1, workers=workers if workers > 1 else None,
                timeout_worker_healthcheck=60,
                host=host, port=port, log_level="info",
                access_log=False, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None)


@app.command("account")
def account(
    key: Annotated[str, typer.Argument(help="A registered key name (a researcher's "
                                       "organisation is the one its key_add registers).")],
    subject: Annotated[str | None, typer.Option(
        "--subject", help="The person's OIDC subject at the identity provider.")] = None,
    email: Annotated[str | None, typer.Option(
        "--email", help="Where transition e-mails go.")] = None,
) -> None:
    """Create or update the service account of a registered key."""
    from primex.service.accounts import add_account
    from primex.service.app import build_state
    from primex.service.settings import ServiceSettings

    state = build_state(ServiceSettings.from_env(home().root))
    try:
        with state.log() as log:
            add_account(state, log, key, subject=subject, email=email)
    finally:
        state.close()
    console().print(f"[green]account[/] {key} saved", highlight=False)


@app.command("demo")
def demo(
    provider: Annotated[Path, typer.Option(
        "--oidc-provider", help="tests/oidc/provider.js (after `npm ci` in tests/oidc).")],
    port: Port = 8000,
    oidc_port: Annotated[int, typer.Option("--oidc-port", help="Port of the demo OIDC "
                                           "provider.")] = 8001,
    persons: Annotated[int, typer.Option("--persons", help="Synthetic persons.")] = 2000,
) -> None:
    """Local demo: embedded database, demo accounts and a demo OpenID Provider, all on
    127.0.0.1; prints how to log in. Stop it with Ctrl-C."""
    import uvicorn

    from primex.service import demo_setup
    from primex.service.app import build_state, create_app
    from primex.service.settings import OidcSettings, ServiceSettings

    if not provider.is_file():
        raise PrimexError("the demo OpenID Provider is not there", where=str(provider),
                          hint="run `npm ci` in tests/oidc (make serve does)")
    out = console()
    h = home()
    out.print(f"preparing the demo home {h.root} (first time: synthetic data)…",
              highlight=False)
    prepared = demo_setup.prepare(h, persons)
    url = f"http://127.0.0.1:{port}"
    client_secret = secrets.token_urlsafe(24)
    config = h.spp / "demo-oidc.json"
    demo_setup.provider_config(config, prepared, oidc_port, url, client_secret)
    os.environ[f"PRIMEX_PASSPHRASE_{'SPP'}"] = prepared.passphrases["spp"]
    settings = ServiceSettings(
        home=h.root, database_url=f"sqlite:///{h.spp / 'service.sqlite'}", public_url=url,
        operator_key="spp", cookie_secure=True,
        oidc=OidcSettings(issuer=f"http://127.0.0.1:{oidc_port}", client_id="primex-demo",
                          client_secret=client_secret, redirect_uri=f"{url}/auth/callback"),
    )
    state = build_state(settings)
    demo_setup.accounts(state)
    node = subprocess.Popen(["node", str(provider), str(config)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert node.stdout is not None
        if not node.stdout.readline().startswith("READY"):
            raise PrimexError("the demo OpenID Provider did not start", where=str(provider),
                              hint=f"is port {oidc_port} free? (--oidc-port)")
        out.print(f"\n[bold]primex serve[/] on {url} (embedded SQLite, demo accounts)\n"
                  f"  portal (browser): {url}/portal/ (log in, then *Signing key* to make "
                  "the key your browser signs with; docs/portal.md)\n"
                  "  demo OIDC accounts (login / password):", highlight=False)
        for name, (role, org, sub) in demo_setup.DEMO_ACTORS.items():
            out.print(f"    {sub:<16} {prepared.passwords[sub]:<14} {role}"
                      f"{' — ' + org if org else ''} (key {name})", highlight=False)
        out.print(f"  keys and passphrases: {h.root}/keys, {h.root}/{demo_setup.MARKER}\n"
                  f"  CLI: PRIMEX_PASSPHRASE_ALICE=… primex --home {h.root} request submit "
                  f"FILE --as alice --server {url}\n", highlight=False)
        uvicorn.run(create_app(settings, state), host="127.0.0.1", port=port,
                    log_level="warning", access_log=False)
    finally:
        node.terminate()
        node.wait(timeout=10)
        state.close()
