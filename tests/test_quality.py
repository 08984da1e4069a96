"""Architecture rules the code must keep: import direction, the environment read in one place, type hints."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Who may import whom: config at the bottom, bot on top; intake and mailer never import each other.
ALLOWED = {
    "config": {"config"},
    "scoring": {"scoring"},
    "intake": {"intake", "config", "scoring"},
    "mailer": {"mailer", "config", "scoring"},
    "bot": {"bot", "config", "scoring", "intake", "mailer"},
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
    proc = subprocess.run([sys.executable, "-m", "mypy", "config", "intake", "scoring", "mailer", "bot"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_module_names_are_unique_across_layers() -> None:
    """A newcomer should not meet bot/status.py and scoring/status.py: one name, one module. The
    conventional per-package names (models, errors) are the exception."""
    root = Path(__file__).resolve().parent.parent
    seen: dict[str, str] = {}
    clashes = []
    for package in ("config", "intake", "scoring", "mailer", "bot"):
        for path in sorted((root / package).rglob("*.py")):
            if path.stem in ("__init__", "__main__", "models", "errors"):
                continue
            where = str(path.parent.relative_to(root))
            if path.stem in seen:
                clashes.append(f"{seen[path.stem]}/{path.name} and {where}/{path.name}")
            seen[path.stem] = where
    assert clashes == []
