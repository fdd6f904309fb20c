"""Per-project keyed pseudonyms of national numbers: the scheme pinned with the BCSS.

    K_P       = HKDF-SHA256(ikm=K_master, salt=b"", info=b"primex/pseudonym/v1/" + project_id, L=32)
    pseudonym = hex(HMAC-SHA256(K_P, b"BE-NN/v1:" + nn11)[:16])      # 32 lowercase hex chars
    key_id    = "v1:" + hex(SHA-256(b"kid" + K_P)[:8])

This is an interface with the BCSS: any change is a new version (`v2` labels), never an edit.
The project id is the request id. Two projects get unlinkable pseudonyms (independent PRF
keys); one project gets the same pseudonym for a person on every extraction.

`pseudonymise` gives back the kind of sequence it was given (an Arrow array for Arrow, a NumPy
array for NumPy: `S32` for bytes input, `<U32` for str input; a list otherwise);
`pseudonymise_column` always returns an Arrow string array. Both feed the compiled kernel
(`hmac_kernel`) without a per-row Python step on the way in: Arrow strings are read in
place, NumPy `S11`/`U11` arrays as a digit matrix, lists through one Arrow conversion. Only
small lists take the per-row reference (the kernel's set-up costs more). Spark's Arrow UDF
(`primex.linkage.spark`) calls `pseudonymise_column` on each batch.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from primex.errors import PrimexError
from primex.linkage.hmac_kernel import NotDigitsError, hmac_sha256_rows

SCHEME = "primex/pseudonym/v1"
HKDF_INFO_PREFIX = b"primex/pseudonym/v1/"
MESSAGE_PREFIX = b"BE-NN/v1:"
KEY_BYTES = 32
PSEUDONYM_BYTES = 16
PSEUDONYM_HEX = 2 * PSEUDONYM_BYTES
# Below this many rows the per-row reference is faster than loading the compiled kernel.
SMALL_BATCH = 20_000



def derive_project_key(master_key: bytes, project_id: str) -> bytes:
    """K_P = HKDF-SHA256(ikm=master_key, salt=b"", info=b"primex/pseudonym/v1/"+id, L=32)."""
    if not isinstance(master_key, bytes | bytearray) or len(master_key) != KEY_BYTES:
        raise PrimexError(
            f"the master key must be exactly {KEY_BYTES} bytes",
            where="linkage key",
            hint="generate one with `primex linkage keygen`",
        )
    if not isinstance(project_id, str) or not project_id.strip():
        raise PrimexError("the project id (request id) is empty", where="--request")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=b"",
        info=HKDF_INFO_PREFIX + project_id.encode("utf-8"),
    )
    return hkdf.derive(bytes(master_key))


def key_id(project_key: bytes) -> str:
    """The public fingerprint of a project key: travels with every coded file, the key never."""
    _check_key(project_key)
    return "v1:" + hashlib.sha256(b"kid" + bytes(project_key)).digest()[:8].hex()


def pseudonym_of(nn11: str, project_key: bytes) -> str:
    """The reference definition for one value (stdlib `hmac`), used for checks and tests."""
    _check_key(project_key)
    raw = _nn11_bytes(nn11, 0)
    return hmac.new(bytes(project_key), MESSAGE_PREFIX + raw, "sha256").digest()[
        :PSEUDONYM_BYTES
    ].hex()


def pseudonymise(nn11_values: Any, project_key: bytes) -> Any:
    """Pseudonyms of validated `nn11` values, in order (32 lowercase hex characters each).

    An Arrow array (or chunked array) gives an Arrow string array, a NumPy array a NumPy
    array (`S32` for a bytes array such as `S11`, `<U32` otherwise), anything else (list,
    tuple, iterable) a list of str. Values must already be
    normalised and validated (`primex.linkage.niss`); anything that is not exactly 11 ASCII
    digits is refused (by position, never by value).
    """
    _check_key(project_key)
    if isinstance(nn11_values, pa.Array | pa.ChunkedArray):
        return pseudonymise_column(nn11_values, project_key)
    if isinstance(nn11_values, np.ndarray):
        if nn11_values.dtype.kind == "U":  # str in, str out: the kernel writes code points
            points = _hex_rows(nn11_values, project_key, np.uint32)
            return points.view(f"U{PSEUDONYM_HEX}").reshape(-1)
        return _hex_rows(nn11_values, project_key, np.uint8).view(f"S{PSEUDONYM_HEX}").reshape(-1)
    values = nn11_values if isinstance(nn11_values, list) else list(nn11_values)
    if len(values) < SMALL_BATCH:
        key = bytes(project_key)
        out = []
        for i, value in enumerate(values):
            digest = hmac.new(key, MESSAGE_PREFIX + _nn11_bytes(value, i), "sha256").digest()
            out.append(digest[:PSEUDONYM_BYTES].hex())
        return out
    try:  # one C++ pass; a non-str value is refused below, by position
        column = pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        for i, value in enumerate(values):
            _nn11_bytes(value, i)
        raise
    return pseudonymise_column(column, project_key).to_pylist()


def pseudonymise_column(values: Any, project_key: bytes, *, fast: bool | None = None) -> pa.Array:
    """The fast path: a column of `nn11` (Arrow, Polars, pandas, NumPy or a list) to an Arrow
    string array of pseudonyms. `fast=None` picks the compiled kernel for large columns."""
    hex_chars = _hex_rows(values, project_key, np.uint8, fast=fast)
    n = hex_chars.shape[0]
    large = PSEUDONYM_HEX * n >= 2**31
    offsets = np.arange(0, PSEUDONYM_HEX * (n + 1), PSEUDONYM_HEX,
                        dtype=np.int64 if large else np.int32)
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        n,
        [
            None,
            pa.py_buffer(offsets),
            pa.py_buffer(np.ascontiguousarray(hex_chars)),
        ],
    )


def _hex_rows(values: Any, project_key: bytes, out_dtype: type, *,
              fast: bool | None = None) -> np.ndarray:
    """`(n, 32)` hex characters of the pseudonyms (ASCII bytes, or code points for uint32);
    the kernel checks the digits in the same pass as it hashes them."""
    _check_key(project_key)
    digits = _digits_matrix(values)
    if fast is None:
        fast = digits.shape[0] >= SMALL_BATCH
    try:
        return hmac_sha256_rows(
            digits, bytes(project_key), prefix=MESSAGE_PREFIX, out_len=PSEUDONYM_BYTES,
            as_hex=True, use_numba=None if fast else False, digits_only=True,
            out_dtype=out_dtype,
        )
    except NotDigitsError as bad:
        raise PrimexError("not a normalised national number (11 ASCII digits)",
                          where=f"row {bad.row}",
                          hint="normalise with primex.linkage.niss first") from None


def _check_key(project_key: bytes) -> None:
    if not isinstance(project_key, bytes | bytearray) or len(project_key) != KEY_BYTES:
        raise PrimexError(
            f"a project key must be exactly {KEY_BYTES} bytes",
            where="linkage key",
            hint="derive it with derive_project_key(master_key, request_id)",
        )


def _nn11_bytes(value: object, position: int) -> bytes:
    if isinstance(value, str) and len(value) == 11 and value.isascii() and value.isdigit():
        return value.encode("ascii")
    raise PrimexError(
        "not a normalised national number (11 ASCII digits)",
        where=f"row {position}",
        hint="validate and normalise with primex.linkage.niss first",
    )


def _digits_matrix(values: Any) -> np.ndarray:
    """`(n, 11)` matrix of an all-11-character column, zero-copy where Arrow and NumPy allow:
    uint8 for bytes and Arrow text, uint32 code points for a NumPy `U11` array. Lengths are
    checked here; that every character is an ASCII digit, by the kernel as it reads them."""
    if isinstance(values, np.ndarray) and values.dtype == np.dtype("S11"):
        return np.ascontiguousarray(values).view(np.uint8).reshape(-1, 11)
    if isinstance(values, np.ndarray) and values.dtype == np.dtype("U11"):
        # shorter strings are NUL-padded: the kernel's digit check refuses them
        return np.ascontiguousarray(values).view(np.uint32).reshape(-1, 11)
    arr = _as_arrow_strings(values)
    n = len(arr)
    if arr.null_count:
        first = int(np.flatnonzero(np.asarray(arr.is_null()))[0])
        raise PrimexError("empty national number", where=f"row {first}",
                          hint="drop invalid rows before pseudonymising")
    if n == 0:
        return np.empty((0, 11), np.uint8)
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], offset_type)[arr.offset : arr.offset + n + 1]
    if offsets[-1] - offsets[0] != 11 * n or (np.diff(offsets) != 11).any():
        first = int(np.flatnonzero(np.diff(offsets) != 11)[0])
        raise PrimexError("not a normalised national number (11 ASCII digits)",
                          where=f"row {first}", hint="normalise with primex.linkage.niss first")
    data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0] : offsets[0] + 11 * n]
    return data.reshape(n, 11)


def _as_arrow_strings(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif not isinstance(values, pa.Array):
        module = type(values).__module__.split(".")[0]
        if module == "polars":
            values = values.to_arrow()
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
        elif module == "pandas":
            values = pa.array(values.to_numpy(dtype=object), pa.string(), from_pandas=True)
        elif isinstance(values, np.ndarray) and values.dtype.kind == "S":
            values = pa.array(values.astype(object), pa.binary()).cast(pa.string())
        else:
            values = pa.array(list(values) if not isinstance(values, list) else values,
                              pa.string())
    if pa.types.is_string_view(values.type) or pa.types.is_dictionary(values.type):
        values = values.cast(pa.large_string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise PrimexError(f"national numbers must be text, not {values.type}",
                          where="niss column", hint="store NISS as 11-character strings")
    return values
