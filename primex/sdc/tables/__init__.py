"""Table disclosure control: hierarchical tables, primary and secondary suppression with the
attacker audit, cell-key noise."""

from primex.sdc.params import CellKeyPolicy, Dominance, TablePolicy
from primex.sdc.tables.build import DimensionHierarchy, build_table
from primex.sdc.tables.cellkey import CellKeyParams, cellkey_ptable, record_keys
from primex.sdc.tables.primary import Rules
from primex.sdc.tables.protect import protect_linked_tables, protect_table
from primex.sdc.tables.result import ProtectedTable

__all__ = [
    "CellKeyParams",
    "CellKeyPolicy",
    "DimensionHierarchy",
    "Dominance",
    "ProtectedTable",
    "Rules",
    "TablePolicy",
    "build_table",
    "cellkey_ptable",
    "protect_linked_tables",
    "protect_table",
    "record_keys",
]
