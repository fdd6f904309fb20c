"""Identities: key files, passphrases, roles, the registry in the log, `primex keys`."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from audit_fixtures import PASS, make_world

from primex.audit import keys
from primex.audit.log import open_log
from primex.cli import main
from primex.errors import ConfigError, PermissionDenied, ValidationError
from primex.home import Home


def test_identity_files_and_modes(tmp_path: Path) -> None:
    home = Home(tmp_path)
    ident = keys.create_identity(home, "researcher", "alice", PASS)
    folder = home.keys / "alice"
    for name in ("signing.pem", "encryption.pem"):
        assert os.stat(folder / name).st_mode & 0o777 == 0o600
        text = (folder / name).read_text()
        assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert ident.encryption_public_key is not None
    raw = keys.parse_x25519_public_key(ident.encryption_public_key)
    assert raw == ident.encryption_public_key_bytes and len(raw) == 32
    # the identity file holds public material only
    assert "PRIVATE" not in (folder / "identity.json").read_text()
    signer = keys.load_signer(home, "alice", PASS)
    sig = signer.sign(b"hello")
    assert keys.verify_signature(ident.public_key_bytes, sig, b"hello")
    assert not keys.verify_signature(ident.public_key_bytes, sig, b"hellO")
    assert "PRIVATE" not in repr(signer)
    xkey = keys.load_encryption_private_key(home, "alice", PASS)
    assert xkey.public_key().public_bytes_raw() == raw


def test_people_other_than_researchers_have_no_encryption_key(tmp_path: Path) -> None:
    home = Home(tmp_path)
    ident = keys.create_identity(home, "president", "pres", PASS)
    assert ident.encryption_public_key is None
    with pytest.raises(ConfigError, match="no encryption key"):
        keys.load_encryption_private_key(home, "pres", PASS)


def test_passphrase_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = Home(tmp_path)
    keys.create_identity(home, "privacy_officer", "dpo-1", "officer-secret")
    monkeypatch.delenv("PRIMEX_PASSPHRASE", raising=False)
    monkeypatch.delenv("PRIMEX_PASSPHRASE_DPO_1", raising=False)
    with pytest.raises(PermissionDenied, match="needs its passphrase"):
        keys.load_signer(home, "dpo-1")
    monkeypatch.setenv("PRIMEX_PASSPHRASE", "wrong-one")
    with pytest.raises(PermissionDenied, match="wrong passphrase"):
        keys.load_signer(home, "dpo-1")
    monkeypatch.setenv("PRIMEX_PASSPHRASE_DPO_1", "officer-secret")  # specific wins
    assert keys.load_signer(home, "dpo-1").role == "privacy_officer"


def test_bad_names_roles_and_reuse(tmp_path: Path) -> None:
    home = Home(tmp_path)
    with pytest.raises(ValidationError, match="unknown role"):
        keys.create_identity(home, "king", "x", PASS)
    with pytest.raises(ValidationError, match="invalid key name"):
        keys.create_identity(home, "researcher", "../etc", PASS)
    keys.create_identity(home, "researcher", "alice", PASS)
    with pytest.raises(ConfigError, match="already exists"):
        keys.create_identity(home, "researcher", "alice", PASS)
    with pytest.raises(ConfigError, match="no key named"):
        keys.load_signer(home, "nobody", PASS)
    with pytest.raises(ValidationError, match="X25519 public key has 3 bytes"):
        keys.parse_x25519_public_key("primex-x25519:" + base64.b64encode(b"abc").decode())


def test_c2sp_vkey_matches_go_note_reference() -> None:
    # golang.org/x/mod/sumdb/note documentation: PeterNeumann's key
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    pub = base64.b64decode(vkey.split("+")[2])[1:]
    assert keys.vkey("PeterNeumann", pub) == vkey


def test_registry_lives_in_the_log(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reg = open_log(world.home).registry
    assert {k.name: k.role for k in reg.keys.values()} == {
        "log": "log", "comm": "committee", "alice": "researcher", "olga": "privacy_officer",
        "pres": "president", "spp": "spp_operator", "bcss": "bcss_operator",
    }
    # once a committee key exists, a key cannot register itself
    ident = keys.create_identity(world.home, "president", "mallory", PASS)
    mallory = keys.load_signer(world.home, "mallory", PASS)
    with pytest.raises(PermissionDenied, match="only a committee key may add keys"):
        world.log.register_key(ident, mallory)
    # ...nor can another non-committee key register it
    with pytest.raises(PermissionDenied, match="only a committee key may add keys"):
        world.log.register_key(ident, world.s("pres"))
    world.log.revoke_key("pres", "left the service", world.s("comm"))
    assert not open_log(world.home).registry.keys["pres"].active
    with pytest.raises(PermissionDenied, match="already revoked"):
        world.log.revoke_key("pres", "again", world.s("comm"))
    with pytest.raises(PermissionDenied, match="may revoke"):
        world.log.revoke_key("olga", "coup", world.s("alice"))


def test_cli_keys_init_list_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    h = ["--home", str(tmp_path)]
    assert main([*h, "keys", "init", "--role", "committee", "--name", "comm"]) == 0
    assert main([*h, "keys", "init", "--role", "researcher", "--name", "alice"]) == 2
    err = capsys.readouterr().err
    assert "committee key must sign" in err
    assert main([*h, "keys", "init", "--role", "researcher", "--name", "alice",
                 "--by", "comm"]) == 0
    out = capsys.readouterr().out
    assert "primex-x25519:" in out and "created and registered alice" in out
    assert main([*h, "keys", "init", "--role", "emperor", "--name", "x", "--by", "comm"]) == 2
    assert "unknown role" in capsys.readouterr().err
    assert main([*h, "keys", "list"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "researcher" in out and "active" in out
    assert main([*h, "keys", "revoke", "alice", "--by", "alice", "--reason", "x"]) == 2
    assert main([*h, "keys", "revoke", "alice", "--by", "comm", "--reason", "left"]) == 0
    assert "revoked alice at log entry 3" in capsys.readouterr().out
    assert open_log(Home(tmp_path)).registry.keys["alice"].revoked_seq == 3
    # no private key material ever reaches the terminal
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    pem = (tmp_path / "keys" / "comm" / "signing.pem").read_text().splitlines()[1]
    assert main([*h, "audit", "log"]) == 0
    assert pem not in capsys.readouterr().out


def test_cli_keys_register_a_key_made_in_a_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committee registers a public key a person made elsewhere (the portal's WebCrypto
    key): a signature by that key then verifies against the registry; no private key here."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from primex.audit.keys import verify_signature

    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    h = ["--home", str(tmp_path)]
    assert main([*h, "keys", "init", "--role", "committee", "--name", "comm"]) == 0
    browser = Ed25519PrivateKey.generate()  # stands for the person's browser
    raw = browser.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    b64 = base64.b64encode(raw).decode()
    args = [*h, "keys", "register", "rosa-web", "--role", "researcher", "--person", "rosa"]
    assert main([*args, "--ed25519", "not-base64", "--by", "comm"]) == 2
    assert "--ed25519" in capsys.readouterr().err
    assert main([*args, "--ed25519", b64, "--by", "rosa"]) == 2  # only the committee signs
    capsys.readouterr()
    assert main([*args, "--ed25519", b64, "--by", "comm"]) == 0
    assert "registered rosa-web" in capsys.readouterr().out
    info = open_log(Home(tmp_path)).registry.keys["rosa-web"]
    assert (info.role, info.person, info.public_key) == ("researcher", "rosa", raw)
    assert verify_signature(info.public_key, browser.sign(b"decision"), b"decision")
    assert not (tmp_path / "keys" / "rosa-web").exists()  # nothing private was made here
    assert main([*args, "--ed25519", b64, "--by", "comm"]) == 2  # a name is registered once
