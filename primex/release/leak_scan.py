"""The gate's last look at what leaves: no identifying column, no national number.

Belt and braces behind the protection step (CONTRACTS.md C2): the gate refuses a file that

* has a column named `spp_record_key`, `niss` or `nn11` (case and surrounding blanks
  ignored; Parquet and CSV), or
* holds a national-number-like value anywhere: 11 digits, with or without single separators
  (`.`, `-`, `/`, space) between digit groups, that form a valid national or BIS number
  (mod-97 check digits under the 1900 or 2000 rule, a possible birth month, serial 001-998),
  in a cell of any type (text, integer, float, decimal, binary, nested), a column name, a
  line of any other file or the Parquet metadata. Digits right after a decimal point
  (`1059.10583347722`) are a fraction, and digits glued to letters (a hex digest) a word,
  not a number of their own;
* has a column of integers (or integral floats, or all-digit cells) of 8 to 10 digits of
  which at least half are valid numbers once zero-padded to 11 digits: national numbers of
  people born in 2000-2009 whose leading zero was lost. (Judged per column: a random 8-10
  digit integer is valid about once in a hundred, so one hit among large totals is chance,
  while a column of such numbers is all hits.)

What a national number is, is decided by ONE scanner, the linkage guard's
(`primex.linkage.niss_scan`, read with its `GATE` rules); this module decides which files
and columns are read and how a refusal is worded.

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from primex.exchange.manifest import FileEntry
from primex.linkage import niss_scan

FORBIDDEN_COLUMNS = frozenset({"spp_record_key", "niss", "nn11"})
# The kinds of value a refusal names by row (text and numbers); inside bytes and nested
# values it names the column and the number of values.
_BY_ROW = {"text", "number"}


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


def text_has_niss(text: str) -> bool:
    return bool(niss_scan.text_hits([text], niss_scan.GATE)[0])


def _column_finding(col_name: str, column: pa.ChunkedArray) -> str | None:
    t = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_temporal(t):  # dates and times of the tables: not numbers here
        return None
    findings = niss_scan.scan_array(column, col_name, niss_scan.GATE)
    if not findings:
        return None
    first = findings[0]
    if first.kind in _BY_ROW and first.first_row is not None:
        return f"column {col_name!r}, row {first.first_row + 1}"
    return f"column {first.column!r} ({first.cells} value(s), {first.kind})"


def _scan_table(name: str, table: pa.Table) -> Iterator[Finding]:
    for col_name in table.column_names:
        if col_name.strip().lower() in FORBIDDEN_COLUMNS:
            yield Finding(name, "identifying_column", repr(col_name))
    if niss_scan.text_hits(table.column_names, niss_scan.GATE).any():
        yield Finding(name, "niss_found", "a column name")
    for col_name in table.column_names:
        where = _column_finding(col_name, table.column(col_name))
        if where is not None:
            yield Finding(name, "niss_found", where)


def _scan_text(name: str, data: bytes) -> Iterator[Finding]:
    lines = data.decode("utf-8", errors="replace").split("\n")
    hits = np.flatnonzero(niss_scan.text_hits(lines, niss_scan.GATE))
    if len(hits):
        yield Finding(name, "niss_found", f"line {int(hits[0]) + 1}")


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
