"""A tiny installation with approved requests, extracted and coded through the CLI, for the
chain-of-custody, record-key and closing tests (issue 14 #6, #15, contract C2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from linkage_helpers import P1, make_prima, make_warehouse

from primex.audit.keys import Signer, create_identity, load_signer
from primex.audit.log import AuditLog, open_log
from primex.cli import main
from primex.home import Home
from primex.requests.store import store_bytes

PASS = "test-passphrase"
MASTER = bytes(range(7, 39))
ACTORS = [("committee", "comm"), ("researcher", "rita"), ("privacy_officer", "otto"),
          ("spp_operator", "spp"), ("bcss_operator", "bea")]

SPEC_YAML = """\
title: Trajectories after RI and ERIS (custody test {n})
requester:
  organisation: Test research centre
  contact: researcher@example.org
  public_key: "primex-x25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
purpose: >-
  A test request for the extraction and linkage chain. It asks for a few variables of every
  spell that overlaps the period and the socio-economic position four quarters after the
  spell ended. Nothing here is real; the data are synthetic and tiny.
legal_basis: "CSI deliberation 24/123 of 5 March 2024"
retention_until: {retention}
population:
  benefits: [{benefits}]
  period: {{start: 2023-01, end: 2024-06}}
variables: [age, sex, region, benefit]
linkage:
  - variables: [position_group]
    at: [exit+4q]
output:
  kind: microdata
  format: parquet
"""


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
        raw = SPEC_YAML.format(n=n, retention=retention, benefits=benefits).encode()
        sha, _ = store_bytes(self.home, raw)
        log = self.log
        entry = log.append("submission", None, {
            "spec_sha256": sha, "title": f"Trajectories after RI and ERIS (custody test {n})",
            "organisation": "Test"}, self.signers["rita"])
        request = str(entry.request)
        log.append("approval", request, {"spec_sha256": sha, "conditions": {}},
                   self.signers["otto"])
        return request

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
        for role, name in ACTORS:
            identity = create_identity(home, role, name, PASS)
            site.signers[name] = load_signer(home, name, PASS)
            log.register_key(identity, site.signers["comm"])
    return site
