"""Render the enabled workloads as cdk8s charts: for `cdk deploy` (as JSON objects) and for dist/ (as YAML)."""

from __future__ import annotations

from pathlib import Path

import cdk8s

from blueprints.registry import BLUEPRINTS
from infra.config.model import KitConfig


def enabled_workloads(config: KitConfig) -> list:
    return [workload for workload in config.workloads if workload.enabled]


def required_controllers(config: KitConfig) -> set[str]:
    return {controller for w in enabled_workloads(config) for controller in BLUEPRINTS[w.blueprint].controllers}


def build_chart(app: cdk8s.App, config: KitConfig, workload) -> cdk8s.Chart:
    chart_class = BLUEPRINTS[workload.blueprint].chart_class()
    return chart_class(app, workload.name, workload=workload, **workload.chart_inputs(config))


def render_objects(config: KitConfig) -> dict[str, list[dict]]:
    """{workload name: its Kubernetes objects}, in a fresh cdk8s app."""
    app = cdk8s.App()
    return {workload.name: build_chart(app, config, workload).to_json() for workload in enabled_workloads(config)}


def write_dist(objects: dict[str, list[dict]], dist: Path) -> list[Path]:
    written = []
    for name, items in objects.items():
        folder = dist / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "manifest.yaml"
        path.write_text(cdk8s.Yaml.stringify(*items))
        written.append(path)
    return written
