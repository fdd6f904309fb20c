"""The request life cycle: every transition, every refusal, separation of duties, and a
hypothesis state machine showing no illegal transition (and no release without a valid
sign-off) is ever accepted."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pytest
from audit_fixtures import (
    CODED_FILE,
    EXTRACT_FILE,
    MANIFEST_SHA,
    SPEC,
    World,
    body,
    forge_line,
    make_world,
    release,
    walk_to,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from primex.audit import files
from primex.audit.canonical import loads, sha256_hex
from primex.audit.keys import verify_signature
from primex.audit.log import open_log, signed_bytes
from primex.committee.verify import verify_log
from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_full_life_cycle_state_is_derived_from_entries(world: World) -> None:
    rid = walk_to(world, "released")
    st_ = world.log.state(rid)
    assert st_.state == "released"
    assert st_.requester == "alice" and st_.organisation == "HIVA"
    assert st_.spec_sha256 == SPEC and st_.conditions == {"k": 10, "text": "no region"}
    assert st_.manifest_sha256 == MANIFEST_SHA
    assert [e.type for e in st_.history] == [
        "submission", "approval", "extraction", "coding", "disclosure_result",
        "output_check", "signoff", "release",
    ]
    world.log.append("access", rid, body("access"), world.s("alice"))
    world.log.append("closure", rid, body("closure"), world.s("olga"))
    again = open_log(world.home).state(rid)  # a fresh replay agrees: no second copy of state
    assert again.state == "closed" and again.manifest_sha256 == MANIFEST_SHA
    assert rid.startswith("REQ-") and world.log.requests() == [rid]


def test_return_and_resubmission_by_the_requester_only(world: World) -> None:
    rid = walk_to(world, "submitted")
    world.log.append("return", rid, body("return"), world.s("olga"))
    assert world.log.state(rid).state == "returned"
    other = world.add_actor("researcher", "ruth")
    with pytest.raises(PermissionDenied, match="only the original requester"):
        world.log.append("submission", rid, body("submission"), other)
    world.log.append("submission", rid, body("submission", spec_sha256="b" * 64),
                     world.s("alice"))
    with pytest.raises(ValidationError, match="another version of the spec"):
        world.log.append("approval", rid, body("approval"), world.s("olga"))
    world.log.append("approval", rid, body("approval", spec_sha256="b" * 64), world.s("olga"))
    assert world.log.state(rid).state == "approved"


def test_rejection_is_final(world: World) -> None:
    rid = walk_to(world, "submitted")
    world.log.append("rejection", rid, body("rejection"), world.s("olga"))
    for event, actor in [("approval", "olga"), ("submission", "alice"), ("closure", "olga")]:
        with pytest.raises(PermissionDenied, match="the request is rejected"):
            world.log.append(event, rid, body(event), world.s(actor))


@pytest.mark.parametrize(
    ("target", "event", "actor", "match"),
    [
        ("submitted", "approval", "alice", "must be signed by privacy_officer"),
        ("submitted", "approval", "pres", "must be signed by privacy_officer"),
        ("submitted", "extraction", "spp", "the request is submitted"),
        ("approved", "coding", "bcss", "the request is approved"),
        ("approved", "disclosure_result", "bcss", "must be signed by spp_operator"),
        ("protected", "signoff", "pres", "the request is protected"),
        ("output_checked", "signoff", "olga", "must be signed by president"),
        ("output_checked", "release", "spp", "the request is output_checked"),
        ("signed_off", "access", "alice", "the request is signed_off"),
    ],
)
def test_wrong_role_or_wrong_state_is_refused(
    world: World, target: str, event: str, actor: str, match: str
) -> None:
    rid = walk_to(world, target)
    before = world.log.size
    with pytest.raises(PermissionDenied, match=match):
        world.log.append(event, rid, body(event), world.s(actor))
    assert world.log.size == before == open_log(world.home).size  # nothing written
    assert world.log.state(rid).state == target


def test_hash_bindings(world: World) -> None:
    rid = walk_to(world, "protected")
    other = "9" * 64
    with pytest.raises(ValidationError, match="does not match the passed disclosure"):
        world.log.append("output_check", rid, body("output_check", manifest_sha256=other),
                         world.s("olga"))
    world.log.append("output_check", rid, body("output_check"), world.s("olga"))
    with pytest.raises(ValidationError, match="does not match the checked output"):
        world.log.append("signoff", rid, body("signoff", manifest_sha256=other),
                         world.s("pres"))
    swapped = {"files": [{"name": "extract.parquet", "bytes": 1, "sha256": "7" * 64}]}
    with pytest.raises(ValidationError, match="does not hash to manifest_sha256"):
        world.log.append("signoff", rid, body("signoff", manifest=swapped), world.s("pres"))
    with pytest.raises(ValidationError, match="needs body field 'manifest'"):
        b = body("signoff")
        del b["manifest"]
        world.log.append("signoff", rid, b, world.s("pres"))
    world.log.append("signoff", rid, body("signoff"), world.s("pres"))
    assert world.log.state(rid).state == "signed_off"


def test_failed_disclosure_and_returned_output_go_back(world: World) -> None:
    rid = walk_to(world, "coded")
    world.log.append("disclosure_result", rid, body("disclosure_result", passed=False),
                     world.s("spp"))
    assert world.log.state(rid).state == "coded"
    assert world.log.state(rid).manifest_sha256 is None
    world.log.append("disclosure_result", rid, body("disclosure_result"), world.s("spp"))
    world.log.append("output_check", rid, body("output_check", decision="return"),
                     world.s("olga"))
    assert world.log.state(rid).state == "coded"
    with pytest.raises(ValidationError, match="decision 'maybe'"):
        world.log.append("disclosure_result", rid, body("disclosure_result"), world.s("spp"))
        world.log.append("output_check", rid, body("output_check", decision="maybe"),
                         world.s("olga"))


def test_separation_of_duties_across_keys_of_one_person(world: World) -> None:
    # alice also holds an officer key; olga also holds a president key
    alice_po = world.add_actor("privacy_officer", "alice-dpo", person="alice")
    olga_pres = world.add_actor("president", "olga-pres", person="olga")
    rid = walk_to(world, "submitted")
    with pytest.raises(PermissionDenied, match="separation of duties"):
        world.log.append("approval", rid, body("approval"), alice_po)
    rid = walk_to(world, "output_checked")
    with pytest.raises(PermissionDenied, match="'olga' already acted as privacy_officer"):
        world.log.append("signoff", rid, body("signoff"), olga_pres)


def test_release_needs_a_witnessed_checkpoint_including_the_signoff(world: World) -> None:
    rid = walk_to(world, "signed_off")
    cp = world.log.checkpoint()  # signed by the log, not cosigned by the committee
    rel = {"manifest_sha256": MANIFEST_SHA, "package_sha256": "6" * 64, "recipient": "alice",
           "checkpoint": {"size": cp.size, "root": cp.root_b64}}
    with pytest.raises(PermissionDenied, match="no valid cosignature"):
        world.log.append("release", rid, rel, world.s("spp"))
    signoff_seq = world.log.state(rid).signoff_seq
    assert signoff_seq is not None and world.log.witnessed_checkpoint(signoff_seq) is None
    early = {**rel, "checkpoint": {"size": signoff_seq, "root": cp.root_b64}}
    with pytest.raises(PermissionDenied, match="does not include the signoff"):
        world.log.append("release", rid, early, world.s("spp"))
    release(world, rid)
    assert world.log.witnessed_checkpoint(signoff_seq) is not None
    with pytest.raises(PermissionDenied, match="not in the released manifest"):
        world.log.append("access", rid, body("access", sha256="8" * 64), world.s("alice"))
    ruth = world.add_actor("researcher", "ruth")
    with pytest.raises(PermissionDenied, match="only the requester"):
        world.log.append("access", rid, body("access"), ruth)


def test_unknown_and_revoked_keys(world: World, tmp_path: Path) -> None:
    rid = walk_to(world, "output_checked")
    from primex.audit import keys

    keys.create_identity(world.home, "president", "ghost", "ghost-pass")
    ghost = keys.load_signer(world.home, "ghost", "ghost-pass")
    with pytest.raises(PermissionDenied, match="not registered"):
        world.log.append("signoff", rid, body("signoff"), ghost)
    world.log.revoke_key("pres", "lost laptop", world.s("comm"))
    with pytest.raises(PermissionDenied, match="revoked"):
        world.log.append("signoff", rid, body("signoff"), world.s("pres"))


def test_bad_bodies_and_ids(world: World) -> None:
    with pytest.raises(ValidationError, match="spec_sha256"):
        world.log.append("submission", None, {"title": "x"}, world.s("alice"))
    with pytest.raises(ValidationError, match="invalid"):
        world.log.append("submission", None, body("submission", spec_sha256="XYZ"),
                         world.s("alice"))
    with pytest.raises(ValidationError, match="floats are not allowed"):
        world.log.append("submission", None, body("submission", share=0.5), world.s("alice"))
    with pytest.raises(ValidationError, match="unknown event type"):
        world.log.append("teleport", "R1", {}, world.s("alice"))
    with pytest.raises(ValidationError, match="needs a request id"):
        world.log.append("approval", None, body("approval"), world.s("olga"))
    with pytest.raises(ValidationError, match="invalid request id"):
        world.log.append("submission", "../x", body("submission"), world.s("alice"))
    with pytest.raises(PermissionDenied, match="does not exist"):
        world.log.append("approval", "REQ-9999-0001", body("approval"), world.s("olga"))
    # an explicit id for a new submission is kept
    e = world.log.append("submission", "HIVA-2026-07", body("submission"), world.s("alice"))
    assert e.request == "HIVA-2026-07"


# --- the state machine ------------------------------------------------------------------

EVENTS = ["submission", "return", "rejection", "approval", "extraction", "coding",
          "disclosure_result", "output_check", "signoff", "release", "access", "closure"]
# actor -> (role, person); two people hold a second key in another role
ACTORS = {
    "alice": ("researcher", "alice"), "ruth": ("researcher", "ruth"),
    "olga": ("privacy_officer", "olga"), "pres": ("president", "pres"),
    "spp": ("spp_operator", "spp"), "bcss": ("bcss_operator", "bcss"),
    "comm": ("committee", "comm"), "alice-dpo": ("privacy_officer", "alice"),
    "olga-pres": ("president", "olga"),
}
# The oracle, written independently of primex.audit.workflow.TRANSITIONS.
ORACLE: dict[str, tuple[set[str], set[str | None]]] = {
    "submission": ({"researcher"}, {None, "returned"}),
    "return": ({"privacy_officer"}, {"submitted"}),
    "rejection": ({"privacy_officer"}, {"submitted"}),
    "approval": ({"privacy_officer"}, {"submitted"}),
    "extraction": ({"spp_operator"}, {"approved", "extracted", "coded", "protected"}),
    "coding": ({"bcss_operator"}, {"extracted", "coded"}),
    "disclosure_result": ({"spp_operator"}, {"extracted", "coded", "protected"}),
    "output_check": ({"privacy_officer"}, {"protected"}),
    "signoff": ({"president"}, {"output_checked"}),
    "release": ({"spp_operator"}, {"signed_off"}),
    "access": ({"researcher"}, {"released"}),
    "closure": ({"privacy_officer", "spp_operator"},
                {"submitted", "returned", "approved", "extracted", "coded", "protected",
                 "output_checked", "signed_off", "released"}),
}


class LifeCycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # rules, not durability, are tested here (test_audit_log does the disk): skip fsync
        self._fsync = files.fsync
        files.fsync = lambda fd: None
        self.tmp = tempfile.TemporaryDirectory()
        self.world = make_world(Path(self.tmp.name), [("researcher", "ruth")])
        self.world.add_actor("privacy_officer", "alice-dpo", person="alice")
        self.world.add_actor("president", "olga-pres", person="olga")
        self.model: dict[str, dict[str, Any]] = {}
        self.cosigned: set[int] = set()
        self.revoked: set[str] = set()
        self.forged: dict[str, int] = {}  # request -> seq of the insider's forged entry

    def teardown(self) -> None:
        files.fsync = self._fsync
        result = verify_log(self.world.home, require_witness=False, full=True, record=False)
        self.world.log.close()
        self.tmp.cleanup()
        if not self.forged:
            assert result.ok, result.failures
        else:  # the committee finds the first forgery, as a bad signature
            first = result.failures[0]
            assert (first.check, first.seq) == ("signature", min(self.forged.values()))

    def _predict(self, event: str, rid: str | None, actor: str, b: dict[str, Any]) -> bool:
        role, person = ACTORS[actor]
        m = self.model.get(rid) if rid else None
        state = m["state"] if m else None
        roles, sources = ORACLE[event]
        if actor in self.revoked or role not in roles or state not in sources:
            return False
        if m and m["persons"].get(person, role) != role:
            return False
        if event == "submission" and m and person != m["requester"]:
            return False
        if event == "approval" and b["spec_sha256"] != m["spec"]:
            return False
        if event in ("output_check", "signoff", "release") and \
                b["manifest_sha256"] != m["manifest"]:
            return False
        if event == "output_check" and b["decision"] not in ("approve", "return"):
            return False
        if event == "signoff" and sha256_hex(b["manifest"]) != b["manifest_sha256"]:
            return False
        if event == "release":
            size = b["checkpoint"]["size"]
            if size <= m["signoff_seq"] or size not in self.cosigned:
                return False
        if event != "access":
            return True
        return person == m["requester"] and b["sha256"] == "2" * 64

    def _update(self, event: str, rid: str, actor: str, b: dict[str, Any], seq: int) -> None:
        role, person = ACTORS[actor]
        m = self.model.setdefault(rid, {"state": None, "persons": {}, "coded": False,
                                        "manifest": None})
        back = "coded" if m["coded"] else "extracted"
        new = {"submission": "submitted", "return": "returned", "rejection": "rejected",
               "approval": "approved", "extraction": "extracted", "coding": "coded",
               "signoff": "signed_off", "release": "released", "access": "released",
               "closure": "closed"}.get(event)
        if event == "submission":
            m["requester"], m["spec"] = person, b["spec_sha256"]
        if event == "extraction":
            m["coded"], m["manifest"] = False, None
        if event == "coding":
            m["coded"] = True
        if event == "disclosure_result":
            m["manifest"] = b["manifest_sha256"] if b["passed"] else None
            new = "protected" if b["passed"] else back
        if event == "output_check":
            if b["decision"] == "approve":
                new = "output_checked"
            else:
                m["manifest"], new = None, back
        if event == "signoff":
            m["signoff_seq"] = seq
        m["persons"][person] = role
        m["state"] = new

    @rule(event=st.sampled_from(EVENTS), actor=st.sampled_from(sorted(ACTORS)),
          pick=st.integers(0, 5), variant=st.integers(0, 3))
    def random_action(self, event: str, actor: str, pick: int, variant: int) -> None:
        self.act(event, actor, pick, variant)

    def act(self, event: str, actor: str, pick: int, variant: int) -> None:
        rids = sorted(self.model)
        rid = None if event == "submission" and (not rids or pick == 0) else (
            rids[pick % len(rids)] if rids else "REQ-0000-0000")
        b = self._body(event, rid, variant)
        expected = self._predict(event, rid, actor, b)
        try:
            entry = self.world.log.append(event, rid, b, self.world.s(actor))
        except IntegrityError as exc:  # nothing is added on top of a forged history
            assert rid in self.forged and "does not verify" in exc.what, exc
            return
        except (PermissionDenied, ValidationError) as exc:
            assert not expected, f"refused a legal {event} by {actor}: {exc}"
            return
        assert rid not in self.forged, f"appended {event} on top of a forged history"
        assert expected, f"accepted an illegal {event} by {actor} on {rid}"
        assert entry.request is not None
        self._update(event, entry.request, actor, b, entry.seq)

    NEXT: ClassVar[dict[str | None, tuple[str, str]]] = {
            None: ("submission", "alice"), "submitted": ("approval", "olga"),
            "returned": ("submission", "alice"), "approved": ("extraction", "spp"),
            "extracted": ("coding", "bcss"), "coded": ("disclosure_result", "spp"),
            "protected": ("output_check", "olga"), "output_checked": ("signoff", "pres"),
            "signed_off": ("release", "spp"), "released": ("access", "alice")}

    @rule(pick=st.integers(0, 5))
    def advance(self, pick: int) -> None:
        """Push one request one step forward, so deep states (release) are reached often."""
        rids = sorted(self.model)
        rid = rids[pick % len(rids)] if rids and pick else None
        state = self.model[rid]["state"] if rid else None
        if state not in self.NEXT:
            return
        event, actor = self.NEXT[state]
        if event == "release" and not any(s > self.model[rid]["signoff_seq"]
                                          for s in self.cosigned):
            self.cosign()
        self.act(event, actor, pick if rid else 0, 0)

    def _body(self, event: str, rid: str | None, variant: int) -> dict[str, Any]:
        if event == "approval" and variant == 1:
            return body(event, spec_sha256="b" * 64)
        if event == "submission" and variant == 1:
            return body(event, spec_sha256="b" * 64)
        if event in ("output_check", "signoff") and variant == 1:
            return body(event, manifest_sha256="9" * 64)
        if event == "signoff" and variant == 2:
            return body(event, manifest={"files": []})
        if event == "output_check" and variant == 2:
            return body(event, decision="return")
        if event == "output_check" and variant == 3:
            return body(event, decision="perhaps")
        if event == "disclosure_result":  # its input: the coded file, or the extract
            read = CODED_FILE if rid in self.model and self.model[rid]["coded"] else \
                EXTRACT_FILE
            inputs = [{"name": read["name"], "sha256": read["sha256"]}]
            return body(event, passed=variant != 1, inputs=inputs)
        if event == "access" and variant == 1:
            return body(event, sha256="8" * 64)
        if event == "release":
            if variant == 0 and self.cosigned:
                size = max(self.cosigned)
                cp = self.world.log.stored_checkpoint(size)
            else:
                cp = self.world.log.checkpoint()
            assert cp is not None
            return {"manifest_sha256": "9" * 64 if variant == 3 else MANIFEST_SHA,
                    "package_sha256": "6" * 64, "recipient": "alice",
                    "checkpoint": {"size": cp.size, "root": cp.root_b64}}
        return body(event)

    @rule()
    def witness_cosigns(self) -> None:
        self.cosign()

    def cosign(self) -> None:
        from primex.committee.witness import cosign_latest

        try:
            cp = cosign_latest(self.world.home, self.world.s("comm"))
        except IntegrityError as exc:  # the witness never vouches for a forged entry
            assert self.forged and "does not verify" in exc.what, exc
            return
        assert not self.forged, "the witness cosigned over a forged entry"
        self.cosigned.add(cp.size)

    @rule(pick=st.integers(0, 5), chance=st.integers(0, 5))
    def insider_forges_the_next_step(self, pick: int, chance: int) -> None:
        """An insider appends the request's next step with a correct chain and a zero
        signature (issue 14 #2): from then on nothing may act on that request."""
        rids = sorted(r for r in self.model if r not in self.forged)
        if chance or not rids:  # rare: most runs stay honest
            return
        rid = rids[pick % len(rids)]
        if self.model[rid]["state"] not in self.NEXT:
            return
        event, actor = self.NEXT[self.model[rid]["state"]]
        if actor in self.revoked or event == "release":  # a step the rules would allow
            return
        seq = forge_line(self.world.home, event, rid, self._body(event, rid, 0), actor)
        self.forged[rid] = seq

    @rule(name=st.sampled_from(["pres", "olga", "spp"]), chance=st.integers(0, 9))
    def revoke(self, name: str, chance: int) -> None:
        if chance or name in self.revoked:  # rare: most runs keep every key
            return
        self.world.log.revoke_key(name, "test", self.world.s("comm"))
        self.revoked.add(name)

    @invariant()
    def no_release_without_a_valid_signoff(self) -> None:
        log = self.world.log
        reg = log.registry
        for rid, m in self.model.items():
            if rid in self.forged:  # never read as a real state
                with pytest.raises(IntegrityError, match="does not verify"):
                    log.state(rid)
                continue
            st_ = log.state(rid)
            assert st_.state == m["state"]
            releases = [e for e in st_.history if e.type == "release"]
            for rel in releases:
                signoffs = [e for e in st_.history
                            if e.type == "signoff" and e.seq < rel.seq
                            and e.body["manifest_sha256"] == rel.body["manifest_sha256"]]
                assert signoffs, f"release of {rid} without a sign-off"
                so = signoffs[-1]
                key = reg.keys[so.actor]
                assert key.role == "president"
                assert key.revoked_seq is None or key.revoked_seq > so.seq
                assert verify_signature(key.public_key, base64.b64decode(so.sig),
                                        signed_bytes(loads(so.raw)))
                assert sha256_hex(so.body["manifest"]) == rel.body["manifest_sha256"]


LifeCycle.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifeCycle = LifeCycle.TestCase


def test_no_primex_error_escapes_as_other_types(world: World) -> None:
    # every refusal is a PrimexError (one line for the CLI), never a bare exception
    with pytest.raises(PrimexError):
        world.log.append("signoff", "nope", {"manifest": 1}, world.s("pres"))
