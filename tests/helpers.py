"""Shared test helpers: configs derived from the default, synth into a folder, read templates back."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from assembly.app import build_app
from assembly.kit import KIT
from core.cfn_text import flatten
from core.issues import ConfigError

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "config" / "default.yaml"


def default_config_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge overrides into a copy of base; a value of None deletes the key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def pools_with(**gpu_limits: int) -> list[dict[str, Any]]:
    """The default config's node pools with other GPU limits, e.g. pools_with(**{"gpu-h100-efa": 48}): room for
    workloads larger than the default pools hold (the checks refuse what a pool can never run)."""
    pools = copy.deepcopy(default_config_data()["node_pools"])
    for pool in pools:
        pool["gpu_limit"] = gpu_limits.get(pool["name"], pool["gpu_limit"])
    return pools


def write_config(folder: Path, overrides: dict[str, Any] | None = None, name: str = "kit.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(merged(default_config_data(), overrides or {}), sort_keys=False))
    return path


# aws-cdk-lib's built-in CloudFormation validation with its findings as errors, not warnings (aws-cdk-lib 2.275.0
# core/lib/private/synthesis-validation.js downgrades them unless this flag is set).
VALIDATION_AS_ERRORS = {"@aws-cdk/core:validateAgainstDefaultRules": True}


def synth(config_path: Path, outdir: Path, *, validate: bool = False) -> dict[str, dict]:
    """Synthesize a config and return {stack name: template}. validate: also run aws-cdk-lib's CloudFormation
    validation, its errors failing the synth and its warnings in validation-report.json (off by default: it costs
    seconds of CPU in every worker and every synth; the shipped configs meet it once each, tests/test_retained_names.py)."""
    context = VALIDATION_AS_ERRORS if validate else None
    build_app(KIT.load(config_path), outdir=str(outdir), validate=validate, context=context).synth()
    return read_templates(outdir)


def unvalidated_app(**kwargs: Any) -> cdk.App:
    """A CDK app for one construct's test, without aws-cdk-lib's CloudFormation validation: its engine costs seconds
    of CPU in each test process, and the shipped configs meet it in tests/test_retained_names.py."""
    return cdk.App(builtin_cloud_formation_validation=False, **kwargs)


def read_templates(outdir: Path) -> dict[str, dict]:
    """The top-level stacks' templates by stack name (nested stacks: nested_templates)."""
    paths = [path for path in sorted(outdir.glob("*.template.json")) if not path.name.endswith(".nested.template.json")]
    return {path.name.removesuffix(".template.json"): json.loads(path.read_text()) for path in paths}


def nested_templates(outdir: Path) -> dict[str, dict]:
    """Nested stacks' templates by their file name's stem (e.g. llmkitworkloadsWorkloadllama8b...)."""
    return {
        path.name.removesuffix(".nested.template.json"): json.loads(path.read_text())
        for path in sorted(outdir.glob("*.nested.template.json"))
    }


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def only(template: dict, kind: str) -> dict:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def resolve_import(templates: dict[str, dict], value: Any) -> tuple[str, Any]:
    """Follow Fn::ImportValue to the exporting stack's output value: returns (stack, value)."""
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        export_name = value["Fn::ImportValue"]
        for stack, template in templates.items():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == export_name:
                    return stack, output["Value"]
        raise AssertionError(f"no stack exports {export_name}")
    raise AssertionError(f"not an import: {value!r}")


def subnet_of(templates: dict[str, dict], reference: Any) -> dict:
    """The AWS::EC2::Subnet resource a (possibly imported) subnet reference points at."""
    stack, value = resolve_import(templates, reference)
    return templates[stack]["Resources"][value["Ref"]]


TOKEN = "<token>"


def helm_values(value: Any) -> str:
    """A Helm chart's Values property as JSON text (tokens become '<token>')."""
    return flatten(value, TOKEN)


def kubernetes_objects(template: dict) -> dict[str, list[dict]]:
    """Manifests applied through the kubectl provider, by logical id (CloudFormation tokens become '<token>')."""
    out = {}
    for name, body in resources(template, "Custom::AWSCDK-EKS-KubernetesResource").items():
        out[name] = json.loads(flatten(body["Properties"]["Manifest"], TOKEN))
    return out


def helm_charts(template: dict) -> dict[str, dict]:
    return {body["Properties"]["Chart"]: {"id": name, **body} for name, body in resources(template, "Custom::AWSCDK-EKS-HelmChart").items()}


def assert_rejected(folder: Path, overrides: dict[str, Any], expected: list[str]) -> str:
    """Load a config derived from the default; it must be rejected with every expected fragment in the message."""
    with pytest.raises(ConfigError) as caught:
        KIT.load(write_config(folder, overrides))
    rendered = caught.value.render()
    for fragment in expected:
        assert fragment in rendered, f"{fragment!r} missing from:\n{rendered}"
    return rendered


def assert_synth_refuses(folder: Path, config: Path, expected: list[str]) -> str:
    """`python -m assembly.synth` on a config it must refuse: exit 2, every expected fragment on stderr, nothing written."""
    from assembly import synth as synth_command

    out = folder / "refused"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = synth_command.main(
            ["--config", str(config), "--outdir", str(out / "cdk.out"), "--dist", str(out / "dist"), "--charts", str(out / "charts")]
        )
    rendered = err.getvalue()
    assert code == 2, rendered
    for fragment in expected:
        assert fragment in rendered, f"{fragment!r} missing from:\n{rendered}"
    assert not out.exists(), f"a refused config left {sorted(p.name for p in out.rglob('*'))}"
    return rendered


def as_editor_sees(value: Any) -> Any:
    """A parsed config as editors' YAML 1.2 language servers see it: no timestamp type, an unquoted date is a string."""
    if isinstance(value, dict):
        return {key: as_editor_sees(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_editor_sees(item) for item in value]
    return value.isoformat() if isinstance(value, date | datetime) else value
