"""Issue 14, release side: each finding performed end to end through the `primex` command as
a hostile insider with write access to the SPP home (or a careless user) would, each refused
with exit 2, one clear line, no release entry and nothing packaged.

#1 bytes outside the signed manifest; #2 forged request history and a recipient key nobody
registered; #11 a third-party recipient without the officer's explicit approval; #12 a crash
between the release entry and the package's rename; C2 identifying columns and national
numbers in what leaves."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from release_attack_helpers import (
    assert_refused,
    forge_append,
    log_lines,
    niss,
    nothing_packaged,
    release_entries,
    run,
    store_spec,
)
from release_chain import FILES, PASS, SPEC, Chain, make_chain, no_fsync  # noqa: F401

from primex.errors import PrimexError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return make_chain(tmp_path, extra={"eve": "researcher"})


def fingerprint(key: str) -> str:
    """SHA-256 of the raw 32 key bytes in groups of 4 hex digits (docs/release.md), computed
    here from the key text."""
    digest = hashlib.sha256(base64.b64decode(key.removeprefix("primex-x25519:"))).hexdigest()
    return ":".join(digest[i:i + 4] for i in range(0, 64, 4))


def outsider_key() -> str:
    raw = X25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return "primex-x25519:" + base64.b64encode(raw).decode()


def signed_off_via_cli(chain: Chain, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, chain.home, "signoff", chain.request, "--as", "paul", "--yes")
    assert code == 0, err
    chain.witness()


def build(chain: Chain, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run(capsys, chain.home, "release", "build", chain.request, "--as", "spp")


def assert_nothing_left(chain: Chain) -> None:
    assert nothing_packaged(chain.home)
    assert release_entries(chain.home) == []


NISS_CSV = ("niss,age\n" + "".join(f"{niss(850731100 + i)},{20 + i}\n" for i in range(50)))


# --- #1: every byte that leaves is bound to the president's signature ----------------------


@pytest.mark.parametrize("report", ["disclosure-report.html", "disclosure-report.md"])
def test_report_overwritten_after_signoff_never_leaves(
    chain: Chain, capsys: pytest.CaptureFixture[str], report: str
) -> None:
    """The raw extract (every NISS) written over a readable report after the sign-off: an
    unsigned report (.html, new) and the signed one (.md, changed) are both refused."""
    chain.up_to_output_check()
    signed_off_via_cli(chain, capsys)
    (chain.protected / report).write_text(NISS_CSV)
    code, _out, err = build(chain, capsys)
    assert_refused(code, err, "release refused", report)
    assert_nothing_left(chain)


# --- #2: the gate verifies the whole history; the views show whose key it is ---------------


@pytest.mark.parametrize("forged", ["submission+approval", "approval"])
def test_forged_history_gets_no_package(
    chain: Chain, capsys: pytest.CaptureFixture[str], forged: str
) -> None:
    """An insider stores a spec with their own key and forges the researcher's submission
    and the officer's approval (right `prev` links, zero signatures); the honest steps
    follow (or refuse, where the log verifies histories itself). The president's view
    refuses, and so does the gate: exit 2, one line, nothing packaged."""
    digest = store_spec(chain.home, SPEC.format(key=outsider_key()))
    rid = f"REQ-{datetime.now(UTC).year}-0001"
    if forged == "approval":  # a real submission by alice, then a forged approval
        chain.submit()
        digest, rid = chain.spec_sha256, chain.request
    else:
        forge_append(chain.home, "submission", rid,
                     {"spec_sha256": digest, "title": "t", "organisation": "HIVA - KU Leuven"},
                     "alice")
    forge_append(chain.home, "approval", rid, {"spec_sha256": digest, "conditions": {}},
                 "olivia")
    chain.request, chain.spec_sha256 = rid, digest
    for step in (chain.log.refresh, chain.extract, chain.protect, chain.check_output):
        with contextlib.suppress(PrimexError):
            step()
    code, _out, err = run(capsys, chain.home, "signoff", rid, "--as", "paul", "--yes")
    assert_refused(code, err)
    with contextlib.suppress(PrimexError):
        chain.signoff()  # the president signs anyway, through the API
    with contextlib.suppress(PrimexError):
        chain.witness()
    code, _out, err = build(chain, capsys)
    assert_refused(code, err)
    assert "signature" in err or "forged" in err
    assert_nothing_left(chain)


def test_views_show_the_recipient_and_whose_key_it_is(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    chain.submit()
    fp = fingerprint(chain.ids["alice"].encryption_public_key or "")
    code, out, err = run(capsys, chain.home, "review", "show", chain.request, "--no-assess")
    assert code == 0, err
    assert f"recipient key {fp} (registered to alice (alice" in out
    assert "the requester's own key" in out
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    code, out, err = run(capsys, chain.home, "signoff", chain.request, "--as", "paul", "--yes")
    assert code == 0, err
    assert f"encrypted for: recipient key {fp} (registered to alice" in out
    assert "disclosure-report.md" in out  # the readable report the signature covers


def test_forged_key_registration_registers_nothing(
    chain: Chain, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The insider forges a committee `key_add` that gives alice's person a key they hold;
    alice's request naming that key is still refused as NOT registered."""
    key = outsider_key()
    forge_append(chain.home, "key_add", None, {
        "name": "alice-laptop", "role": "researcher", "person": "alice",
        "ed25519": base64.b64encode(bytes(range(32))).decode(), "x25519": key,
    }, "committee")
    spec = tmp_path / "request.yaml"
    spec.write_text(SPEC.format(key=key))
    size = len(log_lines(chain.home))
    code, _out, err = run(capsys, chain.home, "request", "submit", spec, "--as", "alice")
    assert_refused(code, err)  # "NOT registered" (or, where the log verifies key events
    assert "NOT registered" in err or "does not verify" in err  # itself, a bad signature)
    assert len(log_lines(chain.home)) == size


