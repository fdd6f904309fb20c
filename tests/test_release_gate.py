"""The release gate: the happy path, and every way to get something out without a valid,
witnessed sign-off of exactly those files (each refused with its specific reason)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from release_chain import FILES, Chain, make_chain, no_fsync  # noqa: F401

from primex.audit.canonical import dumps, loads
from primex.audit.keys import load_encryption_private_key
from primex.audit.log import utc_now
from primex.errors import IntegrityError, PermissionDenied, PrimexError, ValidationError
from primex.release.gate import (
    REASONS,
    ReleaseRefused,
    ReleaseTampered,
    check_release,
    verify_entry,
)
from primex.release.package import build_release, write_archive
from primex.researcher.open import open_package


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return make_chain(tmp_path)


def refused(chain: Chain, reason: str, request: str | None = None) -> PrimexError:
    """Assert the gate refuses with `reason`, and that nothing leaked or was logged."""
    chain.log.refresh()
    size = chain.log.size
    with pytest.raises((ReleaseRefused, ReleaseTampered)) as info:
        build_release(chain.home, request or chain.request, chain.signers["spp"], log=chain.log)
    assert info.value.reason == reason, info.value.one_line()
    assert isinstance(info.value, REASONS[reason])
    assert f"release refused ({reason})" in info.value.one_line()
    chain.log.refresh()
    assert chain.log.size == size  # no release entry
    releases = chain.home.releases
    assert not releases.exists() or not any(releases.iterdir())  # no package, no temp file
    return info.value


def test_happy_path_release_and_open(chain: Chain, tmp_path: Path) -> None:
    chain.up_to_signoff()
    released = build_release(chain.home, chain.request, chain.signers["spp"])
    data = released.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == released.package_sha256
    assert FILES["spells.csv"] not in data  # encrypted
    entry = chain.log.entries(chain.request)[-1]
    assert entry.type == "release" and entry.actor == "spp"
    assert entry.body["package_sha256"] == released.package_sha256
    assert entry.body["manifest_sha256"] == chain.manifest().sha256
    assert entry.body["recipient"] == chain.ids["alice"].encryption_public_key
    assert chain.log.state(chain.request).state == "released"

    size = chain.log.size
    key = load_encryption_private_key(chain.home, "alice", "test-passphrase")
    opened = open_package(released.path, key, tmp_path / "out")
    for name, content in FILES.items():
        assert (tmp_path / "out" / "data" / name).read_bytes() == content
    assert opened.president == "paul"
    assert opened.manifest.sha256 == entry.body["manifest_sha256"]
    codebook = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    fields = {f["name"]: f for r in codebook["resources"] for f in r["schema"]["fields"]}
    assert fields["region"]["type"] == "string"  # REFNIS 03000 keeps its leading zero
    assert "region" in fields["region"]["description"].lower()
    assert fields["category"]["type"] == "string"  # a code, whatever it looks like
    assert {c["value"] for c in fields["category"]["categories"]} == {"1", "2", "3"}
    chain.log.refresh()
    assert chain.log.size == size  # opening appends nothing


def test_release_twice_is_refused(chain: Chain) -> None:
    chain.up_to_signoff()
    build_release(chain.home, chain.request, chain.signers["spp"])
    chain.home.releases.joinpath(f"{chain.request}.primex").unlink()
    refused(chain, "already_released")


# --- 14: release without sign-off ---------------------------------------------------------


@pytest.mark.parametrize("stop", ["approved", "protected", "output_checked", "returned"])
def test_release_without_signoff(chain: Chain, stop: str) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    if stop == "returned":
        chain.check_output("return")
    elif stop == "output_checked":
        chain.check_output()
    chain.witness()  # a witnessed checkpoint does not stand in for a sign-off
    err = refused(chain, "no_signoff")
    assert "not signed off" in err.what


def test_release_after_failed_disclosure(chain: Chain) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect(passed=False)
    with pytest.raises(PermissionDenied):  # the officer cannot check a failed output
        chain.check_output()
    refused(chain, "no_signoff")


# --- 15: manifest swap --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("same_size_other_bytes", "spells.csv changed"),
        ("added_file", "extra.csv added"),
        ("removed_file", "totals.csv missing"),
        ("renamed_file", "totals.csv missing"),
    ],
)
def test_manifest_swap(chain: Chain, change: str, named: str) -> None:
    chain.up_to_signoff()
    p = chain.protected
    if change == "same_size_other_bytes":
        data = bytearray((p / "spells.csv").read_bytes())
        data[-2] = ord("3")  # category 2 -> 3, one byte, same size
        (p / "spells.csv").write_bytes(bytes(data))
    elif change == "added_file":
        (p / "extra.csv").write_bytes(b"x\n")
    elif change == "removed_file":
        (p / "totals.csv").unlink()
    else:
        (p / "totals.csv").rename(p / "totals2.csv")
    err = refused(chain, "manifest_mismatch")
    assert named in err.what


# --- 16: replayed signature ---------------------------------------------------------------


def test_replayed_president_signature(chain: Chain) -> None:
    """Request B releases the same files to someone else; an insider copies the president's
    sign-off of request A into B's history (the log replay does not check signatures)."""
    chain.up_to_signoff()
    a_signoff = chain.log.entries(chain.request)[-1]
    a = chain.request
    chain.submit()  # request B, same files
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    b = chain.request
    obj = loads(a_signoff.raw)
    obj.update(
        request=b,
        seq=chain.log.size,
        prev=chain.log.entries(b)[-1].leaf_hex,
        time=utc_now(),
    )
    with chain.log.path.open("ab") as fh:
        fh.write(dumps(obj) + b"\n")
    chain.log.refresh()
    # issue 14 #2: the log's state is verified, so neither the bookkeeping, the witness
    # nor the gate takes the replayed signature for a sign-off of B
    with pytest.raises(IntegrityError, match="replayed"):
        chain.log.state(b)
    with pytest.raises(IntegrityError, match="replayed"):
        chain.witness()
    err = refused(chain, "bad_signature", request=b)
    assert "replayed" in err.what
    assert a != b


