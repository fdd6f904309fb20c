"""A complete request chain in a temporary home, driven through the audit API, for the
release, review and sign-off tests: keys for every actor, a stored spec, a protected
folder with small synthetic files and its disclosure report."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from primex.audit.canonical import sha256_hex
from primex.audit.keys import Identity, Signer, create_identity, load_signer
from primex.audit.log import AuditLog, Entry, open_log
from primex.cli import main
from primex.committee.witness import cosign_latest
from primex.exchange.envelope import fingerprint
from primex.exchange.manifest import Manifest
from primex.home import Home
from primex.release.manifest import collect_protected
from primex.release.signoff import readable_reports, signoff_body

PASS = "test-passphrase"
ROLES = {
    "committee": "committee",
    "alice": "researcher",
    "olivia": "privacy_officer",
    "paul": "president",
    "spp": "spp_operator",
    "bob": "bcss_operator",
}

SPEC = """\
title: Labour-market trajectories of young adults after RI
requester:
  organisation: HIVA - KU Leuven
  contact: researcher@example.org
  public_key: "{key}"
purpose: >-
  Synthetic test request. We study how young adults leave the integration income and where
  they are one and two years later, to inform activation policy of the CPAS.
legal_basis: "CSI deliberation 24/123"
retention_until: 2028-12-31
population:
  benefits: [RI]
  period: {{start: 2023-01, end: 2024-06}}
variables: [age, sex, region, category]
output:
  kind: microdata
  format: csv
disclosure:
  k: 5
  max_suppression: 0.03
"""

FILES = {
    "spells.csv": b"age,sex,region,category\n18-24,F,03000,1\n18-24,M,04000,2\n",
    "totals.csv": b"region,count\n03000,12\n04000,15\n",
}


@dataclass
class Chain:
    home: Home
    log: AuditLog
    ids: dict[str, Identity]
    signers: dict[str, Signer] = field(default_factory=dict)
    request: str = ""
    spec_sha256: str = ""

    @property
    def work(self) -> Path:
        return self.home.spp_work / self.request

    @property
    def protected(self) -> Path:
        return self.work / "protected"

    def manifest(self) -> Manifest:
        return collect_protected(self.work)

    # --- steps --------------------------------------------------------------------------
    def submit(self, researcher: str = "alice") -> Entry:
        key = self.ids[researcher].encryption_public_key
        spec = SPEC.format(key=key).encode()
        self.spec_sha256 = hashlib.sha256(spec).hexdigest()
        self.home.ensure(self.home.requests)
        (self.home.requests / f"{self.spec_sha256}.yaml").write_bytes(spec)
        entry = self.log.append(
            "submission",
            None,
            {
                "spec_sha256": self.spec_sha256,
                "title": "Labour-market trajectories of young adults after RI",
                "organisation": "HIVA - KU Leuven",
            },
            self.signers[researcher],
        )
        self.request = entry.request or ""
        return entry

    def approve(self, conditions: dict | None = None) -> Entry:
        return self.log.append(
            "approval",
            self.request,
            {"spec_sha256": self.spec_sha256, "conditions": conditions or {}},
            self.signers["olivia"],
        )

    def extract(self) -> Entry:
        return self.log.append(
            "extraction", self.request, {"manifest_sha256": "a" * 64}, self.signers["spp"]
        )

    def protect(
        self,
        files: dict[str, bytes] | None = None,
        passed: bool = True,
        report_manifest: str | None = None,
    ) -> Entry:
        self.protected.mkdir(parents=True, exist_ok=True)
        for old in self.protected.iterdir():
            old.unlink()
        for name, data in (files or FILES).items():
            (self.protected / name).write_bytes(data)
        manifest = self.manifest()
        report = {
            "kind": "microdata",
            "passed": passed,
            "manifest_sha256": report_manifest or manifest.sha256,
            "summary": {"k": 5, "records": 2, "suppressed_values": 1},
            "risk": {"before": {"violating_k": 2}, "after": {"violating_k": 0}},
            "suppressions": [
                {"variable": "region", "records": 1, "reason": "k-anonymity (k=5)"}
            ],
        }
        raw = json.dumps(report, indent=2).encode()
        (self.protected / "disclosure-report.json").write_bytes(raw)
        (self.protected / "disclosure-report.md").write_text("# Disclosure report\n\npassed\n")
        return self.log.append(
            "disclosure_result",
            self.request,
            {
                "manifest_sha256": manifest.sha256,
                "passed": passed,
                "report_sha256": hashlib.sha256(raw).hexdigest(),
                "summary": "k=5 reached; 1 value suppressed",
            },
            self.signers["spp"],
        )

    def through_protection(self) -> str:
        """Submitted, approved, extracted and protected (the usual start of a release test);
        returns the request id."""
        self.submit()
        self.approve()
        self.extract()
        self.protect()
        return self.request

    def check_output(self, decision: str = "approve") -> Entry:
        return self.log.append(
            "output_check",
            self.request,
            {"manifest_sha256": self.manifest().sha256, "decision": decision},
            self.signers["olivia"],
        )

    def recipient_fingerprint(self, researcher: str = "alice") -> str:
        return fingerprint(self.ids[researcher].encryption_public_key or "")

    def signoff_body(self) -> dict:
        """What the president signs: the data files, the readable reports, the recipient."""
        return signoff_body(
            self.manifest(), readable_reports(self.home, self.request),
            self.recipient_fingerprint(),
        )

    def signoff(self, signer: str = "paul") -> Entry:
        return self.log.append("signoff", self.request, self.signoff_body(),
                               self.signers[signer])

    def witness(self) -> None:
        cosign_latest(self.home, self.signers["committee"])
        self.log.refresh()

    def up_to_output_check(self) -> Chain:
        """Submitted, approved, extracted, protected and checked by the officer."""
        self.submit()
        self.approve()
        self.extract()
        self.protect()
        self.check_output()
        return self

    def up_to_signoff(self, witnessed: bool = True) -> Chain:
        self.up_to_output_check()
        self.signoff()
        if witnessed:
            self.witness()
        return self


def make_chain(root: Path, extra: dict[str, str] | None = None,
               organisations: dict[str, str] | None = None) -> Chain:
    home = Home(root / "home")
    log = open_log(home)
    signers: dict[str, Signer] = {}
    actors = [(role, name) for name, role in {**ROLES, **(extra or {})}.items()]
    ids = register_actors(home, log, actors, signers, by="committee",
                          organisations=organisations)
    return Chain(home, log, ids, signers)


def register_actors(home: Home, log: AuditLog, actors: list[tuple[str, str]],
                    signers: dict[str, Signer], *, by: str | None,
                    organisations: dict[str, str] | None = None) -> dict[str, Identity]:
    """Create each (role, name) key in `home` (passphrase PASS), load its signer into
    `signers` and register it signed by `by` (the committee, which signs its own when it
    comes first), or by itself when `by` is None; `organisations`: a researcher's (C5)."""
    ids: dict[str, Identity] = {}
    for role, name in actors:
        ids[name] = create_identity(home, role, name, PASS)
        signers[name] = load_signer(home, name, PASS)
        log.register_key(ids[name], signers[by or name],
                         organisation=(organisations or {}).get(name))
    return ids


