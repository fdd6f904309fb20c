"""The guard "no NISS left": find national numbers in any column of an Arrow table.

The coding step runs it on `coded.parquet` before writing it (and any later step may run it
on its own outputs). Every column of every type is scanned, nested ones included:

* text (string, large/view strings, dictionary values) and binary (read as bytes): a
  national number may be written with single separators between its digits, as in
  `69.10.09-125.57`, `691009 125 57` or `691009-12557`. A text is cut into *runs* of digits
  joined by single separators (` ./-`); in every run, each sequence of whole digit groups
  that holds exactly 11 digits is a candidate (so `1 69.10.09-125.57` and
  `69100912557 2024` are found; a longer number is not cut inside a group);
* numbers (integers, floats, decimals) and the integers behind dates and times: a value
  that is a whole number in 0 … 10^11 − 1, written with its leading zeros back
  (`f"{v:011d}"`): a NISS column read as numbers lost them;
* lists, structs and maps: their values, recursively; a column name is text too.

A candidate counts when `primex.linkage.niss.check_column` accepts it (mod 97 under the 1900
and the 2000 rule, birth month of a national or BIS number, serial 001–998). Numbers must
also have a birth month (1–12, BIS +20 / +40): otherwise every count or amount from 100 000
to 199 899 would pass as a number with an unknown birth date; no value below 10^7 can match.

Everything is vectorised (Arrow compute and numpy); only the findings' counts leave this
module, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from primex.linkage import niss

NISS_DIGITS = 11
# >= 11 digits joined by single separators: cells without such a run cannot hold a NISS
_RUN = r"[0-9](?:[ ./\-]?[0-9]){10}"
# what ends a run: anything but a digit or a separator, or two separators in a row
_BREAK = r"[^0-9 ./\-]+|[ ./\-]{2,}"
_SEPARATOR = r"[ ./\-]"
_MAX_NUMBER = 10**NISS_DIGITS


@dataclass(frozen=True)
class NissFinding:
    """`cells` values of `column` (a dotted path for nested fields) hold a NISS."""

    column: str
    cells: int
    kind: str  # text, bytes, number, column name, or "unscannable type <T>"


def scan_table(table: pa.Table, *, skip: frozenset[str] = frozenset()) -> list[NissFinding]:
    """Every column of `table` (but the top-level names in `skip`) and every column name."""
    found: list[NissFinding] = []
    names = pa.array(table.column_names, pa.large_string())
    named = _text_hits(names)
    for i in np.flatnonzero(named):
        found.append(NissFinding(f"#{i}", 1, "column name"))  # the name itself is the leak
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in skip:
            continue
        found += scan_array(column, name)
    return found


def scan_array(values: pa.Array | pa.ChunkedArray, path: str) -> list[NissFinding]:
    """Findings in one column (recursing into nested types)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    t = values.type
    if len(values) == 0 or pa.types.is_null(t) or pa.types.is_boolean(t):
        return []
    if isinstance(t, pa.ExtensionType):
        return scan_array(values.storage, path)
    if pa.types.is_dictionary(t):
        return scan_array(values.dictionary, path)
    if pa.types.is_run_end_encoded(t):
        return scan_array(values.values, path)
    if pa.types.is_struct(t):
        out: list[NissFinding] = []
        for i in range(t.num_fields):
            out += scan_array(values.field(i), f"{path}.{t.field(i).name}")
        return out
    if pa.types.is_map(t):
        return scan_array(values.keys, f"{path}{{key}}") + scan_array(
            values.items, f"{path}{{value}}"
        )
    if _is_list(t):
        return scan_array(values.flatten(), f"{path}[]")
    if _is_text(t):
        return _finding(path, int(_text_hits(values.cast(pa.large_string())).sum()), "text")
    if _is_bytes(t):
        return _finding(path, int(_text_hits(values.cast(pa.large_binary())).sum()), "bytes")
    numbers = _as_int64(values)
    if numbers is not None:
        return _finding(path, _number_hits(numbers), "number")
    return [NissFinding(path, len(values), f"unscannable type {t}")]


def _finding(path: str, cells: int, kind: str) -> list[NissFinding]:
    return [NissFinding(path, cells, kind)] if cells else []


def _is_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
            or pa.types.is_list_view(t) or pa.types.is_large_list_view(t))


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    return (pa.types.is_binary(t) or pa.types.is_large_binary(t)
            or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t))


