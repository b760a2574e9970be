"""Install a pinned Helm chart through the cluster's kubectl provider, the same way everywhere."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_eks_v2 as eks

from core.isolation import PodSecurityLevel, pod_security_labels
from core.requirements import ControllerFlows
from core.versions import HelmPin
from infra.images import wiring as image_wiring
from infra.cluster.platform_policies import PlatformIsolation, chart_flows, chart_policies, namespace_baseline

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
    flows: tuple[ControllerFlows, ...] = (),
) -> eks.HelmChart:
    """release defaults to the chart name. The kit creates the namespace itself (never Helm), labelled to enforce
    `pod_security`: the strictest Pod Security Standard the chart's pods meet. Where the cluster isolates namespaces,
    the chart's NetworkPolicies are applied before it: the platform's own charts' from infra/cluster/platform_policies.py,
    any other chart's from the `flows` its ControllerChart declares."""
    release = release or chart
    installed = cluster.add_helm_chart(
        construct_id,
        chart=chart,
        repository=pin.repository,
        version=pin.version,
        release=release,
        namespace=namespace,
        create_namespace=False,
        wait=wait,
        timeout=cdk.Duration.minutes(timeout_minutes) if timeout_minutes else None,
        # Its images from the account's ECR in the region (infra/images/chart_images.py).
        values=image_wiring.values(cluster, chart, values),
    )
    if namespace not in SYSTEM_NAMESPACES:
        network = PlatformIsolation.of(cluster)
        created = chart_namespace(
            cluster, namespace, pod_security, api_for_every_pod=chart_flows(chart, flows).api_for_every_pod if network else True
        )
        installed.node.add_dependency(created)
        policies = chart_policies(chart, pin.version, namespace, release, values, network, flows) if network else []
        if policies:
            manifest = cluster.add_manifest(f"NetworkPolicies-{construct_id}", *policies)
            manifest.node.add_dependency(created)
            installed.node.add_dependency(manifest)
    return installed


def chart_namespace(
    cluster: eks.Cluster, namespace: str, pod_security: PodSecurityLevel, *, api_for_every_pod: bool = True
) -> eks.KubernetesManifest:
    """One Namespace object per namespace, shared by every chart installed there; they must agree on its level and on
    whether every pod may call the API. Where the cluster isolates namespaces, the namespace's baseline policies
    (default deny, DNS, the API) come in the same manifest."""
    construct_id = f"Namespace-{namespace}"
    # Cluster.add_manifest names its KubernetesManifest "manifest-<id>" (aws-eks-v2 cluster.ts).
    existing = cluster.node.try_find_child(f"manifest-{construct_id}")
    labels = pod_security_labels(pod_security)
    wanted = (pod_security, api_for_every_pod)
    if isinstance(existing, eks.KubernetesManifest):
        if _LEVELS.get((cluster.node.path, namespace)) != wanted:
            raise ValueError(
                f"charts in namespace {namespace} ask for (Pod Security level, API for every pod)"
                f" {_LEVELS.get((cluster.node.path, namespace))} and {wanted}"
            )
        return existing
    _LEVELS[(cluster.node.path, namespace)] = wanted
    network = PlatformIsolation.of(cluster)
    baseline = namespace_baseline(namespace, network, api_for_every_pod=api_for_every_pod) if network else []
    return cluster.add_manifest(
        construct_id, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}, *baseline
    )


_LEVELS: dict[tuple[str, str], tuple[PodSecurityLevel, bool]] = {}
