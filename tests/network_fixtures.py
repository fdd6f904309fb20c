"""Two homes on one machine for the network tests: the SPP's (PRIMA, log, SPP keys) and the
BCSS's (warehouse, keystore, BCSS operator key, peers file), a BCSS service on loopback, and
a loopback proxy that can cut the connection in the middle of a transfer."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from linkage_helpers import P1, make_prima, make_warehouse
from release_chain import approved_coded, register_actors
from service_fixtures import ServerThread, free_port

from primex.audit.keys import Signer, create_identity, load_signer
from primex.audit.log import AuditLog, open_log
from primex.bcss_service.app import create_app, peers_path
from primex.cli import main
from primex.home import Home
from primex.linkage.keystore import generate_master_key

PASS = "test-passphrase"
BCSS_PASS = "bcss-keystore-passphrase"


@dataclass
class Sites:
    spp: Home
    bcss: Home
    signers: dict[str, Signer] = field(default_factory=dict)

    @property
    def log(self) -> AuditLog:
        return open_log(self.spp)

    def approved_and_extracted(self, n: int = 1) -> str:
        request = approved_coded(self.spp, self.log, self.signers["rita"],
                                 self.signers["otto"], f"custody test {n}")
        assert main(["--home", str(self.spp.root), "extract", "request", request,
                     "--as", "spp"]) == 0
        return request


def make_sites(root: Path, monkeypatch: pytest.MonkeyPatch) -> Sites:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    for var in ("PRIMEX_BCSS_PASSPHRASE", "PRIMEX_LINKAGE_MASTER_KEY"):
        monkeypatch.delenv(var, raising=False)
    spp, bcss = Home.resolve(root / "spp-home"), Home.resolve(root / "bcss-home")
    make_prima(spp.prima_db)
    make_warehouse(bcss.warehouse_db, {P1: {"2024Q2": ("111", "employee", 4)}})
    generate_master_key(bcss, BCSS_PASS)
    sites = Sites(spp, bcss)
    log = open_log(spp)
    with log.batch():
        register_actors(spp, log, [("committee", "comm"), ("researcher", "rita"),
                                   ("privacy_officer", "otto"), ("spp_operator", "spp")],
                        sites.signers, by="comm")
        bea = create_identity(bcss, "bcss_operator", "bea", PASS)  # lives at the BCSS
        log.register_key(bea, sites.signers["comm"])
    sites.signers["bea"] = load_signer(bcss, "bea", PASS)
    peers = {"keys": {"spp": base64.b64encode(sites.signers["spp"].public_key_bytes).decode()}}
    peers_path(bcss).write_text(json.dumps(peers))
    return sites


def bcss_server(sites: Sites) -> ServerThread:
    return ServerThread(create_app(sites.bcss, sites.signers["bea"], BCSS_PASS), free_port())


class CuttingProxy:
    """TCP proxy on loopback: forwards to `target`, and cuts the first `cuts` connections
    after `after` bytes from the client (the rest pass untouched)."""

    def __init__(self, target_port: int, *, after: int, cuts: int = 1) -> None:
        self.target = target_port
        self.after, self.cuts = after, cuts
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.cut_count = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                cut = self.cut_count < self.cuts
                if cut:
                    self.cut_count += 1
            upstream = socket.create_connection(("127.0.0.1", self.target))
            limit = self.after if cut else None
            threading.Thread(target=self._pipe, args=(client, upstream, limit),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None),
                             daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        total = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and total + len(data) > limit:
                    dst.sendall(data[: limit - total])
                    break  # cut: both ends closed below, mid-request
                dst.sendall(data)
                total += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.sock.close()
