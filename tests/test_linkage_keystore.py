"""The BCSS keystore: encrypted at rest, 0600, refused when readable by others, never printed;
and the structural boundary: nothing outside primex.linkage imports it."""

from __future__ import annotations

import ast
import base64
import json
import os
import stat
from pathlib import Path

import pytest

from primex.cli import main
from primex.errors import PermissionDenied, PrimexError
from primex.home import Home
from primex.linkage import keystore
from primex.linkage.admin import request_key_id
from primex.linkage.pseudonym import derive_project_key, key_id

PASS = "correct horse battery staple"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keystore.ENV_MASTER_KEY, raising=False)
    monkeypatch.delenv(keystore.ENV_PASSPHRASE, raising=False)


def test_keygen_writes_an_encrypted_0600_file(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    fingerprint = keystore.generate_master_key(home, PASS)
    path = keystore.key_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    master = keystore.load_master_key(home, PASS)
    assert len(master) == 32 and keystore.master_id(master) == fingerprint
    text = path.read_bytes()
    for form in (master, master.hex().encode(), base64.b64encode(master)):
        assert form not in text  # encrypted at rest
    doc = json.loads(text)
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"] == "AES-256-GCM"


def test_wrong_passphrase_and_missing_passphrase(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    keystore.generate_master_key(home, PASS)
    with pytest.raises(PrimexError, match="wrong keystore passphrase"):
        keystore.load_master_key(home, "not the passphrase")
    with pytest.raises(PrimexError, match="passphrase is needed"):
        keystore.load_master_key(home)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_refuses_a_key_file_readable_by_others(tmp_path: Path, mode: int) -> None:
    home = Home.resolve(tmp_path)
    keystore.generate_master_key(home, PASS)
    os.chmod(keystore.key_file(home), mode)
    with pytest.raises(PermissionDenied, match="chmod 600"):
        keystore.load_master_key(home, PASS)
    code = main(["--home", str(tmp_path), "linkage", "key-id", "--request", "R1"])
    assert code == 2


def test_no_silent_overwrite_and_rotation_keeps_the_old_key(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    first = keystore.generate_master_key(home, PASS)
    with pytest.raises(PrimexError, match="already exists"):
        keystore.generate_master_key(home, PASS)
    recorded: list[tuple[str, str]] = []
    rotation = keystore.rotate_master_key(
        home, PASS, current_passphrase=PASS, record=lambda a, b: recorded.append((a, b)))
    second = rotation.new_master_id
    assert first != second and recorded == [(first, second)]
    retired = list(home.bcss_keystore.glob("master-key.retired-*.json"))
    assert len(retired) == 1 and stat.S_IMODE(retired[0].stat().st_mode) == 0o600


def test_short_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(PrimexError, match="at least"):
        keystore.generate_master_key(Home.resolve(tmp_path), "short")


def test_master_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master = bytes(range(32))
    home = Home.resolve(tmp_path)
    for form in (master.hex(), base64.b64encode(master).decode()):
        monkeypatch.setenv(keystore.ENV_MASTER_KEY, form)
        assert keystore.load_master_key(home) == master
        assert request_key_id(home, "R1") == key_id(derive_project_key(master, "R1"))
    monkeypatch.setenv(keystore.ENV_MASTER_KEY, "dG9vIHNob3J0")
    with pytest.raises(PrimexError, match="32-byte"):
        keystore.load_master_key(home)


def test_cli_keygen_and_key_id_never_print_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(keystore.ENV_PASSPHRASE, PASS)
    assert main(["--home", str(tmp_path), "linkage", "keygen"]) == 0
    assert main(["--home", str(tmp_path), "linkage", "keygen"]) == 2  # no silent overwrite
    assert main(["--home", str(tmp_path), "linkage", "key-id", "--request", "REQ-1"]) == 0
    out = capsys.readouterr()
    master = keystore.load_master_key(Home.resolve(tmp_path), PASS)
    kp = derive_project_key(master, "REQ-1")
    printed = out.out + out.err
    assert key_id(kp) in printed
    for secret in (master, kp):
        assert secret.hex() not in printed and base64.b64encode(secret).decode() not in printed


def _imports_keystore(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name.startswith("primex.linkage.keystore") for a in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith("primex.linkage.keystore"):
                return True
            if module == "primex.linkage" and any(a.name == "keystore" for a in node.names):
                return True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in {"import_module", "__import__"} and any(
                isinstance(a, ast.Constant) and "keystore" in str(a.value) for a in node.args
            ):
                return True
    return False


def test_only_primex_linkage_imports_the_keystore() -> None:
    offenders = []
    for path in sorted((REPO / "primex").rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[:2] == ("primex", "linkage"):
            continue
        if _imports_keystore(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            offenders.append(str(rel))
    assert offenders == []


def test_the_boundary_check_catches_every_import_form() -> None:
    for src in (
        "import primex.linkage.keystore",
        "from primex.linkage import keystore",
        "from primex.linkage.keystore import load_master_key",
        "import importlib\nimportlib.import_module('primex.linkage.keystore')",
    ):
        assert _imports_keystore(ast.parse(src)), src
    assert not _imports_keystore(ast.parse("from primex.linkage import pseudonymise"))