# --- 17: wrong role, revoked key, key without a valid registration ------------------------


@pytest.mark.parametrize("who", ["olivia", "alice", "spp", "committee", "bob"])
def test_signoff_by_another_role_is_refused_by_the_log(chain: Chain, who: str) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    with pytest.raises(PermissionDenied, match="must be signed by president"):
        chain.signoff(who)
    refused(chain, "no_signoff")


def test_wrong_role_at_the_gate(chain: Chain) -> None:
    """Defence in depth: if the registry the log built disagreed (a bug, an edited key
    entry), the gate's own role check still refuses."""
    chain.up_to_signoff()
    chain.log.registry.keys["paul"].role = "privacy_officer"
    refused(chain, "wrong_role")
    officer_entry = chain.log.entries(chain.request)[-2]  # the output check
    with pytest.raises(ReleaseRefused) as info:
        verify_entry(chain.log, officer_entry, ("president",), "sign-off")
    assert info.value.reason == "wrong_role"


def test_revoked_president_key(chain: Chain) -> None:
    chain.up_to_signoff()
    chain.log.revoke_key("paul", "laptop stolen", chain.signers["committee"])
    chain.witness()
    err = refused(chain, "revoked_key")
    assert "revoked at entry" in err.what


def test_key_registered_without_committee_signature(chain: Chain) -> None:
    """A president key whose key_add was signed by a non-committee key is refused."""
    chain.up_to_signoff()
    info = chain.log.registry.keys["paul"]
    reg = chain.log.entries()[info.added_seq]
    assert reg.actor == "committee"
    # simulate a forged registration: the registry claims another registrar
    forged = loads(reg.raw)
    forged["actor"] = "olivia"
    object.__setattr__(reg, "raw", dumps(forged))
    object.__setattr__(reg, "actor", "olivia")
    refused(chain, "bad_key_registration")


# --- 18: unwitnessed sign-off -------------------------------------------------------------


def test_unwitnessed_signoff(chain: Chain) -> None:
    chain.up_to_signoff(witnessed=False)
    refused(chain, "not_witnessed")


def test_checkpoint_signed_by_the_log_but_not_cosigned(chain: Chain) -> None:
    chain.up_to_signoff(witnessed=False)
    cp = chain.log.checkpoint()
    assert cp.size > chain.log.entries(chain.request)[-1].seq
    refused(chain, "not_witnessed")


def test_witnessed_checkpoint_before_the_signoff(chain: Chain) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    chain.witness()  # cosigned, but it does not include the sign-off
    chain.signoff()
    refused(chain, "not_witnessed")


def test_cosignature_by_a_non_committee_key(chain: Chain) -> None:
    from primex.audit.checkpoint import cosign

    chain.up_to_signoff(witnessed=False)
    cp = chain.log.checkpoint()
    chain.log.add_cosignature(cp.size, cosign(cp, chain.signers["paul"], 1_800_000_000))
    refused(chain, "not_witnessed")


def test_release_entry_itself_demands_a_witness(chain: Chain) -> None:
    """The log refuses a release entry citing an unwitnessed checkpoint, even if someone
    skips the gate and appends it directly."""
    chain.up_to_signoff(witnessed=False)
    cp = chain.log.checkpoint()
    with pytest.raises(PermissionDenied, match="cosignature"):
        chain.log.append(
            "release", chain.request,
            {"manifest_sha256": chain.manifest().sha256, "package_sha256": "b" * 64,
             "recipient": "x", "checkpoint": {"size": cp.size, "root": cp.root_b64}},
            chain.signers["spp"],
        )


