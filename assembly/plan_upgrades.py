"""A change of the EKS cluster's Kubernetes version, checked against the upgrade procedure (docs/upgrades.md):
one minor at a time, never down, to a minor the kit has an UPGRADES entry for, with every pinned controller chart
and EKS add-on at or above what that minor needs.

EKS facts: awsdocs/amazon-eks-user-guide latest/ug/clusters/update-cluster.adoc (one minor per update, no
downgrade; managed node groups and add-ons are updated separately, after the control plane).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assembly.plan_assembly import Assembly
from assembly.plan_facts import KUBECTL_HELM
from assembly.plan_tokens import render
from core.versions import UPGRADES


@dataclass
class VersionPlan:
    old: str
    new: str
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _minor(version: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


def _release(version: str) -> tuple[int, ...]:
    """v1.14.1, 1.14.1 and v1.35.0-eksbuild.2 as comparable numbers (the eksbuild suffix counts last)."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _clusters(assembly: Assembly) -> dict[tuple[str, str], str]:
    return {
        (name, lid): render(body["Properties"].get("Version", ""))
        for name, template in assembly.templates.items()
        for lid, body in template.resources.items()
        if body.get("Type") == "AWS::EKS::Cluster"
    }


def check(base: Assembly, new: Assembly, upgrades=None) -> list[VersionPlan]:
    upgrades = UPGRADES if upgrades is None else upgrades
    plans = []
    old_clusters = _clusters(base)
    for key, version in sorted(_clusters(new).items()):
        before = old_clusters.get(key)
        if before is None or before == version:
            continue
        plan = VersionPlan(before, version)
        plans.append(plan)
        old_minor, new_minor = _minor(before), _minor(version)
        if old_minor is None or new_minor is None:
            plan.refused.append(f"cluster version {before} -> {version}: not a Kubernetes minor the plan can compare")
            continue
        if new_minor < old_minor:
            plan.refused.append(
                f"cluster version {before} -> {version}: EKS cannot downgrade a "
                f"cluster; create a new cluster on {version} and move the workloads"
            )
            continue
        if new_minor[0] != old_minor[0] or new_minor[1] - old_minor[1] > 1:
            step = f"{old_minor[0]}.{old_minor[1] + 1}"
            plan.refused.append(
                f"cluster version {before} -> {version} skips a minor: EKS updates the "
                f"control plane one minor at a time; deploy {step} first, then {version}"
            )
            continue
        entry = upgrades.get(version)
        if entry is None:
            plan.refused.append(
                f"cluster version {version} has no entry in core/versions.py UPGRADES (entries: {', '.join(sorted(upgrades))}): its "
                "controllers' and add-ons' needs are not recorded"
            )
            continue
        plan.refused += _below(new, entry)
        plan.notes += _after_the_control_plane(new, version)
    return plans


def _below(new: Assembly, entry) -> list[str]:
    refused = []
    for template in new.templates.values():
        for body in template.resources.values():
            props = body.get("Properties", {})
            if body.get("Type") == KUBECTL_HELM:
                chart, version = render(props.get("Chart", "")), render(props.get("Version", ""))
                least = entry.charts.get(chart)
                if least and version and _release(version) < _release(least):
                    refused.append(
                        f"chart {chart} {version} is older than {least}, the least its project supports on this Kubernetes minor "
                        "(core/versions.py UPGRADES): bump its pin first"
                    )
            if body.get("Type") == "AWS::EKS::Addon" and "AddonVersion" in props:
                name, version = render(props["AddonName"]), render(props["AddonVersion"])
                least = entry.addons.get(name)
                if least and _release(version) < _release(least):
                    refused.append(
                        f"add-on {name} is pinned at {version}, older than {least} for this Kubernetes minor: set "
                        f"cluster.addon_versions.{name} to a build of the new minor"
                    )
    return refused


def _after_the_control_plane(new: Assembly, version: str) -> list[str]:
    """What the deploy leaves on the old version: CloudFormation changes only what the templates say."""
    notes = []
    unpinned = []
    for template in new.templates.values():
        for body in template.resources.values():
            props = body.get("Properties", {})
            if body.get("Type") == "AWS::EKS::Addon" and "AddonVersion" not in props:
                unpinned.append(render(props.get("AddonName", "?")))
            if body.get("Type") == "AWS::EKS::Nodegroup" and "Version" not in props and "ReleaseVersion" not in props:
                notes.append(
                    f"managed node group {render(props.get('NodegroupName', '?'))} names no version: its nodes keep their kubelet; "
                    "after the deploy run aws eks update-nodegroup-version --cluster-name <cluster> --nodegroup-name "
                    f"{render(props.get('NodegroupName', '?'))}"
                )
    if unpinned:
        notes.append(
            f"unpinned EKS add-ons ({', '.join(sorted(unpinned))}) keep their installed version through the control-plane update: "
            "update each with aws eks update-addon after the deploy, or pin cluster.addon_versions to builds of the new minor"
        )
    notes.append(
        f"Karpenter resolves each AMI alias for the cluster's version (karpenter-provider-aws v1.14.1 pkg/providers/amifamily: the SSM "
        f"parameter names the Kubernetes version), so GPU nodes drift to {version} images under each NodePool's disruption budgets"
    )
    return notes
