"""The import rules of docs/architecture.md, checked on the source (AST), not by convention."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "primex"
FLOW = ["requests", "extract", "linkage", "disclosure", "release"]
FOUNDATION = {"atomic", "catalogue", "audit", "errors", "exchange", "home", "redact"}
# What each subpackage may import from primex besides the foundation.
ALLOWED: dict[str, set[str]] = {
    **{step: set(FLOW[: i + 1]) for i, step in enumerate(FLOW)},
    "dashboard": {"dashboard", "extract", "disclosure"},
    "synthetic": {"synthetic"},
    "catalogue": {"atomic", "catalogue", "errors", "home", "redact"},
    "audit": {"audit", "atomic", "catalogue", "errors", "home", "redact"},
    # the formats that cross between parties (manifest, package layout, envelope)
    "exchange": {"exchange", "audit", "atomic", "errors"},
    "researcher": {"researcher"},
}


def _primex_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("primex")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.startswith("primex")
        ):
            found += [(node.lineno, node.module)]
            if node.module == "primex":
                found += [(node.lineno, f"primex.{a.name}") for a in node.names]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("sub", sorted(ALLOWED))
def test_imports_flow_one_way(sub: str) -> None:
    allowed = ALLOWED[sub] | (FOUNDATION if sub not in {"catalogue"} else set())
    bad = []
    for path in sorted((PKG / sub).rglob("*.py")):
        for line, name in _primex_imports(path):
            parts = name.split(".")
            if len(parts) < 2 or parts[1] == "__version__":
                continue
            if parts[1] not in allowed:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {name}")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_only_linkage_imports_the_keystore() -> None:
    bad = []
    for path in _modules():
        if path.is_relative_to(PKG / "linkage"):
            continue
        for line, name in _primex_imports(path):
            if name.startswith("primex.linkage.keystore"):
                bad.append(f"{path.relative_to(PKG.parent)}:{line}")
    assert not bad, "the BCSS keystore is imported outside primex.linkage: " + ", ".join(bad)


def test_every_subpackage_of_the_design_exists() -> None:
    for sub in [*FLOW, "audit", "dashboard", "synthetic", "catalogue"]:
        assert (PKG / sub / "__init__.py").exists(), sub


# --- sides: what runs on the researcher's machine never reaches into the SPP (issue 15 #4) ---
RESEARCHER_SIDE = PKG / "researcher"
# The entry format (parsing, not writing) still lives in the log writer's module; only these
# names may come from it until it moves out.
_LOG_MODULE = "primex.audit.log"
_LOG_FORMAT_NAMES = {"Entry", "parse_entry"}


def test_researcher_side_never_imports_the_gate_or_the_log_writer() -> None:
    bad = []
    for path in sorted(RESEARCHER_SIDE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # function-level imports included
            if isinstance(node, ast.Import):
                names = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.level:
                    bad.append(f"{path.name}:{node.lineno} relative import")
                    continue
                names = [(node.module, a.name) for a in node.names]
            else:
                continue
            for module, name in names:
                where = f"{path.relative_to(PKG.parent)}:{node.lineno} imports {module}"
                if module == "primex.release" or module.startswith("primex.release."):
                    bad.append(where)  # the SPP's gate, sign-off and package
                elif module == "primex" and name == "release":
                    bad.append(where)
                elif module == _LOG_MODULE and name not in _LOG_FORMAT_NAMES:
                    bad.append(f"{where}.{name}")  # AuditLog / open_log: the writer
                elif module == "primex.audit" and name == "log":
                    bad.append(f"{where}.log")
    assert not bad, "researcher-side code reaches into the SPP:\n" + "\n".join(bad)


def test_spp_gate_does_not_import_the_researcher_side() -> None:
    bad = [
        f"{path.relative_to(PKG.parent)}:{line} imports {name}"
        for path in sorted((PKG / "release").rglob("*.py"))
        for line, name in _primex_imports(path)
        if name.startswith("primex.researcher")
    ]
    assert not bad, "the SPP gate imports the researcher's side:\n" + "\n".join(bad)
