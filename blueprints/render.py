"""Render enabled workloads with their blueprints' cdk8s charts: JSON objects for `cdk deploy`, YAML for dist/."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from blueprints.common import objects, queueing
from blueprints.common.network_policy import add_network_policies
from blueprints.common.params import WorkloadParams
from blueprints.contract import Blueprint, tag_of
from core.registry_cache import rewrite_objects
from core.platform import Platform


def render_objects(workloads: Iterable[WorkloadParams], platform: Platform, blueprints: Mapping[str, Blueprint]) -> dict[str, list[dict]]:
    """{workload name: its Kubernetes objects} for the enabled workloads, in one fresh cdk8s app: the chart of the
    blueprint its parameters' class names (tag_of), plus the NetworkPolicies of the traffic it declares when the
    platform enforces them."""
    app = objects.new_app()
    rendered = {}
    enabled = [workload for workload in workloads if workload.enabled]
    traffic = (
        {workload.name: blueprints[tag_of(type(workload))].traffic(workload, platform) for workload in enabled}
        if platform.network.enforced
        else {}
    )
    for workload in enabled:
        blueprint = blueprints[tag_of(type(workload))]
        chart = blueprint.render(app, workload, platform)
        if platform.network.enforced:
            # A workload's serving ports admit the workloads that declare calls to it (a benchmark), and no other.
            callers = tuple(name for name, declared in traffic.items() if any(target == workload.name for target, _ in declared.calls))
            add_network_policies(chart, workload.name, blueprint.name, replace(traffic[workload.name], callers=callers), platform.network)
        # Every image from the account's ECR in the cluster's region, or as written where the cache is off.
        objects_ = rewrite_objects(chart.to_json(), platform.registry)
        queueing.apply(objects_, workload, platform)
        rendered[workload.name] = objects_
    return rendered


def write_dist(rendered: dict[str, list[dict]], dist: Path) -> list[Path]:
    written = []
    for name, items in rendered.items():
        folder = dist / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "manifest.yaml"
        path.write_text(objects.to_yaml(items))
        written.append(path)
    return written
