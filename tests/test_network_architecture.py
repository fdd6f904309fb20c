"""Which side may import what (issue 19): the BCSS service never touches the SPP's PRIMA
code, the SPP's linkage client and the committee's witness client never touch the linkage
key or the BCSS service (checked on the source, like tests/test_architecture.py)."""

from __future__ import annotations

import pytest
from test_architecture import PKG, _primex_imports

SIDES: dict[str, tuple[str, ...]] = {
    # the BCSS: linkage (its keystore, warehouse join), audit keys, the shared HTTP code
    "bcss_service": ("primex.extract", "primex.requests", "primex.protection", "primex.sdc",
                     "primex.release", "primex.dashboard", "primex.service.api",
                     "primex.service.jobs"),
    # the SPP's client of the BCSS, and the tiles the SPP serves
    "service/bcss_client.py": ("primex.linkage", "primex.bcss_service"),
    "service/tlog_tiles.py": ("primex.linkage", "primex.bcss_service"),
    # the committee's witness
    "service/witness_client.py": ("primex.linkage", "primex.bcss_service", "primex.extract"),
}


@pytest.mark.parametrize("where", sorted(SIDES))
def test_each_side_imports_only_its_own(where: str) -> None:
    target = PKG / where
    paths = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    assert paths
    bad = [f"{p.relative_to(PKG.parent)}:{line} imports {name}"
           for p in paths for line, name in _primex_imports(p)
           if name.startswith(SIDES[where])]
    assert not bad, "\n".join(bad)
