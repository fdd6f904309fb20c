"""A fresh installation driven through the documented CLI (docs/researcher.md), for tests
that take a request written as a research centre would write it from submission to the
opened release: synthetic PRIMA (3 000 persons, 24 months from 2022-01, seed 1, as the docs
pages), one key per role, the BCSS linkage key and the committee's witness."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from primex import cli

KEY = re.compile(r"primex-x25519:[A-Za-z0-9+/=]+")
PASS = "research-site-passphrase"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(args))
    return rc or 0, out.getvalue(), err.getvalue()


def ok(*args: str) -> str:
    rc, out, err = run(*args)
    assert rc == 0, f"`primex {' '.join(args[:3])}` failed: {err.strip()[-400:]}"
    return out


@dataclass
class Site:
    root: Path
    key: str

    @property
    def home(self) -> Path:
        return self.root / "home"

    def protect(self, label: str, text: str,
                conditions: tuple[str, ...] = ()) -> tuple[str, dict]:
        """Submit the request `text` (`{key}` = the researcher's encryption key), approve it
        (with `conditions`), extract, code and protect it; (request id, disclosure report)."""
        spec = self.root / f"{label}.yaml"
        spec.write_text(text.replace("{key}", self.key), encoding="utf-8")
        ok("request", "validate", str(spec))
        rid = re.findall(r"REQ-\d{4}-\d{4}", ok("request", "submit", str(spec), "--as",
                                                 "alice"))[0]
        ok("review", "approve", rid, "--as", "olivia",
           *[a for c in conditions for a in ("--conditions", c)])
        ok("extract", "request", rid, "--as", "spp")
        work = self.home / "spp" / "work" / rid
        ok("linkage", "code", "--request", rid, "--in", str(work / "extract.parquet"),
           "--as", "bcss")
        (work / "coded.parquet").write_bytes(
            (self.home / "bcss" / "work" / rid / "coded.parquet").read_bytes())
        ok("disclosure", "protect", rid, "--as", "spp")
        return rid, json.loads((work / "protected" / "disclosure-report.json").read_text())

    def release(self, rid: str) -> Path:
        ok("review", "output-check", rid, "--as", "olivia", "--approve")
        ok("signoff", rid, "--as", "paul", "--yes")
        ok("audit", "witness", "cosign", "--as", "committee")
        ok("release", "build", rid, "--as", "spp")
        opened = self.root / "opened" / rid
        ok("release", "open", str(self.home / "releases" / f"{rid}.primex"), "--key", "alice",
           "--out", str(opened))
        return opened


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PRIMEX_HOME", str(root / "home"))
        mp.setenv("PRIMEX_PASSPHRASE", PASS)
        mp.setenv("PRIMEX_BCSS_PASSPHRASE", PASS + "-bcss")
        mp.setattr("os.fsync", lambda fd: None)  # durability is the audit tests' subject
        ok("synth", "generate", "--persons", "3000", "--months", "24", "--start", "2022-01",
           "--seed", "1")
        ok("keys", "init", "--role", "committee", "--name", "committee")
        key = KEY.search(ok("keys", "init", "--role", "researcher", "--name", "alice",
                            "--by", "committee"))
        assert key is not None
        for role, name in [("privacy_officer", "olivia"), ("president", "paul"),
                           ("bcss_operator", "bcss"), ("spp_operator", "spp")]:
            ok("keys", "init", "--role", role, "--name", name, "--by", "committee")
        ok("linkage", "keygen")
        ok("audit", "witness", "init")
        yield Site(root, key.group(0))


@pytest.fixture(name="at")
def at_site(site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The module's installation as the environment of this test (conftest gives each
    test a home of its own)."""
    monkeypatch.setenv("PRIMEX_HOME", str(site.home))
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    monkeypatch.setenv("PRIMEX_BCSS_PASSPHRASE", PASS + "-bcss")
    monkeypatch.setattr("os.fsync", lambda fd: None)
    return site


