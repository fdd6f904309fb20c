"""RFC 9421 signature base and Ed25519 signature against the RFC's own test vector
(Appendix B.2.6, key test-key-ed25519 of B.1.4), and RFC 9530 Content-Digest."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from primex.service import httpsig

# RFC 9421 B.1.4
ED25519_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
# RFC 9421 B.2 (the test request)
HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy"
                      "ealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
URL = "https://example.com/foo?param=Value&Pet=dog"
COMPONENTS = ("date", "@method", "@path", "@authority", "content-type", "content-length")
PARAMS = '("date" "@method" "@path" "@authority" "content-type" "content-length")' \
         ';created=1618884473;keyid="test-key-ed25519"'
# RFC 9421 B.2.6, the signature base and the signature value
BASE = """"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519\""""  # noqa: E501
SIGNATURE = ("wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WP"
             "pBKRCw==")


def test_rfc9421_b26_ed25519_vector() -> None:
    params = httpsig.signature_params(COMPONENTS, [("created", 1618884473),
                                                   ("keyid", "test-key-ed25519")])
    assert params == PARAMS
    base = httpsig.signature_base(COMPONENTS, params, "POST", URL, HEADERS)
    assert base.decode() == BASE
    key = load_pem_private_key(ED25519_PEM, password=None)
    assert base64.b64encode(key.sign(base)).decode() == SIGNATURE  # type: ignore[union-attr]


def test_rfc9530_content_digest() -> None:
    # RFC 9530 §2 example: {"hello": "world"}\n with sha-256
    assert httpsig.content_digest(b'{"hello": "world"}\n') == (
        "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:")


def test_round_trip_and_profile() -> None:
    key = load_pem_private_key(ED25519_PEM, password=None)
    pub = key.public_key().public_bytes_raw()  # type: ignore[union-attr]
    signed = httpsig.sign_request("POST", "/api/x?a=1", b"{}", "alice", key,  # type: ignore[arg-type]
                                  1_700_000_000.0, nonce="n" * 20)
    parsed = httpsig.parse_signed_request("POST", "/api/x?a=1", b"{}", signed.headers)
    assert httpsig.verify(parsed, pub)
    assert parsed.keyid == "alice" and parsed.nonce == "n" * 20
    # the query is covered: another query does not verify
    other = httpsig.parse_signed_request("POST", "/api/x?a=2", b"{}", signed.headers)
    assert not httpsig.verify(other, pub)
    # a weaker component list is refused (no downgrade to a signature without the digest)
    weak = dict(signed.headers)
    weak["Signature-Input"] = weak["Signature-Input"].replace(' "content-digest"', "")
    try:
        httpsig.parse_signed_request("POST", "/api/x?a=1", b"{}", weak)
    except httpsig.SignatureProblem as exc:
        assert "exactly" in str(exc)
    else:
        raise AssertionError("a signature without content-digest was accepted")
