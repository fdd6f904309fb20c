"""HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530).

The CLI signs every remote call with the actor's registered Ed25519 key; the service
verifies it against the key the signed audit log registers under `keyid`. The profile is
fixed (a verifier that accepts what the signer chose is how downgrades happen):

    Signature-Input: sig=("@method" "@path" "@query" "content-digest" "date");
                     created=<unix>;keyid="<key name>";nonce="<random>";alg="ed25519"
    Signature:       sig=:<base64 Ed25519 signature of the signature base>:
    Content-Digest:  sha-256=:<base64 SHA-256 of the body>:

Hand-written rather than a library: the signature base is ~30 lines of the RFC for a fixed
component list, and it is checked against the RFC's own Ed25519 test vector (B.2.6)
(tests/test_service_httpsig.py); replay refusal (the nonce) lives in the service.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Protocol
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LABEL = "sig"
COMPONENTS = ("@method", "@path", "@query", "content-digest", "date")
_STRING = r'"(?:[^"\\]|\\["\\])*"'
_INPUT = re.compile(
    rf"^(?P<label>[a-z][a-z0-9_-]{{0,31}})=(?P<value>\((?P<items>(?:{_STRING}(?: {_STRING})*)?)\)"
    rf"(?P<params>(?:;[a-z][a-z0-9_-]*=(?:{_STRING}|\d{{1,15}}))*))$"
)
_PARAM = re.compile(rf';([a-z][a-z0-9_-]*)=({_STRING}|\d{{1,15}})')
_SIGNATURE = re.compile(r"^(?P<label>[a-z][a-z0-9_-]{0,31})=:(?P<b64>[A-Za-z0-9+/=]{1,200}):$")
_DIGEST = re.compile(r"^sha-256=:(?P<b64>[A-Za-z0-9+/=]{44}):$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Ed25519Signer(Protocol):
    """A private key that signs (cryptography's Ed25519PrivateKey, primex's Signer)."""

    def sign(self, data: bytes) -> bytes: ...


class SignatureProblem(ValueError):
    """The request's signature headers are missing, malformed or do not verify."""


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def _sf_string(text: str) -> str:
    if not all(0x20 <= ord(c) < 0x7F for c in text):
        raise SignatureProblem("a signature parameter is not printable ASCII")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(token: str) -> str | int:
    if token.startswith('"'):
        return re.sub(r'\\(["\\])', r"\1", token[1:-1])
    return int(token)


def signature_params(
    components: Sequence[str], params: Sequence[tuple[str, str | int]]
) -> str:
    inner = " ".join(_sf_string(c) for c in components)
    tail = "".join(
        f";{k}={v}" if isinstance(v, int) else f";{k}={_sf_string(v)}" for k, v in params
    )
    return f"({inner}){tail}"


def component_value(
    name: str, method: str, url: str, headers: Mapping[str, str]
) -> str:
    """The value of one covered component (RFC 9421 §2.1 / §2.2)."""
    parts = urlsplit(url)
    if name == "@method":
        return method.upper()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@authority":
        return parts.netloc.lower()
    if name.startswith("@"):
        raise SignatureProblem(f"unsupported derived component {name}")
    lowered = {k.lower(): v for k, v in headers.items()}
    if name not in lowered:
        raise SignatureProblem(f"the signed header {name} is missing")
    # §2.1: strip leading/trailing whitespace of the field value
    return lowered[name].strip()


def signature_base(
    components: Sequence[str], params_text: str, method: str, url: str,
    headers: Mapping[str, str],
) -> bytes:
    values = [component_value(name, method, url, headers) for name in components]
    if any("\n" in v or "\r" in v for v in values):
        raise SignatureProblem("a covered component contains a line break")
    lines = [f'"{name}": {value}' for name, value in zip(components, values, strict=True)]
    lines.append(f'"@signature-params": {params_text}')
    try:  # URLs are percent-encoded and header values ASCII on the wire
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise SignatureProblem("a covered component is not ASCII (percent-encode it)") from None


@dataclass(frozen=True)
class SignedHeaders:
    headers: dict[str, str]
    nonce: str


def sign_request(
    method: str, url: str, body: bytes, keyid: str, key: Ed25519Signer, now: float,
    *, nonce: str | None = None,
) -> SignedHeaders:
    """The Date, Content-Digest, Signature-Input and Signature headers of one request."""
    nonce = nonce or secrets.token_urlsafe(18)
    headers = {"Date": formatdate(now, usegmt=True), "Content-Digest": content_digest(body)}
    params = signature_params(
        COMPONENTS, [("created", int(now)), ("keyid", keyid), ("nonce", nonce),
                     ("alg", "ed25519")],
    )
    base = signature_base(COMPONENTS, params, method, url, headers)
    sig = base64.b64encode(key.sign(base)).decode()
    headers["Signature-Input"] = f"{LABEL}={params}"
    headers["Signature"] = f"{LABEL}=:{sig}:"
    return SignedHeaders(headers, nonce)


@dataclass(frozen=True)
class ParsedSignature:
    keyid: str
    nonce: str
    created: int
    base: bytes
    signature: bytes


def parse_signed_request(
    method: str, url: str, body: bytes, headers: Mapping[str, str]
) -> ParsedSignature:
    """Check the profile and the body digest; return what to verify (no key lookup yet)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    sig_input, sig = lowered.get("signature-input"), lowered.get("signature")
    if not sig_input or not sig:
        raise SignatureProblem("the request is not signed (Signature-Input / Signature)")
    m = _INPUT.match(sig_input.strip())
    s = _SIGNATURE.match(sig.strip())
    if m is None or s is None or m["label"] != s["label"]:
        raise SignatureProblem("malformed Signature-Input or Signature header")
    components = tuple(str(_unquote(t)) for t in re.findall(_STRING, m["items"]))
    if components != COMPONENTS:
        raise SignatureProblem(
            "the signature must cover exactly " + " ".join(COMPONENTS)
        )
    params = {k: _unquote(v) for k, v in _PARAM.findall(m["params"])}
    if set(params) != {"created", "keyid", "nonce", "alg"} or params["alg"] != "ed25519":
        raise SignatureProblem("signature parameters must be created, keyid, nonce, alg=ed25519")
    keyid, nonce, created = params["keyid"], params["nonce"], params["created"]
    if not isinstance(keyid, str) or not isinstance(nonce, str) or not isinstance(created, int):
        raise SignatureProblem("signature parameters have the wrong types")
    if not NONCE.match(nonce):
        raise SignatureProblem("the nonce must be 16-64 URL-safe characters")
    digest = _DIGEST.match(lowered.get("content-digest", "").strip())
    if digest is None:
        raise SignatureProblem("Content-Digest (sha-256) is missing or malformed")
    if digest["b64"] != base64.b64encode(hashlib.sha256(body).digest()).decode():
        raise SignatureProblem("Content-Digest does not match the body")
    try:
        raw_sig = base64.b64decode(s["b64"], validate=True)
    except ValueError:
        raise SignatureProblem("the signature is not base64") from None
    base = signature_base(COMPONENTS, m["value"], method, url, headers)
    return ParsedSignature(keyid, nonce, created, base, raw_sig)


def verify(parsed: ParsedSignature, public_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(parsed.signature, parsed.base)
    except (InvalidSignature, ValueError):
        return False
    return True
