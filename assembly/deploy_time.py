"""The expected `cdk deploy --all` time of a synthesized config and its critical path, modelled from the templates.

Within a stack, CloudFormation starts a resource once everything it depends on (DependsOn, Ref, Fn::GetAtt, Fn::Sub)
is complete, so the stack takes as long as its longest dependency chain. `./kit deploy` runs `cdk deploy --all
--concurrency 4`, so a stack starts once the stacks it depends on are done: the storage stack (FSx for Lustre's
quarter hour) runs beside the cluster stack, off the critical path. Nested stacks count as their own longest chain.
Durations are typical creation times per resource type (DURATIONS, the kit's estimates
from CloudFormation events of its own deploys and AWS's documented figures, dated below); the result is a model to
compare configs and find what to move off the path, not a promise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infra.images.build import EXPECTED_SECONDS  # a resource's own estimate, in its metadata (the kit's image build)

DURATIONS_CHECKED_ON = "2026-11-29"
# Typical creation seconds by resource type; anything unlisted takes DEFAULT_SECONDS.
DURATIONS: dict[str, int] = {
    "AWS::EKS::Cluster": 600,  # EKS documents "about 10 minutes" for a new control plane
    "AWS::EKS::Nodegroup": 240,
    "AWS::EKS::Addon": 90,
    "AWS::EKS::PodIdentityAssociation": 15,
    "AWS::EKS::AccessEntry": 10,
    "AWS::FSx::FileSystem": 900,  # FSx for Lustre: 10 to 15 minutes for a persistent file system
    "AWS::EC2::NatGateway": 120,
    "AWS::EC2::VPCEndpoint": 120,
    "AWS::EC2::FlowLog": 20,
    "AWS::EC2::LaunchTemplate": 5,
    "AWS::IAM::Role": 15,
    "AWS::IAM::Policy": 10,
    "AWS::IAM::ManagedPolicy": 10,
    "AWS::IAM::InstanceProfile": 120,
    "AWS::Lambda::Function": 20,
    "AWS::Lambda::LayerVersion": 20,
    "AWS::KMS::Key": 15,
    "AWS::S3::Bucket": 20,
    "AWS::APS::Workspace": 30,
    "AWS::APS::Scraper": 600,  # the managed scraper reports "creating" for several minutes before active
    "AWS::APS::RuleGroupsNamespace": 30,
    "AWS::CloudFormation::Stack": 0,  # a nested stack: its own chain is added instead
    "Custom::AWSCDK-EKS-KubernetesResource": 30,
    "Custom::AWSCDK-EKS-HelmChart": 120,  # helm upgrade --install; charts installed with --wait take their pods' start
    "Custom::AWSCDK-EKS-KubernetesObjectValue": 60,
}
DEFAULT_SECONDS = 5


@dataclass(frozen=True)
class Step:
    stack: str
    logical_id: str
    kind: str
    seconds: int


@dataclass(frozen=True)
class StackPlan:
    name: str
    seconds: int
    path: tuple[Step, ...]
    after: tuple[str, ...] = ()
    """The stacks it waits for."""


def _references(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for part in text.split("${")[1:]:
                found.add(part.split("}")[0].split(".")[0])
        for item in value.values():
            _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)


def dependencies(template: dict) -> dict[str, set[str]]:
    """Each resource's dependencies inside the template."""
    resources = template.get("Resources", {})
    graph = {}
    for logical_id, body in resources.items():
        found: set[str] = set()
        _references(body.get("Properties", {}), found)
        depends = body.get("DependsOn", [])
        found |= set([depends] if isinstance(depends, str) else depends)
        graph[logical_id] = {ref for ref in found if ref in resources and ref != logical_id}
    return graph


