"""The deploy-time model: longest chains inside stacks, independent stacks side by side."""

import json
import os
import subprocess
import sys

import pytest

from assembly.deploy_time import DURATIONS, critical_stacks, dependencies, plan_assembly, plan_stack


def test_a_stack_takes_its_longest_dependency_chain():
    template = {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role"},
            "Cluster": {"Type": "AWS::EKS::Cluster", "Properties": {"RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
            "Nodes": {"Type": "AWS::EKS::Nodegroup", "Properties": {"ClusterName": {"Ref": "Cluster"}}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }
    }
    assert dependencies(template)["Nodes"] == {"Cluster"}
    plan = plan_stack("s", template, {})
    expected = DURATIONS["AWS::IAM::Role"] + DURATIONS["AWS::EKS::Cluster"] + DURATIONS["AWS::EKS::Nodegroup"]
    assert plan.seconds == expected
    assert [step.logical_id for step in plan.path] == ["Role", "Cluster", "Nodes"]


def test_ties_on_the_path_are_broken_by_name_in_every_process():
    probe = (
        "from assembly.deploy_time import plan_stack; roles = {n: {'Type': 'AWS::IAM::Role'} for n in 'QWERTY'};"
        "policy = {'Type': 'AWS::IAM::Policy', 'DependsOn': sorted(roles)};"
        "print([s.logical_id for s in plan_stack('s', {'Resources': {**roles, 'Policy': policy}}, {}).path])"
    )
    paths = {
        subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert paths == {"['E', 'Policy']\n"}


@pytest.mark.e2e
def test_the_default_config_keeps_storage_off_the_critical_path(default_templates, default_out):
    plans = plan_assembly(default_out)
    total, chain = critical_stacks(plans)
    assert [plan.name for plan in chain] == ["llm-kit-network", "llm-kit-cluster", "llm-kit-workloads"]
    assert total == sum(plan.seconds for plan in chain)
    assert "AWS::EKS::Cluster" in {step.kind for step in chain[1].path}
    manifest = json.loads((default_out / "manifest.json").read_text())
    assert "llm-kit-storage" not in manifest["artifacts"]["llm-kit-cluster"].get("dependencies", [])
