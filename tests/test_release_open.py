"""Opening a release offline: everything verifies, and a package forged by anyone who knows
the research centre's public key (anyone can encrypt to it) is refused, naming why."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from release_chain import FILES, PASS, Chain, make_chain, no_fsync  # noqa: F401

from primex.audit.canonical import dumps, loads
from primex.audit.keys import load_encryption_private_key
from primex.cli import main
from primex.errors import IntegrityError, PrimexError
from primex.exchange.envelope import open_sealed, seal
from primex.release.package import Released, build_release
from primex.researcher.open import open_package, verify_package


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Chain, Released]:
    chain = make_chain(tmp_path_factory.mktemp("open"))
    chain.up_to_signoff()
    return chain, build_release(chain.home, chain.request, chain.signers["spp"])


def _key(chain: Chain):  # type: ignore[no-untyped-def]
    return load_encryption_private_key(chain.home, "alice", PASS)


def _members(chain: Chain, package: Path) -> dict[str, bytes]:
    out = io.BytesIO()
    with package.open("rb") as fh:
        open_sealed(fh, out, _key(chain))
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        return {n: z.read(n) for n in z.namelist()}


def _forge(
    chain: Chain, package: Path, target: Path, edit: Callable[[dict[str, bytes]], None]
) -> Path:
    """Re-pack the archive with `edit` applied and seal it again for the same recipient."""
    members = _members(chain, package)
    edit(members)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with target.open("wb") as out:
        seal(io.BytesIO(buf.getvalue()), out, chain.ids["alice"].encryption_public_key or "")
    return target


def test_unmodified_repack_still_opens(released: tuple[Chain, Released], tmp_path: Path) -> None:
    """Control for the forgery tests: re-packing without an edit is accepted."""
    chain, rel = released
    forged = _forge(chain, rel.path, tmp_path / "same.primex", lambda m: None)
    opened = open_package(forged, _key(chain), tmp_path / "out")
    assert (tmp_path / "out" / "data" / "totals.csv").read_bytes() == FILES["totals.csv"]
    assert opened.checkpoint_size > 0 and opened.witnesses


def _entries(m: dict[str, bytes]) -> list[dict]:
    return [loads(line) for line in m["evidence/entries.jsonl"].splitlines()]


def _set_entries(m: dict[str, bytes], entries: list[dict]) -> None:
    m["evidence/entries.jsonl"] = b"".join(dumps(e) + b"\n" for e in entries)


def _edit_data(m: dict[str, bytes]) -> None:
    m["data/totals.csv"] = m["data/totals.csv"].replace(b"12", b"13")


def _edit_data_and_manifest(m: dict[str, bytes]) -> None:
    """Consistent fake: data, manifest and codebook all changed; the signature cannot be."""
    import hashlib

    _edit_data(m)
    manifest = loads(m["manifest.json"])
    for f in manifest["files"]:
        if f["name"] == "totals.csv":
            f["sha256"] = hashlib.sha256(m["data/totals.csv"]).hexdigest()
    m["manifest.json"] = dumps(manifest)
    codebook = json.loads(m["datapackage.json"])
    for r in codebook["resources"]:
        if r["path"] == "data/totals.csv":
            r["hash"] = "sha256:" + hashlib.sha256(m["data/totals.csv"]).hexdigest()
    m["datapackage.json"] = json.dumps(codebook).encode()
    meta = json.loads(m["release.json"])
    meta["manifest_sha256"] = hashlib.sha256(m["manifest.json"]).hexdigest()
    m["release.json"] = json.dumps(meta).encode()


def _drop_output_check(m: dict[str, bytes]) -> None:
    _set_entries(m, [e for e in _entries(m) if e["type"] != "output_check"])


def _strip_cosignature(m: dict[str, bytes]) -> None:
    text = m["evidence/checkpoint"].decode()
    body, _, sigs = text.partition("\n\n")
    m["evidence/checkpoint"] = (body + "\n\n" + sigs.splitlines()[0] + "\n").encode()


def _flip_proof(m: dict[str, bytes]) -> None:
    proofs = json.loads(m["evidence/proofs.json"])
    seq = max(proofs["proofs"], key=int)
    path = proofs["proofs"][seq]
    path[0] = ("A" if path[0][0] != "A" else "B") + path[0][1:]
    m["evidence/proofs.json"] = json.dumps(proofs).encode()


def _signoff_by_officer(m: dict[str, bytes]) -> None:
    entries = _entries(m)
    for e in entries:
        if e["type"] == "signoff":
            e["actor"] = "olivia"
    _set_entries(m, entries)


def _report_swapped(m: dict[str, bytes]) -> None:
    report = json.loads(m["disclosure-report.json"])
    report["summary"]["suppressed_values"] = 0
    m["disclosure-report.json"] = json.dumps(report).encode()


def _extra_member(m: dict[str, bytes]) -> None:
    m["../evil.sh"] = b"rm -rf ~"


def _extra_data_file(m: dict[str, bytes]) -> None:
    m["data/extra.csv"] = b"x\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_edit_data, "does not match its SHA-256"),
        (_edit_data_and_manifest, "signed another manifest"),
        (_drop_output_check, "history is incomplete"),
        (_strip_cosignature, "no valid committee witness cosignature"),
        (_flip_proof, "not proven in the checkpoint"),
        (_signoff_by_officer, "not by a president key"),
        (_report_swapped, "disclosure report is not the one"),
        (_extra_member, "unexpected member"),
        (_extra_data_file, "not those of the manifest"),
    ],
)
def test_forged_package_is_refused(
    released: tuple[Chain, Released], tmp_path: Path, edit: Callable, message: str
) -> None:
    chain, rel = released
    forged = _forge(chain, rel.path, tmp_path / "forged.primex", edit)
    with pytest.raises(IntegrityError, match=message):
        open_package(forged, _key(chain), tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-verified is left
    assert [p.name for p in tmp_path.iterdir()] == ["forged.primex"]


def test_trusted_keys(released: tuple[Chain, Released], tmp_path: Path) -> None:
    chain, rel = released
    opened = verify_package(rel.path, _key(chain))
    committee_vkey = chain.ids["committee"].vkey
    assert committee_vkey in opened.witnesses
    ok = verify_package(
        rel.path, _key(chain), expected_log=opened.log_vkey, expected_witnesses=[committee_vkey]
    )
    assert ok.request == chain.request
    with pytest.raises(IntegrityError, match="witness key 'paul' you trust did not sign"):
        verify_package(rel.path, _key(chain), expected_witnesses=[chain.ids["paul"].vkey])
    with pytest.raises(IntegrityError, match="log key"):
        verify_package(rel.path, _key(chain), expected_log=chain.ids["olivia"].vkey)


def test_out_folder_must_be_new_or_empty(released: tuple[Chain, Released], tmp_path: Path) -> None:
    chain, rel = released
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(PrimexError, match="not empty"):
        open_package(rel.path, _key(chain), tmp_path / "out")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def test_cli_open_and_verify(
    released: tuple[Chain, Released], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain, rel = released
    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    home = str(chain.home.root)
    chain.log.refresh()
    size = chain.log.size
    assert main(["--home", home, "release", "verify", str(rel.path)]) == 0
    assert f"release of {chain.request}" in capsys.readouterr().out
    out = tmp_path / "opened"
    assert main(["--home", home, "release", "open", str(rel.path), "--key", "alice",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "verified" in printed and "paul" in printed
    assert (out / "data" / "spells.csv").read_bytes() == FILES["spells.csv"]
    chain.log.refresh()
    assert chain.log.size == size
    # a package the log never recorded
    copy = tmp_path / "copy.primex"
    data = bytearray(rel.path.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    assert main(["--home", home, "release", "verify", str(copy)]) == 2
    assert "not recorded by any release entry" in capsys.readouterr().err
    assert main(["--home", home, "release", "open", str(copy), "--key", "alice",
                 "--out", str(tmp_path / "x")]) == 2
    assert "does not decrypt" in capsys.readouterr().err


def test_self_registered_president_after_bootstrap(
    released: tuple[Chain, Released], tmp_path: Path
) -> None:
    """A forger adds their own 'president' key (signed by itself, as only the bootstrap
    may) and re-signs the sign-off with it."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from primex.audit.log import signed_bytes

    chain, rel = released
    forger = Ed25519PrivateKey.generate()
    pub = forger.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    def edit(m: dict[str, bytes]) -> None:
        entries = _entries(m)
        signoff = next(e for e in entries if e["type"] == "signoff")
        free = signoff["seq"] - 1
        while any(e["seq"] == free for e in entries):
            free -= 1
        reg = {**entries[0], "seq": free, "actor": "mallory", "prev": None,
               "body": {"name": "mallory", "role": "president", "person": "mallory",
                        "ed25519": base64.b64encode(pub).decode()}}
        reg["sig"] = base64.b64encode(forger.sign(signed_bytes(reg))).decode()
        signoff["actor"] = "mallory"
        signoff["sig"] = base64.b64encode(forger.sign(signed_bytes(signoff))).decode()
        _set_entries(m, sorted([*entries, reg], key=lambda e: e["seq"]))

    forged = _forge(chain, rel.path, tmp_path / "forged.primex", edit)
    with pytest.raises(IntegrityError, match="'mallory' is not signed by a committee key"):
        open_package(forged, _key(chain), tmp_path / "out")


