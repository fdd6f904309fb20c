"""Rotating the linkage master key (issue 14 #4) and refusing degenerate environment keys
(#17), through the CLI: a rotation needs proof of the current key, is signed into the audit
log, and a refused rotation changes nothing."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from audit_fixtures import PASS, World, make_world

from primex.audit.log import open_log
from primex.cli import main
from primex.committee.verify import verify_log
from primex.linkage import keystore

KEYSTORE_PASS = "the current keystore passphrase"
NEW_PASS_ENV = "PRIMEX_BCSS_NEW_PASSPHRASE"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.delenv(keystore.ENV_MASTER_KEY, raising=False)
    monkeypatch.delenv(NEW_PASS_ENV, raising=False)
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)  # the actors' signing keys
    monkeypatch.setenv(keystore.ENV_PASSPHRASE, KEYSTORE_PASS)
    w = make_world(tmp_path / "home")
    assert cli(w, "linkage", "keygen") == 0
    return w


def cli(w: World, *args: str) -> int:
    return main(["--home", str(w.home.root), *args])


def snapshot(w: World) -> dict[str, bytes]:
    """Every file of the keystore and the log, to prove a refusal changed nothing."""
    files = [*w.home.bcss_keystore.iterdir(), w.home.audit / "entries.jsonl"]
    return {p.name: p.read_bytes() for p in files}


def rotations(w: World) -> list:  # type: ignore[type-arg]
    return [e for e in open_log(w.home).entries() if e.type == "linkage_key_rotation"]


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        # the attack of the issue: any new passphrase used to rotate the key
        ({keystore.ENV_PASSPHRASE: "any new passphrase at all"}, ["--as", "bcss"],
         "wrong keystore passphrase"),
        ({keystore.ENV_MASTER_KEY: bytes(range(140, 172)).hex()}, ["--as", "bcss"],
         "not the keystore's current master key"),
        ({}, [], "must be signed"),
        ({}, ["--as", "spp"], "not a bcss_operator key"),
    ],
)
def test_a_rotation_without_proof_or_signature_is_refused_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    env: dict[str, str], args: list[str], message: str,
) -> None:
    before = snapshot(world)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli(world, "linkage", "keygen", "--force", *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(world) == before  # same key, no retired copy, no log entry
    assert rotations(world) == []


def test_rotation_with_the_current_passphrase_is_recorded_and_signed(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    old_file = keystore.key_file(world.home).read_bytes()
    old = keystore.load_master_key(world.home, KEYSTORE_PASS)
    monkeypatch.setenv(NEW_PASS_ENV, "a brand new keystore passphrase")
    capsys.readouterr()
    assert cli(world, "linkage", "keygen", "--force", "--as", "bcss") == 0
    out = capsys.readouterr().out
    new = keystore.load_master_key(world.home, "a brand new keystore passphrase")
    assert new != old
    (event,) = rotations(world)
    assert event.actor == "bcss" and event.request is None
    assert event.body == {"old_master_key_id": keystore.master_id(old),
                          "new_master_key_id": keystore.master_id(new)}
    assert f"#{event.seq}" in out
    retired = world.home.bcss_keystore / (
        "master-key.retired-" + keystore.master_id(old).replace(":", "-") + ".json")
    assert retired.read_bytes() == old_file and oct(retired.stat().st_mode)[-3:] == "600"
    for secret in (old, new):
        assert secret.hex() not in out and base64.b64encode(secret).decode() not in out
    result = verify_log(world.home, full=True, record=False, require_witness=False)
    assert result.ok, result.failures


def test_rotation_with_the_current_key_from_the_secret_store(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    old = keystore.load_master_key(world.home, KEYSTORE_PASS)
    monkeypatch.delenv(keystore.ENV_PASSPHRASE)
    monkeypatch.setenv(keystore.ENV_MASTER_KEY, base64.b64encode(old).decode())
    monkeypatch.setenv(NEW_PASS_ENV, "the passphrase of the new file")
    assert cli(world, "linkage", "keygen", "--force", "--as", "bcss") == 0
    (event,) = rotations(world)
    assert event.body["old_master_key_id"] == keystore.master_id(old)
    # the secret store still holds the retired key: primex refuses to code with it
    capsys.readouterr()
    assert cli(world, "linkage", "key-id", "--request", "REQ-1") == 2
    assert "not the keystore's current master key" in capsys.readouterr().err
    monkeypatch.delenv(keystore.ENV_MASTER_KEY)
    monkeypatch.setenv(keystore.ENV_PASSPHRASE, "the passphrase of the new file")
    assert cli(world, "linkage", "key-id", "--request", "REQ-1") == 0


def test_the_keystore_library_has_no_silent_overwrite(world: World) -> None:
    with pytest.raises(keystore.PrimexError, match="already exists"):
        keystore.generate_master_key(world.home, KEYSTORE_PASS)
    doc = json.loads(keystore.key_file(world.home).read_text())
    assert keystore.master_id(keystore.load_master_key(world.home, KEYSTORE_PASS)) == doc[
        "master_id"]


@pytest.mark.parametrize(
    "value",
    [
        "00" * 32,                                        # all zeros
        "41" * 32,                                        # one repeated byte
        base64.b64encode(b"\x01\x02" * 16).decode(),     # a short pattern repeated
        (b"correct horse battery staple!!!!").hex(),      # a password, not a key
        "00" * 16,                                        # too short
        base64.b64encode(bytes(31)).decode(),             # too short (base64)
    ],
)
def test_degenerate_environment_keys_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    monkeypatch.delenv(keystore.ENV_PASSPHRASE, raising=False)
    monkeypatch.setenv(keystore.ENV_MASTER_KEY, value)
    capsys.readouterr()
    assert main(["--home", str(tmp_path), "linkage", "key-id", "--request", "REQ-1"]) == 2
    err = capsys.readouterr().err
    assert keystore.ENV_MASTER_KEY in err and len(err.strip().splitlines()) == 1
    assert value not in err


def test_random_environment_keys_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(200):
        raw = os.urandom(32)
        assert not keystore.degenerate_key(raw)


def test_a_deleted_key_file_is_not_silently_replaced(
    world: World, capsys: pytest.CaptureFixture[str],
) -> None:
    """The insider's shortcut around rotation: delete master-key.json, run keygen. Once the
    log shows a key in use, a new key needs --force and a signed event (old code: exit 0)."""
    assert cli(world, "linkage", "keygen", "--force", "--as", "bcss") == 0
    (first,) = rotations(world)
    keystore.key_file(world.home).unlink()
    before = snapshot(world)
    capsys.readouterr()
    assert cli(world, "linkage", "keygen") == 2
    err = capsys.readouterr().err
    assert "audit log shows that one was in use" in err and len(err.strip().splitlines()) == 1
    assert cli(world, "linkage", "keygen", "--force") == 2  # unsigned
    assert snapshot(world) == before and len(rotations(world)) == 1
    assert cli(world, "linkage", "keygen", "--force", "--as", "bcss") == 0
    second = rotations(world)[-1]
    new = keystore.load_master_key(world.home, KEYSTORE_PASS)
    assert second.body == {"old_master_key_id": first.body["new_master_key_id"],
                           "new_master_key_id": keystore.master_id(new)}
    assert verify_log(world.home, full=True, record=False, require_witness=False).ok


def test_a_deleted_key_file_after_codings_is_not_silently_replaced(world: World) -> None:
    from audit_fixtures import walk_to

    walk_to(world, "coded")  # a coding entry: a master key was in use
    keystore.key_file(world.home).unlink()
    assert cli(world, "linkage", "keygen") == 2
    assert not keystore.key_file(world.home).exists()
    assert cli(world, "linkage", "keygen", "--force", "--as", "bcss") == 0
    assert rotations(world)[-1].body["old_master_key_id"] == "unknown"
