"""Public table SDC API (re-exported by primex.disclosure)."""

from primex.disclosure.cellkey import CellKeyParams, cellkey_ptable, record_keys
from primex.disclosure.ledger import ReleaseLedger
from primex.disclosure.primary import Rules
from primex.disclosure.table_build import Hierarchy, build_table
from primex.disclosure.table_protect import ProtectedTable, protect_linked_tables, protect_table

__all__ = [
    "CellKeyParams",
    "Hierarchy",
    "ProtectedTable",
    "ReleaseLedger",
    "Rules",
    "build_table",
    "cellkey_ptable",
    "protect_linked_tables",
    "protect_table",
    "record_keys",
]
