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

Two readings differ on purpose, and `ScanRules` names them: the BCSS guard on coded.parquet
(`GUARD`) and the SPP release gate on what leaves (`GATE`, primex.release.leak_scan):

* `words`: in text, digits glued to letters are part of a word (an identifier, a hex digest
  in a report) and not a national number (the gate: a package's reports hold digests); the
  guard reads every letter as a break;
* `short_numbers`: whole numbers of 8-10 digits (a national number that lost its leading
  zero) count one by one (`each`, the guard), or only in a column where at least half of
  them are valid (`most`, the gate: a column of totals in euros is valid about once in a
  hundred by chance, a column of such numbers is all hits); under `most` cells of 8-10
  digits only are read the same way. Numbers of 11 digits count one by one in both.

In both, digits right after a decimal point (`1059.10583347722`) are a fraction, not a
number of their own, and a negative number is read without its sign.

Everything is vectorised (Arrow compute and numpy); only the findings' counts and the first
row leave this module, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
# in text read with `words`: an alphanumeric word holding a letter (its digits are no number)
_WORD = r"[0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*"
_MAX_NUMBER = 10**NISS_DIGITS
_SHORT = 10**7  # 8-10 digits: below 10^7 nothing can match (no birth month)
_LONG = 10**10  # 11 digits


@dataclass(frozen=True)
class ScanRules:
    """How a value is read (see the module docstring): the guard's and the gate's."""

    words: bool
    short_numbers: Literal["each", "most"]


GUARD = ScanRules(words=False, short_numbers="each")  # BCSS: coded.parquet
GATE = ScanRules(words=True, short_numbers="most")  # SPP: what leaves in a package


@dataclass(frozen=True)
class NissFinding:
    """`cells` values of `column` (a dotted path for nested fields) hold a NISS; `first_row`
    (0-based) of a top-level column, None inside nested values."""

    column: str
    cells: int
    kind: str  # text, bytes, number, column name, or "unscannable type <T>"
    first_row: int | None = None


def scan_table(table: pa.Table, *, skip: frozenset[str] = frozenset(),
               rules: ScanRules = GUARD) -> list[NissFinding]:
    """Every column of `table` (but the top-level names in `skip`) and every column name."""
    found: list[NissFinding] = []
    for i in np.flatnonzero(text_hits(table.column_names, rules)):
        found.append(NissFinding(f"#{i}", 1, "column name"))  # the name itself is the leak
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in skip:
            continue
        found += scan_array(column, name, rules)
    return found


def text_hits(texts: list[str], rules: ScanRules) -> np.ndarray:
    """Per text (a column name, a line of a file): does it hold a NISS?"""
    return _text_hits(pa.array(texts, pa.large_string()), rules.words)


def scan_array(values: pa.Array | pa.ChunkedArray, path: str,
               rules: ScanRules = GUARD) -> list[NissFinding]:
    """Findings in one column (recursing into nested types)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    t = values.type
    if len(values) == 0 or pa.types.is_null(t) or pa.types.is_boolean(t):
        return []
    if isinstance(t, pa.ExtensionType):
        return scan_array(values.storage, path, rules)
    if pa.types.is_dictionary(t):
        return scan_array(values.dictionary_decode(), path, rules)  # rows kept
    if pa.types.is_run_end_encoded(t):
        return _nested(scan_array(values.values, path, rules))
    if pa.types.is_struct(t):
        out: list[NissFinding] = []
        for i in range(t.num_fields):
            out += _nested(scan_array(values.field(i), f"{path}.{t.field(i).name}", rules))
        return out
    if pa.types.is_map(t):
        return _nested(scan_array(values.keys, f"{path}{{key}}", rules) + scan_array(
            values.items, f"{path}{{value}}", rules))
    if _is_list(t):
        return _nested(scan_array(values.flatten(), f"{path}[]", rules))
    if _is_text(t):
        text = values.cast(pa.large_string())
        hits = _text_hits(text, rules.words)
        if rules.short_numbers == "most":
            hits |= _short_text_hits(text)
        return _finding(path, hits, "text")
    if _is_bytes(t):
        return _finding(path, _text_hits(values.cast(pa.large_binary()), False), "bytes")
    numbers = _as_int64(values)
    if numbers is not None:
        return _finding(path, _number_hits(numbers, rules), "number")
    return [NissFinding(path, len(values), f"unscannable type {t}")]


def _finding(path: str, hits: np.ndarray, kind: str) -> list[NissFinding]:
    rows = np.flatnonzero(hits)
    return [NissFinding(path, len(rows), kind, int(rows[0]))] if len(rows) else []


def _nested(found: list[NissFinding]) -> list[NissFinding]:
    """Rows inside nested values are not rows of the column."""
    return [NissFinding(f.column, f.cells, f.kind) for f in found]


def _is_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
            or pa.types.is_list_view(t) or pa.types.is_large_list_view(t))


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    return (pa.types.is_binary(t) or pa.types.is_large_binary(t)
            or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t))


# --- text ----------------------------------------------------------------------------------
def _text_hits(values: pa.Array, words: bool) -> np.ndarray:
    """Per value: does it hold a NISS (see the module docstring)? `values` is large_string or
    large_binary; with `words`, digits glued to letters do not count."""
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
    candidates = values.take(rows)
    if words:
        candidates = pc.replace_substring_regex(candidates, _WORD, "|")
    runs = pc.split_pattern(pc.replace_substring_regex(candidates, _BREAK, "|"), "|")
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
    # the window ends exactly at a group's end, inside the same run, and does not start
    # right after "<digit>." (a decimal fraction)
    ok = (length > 0) & (cum[end] == target) & (target <= run_end[run_of_group])
    ok &= ~_after_decimal_point(tokens, groups, length, run_of_group)
    starts = start[ok]
    data = _data_bytes(digits)
    matrix = data[starts[:, None] + np.arange(NISS_DIGITS)]
    return matrix, run_of_group[ok]


def _after_decimal_point(tokens: pa.Array, groups: pa.Array, length: np.ndarray,
                         run_of_group: np.ndarray) -> np.ndarray:
    """Per digit group: does it follow "<digit>." inside its run? (The separators are single
    characters, so a group starts at its digit offset plus its index within the run.)"""
    per_run = pc.list_value_length(groups).to_numpy().astype(np.int64)
    first_group = np.concatenate([[0], np.cumsum(per_run)])[:-1]  # each run's group 0
    index = np.arange(len(length)) - first_group[run_of_group]
    offset = np.concatenate([[0], np.cumsum(length)])[:-1]
    within = offset - offset[first_group[run_of_group]]  # digits before it in its run
    tokens_at = np.frombuffer(tokens.buffers()[1], np.int64)[
        tokens.offset: tokens.offset + len(tokens) + 1]
    data = _data_bytes(tokens)
    at = tokens_at[run_of_group] - tokens_at[0] + within + index  # the group's first byte
    follows = index > 0
    previous = np.zeros(len(length), dtype=np.uint8)
    previous[follows] = data[at[follows] - 1]
    before_has_digits = np.zeros(len(length), dtype=bool)
    before_has_digits[follows] = length[np.flatnonzero(follows) - 1] > 0
    return follows & (previous == ord(".")) & before_has_digits


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
    """Per row, the absolute value when it is whole and below 10^11 as int64, else -1 (nulls,
    fractions, larger values); None for a type that holds no numbers."""
    t = values.type
    if pa.types.is_temporal(t) and not pa.types.is_interval(t):
        width = pa.int32() if t.bit_width == 32 else pa.int64()
        values = values.view(width)
    elif pa.types.is_decimal(t) or pa.types.is_floating(t):
        values = pc.cast(values, pa.float64(), safe=False)
    elif not pa.types.is_integer(t):
        return None
    null = pc.is_null(values).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(values.type):
        floats = pc.fill_null(values, 0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        whole = np.isfinite(floats) & (floats == np.floor(floats))
        floats = np.where(whole, np.minimum(np.abs(floats), _MAX_NUMBER), _MAX_NUMBER)
        array = floats.astype(np.int64)
    elif pa.types.is_unsigned_integer(values.type):
        raw = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
        array = np.minimum(raw, _MAX_NUMBER).astype(np.int64)
    else:
        raw = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        array = np.abs(raw)  # the smallest int64 stays negative: out of range below
    out = np.where(null | (array < 0) | (array >= _MAX_NUMBER), -1, array)
    return out.astype(np.int64)


def _number_hits(values: np.ndarray, rules: ScanRules) -> np.ndarray:
    """Per row: is the number a NISS? (-1 = not a candidate.) Under `most` the 8-10 digit
    ones count only where at least half of those of the column are valid."""
    hits = np.zeros(len(values), dtype=bool)
    # digits 3-4 of the 11 are the birth month: test it first, on one division per value
    month = (values // 10**7) % 100 % 20
    rows = np.flatnonzero((values >= 0) & (month >= 1) & (month <= 12))
    if len(rows):
        powers = 10 ** np.arange(NISS_DIGITS - 1, -1, -1, dtype=np.int64)
        matrix = ((values[rows, None] // powers) % 10 + ord("0")).astype(np.uint8)
        hits[rows] = _valid(matrix)
    if rules.short_numbers == "most":
        short = (values >= _SHORT) & (values < _LONG)
        hits[short] &= 2 * int(hits[short].sum()) >= int(short.sum())
    return hits


def _short_text_hits(values: pa.Array) -> np.ndarray:
    """Cells of 8-10 digits only (blanks around): numbers stored as text, read as numbers."""
    short = pc.fill_null(pc.match_substring_regex(values, r"^\s*[0-9]{8,10}\s*$"), False)
    rows = np.flatnonzero(short.to_numpy(zero_copy_only=False))
    numbers = np.full(len(values), -1, dtype=np.int64)
    if len(rows):
        texts = pc.utf8_trim_whitespace(values.take(rows))
        numbers[rows] = pc.cast(texts, pa.int64()).to_numpy(zero_copy_only=False)
    hits = _number_hits(numbers, GATE)
    return hits & (numbers >= 0)
