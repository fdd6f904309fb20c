"""A tiny installation with approved requests, extracted and coded through the CLI, for the
chain-of-custody, record-key and closing tests (issue 14 #6, #15, contract C2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from linkage_helpers import P1, make_prima, make_warehouse
from release_chain import PASS, approved_coded, register_actors

from primex.audit.keys import Signer
from primex.audit.log import AuditLog, open_log
from primex.cli import main
from primex.home import Home

MASTER = bytes(range(7, 39))
ACTORS = [("committee", "comm"), ("researcher", "rita"), ("privacy_officer", "otto"),
          ("spp_operator", "spp"), ("bcss_operator", "bea")]

@dataclass
class Site:
    home: Home
    signers: dict[str, Signer] = field(default_factory=dict)

    @property
    def log(self) -> AuditLog:
        return open_log(self.home)

    def cli(self, *args: str) -> int:
        return main(["--home", str(self.home.root), *args])

    def approved(self, n: int = 1, *, retention: str = "2028-12-31",
                 benefits: str = "RI, ERIS") -> str:
        """Submit and approve a request; returns its id."""
        return approved_coded(self.home, self.log, self.signers["rita"], self.signers["otto"],
                              f"custody test {n}", retention=retention, benefits=benefits)

    def extract(self, request: str) -> Path:
        assert self.cli("extract", "request", request, "--as", "spp") == 0
        return self.extract_path(request)

    def extract_path(self, request: str) -> Path:
        return self.home.spp_work / request / "extract.parquet"

    def coded_path(self, request: str) -> Path:
        return self.home.bcss_work / request / "coded.parquet"

    def code(self, request: str, extract: Path | None = None) -> int:
        return self.cli("linkage", "code", "--request", request,
                        "--in", str(extract or self.extract_path(request)), "--as", "bea")


def make_site(root: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    monkeypatch.delenv("PRIMEX_BCSS_PASSPHRASE", raising=False)
    monkeypatch.setenv("PRIMEX_LINKAGE_MASTER_KEY", MASTER.hex())
    home = Home.resolve(root / "home")
    make_prima(home.prima_db)
    make_warehouse(home.warehouse_db, {P1: {"2024Q2": ("111", "employee", 4)}})
    log = open_log(home)
    site = Site(home)
    with log.batch():  # the committee first: it signs the others' registrations
        register_actors(home, log, ACTORS, site.signers, by="comm")
    return site
