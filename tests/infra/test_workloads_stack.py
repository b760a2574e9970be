"""The workloads stack: one nested stack per workload, so any number of workloads fits CloudFormation's limits."""

from __future__ import annotations

import json

import pytest
import yaml

from benchmarks.scale import scale_config
from infra.stacks.workloads import DESCRIPTION_LIMIT, describe
from tests.helpers import nested_templates, resources, synth

TEMPLATE_LIMIT = 1_000_000  # CloudFormation takes templates of up to 1 MB from S3


def test_descriptions_name_every_workload_while_they_fit_and_count_them_beyond():
    assert describe("kit", ["a", "b"]) == "kit: model storage objects and a, b"
    many = describe("kit", [f"model-{i:03d}" for i in range(200)])
    assert len(many) <= DESCRIPTION_LIMIT and many.startswith("kit: model storage objects and 200 workloads (model-000, ")


@pytest.fixture(scope="module")
def at_scale(tmp_path_factory):
    """200 workloads on 30 pools, the scale the kit must synthesize (./kit bench times it)."""
    folder = tmp_path_factory.mktemp("scale")
    config = folder / "scale.yaml"
    config.write_text(yaml.safe_dump(scale_config(workloads=200, pools=30), sort_keys=False))
    out = folder / "out"
    return synth(config, out), nested_templates(out), out


@pytest.mark.e2e
def test_two_hundred_workloads_and_thirty_pools_fit_every_template(at_scale):
    templates, nested, out = at_scale
    assert len(nested) == 200
    for path in out.glob("*.template.json"):
        assert path.stat().st_size < TEMPLATE_LIMIT, path.name
    workloads = templates["llm-kit-workloads"]
    assert len(resources(workloads, "AWS::CloudFormation::Stack")) == 200
    assert len(workloads["Description"]) <= DESCRIPTION_LIMIT
    pools = [
        body
        for body in resources(templates["llm-kit-cluster"], "Custom::AWSCDK-EKS-KubernetesResource").values()
        if "NodePool" in json.dumps(body)
    ]
    assert len(pools) >= 30


@pytest.mark.e2e
def test_each_workload_nested_stack_holds_its_objects_after_the_storage_objects(at_scale):
    templates, nested, _ = at_scale
    workloads = templates["llm-kit-workloads"]
    stacks = resources(workloads, "AWS::CloudFormation::Stack")
    storage = next(name for name in resources(workloads, "Custom::AWSCDK-EKS-KubernetesResource") if name.startswith("ModelStorage"))
    assert all(storage in body.get("DependsOn", []) for body in stacks.values())
    [(name, template)] = [(name, t) for name, t in nested.items() if "Workloadmodel042" in name]
    [objects] = resources(template, "Custom::AWSCDK-EKS-KubernetesResource").values()
    assert "model-042" in json.dumps(objects["Properties"]["Manifest"])


@pytest.mark.e2e
def test_the_account_in_model_uris_is_filled_in_at_deploy(default_templates, default_out):
    [template] = [t for name, t in nested_templates(default_out).items() if "llama8b" in name]
    text = json.dumps(template)
    assert "{account}" not in text and "{bucket}" not in text
    assert '"AWS::AccountId"' in text and "-us-west-2/models/meta-llama/Llama-3.1-8B-Instruct/" in text
