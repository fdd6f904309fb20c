"""The private release ledger: a defence against differencing across releases.

Stored at `Home.ledger_db` (SPP side, never released). For every released table it records
the cell definitions that were published (dimensions, population filter, the codes of each
published cell) and, exactly, who contributed to each of them: one row per contributing
person — keyed by the SPP record key (CONTRACTS C2), which is the same for a person in every
request, unlike pseudonyms, which are keyed per project and never match across requests —
with the finest cell that person fell in, plus the table's hierarchies, so the
members of any published total are recomputed by rolling finest cells up. Nothing is
approximated: a sketch would miss a difference of one person, which is the attack.

Before a new table is released, `check()` compares each of its published cells N with every
published cell O of every earlier release on the same data (`data_id`): when one member set
contains the other (same cell on nested populations, or a table whose population differs by a
few people) and the difference holds between 1 and threshold-1 people, subtracting the two
published numbers would isolate those people: N is flagged and must be suppressed
(`protect_table(..., force_suppress=flags)`) or the request changed. Differences that are
not nested (N and O each have people the other lacks) are not flagged: the attacker learns a
difference of two unknown groups, not a group.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from primex.errors import PrimexError
from primex.sdc.tables.build import TOTAL, DimensionHierarchy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    release_id VARCHAR PRIMARY KEY, data_id VARCHAR NOT NULL, population VARCHAR,
    dimensions VARCHAR NOT NULL, hierarchies VARCHAR NOT NULL, recorded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS members (
    release_id VARCHAR NOT NULL, member VARCHAR NOT NULL, leaf VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    release_id VARCHAR NOT NULL, cell VARCHAR NOT NULL
);
"""


