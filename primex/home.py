"""The home folder: every piece of state of one installation lives under it.

`--home DIR` or `PRIMEX_HOME` (default ./primex-home). Several homes can sit side by side;
tests use temporary ones. The layout mirrors the trust boundaries: `spp/` is the SPP side,
`bcss/` the BCSS side (the only place a linkage key may live), `audit/` the log, `keys/` the
actors' encrypted private keys, `releases/` the encrypted packages, `site/` the dashboard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "primex-home"
ENV_VAR = "PRIMEX_HOME"
PRIMA_ENV_VAR = "PRIMEX_PRIMA"


@dataclass(frozen=True)
class Home:
    root: Path
    # PRIMA on a PostgreSQL server (`--prima postgresql://…` or PRIMEX_PRIMA); None: the
    # embedded DuckDB file `spp/prima.duckdb`. A URL without password (libpq's PGPASSWORD or
    # ~/.pgpass supply it).
    prima_url: str | None = None

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None,
                prima_url: str | None = None) -> Home:
        prima_url = prima_url or os.environ.get(PRIMA_ENV_VAR) or None
        value = home if home is not None else os.environ.get(ENV_VAR, DEFAULT_HOME)
        root = Path(value).expanduser().resolve()
        if root.exists() and not root.is_dir():
            from primex.errors import PrimexError

            raise PrimexError("the home is a file, not a folder", where=str(root),
                              hint="give a folder to --home (or PRIMEX_HOME)")
        return cls(root, prima_url)

    # --- SPP side -----------------------------------------------------------------------
    @property
    def spp(self) -> Path:
        return self.root / "spp"

    @property
    def prima_db(self) -> Path:
        """PRIMA store (SPP side): CPAS decisions, with NISS."""
        return self.spp / "prima.duckdb"

    @property
    def spp_work(self) -> Path:
        """Per-request working folders on the SPP side (extracts, protected outputs)."""
        return self.spp / "work"

    @property
    def extracts(self) -> Path:
        """Outputs of the recurring protocols (quarterly, annual) and their manifests."""
        return self.spp / "extracts"

    @property
    def ledger_db(self) -> Path:
        """Private release ledger against differencing (SPP side, never released)."""
        return self.spp / "ledger.duckdb"

    # --- BCSS side ----------------------------------------------------------------------
    @property
    def bcss(self) -> Path:
        return self.root / "bcss"

    @property
    def warehouse_db(self) -> Path:
        """BCSS labour-market data warehouse (with NISS)."""
        return self.bcss / "warehouse.duckdb"

    @property
    def bcss_keystore(self) -> Path:
        """The linkage master key lives here and nowhere else."""
        return self.bcss / "keystore"

    @property
    def bcss_work(self) -> Path:
        return self.bcss / "work"

    # --- shared infrastructure ----------------------------------------------------------
    @property
    def audit(self) -> Path:
        return self.root / "audit"

    @property
    def witness(self) -> Path:
        """State of the committee's witness (run by the committee, not by the SPP)."""
        return self.root / "witness"

    @property
    def keys(self) -> Path:
        """Actors' key pairs (private keys encrypted at rest)."""
        return self.root / "keys"

    @property
    def requests(self) -> Path:
        """Submitted request specs, stored by content hash."""
        return self.root / "requests"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def site(self) -> Path:
        """The published static dashboard."""
        return self.root / "site"

    def ensure(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        return path
