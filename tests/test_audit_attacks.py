"""The attack cases of the audit notes (A.3) that concern the log, each asserting the
verifier's (or the witness's) specific error. The release-gate halves of cases 14, 15, 18,
19 and 21 (refusing to write a package) are the release module's tests; here the log-level
half: the verifier flags the forged entry."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import MANIFEST, MANIFEST_SHA, PASS, World, body, make_world, walk_to

from primex.audit import keys, merkle
from primex.audit.canonical import dumps, sha256_hex
from primex.audit.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from primex.audit.log import open_log, parse_entry, signed_bytes, utc_now
from primex.committee.verify import VerifyResult, verify_log
from primex.committee.witness import Witness, WitnessError, cosign_latest
from primex.errors import IntegrityError
from primex.home import Home


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log with R1 released and opened, R2 output-checked, R3 signed off; witnessed."""
    root = tmp_path_factory.mktemp("template")
    world = make_world(root)
    r1 = walk_to(world, "released")
    world.log.append("access", r1, body("access"), world.s("alice"))
    walk_to(world, "output_checked")
    walk_to(world, "signed_off")
    cosign_latest(world.home, world.s("comm"))
    world.log.close()
    return root


@pytest.fixture
def world(template: Path, tmp_path: Path) -> World:
    root = tmp_path / "home"
    shutil.copytree(template, root)
    home = Home(root)
    w = World(home, open_log(home))
    for name in ("comm", "alice", "olga", "pres", "spp", "bcss"):
        w.signers[name] = keys.load_signer(home, name, PASS)
    return w


def lines_of(w: World) -> list[bytes]:
    return w.log.path.read_bytes().splitlines()


def write_lines(w: World, lines: list[bytes]) -> None:
    w.log.path.write_bytes(b"".join(x + b"\n" for x in lines))


def failure(w: World, **kw: Any) -> tuple[str, str, int | None]:
    r: VerifyResult = verify_log(w.home, full=True, record=False, **kw)
    assert not r.ok, "the verifier accepted a tampered log"
    f = r.failures[0]
    return f.check, f.message, f.seq


def seq_of(w: World, request: str, type_: str) -> int:
    return next(e.seq for e in w.log.entries(request) if e.type == type_)


def forge(
    w: World, type_: str, request: str | None, b: dict[str, Any], signer: keys.Signer,
    *, time: str | None = None, seq: int | None = None,
) -> bytes:
    """Sign a well-formed entry outside the log's checks and append it to the file."""
    lines = lines_of(w)
    entries = [parse_entry(raw, i, None) for i, raw in enumerate(lines)]
    prev = None
    for e in entries:
        if e.request == request:
            prev = e.leaf_hex
    obj: dict[str, Any] = {
        "v": 1, "origin": entries[0].origin, "seq": len(lines) if seq is None else seq,
        "time": time or utc_now(), "type": type_, "request": request, "prev": prev,
        "body": b, "actor": signer.name,
    }
    obj["sig"] = base64.b64encode(signer.sign(signed_bytes(obj))).decode()
    raw = dumps(obj)
    write_lines(w, [*lines, raw])
    return raw


def test_untampered_log_verifies(world: World) -> None:
    r = verify_log(world.home, full=True, record=False)
    assert r.ok, r.failures
    assert r.signatures_verified == r.size == len(lines_of(world))
    assert r.witnessed_size == r.size and r.requests == 3


def test_01_byte_flip_in_a_middle_entry(world: World) -> None:
    lines = lines_of(world)
    k = seq_of(world, "REQ-2026-0002", "approval")
    assert b'"k":10' in lines[k]
    lines[k] = lines[k].replace(b'"k":10', b'"k":90')
    write_lines(world, lines)
    assert failure(world)[0::2] == ("signature", k)
    # and the entry's inclusion proof no longer leads to the witnessed root
    held = Witness(world.home).latest(world.log.origin)
    assert held is not None
    proof = world.log.inclusion_proof(k, held.size)
    with pytest.raises(IntegrityError):
        merkle.verify_inclusion(merkle.leaf_hash(lines[k]), k, held.size, proof, held.root)


