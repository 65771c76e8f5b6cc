"""Imports between the apps run one way (docs/architecture.md): a later app may import an earlier one, never
back. Every import of every app's code is read with `ast`, those inside functions included; migrations and tests
are left out (a migration names the models of the apps it depends on)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Earliest first. reporting and api sit on top and may import any of them; demo (`make run`'s seed) above all.
ORDER = [
    "projects",
    "publicity",
    "imports",
    "review",
    "corrections",
    "inspections",
    "integrity",
    "reporting",
    "api",
    "demo",
]
RANK = {app: rank for rank, app in enumerate(ORDER)}


def imported_apps(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def back_edges():
    for app in ORDER:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, imported in imported_apps(ast.parse(path.read_text(encoding="utf-8"))):
                if imported in RANK and RANK[imported] > RANK[app]:
                    yield f"{path.relative_to(ROOT)}:{line} imports {imported}"


def test_no_app_imports_a_later_one():
    assert list(back_edges()) == []


def test_it_catches_a_function_level_import():
    tree = ast.parse("def f():\n    from corrections import services\n")
    assert list(imported_apps(tree)) == [(2, "corrections")]
