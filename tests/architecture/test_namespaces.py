"""core.namespaces.RESERVED holds every namespace the kit's platform uses, so the config can refuse them all: each
`...NAMESPACE = "<name>"` constant in core, infra and blueprints, and each controller chart's namespace."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import blueprints
from core.namespaces import RESERVED
from core.requirements import ControllerChart
from tests.helpers import REPO

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def namespace_constants(source: str) -> set[str]:
    """Values of module-level names ending in NAMESPACE that are namespace names (not label keys that say one)."""
    found = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id.endswith("NAMESPACE") and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str) and DNS_LABEL.match(node.value.value):
                    found.add(node.value.value)
    return found


def test_every_namespace_constant_of_the_platform_is_reserved():
    constants = {
        value
        for package in ("core", "infra", "blueprints")
        for path in sorted((REPO / package).rglob("*.py"))
        for value in namespace_constants(Path(path).read_text())
    }
    assert len(constants) >= 10
    assert sorted(constants - RESERVED) == []


def test_every_controller_charts_namespace_is_reserved():
    """Module-level charts of every blueprints module (charts built in a function name a constant, scanned above)."""
    charts = [
        value
        for module in pkgutil.walk_packages(blueprints.__path__, "blueprints.")
        for value in vars(importlib.import_module(module.name)).values()
        if isinstance(value, ControllerChart)
    ]
    assert len(charts) >= 4
    assert sorted({chart.namespace for chart in charts} - RESERVED) == []


def test_the_scan_reads_namespace_names_only():
    source = 'NAMESPACE = "crd-bundles"\nOWNER_NAMESPACE = "gateway.envoyproxy.io/owning"\nX = "kube"\n'
    assert namespace_constants(source) == {"crd-bundles"}
