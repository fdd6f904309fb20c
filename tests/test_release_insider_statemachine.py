"""Issue 14 'done means': honest steps interleaved with an insider's edits of ANY file under
the home folder (spec store, work and protected files, reports, key files, the log's lines,
checkpoints) and forged log entries. Invariant: no package is ever built whose content is
not exactly what the president signed, for the recipient the researcher registered.

The model records, at the moment the president really signs (through the sign-off view),
the bytes of every file that may leave (data files, readable reports, JSON report). Every
package the gate lets out is opened with the researcher's registered key and compared byte
for byte with that record; a package for any other key cannot be opened with hers and
fails the invariant too."""

from __future__ import annotations

import base64
import contextlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from release_attack_helpers import forge_append, store_spec
from release_chain import PASS, SPEC, make_chain

from primex.audit.keys import load_encryption_private_key
from primex.errors import PrimexError
from primex.exchange.envelope import recipient_of
from primex.release.package import build_release
from primex.release.signoff import prepare_signoff, sign_off
from primex.researcher.open import open_package

NISS_CSV = b"niss,age\n85073112390,20\n"  # the shape of the raw extract
INSIDER_KEY = "primex-x25519:" + base64.b64encode(
    X25519PrivateKey.from_private_bytes(bytes(range(1, 33))).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
).decode()
EDITS = ["flip", "truncate", "append", "niss", "delete", "report_html", "insider_spec"]
FORGED = ["approval", "signoff", "output_check", "disclosure_result", "release", "key_add"]
ACTORS = ["alice", "olivia", "paul", "spp", "committee", "mallory"]


class InsiderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._fsync = mock.patch("os.fsync", lambda fd: None)
        self._fsync.start()
        self.tmp = Path(tempfile.mkdtemp(prefix="primex-insider-"))
        self.chain = make_chain(self.tmp)
        self.chain.submit()
        self.signed: dict[str, bytes] | None = None  # what the president signed, byte for byte
        # alice's decryption key, held by the test (the insider may damage the file on disk)
        self.alice_key = load_encryption_private_key(self.chain.home, "alice", PASS)
        self.released = 0
        self.forged_requests: list[str] = []

    def teardown(self) -> None:
        self._fsync.stop()
        self.chain.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _state(self) -> str | None:
        try:
            self.chain.log.refresh()
            return self.chain.log.state(self.chain.request).state
        except PrimexError:
            return None  # the insider broke the log: every honest step now refuses

    # --- honest steps --------------------------------------------------------------------
    def _honest(self, fn) -> None:  # type: ignore[no-untyped-def]
        with contextlib.suppress(PrimexError, OSError):
            fn()

    def _signoff(self) -> None:
        c = self.chain
        view = prepare_signoff(c.home, c.log, c.request)
        # what the view showed is what is signed: record those bytes before signing
        protected = c.protected
        record = {f"data/{f.name}": (protected / f.name).read_bytes() for f in view.manifest.files}
        for f in view.reports.files if view.reports else ():
            record[f.name] = (protected / f.name).read_bytes()
        record["disclosure-report.json"] = (protected / "disclosure-report.json").read_bytes()
        sign_off(c.log, view, c.signers["paul"])
        self.signed = record

    @rule(steps=st.integers(1, 6))
    def advance(self, steps: int) -> None:
        c = self.chain
        for _ in range(steps):
            step = {
                "submitted": c.approve,
                "approved": c.extract,
                "extracted": c.protect,
                "protected": c.check_output,
                "output_checked": self._signoff,
            }.get(self._state() or "")
            if step is None:
                return
            self._honest(step)

    @rule()
    def witness(self) -> None:
        self._honest(self.chain.witness)

    @initialize(steps=st.sampled_from([0, 3, 5, 5, 5]), witnessed=st.booleans())
    def start_somewhere(self, steps: int, witnessed: bool) -> None:
        self.advance(steps)
        if witnessed:
            self.witness()

    # --- the insider ---------------------------------------------------------------------
    @rule(edit=st.sampled_from(EDITS), pick=st.integers(0, 10**6), at=st.integers(0, 10**6))
    def insider_edits_a_file(self, edit: str, pick: int, at: int) -> None:
        home = self.chain.home.root
        protected = self.chain.protected
        if edit == "report_html":
            if protected.is_dir():
                (protected / "disclosure-report.html").write_bytes(NISS_CSV)
            return
        if edit == "insider_spec":  # a spec with the insider's key, stored by its hash
            store_spec(self.chain.home, SPEC.format(key=INSIDER_KEY))
            return
        files = sorted(p for p in home.rglob("*") if p.is_file() and not p.is_symlink())
        if not files:
            return
        path = files[pick % len(files)]
        data = path.read_bytes()
        path.chmod(0o600)
        if edit == "flip" and data:
            i = at % len(data)
            path.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:])
        elif edit == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif edit == "append":
            path.write_bytes(data + b"\n")
        elif edit == "niss":
            path.write_bytes(NISS_CSV)
        elif edit == "delete":
            path.unlink()

    @rule(kind=st.sampled_from(FORGED), actor=st.sampled_from(ACTORS))
    def insider_forges_an_entry(self, kind: str, actor: str) -> None:
        """An entry with the right position and `prev` link but no valid signature."""
        c = self.chain
        digest = store_spec(c.home, SPEC.format(key=INSIDER_KEY))
        try:
            body_signoff = c.signoff_body()
        except (PrimexError, OSError):
            body_signoff = {}
        bodies = {
            "approval": {"spec_sha256": digest, "conditions": {}},
            "signoff": {**body_signoff, "recipient": "00" * 32},
            "output_check": {"manifest_sha256": body_signoff.get("manifest_sha256", "0" * 64),
                             "decision": "approve"},
            "disclosure_result": {"manifest_sha256": body_signoff.get("manifest_sha256",
                                                                      "0" * 64),
                                  "passed": True, "report_sha256": "0" * 64},
            "release": {"manifest_sha256": "0" * 64, "package_sha256": "0" * 64,
                        "recipient": INSIDER_KEY, "checkpoint": {"size": 1, "root": ""}},
            "key_add": {"name": "mallory", "role": "researcher", "person": "alice",
                        "ed25519": base64.b64encode(bytes(32)).decode(), "x25519": INSIDER_KEY},
        }
        with contextlib.suppress(OSError, ValueError, KeyError, IndexError):  # broken log
            forge_append(c.home, kind, None if kind == "key_add" else c.request, bodies[kind],
                         actor)

    @rule()
    def insider_forges_a_request_for_themselves(self) -> None:
        """A spec with the insider's key, a forged submission by alice and a forged approval
        by the officer; the honest operators then work on that request."""
        c = self.chain
        digest = store_spec(c.home, SPEC.format(key=INSIDER_KEY))
        rid = f"REQ-{datetime.now(UTC).year}-{len(self.forged_requests) + 900:04d}"
        with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
            forge_append(c.home, "submission", rid, {
                "spec_sha256": digest, "title": "t", "organisation": "HIVA - KU Leuven",
            }, "alice")
            forge_append(c.home, "approval", rid, {"spec_sha256": digest, "conditions": {}},
                         "olivia")
        self.forged_requests.append(rid)
        c.request, c.spec_sha256 = rid, digest
        self.signed = None  # the model tracks the president's signature of this request now
        self.advance(6)  # the operators, the officer and the president see it in their queue

    # --- the release attempt and the invariant ---------------------------------------------
    @rule()
    def release(self) -> None:
        c = self.chain
        target = c.home.releases / f"attempt-{self.released}.primex"
        try:
            c.log.refresh()
            released = build_release(c.home, c.request, c.signers["spp"], out=target,
                                     log=c.log)
        except (PrimexError, OSError):
            return
        self.released += 1
        assert self.signed is not None, "a package left without a real sign-off"
        alice = c.ids["alice"].encryption_public_key
        assert recipient_of(released.path) == alice, "encrypted for someone else"
        out = self.tmp / f"opened-{self.released}"
        open_package(released.path, self.alice_key, out)
        shipped = {
            str(p.relative_to(out)): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and (p.parent.name == "data" or p.name.startswith("disclosure-"))
        }
        assert shipped == self.signed, "the package is not exactly what the president signed"

    @rule()
    def witness_and_release(self) -> None:
        self.witness()
        self.release()

    @invariant()
    def at_most_one_release(self) -> None:
        assert self.released <= 1


TestInsiderMachine = InsiderMachine.TestCase
TestInsiderMachine.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_machine_reaches_a_release_and_checks_it() -> None:
    """Not vacuous: the honest path ends in a package that the invariant inspects."""
    m = InsiderMachine()
    try:
        m.start_somewhere(5, witnessed=True)
        assert m.signed is not None
        m.release()
        assert m.released == 1
    finally:
        m.teardown()


def test_machine_refuses_an_unsigned_report() -> None:
    m = InsiderMachine()
    try:
        m.start_somewhere(5, witnessed=True)
        m.insider_edits_a_file("report_html", 0, 0)
        m.release()
        assert m.released == 0
    finally:
        m.teardown()


def test_machine_refuses_a_request_forged_for_the_insider() -> None:
    """The insider's own request, honestly processed afterwards: never released."""
    m = InsiderMachine()
    try:
        m.insider_forges_a_request_for_themselves()
        m.witness_and_release()
        assert m.released == 0
        assert m.signed is None  # the president was never offered it
    finally:
        m.teardown()
