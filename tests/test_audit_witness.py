"""C2SP signed notes, checkpoints, cosignatures and the committee's witness."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest
from audit_fixtures import World, body, make_world
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from primex.audit import merkle
from primex.audit.checkpoint import (
    DASH,
    Checkpoint,
    NoteSignature,
    cosign,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignature,
    verify_log_signature,
)
from primex.audit.keys import Signer, note_key_id
from primex.committee.witness import Witness, WitnessError, cosign_latest
from primex.errors import IntegrityError

# golang.org/x/mod/sumdb/note: the documented example key and signed note
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG_LINE = (
    f"{DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _go_signer() -> Signer:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return Signer("PeterNeumann", "log", "PeterNeumann", key.public_key().public_bytes_raw(), key)


def test_note_signature_matches_go_reference() -> None:
    signer = _go_signer()
    kid = note_key_id("PeterNeumann", signer.public_key_bytes)
    assert kid.hex() == "c74f20a3"
    line = NoteSignature("PeterNeumann", kid, signer.sign(GO_TEXT.encode())).line()
    assert line == GO_SIG_LINE  # Ed25519 is deterministic: byte-identical to Go's note


def test_checkpoint_format_and_parse() -> None:
    signer = _go_signer()
    root = merkle.leaf_hash(b"x")
    cp = sign_checkpoint("example.com/log", 7, root, signer)
    assert cp.text.startswith(f"example.com/log\n7\n{base64.b64encode(root).decode()}\n\n")
    assert cp.text.count("\n") == 5 and f"\n{DASH} example.com/log " in cp.text
    again = parse_checkpoint(cp.text)
    assert again == cp
    verify_log_signature(again, "example.com/log", signer.public_key_bytes)


@pytest.mark.parametrize(
    "text",
    ["", "a\n1\n", "o\n01\nAAAA\n\n— k AAAAAAAA\n", "o\nx\nAAAA\n\n— k AAAAAAAA\n",
     "o\n1\n!!!\n\n— k AAAAAAAA\n", "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",
     "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\next\n\n— k AAAAAAAA\n",
     "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n- k AAAAAAAA\n"],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(IntegrityError):
        parse_checkpoint(text)


def test_cosignature_v1_layout() -> None:
    signer = _go_signer()
    cp = Checkpoint("example.com/log", 3, merkle.leaf_hash(b"y"))
    sig = cosign(cp, signer, 1679315147)
    assert sig.key_id == note_key_id("PeterNeumann", signer.public_key_bytes, 0x04)
    assert struct.unpack(">Q", sig.sig[:8])[0] == 1679315147 and len(sig.sig) == 72
    msg = b"cosignature/v1\ntime 1679315147\n" + cp.body.encode()
    from primex.audit.keys import verify_signature

    assert verify_signature(signer.public_key_bytes, sig.sig[8:], msg)
    assert verify_cosignature(cp.with_signature(sig), "PeterNeumann",
                              signer.public_key_bytes) == 1679315147
    other = Checkpoint("example.com/log", 4, cp.root, (sig,))
    assert verify_cosignature(other, "PeterNeumann", signer.public_key_bytes) is None


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_witness_follows_a_growing_log(world: World) -> None:
    sizes = []
    for _ in range(3):
        world.log.append("submission", None, body("submission"), world.s("alice"))
        cp = cosign_latest(world.home, world.s("comm"))
        assert world.log.cosigners(cp).keys() == {"comm"}
        sizes.append(cp.size)
    held = Witness(world.home).latest(world.log.origin)
    assert held is not None and held.size == sizes[-1] == world.log.size
    # cosigning again at the same size is idempotent
    assert cosign_latest(world.home, world.s("comm")).size == held.size


def test_witness_refusals(world: World) -> None:
    w = Witness(world.home)
    cp = world.log.checkpoint()
    with pytest.raises(WitnessError) as exc:
        w.add_checkpoint(cp.text, 0, [], world.s("comm"))
    assert exc.value.status == 404  # not yet trusted
    w.trust_log(world.log.origin, world.log.log_key().public_key)
    w.add_checkpoint(cp.text, 0, [], world.s("comm"))
    world.log.append("submission", None, body("submission"), world.s("alice"))
    world.log.append("submission", None, body("submission"), world.s("alice"))
    new = world.log.checkpoint()
    with pytest.raises(WitnessError) as exc:  # stale old size
        w.add_checkpoint(new.text, 0, [], world.s("comm"))
    assert exc.value.status == 409
    bad_proof = [merkle.leaf_hash(b"junk")]
    with pytest.raises(WitnessError) as exc:
        w.add_checkpoint(new.text, cp.size, bad_proof, world.s("comm"))
    assert exc.value.status == 422
    with pytest.raises(WitnessError) as exc:
        w.add_checkpoint("not a note", cp.size, [], world.s("comm"))
    assert exc.value.status == 400
    tampered = new.text.replace(f"\n{new.size}\n", f"\n{new.size + 1}\n")
    with pytest.raises(WitnessError) as exc:
        w.add_checkpoint(tampered, cp.size, [], world.s("comm"))
    assert exc.value.status == 403
    good = world.log.consistency_proof(cp.size, new.size)
    sig = w.add_checkpoint(new.text, cp.size, good, world.s("comm"))
    assert sig.name == "comm"
    with pytest.raises(Exception, match="already trusts another key"):
        w.trust_log(world.log.origin, bytes(32))


def test_only_committee_keys_cosign(world: World) -> None:
    with pytest.raises(Exception, match="committee key"):
        cosign_latest(world.home, world.s("pres"))
    # a cosignature by a key that is not a registered committee key does not count
    cp = world.log.checkpoint()
    rogue = cosign(cp, world.s("pres"), 1)
    assert not world.log.cosigners(cp.with_signature(rogue))


def test_committee_without_the_log_key_cosigns_the_published_checkpoint(world: World) -> None:
    published = world.log.checkpoint()
    (world.home.keys / "log" / "signing.pem").unlink()  # not on the committee's machine
    cp = cosign_latest(world.home, world.s("comm"))
    assert (cp.size, cp.root) == (published.size, published.root)
    assert world.log.cosigners(cp).keys() == {"comm"}


def test_concurrent_add_checkpoints_never_roll_back(world: World) -> None:
    """tlog-witness: the old-size check and the write are one step. Six pushes from the same
    old size race (threads, each with its own Witness as a second process would have): one
    is cosigned, the others get 409 with the size now held, so the record never goes back."""
    import threading

    Witness(world.home).trust_log(world.log.origin, world.log.log_key().public_key)
    first = world.log.checkpoint()
    Witness(world.home).add_checkpoint(first.text, 0, [], world.s("comm"))
    pushes = []
    for _ in range(6):
        world.log.append("submission", None, body("submission"), world.s("alice"))
        cp = world.log.checkpoint()
        pushes.append((cp, world.log.consistency_proof(first.size, cp.size)))
    barrier = threading.Barrier(len(pushes))
    results: list[tuple[int, int | None]] = []

    def push(cp: Checkpoint, proof: list[bytes]) -> None:
        barrier.wait()
        try:
            Witness(world.home).add_checkpoint(cp.text, first.size, proof, world.s("comm"))
            results.append((cp.size, None))
        except WitnessError as exc:
            results.append((cp.size, exc.held_size))

    threads = [threading.Thread(target=push, args=p) for p in pushes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [size for size, held in results if held is None]
    assert len(accepted) == 1, results
    assert {held for _, held in results if held is not None} == {accepted[0]}
    held = Witness(world.home).latest(world.log.origin)
    assert held is not None and held.size == accepted[0]