def test_01b_byte_flip_in_signature_or_actor(world: World) -> None:
    lines = lines_of(world)
    k = seq_of(world, "REQ-2026-0001", "signoff")
    lines[k] = lines[k].replace(b'"actor":"pres"', b'"actor":"olga"')
    write_lines(world, lines)
    check, msg, seq = failure(world)
    assert (check, seq) == ("workflow", k) and "must be signed by president" in msg


def test_02_middle_rewrite_resigned_with_a_fresh_checkpoint(world: World) -> None:
    # attacker holds the officer's and the log's keys: rewrites R2's approval (the last
    # entry of R2's chain is not it, so rewrite R2's latest entry, its output check)
    lines = lines_of(world)
    k = seq_of(world, "REQ-2026-0002", "output_check")
    obj = parse_entry(lines[k], k, None)
    forged = {
        "v": 1, "origin": obj.origin, "seq": k, "time": obj.time, "type": obj.type,
        "request": obj.request, "prev": obj.prev, "body": {**obj.body, "comment": "fine"},
        "actor": obj.actor,
    }
    forged["sig"] = base64.b64encode(world.s("olga").sign(signed_bytes(forged))).decode()
    lines[k] = dumps(forged)
    write_lines(world, lines)
    log = open_log(world.home)  # replays fine: every signature and rule holds
    log_signer = keys.load_signer(world.home, "log")
    fresh = sign_checkpoint(log.origin, log.size, log.root(), log_signer)
    for p in (log.checkpoint_dir / str(log.size), log.dir / "checkpoint"):
        p.write_text(fresh.text)
    check, msg, _ = failure(world)
    assert check == "witness" and "another root" in msg
    # the witness refuses to cosign the rewritten history
    held = Witness(world.home).latest(log.origin)
    assert held is not None
    with pytest.raises(WitnessError) as exc:
        Witness(world.home).add_checkpoint(fresh.text, held.size, [], world.s("comm"))
    assert exc.value.status == 409 and "fork" in exc.value.what


def test_03_delete_a_middle_entry(world: World) -> None:
    lines = lines_of(world)
    del lines[10]
    write_lines(world, lines)
    check, msg, seq = failure(world)
    assert (check, seq) == ("entry", 10) and "says seq 11 but is line 10" in msg


def test_04_reorder_entries_of_different_requests(world: World) -> None:
    lines = lines_of(world)
    a, b = seq_of(world, "REQ-2026-0002", "approval"), seq_of(world, "REQ-2026-0003", "approval")
    lines[a], lines[b] = lines[b], lines[a]
    write_lines(world, lines)
    check, msg, seq = failure(world)
    assert (check, seq) == ("entry", a) and "deleted or reordered" in msg


def test_05_reorder_within_a_request_even_if_resigned(world: World) -> None:
    # the attacker holds every actor key and renumbers: only the prev chain catches it
    lines = lines_of(world)
    ents = [parse_entry(raw, i, None) for i, raw in enumerate(lines)]
    r2 = [e for e in ents if e.request == "REQ-2026-0002"]
    x, y = r2[2], r2[3]  # extraction and coding: swap them (renumbered, re-signed)
    signer = {"spp": world.s("spp"), "bcss": world.s("bcss")}
    for src, dst in ((x, y.seq), (y, x.seq)):
        obj = {"v": 1, "origin": src.origin, "seq": dst, "time": x.time, "type": src.type,
               "request": src.request, "prev": src.prev, "body": src.body, "actor": src.actor}
        obj["sig"] = base64.b64encode(signer[src.actor].sign(signed_bytes(obj))).decode()
        lines[dst] = dumps(obj)
    write_lines(world, lines)
    check, msg, seq = failure(world)
    assert check == "chain" and seq == x.seq and "prev link broken" in msg