# -- an approved request of the extraction and coding chain, driven through the real
#    commands (the custody, network and ad hoc extraction tests share it) ---------------------
CODED_SPEC = """\
title: Trajectories after RI and ERIS ({label})
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


def coded_spec(label: str, *, retention: str = "2028-12-31", benefits: str = "RI, ERIS") -> bytes:
    return CODED_SPEC.format(label=label, retention=retention, benefits=benefits).encode()


def submit_coded(home: Home, log: AuditLog, researcher: Signer, label: str,
                 **spec: str) -> tuple[str, str]:
    """Store the spec and sign its submission; (request id, spec sha256)."""
    from primex.requests.store import store_bytes

    sha, _ = store_bytes(home, coded_spec(label, **spec))
    entry = log.append("submission", None, {
        "spec_sha256": sha, "title": f"Trajectories after RI and ERIS ({label})",
        "organisation": "Test"}, researcher)
    return str(entry.request), sha


def approve_coded(log: AuditLog, request: str, sha: str, officer: Signer) -> None:
    log.append("approval", request, {"spec_sha256": sha, "conditions": {}}, officer)


def approved_coded(home: Home, log: AuditLog, researcher: Signer, officer: Signer,
                   label: str, **spec: str) -> str:
    """A submitted and approved request of the coding chain; its id."""
    request, sha = submit_coded(home, log, researcher, label, **spec)
    approve_coded(log, request, sha, officer)
    return request


def manifest_hash(files: dict[str, bytes]) -> str:
    return sha256_hex(
        {
            "files": [
                {"bytes": len(d), "name": n, "sha256": hashlib.sha256(d).hexdigest()}
                for n, d in sorted(files.items())
            ]
        }
    )


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about what is allowed, not about crash durability (the audit tests
    cover that); on a shared disk fsync would dominate their run time."""
    monkeypatch.setattr("os.fsync", lambda fd: None)


@pytest.fixture(name="chain")
def submitted_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    """A chain with one request submitted by alice (the review tests' starting point)."""
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    c = make_chain(tmp_path)
    c.submit()
    return c


def run_cli(chain: Chain, *args: str) -> int:
    """The CLI on the chain's home; the exit code."""
    return main(["--home", str(chain.home.root), *args])
