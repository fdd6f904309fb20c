"""The import rules of docs/architecture.md, checked on the source (AST), not by convention."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "primex"
FLOW = ["requests", "extract", "linkage", "protection", "release"]
FOUNDATION = {"adbc", "atomic", "catalogue", "audit", "errors", "exchange", "home", "redact",
              "sdc"}
# What each subpackage may import from primex besides the foundation.
ALLOWED: dict[str, set[str]] = {
    **{step: set(FLOW[: i + 1]) for i, step in enumerate(FLOW)},
    "dashboard": {"dashboard", "extract"},
    "synthetic": {"synthetic"},
    "catalogue": {"atomic", "catalogue", "errors", "home", "redact", "sdc"},
    "audit": {"audit", "atomic", "catalogue", "errors", "home", "redact"},
    # The disclosure-control library is pure: data frames and parameters in, results out.
    "sdc": {"sdc", "errors"},
    # the formats that cross between parties (manifest, package layout, envelope)
    "exchange": {"exchange", "audit", "atomic", "errors"},
    "researcher": {"researcher"},
    # The committee's machine: the read/verify side of the log and the exchanged formats;
    # nothing of an SPP step (extract, protection, release, service, linkage, requests) and
    # not the disclosure library or the catalogue either (it checks the log, not data).
    "committee": {"committee", "audit", "atomic", "errors", "exchange", "home", "redact"},
}
# Subpackages checked against FOUNDATION-less rules (they sit at the very bottom, or on
# another party's machine with an explicit list).
BOTTOM = {"catalogue", "sdc", "committee"}


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
    allowed = ALLOWED[sub] | (FOUNDATION if sub not in BOTTOM else set())
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
    for sub in [*FLOW, "audit", "committee", "dashboard", "synthetic", "catalogue", "sdc"]:
        assert (PKG / sub / "__init__.py").exists(), sub
    for family in ("micro", "tables", "synthetic"):
        assert (PKG / "sdc" / family / "__init__.py").exists(), family


def test_sdc_touches_no_file_home_or_log() -> None:
    """The library takes frames and parameters: no Home, no path, no open() (the protection
    step reads and writes the files)."""
    bad = []
    for path in sorted((PKG / "sdc").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import | ast.ImportFrom) \
                else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "pathlib" in names or module in ("pathlib", "tempfile", "os", "shutil") \
                    or {"os", "tempfile", "shutil"} & set(names):
                bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno} imports file APIs")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "open":
                bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno} calls open()")
    assert not bad, "primex.sdc must stay free of files:\n" + "\n".join(bad)


# -- import cycles, on the AST, function-level imports included -------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the primex modules it imports anywhere in its source (a `from pkg import
    name` counts as importing the submodule `pkg.name` when there is one, else `pkg`)."""
    modules = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([base] if base else [])])
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    edges.add(sub if sub in modules else base)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere() -> None:
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_function_level_imports_are_in_the_graph() -> None:
    # commands import their libraries inside functions (start-up time): those edges count.
    graph = import_graph()
    assert "primex.protection.step" in graph["primex.commands.disclosure_request"]


# -- docs/architecture.md lists exactly the modules that exist --------------------------------

DOC = PKG.parent / "docs" / "architecture.md"
_PARAGRAPH = re.compile(
    r"^\*\*`primex\.([a-z_]+)`\*\*(?: \([^)]*\))?:(.*?)(?=^\*\*`primex\.|^#|\Z)", re.S | re.M)


def _documented() -> dict[str, set[str]]:
    text = DOC.read_text(encoding="utf-8")
    out = {sub: set(re.findall(r"`([a-z0-9_/]+\.py)`", body))
           for sub, body in _PARAGRAPH.findall(text)}
    top = re.search(r"^Top-level modules:(.*?)^$", text, re.S | re.M)
    assert top, "docs/architecture.md lost its 'Top-level modules:' paragraph"
    out[""] = set(re.findall(r"`([a-z0-9_]+\.py)`", top.group(1)))
    return out


def test_architecture_doc_lists_every_module_and_no_other() -> None:
    documented = _documented()
    problems = []
    for sub in sorted({p.name for p in PKG.iterdir() if (p / "__init__.py").exists()} | {""}):
        folder = PKG / sub if sub else PKG
        files = folder.rglob("*.py") if sub else folder.glob("*.py")
        actual = {p.relative_to(folder).as_posix() for p in files
                  if p.name != "__init__.py" and "__pycache__" not in p.parts}
        listed = documented.get(sub)
        if listed is None:
            problems.append(f"primex.{sub} has no paragraph")
            continue
        problems += [f"primex.{sub}: {m} exists but is not documented"
                     for m in sorted(actual - listed)]
        problems += [f"primex.{sub}: {m} is documented but does not exist"
                     for m in sorted(listed - actual)]
    assert not problems, "docs/architecture.md is stale:\n" + "\n".join(problems)


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
    for name in ("committee/verify.py", "committee/resume.py", "audit/state.py",
                 "audit/trust.py", "audit/entry.py", "audit/reasons.py"):
        path = PKG / name
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


