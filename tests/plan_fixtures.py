"""Small cloud assemblies written by hand, for the plan's engine: a manifest, templates and construct paths."""

from __future__ import annotations

import json
from pathlib import Path

from assembly.plan_assembly import read_assembly


def write_assembly(folder: Path, stacks: dict[str, dict], region: str = "us-west-2"):
    """stacks: {stack name: template}. Each resource's construct path is <stack>/<logical id>/Resource."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (folder / f"{name}.template.json").write_text(json.dumps(template))
        metadata = {f"/{name}/{lid}/Resource": [{"type": "aws:cdk:logicalId", "data": lid}] for lid in template.get("Resources", {})}
        (folder / f"{name}.metadata.json").write_text(json.dumps(metadata))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://unknown-account/{region}",
            "properties": {"templateFile": f"{name}.template.json"},
            "additionalMetadataFile": f"{name}.metadata.json",
            "displayName": name,
        }
    (folder / "manifest.json").write_text(json.dumps({"version": "test", "artifacts": artifacts}))
    return read_assembly(folder)


def resource(kind: str, properties: dict | None = None, **attributes) -> dict:
    return {"Type": kind, "Properties": properties or {}, **attributes}


def manifest(objects: list[dict], prune: bool = True) -> dict:
    props = {"ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "ClusterName": "c", "Manifest": json.dumps(objects)}
    if prune:
        props["PruneLabel"] = "aws.cdk.eks/prune-x"
    return resource("Custom::AWSCDK-EKS-KubernetesResource", props)


def helm(chart: str, version: str, release: str | None = None, namespace: str = "kube-system") -> dict:
    return resource(
        "Custom::AWSCDK-EKS-HelmChart",
        {
            "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]},
            "ClusterName": "c",
            "Chart": chart,
            "Release": release or chart,
            "Version": version,
            "Namespace": namespace,
        },
    )