class ReleaseLedger:
    """Open (or create) the ledger database at `path` (usually `Home.ledger_db`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as e:
            raise PrimexError(f"cannot open the release ledger ({e})", where=str(self.path),
                              hint="is another primex process holding it?") from e
        self._con.execute(_SCHEMA)
        columns = {r[0] for r in self._con.execute("DESCRIBE members").fetchall()}
        if "member" not in columns:
            self._con.close()
            raise PrimexError(
                "the release ledger predates the SPP record key: its members are per-project "
                "pseudonyms, which never match another request's", where=str(self.path),
                hint="move it aside (its releases can no longer be compared) and protect again")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ReleaseLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------
    def record(self, release_id: str, data_id: str, pt: Any, members: pd.Series,
               population: str = "") -> int:
        """Record a released table. `members` (the SPP record key of each person) is aligned
        with the microdata rows the table was built from. Returns the number of published
        cells recorded."""
        if not pt.passed:
            raise PrimexError("a table that failed its audit cannot be recorded as released",
                              where=f"release {release_id}")
        if self._con.execute("SELECT 1 FROM releases WHERE release_id = ?",
                             [release_id]).fetchone():
            raise PrimexError(f"release {release_id!r} is already in the ledger",
                              where="ledger", hint="release ids are unique")
        dims, leaf_codes, hier = self._leaf_codes(pt, members)
        published = pt.cells[~pt.cells["status"].isin(["u", "x"])]
        cell_keys = published[dims].astype(str).agg("\x1f".join, axis=1)
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.execute(
                "INSERT INTO releases VALUES (?, ?, ?, ?, ?, now())",
                [release_id, data_id, population, json.dumps(dims), json.dumps(hier)])
            mem = pd.DataFrame({"release_id": release_id,
                                "member": members.astype(str).to_numpy(),
                                "leaf": leaf_codes})
            self._con.register("mem_df", mem)
            self._con.execute("INSERT INTO members SELECT * FROM mem_df")
            self._con.unregister("mem_df")
            cdf = pd.DataFrame({"release_id": release_id, "cell": cell_keys.to_numpy()})
            self._con.register("cell_df", cdf)
            self._con.execute("INSERT INTO cells SELECT * FROM cell_df")
            self._con.unregister("cell_df")
            self._con.execute("COMMIT")
        except Exception:
            self._con.execute("ROLLBACK")
            raise
        return len(cdf)

    # -- checking ------------------------------------------------------------------------
    def check(self, data_id: str, pt: Any, members: pd.Series,
              threshold: int) -> pd.DataFrame:
        """Published cells of `pt` that difference against an earlier release isolates
        1..threshold-1 people. Columns: the table's dimensions, `release_id` (the earlier
        release), `earlier_cell`, `isolated` (how many people the difference isolates)."""
        dims, leaf_codes, hier = self._leaf_codes(pt, members)
        pub = pt.cells[~pt.cells["status"].isin(["u", "x"])].reset_index(drop=True)
        hierarchies = {d: _hier_from_json(d, hier[d]) for d in dims}
        new_m, people = _membership(pub[dims].astype(str), dims, hierarchies,
                                    members.astype(str).to_numpy(), leaf_codes, None)
        flags = []
        for rid, odims, ohier in self._con.execute(
                "SELECT release_id, dimensions, hierarchies FROM releases WHERE data_id = ? "
                "ORDER BY release_id", [data_id]).fetchall():
            odims = json.loads(odims)
            oh = {d: _hier_from_json(d, h) for d, h in json.loads(ohier).items()}
            mem = self._con.execute("SELECT member, leaf FROM members WHERE release_id = ?",
                                    [rid]).df()
            cells = self._con.execute("SELECT cell FROM cells WHERE release_id = ?",
                                      [rid]).df()["cell"]
            ocells = pd.DataFrame(cells.str.split("\x1f").tolist(), columns=odims)
            old_m, people = _membership(ocells, odims, oh, mem["member"].to_numpy(),
                                        mem["leaf"].to_numpy(), people)
            # Align person indices (the old release may know people the new one lacks).
            n = len(people)
            new_a = _pad(new_m, n)
            old_a = _pad(old_m, n)
            inter = (new_a.T @ old_a).tocoo()
            n_new = np.asarray(new_a.sum(axis=0)).ravel()
            n_old = np.asarray(old_a.sum(axis=0)).ravel()
            i, j, k = inter.row, inter.col, inter.data
            a, b = n_new[i], n_old[j]
            nested = (k == a) | (k == b)
            diff = np.abs(a - b)
            hit = nested & (diff >= 1) & (diff < threshold)
            for ii, jj, dd in zip(i[hit], j[hit], diff[hit], strict=True):
                row = {d: pub.at[int(ii), d] for d in dims}
                row.update({"release_id": rid,
                            "earlier_cell": " × ".join(ocells.iloc[int(jj)].tolist()),
                            "isolated": int(dd)})
                flags.append(row)
        out = pd.DataFrame(flags, columns=[*dims, "release_id", "earlier_cell", "isolated"])
        return out.drop_duplicates(subset=dims).reset_index(drop=True) if len(out) else out

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _leaf_codes(pt: Any, members: pd.Series) -> tuple[list[str], np.ndarray,
                                                                dict[str, Any]]:
        table, rc = pt.table, pt.record_cells
        if table is None or rc is None:
            raise PrimexError("this table does not carry its record memberships",
                              where="ledger", hint="use a table from protect_table()")
        if len(members) != rc.size:
            raise PrimexError(
                f"{len(members)} record keys or pseudonyms for {rc.size} records", where="ledger",
                hint="pass the record-key column of the microdata the table was built from")
        if pd.Series(members).isna().any():
            raise PrimexError("some records have no member key", where="ledger")
        coords = np.unravel_index(rc, table.shape)
        parts = [np.asarray(h.codes)[c] for h, c in zip(table.dims, coords, strict=True)]
        leaf = parts[0].astype(object)
        for p in parts[1:]:
            leaf = leaf + "\x1f" + p
        hier = {h.name: {"codes": h.codes, "parent": h.parent.tolist()} for h in table.dims}
        return [h.name for h in table.dims], np.asarray(leaf, dtype=object), hier


def _hier_from_json(name: str, d: dict[str, Any]) -> DimensionHierarchy:
    parent = np.asarray(d["parent"], dtype=np.int64)
    children: list[list[int]] = [[] for _ in d["codes"]]
    for i, p in enumerate(parent):
        if p >= 0:
            children[p].append(i)
    return DimensionHierarchy(name=name, codes=list(d["codes"]), parent=parent, children=children)


def _membership(cells: pd.DataFrame, dims: list[str], hier: dict[str, DimensionHierarchy],
                members: np.ndarray, leaf: np.ndarray,
                people: dict[str, int] | None) -> tuple[sp.csc_matrix, dict[str, int]]:
    """Sparse persons × cells incidence (1 when the person is counted in the cell)."""
    people = {} if people is None else people
    pid = np.array([people.setdefault(p, len(people)) for p in members], dtype=np.int64)
    parts = np.array([s.split("\x1f") for s in leaf], dtype=object).reshape(len(leaf), -1)
    rows, cols = [], []
    # For each cell, a person belongs when each of their finest codes is the cell's code or
    # a descendant of it.
    anc_sets = []
    for d, name in enumerate(dims):
        h = hier[name]
        idx = h.index
        anc: dict[str, set[str]] = {}
        for code in set(parts[:, d].tolist()) if len(parts) else set():
            s, i = set(), idx.get(code)
            while i is not None and i >= 0:
                s.add(h.codes[i])
                i = int(h.parent[i]) if h.parent[i] >= 0 else None
            anc[code] = s or {code, TOTAL}
        anc_sets.append([anc[c] for c in parts[:, d]] if len(parts) else [])
    key_index: dict[tuple[str, ...], int] = {
        tuple(r): j for j, r in enumerate(cells[dims].astype(str).itertuples(index=False))}
    for r in range(len(pid)):
        combos: list[tuple[str, ...]] = [()]
        for d in range(len(dims)):
            combos = [(*c, a) for c in combos for a in anc_sets[d][r]]
        for c in combos:
            j = key_index.get(c)
            if j is not None:
                rows.append(pid[r])
                cols.append(j)
    m = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(people), len(cells)))
    m.data[:] = 1.0  # a person counts once per cell even if listed twice
    return m, people


def _pad(m: sp.csc_matrix, n: int) -> sp.csc_matrix:
    if m.shape[0] == n:
        return m
    return sp.vstack([m, sp.csc_matrix((n - m.shape[0], m.shape[1]))]).tocsc()