def test_06_truncate_the_tail(world: World) -> None:
    lines = lines_of(world)
    rel = seq_of(world, "REQ-2026-0001", "release")
    write_lines(world, lines[:rel])  # drop the release and everything after it
    check, msg, _ = failure(world)
    assert check == "checkpoint" and "truncated or rolled back" in msg
    # even if the attacker also removes the log's own checkpoints, the witness state holds
    shutil.rmtree(world.home.audit / "checkpoints")
    (world.home.audit / "checkpoint").unlink()
    check, msg, _ = failure(world)
    assert check == "witness" and "truncated or rolled back" in msg
    # and the witness will not cosign the shorter log
    log = open_log(world.home)
    held = Witness(world.home).latest(log.origin)
    assert held is not None
    with pytest.raises(WitnessError) as exc:
        cp = log.checkpoint()
        Witness(world.home).add_checkpoint(cp.text, cp.size, [], world.s("comm"))
    assert exc.value.status == 409
    with pytest.raises(WitnessError) as exc:
        Witness(world.home).add_checkpoint(cp.text, held.size, [], world.s("comm"))
    assert exc.value.status == 409 and "rollback" in exc.value.what


def test_07_rollback_to_a_backup_then_new_appends(world: World, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(world.home.audit, backup)
    world.log.append("closure", "REQ-2026-0001", body("closure"), world.s("olga"))
    cosign_latest(world.home, world.s("comm"))
    world.log.close()
    shutil.rmtree(world.home.audit)
    shutil.copytree(backup, world.home.audit)  # the store is rolled back...
    log = open_log(world.home)
    for _ in range(3):  # ...and new, different history is appended
        log.append("submission", None, body("submission"), world.s("alice"))
    with pytest.raises(WitnessError) as exc:
        cosign_latest(world.home, world.s("comm"))
    assert exc.value.status == 422
    check, msg, _ = failure(world)
    assert check == "witness" and "another root" in msg


def test_08_fork_two_roots_for_one_size(world: World, tmp_path: Path) -> None:
    # the log shows researchers another history of the same size, signed by the log key
    size = world.log.size
    other = sign_checkpoint(world.log.origin, size, merkle.leaf_hash(b"other history"),
                            keys.load_signer(world.home, "log"))
    check, msg, _ = failure(world, extra_checkpoints=[other.text])
    assert check == "fork" and "different roots" in msg
    with pytest.raises(WitnessError) as exc:
        Witness(world.home).add_checkpoint(other.text, size, [], world.s("comm"))
    assert exc.value.status == 409 and "fork" in exc.value.what


@pytest.mark.parametrize("part", ["size", "root", "origin"])
def test_09_checkpoint_text_tampered(world: World, part: str) -> None:
    path = world.home.audit / "checkpoint"
    origin, size, root, rest = path.read_text().split("\n", 3)
    if part == "size":
        size = str(int(size) - 1)
    elif part == "root":
        root = base64.b64encode(merkle.leaf_hash(b"x")).decode()
    else:
        origin = origin + "x"
    path.write_text("\n".join([origin, size, root, rest]))
    check, msg, _ = failure(world)
    assert check == "checkpoint"
    assert ("another log" in msg) if part == "origin" else ("does not verify" in msg)


def test_10_checkpoint_from_another_log(world: World, tmp_path: Path) -> None:
    foreign = make_world(tmp_path / "foreign")
    cp = foreign.log.checkpoint()
    check, msg, _ = failure(world, extra_checkpoints=[cp.text])
    assert check == "checkpoint" and "another log" in msg
    with pytest.raises(WitnessError) as exc:
        Witness(world.home).add_checkpoint(cp.text, 0, [], world.s("comm"))
    assert exc.value.status == 404


def test_11_only_unknown_keys_or_a_bad_known_signature(world: World) -> None:
    cp = world.log.latest_checkpoint()
    assert cp is not None
    mallory = keys.create_identity(world.home, "log", "mallory", None)
    m_signer = keys.load_signer(world.home, "mallory")
    by_mallory = sign_checkpoint("mallory.example/log", cp.size, cp.root, m_signer)
    unknown_only = Checkpoint(cp.origin, cp.size, cp.root, by_mallory.signatures)
    assert mallory.name == "mallory"
    check, msg, _ = failure(world, extra_checkpoints=[unknown_only.text])
    assert check == "checkpoint" and "only unknown keys" in msg
    log_sig = cp.signatures[0]
    bad = Checkpoint(cp.origin, cp.size, cp.root,
                     (type(log_sig)(log_sig.name, log_sig.key_id, bytes(64)),))
    check, msg, _ = failure(world, extra_checkpoints=[bad.text])
    assert check == "checkpoint" and "does not verify" in msg
    with pytest.raises(WitnessError) as exc:
        Witness(world.home).add_checkpoint(bad.text, cp.size, [], world.s("comm"))
    assert exc.value.status == 403


def test_12_malformed_proofs_against_the_log(world: World) -> None:
    n = world.log.size
    k = 9
    leaf = world.log.entries()[k].leaf_hash
    proof = world.log.inclusion_proof(k, n)
    root = world.log.root()
    assert merkle.verify_inclusion(leaf, k, n, proof, root)
    for idx, size, pr in [(k + 1, n, proof), (k ^ 2, n, proof), (k, n * 2, proof),
                          (k, n, proof[:-1]), (k, n, [*proof, proof[0]]), (k, n, proof[::-1])]:
        with pytest.raises(IntegrityError):
            merkle.verify_inclusion(leaf, idx, size, pr, root)
    cproof = world.log.consistency_proof(5, n)
    with pytest.raises(IntegrityError):
        merkle.verify_consistency(5, n, cproof, root, world.log.root(5))  # swapped roots
    with pytest.raises(IntegrityError):
        merkle.verify_consistency(0, n, cproof, world.log.root(5), root)


def test_14_release_without_signoff(world: World) -> None:
    cp = world.log.latest_checkpoint()
    assert cp is not None
    forge(world, "release", "REQ-2026-0002",
          {**body("release"), "checkpoint": {"size": cp.size, "root": cp.root_b64}},
          world.s("spp"))
    check, msg, seq = failure(world)
    assert check == "workflow" and seq == world.log.size
    assert "release is not allowed: the request is output_checked" in msg


def test_15_release_of_another_manifest(world: World) -> None:
    cp = world.log.latest_checkpoint()
    assert cp is not None
    swapped = {"files": [*MANIFEST["files"][:1],
                         {"name": "extract.parquet", "bytes": 20480, "sha256": "9" * 64}]}
    forge(world, "release", "REQ-2026-0003",
          {**body("release"), "manifest_sha256": sha256_hex(swapped),
           "checkpoint": {"size": cp.size, "root": cp.root_b64}}, world.s("spp"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "does not match the signed-off manifest" in msg


def test_16_replayed_president_signature_on_another_request(world: World) -> None:
    lines = lines_of(world)
    k = seq_of(world, "REQ-2026-0001", "signoff")
    old = parse_entry(lines[k], k, None)
    raw = forge(world, "signoff", "REQ-2026-0002", old.body, world.s("pres"))
    # keep everything of the new entry but put the old signature on it
    lines = lines_of(world)
    obj = parse_entry(raw, len(lines) - 1, None)
    replayed = raw.replace(obj.sig.encode(), old.sig.encode())
    write_lines(world, [*lines[:-1], replayed])
    check, _, seq = failure(world)
    assert (check, seq) == ("signature", len(lines) - 1)


def test_17_signoff_by_non_president_revoked_or_self_registered_key(world: World) -> None:
    forge(world, "signoff", "REQ-2026-0002", body("signoff"), world.s("olga"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "must be signed by president" in msg
    lines = lines_of(world)
    write_lines(world, lines[:-1])
    world.log.close()
    log = open_log(world.home)
    log.revoke_key("pres", "compromised", world.s("comm"))
    forge(world, "signoff", "REQ-2026-0002", body("signoff"), world.s("pres"))
    check, msg, _ = failure(world)
    assert check == "registry" and "revoked" in msg
    write_lines(world, lines[:-1])
    mallory = keys.create_identity(world.home, "president", "mallory", PASS)
    ident = {"name": "mallory", "role": "president", "person": "mallory",
             "ed25519": base64.b64encode(mallory.public_key_bytes).decode()}
    forge(world, "key_add", None, ident, keys.load_signer(world.home, "mallory", PASS))
    check, msg, _ = failure(world)
    assert check == "registry" and "only a committee key may add keys" in msg


def test_18_release_citing_an_unwitnessed_checkpoint(world: World) -> None:
    cp = world.log.checkpoint()  # current size is cosigned: append one entry first
    world.log.append("access", "REQ-2026-0001", body("access"), world.s("alice"))
    cp = world.log.checkpoint()
    assert not world.log.cosigners(cp)
    forge(world, "release", "REQ-2026-0003",
          {**body("release"), "checkpoint": {"size": cp.size, "root": cp.root_b64}},
          world.s("spp"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "no valid cosignature" in msg
    # a checkpoint that is cosigned but predates the sign-off does not count either
    lines = lines_of(world)
    write_lines(world, lines[:-1])
    so = seq_of(world, "REQ-2026-0003", "signoff")
    root = base64.b64encode(world.log.root(so)).decode()
    forge(world, "release", "REQ-2026-0003",
          {**body("release"), "checkpoint": {"size": so, "root": root}}, world.s("spp"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "does not include the signoff" in msg


def test_19_signoff_of_a_manifest_other_than_the_disclosure_result(world: World) -> None:
    other = {"files": [{"name": "raw_with_ids.parquet", "bytes": 1, "sha256": "9" * 64}]}
    forge(world, "signoff", "REQ-2026-0002",
          {"manifest_sha256": sha256_hex(other), "manifest": other}, world.s("pres"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "does not match the checked output" in msg
    assert sha256_hex(other) != MANIFEST_SHA


@pytest.mark.parametrize(
    ("event", "mutate"),
    [
        ("approval", lambda raw: raw.replace(b'"type":', b'"type": ', 1)),  # whitespace
        ("approval", lambda raw: raw[:-1] + b',"v":1}'),  # duplicate key
        ("approval", lambda raw: raw.replace(b'"k":10', b'"k":10.0')),  # float
        ("submission", lambda raw: raw.replace(b'"HIVA"', '"HIVA\u0301"'.encode())),  # NFD
    ],
)
def test_20_non_canonical_json(world: World, event: str, mutate: Any) -> None:
    lines = lines_of(world)
    k = seq_of(world, "REQ-2026-0002", event)
    changed = mutate(lines[k])
    assert changed != lines[k]
    lines[k] = changed
    write_lines(world, lines)
    check, msg, seq = failure(world)
    assert (check, seq) == ("entry", k) and "not canonical" in msg


def test_21_access_to_a_file_not_released(world: World) -> None:
    forge(world, "access", "REQ-2026-0001", body("access", sha256="8" * 64), world.s("alice"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "not in the released manifest" in msg
    write_lines(world, lines_of(world)[:-1])
    forge(world, "access", "REQ-2026-0003", body("access"), world.s("alice"))
    check, msg, _ = failure(world)
    assert check == "workflow" and "the request is signed_off" in msg


def test_22_time_going_backwards(world: World) -> None:
    forge(world, "closure", "REQ-2026-0001", body("closure"), world.s("olga"),
          time="2020-01-01T00:00:00.000000Z")
    check, msg, seq = failure(world)
    assert (check, seq) == ("time", world.log.size) and "time goes backwards" in msg


def test_witness_state_is_parsed_checkpoint(world: World) -> None:
    held = Witness(world.home).latest(world.log.origin)
    assert held is not None
    assert parse_checkpoint(held.text).root == world.log.root(held.size)
    assert world.log.cosigners(world.log.stored_checkpoint(held.size) or held)
