"""What the catalogue says about an extract's columns: their disclosure roles and types."""

from __future__ import annotations

from collections.abc import Sequence

from primex.catalogue import load_catalogue


def roles(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Quasi-identifiers and sensitive columns of an extract, from the catalogue roles."""
    cat = load_catalogue()
    qis, sensitive = [], []
    for col in columns:
        var = cat.variable_of(col)
        if var is None:
            continue
        if var.role == "quasi_identifier":
            qis.append(col)
        elif var.role == "sensitive":
            sensitive.append(col)
    return qis, sensitive


def column_types(columns: Sequence[str]) -> dict[str, str]:
    """The catalogue type of every column it knows (linked columns by their variable)."""
    cat = load_catalogue()
    out: dict[str, str] = {}
    for col in columns:
        var = cat.variable_of(col)
        if var is not None:
            out[col] = var.type
    return out
