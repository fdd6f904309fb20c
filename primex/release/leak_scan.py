"""The gate's last look at what leaves: no identifying column, no national number.

Belt and braces behind the protection step (CONTRACTS.md C2): the gate refuses a file that

* has a column named `spp_record_key`, `niss` or `nn11` (case and surrounding blanks
  ignored; Parquet and CSV), or
* holds a national-number-like value anywhere: 11 digits, with or without separators
  (`.`, `-`, `/`, space) between the groups YY MM DD SSS CC, that form a valid national or
  BIS number (mod-97 check digits under the 1900 or 2000 rule, a possible birth month, serial
  001-998: `primex.linkage.niss.is_valid`), in a cell of any type (text, integer, float,
  decimal, binary, nested: those three through the linkage guard's scanner
  `primex.linkage.niss_scan`), a column name or the Parquet metadata. Digits right after a
  decimal point (`1059.10583347722`) are a fraction, not a number of their own;
* has a column of integers (or integral floats, or all-digit cells) of 8 to 10 digits of
  which at least half are valid numbers once zero-padded to 11 digits: national numbers of
  people born in 2000-2009 whose leading zero was lost. (Judged per column: a random 8-10
  digit integer is valid about once in a hundred, so one hit among large totals is chance,
  while a column of such numbers is all hits.)

An 11-digit value is judged on its own: a random one is valid about once in a few hundred,
so a false refusal is possible on data holding 11-digit numbers; the refusal names the file,
the column and the row (never the value) so the protection step can be fixed.

Every file is read once into memory and hashed while scanned: what is scanned is checked
against the signed manifest, so a file swapped between the scan and the packaging is caught
by one of the two hashes.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from primex.exchange.manifest import FileEntry
from primex.linkage import niss_scan
from primex.linkage.niss import is_valid

FORBIDDEN_COLUMNS = frozenset({"spp_record_key", "niss", "nn11"})
_SEP = r"[.\- /]?"
# Python's re: the number must not touch other letters or digits (so hex digests and longer
# digit runs are not read as numbers).
_NISS_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])(?<!\d\.)"
    rf"\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{2}}(?![0-9A-Za-z])"
)
# RE2 (pyarrow) has no look-around: this only selects candidate cells for the pattern above.
_CANDIDATE = r"\d\d[.\- /]?\d\d[.\- /]?\d\d[.\- /]?\d\d\d[.\- /]?\d\d"
_LOW, _LONG, _HIGH = 10**7, 10**10, 10**11


@dataclass(frozen=True)
class Finding:
    """Where identifying content was found (never the content itself)."""

    file: str
    reason: str  # "identifying_column" or "niss_found"
    where: str  # column and row, or line

    def describe(self) -> str:
        if self.reason == "identifying_column":
            return f"{self.file} has the identifying column {self.where}"
        return f"{self.file} holds a national-number-like value (valid mod 97) at {self.where}"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def text_has_niss(text: str) -> bool:
    return any(is_valid(_digits(m.group())) for m in _NISS_TEXT.finditer(text))


def _mostly_valid(rows: list[int], valid: list[int]) -> int | None:
    """The first valid row when at least half of the short numbers are valid, else None."""
    return valid[0] if valid and 2 * len(valid) >= len(rows) else None


def _ints_have_niss(values: np.ndarray) -> int | None:
    """Row of an 11-digit integer that is a valid number, or of the first valid one in a
    column of mostly valid 8-10 digit integers (see the module docstring), else None. Only
    values in range are tested: the vectorised mod-97 test selects the few candidates the
    full validation then decides."""
    v = values.astype(np.int64, copy=False)
    rows = np.flatnonzero((v >= _LOW) & (v < _HIGH))
    w = v[rows]
    body, check = w // 100, w % 100
    mod97 = (97 - body % 97 == check) | (97 - (2_000_000_000 + body) % 97 == check)
    long = w >= _LONG
    for i in rows[mod97 & long].tolist():
        if is_valid(int(v[i])):
            return int(i)
    valid = [int(i) for i in rows[mod97 & ~long].tolist() if is_valid(int(v[i]))]
    return _mostly_valid(rows[~long].tolist(), valid)


def _strings_have_niss(values: pa.Array) -> int | None:
    """Row of the first string cell holding a NISS-like value, else None."""
    rows = np.flatnonzero(
        pc.fill_null(pc.match_substring_regex(values, _CANDIDATE), False)
        .to_numpy(zero_copy_only=False)
    )
    for i in rows.tolist():
        if text_has_niss(values[i].as_py()):
            return i
    short = np.flatnonzero(
        pc.fill_null(pc.match_substring_regex(values, r"^\s*\d{8,10}\s*$"), False)
        .to_numpy(zero_copy_only=False)
    ).tolist()
    valid = [i for i in short if is_valid(values[i].as_py().strip().zfill(11))]
    return _mostly_valid(short, valid)


def _may_hold_numbers(array: pa.Array) -> bool:
    """Whether any value of a numeric column can be in [1e7, 1e11) (one min/max pass)."""
    bounds = pc.min_max(pc.abs(array) if pa.types.is_floating(array.type) else array)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low is not None and high is not None and high >= _LOW and low < _HIGH


def _column_hit(column: pa.ChunkedArray | pa.Array) -> int | None:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    t = array.type
    if pa.types.is_dictionary(t):
        return _column_hit(array.dictionary_decode())
    if (pa.types.is_integer(t) or pa.types.is_floating(t)) and not _may_hold_numbers(array):
        return None
    if pa.types.is_integer(t):
        return _ints_have_niss(pc.fill_null(array, 0).to_numpy(zero_copy_only=False))
    if pa.types.is_floating(t):
        floats = pc.fill_null(array, 0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        integral = np.isfinite(floats) & (floats == np.floor(floats)) & (np.abs(floats) < _HIGH)
        return _ints_have_niss(np.where(integral, np.abs(floats), 0).astype(np.int64))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _strings_have_niss(array.cast(pa.string()))
    return None


def _other_types(col_name: str, array: pa.Array) -> str | None:
    """Binary, decimal, nested and any other type: the linkage guard's scanner
    (`primex.linkage.niss_scan`, one definition of a NISS in bytes and nested values), which
    also refuses a type it cannot scan."""
    findings = niss_scan.scan_array(array, col_name)
    if not findings:
        return None
    first = findings[0]
    return f"column {first.column!r} ({first.cells} value(s), {first.kind})"


def _column_finding(col_name: str, column: pa.ChunkedArray) -> str | None:
    array = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    t = array.type
    if pa.types.is_dictionary(t):
        array, t = array.dictionary_decode(), t.value_type
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t)
    text = pa.types.is_string(t) or pa.types.is_large_string(t)
    if pa.types.is_boolean(t) or pa.types.is_temporal(t) or pa.types.is_null(t):
        return None
    if not (numeric or text):
        return _other_types(col_name, array)
    row = _column_hit(array)
    return None if row is None else f"column {col_name!r}, row {row + 1}"


def _scan_table(name: str, table: pa.Table) -> Iterator[Finding]:
    for col_name in table.column_names:
        if col_name.strip().lower() in FORBIDDEN_COLUMNS:
            yield Finding(name, "identifying_column", repr(col_name))
        if text_has_niss(col_name):
            yield Finding(name, "niss_found", "a column name")
    for col_name in table.column_names:
        where = _column_finding(col_name, table.column(col_name))
        if where is not None:
            yield Finding(name, "niss_found", where)


def _scan_text(name: str, data: bytes) -> Iterator[Finding]:
    text = data.decode("utf-8", errors="replace")
    for m in _NISS_TEXT.finditer(text):  # one pass over the whole text; lines only on a hit
        if is_valid(_digits(m.group())):
            yield Finding(name, "niss_found", f"line {text.count(chr(10), 0, m.start()) + 1}")
            return


def scan_bytes(name: str, data: bytes) -> list[Finding]:
    """Every finding in one file (by its name: Parquet, CSV, anything else as text)."""
    lower = name.lower()
    if lower.endswith(".parquet"):
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError):
            return [Finding(name, "niss_found", "an unreadable Parquet file (cannot be scanned)")]
        meta = table.schema.metadata or {}
        found = list(_scan_table(name, table))
        if any(text_has_niss(k.decode("latin-1") + " " + v.decode("latin-1"))
               for k, v in meta.items()):
            found.append(Finding(name, "niss_found", "the Parquet metadata"))
        return found
    if lower.endswith((".csv", ".tsv")):
        # every cell and the header are scanned as a table (RE2 over whole columns: fast);
        # a file that does not parse cannot be scanned, so it does not leave
        delimiter = "\t" if lower.endswith(".tsv") else ","
        try:
            table = pacsv.read_csv(
                io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter=delimiter)
            )
        except (pa.ArrowException, OSError):
            return [Finding(name, "niss_found", "an unreadable CSV file (cannot be scanned)")]
        return list(_scan_table(name, table))
    return list(_scan_text(name, data))


def scan_file(folder: Path, entry: FileEntry) -> tuple[list[Finding], bool]:
    """Scan `folder/entry.name`; the bool says whether the bytes scanned are the signed ones."""
    data = (folder / entry.name).read_bytes()
    same = (len(data), hashlib.sha256(data).hexdigest()) == (entry.bytes, entry.sha256)
    return scan_bytes(entry.name, data), same
