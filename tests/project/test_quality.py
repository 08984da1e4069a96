"""Architecture rules the code must keep: import direction, the environment read in one place, type hints."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.paths import ROOT

pytestmark = pytest.mark.slow  # servers, subprocesses or whole-project checks

# Who may import whom: config and db at the bottom, bot on top; intake and mailer never import each other.
ALLOWED = {
    "config": {"config"},
    "db": {"db"},
    "scoring": {"scoring"},
    "intake": {"intake", "config", "db", "scoring"},
    "mailer": {"mailer", "config", "db", "scoring"},
    "bot": {"bot", "config", "db", "scoring", "intake", "mailer"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        wrong = _imports(path) - ALLOWED[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"


def test_only_config_reads_the_environment() -> None:
    for package in ("intake", "scoring", "mailer", "bot"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "os.environ" not in text and "getenv" not in text, path


def test_type_hints_are_checked() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "config", "db", "intake", "scoring", "mailer", "bot"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_module_names_are_unique_across_layers() -> None:
    """A newcomer should not meet bot/status.py and scoring/status.py: one name, one module. The
    conventional per-package names (models, errors, context: what the package's steps are handed) are the exception."""
    root = ROOT
    seen: dict[str, str] = {}
    clashes = []
    for package in ("config", "db", "intake", "scoring", "mailer", "bot"):
        for path in sorted((root / package).rglob("*.py")):
            if path.stem in ("__init__", "__main__", "models", "errors", "context"):
                continue
            where = str(path.parent.relative_to(root))
            if path.stem in seen:
                clashes.append(f"{seen[path.stem]}/{path.name} and {where}/{path.name}")
            seen[path.stem] = where
    assert clashes == []


def test_no_import_circles() -> None:
    """No module reaches back up to one that imports it, however indirectly: every import counts, those under
    TYPE_CHECKING and inside functions too (a reader follows them just the same)."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for package in ALLOWED for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    circles = [scc for scc in _strongly_connected(graph) if len(scc) > 1]
    assert circles == [], circles


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is the project's modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(sorted(component))
    return found


def test_the_spec_cited_is_the_projects_own() -> None:
    """Code and tests cite docs/spec.md by its section names; every section cited exists there."""
    spec = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    sections = {line.removeprefix("## ").strip() for line in spec.splitlines() if line.startswith("## ")}
    sources = [p for d in ("bot", "intake", "mailer", "config", "scoring", "tests") for p in (ROOT / d).rglob("*.py")]
    cited: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "SPEC" + ".md" not in text, path  # a file outside the project
        cited |= set(re.findall(r'docs/spec\.md, "([^"]+)"', text))
    assert cited and sorted(cited - sections) == []


def test_no_function_over_sixty_lines_outside_bot() -> None:
    """A function a reader can hold in view; bot/ (the wiring, the demo's sample month) may run longer."""
    long = []
    for package in ("intake", "mailer", "config", "db", "scoring"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None \
                        and node.end_lineno - node.lineno + 1 > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({node.end_lineno - node.lineno + 1})")
    assert long == []


def test_every_runtime_dependency_is_in_the_dependency_table() -> None:
    """docs/dependencies.md says what each runtime dependency is for, who keeps it and why it: none goes unexplained."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[<>=\[ ]", spec, maxsplit=1)[0].lower()
             for spec in [*declared["dependencies"], *declared["optional-dependencies"]["postgres"]]]
    table = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8").split("## Replaced")[0].lower()
    rows = {line.split("|")[1].strip().split()[0] for line in table.splitlines() if line.startswith("| ") and "---" not in line}
    assert sorted(set(names) - rows) == [], rows
