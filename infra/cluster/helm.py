"""Install a pinned Helm chart through the cluster's kubectl provider, the same way everywhere."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks

from core.isolation import PodSecurityLevel, pod_security_labels
from core.versions import HelmPin

# Namespaces the cluster or AWS owns: the kit neither creates nor labels them.
SYSTEM_NAMESPACES = ("kube-system",)


def install_chart(
    cluster: eks.Cluster,
    construct_id: str,
    *,
    chart: str,
    pin: HelmPin,
    namespace: str,
    values: dict,
    pod_security: PodSecurityLevel = "baseline",
    release: str | None = None,
    wait: bool = False,
    timeout_minutes: int | None = None,
) -> eks.HelmChart:
    """release defaults to the chart name. The kit creates the namespace itself (never Helm), labelled to enforce
    `pod_security`: the strictest Pod Security Standard the chart's pods meet."""
    installed = cluster.add_helm_chart(
        construct_id,
        chart=chart,
        repository=pin.repository,
        version=pin.version,
        release=release or chart,
        namespace=namespace,
        create_namespace=False,
        wait=wait,
        timeout=cdk.Duration.minutes(timeout_minutes) if timeout_minutes else None,
        values=values,
    )
    if namespace not in SYSTEM_NAMESPACES:
        installed.node.add_dependency(chart_namespace(cluster, namespace, pod_security))
    return installed


def chart_namespace(cluster: eks.Cluster, namespace: str, pod_security: PodSecurityLevel) -> eks.KubernetesManifest:
    """One Namespace object per namespace, shared by every chart installed there; they must agree on its level."""
    construct_id = f"Namespace-{namespace}"
    existing = cluster.node.try_find_child(f"manifest-{construct_id}")
    labels = pod_security_labels(pod_security)
    if existing is not None:
        if _LEVELS.get((cluster.node.path, namespace)) != pod_security:
            raise ValueError(f"charts in namespace {namespace} ask for Pod Security levels {_LEVELS.get((cluster.node.path, namespace))} and {pod_security}")
        return existing
    _LEVELS[(cluster.node.path, namespace)] = pod_security
    return cluster.add_manifest(construct_id, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}})


_LEVELS: dict[tuple[str, str], PodSecurityLevel] = {}
