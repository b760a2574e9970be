"""A workload's NetworkPolicies, written from the traffic its blueprint declares.

The workloads namespace denies everything by default and allows DNS and Pod Identity to every pod (infra); these
policies add, per workload, exactly what it declares: on its serving ports the gateway's proxies and its endpoint
picker (when routed), the workloads that call it, and cluster.network_policies.serving_from_namespaces; the scraper
on its metrics ports; HTTPS out of the VPC and the Service range for its model, the Kubernetes API only where it
declares api_server, its calls to other workloads, and free traffic inside each of its groups only (a multi-node
group, a Dynamo graph), which a separate policy admits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blueprints.common import objects
from core.isolation import NetworkFacts, WorkloadTraffic, cidr_peer, namespace_peer
from core.labels import WORKLOAD_LABEL

if TYPE_CHECKING:
    import cdk8s

HTTPS = 443
API = "networking.k8s.io/v1"


def _ports(numbers: tuple[int, ...]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": number} for number in numbers]


def workload_policy(name: str, traffic: WorkloadTraffic, network: NetworkFacts) -> dict[str, Any]:
    """The spec of the policy that selects every pod of the workload."""
    ingress = []
    # Never every pod of the namespace: a pod there (a team's Job, say) would call the model with no key, budget or
    # audit record. Only the gateway's proxies, the workload's picker, the kit's own callers and named namespaces.
    clients = [
        *(dict(peer) for peer in traffic.clients),
        *({"podSelector": {"matchLabels": {WORKLOAD_LABEL: caller}}} for caller in traffic.callers),
        *(namespace_peer(namespace) for namespace in dict.fromkeys(network.serving_from_namespaces)),
    ]
    if traffic.serving_ports and clients:
        ingress.append({"from": clients, "ports": _ports(traffic.serving_ports)})
    if traffic.metrics_ports and network.metrics_from:
        ingress.append({"from": [dict(peer) for peer in network.metrics_from], "ports": _ports(traffic.metrics_ports)})
    egress = []
    if traffic.https_out:
        # Out of the VPC only: the model hub through the NAT gateway, S3 through its gateway endpoint. Not the Service
        # range either: the VPC CNI's agent matches a Service address before kube-proxy translates it (the policy
        # controller resolves peers to Service ClusterIPs too, aws/amazon-network-policy-controller-k8s issue 222), so
        # without it 0.0.0.0/0 admits the `kubernetes` Service, the API server, to every model server.
        egress.append({"to": [cidr_peer("0.0.0.0/0", except_=[network.vpc_cidr, network.service_cidr])], "ports": _ports((HTTPS,))})
    if traffic.api_server:
        egress.append({"to": [cidr_peer(cidr) for cidr in network.api_server], "ports": _ports((HTTPS,))})
    for target, port in traffic.calls:
        egress.append({"to": [{"podSelector": {"matchLabels": {WORKLOAD_LABEL: target}}}], "ports": _ports((port,))})
    return {
        "podSelector": {"matchLabels": {WORKLOAD_LABEL: name}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": egress,
    }


def group_policy(labels: dict[str, str]) -> dict[str, Any]:
    """Pods with these labels reach each other on every port; nothing else reaches them this way."""
    members = [{"podSelector": {"matchLabels": dict(labels)}}]
    return {
        "podSelector": {"matchLabels": dict(labels)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": members}],
        "egress": [{"to": members}],
    }


def add_network_policies(chart: cdk8s.Chart, name: str, blueprint: str, traffic: WorkloadTraffic, network: NetworkFacts) -> None:
    labels = objects.labels(name, blueprint)
    objects.api_object(
        chart,
        "network-policy",
        api_version=API,
        kind="NetworkPolicy",
        name=name,
        labels_=labels,
        body={"spec": workload_policy(name, traffic, network)},
    )
    for index, group in enumerate(traffic.groups):
        objects.api_object(
            chart,
            f"network-policy-group-{index}",
            api_version=API,
            kind="NetworkPolicy",
            name=f"{name}-group-{index}",
            labels_=labels,
            body={"spec": group_policy(dict(group))},
        )
