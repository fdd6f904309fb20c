"""C2SP signed notes and tlog checkpoints (c2sp.org/signed-note, tlog-checkpoint,
tlog-cosignature).

A checkpoint note::

    <origin>
    <size>
    <base64 root>

    — <origin> base64(key ID(4) || Ed25519 signature)          # the log's signature
    — <committee key> base64(key ID(4) || u64 time || sig)     # cosignature/v1, 0..n

The log key signs the note body (the text up to and including the third newline) with an
Ed25519 note key ID ``SHA-256(name || "\\n" || 0x01 || pub)[:4]``; a witness signs
``"cosignature/v1\\ntime <t>\\n" || body`` with key ID type 0x04. Verifiers ignore signature
lines from unknown keys and reject a note without one verifying known signature.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field
from pathlib import Path

from primex.audit.keys import Signer, note_key_id, verify_signature
from primex.errors import IntegrityError

DASH = "\u2014"  # the em dash that starts every signature line
COSIG_TYPE = 0x04


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    sig: bytes  # for cosignatures: 8-byte big-endian timestamp || 64-byte signature

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.sig).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    signatures: tuple[NoteSignature, ...] = field(default=())

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()

    @property
    def text(self) -> str:
        return self.body + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, sig: NoteSignature) -> Checkpoint:
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) != (sig.name, sig.key_id))
        return Checkpoint(self.origin, self.size, self.root, (*kept, sig))


def sign_checkpoint(origin: str, size: int, root: bytes, log_signer: Signer) -> Checkpoint:
    """A new checkpoint signed by the log key, whose note key name is the origin."""
    cp = Checkpoint(origin, size, root)
    sig = log_signer.sign(cp.body.encode())
    kid = note_key_id(origin, log_signer.public_key_bytes)
    return cp.with_signature(NoteSignature(origin, kid, sig))


def read_checkpoint(path: Path) -> Checkpoint:
    """Parse the checkpoint stored at `path`; a damaged (non-UTF-8) file is an IntegrityError."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise IntegrityError("not a signed note (not UTF-8 text)", where=str(path),
                             hint="the file is damaged: restore it from a backup") from exc
    return parse_checkpoint(text, where=str(path))


def parse_checkpoint(text: str, *, where: str = "checkpoint") -> Checkpoint:
    """Parse a signed checkpoint note; IntegrityError on any malformed part."""
    if "\n\n" not in text:
        raise IntegrityError("not a signed note (no blank line before signatures)", where=where)
    body, _, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if len(lines) < 3:
        raise IntegrityError("checkpoint body needs origin, size and root lines", where=where)
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin or not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
        raise IntegrityError("checkpoint origin or size line is malformed", where=where)
    try:
        root = base64.b64decode(root_s, validate=True)
    except binascii.Error as exc:
        raise IntegrityError("checkpoint root is not base64", where=where) from exc
    if len(root) != 32:
        raise IntegrityError("checkpoint root is not 32 bytes", where=where)
    if len(lines) > 3:
        raise IntegrityError(
            "checkpoint has extension lines; this log never writes any", where=where
        )
    out: list[NoteSignature] = []
    if not sigs.endswith("\n"):
        raise IntegrityError("signature block must end with a newline", where=where)
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise IntegrityError(f"malformed signature line {line[:40]!r}", where=where)
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error as exc:
            raise IntegrityError("signature is not base64", where=where) from exc
        if len(raw) < 5:
            raise IntegrityError("signature too short", where=where)
        out.append(NoteSignature(parts[1], raw[:4], raw[4:]))
    if not out:
        raise IntegrityError("checkpoint carries no signature", where=where)
    return Checkpoint(origin, int(size_s), root, tuple(out))


def verify_log_signature(cp: Checkpoint, origin: str, log_public_key: bytes) -> None:
    """Raise IntegrityError unless `cp` is for `origin` and signed by the log key."""
    if cp.origin != origin:
        raise IntegrityError(
            f"checkpoint is for another log (origin {cp.origin!r}, expected {origin!r})",
            where="checkpoint",
        )
    kid = note_key_id(origin, log_public_key)
    candidates = [s for s in cp.signatures if s.name == origin and s.key_id == kid]
    if not candidates:
        raise IntegrityError(
            "checkpoint has no signature from the log key (only unknown keys)",
            where=f"checkpoint {cp.size}",
        )
    if not any(verify_signature(log_public_key, s.sig, cp.body.encode()) for s in candidates):
        raise IntegrityError(
            "the log's signature on the checkpoint does not verify (tampered text?)",
            where=f"checkpoint {cp.size}",
        )


def cosign(cp: Checkpoint, signer: Signer, timestamp: int) -> NoteSignature:
    """A cosignature/v1 line by `signer` over `cp` at POSIX `timestamp`."""
    msg = f"cosignature/v1\ntime {timestamp}\n".encode() + cp.body.encode()
    sig = signer.sign(msg)
    kid = note_key_id(signer.name, signer.public_key_bytes, COSIG_TYPE)
    return NoteSignature(signer.name, kid, struct.pack(">Q", timestamp) + sig)


def verify_cosignature(cp: Checkpoint, name: str, public_key: bytes) -> int | None:
    """The timestamp of a valid cosignature by (`name`, `public_key`) on `cp`, else None."""
    kid = note_key_id(name, public_key, COSIG_TYPE)
    for s in cp.signatures:
        if s.name != name or s.key_id != kid or len(s.sig) != 72:
            continue
        (ts,) = struct.unpack(">Q", s.sig[:8])
        msg = f"cosignature/v1\ntime {ts}\n".encode() + cp.body.encode()
        if verify_signature(public_key, s.sig[8:], msg):
            return ts
    return None
