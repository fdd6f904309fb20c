"""Helpers of the protection-step tests: coded extracts carrying the SPP record key
(CONTRACTS C2: `spp_record_key`, fixed_size_binary(16)), built here from a test secret the
way `primex.extract.record_key` derives it, and pseudonyms keyed per project as the BCSS
derives them (two projects never share one)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

RECORD_SECRET = b"test SPP record key secret, 32b!"


def spp_record_key(person_id: int) -> bytes:
    """HMAC-SHA-256(record key, b"primex-record-v1\\0" + person id)[:16] (CONTRACTS C2)."""
    msg = b"primex-record-v1\0" + str(person_id).encode()
    return hmac.new(RECORD_SECRET, msg, hashlib.sha256).digest()[:16]


def project_pseudonym(project: str, person_id: int) -> str:
    """A per-project pseudonym: the same person differs between two projects."""
    key = hashlib.sha256(b"project key " + project.encode()).digest()
    return hmac.new(key, str(person_id).encode(), hashlib.sha256).hexdigest()[:32]


def write_coded(df: pd.DataFrame, path: Path) -> Path:
    """Write a coded extract with `spp_record_key` as fixed_size_binary(16), like the BCSS."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    if "spp_record_key" in table.column_names:
        i = table.column_names.index("spp_record_key")
        table = table.set_column(i, "spp_record_key",
                                 table.column(i).cast(pa.binary(16)))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