# --- text ----------------------------------------------------------------------------------
def _text_hits(values: pa.Array) -> np.ndarray:
    """Per value: does it hold a NISS (see the module docstring)? `values` is large_string or
    large_binary."""
    hits = np.zeros(len(values), dtype=bool)
    if len(values) == 0 or values.null_count == len(values):
        return hits
    longest = pc.max(pc.binary_length(values)).as_py()
    if longest is None or longest < NISS_DIGITS:
        return hits
    has_run = pc.fill_null(pc.match_substring_regex(values, _RUN), False)
    rows = np.flatnonzero(has_run.to_numpy(zero_copy_only=False))
    if len(rows) == 0:
        return hits
    runs = pc.split_pattern(pc.replace_substring_regex(values.take(rows), _BREAK, "|"), "|")
    tokens, owner = pc.list_flatten(runs), pc.list_parent_indices(runs).to_numpy()
    digits = pc.replace_substring_regex(tokens, r"[^0-9]", "")
    long_enough = pc.greater_equal(pc.binary_length(digits), NISS_DIGITS)
    keep = np.flatnonzero(long_enough.to_numpy(zero_copy_only=False))
    if len(keep) == 0:
        return hits
    tokens, owner = tokens.take(keep), owner[keep]
    digits = digits.take(keep)
    windows, token_of = _group_windows(tokens, digits)
    if len(windows):
        valid = _valid(windows)
        hits[rows[owner[token_of[valid]]]] = True
    return hits


def _group_windows(tokens: pa.Array, digits: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The 11-digit candidates of each run: sequences of whole digit groups (split at the
    single separators) holding exactly 11 digits. Returns (candidates as an (n, 11) uint8
    matrix of ASCII digits, the index of the run of each)."""
    groups = pc.split_pattern_regex(tokens, _SEPARATOR)
    length = pc.binary_length(pc.list_flatten(groups)).to_numpy().astype(np.int64)
    run_of_group = pc.list_parent_indices(groups).to_numpy()
    cum = np.concatenate([[0], np.cumsum(length)])  # digit offset of each group's start
    run_end = np.cumsum(pc.binary_length(digits).to_numpy().astype(np.int64))
    start = cum[:-1]
    target = start + NISS_DIGITS
    end = np.minimum(np.searchsorted(cum, target), len(cum) - 1)
    # the window ends exactly at a group's end, inside the same run
    ok = (length > 0) & (cum[end] == target) & (target <= run_end[run_of_group])
    starts = start[ok]
    data = _data_bytes(digits)
    matrix = data[starts[:, None] + np.arange(NISS_DIGITS)]
    return matrix, run_of_group[ok]


def _data_bytes(values: pa.Array) -> np.ndarray:
    """The concatenated bytes of a large_string / large_binary array, in row order."""
    offsets = np.frombuffer(values.buffers()[1], np.int64)[
        values.offset: values.offset + len(values) + 1
    ]
    data = values.buffers()[2]
    if data is None:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(data, np.uint8)[offsets[0]: offsets[-1]]


def _valid(matrix: np.ndarray) -> np.ndarray:
    """check_column on rows of 11 ASCII digits: True where a valid national or BIS number."""
    n = matrix.shape[0]
    offsets = np.arange(0, NISS_DIGITS * (n + 1), NISS_DIGITS, dtype=np.int32)
    column = pa.Array.from_buffers(
        pa.string(), n,
        [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(matrix, np.uint8))],
    )
    _nn11, codes = niss.check_column(column)
    return codes == 0


# --- numbers -------------------------------------------------------------------------------
def _as_int64(values: pa.Array) -> np.ndarray | None:
    """Whole values in 0 … 10^11 − 1 as int64 (nulls, fractions, negatives dropped); None
    for a type that holds no numbers."""
    t = values.type
    if pa.types.is_temporal(t) and not pa.types.is_interval(t):
        width = pa.int32() if t.bit_width == 32 else pa.int64()
        values = values.view(width)
    elif pa.types.is_decimal(t) or pa.types.is_floating(t):
        values = pc.cast(values, pa.float64(), safe=False)
    elif not pa.types.is_integer(t):
        return None
    array = values.drop_null().to_numpy(zero_copy_only=False)
    if array.dtype.kind == "f":
        array = array[np.isfinite(array) & (array == np.floor(array))]
    in_range = (array >= 0) & (array < _MAX_NUMBER)
    return array[in_range].astype(np.int64)


def _number_hits(values: np.ndarray) -> int:
    # digits 3-4 of the 11 are the birth month: test it first, on one division per value
    month = (values // 10**7) % 100 % 20
    values = values[(month >= 1) & (month <= 12)]
    if len(values) == 0:
        return 0
    powers = 10 ** np.arange(NISS_DIGITS - 1, -1, -1, dtype=np.int64)
    matrix = ((values[:, None] // powers) % 10 + ord("0")).astype(np.uint8)
    return int(_valid(matrix).sum())
