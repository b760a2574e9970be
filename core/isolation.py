"""Isolation facts shared by the platform and the blueprints: Pod Security Admission levels and the network
peers a workload's NetworkPolicy may name. Plain data: the infra layer and the blueprints turn them into objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.routing import GATEWAY_NAME, PROXY_NAMESPACE

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
_STRICTEST_FIRST: tuple[PodSecurityLevel, ...] = ("restricted", "baseline", "privileged")

# Where the EKS Pod Identity Agent (host network, every node) hands pods their credentials.
POD_IDENTITY_AGENT = "169.254.170.23/32"
POD_IDENTITY_PORT = 80

# Namespaces whose pods scrape the workloads' metrics, by metrics backend (the AMP scraper is outside the cluster).
SCRAPER_NAMESPACES = {"in-cluster": "monitoring", "cloudwatch": "amazon-cloudwatch"}
# The Prometheus pods prometheus-operator runs (its StatefulSet's pod selector labels, pkg/prometheus/server/statefulset.go):
# in the monitoring namespace Grafana, Alertmanager and the exporters match none of these.
SCRAPER_PODS = {"in-cluster": {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/managed-by": "prometheus-operator"}}


def least_strict(levels: Iterable[PodSecurityLevel]) -> PodSecurityLevel:
    """The level a namespace must enforce for every one of these pods to be admitted."""
    found = set(levels) or {"restricted"}
    return max(found, key=_STRICTEST_FIRST.index)


def pod_security_labels(level: PodSecurityLevel) -> dict[str, str]:
    """Enforce `level`; warn about and audit anything short of restricted, so a drift shows before it is needed."""
    prefix = "pod-security.kubernetes.io"
    return {f"{prefix}/enforce": level, f"{prefix}/warn": "restricted", f"{prefix}/audit": "restricted"}


def namespace_peer(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


# The labels Envoy Gateway v1.8.3 puts on the proxy pods of a Gateway it does not merge: its app labels
# (internal/infrastructure/kubernetes/proxy/resource.go EnvoyAppLabel) and the owning Gateway's name and namespace
# (internal/gatewayapi/helpers.go GatewayOwnerLabels, copied onto the pods by proxy/resource_provider.go getPodLabels).
# The pods run in the controller's namespace (core.routing.PROXY_NAMESPACE): the kit does not enable its
# GatewayNamespace mode. The rate limiter, the controller and the Redis share that namespace and match none of this.
PROXY_APP_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"


def gateway_proxy_peer(gateway_namespace: str) -> dict[str, Any]:
    """The proxies of the kit's Gateway (core.routing.GATEWAY_NAME in `gateway_namespace`), and no other pod."""
    labels = {**PROXY_APP_LABELS, OWNING_GATEWAY_NAME: GATEWAY_NAME, OWNING_GATEWAY_NAMESPACE: gateway_namespace}
    return {**namespace_peer(PROXY_NAMESPACE), "podSelector": {"matchLabels": labels}}


def cidr_peer(cidr: str, *, except_: Iterable[str] = ()) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if except_:
        block["except"] = list(except_)
    return {"ipBlock": block}


@dataclass(frozen=True)
class NetworkFacts:
    """What the platform tells each workload's NetworkPolicy."""

    enforced: bool = True
    """cluster.network_policies.enabled: the VPC CNI enforces policies and the kit writes them."""
    serving_from_namespaces: tuple[str, ...] = ()
    """Namespaces (besides the workloads' own) whose pods may call the model servers."""
    metrics_from: tuple[Mapping[str, Any], ...] = ()
    """Peers that scrape metrics: the managed scraper's subnets, or the in-cluster monitoring namespace."""
    api_server: tuple[str, ...] = ()
    """CIDRs of the Kubernetes API as pods reach it: the `kubernetes` Service address and the endpoint's interfaces."""
    vpc_cidr: str = "10.0.0.0/16"
    """Kept out of the workloads' HTTPS egress, which is for the model hub and S3 only."""
    service_cidr: str = "172.20.0.0/16"
    """The cluster's Service range, kept out of that egress too: the VPC CNI's policy agent matches a Service's
    address before kube-proxy translates it, so 0.0.0.0/0 would admit every Service on 443, the `kubernetes` one
    (the API server) included. Only `api_server` opens the API, to the workloads that declare it."""


@dataclass(frozen=True)
class WorkloadTraffic:
    """What a workload's pods send and accept; a blueprint declares it and the kit writes the NetworkPolicies."""

    serving_ports: tuple[int, ...] = ()
    """Ports clients call: open to `clients`, the workloads that call this one (`callers`) and
    cluster.network_policies.serving_from_namespaces; to no other pod of the workloads namespace or the cluster."""
    metrics_ports: tuple[int, ...] = ()
    """Ports the metrics scraper reads."""
    https_out: bool = False
    """HTTPS to outside the VPC: the model hub, S3 through its gateway endpoint."""
    api_server: bool = False
    """Calls to the Kubernetes API (Dynamo's discovery)."""
    groups: tuple[Mapping[str, str], ...] = ()
    """Label sets of pods that talk to each other on any port (one multi-node group, one Dynamo graph), and only
    among themselves."""
    calls: tuple[tuple[str, int], ...] = ()
    """(workload, port) pairs this one sends requests to."""
    clients: tuple[Mapping[str, Any], ...] = ()
    """Peers (NetworkPolicy `from` entries) that may call the serving ports: the gateway's proxies and the workload's
    own endpoint picker when it is routed."""
    callers: tuple[str, ...] = ()
    """Workloads that declare `calls` to this one (a benchmark); the renderer fills it from their declarations."""
