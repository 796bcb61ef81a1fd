"""workflows/ stands on its own: no Flask, no SQLAlchemy, nothing from portal/ or forms/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import workflows

PACKAGE = Path(workflows.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
# Top-level packages workflows/ must never import, directly or through another package.
FORBIDDEN = (
    "flask",
    "flask_login",
    "flask_sqlalchemy",
    "flask_wtf",
    "flask_migrate",
    "sqlalchemy",
    "wtforms",
    "portal",
    "forms",
)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (also inside functions), as written."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside workflows/
                names.add("workflows")
            else:
                names.add(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def test_the_package_has_the_modules_it_should() -> None:
    found = {p.stem for p in MODULES}
    assert {
        "engine",
        "parties",
        "agreement",
        "default_notice",
        "termination_notice",
        "suspension",
        "calendar",
        "diagram",
    } <= found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_imports_flask_sqlalchemy_or_the_portal(path: Path) -> None:
    bad = sorted(n for n in imported(path) if n.split(".")[0] in FORBIDDEN)
    assert bad == [], f"{path.name} imports {bad}"


def test_importing_every_module_loads_none_of_them() -> None:
    # The imports above, followed: a fresh interpreter loads all of workflows/ and then
    # lists whatever it pulled in (the holidays package and the standard library only).
    names = [f"workflows.{p.stem}" for p in MODULES if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    ).stdout.split()
    loaded = sorted(n for n in out if n.split(".")[0] in FORBIDDEN)
    assert loaded == []
    assert "workflows.engine" in out
