"""Kubernetes objects every blueprint emits the same way: labels, Service, PodDisruptionBudget, scrape hints."""

from __future__ import annotations

import cdk8s
from constructs import Construct

PART_OF = "llm-serving-kit"
WORKLOAD_LABEL = "llm-kit/workload"
HEALTH_PATH_ANNOTATION = "llm-kit/health-path"


def selector_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, WORKLOAD_LABEL: name}


def labels(name: str, blueprint: str, component: str | None = None) -> dict[str, str]:
    out = {**selector_labels(name), "app.kubernetes.io/part-of": PART_OF, "llm-kit/blueprint": blueprint}
    if component:
        out["app.kubernetes.io/component"] = component
    return out


def scrape_annotations(port: int, path: str = "/metrics") -> dict[str, str]:
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": path}


def api_object(scope: Construct, construct_id: str, *, api_version: str, kind: str, name: str, body: dict, labels_: dict, annotations: dict | None = None) -> cdk8s.ApiObject:
    """One object from plain dicts; cdk8s stamps the chart's namespace and renders it."""
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


def service(scope: Construct, name: str, blueprint: str, selector: dict, ports: list[dict], *, health_path: str, suffix: str = "") -> cdk8s.ApiObject:
    return api_object(
        scope,
        f"service{suffix}",
        api_version="v1",
        kind="Service",
        name=f"{name}{suffix}",
        labels_=labels(name, blueprint),
        annotations={HEALTH_PATH_ANNOTATION: health_path},
        body={"spec": {"type": "ClusterIP", "selector": selector, "ports": ports}},
    )


def disruption_budget(scope: Construct, name: str, blueprint: str, selector: dict, replicas: int) -> cdk8s.ApiObject | None:
    """With two or more replicas, voluntary disruptions (node drains, Karpenter) take one at a time."""
    if replicas < 2:
        return None
    return api_object(
        scope,
        "pdb",
        api_version="policy/v1",
        kind="PodDisruptionBudget",
        name=name,
        labels_=labels(name, blueprint),
        body={"spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}},
    )


def server_deployment(scope: Construct, name: str, blueprint: str, *, replicas: int, pod: dict, pod_annotations: dict) -> cdk8s.ApiObject:
    """A model server Deployment that surges one replica on a new node rather than drop serving capacity in a rollout."""
    pod_labels = labels(name, blueprint, "server")
    return api_object(
        scope,
        "deployment",
        api_version="apps/v1",
        kind="Deployment",
        name=name,
        labels_=pod_labels,
        body={
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": selector_labels(name)},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {"metadata": {"labels": pod_labels, "annotations": pod_annotations}, "spec": pod},
            }
        },
    )
