"""`primex demo --networked`: the same demo with the BCSS and the committee as their own
installations: three homes and three processes on localhost.

After the keys are made (in the SPP's home, as the plain demo does), the BCSS's part moves
to `<home>/../<name>-bcss` (warehouse, keystore, the BCSS operator's key) and the committee's
key to `<home>/../<name>-committee`; `primex bcss serve` and `primex serve` start on free
localhost ports; the coding goes over the network (`primex linkage send`) and the committee
cosigns from its own home (`primex audit witness cosign --server`). Plain HTTP on localhost
(DEMO ONLY: production runs both services behind TLS, see docs/bcss-operator.md).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from primex.audit.keys import load_identity
from primex.audit.log import open_log
from primex.errors import PrimexError
from primex.home import Home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Networked:
    def __init__(self, demo: Any) -> None:
        self.demo = demo
        root = demo.home.root
        self.bcss = Home(root.parent / f"{root.name}-bcss")
        self.committee = Home(root.parent / f"{root.name}-committee")
        self.bcss_url = f"http://127.0.0.1:{_free_port()}"
        self.spp_url = f"http://127.0.0.1:{_free_port()}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.trusted = False

    def prepare(self) -> None:
        for h in (self.bcss, self.committee):
            if h.root.exists():
                if not (h.root / ".primex-demo").exists():
                    raise PrimexError("this folder holds state the demo did not create",
                                      where=str(h.root), hint="move it away")
                shutil.rmtree(h.root)
            h.root.mkdir(parents=True)
            (h.root / ".primex-demo").write_text("created by `primex demo`; safe to delete\n")

    def split(self) -> None:
        """Move the BCSS's and the committee's secrets out of the SPP's home."""
        spp = self.demo.home
        self.demo.step("Three installations: the BCSS and the committee leave the SPP's home")
        shutil.move(spp.bcss, self.bcss.bcss)  # warehouse, keystore
        shutil.move(spp.keys / "bcss", self.bcss.keys / "bcss")
        shutil.move(spp.keys / "committee", self.committee.keys / "committee")
        spp_key = base64.b64encode(load_identity(spp, "spp").public_key_bytes).decode()
        (self.bcss.bcss / "peers.json").write_text(json.dumps({"keys": {"spp": spp_key}}))
        for key in ("committee", "spp"):
            self.demo.cmd("serve", "account", key)
        out = self.demo.out
        out.print("[bold]where each key lives[/]")
        out.print(f"  SPP        {spp.root}: PRIMA, the audit log and its log key, the keys of "
                  "the officer, the president, the SPP operator and the researchers (the "
                  "demo's stand-ins for their own machines)", highlight=False, soft_wrap=True)
        out.print(f"  BCSS       {self.bcss.root}: linkage master key "
                  f"({self.bcss.bcss_keystore}), warehouse, BCSS operator key",
                  highlight=False, soft_wrap=True)
        out.print(f"  committee  {self.committee.root}: committee key, witness state",
                  highlight=False, soft_wrap=True)

    def start(self) -> None:
        env = dict(os.environ)
        self._spawn(["--home", str(self.bcss.root), "bcss", "serve", "--as", "bcss",
                     "--port", self.bcss_url.rsplit(":", 1)[1]], env,
                    self.bcss_url + "/bcss/v1/health")
        self._spawn(["--home", str(self.demo.home.root), "serve", "--port",
                     self.spp_url.rsplit(":", 1)[1]], env, self.spp_url + "/api/health")
        self.demo.out.print(f"[dim]BCSS linkage service on {self.bcss_url}; SPP service on "
                            f"{self.spp_url}[/]", highlight=False)

    def _spawn(self, args: list[str], env: dict[str, str], health: str) -> None:
        log = (self.demo.home.root / "services.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "primex.cli", *args], env=env,
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PrimexError("a demo service did not start", where=" ".join(args[2:4]),
                                  hint=f"see {self.demo.home.root / 'services.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.procs.clear()

    def code(self, rid: str) -> None:
        self.demo.out.print("[dim]→ the SPP sends extract.parquet to the BCSS service "
                            "(signed requests, resumable)[/]")
        self.demo.cmd("linkage", "send", rid, "--bcss", self.bcss_url, "--bcss-key", "bcss",
                      "--as", "spp")
        self.demo.out.print("[dim]← coded.parquet and the BCSS's signed receipt; the BCSS "
                            "destroyed the extract[/]")

    def cosign(self) -> None:
        args = ["audit", "witness", "cosign", "--as", "committee", "--server", self.spp_url]
        if not self.trusted:
            key = open_log(self.demo.home, create=False).log_key().public_key
            args += ["--trust-key", base64.b64encode(key).decode()]
            self.trusted = True
        self.demo.cmd_in(self.committee.root, *args)

