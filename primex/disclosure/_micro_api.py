"""Public microdata SDC API (re-exported by primex.disclosure)."""

__all__: list[str] = []
