"""A class name means one thing across the kit: two modules defining one name make every reader check which."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.helpers import REPO

PACKAGES = ("core", "config", "blueprints", "infra", "assembly", "scripts", "benchmarks", "contracts", "security")


def module_level_classes(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]


def test_no_class_name_is_defined_in_two_modules():
    where: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for name in module_level_classes(path.read_text()):
                where[name].append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in where.items() if len(paths) > 1} == {}


def test_the_scan_sees_module_level_classes_only():
    assert module_level_classes("class A:\n    class B: ...\ndef f():\n    class C: ...\nclass D(A): ...\n") == ["A", "D"]