def plan_stack(name: str, template: dict, nested: dict[str, StackPlan]) -> StackPlan:
    """The stack's longest chain; nested: plans of its nested stacks by the logical id of their resource."""
    resources = template.get("Resources", {})
    graph = dependencies(template)

    @cache
    def finish(logical_id: str) -> tuple[int, tuple[Step, ...]]:
        kind = resources[logical_id]["Type"]
        own = (
            nested[logical_id].seconds
            if logical_id in nested
            else resources[logical_id].get("Metadata", {}).get(EXPECTED_SECONDS, DURATIONS.get(kind, DEFAULT_SECONDS))
        )
        step = Step(name, logical_id, kind, own)
        # Sorted: among dependencies that finish together the first by name wins, the same in every process (a set
        # iterates in an order that follows the per-process string hash).
        before = max((finish(dep) for dep in sorted(graph[logical_id])), key=lambda item: item[0], default=(0, ()))
        inner = nested[logical_id].path if logical_id in nested else ()
        return before[0] + own, before[1] + (inner or (step,))

    if not resources:
        return StackPlan(name, 0, ())
    seconds, path = max((finish(logical_id) for logical_id in resources), key=lambda item: item[0])
    return StackPlan(name, seconds, path)


def plan_assembly(outdir: Path) -> list[StackPlan]:
    """Every top-level stack of a cloud assembly (pipeline stages included), in deploy order."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    plans = []
    for artifact_name, artifact in manifest["artifacts"].items():
        if artifact.get("type") == "cdk:cloud-assembly":
            plans += plan_assembly(outdir / artifact["properties"]["directoryName"])
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        nested = {}
        for logical_id, body in template.get("Resources", {}).items():
            path = body.get("Metadata", {}).get("aws:asset:path")
            if body["Type"] == "AWS::CloudFormation::Stack" and path and (outdir / path).exists():
                nested[logical_id] = plan_stack(f"{artifact_name}/{logical_id}", json.loads((outdir / path).read_text()), {})
        after = tuple(
            d for d in artifact.get("dependencies", []) if manifest["artifacts"].get(d, {}).get("type") == "aws:cloudformation:stack"
        )
        plan = plan_stack(artifact_name, template, nested)
        plans.append(StackPlan(plan.name, plan.seconds, plan.path, after))
    order = {name: index for index, name in enumerate(_deploy_order(manifest))}
    return sorted(plans, key=lambda plan: order.get(plan.name, len(order)))


def critical_stacks(plans: list[StackPlan]) -> tuple[int, list[StackPlan]]:
    """(finish time of the whole deploy, the chain of stacks that sets it) with dependent stacks in parallel."""
    by_name = {plan.name: plan for plan in plans}

    @cache
    def finish(name: str) -> tuple[int, tuple[str, ...]]:
        plan = by_name[name]
        before = max((finish(dep) for dep in plan.after if dep in by_name), key=lambda item: item[0], default=(0, ()))
        return before[0] + plan.seconds, before[1] + (name,)

    if not plans:
        return 0, []
    seconds, chain = max((finish(plan.name) for plan in plans), key=lambda item: item[0])
    return seconds, [by_name[name] for name in chain]


def _deploy_order(manifest: dict) -> list[str]:
    artifacts = manifest["artifacts"]
    stacks = [name for name, artifact in artifacts.items() if artifact.get("type") == "aws:cloudformation:stack"]
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for dependency in artifacts[name].get("dependencies", []):
            if dependency in stacks:
                visit(dependency)
        done.append(name)

    for name in stacks:
        visit(name)
    return done


def minutes(seconds: int) -> str:
    return f"{seconds // 60}m{seconds % 60:02d}s"


def describe(plans: list[StackPlan], *, longest: int = 3) -> list[str]:
    total, chain = critical_stacks(plans)
    names = " -> ".join(plan.name for plan in chain)
    lines = [f"expected ./kit deploy: {minutes(total)} along {names} (model of {DURATIONS_CHECKED_ON})"]
    for plan in plans:
        slow = sorted(plan.path, key=lambda step: step.seconds, reverse=True)[:longest]
        shown = ", ".join(f"{step.kind.split('::')[-1]} {minutes(step.seconds)}" for step in slow if step.seconds)
        marker = "*" if plan in chain else " "
        lines.append(f"{marker} {plan.name:<26} {minutes(plan.seconds):>7}  slowest on its path: {shown}")
    return lines