# --- 19: SDC result for another manifest --------------------------------------------------


def test_disclosure_report_for_another_manifest(chain: Chain) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    other = "c" * 64
    chain.protect(report_manifest=other)  # the report vouches for other files
    chain.check_output()
    chain.signoff()
    chain.witness()
    err = refused(chain, "disclosure_other_manifest")
    assert "another manifest" in err.what


def test_disclosure_result_entry_for_another_manifest(chain: Chain) -> None:
    chain.up_to_signoff()
    result = next(e for e in chain.log.entries(chain.request) if e.type == "disclosure_result")
    result.body["manifest_sha256"] = "d" * 64  # what a tampered log would hand the gate
    refused(chain, "disclosure_other_manifest")


def test_workflow_refuses_signoff_of_another_manifest(chain: Chain) -> None:
    chain.submit()
    chain.approve()
    chain.extract()
    chain.protect()
    chain.check_output()
    (chain.protected / "spells.csv").write_bytes(b"other\n")  # swapped before the sign-off
    with pytest.raises(ValidationError, match="manifest_sha256 does not match"):
        chain.signoff()


@pytest.mark.parametrize("how", ["altered_after", "says_not_passed", "missing"])
def test_disclosure_report_on_disk(chain: Chain, how: str) -> None:
    chain.up_to_signoff()
    path = chain.protected / "disclosure-report.json"
    report = json.loads(path.read_bytes())
    if how == "altered_after":
        report["summary"]["suppressed_values"] = 0
        path.write_text(json.dumps(report, indent=2))
    elif how == "says_not_passed":
        report["passed"] = False
        path.write_text(json.dumps(report, indent=2))
    else:
        path.unlink()
    refused(chain, "report_mismatch")


# --- 21: access to an unreleased file -----------------------------------------------------


def test_access_only_to_released_files(chain: Chain) -> None:
    chain.up_to_signoff()
    with pytest.raises(PermissionDenied, match="access is not allowed"):
        chain.log.append(
            "access", chain.request,
            {"sha256": hashlib.sha256(FILES["spells.csv"]).hexdigest()}, chain.signers["alice"],
        )
    build_release(chain.home, chain.request, chain.signers["spp"])
    with pytest.raises(PermissionDenied, match="not in the released manifest"):
        chain.log.append(
            "access", chain.request,
            {"sha256": hashlib.sha256(b"some other file").hexdigest()}, chain.signers["alice"],
        )
    with pytest.raises(PermissionDenied, match="must be signed by researcher"):
        chain.log.append(
            "access", chain.request,
            {"sha256": hashlib.sha256(FILES["spells.csv"]).hexdigest()}, chain.signers["olivia"],
        )
    ok = chain.log.append(
        "access", chain.request,
        {"sha256": hashlib.sha256(FILES["spells.csv"]).hexdigest()}, chain.signers["alice"],
    )
    assert ok.type == "access"


# --- packaging ----------------------------------------------------------------------------


def test_file_changed_while_packaging(chain: Chain, tmp_path: Path) -> None:
    chain.up_to_signoff()
    ev = check_release(chain.home, chain.request, log=chain.log)
    (chain.protected / "totals.csv").write_bytes(b"region,count\n03000,99\n04000,15\n")
    with pytest.raises(IntegrityError, match="changed while it was being packaged"):
        write_archive(tmp_path / "p.zip", ev)


def test_release_signed_by_a_non_operator_leaves_nothing(chain: Chain) -> None:
    chain.up_to_signoff()
    size = chain.log.size
    with pytest.raises(PermissionDenied, match="spp_operator"):
        build_release(chain.home, chain.request, chain.signers["paul"])
    assert chain.log.size == size
    assert not any(chain.home.releases.iterdir())


def test_only_the_research_centre_can_open(chain: Chain, tmp_path: Path) -> None:
    chain = make_chain(tmp_path / "b", extra={"eve": "researcher"})
    chain.up_to_signoff()
    released = build_release(chain.home, chain.request, chain.signers["spp"])
    eve = load_encryption_private_key(chain.home, "eve", "test-passphrase")
    with pytest.raises(PrimexError, match="encrypted for another key"):
        open_package(released.path, eve, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_recipient_comes_from_the_approved_spec(chain: Chain) -> None:
    chain.up_to_signoff()
    spec = chain.home.requests / f"{chain.spec_sha256}.yaml"
    spec.chmod(0o644)
    spec.write_bytes(spec.read_bytes().replace(b"HIVA", b"EVIL"))  # swap in another key?
    with pytest.raises(IntegrityError, match="does not match the sha256"):
        check_release(chain.home, chain.request, log=chain.log)
