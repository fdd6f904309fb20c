"""One module per CLI command group; `primex.cli` only wires them together."""
