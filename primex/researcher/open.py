"""Open a release package offline: decrypt it and verify everything it carries.

Anyone can encrypt to the research centre's public key, so decryption proves nothing about
who made the package: the archive is treated as untrusted until every check passes, and
only then are its files moved into the output folder (nothing half-verified is left
behind). The checks (see docs/release.md):

* archive: only the expected member names, no duplicates, no paths; sizes bounded by the
  manifest;
* data: the files are exactly those of `manifest.json` (names, bytes, SHA-256), and the
  codebook's resources agree with it;
* readable reports (`disclosure-report.md`, `.html`): each is listed with its SHA-256 in
  the president's sign-off (`reports`), or the package is refused; the sign-off names your
  key's fingerprint as the recipient;
* log entries (`evidence/entries.jsonl`): canonical form, each signature under the key its
  own registration entry gives, each registration signed by itself (bootstrap) or by a
  committee key; the request's history is an unbroken `prev` chain from its submission to
  the sign-off; the sign-off is by a `president` key, binds this request and exactly this
  manifest; the disclosure result before it passed for this manifest (by an
  `spp_operator` key) and hashes the enclosed report; the output check approved it;
* checkpoint: signed by the log key of the genesis entry for the log's origin, cosigned by a
  committee key; every entry above has a valid RFC 9162 inclusion proof against its root.

What offline verification cannot know: whether a key was revoked after the checkpoint, and
whether the log/witness keys are the real ones. Compare the printed key IDs with the ones
the SPP and the committee publish, or pass them as `--log-key` / `--witness-key`.
Nothing is appended to the audit log (the researcher may record an `access` event online).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from primex import atomic
from primex.audit import canonical, merkle
from primex.audit.checkpoint import (
    parse_checkpoint,
    verify_cosignature,
    verify_log_signature,
)
from primex.audit.entry import Entry, parse_entry
from primex.audit.keys import verify_signature, vkey
from primex.audit.workflow import TRANSITIONS
from primex.errors import IntegrityError, PrimexError
from primex.exchange.envelope import fingerprint, format_public_key, open_sealed
from primex.exchange.layout import (
    CHECKPOINT,
    CODEBOOK,
    ENTRIES,
    FIXED_MEMBERS,
    FORMAT,
    MANIFEST,
    META,
    PROOFS,
    READABLE_REPORTS,
    REPORT_JSON,
    REQUIRED_MEMBERS,
)
from primex.exchange.manifest import Manifest, check_name, manifest_from_dict

_FIXED = FIXED_MEMBERS
_REQUIRED = REQUIRED_MEMBERS
_MAX_META = 64 << 20


@dataclass(frozen=True)
class KeyRecord:
    name: str
    role: str
    public_key: bytes
    seq: int


@dataclass(frozen=True)
class Opened:
    request: str
    title: str
    folder: Path
    manifest: Manifest
    president: str
    signed_at: str
    checkpoint_size: int
    log_vkey: str
    witnesses: dict[str, int]  # committee key vkey -> cosignature time (POSIX)


def _fail(what: str, where: str = "package") -> IntegrityError:
    return IntegrityError(
        what, where=where, hint="do not use these files; ask the service to send the package "
        "again and tell the committee"
    )


def _parse_vkey(text: str) -> tuple[str, bytes]:
    try:
        name, _, material = text.split("+", 2)
        raw = base64.b64decode(material, validate=True)
    except ValueError as exc:
        raise PrimexError(
            f"not a verifier key: {text[:40]!r}", where="--log-key/--witness-key",
            hint="the form is <name>+<hex key id>+<base64>",
        ) from exc
    if len(raw) != 33:
        raise PrimexError("a verifier key holds 1 + 32 bytes", where="--log-key/--witness-key")
    return name, raw[1:]


class Archive:
    """The decrypted ZIP, checked member by member before anything is read."""

    def __init__(self, path: Path, where: str) -> None:
        self.where = where
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise _fail(f"the decrypted package is not a ZIP archive ({exc})", where) from None
        names = [i.filename for i in self.zip.infolist()]
        if len(set(names)) != len(names):
            raise _fail("the archive holds the same name twice", where)
        self.data = {}
        for info in self.zip.infolist():
            if info.filename in _FIXED:
                if info.file_size > _MAX_META:
                    raise _fail(f"{info.filename} is implausibly large", where)
                continue
            name = info.filename.removeprefix("data/")
            if name == info.filename:
                raise _fail(f"unexpected member {info.filename!r} in the archive", where)
            check_name(name, where)
            self.data[name] = info
        missing = _REQUIRED - set(names)
        if missing:
            raise _fail(f"the archive lacks {', '.join(sorted(missing))}", where)

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except KeyError:
            raise _fail(f"the archive lacks {name}", self.where) from None
        except (zipfile.BadZipFile, OSError) as exc:
            raise _fail(f"{name} is damaged ({exc})", self.where) from None

    def sha256(self, data_name: str) -> str:
        digest = hashlib.sha256()
        try:
            with self.zip.open(self.data[data_name]) as src:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _fail(f"data/{data_name} is damaged ({exc})", self.where) from None
        return digest.hexdigest()

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except ValueError as exc:
            raise _fail(f"{name} is not JSON ({exc})", self.where) from None


def _keys(entries: Sequence[Entry], where: str) -> dict[str, KeyRecord]:
    keys: dict[str, KeyRecord] = {}
    for e in entries:
        if e.type != "key_add":
            continue
        try:
            pub = base64.b64decode(e.body["ed25519"], validate=True)
            rec = KeyRecord(e.body["name"], e.body["role"], pub, e.seq)
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(f"key entry {e.seq} is malformed", where) from exc
        keys[rec.name] = rec
    # registrations: by the key itself only while no committee key exists (the log's
    # bootstrap rule), afterwards by an earlier committee key
    first_committee = min(
        (r.seq for r in keys.values() if r.role == "committee"), default=None
    )
    for e in entries:
        if e.type != "key_add":
            continue
        rec = keys[e.body["name"]]
        if e.actor == rec.name:
            signer: KeyRecord | None = rec
            if first_committee is not None and first_committee < e.seq:
                signer = None  # self-registration after the bootstrap is not allowed
        else:
            signer = keys.get(e.actor)
            if signer is not None and (signer.role != "committee" or signer.seq >= e.seq):
                signer = None
        if signer is None:
            raise _fail(
                f"the registration of {rec.name!r} is not signed by a committee key", where
            )
        if not verify_signature(signer.public_key, base64.b64decode(e.sig), e.signed_bytes()):
            raise _fail(f"the registration of {rec.name!r} has a bad signature", where)
    return keys


def _signed_by(e: Entry, keys: dict[str, KeyRecord], roles: tuple[str, ...], where: str) -> str:
    rec = keys.get(e.actor)
    if rec is None or rec.seq >= e.seq:
        raise _fail(f"entry {e.seq} ({e.type}) is signed by an unregistered key", where)
    if rec.role not in roles:
        raise _fail(
            f"entry {e.seq} ({e.type}) is signed by {e.actor!r} ({rec.role}), not by a "
            f"{' or '.join(roles)} key", where,
        )
    if not verify_signature(rec.public_key, base64.b64decode(e.sig), e.signed_bytes()):
        raise _fail(f"entry {e.seq} ({e.type}): the signature does not verify", where)
    return rec.name


def _parse_entries(raw: bytes, where: str) -> list[Entry]:
    lines = raw.split(b"\n")
    if lines[-1] != b"":
        raise _fail("evidence/entries.jsonl does not end with a newline", where)
    entries: list[Entry] = []
    origin = None
    for line in lines[:-1]:
        obj = canonical.loads(line, where=f"{where}: evidence/entries.jsonl")
        seq = obj.get("seq") if isinstance(obj, dict) else None
        if type(seq) is not int or (entries and seq <= entries[-1].seq):
            raise _fail("evidence entries are not in log order", where)
        entries.append(parse_entry(line, seq, origin))
        origin = entries[-1].origin
    if not entries or entries[0].seq != 0 or entries[0].body.get("role") != "log":
        raise _fail("the evidence lacks the log's genesis entry", where)
    return entries


def verify_archive(arc: Archive, expected_log: str | None = None,
                   expected_witnesses: Sequence[str] = (),
                   recipient: str | None = None) -> tuple[dict[str, Any], Opened]:
    """Every check of the module docstring on an opened archive; returns (meta, summary)."""
    where = arc.where
    meta = arc.json(META)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _fail("unknown package format", where)
    request = meta.get("request")

    # data against the manifest
    manifest_raw = arc.read(MANIFEST)
    manifest = manifest_from_dict(canonical.loads(manifest_raw, where=f"{where}: {MANIFEST}"))
    if set(arc.data) != set(manifest.names):
        raise _fail(
            "the data files are not those of the manifest: "
            f"{sorted(set(arc.data) ^ set(manifest.names))}", where,
        )
    for f in manifest.files:
        if arc.data[f.name].file_size != f.bytes:
            raise _fail(f"data/{f.name} has another size than the manifest says", where)
        if arc.sha256(f.name) != f.sha256:
            raise _fail(f"data/{f.name} does not match its SHA-256 in the signed manifest", where)
    codebook = arc.json(CODEBOOK)
    resources = {r.get("path"): r for r in codebook.get("resources", [])}
    for f in manifest.files:
        res = resources.get(f"data/{f.name}", {})
        if res.get("hash") != f"sha256:{f.sha256}" or res.get("bytes") != f.bytes:
            raise _fail(f"the codebook disagrees with the manifest on {f.name}", where)

    # log entries and their signatures
    entries = _parse_entries(arc.read(ENTRIES), where)
    keys = _keys(entries, where)
    history = [e for e in entries if e.request == request]
    prev = None
    for e in history:
        if e.prev != prev:
            raise _fail(f"the request's history is incomplete before entry {e.seq}", where)
        prev = e.leaf_hex
    if not history or history[0].type != "submission":
        raise _fail("the request's history does not start with its submission", where)
    signoff = history[-1]
    if signoff.type != "signoff" or signoff.seq != meta.get("signoff_seq"):
        raise _fail("the request's history does not end with the sign-off", where)
    president = _signed_by(signoff, keys, ("president",), where)
    if (
        signoff.body.get("manifest_sha256") != manifest.sha256
        or signoff.body.get("manifest") != manifest.as_dict()
        or meta.get("manifest_sha256") != manifest.sha256
    ):
        raise _fail("the president signed another manifest than the enclosed one", where)
    _check_readable_reports(arc, signoff, where)
    if recipient is not None and signoff.body.get("recipient") != recipient:
        raise _fail("the president signed off this release for another recipient key", where)
    results = [e for e in history if e.type == "disclosure_result"]
    checks = [e for e in history if e.type == "output_check"]
    if not results or results[-1].body.get("passed") is not True or (
        results[-1].body.get("manifest_sha256") != manifest.sha256
    ):
        raise _fail("no passed disclosure result for this manifest before the sign-off", where)
    _signed_by(results[-1], keys, ("spp_operator",), where)
    report = arc.read(REPORT_JSON)
    if hashlib.sha256(report).hexdigest() != results[-1].body.get("report_sha256"):
        raise _fail("the disclosure report is not the one the disclosure result recorded", where)
    if not checks or checks[-1].seq < results[-1].seq or checks[-1].body.get(
        "decision") != "approve" or checks[-1].body.get("manifest_sha256") != manifest.sha256:
        raise _fail("the privacy officer's output check of this manifest is missing", where)
    _signed_by(checks[-1], keys, ("privacy_officer",), where)
    for e in history:  # the rest of the history: each by the role the workflow requires
        _signed_by(e, keys, TRANSITIONS[e.type].roles, where)

    # checkpoint, cosignature, inclusion proofs
    genesis = entries[0]
    origin = genesis.origin
    log_pub = keys[genesis.body["name"]].public_key
    try:
        cp = parse_checkpoint(arc.read(CHECKPOINT).decode("utf-8"), where=where)
        verify_log_signature(cp, origin, log_pub)
    except (IntegrityError, UnicodeDecodeError) as exc:
        raise _fail(f"checkpoint: {exc}", where) from None
    witnesses = {
        vkey(r.name, r.public_key): ts
        for r in keys.values()
        if r.role == "committee" and (ts := verify_cosignature(cp, r.name, r.public_key))
        is not None
    }
    if not witnesses:
        raise _fail("the checkpoint carries no valid committee witness cosignature", where)
    proofs = arc.json(PROOFS)
    if proofs.get("size") != cp.size or proofs.get("root") != cp.root_b64:
        raise _fail("the inclusion proofs are for another checkpoint", where)
    for e in entries:
        try:
            path = [base64.b64decode(h, validate=True) for h in proofs["proofs"][str(e.seq)]]
            merkle.verify_inclusion(e.leaf_hash, e.seq, cp.size, path, cp.root)
        except (KeyError, TypeError, ValueError, IntegrityError) as exc:
            raise _fail(f"entry {e.seq} is not proven in the checkpoint ({exc})", where) from None
    log_vkey = vkey(origin, log_pub)
    _trust(expected_log, [log_vkey], "log")
    for wanted in expected_witnesses:
        _trust(wanted, list(witnesses), "witness")
    return meta, Opened(
        request=str(request), title=str(meta.get("title", "")), folder=Path(),
        manifest=manifest, president=president, signed_at=signoff.time,
        checkpoint_size=cp.size, log_vkey=log_vkey, witnesses=witnesses,
    )


def _fingerprint(private_key: X25519PrivateKey) -> str:
    return fingerprint(format_public_key(private_key.public_key()))


def _check_readable_reports(arc: Archive, signoff: Entry, where: str) -> None:
    """A readable report travels only when the sign-off lists it with these exact bytes."""
    raw = signoff.body.get("reports")
    try:
        signed = manifest_from_dict(raw, where=f"{where}: signoff.reports") if raw else None
    except IntegrityError as exc:
        raise _fail(f"the sign-off's report list is malformed ({exc.what})", where) from None
    bound = {f.name: f.sha256 for f in signed.files} if signed else {}
    present = set(arc.zip.namelist())
    for name in READABLE_REPORTS:
        if name not in present:
            continue
        if name not in bound:
            raise _fail(f"{name} is not covered by the president's sign-off", where)
        if hashlib.sha256(arc.read(name)).hexdigest() != bound[name]:
            raise _fail(f"{name} is not the report the president signed off", where)


def _trust(expected: str | None, found: list[str], what: str) -> None:
    if expected is None:
        return
    name, pub = _parse_vkey(expected)
    if not any(_parse_vkey(f) == (name, pub) for f in found):
        raise _fail(
            f"the {what} key {expected.split('+')[0]!r} you trust did not sign this package",
            where=f"--{what}-key",
        )


def open_package(
    package: Path,
    private_key: X25519PrivateKey,
    out: Path,
    *,
    expected_log: str | None = None,
    expected_witnesses: Sequence[str] = (),
) -> Opened:
    """Decrypt `package`, verify it, and write its files under `out` (which must not exist
    or be empty). Raises IntegrityError / PrimexError; nothing is left in `out` on failure."""
    where = str(package)
    if not package.is_file():
        raise PrimexError("no such package", where=where, hint="give the path of the .primex file")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PrimexError(
            "the output folder exists and is not empty", where=str(out),
            hint="choose another --out folder",
        )
    # built aside and swapped into place: nothing is left in `out` on failure
    with atomic.publish_folder(out) as staging:
        plain = staging / ".package.zip"
        with package.open("rb") as src, plain.open("wb") as dst:
            open_sealed(src, dst, private_key, where)
        arc = Archive(plain, where)
        _meta, opened = verify_archive(
            arc, expected_log, expected_witnesses, recipient=_fingerprint(private_key)
        )
        _extract(arc, opened.manifest, staging)
        arc.zip.close()
        plain.unlink()
    return replace(opened, folder=out)


def verify_package(
    package: Path,
    private_key: X25519PrivateKey,
    *,
    expected_log: str | None = None,
    expected_witnesses: Sequence[str] = (),
) -> Opened:
    """Decrypt and verify `package` in a temporary folder; nothing is kept or written."""
    if not package.is_file():
        raise PrimexError("no such package", where=str(package))
    with tempfile.TemporaryDirectory(prefix=".primex-verify-") as tmp:
        plain = Path(tmp) / "package.zip"
        with package.open("rb") as src, plain.open("wb") as dst:
            open_sealed(src, dst, private_key, str(package))
        arc = Archive(plain, str(package))
        try:
            return verify_archive(
                arc, expected_log, expected_witnesses, recipient=_fingerprint(private_key)
            )[1]
        finally:
            arc.zip.close()


def _extract(arc: Archive, manifest: Manifest, target: Path) -> None:
    """Write the verified files; each data file is hashed again as it is written."""
    (target / "data").mkdir()
    (target / "evidence").mkdir()
    for f in manifest.files:
        digest = hashlib.sha256()
        with arc.zip.open(arc.data[f.name]) as src, (target / "data" / f.name).open("xb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != f.sha256:
            raise _fail(f"data/{f.name} does not match its SHA-256 in the signed manifest",
                        arc.where)
    present = set(arc.zip.namelist())
    for name in sorted(_FIXED & present):
        (target / name).write_bytes(arc.read(name))