def test_recording_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    monkeypatch.setenv("PRIMEX_PASSPHRASE", PASS)
    chain = make_chain(tmp_path / "c")
    chain.up_to_signoff()
    rel = build_release(chain.home, chain.request, chain.signers["spp"])
    home = str(chain.home.root)
    out = tmp_path / "opened"
    assert main(["--home", home, "release", "open", str(rel.path), "--key", "alice",
                 "--out", str(out)]) == 0
    assert main(["--home", home, "release", "access", str(out), "--as", "olivia"]) == 2
    assert "must be signed by researcher" in capsys.readouterr().err
    assert main(["--home", home, "release", "access", str(out), "--as", "alice"]) == 0
    chain.log.refresh()
    recorded = [e.body for e in chain.log.entries(chain.request) if e.type == "access"]
    assert recorded == [
        {"name": n, "sha256": hashlib.sha256(d).hexdigest()} for n, d in sorted(FILES.items())
    ]
    (out / "data" / "totals.csv").write_bytes(b"changed\n")
    assert main(["--home", home, "release", "access", str(out), "--as", "alice"]) == 2
    assert "no longer the released ones" in capsys.readouterr().err


# --- issue 14 #1/#2: the researcher checks the readable reports and the recipient too ------


def _reseal_for(chain: Chain, package: Path, target: Path, researcher: str) -> Path:
    """The very same archive, sealed for another researcher's key (what a builder that
    ignored the sign-off's recipient would send)."""
    members = _members(chain, package)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with target.open("wb") as out:
        seal(io.BytesIO(buf.getvalue()), out, chain.ids[researcher].encryption_public_key or "")
    return target


def test_package_for_another_recipient_than_signed_is_refused(tmp_path: Path) -> None:
    chain = make_chain(tmp_path / "h", extra={"eve": "researcher"})
    chain.up_to_signoff()
    rel = build_release(chain.home, chain.request, chain.signers["spp"])
    forged = _reseal_for(chain, rel.path, tmp_path / "eve.primex", "eve")
    eve = load_encryption_private_key(chain.home, "eve", PASS)
    with pytest.raises(IntegrityError, match="for another recipient key"):
        open_package(forged, eve, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("report", ["disclosure-report.md", "disclosure-report.html"])
def test_readable_report_not_signed_is_refused(
    released: tuple[Chain, Released], tmp_path: Path, report: str
) -> None:
    chain, rel = released

    def swap(members: dict[str, bytes]) -> None:
        members[report] = b"niss,age\n85073112390,20\n"

    forged = _forge(chain, rel.path, tmp_path / "f.primex", swap)
    with pytest.raises(IntegrityError, match=f"{report} is not"):
        open_package(forged, _key(chain), tmp_path / "out")
    assert not (tmp_path / "out").exists()
