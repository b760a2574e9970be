"""The layers hold: imports only downward (import-linter, in ./kit test), nothing hidden inside functions, infra
blind to blueprints, and a config checked before any CDK or jsii runtime loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from assembly.kit import KIT
from tests.helpers import REPO

KIT_PACKAGES = ("core", "config", "blueprints", "infra", "assembly", "scripts", "benchmarks", "contracts")


def _sources(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (REPO / package).rglob("*.py"))


def _is_kit_module(name: str) -> bool:
    return name.split(".")[0] in KIT_PACKAGES


def test_no_function_level_imports_of_the_kits_own_modules():
    found = []
    for path in [*_sources(*KIT_PACKAGES), REPO / "app.py"]:
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{path.relative_to(REPO)}:{node.lineno} {name}" for name in names if _is_kit_module(name)]
    assert not found, found


def test_infra_neither_imports_nor_names_a_blueprint():
    names = {blueprint.name for blueprint in KIT.blueprints} | {blueprint.name.replace("-", "_") for blueprint in KIT.blueprints}
    found = []
    for path in _sources("infra"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
                found += [f"{path.relative_to(REPO)}:{node.lineno} imports {m}" for m in modules if m.split(".")[0] == "blueprints"]
    assert not found, found


def test_a_config_is_loaded_and_checked_without_the_cdk_or_jsii_runtime():
    probe = (
        "import sys; from assembly.kit import KIT; KIT.load('config/default.yaml');"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'cdk8s', 'jsii', 'constructs', 'cdk_nag'});"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_import_linter_contracts_cover_every_kit_package():
    text = (REPO / "pyproject.toml").read_text()
    for package in KIT_PACKAGES:
        assert f'"{package}"' in text.split("root_packages", 1)[1].split("\n", 1)[0], package


def test_the_tools_start_without_the_jsii_runtime():
    """The boto3 tools run beside a deploy; they must neither wait for Node nor print its banner."""
    probe = (
        "import sys, scripts.preflight, scripts.capacity_blocks, scripts.verify_cluster, scripts.stage_model;"
        "import assembly.check, assembly.blueprints;"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'cdk8s', 'jsii', 'constructs'});"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