# -- one atomic-write path (issue 15 #5, contract C7) ------------------------------------------
# Only primex/atomic.py renames files into place or makes temporary files for a write. A module
# listed here does something else that the AST cannot tell apart; say why.
ATOMIC_ALLOWED: dict[str, str] = {}
_RENAMES = {"replace", "rename"}
_TEMP_FILES = {"mkstemp", "NamedTemporaryFile"}


def _atomic_write_by_hand(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of every rename into place and temporary file made outside primex.atomic:
    os.replace/os.rename, `<path>.replace(x)` / `<path>.rename(x)` (one positional,
    not a string constant: str.replace takes two, pandas' rename takes keywords or a label),
    tempfile.mkstemp/NamedTemporaryFile, and temporary names spelt '.tmp'."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, owner = node.func.attr, node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else None
            if owner_name == "os" and attr in _RENAMES | {"renames"}:
                found.append((node.lineno, f"{owner_name}.{attr}"))
            elif owner_name == "tempfile" and attr in _TEMP_FILES:
                found.append((node.lineno, f"tempfile.{attr}"))
            elif (attr in _RENAMES and owner_name not in {"os", "dataclasses"}
                  and len(node.args) == 1 and not node.keywords
                  and not (isinstance(node.args[0], ast.Constant)
                           and isinstance(node.args[0].value, str))):
                found.append((node.lineno, f".{attr}(...)"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _TEMP_FILES:
            found.append((node.lineno, node.func.id))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and (node.value.endswith(".tmp") or ".tmp-" in node.value):
            found.append((node.lineno, f"temporary name {node.value!r}"))
    return found


def test_the_atomic_write_finder_finds_each_hand_made_form() -> None:
    source = """
import os, tempfile
from tempfile import mkstemp
os.replace(a, b); os.rename(a, b); tmp.replace(target); tmp.rename(target)
fd, name = tempfile.mkstemp(); mkstemp(); tmp = path.with_name(f".{path.name}.tmp")
text.replace("a", "b"); frame.rename(columns={}); series.rename("n"); when.replace(tzinfo=u)
dataclasses.replace(obj, x=1)
"""
    found = [what for _line, what in _atomic_write_by_hand(ast.parse(source))]
    assert found.count("os.replace") == 1 and found.count("os.rename") == 1
    assert found.count(".replace(...)") == 1 and found.count(".rename(...)") == 1
    assert "tempfile.mkstemp" in found and "mkstemp" in found
    assert any(w.startswith("temporary name") for w in found)
    assert len(found) == 7


def test_only_primex_atomic_writes_files_atomically_by_hand() -> None:
    bad = []
    for path in _modules():
        rel = path.relative_to(PKG.parent).as_posix()
        if rel == "primex/atomic.py" or rel in ATOMIC_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        bad += [f"{rel}:{line} {what}" for line, what in _atomic_write_by_hand(tree)]
    assert not bad, ("atomic writes by hand beside primex.atomic (use write_bytes, writing, "
                     "replacing, pending, move or publish_folder):\n" + "\n".join(bad))


# --- sides: the committee's machine and the SPP's stay apart (issue 15 #4, CONTRACTS C4) ----
# Who may import primex.committee: the committee itself and the CLI wiring (`primex audit ...`
# runs on the committee's machine). Everything else is SPP-side (or below it) and must not,
# so that the SPP never runs the committee's checks on its own behalf.
_MAY_IMPORT_COMMITTEE = ("primex.committee", "primex.commands", "primex.cli")
# Known edges, each one named (a new import anywhere else fails):
_COMMITTEE_EDGES_ALLOWED = {
    # the portal shows the committee's readable report to a committee member or the officer
    # logged in to the SPP service (the committee's own check is `primex audit verify`)
    ("primex.service.api", "primex.committee.report"),
    ("primex.service.pages.views", "primex.committee.report"),
    # the committee's pull client (`primex audit witness cosign --server`, run on the
    # committee's machine) is built on the service's HTTP client
    ("primex.service.witness_client", "primex.committee.witness"),
}


def committee_importers(graph: dict[str, set[str]]) -> list[str]:
    """Modules outside the committee and the CLI wiring that import primex.committee."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if not module.startswith(_MAY_IMPORT_COMMITTEE)
        for target in targets
        if (target == "primex.committee" or target.startswith("primex.committee."))
        and (module, target) not in _COMMITTEE_EDGES_ALLOWED
    )


def test_spp_side_does_not_import_the_committee() -> None:
    bad = committee_importers(import_graph())
    assert not bad, "SPP-side code imports the committee's:\n" + "\n".join(bad)


def test_the_side_rules_catch_a_new_import() -> None:
    """The two side rules fail on an import added either way (the test can fail)."""
    graph = import_graph()
    graph["primex.release.gate"] = graph["primex.release.gate"] | {"primex.committee.verify"}
    graph["primex.audit.log"] = graph["primex.audit.log"] | {"primex.committee.witness"}
    assert committee_importers(graph) == [
        "primex.audit.log imports primex.committee.witness",
        "primex.release.gate imports primex.committee.verify",
    ]
    allowed = ALLOWED["committee"]
    for step in ("extract", "protection", "release", "service", "linkage", "requests"):
        assert step not in allowed
