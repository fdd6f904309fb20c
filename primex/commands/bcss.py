"""`primex bcss`: the BCSS linkage service, run by the BCSS operator in the BCSS's home."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from primex.commands.common import console, home
from primex.errors import PrimexError, ValidationError

app = typer.Typer(
    help="BCSS operator: run the linkage service the SPP sends extracts to (HTTPS, signed "
    "requests), and list the SPP keys it accepts.",
    no_args_is_help=True,
)
peer_app = typer.Typer(help="The SPP keys the BCSS service accepts.", no_args_is_help=True)
app.add_typer(peer_app, name="peer")


@app.command("serve")
def serve(
    as_key: Annotated[str, typer.Option("--as", help="The BCSS operator key that signs "
                                        "receipts and coding entries.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8100,
    certfile: Annotated[Path | None, typer.Option(
        "--ssl-certfile", help="Serve HTTPS with this certificate (PEM).")] = None,
    keyfile: Annotated[Path | None, typer.Option(
        "--ssl-keyfile", help="The certificate's private key (PEM).")] = None,
    client_ca: Annotated[Path | None, typer.Option(
        "--client-ca", help="Mutual TLS: require a client certificate from this CA.")] = None,
) -> None:
    """Start the BCSS linkage service (keystore passphrase in PRIMEX_BCSS_PASSPHRASE)."""
    import ssl

    import uvicorn

    from primex.bcss_service.app import create_app
    from primex.commands.keys import prompt_signer

    h = home()
    if (certfile is None) != (keyfile is None) or (client_ca and not certfile):
        raise PrimexError("give --ssl-certfile and --ssl-keyfile together (and both for "
                          "--client-ca)", where="--ssl-certfile")
    app_ = create_app(h, prompt_signer(h, as_key), os.environ.get("PRIMEX_BCSS_PASSPHRASE"))
    console().print(f"BCSS linkage service for home {h.root} on "
                    f"{'https' if certfile else 'http'}://{host}:{port}", highlight=False)
    uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False,
                ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None,
                ssl_ca_certs=str(client_ca) if client_ca else None,
                ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE)


@peer_app.command("add")
def peer_add(
    name: Annotated[str, typer.Argument(help="The SPP operator's key name.")],
    key: Annotated[str, typer.Argument(help="Its Ed25519 public key, base64 (compare it "
                                       "out of band with the SPP's published keys).")],
) -> None:
    """Accept signed requests from this SPP key."""
    from primex.atomic import write_bytes
    from primex.bcss_service.app import peers_path

    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValidationError("not a base64 Ed25519 public key (32 bytes)", where="KEY")
    path = peers_path(home())
    peers = json.loads(path.read_text("utf-8")) if path.exists() else {"keys": {}}
    peers["keys"][name] = key
    write_bytes(path, (json.dumps(peers, indent=2, sort_keys=True) + "\n").encode())
    console().print(f"the BCSS service accepts requests signed by {name}", highlight=False)
