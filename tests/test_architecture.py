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
# The log writer and its storage; the entry format the researcher parses is primex.audit.entry.
_LOG_WRITER = {"primex.audit.log", "primex.audit.store"}


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
                elif module in _LOG_WRITER:
                    bad.append(where)  # AuditLog / open_log / LogFile: the writer
                elif module == "primex.audit" and name in {"log", "store"}:
                    bad.append(f"{where}.{name}")
    assert not bad, "researcher-side code reaches into the SPP:\n" + "\n".join(bad)


def test_spp_gate_does_not_import_the_researcher_side() -> None:
    bad = [
        f"{path.relative_to(PKG.parent)}:{line} imports {name}"
        for path in sorted((PKG / "release").rglob("*.py"))
        for line, name in _primex_imports(path)
        if name.startswith("primex.researcher")
    ]
    assert not bad, "the SPP gate imports the researcher's side:\n" + "\n".join(bad)


def _imported_names(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, name) of every `from <module> import name` in `path`, function level too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, a.name) for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module for a in node.names
    ]


def test_committee_verifier_does_not_import_the_log_writer() -> None:
    """The committee's verifier replays with primex.audit.state and decides with
    primex.audit.trust; it never loads the SPP's log writer (primex.audit.log) or the
    store's mutating LogFile, so it cannot write to the log it checks."""
    bad = []
    for name in ("verify.py", "resume.py", "state.py", "trust.py", "entry.py", "reasons.py"):
        path = PKG / "audit" / name
        bad += [f"{name}:{line} imports {mod}" for line, mod in _primex_imports(path)
                if mod == "primex.audit.log"]
        bad += [f"{name}:{line} imports LogFile" for line, imported in
                _imported_names(path, "primex.audit.store") if imported == "LogFile"]
    assert not bad, "the committee side imports the SPP's log writer: " + ", ".join(bad)


def test_trust_decisions_live_in_one_module() -> None:
    """Signature checks of log entries and of checkpoints are made in primex.audit.trust
    (entries) and primex.audit.checkpoint (signed notes) only; the rest of the audit package
    asks them. (release/open.py, the researcher's offline package check, is outside.)"""
    allowed = {"trust.py", "checkpoint.py", "keys.py"}
    bad = [
        f"audit/{p.name}:{line}" for p in sorted((PKG / "audit").glob("*.py"))
        if p.name not in allowed
        for line, name in _imported_names(p, "primex.audit.keys") if name == "verify_signature"
    ]
    assert not bad, "entry signatures checked outside primex.audit.trust: " + ", ".join(bad)