# --- #11: a third-party recipient only with the officer's explicit approval ----------------


def test_third_party_recipient_needs_the_officers_approval(
    chain: Chain, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    eve_key = chain.ids["eve"].encryption_public_key or ""
    fp = fingerprint(eve_key)
    spec = tmp_path / "request.yaml"
    spec.write_text(SPEC.format(key=eve_key))
    size = len(log_lines(chain.home))
    code, _out, err = run(capsys, chain.home, "request", "submit", spec, "--as", "alice")
    assert_refused(code, err, "registered to eve", "NOT allowed", "requester.public_key")
    assert len(log_lines(chain.home)) == size  # nothing submitted

    code, out, err = run(capsys, chain.home, "request", "submit", spec, "--as", "alice",
                         "--third-party-recipient")
    assert code == 0, err
    assert f"--recipient {fp}" in err
    chain.log.refresh()
    chain.request = chain.log.requests()[-1]
    chain.spec_sha256 = chain.log.state(chain.request).spec_sha256 or ""
    code, _out, err = run(capsys, chain.home, "review", "approve", chain.request, "--as",
                          "olivia")
    assert_refused(code, err, fp, "--recipient")
    code, _out, err = run(capsys, chain.home, "review", "approve", chain.request, "--as",
                          "olivia", "--recipient", "ab" * 32)
    assert_refused(code, err, "--recipient", "not the fingerprint")
    code, _out, err = run(capsys, chain.home, "review", "approve", chain.request, "--as",
                          "olivia", "--recipient", fp.replace(":", "").upper())
    assert code == 0, err  # typed without the colons, in capitals: the same fingerprint
    code, out, _err = run(capsys, chain.home, "review", "show", chain.request, "--no-assess")
    assert "registered to eve (eve)" in out and "approved by the privacy officer" in out

    chain.extract()
    chain.protect()
    chain.check_output()
    code, out, err = run(capsys, chain.home, "signoff", chain.request, "--as", "paul", "--yes")
    assert code == 0, err
    assert f"encrypted for: recipient key {fp} (registered to eve" in out
    chain.witness()
    code, _out, err = build(chain, capsys)
    assert code == 0, err
    package = chain.home.releases / f"{chain.request}.primex"
    code, _out, err = run(capsys, chain.home, "release", "open", package, "--key", "eve",
                          "--out", tmp_path / "opened")
    assert code == 0, err


def test_gate_refuses_a_recipient_nobody_registered(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    """A submission that skipped the command's check (library call, old client): the
    approval does not name the recipient, so the gate refuses it."""
    key = outsider_key()
    raw = SPEC.format(key=key)
    chain.spec_sha256 = store_spec(chain.home, raw)
    entry = chain.log.append("submission", None, {
        "spec_sha256": chain.spec_sha256, "title": "t", "organisation": "HIVA - KU Leuven",
    }, chain.signers["alice"])
    chain.request = entry.request or ""
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    code, _out, err = run(capsys, chain.home, "signoff", chain.request, "--as", "paul", "--yes")
    assert_refused(code, err, "NOT registered", fingerprint(key))
    chain.signoff()  # signed anyway, through the API
    chain.witness()
    code, _out, err = build(chain, capsys)
    assert_refused(code, err, "release refused (unregistered_recipient)", fingerprint(key))
    assert_nothing_left(chain)


# --- #12: crash-safe, idempotent build --------------------------------------------------------


class Crash(BaseException):
    """Stands for the process dying (not an error anyone handles)."""


def test_crash_between_entry_and_rename_is_finished_by_a_rerun(
    chain: Chain, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from primex.release.package import build_release

    chain.up_to_signoff()
    target = chain.home.releases / f"{chain.request}.primex"
    real_replace = os.replace

    def crash_at_final_rename(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == target:
            raise Crash
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_at_final_rename)
    with pytest.raises(Crash):
        build_release(chain.home, chain.request, chain.signers["spp"])
    monkeypatch.setattr(os, "replace", real_replace)
    [entry] = release_entries(chain.home)
    assert not target.exists()

    code, out, err = build(chain, capsys)
    assert code == 0, err
    assert "finished" in out
    assert hashlib.sha256(target.read_bytes()).hexdigest() == entry["body"]["package_sha256"]
    assert len(release_entries(chain.home)) == 1
    assert [p.name for p in chain.home.releases.iterdir()] == [target.name]
    code, _out, err = run(capsys, chain.home, "release", "open", target, "--key", "alice",
                          "--out", tmp_path / "opened")
    assert code == 0, err
    code, _out, err = build(chain, capsys)  # a third run: complete, says so, changes nothing
    assert_refused(code, err, "already released", str(target))


_KILLER = """
import os, signal, sys
from pathlib import Path
when = sys.argv[1]
if when == "rename":
    real = os.replace
    def replace(src, dst):
        if Path(dst).suffix == ".primex" and not Path(dst).name.startswith("."):
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
    os.replace = replace
elif when == "archive":  # in the middle of writing the (plaintext) archive
    import zipfile
    real_writestr = zipfile.ZipFile.writestr
    def writestr(self, info, data, *args, **kwargs):
        name = getattr(info, "filename", info)
        if name == "evidence/proofs.json":
            os.kill(os.getpid(), signal.SIGKILL)
        return real_writestr(self, info, data, *args, **kwargs)
    zipfile.ZipFile.writestr = writestr
else:
    from primex.audit import log as log_module
    real_append = log_module.AuditLog.append
    def append(self, kind, *args, **kwargs):
        if kind == "release":
            os.kill(os.getpid(), signal.SIGKILL)
        return real_append(self, kind, *args, **kwargs)
    log_module.AuditLog.append = append
from primex.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("when", ["archive", "append", "rename"])
def test_kill_9_during_build_then_rerun(
    chain: Chain, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    """kill -9 while the archive is written, just before the entry, or at the final rename
    (after the entry): a rerun leaves exactly one release entry, the package it records and
    nothing else (no plaintext staging, no temporary file)."""
    chain.up_to_signoff()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PRIMEX_PASSPHRASE": PASS}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, when, "--home", str(chain.home.root), "release",
         "build", chain.request, "--as", "spp"],
        env=env, capture_output=True, timeout=120, check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(release_entries(chain.home)) == (1 if when == "rename" else 0)
    target = chain.home.releases / f"{chain.request}.primex"
    assert not target.exists()
    for path in chain.home.releases.rglob("*"):  # no plaintext where packages are sent from
        assert not path.is_file() or FILES["spells.csv"] not in path.read_bytes()
    code, _out, err = build(chain, capsys)
    assert code == 0, err
    [entry] = release_entries(chain.home)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == entry["body"]["package_sha256"]
    assert [p.name for p in chain.home.releases.iterdir()] == [target.name]
    assert sorted(p.name for p in chain.work.iterdir()) == ["protected"]  # no staging left


# --- C2: no identifying column, no national number leaves -----------------------------------


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


IDENTIFYING = {
    "niss-column": ({"spells.csv": b"age,NISS\n18-24,x\n"}, "identifying_column", "'NISS'"),
    "record-key": (
        {"spells.parquet": _parquet(pa.table({
            "age": ["18-24"], "spp_record_key": pa.array([bytes(16)], pa.binary(16)),
        }))},
        "identifying_column", "spp_record_key",
    ),
    "nn11-parquet": (
        {"spells.parquet": _parquet(pa.table({"nn11": ["x"], "age": ["18-24"]}))},
        "identifying_column", "nn11",
    ),
    "separated-text": (
        {"spells.csv": f"age,note\n18-24,born {niss(850731123)[:2]}.{niss(850731123)[2:4]}."
                       f"{niss(850731123)[4:6]}-{niss(850731123)[6:9]}.{niss(850731123)[9:]}\n"
                       .encode()},
        "niss_found", "spells.csv",
    ),
    "int64-parquet": (
        {"spells.parquet": _parquet(pa.table({
            "age": ["18-24", "25-34"], "id": pa.array([7, int(niss(850731123))], pa.int64()),
        }))},
        "niss_found", "column 'id', row 2",
    ),
    "leading-zero-lost": (
        {"spells.csv": f"age,id\n18-24,{int(niss(50101123))}\n".encode()},
        "niss_found", "spells.csv",
    ),
}


@pytest.mark.parametrize("case", sorted(IDENTIFYING))
def test_gate_refuses_identifying_content(
    chain: Chain, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    files, reason, named = IDENTIFYING[case]
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect(files)
    chain.check_output()
    signed_off_via_cli(chain, capsys)  # even the president's signature does not let it out
    code, _out, err = build(chain, capsys)
    assert_refused(code, err, f"release refused ({reason})", named)
    assert "850731123" not in err and "50101123" not in err  # the value is never printed
    assert_nothing_left(chain)


def test_long_numbers_with_wrong_check_digits_still_leave(
    chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: 11-digit numbers whose check digits are wrong are not national numbers."""
    good = int(niss(850731123))
    wrong = [good + d for d in (1, 2, 3)]  # check digits off by 1-3: invalid
    files = {"spells.csv": b"age,amount\n" + b"".join(f"18-24,{w}\n".encode() for w in wrong)}
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect(files)
    chain.check_output()
    signed_off_via_cli(chain, capsys)
    code, _out, err = build(chain, capsys)
    assert code == 0, err
