"""Every registered blueprint's example, through the kit's normal path: checked, rendered, and each object validated.

The list of blueprints is the registry's (KIT.blueprints): a blueprint added with one folder and one registry line is
tested here without a line of its own. Core objects are validated strictly against the Kubernetes 1.35 schema, custom
resources against their upstream CRDs (../shared/crds, through ../shared/tools/validate_manifests.py, or the file
KIT_MANIFEST_VALIDATOR names). The engines' own parsers read the examples' command lines in `./kit contracts`
(contracts/collect.py gathers them from the same registry).
"""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from types import ModuleType

import kubernetes_validate
import pytest

from assembly.app import render_workloads
from assembly.examples import example_data, load_example
from assembly.kit import KIT
from blueprints.common.params import CAPABILITIES
from blueprints.contract import Blueprint
from contracts.collect import example_configs
from tests.blueprints.test_isolation import pod_specs, restricted_violations
from tests.helpers import REPO

K8S_VERSION = "1.35"
VALIDATOR = Path(os.environ.get("KIT_MANIFEST_VALIDATOR", REPO.parent / "shared" / "tools" / "validate_manifests.py"))
# .ci/run names the validator: there the custom resources must be checked. A clone without ../shared beside it checks
# every core object strictly and says which custom resources it could not check.
CRDS_REQUIRED = "KIT_MANIFEST_VALIDATOR" in os.environ

BLUEPRINTS = pytest.mark.parametrize("blueprint", KIT.blueprints, ids=lambda blueprint: blueprint.name)


@cache
def _validator() -> tuple[ModuleType, dict, object] | None:
    """The shared validator's module, its CRD schemas by (apiVersion, kind), and its CEL evaluator; None without it."""
    if not VALIDATOR.is_file():
        assert not CRDS_REQUIRED, f"custom resources are validated with {VALIDATOR} (and the CRDs beside it); it is not there"
        return None
    spec = importlib.util.spec_from_file_location("validate_manifests", VALIDATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.load_crds(), module.Cel()


class NoCrdSchemas(Exception):
    """A custom resource, and no CRD schemas beside the kit to check it against."""


def validation_errors(obj: dict) -> list[str]:
    """What the API server would refuse in the object: its CRD's schema and CEL rules, or the core schema, strictly."""
    loaded = _validator()
    schema = loaded[1].get((obj["apiVersion"], obj["kind"])) if loaded else None
    if loaded is not None and schema is not None:
        module, _, cel = loaded
        return module.crd_errors(schema, obj, cel)
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        if loaded is None:
            raise NoCrdSchemas(f"{obj['apiVersion']} {obj['kind']}") from None
        return [f"no schema: neither Kubernetes {K8S_VERSION} nor a CRD in {VALIDATOR.parent.parent / 'crds'} defines it"]
    except kubernetes_validate.ValidationError as err:
        return [str(err).strip().splitlines()[0]]
    return []


def errors_by_object(objects: list[dict]) -> tuple[dict[str, list[str]], list[str]]:
    """Each invalid object's errors, and the custom resources left unchecked for want of their CRDs."""
    errors: dict[str, list[str]] = {}
    unchecked: list[str] = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            found = validation_errors(obj)
        except NoCrdSchemas as missing:
            unchecked.append(f"{where} ({missing})")
            continue
        if found:
            errors[where] = found
    return errors, unchecked


def rendered_example(blueprint: Blueprint, folder: Path) -> list[dict]:
    config = load_example(blueprint, folder)  # raises ConfigError with every problem, as ./kit check prints them
    return render_workloads(config)[blueprint.example.name]


@BLUEPRINTS
def test_the_example_passes_the_checks_and_every_object_it_renders_is_valid(blueprint, tmp_path):
    objects = rendered_example(blueprint, tmp_path)
    assert objects, f"{blueprint.name}: the example renders nothing"
    errors, unchecked = errors_by_object(objects)
    assert errors == {}
    if unchecked:
        pytest.skip(f"core objects valid; no CRD schemas beside the kit (../shared/crds) for: {', '.join(unchecked)}")


@BLUEPRINTS
def test_the_examples_pods_meet_the_pod_security_level_the_blueprint_declares(blueprint, tmp_path):
    pods = [pod for obj in rendered_example(blueprint, tmp_path) for pod in pod_specs(obj)]
    assert pods, f"{blueprint.name}: the example makes no pods"
    if blueprint.pod_security == "restricted":
        assert [violation for pod in pods for violation in restricted_violations(pod)] == []
    else:
        assert not any(pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC") for pod in pods)


@BLUEPRINTS
def test_the_params_list_exactly_the_capabilities_their_example_has(blueprint):
    example = blueprint.example
    assert isinstance(example, blueprint.params) and example.blueprint == blueprint.name
    had = [capability.__name__ for capability in CAPABILITIES if isinstance(example, capability)]
    assert sorted(had) == sorted(capability.__name__ for capability in blueprint.params.capabilities)


@BLUEPRINTS
def test_the_example_round_trips_through_the_yaml_it_is_written_as(blueprint):
    [*_, written] = example_data(blueprint)["workloads"]
    assert blueprint.params.model_validate(written) == blueprint.example


def test_the_contract_checks_read_every_registered_blueprints_example(tmp_path):
    sources = dict(example_configs(tmp_path))
    assert sorted(sources) == sorted(f"example {blueprint.name}" for blueprint in KIT.blueprints)
    for blueprint in KIT.blueprints:
        assert blueprint.example.name in {w.name for w in KIT.load(sources[f"example {blueprint.name}"]).workloads}


def test_the_validator_refuses_what_the_api_server_would():
    wrong_core = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": "http"}]}}
    wrong_custom = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "x"},
        "spec": {"leaderWorkerTemplate": {"size": "two"}},
    }
    assert validation_errors(wrong_core)
    if _validator() is None:
        pytest.skip("no CRD schemas beside the kit (../shared/crds): the custom resource half needs them")
    assert validation_errors(wrong_custom)
