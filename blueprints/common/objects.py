"""Kubernetes objects every blueprint emits the same way: its chart, labels, Service, PodDisruptionBudget, scrape hints.

cdk8s is loaded on first use, not on import: the assembly imports every blueprint to type and check the config,
and a rejected config must be reported before the jsii runtime starts. Only this module touches cdk8s directly.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from blueprints.common.k8s_types import Container, DeploymentSpec, PodDisruptionBudgetSpec, PodSpec, ServicePort, ServiceSpec
from core.labels import BLUEPRINT_LABEL, HEALTH_PATH_ANNOTATION, PART_OF, WORKLOAD_LABEL

if TYPE_CHECKING:
    import cdk8s as _cdk8s
    from constructs import Construct


class _OnFirstUse:
    """Stands for a module and imports it at the first attribute read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


cdk8s = _OnFirstUse("cdk8s")


def new_app() -> _cdk8s.App:
    return cdk8s.App()


def new_chart(scope: Construct, name: str, namespace: str) -> _cdk8s.Chart:
    """A workload's chart: named after the workload, its objects in the namespace, names exactly as given."""
    return cdk8s.Chart(scope, name, namespace=namespace, disable_resource_name_hashes=True)


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return cdk8s.Yaml.stringify(*objects)


def selector_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, WORKLOAD_LABEL: name}


def labels(name: str, blueprint: str, component: str | None = None) -> dict[str, str]:
    out = {**selector_labels(name), "app.kubernetes.io/part-of": PART_OF, BLUEPRINT_LABEL: blueprint}
    if component:
        out["app.kubernetes.io/component"] = component
    return out


def scrape_annotations(port: int, path: str = "/metrics") -> dict[str, str]:
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": path}


def api_object(
    scope: Construct,
    construct_id: str,
    *,
    api_version: str,
    kind: str,
    name: str,
    body: Mapping[str, object],
    labels_: dict[str, str],
    annotations: dict[str, str] | None = None,
) -> _cdk8s.ApiObject:
    """One object from plain dicts; cdk8s stamps the chart's namespace and renders it. body holds the object's
    fields besides apiVersion, kind and metadata (its spec, a ConfigMap's data), each typed by its caller."""
    obj = cdk8s.ApiObject(
        scope,
        construct_id,
        api_version=api_version,
        kind=kind,
        metadata=cdk8s.ApiObjectMetadata(name=name, labels=labels_, annotations=annotations),
    )
    for key, value in body.items():
        obj.add_json_patch(cdk8s.JsonPatch.add(f"/{key}", value))
    return obj


def service(
    scope: Construct, name: str, blueprint: str, selector: dict[str, str], ports: list[ServicePort], *, health_path: str, suffix: str = ""
) -> _cdk8s.ApiObject:
    spec: ServiceSpec = {"type": "ClusterIP", "selector": selector, "ports": ports}
    return api_object(
        scope,
        f"service{suffix}",
        api_version="v1",
        kind="Service",
        name=f"{name}{suffix}",
        labels_=labels(name, blueprint),
        annotations={HEALTH_PATH_ANNOTATION: health_path},
        body={"spec": spec},
    )


def disruption_budget(
    scope: Construct, name: str, blueprint: str, selector: dict[str, str], replicas: int, *, suffix: str = ""
) -> _cdk8s.ApiObject | None:
    """Voluntary disruptions (node drains, Karpenter's consolidation and drift) take one replica at a time, and never the
    only one: a single replica is not evicted at all (scale to two to let a drain or a node replacement through)."""
    if replicas < 1:
        return None
    spec: PodDisruptionBudgetSpec = {"maxUnavailable": 1 if replicas > 1 else 0, "selector": {"matchLabels": selector}}
    return api_object(
        scope,
        f"pdb{suffix}",
        api_version="policy/v1",
        kind="PodDisruptionBudget",
        name=f"{name}{suffix}",
        labels_=labels(name, blueprint),
        body={"spec": spec},
    )


def server_deployment(
    scope: Construct, name: str, blueprint: str, *, replicas: int | None, pod: PodSpec, pod_annotations: dict[str, str]
) -> _cdk8s.ApiObject:
    """A model server Deployment that surges one replica on a new node rather than drop serving capacity in a rollout.
    replicas None leaves the count to an autoscaler: a Deployment that names it would be reset on every apply."""
    pod_labels = labels(name, blueprint, "server")
    spec: DeploymentSpec = {
        "selector": {"matchLabels": selector_labels(name)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": pod_labels, "annotations": pod_annotations}, "spec": pod},
    }
    if replicas is not None:
        spec = {"replicas": replicas, **spec}
    return api_object(scope, "deployment", api_version="apps/v1", kind="Deployment", name=name, labels_=pod_labels, body={"spec": spec})


def spec_digest(*parts: object) -> str:
    """8 hex characters that change with any part: the name suffix of objects whose spec cannot change in place
    (a Job's template), so that a changed spec is a new object and an unchanged one is left alone."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:8]


def job_account_and_files(
    chart: Construct, name: str, blueprint: str, component_labels: dict[str, str], files: dict[str, str], container: Container
) -> str:
    """A Job's own service account (named after its workload, so removing one workload never takes another's away)
    and its files in a ConfigMap named with the digest of the files and the container. Returns that versioned
    name, which the Job takes too."""
    versioned = f"{name}-{spec_digest(files, container)}"
    api_object(chart, "service-account", api_version="v1", kind="ServiceAccount", name=name, labels_=labels(name, blueprint), body={})
    api_object(chart, "config", api_version="v1", kind="ConfigMap", name=versioned, labels_=component_labels, body={"data": files})
    return versioned
