"""The SPP record key (contract C2): the secret file and the keyed hash, checked against the
contract's formula written with the standard library (linkage_helpers.ref_record_key)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from linkage_helpers import P1, P2, P3, ref_record_key

from primex.errors import IntegrityError, PermissionDenied
from primex.extract import record_key
from primex.home import Home


def test_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    home = Home.resolve(tmp_path)
    key = record_key.load_or_create(home)
    path = home.spp / "record.key"
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert record_key.load_or_create(home) == key
    record_key._create(path)  # a second creator (another process) never replaces it
    assert path.read_bytes() == key
    assert [p.name for p in home.spp.iterdir()] == ["record.key"]  # no temporary left


def test_values_follow_the_contract(tmp_path: Path) -> None:
    key = record_key.load_or_create(Home.resolve(tmp_path))
    ids = [P1, P2, None, P1, P3]
    keys = record_key.record_keys(pa.chunked_array([ids[:2], ids[2:]]), key)
    assert keys.type == pa.binary(16)
    assert keys.to_pylist() == [None if i is None else ref_record_key(key, i) for i in ids]
    assert record_key.record_keys(pa.array([], pa.string()), key).to_pylist() == []
    assert record_key.key_id(key).startswith("r1:") and key.hex() not in record_key.key_id(key)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    home = Home.resolve(tmp_path)
    record_key.load_or_create(home)
    os.chmod(home.spp / "record.key", mode)
    with pytest.raises(PermissionDenied, match="chmod 600"):
        record_key.load_or_create(home)


@pytest.mark.parametrize("content", [bytes(32), b"\x01" * 32, bytes(range(200, 216))],
                         ids=["zeros", "constant", "short"])
def test_a_damaged_key_is_refused(tmp_path: Path, content: bytes) -> None:
    home = Home.resolve(tmp_path)
    home.spp.mkdir(parents=True)
    path = home.spp / "record.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(IntegrityError, match="not 32 random bytes"):
        record_key.load_or_create(home)
